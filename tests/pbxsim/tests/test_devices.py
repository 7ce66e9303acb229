# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Devices app: categories, device configurations, paging, provisioning codes and persistence."""

import json
import time

import pytest

from pbxsim import appws

from .conftest import DEVICES_PASSWORD

TEMP_USER = '<add><user cn="temp" h323="temp" e164="#20" pwd="temp-secret"/></add>'
SCRIPT = "config add PHONE SIG /h323 hot-desk-base /gk-pwd base-secret\nconfig write\nconfig activate\n"


def login(url, domain):
    client = appws.AppClient(url)
    assert client.login("devices", domain, DEVICES_PASSWORD)["ok"]
    return client


@pytest.fixture
def devices(sim):
    """An admin session on the shared pbxsim's Devices app."""
    with login(sim.devices_url, sim.devices_domain) as client:
        yield client


def categories(client):
    return client.listing("GetProvisioningCategories", "categories")


def configs(client):
    return client.listing("GetDeviceConfigs", "configs", domainId=1)


def add_category(client, name="Hotdesking"):
    return client.call("AddCategory", domainId=1, name=name, config=True)["id"]


def test_lists_come_in_pages_until_last(devices):
    ids = [add_category(devices, "Category %d" % number) for number in range(5)]
    pages = devices.answers("GetProvisioningCategories")
    assert [len(page["categories"]) for page in pages] == [2, 2, 1]
    assert [page["last"] for page in pages] == [False, False, True]
    assert [c["id"] for page in pages for c in page["categories"]] == ids
    assert pages[0]["categories"][0] == {"id": ids[0], "domainId": 1, "name": "Category 0", "config": True}
    domains = devices.answers("GetDomains", recvUpdates=False)
    assert domains[-1]["last"] and len(domains[0]["domains"][0]["categories"]) == 5


def test_empty_lists_are_one_last_message(devices):
    assert devices.answers("GetDeviceConfigs", domainId=1) == [
        {"mt": "GetDeviceConfigsResult", "configs": [], "last": True, "src": "r3"}]


@pytest.mark.parametrize("request_fields, error", [
    ({"name": "Hotdesking", "config": True}, "a category named 'Hotdesking' exists already in domain 1"),
    ({"name": "", "config": True}, "name must be a non-empty string"),
    ({"name": 7, "config": True}, "name must be a non-empty string"),
    ({"name": "Other", "config": "yes"}, "config must be true or false"),
    ({"name": "Other", "config": True, "domainId": 99}, "no access to domain 99"),
])
def test_add_category_refuses_bad_input_and_changes_nothing(devices, request_fields, error):
    add_category(devices)
    before = categories(devices)
    answer = devices.call("AddCategory", **{"domainId": 1, **request_fields})
    assert answer["error"] == error and "id" not in answer
    assert categories(devices) == before


def test_update_and_delete_category(devices):
    first, second = add_category(devices, "First"), add_category(devices, "Second")
    assert devices.call("UpdateCategory", id=second, name="First")["error"].startswith("a category named 'First'")
    assert "error" not in devices.call("UpdateCategory", id=second, name="Renamed", config=False)
    assert devices.call("UpdateCategory", id=999, name="x")["error"] == "category 999 not found"
    assert [(c["name"], c["config"]) for c in categories(devices)] == [("First", True), ("Renamed", False)]
    config = devices.call("AddDeviceConfig", domainId=1, type="PHONE", name="Phone", categoryIds=[first, second],
                          settings={"gkId": "pbx1", "primaryGk": "127.0.0.1"})["id"]
    assert "error" not in devices.call("DeleteCategory", id=first)
    assert devices.call("DeleteCategory", id=first)["error"] == "category %d not found" % first
    assert [c["name"] for c in categories(devices)] == ["Renamed"]
    assert [c["categoryIds"] for c in configs(devices) if c["id"] == config] == [[second]]


