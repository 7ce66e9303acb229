# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bring your own PBX: a PBX that spells guessed wire names otherwise (pbxsim --wire-names) and drops what it does
not know. The role fails at the first value dropped, the probe says what to override, the overrides converge."""

import json
import urllib.parse

import pytest
import requests
from requests.auth import HTTPDigestAuth

from simulator import ADMIN_PASSWORD, ansible_playbook, respelt_sim
from role_runs import changed_tasks, run_playbook, site_vars

# How this PBX spells two of the guesses (the defaults are reg-no-pwd and phone-config).
SPELLING = {"config": {"registrations_without_password": "no-pwd-regs"},
            "template": {"store_phone_config": "store-phone-config"}}
# What the probe can never see without a write (reference 8): the answers and commands of writes. (The Devices
# messages that change things it reads from the UI's scripts: test_probe_vocabulary.py.)
# Seen only after a write (or, for the Devices events' keys, by the event source after a change).
WRITE_ONLY = {"soap.ok", "soap.error", "soap.delete", "config.ok", "config.error", "devices.config_event",
              "devices.config_deleted_id"}


@pytest.fixture(scope="module")
def respelt_pbxsim(tmp_path_factory):
    sim = respelt_sim(tmp_path_factory.mktemp("pbxsim-wire-names"), SPELLING)
    yield sim
    sim.stop()


@pytest.fixture
def respelt(respelt_pbxsim):
    respelt_pbxsim.reset()
    return respelt_pbxsim


def probe(tmp_path, variables):
    code, output = run_playbook(tmp_path, "probe", dict(variables, hotdesking_report_dir=str(tmp_path / "reports")))
    assert code == 0, output[-6000:]
    report = json.loads((tmp_path / "reports" / "probe-site1.json").read_text())
    assert (tmp_path / "reports" / "probe-site1.md").exists()
    return report, dict((row["entry"], row) for row in report["entries"]), output


def command(sim, text):
    response = requests.get("%s/!%s" % (sim.url, urllib.parse.quote(text)), timeout=10,
                            auth=HTTPDigestAuth("admin", ADMIN_PASSWORD))
    assert response.text == "ok", response.text


def test_the_probe_confirms_every_observable_entry_of_a_default_pbx(sim, tmp_path):
    sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="Alice-Role-Pw-1"/></add>')
    variables = site_vars(sim, hotdesking_issue_provisioning_code=True,
                          hotdesking_ip_filter=[{"address": "127.0.0.0", "mask": "255.0.0.0"}])
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    # What an admin does in the UI (a template inheriting from two, Discard Phone Config) and a registered phone.
    sim.admin('<add><user cn="Base A" discard-phone-config="true"><pseudo type="config"/></user>'
              '<user cn="Base B"><pseudo type="config"/></user></add>')
    sim.admin('<add><user cn="Both" config="Base A,Base B"><pseudo type="config"/></user></add>')
    code = sim.state()["devices"]["codes"][0]["code"]
    sim.control("POST", "phones", {"hw_id": "009033000999", "code": code, "address": "127.0.0.1"})
    command(sim, "config change PBX0 /reg-no-pwd 1 /ip-filter 127.0.0.0/255.0.0.0")  # pending: not written
    sim.control("POST", "stats/reset")

    report, rows, output = probe(tmp_path, site_vars(sim))
    assert sim.stats()["writes"] == 0
    assert dict((e, r["status"]) for e, r in rows.items() if r["status"] != "confirmed") == dict(
        (entry, "unseen") for entry in WRITE_ONLY)
    assert report["counts"] == {"confirmed": len(rows) - len(WRITE_ONLY), "contradicted": 0,
                                "unseen": len(WRITE_ONLY)}
    assert report["suggested_wire_names"] == {}
    # A count is no secret, though its flag is named after passwords: only secrets are masked.
    assert "/reg-no-pwd 1" in rows["config.registrations_without_password"]["seen"]
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" not in json.dumps(report)
    assert all(row["hint"] for row in rows.values() if row["status"] == "unseen")
    assert "site1: %d confirmed, 0 contradicted (none)" % (len(rows) - len(WRITE_ONLY)) in output


def test_a_pbx_that_spells_names_otherwise_is_found_out_and_corrected_from_inventory(respelt, tmp_path):
    respelt.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="Alice-Role-Pw-1"/></add>')
    # The Store Phone Config of a template an admin made in PBX Manager, in this PBX's spelling.
    respelt.admin('<add><user cn="Made in the UI" store-phone-config="true"><pseudo type="config"/></user></add>')
    before = respelt.state()

    code, output = run_playbook(tmp_path, "hotdesking", site_vars(respelt))
    assert code != 0
    assert ("templates 'Hot Desking', field store_phone_config: wire name 'phone-config' "
            "(template.store_phone_config) was not kept by the PBX: see docs/wire-names.md") in output
    after = respelt.state()
    assert [o["attrs"]["cn"] for o in after["pbx"]["objects"]] == ["Alice", "Made in the UI", "Hot Desking"]
    assert after["devices"] == before["devices"] and after["config"] == before["config"]

    report, rows, _output = probe(tmp_path, site_vars(respelt))
    assert rows["config.registrations_without_password"]["status"] == "contradicted"
    # The value of a flag the table does not know that is named like a password is never shown, not even a count.
    assert rows["config.registrations_without_password"]["seen"] == ["/no-pwd-regs VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"]
    assert rows["template.store_phone_config"]["status"] == "contradicted"
    assert report["suggested_wire_names"] == SPELLING

    fixed = site_vars(respelt, hotdesking_wire_names=report["suggested_wire_names"])
    code, output = run_playbook(tmp_path, "hotdesking", fixed)
    assert code == 0, output[-6000:]
    assert changed_tasks(run_playbook(tmp_path, "hotdesking", fixed)[1]) == 0
    cfg = requests.get(respelt.url + "/cfg.txt", auth=HTTPDigestAuth("admin", ADMIN_PASSWORD), timeout=10).text
    assert "/no-pwd-regs 0" in cfg
    template = respelt.objects()["Hot Desking"]
    assert template["attrs"]["store-phone-config"] == "true" and "phone-config" not in template["attrs"]


def test_an_unknown_override_key_fails_before_any_request(sim, tmp_path):
    variables = site_vars(sim, hotdesking_wire_names={"config": {"regs_without_password": "x"}})
    code, output = run_playbook(tmp_path, "hotdesking", variables)
    assert code != 0
    assert "wire_names: unknown key config.regs_without_password" in output
    assert sim.stats()["requests"] == 0


SETTINGS_PLAYBOOK = """
- name: Registrations without password
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Two registrations without password
      innovaphone.pbx.pbx_settings:
        url: "{{ pbx_url }}"
        password: "{{ pbx_admin_password }}"
        registrations_without_password: 2
