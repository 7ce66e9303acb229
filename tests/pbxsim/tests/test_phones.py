# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed's Verification on simulated phones, with the configuration written over the real wire protocols:
SOAP for PBX objects, !config for the PBX security settings, AppWebsocket for the Devices app."""

import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from pbxsim import appws
from pbxsim.wire_names import DEVICES_APP

from .conftest import DEVICES_PASSWORD

BASE_PASSWORD = "Base-Secret-1"
PHONE = "009033aabbcc"
CATEGORY = "PBX name Hotdesking"
SEED_SCRIPT = (
    "config add PHONE SIG /h323 hot-desk-base /gk-pwd %s\n"
    "vars create PHONE/USER-CFG/00000 p %%3cuser%%3e%%3cf+id='0'+label='hot-desking'%%3e"
    "%%3chotdesk+label='log+out'+pbx='1'/%%3e%%3c/f%%3e%%3c/user%%3e\n"
    "mod cmd UP1 check iresetn hot-desk\n"
    "config write\n"
    "config activate\n" % BASE_PASSWORD)
HOTDESK_KEY = {"id": "0", "label": "hot-desking", "hotdesk": {"label": "log out", "pbx": True}}
SEED_OBJECTS = [
    '<add><user cn="Hotdesking" filter="intern" cd-filter="intern" phone-config="true">'
    '<pseudo type="config"/></user></add>',
    '<add><user cn="Hot Desk Base" h323="hot-desk-base" e164="#10" pwd="%s" hide="true" config="Hotdesking"/></add>'
    % BASE_PASSWORD,
    '<add><user cn="temp" h323="temp" e164="#20" pwd="Temp-Secret-1" hide="true" config="Hotdesking"/></add>',
    '<add><user cn="Alice" h323="alice" e164="201" pwd="alice-pw"/></add>',
    '<add><user cn="Bob" h323="bob" e164="202" pwd="bob-pw"/></add>',
    # Users Admin "+ Hotdesking registration" for the base user and Alice; Bob is not listed.
    '<add-attrib><user cn="Hot Desk Base"><device hw="hot-desk-base" text="Hotdesking" app="phone"/></user>'
    '</add-attrib>',
    '<add-attrib><user cn="Alice"><device hw="alice" text="Hotdesking" app="phone"/></user></add-attrib>',
]


def pbx_command(sim, command):
    response = sim.get("/!" + urllib.parse.quote(command))
    assert (response.status_code, response.text) == (200, "ok")


def registrations(sim):
    """The PBX's own view: the bulk registration listing."""
    root = ET.fromstring(sim.get("/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&reg=*").content)
    return sorted((reg.get("user"), reg.get("hw"), reg.get("hotdesk")) for reg in root.iter("reg"))


class Site:
    """A PBX configured as the seed says, and its Devices app."""

    def __init__(self, sim):
        self.sim = sim
        for command in SEED_OBJECTS:
            assert sim.admin(command).tag == "ok", command
        pbx_command(sim, "config change PBX0 /reg-no-pwd 0 /ip-filter 127.0.0.0/255.0.0.0")
        pbx_command(sim, "config write")
        pbx_command(sim, "config activate")
        self.devices = appws.AppClient(sim.devices_url)
        assert self.devices.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]
        self.category = self.devices.call("AddCategory", domainId=1, name=CATEGORY, config=True)["id"]

    def phone_config(self):
        return self.devices.call("AddDeviceConfig", domainId=1, type="PHONE", desc="Phone",
                                 categories=[self.category], gkId="pbx1", gk1="127.0.0.1")

    def expert_config(self, script=SEED_SCRIPT):
        return self.devices.call("AddDeviceConfig", domainId=1, type="EXPERT", desc="Hot Desking",
                                 categories=[self.category], script=script)

    def provision(self, hw_id=PHONE, address="127.0.0.1", via=None):
        code = self.devices.call("GetProvisioningCode", category=CATEGORY, sip="temp")["code"]
        body = {"hw_id": hw_id, "code": code, "address": address}
        if via is not None:
            body["via"] = via
        return self.sim.control("POST", "phones", body)

    def set_device(self, cn, hw, flags=""):
        """Replace the user's <device hw=…> by one with these flags (e.g. ' trusted="true"')."""
        device = '<device hw="%s" text="Hotdesking" app="phone"%s/>'
        for command, extra in (("del-attrib", ""), ("add-attrib", flags)):
            xml = '<%s><user cn="%s">%s</user></%s>' % (command, cn, device % (hw, extra), command)
            assert self.sim.admin(xml).tag == "ok", xml

    def via(self, via, hw_id=PHONE, expect=200):
        return self.sim.control("POST", "phones/%s/via" % hw_id, {"via": via}, expect=expect)

    def hotdesk(self, user, password, hw_id=PHONE):
        return self.sim.control("POST", "phones/%s/hotdesk" % hw_id, {"user": user, "password": password})

    def logout(self, hw_id=PHONE):
        return self.sim.control("POST", "phones/%s/logout" % hw_id)