@pytest.mark.parametrize("request_fields, error", [
    ({"type": "SIP"}, "type must be PHONE or EXPERT"),
    ({"name": ""}, "name must be a non-empty string"),
    ({"categoryIds": [12345]}, "no category 12345 in domain 1"),
    ({"categoryIds": "1"}, "categoryIds must be a list of category ids"),
    ({"settings": {"gkId": "pbx1", "gkPwd": "x"}}, "PHONE settings take only gkId, primaryGk, secondaryGk, not gkPwd"),
    ({"settings": {"primaryGk": 1}}, "PHONE settings must be strings"),
    ({"settings": []}, "settings must be an object"),
    ({"type": "EXPERT", "settings": {}}, "EXPERT settings need script"),
    ({"type": "EXPERT", "settings": {"script": "x", "gkId": "y"}}, "EXPERT settings take only script, not gkId"),
    ({"domainId": 77}, "no access to domain 77"),
])
def test_add_device_config_validates_and_changes_nothing(devices, request_fields, error):
    category = add_category(devices)
    good = {"domainId": 1, "type": "PHONE", "name": "Phone", "categoryIds": [category],
            "settings": {"gkId": "pbx1", "primaryGk": "127.0.0.1"}}
    answer = devices.call("AddDeviceConfig", **{**good, **request_fields})
    assert answer["error"] == error
    assert not configs(devices)
    assert "id" in devices.call("AddDeviceConfig", **good)


def test_device_config_round_trip_update_and_delete(devices):
    category = add_category(devices)
    config_id = devices.call("AddDeviceConfig", domainId=1, type="EXPERT", name="Hot Desking",
                             categoryIds=[category], settings={"script": SCRIPT})["id"]
    assert configs(devices) == [{"id": config_id, "domainId": 1, "type": "EXPERT", "name": "Hot Desking",
                                 "categoryIds": [category], "settings": {"script": SCRIPT}}]
    assert devices.call("UpdateDeviceConfig", id=config_id, settings={"gkId": "x"})["error"] == \
        "EXPERT settings take only script, not gkId"
    assert "error" not in devices.call("UpdateDeviceConfig", id=config_id, name="Renamed", categoryIds=[])
    assert [(c["name"], c["categoryIds"], c["settings"]) for c in configs(devices)] == [
        ("Renamed", [], {"script": SCRIPT})]
    assert "error" not in devices.call("DeleteDeviceConfig", id=config_id)
    assert devices.call("DeleteDeviceConfig", id=config_id)["error"] == "device configuration %d not found" % config_id
    assert not configs(devices)


def test_state_hides_the_passwords_inside_scripts(sim, devices):
    category = add_category(devices)
    # Every flag contract 9 counts as secret: /…pwd…, /…pass…, /…secret…, /…key….
    script = SCRIPT + "config change PHONE X /tls-key hidden-1 /ldap-pass hidden-2 /Secret hidden-3 /user shown-4\n"
    devices.call("AddDeviceConfig", domainId=1, type="EXPERT", name="Hot Desking", categoryIds=[category],
                 settings={"script": script})
    state = sim.state()
    assert not [secret for secret in ("base-secret", "hidden-1", "hidden-2", "hidden-3") if secret in json.dumps(state)]
    assert state["devices"]["configs"][0]["settings"]["script"].startswith(
        "config add PHONE SIG /h323 hot-desk-base /gk-pwd ********\n")
    assert "/user shown-4" in state["devices"]["configs"][0]["settings"]["script"]


def test_provisioning_code_validity_and_checks(sim, devices):
    sim.admin(TEMP_USER)
    add_category(devices)
    # pbxsim grants whole seconds from its clock at the request: between these two readings, however slow.
    before = int(time.time())
    code = devices.call("GetProvisioningCode", category="Hotdesking", sip="temp")
    rollout = devices.call("GetProvisioningCode", domainId=1, category="Hotdesking", rollout=True)
    after = int(time.time())
    assert code["code"].isdigit() and before + 900 <= code["validUntil"] <= after + 900
    assert before + 7 * 86400 <= rollout["validUntil"] <= after + 7 * 86400
    assert rollout["code"] != code["code"]
    assert devices.call("GetProvisioningCode", category="Nope")["error"] == "no category 'Nope' in domain 1"
    assert devices.call("GetProvisioningCode", category="Hotdesking", sip="nobody")["error"] == "no PBX user nobody"
    assert devices.call("GetProvisionedDevice", code=code["code"]) == {
        "mt": "GetProvisionedDeviceResult", "code": code["code"], "src": "r8"}
    assert devices.call("GetProvisionedDevice", code="0")["error"] == "unknown provisioning code 0"
    sim.admin('<add><user cn="Number only" e164="555" pwd="x"/></add>')
    assert devices.call("GetProvisioningCode", category="Hotdesking", sip="555")["error"] == "PBX user 555 has no name"


