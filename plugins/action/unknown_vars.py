# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module unknown_vars: the host's variables of a role's prefix that the role's argument spec does not name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import fnmatch
import os

import yaml

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("prefix", "argument_spec", "known", "on_unknown", "opt_out"))
    ON_UNKNOWN = ("error", "warn", "ignore")

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        prefix = args.get("prefix")
        if not prefix or not isinstance(prefix, str):
            raise AnsibleActionFail("prefix: a non-empty string is required")
        spec_path = args.get("argument_spec") or os.path.join(task_vars.get("role_path", ""), "meta",
                                                              "argument_specs.yml")
        try:
            with open(spec_path) as spec_file:
                known = set(yaml.safe_load(spec_file)["argument_specs"]["main"]["options"])
        except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise AnsibleActionFail("argument_spec: cannot read the options of %s: %s" % (spec_path, exc))
        patterns = list(args.get("known") or [])
        # The host's own variables: inventory, extra vars and facts, not the play's or the role's defaults.
        host_vars = task_vars["hostvars"][task_vars["inventory_hostname"]]
        unknown = sorted(name for name in host_vars if name.startswith(prefix) and name not in known
                         and not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns))
        on_unknown = args.get("on_unknown") or "warn"
        if on_unknown not in self.ON_UNKNOWN:
            raise AnsibleActionFail("on_unknown: one of %s, not %r" % (", ".join(self.ON_UNKNOWN), on_unknown))
        problems = [self.problem(task_vars["inventory_hostname"], name, known) for name in unknown]
        if problems and on_unknown == "error":
            raise AnsibleActionFail("%s; set %s to run anyway" % (
                "; ".join(problems), args.get("opt_out") or "on_unknown: warn"), result=dict(unknown=unknown))
        result["warnings"] = problems if on_unknown == "warn" else []
        result.update(changed=False, unknown=unknown)
        return result

    @staticmethod
    def problem(host, name, known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        return "%s: %s is not a variable of this role, so it has no effect%s" % (
            host, name, " (did you mean %s?)" % close[0] if close else "")
