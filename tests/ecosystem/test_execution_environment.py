# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-builder: the execution environment definitions (on the newest and on the oldest supported ansible-core)
make build contexts, and introspect finds exactly the runtime dependencies of requirements.txt (and no system
package) in the installed collection, which resolve together with the oldest ansible-core on its Python."""

import json
import re

import pytest
import yaml

from conftest import BIN, REPO, run

DEFINITIONS = ("execution-environment.yml", "execution-environment-2.16.yml")


def requirement_lines(path):
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def oldest_core():
    """The oldest ansible-core meta/runtime.yml admits, as (major, minor)."""
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    return tuple(int(part) for part in re.match(r">=(\d+)\.(\d+)", runtime["requires_ansible"]).groups())


@pytest.mark.parametrize("name", DEFINITIONS)
def test_ansible_builder_creates_the_build_context(tmp_path, name):
    definition = REPO / "docs" / "awx" / name
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


def test_an_execution_environment_on_the_oldest_supported_core(tmp_path, collections_path):
    """execution-environment-2.16.yml installs the oldest ansible-core of requires_ansible on a Python that core
    runs on, and what introspect finds in the collection installs along with it there."""
    major, minor = oldest_core()
    pin = "ansible-core>=%d.%d,<%d.%d" % (major, minor, major, minor + 1)
    definition = REPO / "docs" / "awx" / ("execution-environment-%d.%d.yml" % (major, minor))
    dependencies = yaml.safe_load(definition.read_text())["dependencies"]
    assert dependencies["ansible_core"]["package_pip"] == pin
    python = re.match(r"/usr/bin/python(3\.\d+)$", dependencies["python_interpreter"]["python_path"]).group(1)
    assert python in ("3.10", "3.11", "3.12")  # ansible-core 2.16's controller Pythons
    completed = run([BIN / "ansible-builder", "create", "-f", definition, "-c", tmp_path / "context",
                     "--output-filename", "Containerfile"], cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert 'ARG ANSIBLE_INSTALL_REFS="%s ' % pin in containerfile
    assert 'ARG PYCMD="/usr/bin/python%s"' % python in containerfile

    introspected = run([BIN / "ansible-builder", "introspect", "--sanitize", collections_path])
    assert introspected.returncode == 0, introspected.stdout + introspected.stderr
    found = yaml.safe_load(introspected.stdout.split("---", 1)[1])
    requirements = [entry.split("#", 1)[0].strip() for entry in found["python"]]
    report = tmp_path / "report.json"
    resolved = run([BIN / "python", "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                    "--report", report, "--python-version", python, "--only-binary=:all:", "--target",
                    tmp_path / "target", pin] + requirements)
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    installs = dict((item["metadata"]["name"].lower(), item["metadata"]["version"])
                    for item in json.loads(report.read_text())["install"])
    assert installs["ansible-core"].startswith("%d.%d." % (major, minor))
    assert set(re.match(r"[A-Za-z0-9_.-]+", entry).group(0).lower() for entry in requirements) <= set(installs)
