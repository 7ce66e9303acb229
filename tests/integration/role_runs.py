# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running the hotdesking role's playbooks as an operator would, for the role's tests: one site's inventory on a
pbxsim, ansible-playbook with it (every output checked for leaked secrets), the recap's counts."""

import os
import pathlib
import re
import subprocess
import sys

import yaml

from simulator import ADMIN_PASSWORD, CONTROL_TOKEN, PBX_PASSWORD, REPO

PLAYBOOKS = REPO / "playbooks"
DEVICES_PASSWORD = "pbxsim-devices"       # pbxsim's default (contract 1)
DOMAIN = "example.com"
BASE_PASSWORD = "Base-Role-Pw-271"
TEMP_PASSWORD = "Temp-Role-Pw-314"
ALICE_PASSWORD = "Alice-Role-Pw-1"
SECRETS = (ADMIN_PASSWORD, PBX_PASSWORD, DEVICES_PASSWORD, BASE_PASSWORD, TEMP_PASSWORD, ALICE_PASSWORD,
           CONTROL_TOKEN)
RECAP = re.compile(r"^site1\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", re.M)


def site_vars(sim, **overrides):
    """Inventory of one site on `sim`, as an operator would write it."""
    variables = {
        "hotdesking_pbx_url": sim.url,
        "hotdesking_pbx_password": ADMIN_PASSWORD,
        "hotdesking_pbx_key_password": PBX_PASSWORD,
        "hotdesking_devices_url": "%s/%s/devices" % (sim.url.replace("http", "ws", 1), DOMAIN),
        "hotdesking_devices_password": DEVICES_PASSWORD,
        "hotdesking_devices_domain": DOMAIN,
        "hotdesking_primary_gatekeeper": "127.0.0.1",
        "hotdesking_base_user_password": BASE_PASSWORD,
        "hotdesking_temp_user_password": TEMP_PASSWORD,
        "hotdesking_users": ["alice"],
        "hotdesking_sim_control_url": sim.url + "/_sim",
        "hotdesking_sim_control_token": CONTROL_TOKEN,
        "hotdesking_verify_user": "alice",
        "hotdesking_verify_password": ALICE_PASSWORD,
    }
    variables.update(overrides)
    return {key: value for key, value in variables.items() if value is not None}


def run_playbook(tmp_path, playbook, variables, *args):
    """Run playbooks/<playbook>.yml for host site1 with `variables` as its inventory; returns the output."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"site1": variables}}}))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"))
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(PLAYBOOKS / (playbook + ".yml")),
               "-i", str(inventory)] + list(args)
    completed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                               check=False)
    output = completed.stdout + completed.stderr
    leaked = [secret for secret in SECRETS if secret in output]
    assert leaked == [], "secrets in the output of %s" % playbook
    return completed.returncode, output


def changed_tasks(output):
    changed, failed = RECAP.search(output).groups()
    assert failed == "0", output[-6000:]
    return int(changed)
