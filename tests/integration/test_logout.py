# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nightly logout (playbook logout, module phone_reset) and devices_info, against simulated phones: one with
a hot-desk login, one without, one offline with a login; the registrations read over SOAP and over PbxAdminApi
(GetRegs, a hot-desk login the registration whose hw is the user's name)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from pbxsim.appws import AppClient
from conftest import PBX_APIS
from simulator import ADMIN_PASSWORD, PBX_PASSWORD, REPO, ansible_playbook, respelt_sim
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
    return seat(sim, tmp_path)


# A PBX that spells the ASSUMED hot-desk attribute of its registrations otherwise (issue 16, item 3).
HOTDESK_RESPELT = {"registration": {"hotdesk": "hot-desk"}}


@pytest.fixture(scope="module")
def respelt_pbxsim(tmp_path_factory):
    started = respelt_sim(tmp_path_factory.mktemp("pbxsim-hotdesk-respelt"), HOTDESK_RESPELT)
    yield started
    started.stop()


@pytest.fixture
def respelt_desks(respelt_pbxsim, tmp_path):
    """The desks of `desks` on a PBX whose registrations carry `hot-desk` where the table says `hotdesk`."""
    respelt_pbxsim.reset()
    return respelt_pbxsim, seat(respelt_pbxsim, tmp_path)


def seat(sim, tmp_path):
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
    assert "site1: would reset %s (alice logged in); %s not logged in, %s offline" % (LOGGED_IN, IDLE, AWAY) in output
    stats = sim.stats()
    assert stats["writes"] == 0 and stats["interfaces"]["passthrough"] == {"reads": 0, "writes": 0}
    assert registrations(sim, LOGGED_IN) == [BASE, {"user": "alice", "hotdesk": True}]


def test_the_logout_resets_exactly_the_logged_in_phone_and_a_second_run_changes_nothing(sim, desks, tmp_path):
    resets = dict((hw, sim.control("GET", "phones/" + hw)["resets"]) for hw in (LOGGED_IN, IDLE, AWAY))
    code, output = run_playbook(tmp_path, "logout", desks)
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 1
    assert "site1: reset %s (alice logged in);" % LOGGED_IN in output
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


def devices_info(sim, tmp_path, *args):
    """The result of devices_info on the site's category (the run must succeed and show no secret)."""
    playbook = tmp_path / "devices_info.yml"
    playbook.write_text(DEVICES_INFO)
    result_file = tmp_path / "info.json"
    sim.control("POST", "stats/reset")
    completed = ansible_playbook(playbook, {
        "devices_url": "%s/%s/devices" % (sim.url.replace("http", "ws", 1), DOMAIN),
        "devices_password": DEVICES_PASSWORD, "pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD,
        "result_file": str(result_file), "ansible_python_interpreter": "{{ ansible_playbook_python }}"}, *args,
        **(PBX_APIS["pbxadminapi"] if getattr(sim, "pbx_api", None) == "pbxadminapi" else {}))
    assert completed.returncode == 0, completed.stdout[-6000:]
    interfaces = sim.stats()["interfaces"]
    assert (interfaces["pbxapi"]["reads"] > 0, interfaces["bulk"]["reads"] > 0) == (
        (True, False) if getattr(sim, "pbx_api", None) == "pbxadminapi" else (False, True))
    output = completed.stdout + completed.stderr + result_file.read_text()
    assert [s for s in SECRETS + (BOB_PASSWORD, PBX_PASSWORD, BASE_PASSWORD, TEMP_PASSWORD) if s in output] == []
    return json.loads(result_file.read_text())


def test_devices_info_returns_the_devices_with_their_logins_and_never_a_secret(sim, desks, tmp_path):
    info = devices_info(sim, tmp_path, "-vvv")
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


def test_a_pbx_that_spells_the_hotdesk_attribute_otherwise_still_has_its_logins_found(respelt_desks, tmp_path):
    """The hot-desk attribute of the registrations is a guess (registration.hotdesk): a login is known from
    documented facts instead (reference 6.4: a registration of user U with U's own name as hardware id)."""
    sim, variables = respelt_desks
    info = devices_info(sim, tmp_path)
    assert info["query_result"] == [{"phone": LOGGED_IN, "user": "alice"}, {"phone": AWAY, "user": "bob"}]
    code, output = run_playbook(tmp_path, "logout", variables)
    assert code == 0, output[-6000:]
    assert "site1: reset %s (alice logged in); %s not logged in, %s offline" % (LOGGED_IN, IDLE, AWAY) in output
    assert registrations(sim, LOGGED_IN) == [BASE]


PBX_INFO = """
- name: Who is logged in
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The users' hot desking
      innovaphone.pbx.pbx_info:
        url: "{{ pbx_url }}"
        password: "{{ pbx_admin_password }}"
        query: "users[].[name, hotdesk.enabled, hotdesk.logged_in]"
      register: info
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ info.query_result | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def pbx_info_users(sim, tmp_path):
    """[name, hotdesk.enabled, hotdesk.logged_in] of every user, as pbx_info returns them (over the sim's API)."""
    sim.admin('<add><user cn="Carol" h323="carol"/></add>')
    playbook = tmp_path / "pbx_info.yml"
    playbook.write_text(PBX_INFO)
    result_file = tmp_path / "users.json"
    completed = ansible_playbook(playbook, {
        "pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD, "result_file": str(result_file),
        "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        **(PBX_APIS["pbxadminapi"] if getattr(sim, "pbx_api", None) == "pbxadminapi" else {}))
    assert completed.returncode == 0, completed.stdout[-6000:]
    return sorted(json.loads(result_file.read_text()))


# `hotdesk.enabled`: the user has its hot-desking hardware id; `hotdesk.logged_in`: a hot-desk login is active (alice
# on one phone, bob on the one that went offline: the PBX still holds its registration).
PBX_INFO_USERS = [["alice", True, True], ["bob", True, True], ["carol", False, False], ["hot-desk-base", True, False],
                  ["temp", False, False]]


def test_pbx_info_says_who_may_use_hot_desking_and_who_is_logged_in_now(sim, desks, tmp_path):
    assert pbx_info_users(sim, tmp_path) == PBX_INFO_USERS


def test_pbx_info_finds_the_logins_on_a_pbx_that_spells_the_hotdesk_attribute_otherwise(respelt_desks, tmp_path):
    assert pbx_info_users(respelt_desks[0], tmp_path) == PBX_INFO_USERS


def soap_only(sim):
    if sim.pbx_api == "pbxadminapi":
        pytest.skip("over PbxAdminApi the registrations are GetRegs' documented {hw, addr}: no guessed name to miss")


def test_a_registration_read_without_the_facts_of_a_login_fails_naming_the_wire_names(sim, desks, tmp_path):
    """Neither the hot-desk attribute nor the user's hardware id in the registrations (here: the collection is told
    other names than the PBX's): the logout fails and says which names it missed, never "not logged in"."""
    soap_only(sim)
    respelt = dict(desks, hotdesking_wire_names={"registration": {"hotdesk": "hd", "hw": "hw-id"}})
    code, output = run_playbook(tmp_path, "logout", respelt)
    assert code != 0
    assert ("has no wire name 'hd' (registration.hotdesk) and no wire name 'hw-id' (registration.hw), so whether it "
            "is a hot-desk login cannot be told") in output
    assert "not logged in" not in output
    assert sim.stats()["interfaces"]["passthrough"]["writes"] == 0


def test_hot_desk_logins_without_an_address_fail_the_logout_naming_the_wire_name(sim, desks, tmp_path):
    soap_only(sim)
    respelt = dict(desks, hotdesking_wire_names={"registration": {"address": "ip"}})
    code, output = run_playbook(tmp_path, "logout", respelt)
    assert code != 0
    assert ("the registrations of the hot-desk logins of alice, bob have no address (wire name 'ip' "
            "(registration.address)), so the phones they are on cannot be found: see docs/wire-names.md; no phone "
            "was reset") in output
    assert sim.stats()["interfaces"]["passthrough"]["writes"] == 0


def test_the_documented_ad_hoc_command_says_who_is_logged_in(sim, desks, tmp_path):
    """README and guide: `ansible site1 -i inventory.yml -c local -e 'ansible_python_interpreter={{
    ansible_playbook_python }}' -m innovaphone.pbx.pbx_info -a 'url={{ hotdesking_pbx_url }} ...'`, the connection
    from the site's inventory variables."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"site1": desks}}}))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"))
    completed = subprocess.run([
        str(pathlib.Path(sys.executable).parent / "ansible"), "site1", "-i", str(inventory), "-c", "local",
        "-e", "ansible_python_interpreter={{ ansible_playbook_python }}", "-m", "innovaphone.pbx.pbx_info",
        "-a", 'url={{ hotdesking_pbx_url }} password={{ hotdesking_pbx_password }} '
              'query="users[?hotdesk.logged_in].name"'],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    output = completed.stdout + completed.stderr
    assert [secret for secret in SECRETS if secret in output] == []
    assert completed.returncode == 0, output[-3000:]
    assert completed.stdout.startswith("site1 | SUCCESS => "), completed.stdout[-3000:]
    assert sorted(json.loads(completed.stdout.split("=>", 1)[1])["query_result"]) == ["alice", "bob"]
