# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pbxsim README's "Make drift by hand" examples, run as written (only PBX= points at this test's pbxsim,
which runs with its default passwords as a new user's would), and compliance catching what they did."""

import json
import re
import subprocess

import pytest

from conftest import REPO, Sim, ansible_playbook, site_vars, write_inventory

README = (REPO / "tests" / "pbxsim" / "README.md").read_text()


def example(name):
    block = re.search(r"<!-- drift-example: %s -->\n```sh\n(.*?)```" % re.escape(name), README, re.S)
    assert block, "no drift example %s in tests/pbxsim/README.md" % name
    return block.group(1)


@pytest.fixture
def default_sim(tmp_path):
    sim = Sim(tmp_path / "pbxsim")
    sim.env = {key: value for key, value in sim.env.items() if not key.startswith("PBXSIM_")}
    sim.start()
    yield sim
    sim.stop()


@pytest.mark.parametrize("name, step", [("soap-modify", "template"), ("config-change", "security")])
def test_the_readme_examples_make_the_drift_compliance_reports(default_sim, collections_path, tmp_path, name, step):
    script = example(name)
    assert script.startswith("PBX=http://127.0.0.1:40123\n")
    variables = site_vars(default_sim, hotdesking_pbx_password="pbxsim-admin", hotdesking_pbx_key_password="pbxsim-pbx",
                          hotdesking_users=[], hotdesking_report_dir=str(tmp_path / "reports"))
    inventory = write_inventory(tmp_path / "inventory.yml", {"site1": variables})
    code, output = ansible_playbook(collections_path, "hotdesking", inventory)
    assert code == 0, output[-5000:]

    completed = subprocess.run(["bash", "-euo", "pipefail", "-c", script.replace(
        "PBX=http://127.0.0.1:40123", "PBX=" + default_sim.url, 1)], capture_output=True, text=True, timeout=60,
        check=False)
    assert completed.returncode == 0, completed.stderr
    assert ("&lt;ok/&gt;" in completed.stdout) if name == "soap-modify" else completed.stdout.split() == ["ok", "ok"]

    code, output = ansible_playbook(collections_path, "compliance", inventory, "-e", "hotdesking_fail_on_drift=true")
    assert code != 0 and "site1 differs from the inventory in %s" % step in output
    assert list(json.loads((tmp_path / "reports" / "site1.json").read_text())["drift"]) == [step]