"""


def test_pbx_settings_that_the_pbx_did_not_keep_name_the_flag_and_its_wire_name(respelt, tmp_path):
    """This PBX knows the flag as no-pwd-regs and drops reg-no-pwd: the failed verify names the field and the wire
    name to correct, not only a layer that lacks "a wanted value"."""
    playbook = tmp_path / "settings.yml"
    playbook.write_text(SETTINGS_PLAYBOOK)
    completed = ansible_playbook(playbook, {"pbx_url": respelt.url, "pbx_admin_password": ADMIN_PASSWORD})
    assert completed.returncode != 0
    assert ("settings 'PBX0', field registrations_without_password: wire name 'reg-no-pwd' "
            "(config.registrations_without_password) was not kept by the PBX: "
            "see docs/wire-names.md") in completed.stdout


def hotdesk_apps(sim, user):
    return [child["attrs"].get("app") for child in sim.objects()[user]["children"]
            if child["tag"] == "device" and child["attrs"].get("hw") == user]


def test_the_phone_app_of_the_registrations_comes_from_the_wire_name_unless_the_role_variable_is_set(sim, tmp_path):
    """hotdesking_phone_app left unset takes hotdesk.device_app (its inventory override too); set, it wins."""
    sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="Alice-Role-Pw-1"/></add>')
    corrected = {"hotdesk": {"device_app": "phone2"}}
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(sim, hotdesking_wire_names=corrected))
    assert code == 0, output[-6000:]
    assert hotdesk_apps(sim, "alice") == ["phone2"] and hotdesk_apps(sim, "hot-desk-base") == ["phone2"]
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(sim, hotdesking_wire_names=corrected,
                                                                  hotdesking_phone_app="phone3"))
    assert code == 0, output[-6000:]
    assert hotdesk_apps(sim, "alice") == ["phone3"] and hotdesk_apps(sim, "hot-desk-base") == ["phone3"]
