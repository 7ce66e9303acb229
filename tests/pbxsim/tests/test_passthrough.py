# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Devices passthrough (SDK "Communication with connected Sysclients"): GetUserInfo's key opens
<Devices URL>/passthrough/<hwId>/<key>/<path> to a phone, which serves /cfg.txt and runs /!<command>."""

import urllib.parse

import pytest
import requests

from pbxsim import appws
from pbxsim.wire_names import DEVICES_APP

from .conftest import DEVICES_PASSWORD
from .test_phones import BASE_PASSWORD, HOTDESK_KEY, PHONE, SEED_SCRIPT, Site, registrations
from .test_phones import provisioned, site  # noqa: F401  pylint: disable=unused-import  # fixtures

USER_CFG = ("%3cuser%3e%3cf+id='0'+label='hot-desking'%3e%3chotdesk+label='log+out'+pbx='1'/%3e%3c/f%3e"
            "%3c/user%3e")


def get(url):
    """A plain GET: no HTTP authentication, no proxy from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, timeout=30)


def passthrough_url(sim, key, path, hw_id=PHONE):
    return "%s/%s/devices/passthrough/%s/%s/%s" % (sim.url, sim.devices_domain, hw_id, key, path)


def through(sim, client, path, hw_id=PHONE):
    """GET through the passthrough with the client's key, without any HTTP authentication."""
    key = client.call("GetUserInfo")["key"]
    return get(passthrough_url(sim, key, path, hw_id))


def command(sim, client, text, hw_id=PHONE):
    return through(sim, client, "!" + urllib.parse.quote(text), hw_id)


def phone(sim, hw_id=PHONE):
    return sim.control("GET", "phones/" + hw_id)


def test_the_seed_script_spans_two_value_messages(site):
    config_id = site.expert_config()["id"]
    messages = site.devices.device_config_messages(config_id)
    values = [m for m in messages if m["mt"] == "GetDeviceConfigValueResult"]
    assert len(values) == 2 and {m["name"] for m in values} == {"script"}
    assert "".join(m["value"] for m in values) == SEED_SCRIPT
    assert "script" not in messages[-1]["config"]
    assert site.devices.device_config(config_id)["script"] == SEED_SCRIPT


def test_cfg_txt_shows_the_configuration_with_passwords_masked(provisioned):
    sim = provisioned.sim
    response = through(sim, provisioned.devices, "cfg.txt")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert response.text == (
        "config change PHONE SIG /h323 hot-desk-base /gk-pwd ********\n"
        "vars create PHONE/USER-CFG/00000 p %s\n" % USER_CFG)
    assert BASE_PASSWORD not in response.text


