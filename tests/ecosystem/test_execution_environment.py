# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-builder: the execution environment definition makes a build context, and introspect finds exactly the
runtime dependencies of requirements.txt (and no system package) in the installed collection."""

import re

import yaml

from conftest import BIN, REPO, run


def requirement_lines(path):
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_ansible_builder_creates_the_build_context(tmp_path):
    definition = REPO / "docs" / "awx" / "execution-environment.yml"
    assert yaml.safe_load(definition.read_text())["version"] == 3
    completed = run([BIN / "ansible-builder", "create", "-f", definition, "-c", tmp_path / "context",
                     "--output-filename", "Containerfile", "-v", "2"], cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert "FROM $EE_BASE_IMAGE" in containerfile
    assert re.search(r"ansible-galaxy collection install .*-r requirements.yml", containerfile)
    assert "introspect" in containerfile          # the collection's own dependencies are read at build time
    galaxy = yaml.safe_load((tmp_path / "context" / "_build" / "requirements.yml").read_text())
    assert [item["name"] for item in galaxy["collections"]] == ["innovaphone.pbx"]


def test_introspect_lists_exactly_the_runtime_dependencies(collections_path):
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    completed = run([BIN / "ansible-builder", "introspect", "--sanitize", collections_path])
    assert completed.returncode == 0, completed.stdout + completed.stderr
    found = yaml.safe_load(completed.stdout.split("---", 1)[1])
    python = [entry.split("#", 1)[0].strip() for entry in found["python"]]
    assert python == requirement_lines(REPO / "requirements.txt")
    assert all(entry.endswith("# from collection innovaphone.pbx") for entry in found["python"])
    assert found["system"] == requirement_lines(REPO / "bindep.txt") == []
