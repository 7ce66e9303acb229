# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running the hotdesking role's playbooks as an operator would, for the role's tests: one site's inventory on a
pbxsim, ansible-playbook with it (every output checked for leaked secrets), the recap's counts."""

import json
import os
import pathlib
import re
import subprocess
import sys

import yaml

from simulator import ADMIN_PASSWORD, APP_NAME, APP_PASSWORD, CONTROL_TOKEN, PBX_PASSWORD, REPO

PLAYBOOKS = REPO / "playbooks"
DEVICES_PASSWORD = "pbxsim-devices"       # pbxsim's default (contract 1)
DOMAIN = "example.com"
BASE_PASSWORD = "Base-Role-Pw-271"
TEMP_PASSWORD = "Temp-Role-Pw-314"
ALICE_PASSWORD = "Alice-Role-Pw-1"
SECRETS = (ADMIN_PASSWORD, PBX_PASSWORD, DEVICES_PASSWORD, BASE_PASSWORD, TEMP_PASSWORD, ALICE_PASSWORD,
           CONTROL_TOKEN, APP_PASSWORD)
# The role variables that make the PBX steps speak PbxAdminApi/PbxTableUsers with pbxsim's App object.
PBXADMINAPI_VARS = {"hotdesking_pbx_app_name": APP_NAME, "hotdesking_pbx_app_password": APP_PASSWORD,
                    "hotdesking_pbx_api": "pbxadminapi"}
RECAP = re.compile(r"^site1\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", re.M)


def site_vars(sim, **overrides):
    """Inventory of one site on `sim`, as an operator would write it; with the App object's variables when the
    sim's `pbx_api` (set by a test's fixture) says pbxadminapi."""
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
    if getattr(sim, "pbx_api", None) == "pbxadminapi":
        variables.update(PBXADMINAPI_VARS)
    variables.update(overrides)
    return {key: value for key, value in variables.items() if value is not None}


def run_playbook(tmp_path, playbook, variables, *args, inventory=None):
    """Run playbooks/<playbook>.yml for host site1 with `variables` as its inventory (or with the `inventory`
    given, a path); returns the output."""
    if inventory is None:
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
    # No ansible-core of the matrix (2.16 to 2.21) may have anything of the collection or its playbooks to deprecate.
    assert "DEPRECATION WARNING" not in output, output[-6000:]
    return completed.returncode, output


def changed_tasks(output):
    changed, failed = RECAP.search(output).groups()
    assert failed == "0", output[-6000:]
    return int(changed)


# What differs between two PBXs that hold the same setup, left out by comparable_state: ids and guids (counters and
# random values), session and nonce data, timestamps, provisioning codes, and what random passwords and keys make.
# Passwords stay: pbxsim's state shows each as ******** (set) or leaves it out (none), whatever it is.
VOLATILE_KEYS = frozenset(("id", "guid", "next_id", "key", "pbx_key", "pwdx", "nonce", "session", "sessions",
                           "code", "validUntil", "valid_until", "created", "time", "timestamp", "log"))
ID_KEY = re.compile(r"(?:^|_)ids?$|[a-z]Ids?$")     # id, device_id, domainId, categoryId, domainIds
NOT_IDS = frozenset(("hwId", "hw_id", "gkId"))        # a phone's hardware id, a gatekeeper id: part of the setup
# Lists that pbxsim's state holds as ids of other objects (a device configuration's categories).
ID_LIST_KEYS = frozenset(("categories",))
ID = "<id>"


def comparable(value, ignore=frozenset(), ordered=False):
    """`value` (a JSON document) without the keys of VOLATILE_KEYS, `ignore` and ID_KEY (but NOT_IDS), the ids in
    ID_LIST_KEYS lists replaced by "<id>"; lists in a canonical order unless `ordered` (creation order is not the
    setup)."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key in VOLATILE_KEYS or key in ignore or (ID_KEY.search(key) and key not in NOT_IDS):
                continue
            if key in ID_LIST_KEYS and isinstance(item, list):
                item = [ID if isinstance(ref, int) and not isinstance(ref, bool) else ref for ref in item]
            result[key] = comparable(item, ignore, ordered)
        return result
    if isinstance(value, list):
        items = [comparable(item, ignore, ordered) for item in value]
        return items if ordered else sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def comparable_state(sim, ignore=(), ordered=False):
    """sim.state() as comparable() makes it: equal for two pbxsims that hold the same setup, whatever their ids,
    passwords, sessions, timing and order of creation were. `ignore` names more keys to leave out."""
    return comparable(sim.state(), frozenset(ignore), ordered)