def test_reset_through_the_passthrough_ends_a_hot_desk_login(provisioned):
    sim = provisioned.sim
    assert provisioned.hotdesk("alice", "alice-pw")["ok"]
    response = command(sim, provisioned.devices, "reset")
    assert (response.status_code, response.text) == (200, "ok")
    state = phone(sim)
    assert state["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert state["resets"] == 2 and state["log"][-2:] == ["reset (reset)", "registered as hot-desk-base"]
    assert registrations(sim) == [("hot-desk-base", PHONE, "false")]
    assert provisioned.hotdesk("alice", "alice-pw")["ok"]
    assert command(sim, provisioned.devices, "ireset").text == "ok"       # idle: at once
    assert phone(sim)["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert phone(sim)["resets"] == 3


def test_the_n_resets_only_when_a_reset_is_required(provisioned):
    sim, devices = provisioned.sim, provisioned.devices
    assert provisioned.hotdesk("alice", "alice-pw")["ok"]
    for text in ("resetn", "iresetn"):
        assert command(sim, devices, text).text == "ok"
    assert phone(sim)["resets"] == 1 and len(phone(sim)["registrations"]) == 2
    # A written but not activated change needs a reset. The mask of /cfg.txt keeps the password.
    for text in ("config change PHONE SIG /h323 hot-desk-base /gk-pwd ******** /name \"Desk 1\"", "config write"):
        assert command(sim, devices, text).text == "ok"
    assert "/name \"Desk 1\"" in through(sim, devices, "cfg.txt").text
    assert command(sim, devices, "iresetn").text == "ok"
    state = phone(sim)
    assert state["resets"] == 2 and state["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
    assert command(sim, devices, "resetn").text == "ok" and phone(sim)["resets"] == 2


def test_commands_through_the_passthrough(provisioned):
    sim, devices = provisioned.sim, provisioned.devices
    for text in ("config add UP1 /url http://update.example.com/ /poll 1", "mod cmd UP1 poll",
                 "vars create PHONE/USER-CFG/00001 p %3cuser%3e%3cf+id='1'+label='one'/%3e%3c/user%3e",
                 "config activate", "mod cmd UP1 check ser sig-1"):
        assert command(sim, devices, text).text == "ok", text
    text = through(sim, devices, "cfg.txt").text
    assert "config change UP1 /url http://update.example.com/ /poll 1\n" in text
    assert phone(sim)["function_keys"] == [HOTDESK_KEY, {"id": "1", "label": "one", "hotdesk": None}]
    assert phone(sim)["update_check"] == "sig-1"
    for text, answer in [
        ("bogus thing", "error unknown command bogus thing"),
        ("config add PHONE SIG /h323", "error every /flag needs a value"),
        ("config change PHONE X /a \"open", "error unbalanced quote"),
        ("config change PHONE X /secret-pwd ********", "error /secret-pwd ******** keeps a value, but PHONE X has none"),
        ("vars create PHONE/USER-CFG/00002 p %3cuser", "error PHONE/USER-CFG/00002 is not valid XML: "),
        ("mod cmd UP1 bogus", "error unknown command mod cmd UP1 bogus"),
    ]:
        assert command(sim, devices, text).text.startswith(answer), text
    assert command(sim, devices, "config change PHONE SIG /h323 hot-desk-base /gk-pwd New-Secret").text == "ok"
    assert "http command config change PHONE SIG /h323 hot-desk-base /gk-pwd ********" in phone(sim)["log"]
    assert "New-Secret" not in str(sim.state())


def test_the_key_authenticates_and_the_device_must_be_reachable(provisioned):
    sim, devices = provisioned.sim, provisioned.devices
    key = devices.call("GetUserInfo")["key"]
    assert get(passthrough_url(sim, key, "cfg.txt")).status_code == 200
    assert get(passthrough_url(sim, "0e6ff4c7-7a88-40c4-98eb-8c91903933e6", "cfg.txt")).status_code == 403
    assert get(passthrough_url(sim, key, "cfg.txt", "009033000000")).status_code == 404
    assert get(passthrough_url(sim, key, "cfg.txt", PHONE.upper())).status_code == 200
    assert get(passthrough_url(sim, key, "nothing-here.htm")).status_code == 404
    sim.control("POST", "phones/%s/offline" % PHONE)
    offline = get(passthrough_url(sim, key, "cfg.txt"))
    assert offline.status_code == 504
    assert get(passthrough_url(sim, key, "!reset")).status_code == 504
    assert phone(sim)["resets"] == 1 and phone(sim)["registrations"]        # unreachable, state kept
    sim.control("POST", "phones/%s/online" % PHONE)
    assert get(passthrough_url(sim, key, "cfg.txt")).status_code == 200
    devices.close()                      # the key is valid only while its session is open
    assert get(passthrough_url(sim, key, "cfg.txt")).status_code == 403


def test_a_session_reaches_only_devices_of_its_domains(pbxsim):
    sim = pbxsim("--domain-password", "branch.example.com=branch-secret")
    site = Site(sim)
    site.phone_config()
    site.expert_config()
    site.provision()
    with appws.AppClient(sim.devices_url) as branch:
        assert branch.login(DEVICES_APP, "branch.example.com", "branch-secret")["ok"]
        assert through(sim, branch, "cfg.txt").status_code == 404
    with appws.AppClient(sim.devices_url) as admin:
        assert admin.login(DEVICES_APP, "", DEVICES_PASSWORD)["ok"]
        assert through(sim, admin, "cfg.txt").status_code == 200
    site.devices.close()


def test_the_provisioned_device_uri_is_its_passthrough(site):
    site.phone_config()
    site.expert_config()
    code = site.devices.call("GetProvisioningCode", category="PBX name Hotdesking", sip="temp")["code"]
    site.sim.control("POST", "phones", {"hw_id": PHONE, "code": code, "address": "127.0.0.1"})
    uri = site.devices.call("GetProvisionedDevice", code=code)["device"]["uri"]
    assert get(uri + "cfg.txt").text.startswith("config change PHONE SIG /h323 hot-desk-base ")


def test_passthrough_requests_count_in_stats(provisioned):
    sim, devices = provisioned.sim, provisioned.devices
    key = devices.call("GetUserInfo")["key"]
    sim.control("POST", "stats/reset")
    get(passthrough_url(sim, key, "cfg.txt"))
    get(passthrough_url(sim, key, "!mod%20cmd%20UP1%20poll"))
    get(passthrough_url(sim, key, "!config%20write"))
    get(passthrough_url(sim, "bad-key", "cfg.txt"))
    stats = sim.control("GET", "stats")
    assert stats["interfaces"]["passthrough"] == {"reads": 1, "writes": 2}
    assert (stats["requests"], stats["unauthorized"]) == (4, 1)


@pytest.mark.parametrize("path", ["", "%s" % PHONE, "%s/key-only" % PHONE])
def test_incomplete_passthrough_paths(sim, path):
    url = "%s/%s/devices/passthrough/%s" % (sim.url, sim.devices_domain, path)
    assert get(url).status_code == 404
