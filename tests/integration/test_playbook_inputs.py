# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the playbooks read: verify refuses a control URL of the wrong form before any request, and every
variable a playbook reads from the inventory is documented in docs/guide.md."""

import re

import pytest
import yaml

from simulator import ADMIN_PASSWORD, CONTROL_TOKEN, PBX_PASSWORD, REPO, ansible_playbook

PLAYBOOKS = REPO / "playbooks"


def verify_vars(sim, **overrides):
    variables = {
        "hotdesking_pbx_url": sim.url, "hotdesking_pbx_password": ADMIN_PASSWORD,
        "hotdesking_pbx_key_password": PBX_PASSWORD,
        "hotdesking_devices_url": "%s/example.com/devices" % sim.url.replace("http", "ws", 1),
        "hotdesking_devices_password": "pbxsim-devices", "hotdesking_devices_domain": "example.com",
        "hotdesking_base_user_password": "Base-Input-Pw-1", "hotdesking_temp_user_password": "Temp-Input-Pw-2",
        "hotdesking_sim_control_url": sim.url + "/_sim", "hotdesking_sim_control_token": CONTROL_TOKEN,
        "hotdesking_verify_user": "alice", "hotdesking_verify_password": "Alice-Input-Pw-3",
    }
    variables.update(overrides)
    return {"all": {"hosts": {"site1": variables}}}


@pytest.mark.parametrize("control_url, token, shown", [
    ("{url}", CONTROL_TOKEN, "'{url}'"),                       # the base URL a new user tries first
    ("{url}/_sim/", CONTROL_TOKEN, "'{url}/_sim/'"),
    ("{url}/PBX0/_sim", CONTROL_TOKEN, "'{url}/PBX0/_sim'"),
    ("{url}/_sim", "", "and no token"),
])
def test_verify_refuses_a_control_url_of_another_form_before_any_request(sim, tmp_path, control_url, token, shown):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(verify_vars(sim, hotdesking_sim_control_url=control_url.format(url=sim.url),
                                                    hotdesking_sim_control_token=token)))
    completed = ansible_playbook(PLAYBOOKS / "verify.yml", {}, "-i", str(inventory))
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "hotdesking_sim_control_url must be pbxsim's control URL" in output
    assert "(for this site %s/_sim)" % sim.url in output and shown.format(url=sim.url) in output
    assert CONTROL_TOKEN not in output
    assert sim.stats()["requests"] == 0 and sim.state()["devices"]["codes"] == []


# Names the playbooks set themselves (register, set_fact, vars) or get from the role as results.
ROLE_RESULTS = {"hotdesking_drift", "hotdesking_changes", "hotdesking_summary", "hotdesking_provisioning"}


def names_defined_in(node):
    """Every variable name a playbook defines: register:, set_fact: and vars: keys, set_stats data keys."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "register":
                found.add(value)
            elif key in ("vars", "ansible.builtin.set_fact") and isinstance(value, dict):
                found |= set(value)
            elif key == "ansible.builtin.set_stats":
                found |= set(value["data"])
            found |= names_defined_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= names_defined_in(item)
    return found


def test_every_variable_a_playbook_reads_is_documented():
    guide = (REPO / "docs" / "guide.md").read_text()
    documented = set(re.findall(r"`(hotdesking_\w+)`", guide))
    for playbook in sorted(PLAYBOOKS.glob("*.yml")):
        text = playbook.read_text()
        defined = names_defined_in(yaml.safe_load(text)) | ROLE_RESULTS
        templates = "".join(path.read_text() for path in (PLAYBOOKS / "templates").glob("*.j2")
                            if path.name in text)
        read = set(re.findall(r"\bhotdesking_\w+", text + templates)) - defined
        assert read - documented == set(), "%s reads undocumented variables" % playbook.name
    # The role's results the playbooks use are documented as such.
    assert ROLE_RESULTS - {"hotdesking_drift", "hotdesking_changes", "hotdesking_provisioning"} <= documented