@pytest.fixture
def site(sim):
    site = Site(sim)
    yield site
    site.devices.close()


@pytest.fixture
def provisioned(site):
    """The seed's configuration done and one phone provisioned with a code for temp."""
    site.phone_config()
    site.expert_config()
    site.provision()
    return site


def test_provisioned_phone_registers_as_the_hot_desk_base_with_the_key(site):
    site.phone_config()
    site.expert_config()
    phone = site.provision()
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert phone["function_keys"] == [HOTDESK_KEY]
    assert phone["category"] == CATEGORY and phone["resets"] == 1 and phone["via"] == "tls"
    assert phone["log"][:4] == ["provisioned with code %s" % phone["log"][0].split()[-1],
                                "gatekeeper from the PHONE device configuration",
                                "registered as temp", "registered as hot-desk-base"]
    assert registrations(site.sim) == [("hot-desk-base", PHONE, "false")]
    temp = site.sim.admin('<show><user cn="temp" config="true"/></show>').find("user")
    # Users Admin marks the devices it creates for provisioning "TLS only" and "Reverse Proxy".
    assert [device.attrib for device in temp.findall("device")] == [
        {"hw": PHONE, "text": "Devices", "app": "phone", "tls": "true", "trusted": "true"}]
    assert site.sim.control("GET", "phones") == [site.sim.control("GET", "phones/" + PHONE)]


def test_phone_deleted_in_devices(provisioned):
    """DELETE /_sim/phones/<hw>: the registrations end, the device is gone, a session with recvUpdates hears it."""
    watcher = appws.AppClient(provisioned.sim.devices_url)
    try:
        assert watcher.login(DEVICES_APP, provisioned.sim.devices_domain, DEVICES_PASSWORD)["ok"]
        device, = watcher.listing("GetDevices", "devices", recvUpdates=True)
        assert provisioned.sim.control("DELETE", "phones/" + PHONE) == {"hw_id": PHONE, "removed": True}
        event = watcher.receive(lambda message: message.get("mt") == "DeviceRemoved")
        assert event["device"]["id"] == device["id"] and event["device"]["hwId"] == PHONE
        assert watcher.listing("GetDevices", "devices") == []
    finally:
        watcher.close()
    assert registrations(provisioned.sim) == []
    provisioned.sim.control("GET", "phones/" + PHONE, expect=409)
    provisioned.sim.control("DELETE", "phones/" + PHONE, expect=409)


