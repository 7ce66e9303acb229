# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nightly logout (playbook logout, module phone_reset) and devices_info, against simulated phones: one with
a hot-desk login, one without, one offline with a login; the registrations read over SOAP and over PbxAdminApi
(GetRegs, a hot-desk login the registration whose hw is the user's name)."""

import json

import pytest

from pbxsim.appws import AppClient
from conftest import PBX_APIS
from simulator import ADMIN_PASSWORD, PBX_PASSWORD, ansible_playbook
from role_runs import (ALICE_PASSWORD, BASE_PASSWORD, DEVICES_PASSWORD, DOMAIN, SECRETS, TEMP_PASSWORD,
                       changed_tasks, run_playbook, site_vars)

BOB_PASSWORD = "Bob-Role-Pw-2"
LOGGED_IN, IDLE, AWAY = "009033000a01", "009033000a02", "009033000a03"
BASE = {"user": "hot-desk-base", "hotdesk": False}


def provisioning_codes(sim, count):
    """Codes for the temp user in the site's category, as Users Admin asks the Devices app for them."""
    with AppClient("%s/%s/devices" % (sim.url.replace("http", "ws", 1), DOMAIN)) as app:
        assert app.login("innovaphone-devices", DOMAIN, DEVICES_PASSWORD)["ok"]
        return [app.call("GetProvisioningCode", domainId=1, category="site1 Hotdesking", sip="temp")["code"]
                for _number in range(count)]


@pytest.fixture(params=["soap", "pbxadminapi"])
def sim(sim, request):
    """conftest's sim, with site_vars() giving the App object's variables in the pbxadminapi runs."""
    sim.pbx_api = request.param
    yield sim
    sim.pbx_api = None


@pytest.fixture
def desks(sim, tmp_path):
    """The how-to's setup with three phones: alice logged in on one, nobody on one, bob on one that went offline."""
    sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/><user cn="Bob" h323="bob" e164="102" pwd="%s"/>'
              '</add>' % (ALICE_PASSWORD, BOB_PASSWORD))
    variables = site_vars(sim, hotdesking_users=["alice", "bob"])
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    for number, (hw_id, code) in enumerate(zip((LOGGED_IN, IDLE, AWAY), provisioning_codes(sim, 3)), start=11):
        phone = sim.control("POST", "phones", {"hw_id": hw_id, "code": code, "address": "127.0.0.%d" % number})
        assert phone["registrations"] == [BASE], phone["log"]
    assert sim.control("POST", "phones/%s/hotdesk" % LOGGED_IN, {"user": "alice", "password": ALICE_PASSWORD})["ok"]
    assert sim.control("POST", "phones/%s/hotdesk" % AWAY, {"user": "bob", "password": BOB_PASSWORD})["ok"]
    sim.control("POST", "phones/%s/offline" % AWAY)
    sim.control("POST", "stats/reset")
    return variables


def registrations(sim, hw_id):
    return sim.control("GET", "phones/" + hw_id)["registrations"]


def test_check_mode_names_the_phone_it_would_reset_and_sends_nothing(sim, desks, tmp_path):
    code, output = run_playbook(tmp_path, "logout", desks, "--check")
    assert code == 0, output[-6000:]
    assert "site1: would reset %s; %s not logged in, %s offline" % (LOGGED_IN, IDLE, AWAY) in output
    stats = sim.stats()
    assert stats["writes"] == 0 and stats["interfaces"]["passthrough"] == {"reads": 0, "writes": 0}
    assert registrations(sim, LOGGED_IN) == [BASE, {"user": "alice", "hotdesk": True}]


def test_the_logout_resets_exactly_the_logged_in_phone_and_a_second_run_changes_nothing(sim, desks, tmp_path):
    resets = dict((hw, sim.control("GET", "phones/" + hw)["resets"]) for hw in (LOGGED_IN, IDLE, AWAY))
    code, output = run_playbook(tmp_path, "logout", desks)
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 1
    assert "site1: reset %s;" % LOGGED_IN in output
    assert sim.stats()["interfaces"]["passthrough"]["writes"] == 1
    assert registrations(sim, LOGGED_IN) == [BASE]           # the reset ended the login: the base user only
    assert dict((hw, sim.control("GET", "phones/" + hw)["resets"] - resets[hw]) for hw in resets) == {
        LOGGED_IN: 1, IDLE: 0, AWAY: 0}
    assert registrations(sim, IDLE) == [BASE]
    assert registrations(sim, AWAY) == [BASE, {"user": "bob", "hotdesk": True}]   # offline: reported, not reached
    code, output = run_playbook(tmp_path, "logout", desks)
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 0 and "site1: reset no phone;" in output


DEVICES_INFO = """
- name: Read the Devices app of the site
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Devices with their registrations
      innovaphone.pbx.devices_info:
        devices_url: "{{ devices_url }}"
        devices_password: "{{ devices_password }}"
        url: "{{ pbx_url }}"
        password: "{{ pbx_admin_password }}"
        categories: [site1 Hotdesking]
        query: "devices[?hotdesk_user].{phone: hw_id, user: hotdesk_user}"
      register: info
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ info | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def test_devices_info_returns_the_devices_with_their_logins_and_never_a_secret(sim, desks, tmp_path):
    playbook = tmp_path / "devices_info.yml"
    playbook.write_text(DEVICES_INFO)
    result_file = tmp_path / "info.json"
    sim.control("POST", "stats/reset")
    completed = ansible_playbook(playbook, {
        "devices_url": "%s/%s/devices" % (sim.url.replace("http", "ws", 1), DOMAIN),
        "devices_password": DEVICES_PASSWORD, "pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD,
        "result_file": str(result_file), "ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "-vvv",
        **(PBX_APIS["pbxadminapi"] if sim.pbx_api == "pbxadminapi" else {}))
    assert completed.returncode == 0, completed.stdout[-6000:]
    interfaces = sim.stats()["interfaces"]
    assert (interfaces["pbxapi"]["reads"] > 0, interfaces["bulk"]["reads"] > 0) == (
        (True, False) if sim.pbx_api == "pbxadminapi" else (False, True))
    output = completed.stdout + completed.stderr + result_file.read_text()
    assert [s for s in SECRETS + (BOB_PASSWORD, PBX_PASSWORD, BASE_PASSWORD, TEMP_PASSWORD) if s in output] == []
    info = json.loads(result_file.read_text())
    devices = dict((d["hw_id"], d) for d in info["devices"])
    assert sorted(devices) == sorted((LOGGED_IN, IDLE, AWAY))
    assert (devices[LOGGED_IN]["online"], devices[LOGGED_IN]["hotdesk_user"]) == (True, "alice")
    assert devices[LOGGED_IN]["registrations"] == [BASE, {"user": "alice", "hotdesk": True}]
    assert (devices[IDLE]["hotdesk_user"], devices[AWAY]["online"], devices[AWAY]["hotdesk_user"]) == (
        None, False, "bob")
    assert info["query_result"] == [{"phone": LOGGED_IN, "user": "alice"}, {"phone": AWAY, "user": "bob"}]
    expert = next(c for c in info["device_configs"] if c["type"] == "expert")
    assert "/gk-pwd VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in expert["script"]
    assert info["categories"] == [{"name": "site1 Hotdesking", "provisioning": True}]
