# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX project of docs/awx/project as AWX gets it: the files Git has (tracked, or new and not ignored), its
collections/requirements.yml installed as a project sync does (ansible-galaxy collection install -r, with the
collection's source replaced by the tarball built of this tree, Galaxy being out of reach), then its playbooks run
with only that collection; and every file docs/awx/README.md names exists."""

import re

import yaml

from conftest import BIN, REPO, SECRETS, run, site_vars, tool_env, write_inventory

AWX = REPO / "docs" / "awx"


def checked_out(destination):
    """docs/awx/project as a Git checkout of it holds it: what .gitignore keeps out is not there."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "docs/awx/project"],
                 cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO / name
        if source.is_file():
            target = destination / source.relative_to(AWX / "project")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return destination


def test_every_file_the_awx_guide_names_exists():
    readme = (AWX / "README.md").read_text()
    table = re.findall(r"^\| `([^`]+)` \|", readme, re.M)
    assert {"execution-environment.yml", "job-templates.yml", "project/"} <= set(table)
    assert [name for name in table if not (AWX / name).exists()] == []
    assert "collections/requirements.yml" in readme
    for playbook in (AWX / "project").glob("*.yml"):
        assert "collections/requirements.yml" in playbook.read_text(), playbook


def test_the_project_installs_the_collection_from_its_requirements_and_runs(tarball, sim, tmp_path):
    project = checked_out(tmp_path / "project")
    requirements_file = project / "collections" / "requirements.yml"
    assert requirements_file.is_file(), "collections/requirements.yml is not in the project's checkout"
    assert {path.name for path in project.glob("*.yml")} == {"hotdesking.yml", "compliance.yml", "probe.yml",
                                                             "logout.yml"}
    requirements = yaml.safe_load(requirements_file.read_text())
    entry, = [item for item in requirements["collections"] if item["name"] == "innovaphone.pbx"]
    entry.update(name=str(tarball), type="file")
    requirements_file.write_text(yaml.safe_dump(requirements))

    # Where AWX's project sync puts the collections, and the only collection path of the job.
    collections = tmp_path / "requirements_collections"
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_HOME=str(tmp_path / "home"))
    installed = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-r",
                     "collections/requirements.yml", "-p", collections], cwd=project, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (collections / "ansible_collections" / "innovaphone" / "pbx" / "MANIFEST.json").is_file()

    inventory = write_inventory(tmp_path / "hosts.yml", {"site1": site_vars(sim)})
    for playbook in sorted(project.glob("*.yml")):
        checked = run([BIN / "ansible-playbook", "--syntax-check", "-i", inventory, playbook.name], cwd=project,
                      env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    probed = run([BIN / "ansible-playbook", "-i", inventory, "probe.yml", "-e",
                  "hotdesking_report_dir=%s" % (tmp_path / "reports")], cwd=project, env=env)
    output = probed.stdout + probed.stderr
    assert probed.returncode == 0, output[-4000:]
    assert re.search(r"site1\s*: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", output), output[-2000:]
    assert (tmp_path / "reports" / "probe-site1.json").is_file()
    assert [secret for secret in SECRETS if secret in output] == []