def test_hot_desk_login_logout_and_phone_reboot(provisioned):
    sim = provisioned.sim
    answer = provisioned.hotdesk("alice", "alice-pw")
    assert answer["ok"] is True and "error" not in answer
    assert answer["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}, {"user": "alice", "hotdesk": True}]
    assert registrations(sim) == [("alice", "alice", "true"), ("hot-desk-base", PHONE, "false")]
    assert provisioned.hotdesk("201", "alice-pw")["error"] == "already logged in as alice; log out first"

    answer = provisioned.logout()
    assert answer["ok"] is True and answer["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert registrations(sim) == [("hot-desk-base", PHONE, "false")]
    assert provisioned.logout() == {**sim.control("GET", "phones/" + PHONE), "ok": False,
                                    "error": "no hot-desk login to log out"}

    assert provisioned.hotdesk("201", "alice-pw")["ok"] is True   # by number
    phone = sim.control("POST", "phones/%s/reboot" % PHONE)
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert phone["resets"] == 1, "iresetn must not reset again for the same serial"
    assert phone["function_keys"] == [HOTDESK_KEY]
    assert registrations(sim) == [("hot-desk-base", PHONE, "false")]


@pytest.mark.parametrize("user, password, reason", [
    ("alice", "wrong", "registration refused: wrong password for alice"),
    ("bob", "bob-pw", "registration refused: user bob has no device bob"),
    ("nobody", "x", "registration refused: unknown user nobody"),
    ("alice", "", "registration refused: registration of alice without password refused (/reg-no-pwd 0)"),
])
def test_hot_desk_login_refusals(provisioned, user, password, reason):
    answer = provisioned.hotdesk(user, password)
    assert (answer["ok"], answer["error"]) == (False, reason)
    assert answer["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert answer["log"][-1] == "hot-desk login as %s failed: %s" % (user, reason)
    assert registrations(provisioned.sim) == [("hot-desk-base", PHONE, "false")]


def test_registrations_without_password_count_against_reg_no_pwd(provisioned):
    sim = provisioned.sim
    assert sim.admin('<add><user cn="Carol" h323="carol" e164="203" pwd="carol-pw">'
                     '<device hw="carol" text="Hotdesking" app="phone"/></user></add>').tag == "ok"
    pbx_command(sim, "config change PBX0 /reg-no-pwd 1 /ip-filter 127.0.0.0/255.0.0.0")
    pbx_command(sim, "config activate")
    assert provisioned.hotdesk("alice", "")["ok"] is True
    provisioned.provision("009033aabbcd")
    refused = provisioned.hotdesk("carol", "", hw_id="009033aabbcd")
    assert refused["error"] == "registration refused: registration of carol without password refused (/reg-no-pwd 1)"
    assert provisioned.hotdesk("carol", "carol-pw", hw_id="009033aabbcd")["ok"] is True


def test_ip_filter_blocks_a_hot_desk_login_from_a_foreign_address(provisioned):
    sim, foreign = provisioned.sim, "009033ffffff"
    # The admin exempts the base user's hot-desking registration from the IP filter ...
    device = '<device hw="hot-desk-base" text="Hotdesking" app="phone"%s/>'
    assert sim.admin('<del-attrib><user cn="Hot Desk Base">%s</user></del-attrib>' % (device % "")).tag == "ok"
    assert sim.admin('<add-attrib><user cn="Hot Desk Base">%s</user></add-attrib>'
                     % (device % ' no-filter="true"')).tag == "ok"
    phone = provisioned.provision(foreign, address="192.0.2.10")
    assert "registration refused: address 192.0.2.10 of temp refused by the IP filter (as temp)" in phone["log"]
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    # ... but Alice's has no such exemption: from outside the filter she cannot log in.
    answer = provisioned.hotdesk("alice", "alice-pw", hw_id=foreign)
    assert answer["error"] == "registration refused: address 192.0.2.10 of alice refused by the IP filter"
    assert provisioned.hotdesk("alice", "alice-pw")["ok"] is True
    # no-filter on Alice's hot-desking registration lets her log in from there too.
    assert provisioned.logout()["ok"] is True
    provisioned.set_device("Alice", "alice", ' no-filter="true"')
    assert provisioned.hotdesk("alice", "alice-pw", hw_id=foreign)["ok"] is True


def test_a_phone_behind_a_reverse_proxy_needs_trusted_hot_desking_devices(site):
    site.phone_config()
    site.expert_config()
    phone = site.provision(via="proxy")
    assert phone["via"] == "proxy" and phone["registrations"] == []
    assert "registered as temp" in phone["log"]     # the device Devices made for provisioning is trusted
    assert ("registration refused: registration of hot-desk-base through a reverse proxy refused: device "
            "hot-desk-base is not trusted (as hot-desk-base)") in phone["log"]
    assert site.hotdesk("alice", "alice-pw")["error"] == \
        "hot desking works only on the primary registration, which is not registered"

    site.set_device("Hot Desk Base", "hot-desk-base", ' trusted="true"')
    phone = site.sim.control("POST", "phones/%s/reboot" % PHONE)
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert site.hotdesk("alice", "alice-pw")["error"] == (
        "registration refused: registration of alice through a reverse proxy refused: device alice is not trusted")
    site.set_device("Alice", "alice", ' trusted="true"')
    answer = site.hotdesk("alice", "alice-pw")
    assert answer["ok"] is True and answer["registrations"][-1] == {"user": "alice", "hotdesk": True}
    assert registrations(site.sim) == [("alice", "alice", "true"), ("hot-desk-base", PHONE, "false")]
    assert site.logout()["ok"] is True


def test_a_tls_only_device_refuses_a_direct_phone(site):
    site.phone_config()
    site.expert_config()
    phone = site.provision(via="direct")
    assert ("registration refused: registration of temp without a verified TLS certificate refused: device %s "
            "has tls (TLS only) (as temp)" % PHONE) in phone["log"]
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]   # no tls on its device
    assert site.hotdesk("alice", "alice-pw")["ok"] is True
    assert site.logout()["ok"] is True

    site.set_device("Alice", "alice", ' tls="true"')
    assert site.hotdesk("alice", "alice-pw")["error"] == (
        "registration refused: registration of alice without a verified TLS certificate refused: device alice "
        "has tls (TLS only)")
    phone = site.via("tls")
    assert phone["via"] == "tls" and phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert phone["log"][-2:] == ["reaches the PBX via tls", "registered as hot-desk-base"]
    assert site.hotdesk("alice", "alice-pw")["ok"] is True

    phone = site.via("direct")      # a new way to the PBX: registered again, the hot-desk login is gone
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert "hotdesk registration as alice lost: registering again" in phone["log"]
    assert registrations(site.sim) == [("hot-desk-base", PHONE, "false")]


def test_via_must_be_known(site):
    site.phone_config()
    site.expert_config()
    code = site.devices.call("GetProvisioningCode", category=CATEGORY, sip="temp")["code"]
    error = {"error": "via must be one of direct, tls, proxy, not 'wifi'"}
    assert site.sim.control("POST", "phones", {"hw_id": PHONE, "code": code, "address": "127.0.0.1", "via": "wifi"},
                            expect=409) == error
    site.provision()
    assert site.via("wifi", expect=409) == error
    assert site.via("tls", hw_id="nope", expect=409) == {"error": "no phone nope"}
    assert site.sim.control("GET", "phones/" + PHONE)["via"] == "tls"


def test_without_phone_configuration_the_phone_cannot_register(site):
    site.expert_config()
    phone = site.provision()
    assert phone["registrations"] == [] and phone["gatekeeper"] is None
    assert "cannot register as hot-desk-base: no gatekeeper configured" in phone["log"]
    assert site.hotdesk("alice", "alice-pw")["error"] == \
        "hot desking works only on the primary registration, which is not registered"
    site.phone_config()      # Devices hands the new configuration to the phone
    phone = site.sim.control("GET", "phones/" + PHONE)
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert phone["gatekeeper"] == {"gkId": "pbx1", "gk1": "127.0.0.1"}


def test_without_a_hot_desk_key_there_is_no_hot_desking(site):
    site.phone_config()
    site.expert_config(SEED_SCRIPT.replace("hotdesk+label='log+out'+pbx='1'/", "dial+number='110'/"))
    phone = site.provision()
    assert phone["function_keys"] == [{"id": "0", "label": "hot-desking", "hotdesk": None}]
    assert site.hotdesk("alice", "alice-pw")["error"] == "the phone has no hot-desking function key"


def test_script_errors_are_logged_and_the_script_goes_on(site):
    site.phone_config()
    site.expert_config("bogus command here\nvars create PHONE/USER-CFG/00000 p %3cuser%3e\n"
                       "config add PHONE SIG /h323\n" + SEED_SCRIPT)
    phone = site.provision()
    errors = [line for line in phone["log"] if line.startswith("script error")]
    assert errors[0] == "script error in 'Hot Desking' line 1: unknown command bogus command here"
    assert errors[1].startswith("script error in 'Hot Desking' line 2: PHONE/USER-CFG/00000 is not valid XML")
    assert errors[2] == "script error in 'Hot Desking' line 3: every /flag needs a value"
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert phone["function_keys"] == [HOTDESK_KEY]


def test_a_new_serial_runs_the_script_again_and_resets_only_as_asked(provisioned):
    config_id = provisioned.devices.listing("GetDeviceConfigs", "configs", domainId=1)[-1]["id"]

    def deploy(check):
        script = SEED_SCRIPT.replace("check iresetn hot-desk", check)
        assert "error" not in provisioned.devices.call("UpdateDeviceConfig", id=config_id, script=script)
        phone = provisioned.sim.control("GET", "phones/" + PHONE)
        return phone["resets"], phone["update_check"]

    assert deploy("check iresetn hot-desk-2") == (1, "hot-desk-2"), "nothing changed, so no reset is needed"
    assert deploy("check ireset hot-desk-3") == (2, "hot-desk-3")
    assert deploy("check ireset hot-desk-3") == (2, "hot-desk-3"), "a serial runs once"
    assert provisioned.sim.control("POST", "phones/%s/reboot" % PHONE)["resets"] == 2


def test_wrong_base_password_in_the_script_leaves_the_phone_unregistered(site):
    site.phone_config()
    site.expert_config(SEED_SCRIPT.replace(BASE_PASSWORD, "not-the-password"))
    phone = site.provision()
    assert phone["registrations"] == []
    assert "registration refused: wrong password for hot-desk-base (as hot-desk-base)" in phone["log"]


def test_pbx_reboot_re_registers_the_base_user(provisioned):
    sim = provisioned.sim
    assert provisioned.hotdesk("alice", "alice-pw")["ok"]
    sim.control("POST", "reboot")
    phone = sim.control("GET", "phones/" + PHONE)
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert "hotdesk registration as alice lost: PBX restarted" in phone["log"]
    assert registrations(sim) == [("hot-desk-base", PHONE, "false")]


def test_phones_persist_across_a_restart(pbxsim, tmp_path):
    sim = pbxsim("--state", str(tmp_path / "state.json"))
    site = Site(sim)
    site.phone_config()
    site.expert_config()
    site.provision()
    assert site.hotdesk("alice", "alice-pw")["ok"]
    site.devices.close()
    before = sim.control("GET", "phones/" + PHONE)
    sim.restart()
    assert sim.control("GET", "phones/" + PHONE) == before
    assert "Base-Secret-1" not in str(sim.state()["phones"])


@pytest.mark.parametrize("body, error", [
    ({"hw_id": "", "code": "1", "address": "127.0.0.1"}, "hw_id must be a non-empty string"),
    ({"hw_id": PHONE, "code": "1", "address": "here"}, "address must be an IP address, not 'here'"),
])
def test_provision_checks_its_input(sim, body, error):
    assert sim.control("POST", "phones", body, expect=409) == {"error": error}


def test_unknown_phone(sim):
    assert sim.control("GET", "phones/nope", expect=409) == {"error": "no phone nope"}
    assert sim.control("POST", "phones/nope/hotdesk", {"user": "a", "password": "b"}, expect=409) == {
        "error": "no phone nope"}


UPDATE_SERVER_SCRIPT = (      # the commands innovaphone's php-update-server sends, with a standalone iresetn
    "config add UP1 /url http://update.example.com/update.php?mac=#m /poll 1\n"
    "mod cmd UP1 poll\n"
    "mod cmd UP1 check ser sig-1\n"
    "config change PHONE SIG /h323 hot-desk-base /gk-pwd %s /name \"Desk one\"\n"
    "vars create PHONE/USER-CFG/00000 p %%3cuser%%3e%%3cf+id='0'+label='hot-desking'%%3e"
    "%%3chotdesk+label='log+out'+pbx='1'/%%3e%%3c/f%%3e%%3c/user%%3e\n"
    "config write\n"
    "config activate\n"
    "iresetn\n" % BASE_PASSWORD)


def test_a_standalone_iresetn_resets_only_when_the_script_changed_something(site):
    site.phone_config()
    site.expert_config(UPDATE_SERVER_SCRIPT)
    phone = site.provision()
    assert not [line for line in phone["log"] if line.startswith("script error")]
    assert phone["resets"] == 1 and "reset (iresetn)" in phone["log"]
    assert phone["update_check"] == "sig-1"
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert phone["function_keys"] == [HOTDESK_KEY]
    rebooted = site.sim.control("POST", "phones/%s/reboot" % PHONE)
    assert rebooted["resets"] == 1, "the script changes nothing the second time, so iresetn does not reset"


@pytest.mark.parametrize("command, resets", [("reset", 3), ("ireset", 3), ("resetn", 1), ("iresetn", 1)])
def test_standalone_reset_commands(site, command, resets):
    site.phone_config()
    site.expert_config(SEED_SCRIPT.replace("mod cmd UP1 check iresetn hot-desk\n", "") + command + "\n")
    phone = site.provision()
    # reset/ireset ask again at every boot: the loop guard stops them after three resets
    assert phone["resets"] == resets
    assert ("reset skipped: the update script keeps asking for resets" in phone["log"]) == (resets == 3)
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]


def test_a_configuration_without_categories_is_for_every_phone(site):
    assert "id" in site.devices.call("AddDeviceConfig", domainId=1, type="PHONE", categories=[], gk1="127.0.0.1")
    site.expert_config()
    phone = site.provision()
    assert phone["gatekeeper"] == {"gk1": "127.0.0.1"}
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]


def test_an_offline_phone_gets_changed_configurations_when_back_online(site):
    site.expert_config()
    site.provision()
    offline = site.sim.control("POST", "phones/%s/offline" % PHONE)
    assert offline["online"] is False and offline["log"][-1] == "offline"
    site.phone_config()
    assert site.sim.control("GET", "phones/" + PHONE)["registrations"] == []
    online = site.sim.control("POST", "phones/%s/online" % PHONE)
    assert online["online"] is True and online["gatekeeper"] == {"gkId": "pbx1", "gk1": "127.0.0.1"}
    assert online["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