def test_provisioning_makes_a_device_and_tells_the_requester(sim, devices):
    sim.admin(TEMP_USER)
    add_category(devices)
    code = devices.call("GetProvisioningCode", category="Hotdesking", sip="temp")["code"]
    with login(sim.devices_url, sim.devices_domain) as bystander:
        sim.control("POST", "phones", {"hw_id": "009033000001", "code": code, "address": "127.0.0.1"})
        event = devices.receive(lambda m: m["mt"] == "DeviceProvisioned")
        assert event["code"] == code and event["src"] == "r4"
        device = event["device"]
        assert (device["hwId"], device["domainId"], device["type"], device["online"]) == (
            "009033000001", 1, "PHONE", True)
        assert devices.call("GetProvisionedDevice", code=code)["device"] == device
        assert bystander.listing("GetDevices", "devices", recvUpdates=False, domainIds="1") == [device]
        assert not [m for m in bystander.pending if m["mt"] == "DeviceProvisioned"]
    temp = sim.admin('<show><user h323="temp" config="true"/></show>').find("user")
    assert [d.get("hw") for d in temp.findall("device")] == ["009033000001"]
    again = sim.control("POST", "phones", {"hw_id": "009033000002", "code": code, "address": "127.0.0.1"},
                        expect=409)
    assert again == {"error": "provisioning code already used"}
    unknown = sim.control("POST", "phones", {"hw_id": "009033000002", "code": "123", "address": "127.0.0.1"},
                          expect=409)
    assert unknown == {"error": "unknown provisioning code"}


def test_a_hw_id_of_another_user_is_refused_and_the_code_stays_valid(sim, devices):
    sim.admin(TEMP_USER)
    sim.admin('<add><user cn="Alice" h323="alice" e164="201" pwd="a"><device hw="009033000009"/></user></add>')
    add_category(devices)
    code = devices.call("GetProvisioningCode", category="Hotdesking", sip="temp")["code"]
    refused = sim.control("POST", "phones", {"hw_id": "009033000009", "code": code, "address": "127.0.0.1"},
                          expect=409)
    assert refused["error"].startswith("PBX refused hardware id 009033000009 on temp")
    assert "device" not in devices.call("GetProvisionedDevice", code=code)
    sim.control("POST", "phones", {"hw_id": "009033000010", "code": code, "address": "127.0.0.1"})


def test_devices_state_persists_and_codes_expire(pbxsim, tmp_path):
    state_file = tmp_path / "state.json"
    sim = pbxsim("--state", str(state_file))
    sim.admin(TEMP_USER)
    with login(sim.devices_url, sim.devices_domain) as client:
        category = add_category(client)
        client.call("AddDeviceConfig", domainId=1, type="EXPERT", name="Hot Desking", categoryIds=[category],
                    settings={"script": SCRIPT})
        fresh = client.call("GetProvisioningCode", category="Hotdesking", sip="temp")["code"]
        stale = client.call("GetProvisioningCode", category="Hotdesking", sip="temp")["code"]
    sim.stop()
    state = json.loads(state_file.read_text())
    for code in state["devices"]["codes"]:
        if code["code"] == stale:
            code["validUntil"] = int(time.time()) - 1
    state_file.write_text(json.dumps(state))
    sim.start()
    with login(sim.devices_url, sim.devices_domain) as client:
        assert [c["name"] for c in categories(client)] == ["Hotdesking"]
        assert configs(client)[0]["settings"] == {"script": SCRIPT}
        assert client.call("AddCategory", domainId=1, name="Hotdesking", config=True)["error"]
        new_id = add_category(client, "Second")
        assert new_id > category
    expired = sim.control("POST", "phones", {"hw_id": "009033000001", "code": stale, "address": "127.0.0.1"},
                          expect=409)
    assert expired == {"error": "provisioning code expired"}
    assert sim.control("POST", "phones", {"hw_id": "009033000001", "code": fresh, "address": "127.0.0.1"})
