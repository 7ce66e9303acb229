# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role refuses hotdesking_* host variables it does not know (validate.yml, unknown_vars): the collection's own
playbooks, examples and scenarios must not trip it with what they register, set as facts or read from inventory."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "hotdesking"
# Where the collection's own runs come from.
SOURCES = ["playbooks", "roles", "docs/examples", "docs/awx/project", "extensions/molecule"]
READ_WITH_DEFAULT = re.compile(r"\b(hotdesking_\w+)\s*\|\s*default\(")
SET_FACT = ("ansible.builtin.set_fact", "set_fact")


def known():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    tasks = yaml.safe_load((ROLE / "tasks" / "validate.yml").read_text())
    check = next(task["innovaphone.pbx.unknown_vars"] for task in tasks if "innovaphone.pbx.unknown_vars" in task)
    return set(spec), check["known"]


def host_variables(node):
    """The hotdesking_* names a task list registers or sets as facts, and those an inventory sets."""
    if isinstance(node, list):
        for item in node:
            yield from host_variables(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "register" and isinstance(value, str):
                yield value
            elif key in SET_FACT and isinstance(value, dict) or key == "hosts" and isinstance(value, dict):
                yield from (name for entry in ([value] if key in SET_FACT else value.values())
                            for name in (entry or {}) if isinstance(entry, dict))
            if isinstance(value, (dict, list)):
                yield from host_variables(value)


def used_names():
    names = {}
    for source in SOURCES:
        for path in sorted((REPO / source).rglob("*.yml")):
            text = path.read_text()
            for name in READ_WITH_DEFAULT.findall(text) if not str(path).startswith(str(ROLE)) else []:
                names.setdefault(name, path)
            try:
                documents = list(yaml.safe_load_all(text))
            except yaml.YAMLError:
                continue  # a vault file
            if "group_vars" in path.parts:
                documents = [{"hosts": {"group": document}} for document in documents]
            for name in host_variables(documents):
                if name.startswith("hotdesking_"):
                    names.setdefault(name, path)
    return names


def test_the_collection_sets_and_reads_only_variables_the_role_knows():
    spec, patterns = known()
    names = used_names()
    assert {"hotdesking_summary", "hotdesking_drift", "hotdesking_logout_reset"} <= set(names), "the scan finds them"
    unknown = dict((name, str(path.relative_to(REPO))) for name, path in names.items() if name not in spec
                   and not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns))
    assert unknown == {}
