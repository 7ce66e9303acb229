# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-navigator (no execution environment, stdout mode) runs the hotdesking and compliance playbooks of the
installed collection against pbxsim; its playbook artifacts and its log hold no secret."""

import json
import re

from conftest import BIN, SECRETS, run, secrets_in, site_vars, tool_env, write_inventory


def navigator(tmp_path, collections_path, playbook, *args):
    artifact = tmp_path / "artifacts" / ("%s.json" % playbook)
    command = [BIN / "ansible-navigator", "run", "innovaphone.pbx.%s" % playbook, "--ee", "false", "--mode", "stdout",
               "-i", tmp_path / "inventory.yml", "--playbook-artifact-enable", "true",
               "--playbook-artifact-save-as", artifact, "--log-file", tmp_path / "artifacts" / "navigator.log",
               "--log-level", "debug"] + list(args)
    completed = run(command, cwd=tmp_path / "work",
                    env=tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NAVIGATOR_CONFIG=""))
    output = completed.stdout + completed.stderr
    assert [secret for secret in SECRETS if secret in output] == [], "a secret in the output of %s" % playbook
    return completed, output, json.loads(artifact.read_text())


def recap(output):
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, re.search(
        r"^site1\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M).groups())))


def test_navigator_runs_the_collection_playbooks_without_leaking_a_secret(sim, collections_path, tmp_path):
    (tmp_path / "work").mkdir()
    write_inventory(tmp_path / "inventory.yml",
                    {"site1": site_vars(sim, hotdesking_report_dir=str(tmp_path / "work" / "reports"))})

    completed, output, artifact = navigator(tmp_path, collections_path, "hotdesking")
    assert completed.returncode == 0, output[-5000:]
    assert recap(output)["changed"] >= 7
    assert artifact["status"] == "successful"
    assert [play["name"] for play in artifact["plays"]] == [
        "Converge innovaphone PBXs to the Step-by-Step Hot Desking setup"]
    # The collection that ran is the installed one, not the work tree.
    assert str(collections_path) in json.dumps(artifact)

    completed, output, artifact = navigator(tmp_path, collections_path, "compliance", "--diff")
    assert completed.returncode == 0, output[-5000:]
    assert recap(output)["failed"] == 0
    assert artifact["status"] == "successful"
    assert json.loads((tmp_path / "work" / "reports" / "site1.json").read_text())["in_sync"] is True
    assert (tmp_path / "work" / "reports" / "summary.html").exists()

    leaked = secrets_in(tmp_path / "artifacts") + secrets_in(tmp_path / "work")
    assert leaked == []
    assert sorted(path.name for path in (tmp_path / "artifacts").iterdir()) == [
        "compliance.json", "hotdesking.json", "navigator.log"]
