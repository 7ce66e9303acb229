# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Devices app: categories, device configurations (the SDK's object), paging, events, devices,
provisioning codes and persistence."""

import json
import time

import pytest

from pbxsim import appws, devices as D
from pbxsim.wire_names import DEVICES_APP

from .conftest import DEVICES_PASSWORD

TEMP_USER = '<add><user cn="temp" h323="temp" e164="#20" pwd="temp-secret"/></add>'
SCRIPT = "config add PHONE SIG /h323 hot-desk-base /gk-pwd base-secret\nconfig write\nconfig activate\n"
LONG_SCRIPT = "".join("config add PHONE LINE%d /flag value-%03d\n" % (n, n) for n in range(40))   # ~1.3 kB
DEVICE_FIELDS = {"id", "hwId", "domainId", "product", "version", "type", "pbxActive", "online",
                 "hasLeaseLicenses", "other", "ethIfs"}


def login(url, domain=""):
    client = appws.AppClient(url)
    assert client.login(DEVICES_APP, domain, DEVICES_PASSWORD)["ok"]
    return client


@pytest.fixture
def devices(sim):
    """An admin session on the shared pbxsim's Devices app."""
    with login(sim.devices_url, sim.devices_domain) as client:
        yield client


def categories(client, **fields):
    return client.listing("GetProvisioningCategories", "categories", **fields)


def configs(client):
    return client.listing("GetDeviceConfigs", "configs", domainId=1)


def add_category(client, name="Hotdesking"):
    return client.call("AddCategory", domainId=1, name=name, config=True)["id"]


def add_config(client, **fields):
    answer = client.call("AddDeviceConfig", **{"domainId": 1, "categories": [], **fields})
    assert "error" not in answer, answer
    return answer["id"]


def test_lists_come_in_pages_until_last(devices):
    ids = [add_category(devices, "Category %d" % number) for number in range(5)]
    pages = devices.answers("GetProvisioningCategories")
    assert [len(page["categories"]) for page in pages] == [2, 2, 1]
    assert [page["last"] for page in pages] == [False, False, True]
    assert [c["id"] for page in pages for c in page["categories"]] == ids
    assert pages[0]["categories"][0] == {"id": ids[0], "domainId": 1, "name": "Category 0", "config": True}
    domains = devices.answers("GetDomains", recvUpdates=False)
    assert domains[-1]["last"] and len(domains[0]["domains"][0]["categories"]) == 5
    assert set(domains[0]["domains"][0]) == {
        "id", "name", "hasRentalProducts", "deployAdminPasswords", "isInstanceDomain", "categories"}


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
    config = add_config(devices, type="PHONE", desc="Phone", categories=[first, second], gk1="127.0.0.1")
    assert "error" not in devices.call("DeleteCategory", id=first)
    assert devices.call("DeleteCategory", id=first)["error"] == "category %d not found" % first
    assert [c["name"] for c in categories(devices)] == ["Renamed"]
    assert [c["categories"] for c in configs(devices) if c["id"] == config] == [
        [{"id": second, "name": "Renamed", "config": False}]]


GOOD_PHONE = {"domainId": 1, "type": "PHONE", "desc": "Phone", "gkId": "pbx1", "gk1": "127.0.0.1"}


@pytest.mark.parametrize("request_fields, error", [
    ({"type": "SIP"}, "type must be one of ALARM_SERVER | EXPERT | FXS_PHONE | MEDIA | NTP | PHONE | TLS_PROFILE"),
    ({"type": None}, "type must be one of ALARM_SERVER | EXPERT | FXS_PHONE | MEDIA | NTP | PHONE | TLS_PROFILE"),
    ({"name": "Phone"}, "PHONE configurations have no field name"),                  # the old shape
    ({"categoryIds": []}, "PHONE configurations have no field categoryIds"),
    ({"settings": {"gk1": "x"}}, "PHONE configurations have no field settings"),
    ({"primaryGk": "127.0.0.1"}, "PHONE configurations have no field primaryGk"),
    ({"categories": [12345]}, "no category 12345 in domain 1"),
    ({"categories": "1"}, "categories must be a list of category objects or ids"),
    ({"categories": [True]}, "categories must be a list of category objects or ids"),
    ({"categories": [{"name": "Hotdesking"}]}, "categories must be a list of category objects or ids"),
    ({"desc": 5}, "desc must be a string"),
    ({"gk1": 1}, "gk1 must be a string"),
    ({"coder": "G729"}, "coder must be one of G711A | G711u | G722 | OPUS-NB | OPUS-WB"),
    ({"frameSize": 10}, "frameSize must be a number from 20 to 80"),
    ({"frameSize": 81}, "frameSize must be a number from 20 to 80"),
    ({"frameSize": "20"}, "frameSize must be a number from 20 to 80"),
    ({"frameSize": True}, "frameSize must be a number from 20 to 80"),
    ({"dialTone": 27}, "dialTone must be a number from 0 to 26"),
    ({"exclusive": "yes"}, "exclusive must be true or false"),
    ({"srtpKey": 2}, "srtpKey must be a string holding a number from 0 to 4"),
    ({"srtpKey": "5"}, "srtpKey must be a string holding a number from 0 to 4"),
    ({"srtpCipher": "six"}, "srtpCipher must be a string holding a number from 0 to 5"),
    ({"fax": True}, "PHONE configurations have no field fax"),                       # just FXS_PHONE
    ({"type": "FXS_PHONE", "audioOnly": True}, "FXS_PHONE configurations have no field audioOnly"),   # just PHONE
    ({"type": "FXS_PHONE", "protectCfg": True}, "FXS_PHONE configurations have no field protectCfg"),
    ({"type": "EXPERT", "gkId": None, "gk1": None}, "EXPERT configurations need script"),
    ({"type": "EXPERT", "gkId": None, "gk1": None, "script": ""}, "EXPERT configurations need script"),
    ({"type": "EXPERT", "script": "x"}, "EXPERT configurations have no field gk1, gkId"),
    ({"type": "TLS_PROFILE", "gkId": None, "gk1": None}, "TLS_PROFILE configurations need profile"),
    ({"type": "TLS_PROFILE", "gkId": None, "gk1": None, "profile": "paranoid"},
     "profile must be one of normal | fast | secure | strict"),
    ({"type": "NTP", "gkId": None, "gk1": None, "ntp1": True}, "ntp1 must be a string"),
    ({"type": "MEDIA", "gkId": None, "gk1": None, "tosRtp": "0x100"},
     "tosRtp must be a string holding a hex value from 0x00 to 0xff"),
    ({"type": "MEDIA", "gkId": None, "gk1": None, "rtpFirst": 2000}, "rtpFirst must be a number from 2052 to 65534"),
    ({"type": "MEDIA", "gkId": None, "gk1": None, "rtpNum": 100}, "rtpNum must be a number from 128 to 16384"),
    ({"type": "MEDIA", "gkId": None, "gk1": None, "rtpFirst": 10000, "rtpNum": 1000, "natFirst": 10500,
      "natNum": 100}, "the RTP and NAT port ranges overlap"),
    ({"type": "ALARM_SERVER", "gkId": None, "gk1": None, "setLogUrl": "true"}, "setLogUrl must be true or false"),
    ({"domainId": 77}, "no access to domain 77"),
    ({"id": 5}, "id is given by Devices, not by AddDeviceConfig"),
])
def test_add_device_config_validates_and_changes_nothing(devices, request_fields, error):
    category = add_category(devices)
    good = {**GOOD_PHONE, "categories": [category]}
    answer = devices.call("AddDeviceConfig", **{key: value for key, value in {**good, **request_fields}.items()
                                                if value is not None or key not in ("gkId", "gk1")})
    assert answer["error"] == error
    assert not configs(devices)
    assert "id" in devices.call("AddDeviceConfig", **good)


def test_add_device_config_needs_domain_and_categories(devices):
    assert devices.call("AddDeviceConfig", type="PHONE", categories=[])["error"] == "domainId missing"
    assert devices.call("AddDeviceConfig", domainId=1, type="PHONE")["error"] == \
        "categories missing (an empty list means all devices)"


EVERY_TYPE = [
    {"type": "ALARM_SERVER", "url": "https://alarm.example.com", "logUrl": "https://log.example.com",
     "logUser": "logger", "logPassword": "0a1b2c", "setLogUrl": True},
    {"type": "EXPERT", "script": SCRIPT},
    {"type": "FXS_PHONE", "gk1": "10.0.0.1", "gk2": "10.0.0.2", "gkId": "pbx1", "coder": "G711A",
     "frameSize": 20, "exclusive": True, "fax": True, "setRecordingUrl": False, "silenceComp": True,
     "noDtmfDetect": False, "noPhysicalLocation": True, "srtpKey": "4", "srtpCipher": "0",
     "recordingUrl": "https://rec", "dialTone": 0},
    {"type": "MEDIA", "stunServer": "stun.example.com", "turnServer": "turn.example.com", "turnUser": "t",
     "turnPassword": "ff00", "tosRtp": "0xb8", "tosSig": "0x68", "setRtpPorts": True, "rtpFirst": 16384,
     "rtpNum": 1024, "setNatPorts": True, "natFirst": 20000, "natNum": 100},
    {"type": "NTP", "ntp1": "0.pool.ntp.org", "ntp2": "1.pool.ntp.org", "tz": "CET-1CEST-2,M3.5.0/2,M10.5.0/3"},
    {"type": "PHONE", "gk1": "10.0.0.1", "gk2": "10.0.0.2", "gkId": "pbx1", "coder": "OPUS-WB", "frameSize": 80,
     "exclusive": False, "audioOnly": True, "noCtHookOn": True, "protectCfg": True, "allowUserCfg": False,
     "hideCompleteCfg": False, "hideAdminCfg": True, "silenceComp": False, "noDtmfDetect": True,
     "noPhysicalLocation": False, "srtpKey": "2", "srtpCipher": "5", "recordingUrl": "https://rec",
     "setRecordingUrl": True, "dialTone": 26},
    {"type": "TLS_PROFILE", "profile": "strict"},
]


@pytest.mark.parametrize("fields", EVERY_TYPE, ids=[fields["type"] for fields in EVERY_TYPE])
def test_every_documented_type_round_trips(devices, fields):
    category = add_category(devices)
    config_id = add_config(devices, desc="All fields", categories=[{"id": category, "name": "Hotdesking"}],
                           **fields)
    common = {"id": config_id, "domainId": 1, "desc": "All fields", "type": fields["type"],
              "categories": [{"id": category, "name": "Hotdesking", "config": True}]}
    assert configs(devices) == [common]                 # GetDeviceConfigs: without configuration values
    assert devices.device_config(config_id) == {**common, **fields}
    final = devices.device_config_messages(config_id)[-1]
    values = {key: value for key, value in fields.items() if key != "type"}
    if fields["type"] == "EXPERT":                      # the script travels only in value messages
        values = {}
    assert final == {"mt": "GetDeviceConfigResult", "config": {**common, **values}, "src": final["src"]}


def test_a_script_is_sent_in_value_messages_to_concatenate(devices):
    config_id = add_config(devices, type="EXPERT", desc="Long", script=LONG_SCRIPT)
    messages = devices.device_config_messages(config_id, domainId=1)
    values, final = messages[:-1], messages[-1]
    assert len(values) == -(-len(LONG_SCRIPT) // D.VALUE_CHUNK) > 2
    assert {(m["mt"], m["name"], m["src"]) for m in values} == {("GetDeviceConfigValueResult", "script", final["src"])}
    assert all(len(m["value"]) <= D.VALUE_CHUNK for m in values)
    assert "".join(m["value"] for m in values) == LONG_SCRIPT
    assert final["config"] == {"id": config_id, "domainId": 1, "desc": "Long", "type": "EXPERT", "categories": []}
    assert devices.device_config(config_id)["script"] == LONG_SCRIPT


def test_get_device_config_of_an_unknown_id_or_another_domain_is_an_error(pbxsim):
    sim = pbxsim("--domain-password", "branch.example.com=branch-secret")
    with login(sim.devices_url) as admin:
        mine = add_config(admin, type="NTP", ntp1="ntp")
        theirs = add_config(admin, domainId=2, type="NTP", ntp1="ntp")
        assert admin.device_config(theirs, domainId=2)["domainId"] == 2
        for config_id, fields in ((theirs, {}), (mine, {"domainId": 2}), (999, {}), ("1", {})):
            answer = admin.device_config_messages(config_id, **fields)
            assert [m["mt"] for m in answer] == ["GetDeviceConfigResult"]
            assert answer[0]["error"] == "device configuration %s not found" % config_id and "config" not in answer[0]
        assert admin.device_config_messages(mine, domainId=3)[0]["error"] == "no access to domain 3"
    with appws.AppClient(sim.devices_url) as branch:
        assert branch.login(DEVICES_APP, "branch.example.com", "branch-secret")["ok"]
        assert branch.device_config(theirs)["id"] == theirs
        assert branch.device_config_messages(mine, domainId=1)[0]["error"] == "no access to domain 1"
        assert [c["id"] for c in branch.listing("GetDeviceConfigs", "configs")] == [theirs]


def test_update_keeps_omitted_fields_and_removes_null_ones(devices):
    first, second = add_category(devices, "First"), add_category(devices, "Second")
    config_id = add_config(devices, type="PHONE", desc="Phone", categories=[first], gk1="10.0.0.1", gk2="10.0.0.2",
                           coder="G722", frameSize=40)
    assert "error" not in devices.call("UpdateDeviceConfig", id=config_id, gk2=None, coder="", frameSize=20,
                                       categories=[{"id": second, "name": "ignored"}, first])
    assert devices.device_config(config_id) == {
        "id": config_id, "domainId": 1, "desc": "Phone", "type": "PHONE",
        "categories": [{"id": first, "name": "First", "config": True}, {"id": second, "name": "Second", "config": True}],
        "gk1": "10.0.0.1", "frameSize": 20}
    assert "error" not in devices.call("UpdateDeviceConfig", id=config_id, desc=None, type="PHONE")
    assert "desc" not in devices.device_config(config_id)
    before = devices.device_config(config_id)
    for fields, error in [
        ({"type": "EXPERT"}, "the type of a device configuration cannot change"),
        ({"frameSize": None, "dialTone": 99}, "dialTone must be a number from 0 to 26"),
        ({"frameSize": ""}, "frameSize must be a number from 20 to 80"),
        ({"name": "x"}, "PHONE configurations have no field name"),
        ({"categories": [999]}, "no category 999 in domain 1"),
        ({"categories": None}, "categories must be a list of category objects or ids"),
    ]:
        assert devices.call("UpdateDeviceConfig", id=config_id, **fields)["error"] == error
    assert devices.device_config(config_id) == before
    assert devices.call("UpdateDeviceConfig", id=999)["error"] == "device configuration 999 not found"
    expert = add_config(devices, type="EXPERT", script=SCRIPT)
    assert devices.call("UpdateDeviceConfig", id=expert, script=None)["error"] == "EXPERT configurations need script"
    assert "error" not in devices.call("DeleteDeviceConfig", id=config_id)
    assert devices.call("DeleteDeviceConfig", id=config_id)["error"] == "device configuration %d not found" % config_id
    assert [c["id"] for c in configs(devices)] == [expert]


def test_config_events_reach_every_subscribed_session(pbxsim):
    sim = pbxsim("--domain-password", "branch.example.com=branch-secret")
    with login(sim.devices_url) as watcher, login(sim.devices_url) as quiet, login(sim.devices_url) as writer, \
            appws.AppClient(sim.devices_url) as branch:
        assert branch.login(DEVICES_APP, "branch.example.com", "branch-secret")["ok"]
        watcher.listing("GetDeviceConfigs", "configs", recvUpdates=True)
        branch.listing("GetDeviceConfigs", "configs", recvUpdates=True)
        quiet.listing("GetDeviceConfigs", "configs")
        category = add_category(writer)
        config_id = add_config(writer, type="EXPERT", desc="Hot Desking", categories=[category], script=SCRIPT)
        writer.call("UpdateDeviceConfig", id=config_id, desc="Renamed")
        writer.call("UpdateCategory", id=category, name="Moved")
        writer.call("DeleteDeviceConfig", id=config_id)
        branch_config = add_config(writer, domainId=2, type="NTP", ntp1="ntp")
        watcher.call("GetUserInfo")       # everything before its answer has arrived
        branch.call("GetUserInfo")
        quiet.call("GetUserInfo")
        writer.call("GetUserInfo")
        shown = {"id": config_id, "domainId": 1, "type": "EXPERT",
                 "categories": [{"id": category, "name": "Hotdesking", "config": True}]}
        events = [m for m in watcher.pending if m["mt"].startswith("DeviceConfig")]
        assert events == [
            {"mt": "DeviceConfigAdded", "config": {**shown, "desc": "Hot Desking"}},
            {"mt": "DeviceConfigEdited", "config": {**shown, "desc": "Renamed"}},
            {"mt": "DeviceConfigEdited", "config": {
                **shown, "desc": "Renamed", "categories": [{"id": category, "name": "Moved", "config": True}]}},
            {"mt": "DeviceConfigDeleted", "id": config_id},
            {"mt": "DeviceConfigAdded", "config": {"id": branch_config, "domainId": 2, "type": "NTP",
                                                   "categories": []}},
        ]
        assert "script" not in json.dumps(events)
        assert [m["mt"] for m in branch.pending] == ["DeviceConfigAdded"]
        assert branch.pending[0]["config"]["id"] == branch_config
        assert quiet.pending == [] and writer.pending == []


def test_domain_events_follow_category_changes(devices):
    devices.listing("GetDomains", "domains", recvUpdates=True)
    category = add_category(devices)
    devices.call("DeleteCategory", id=category)
    devices.call("GetUserInfo")          # events follow the answer of the request that caused them
    edits = [m for m in devices.pending if m["mt"] == "DomainEdited"]
    assert [[c["name"] for c in m["domain"]["categories"]] for m in edits] == [["Hotdesking"], []]


def test_state_hides_the_passwords_inside_scripts(sim, devices):
    category = add_category(devices)
    # Every flag contract 9 counts as secret: /…pwd…, /…pass…, /…secret…, /…key….
    script = SCRIPT + "config change PHONE X /tls-key hidden-1 /ldap-pass hidden-2 /Secret hidden-3 /user shown-4\n"
    add_config(devices, type="EXPERT", desc="Hot Desking", categories=[category], script=script)
    add_config(devices, type="MEDIA", turnServer="turn", turnPassword="hidden-5")
    state = sim.state()
    assert not [secret for secret in ("base-secret", "hidden-1", "hidden-2", "hidden-3", "hidden-5")
                if secret in json.dumps(state)]
    assert state["devices"]["configs"][0]["script"].startswith(
        "config add PHONE SIG /h323 hot-desk-base /gk-pwd ********\n")
    assert "/user shown-4" in state["devices"]["configs"][0]["script"]


def test_provisioning_categories_for_a_device_type(devices):
    phone, analog, expert_only, spare = (add_category(devices, name) for name in ("Phone", "Analog", "Expert", "Spare"))
    add_config(devices, type="PHONE", categories=[phone], gk1="pbx")
    add_config(devices, type="FXS_PHONE", categories=[analog], gk1="pbx")
    add_config(devices, type="EXPERT", categories=[expert_only], script=SCRIPT)
    assert [c["id"] for c in categories(devices, type="PHONE")] == [phone, analog]
    assert [c["id"] for c in categories(devices, type="GW")] == [phone, analog, expert_only, spare]
    assert devices.call("GetProvisioningCategories", type="FAX")["error"] == \
        "type must be one of VA | GW | PHONE | DECT | APP_PLATFORM"
    add_config(devices, type="PHONE", categories=[], gk1="pbx")          # valid for all devices
    assert [c["id"] for c in categories(devices, type="PHONE")] == [phone, analog, expert_only, spare]


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


def provision(sim, client, hw_id, category="Hotdesking", address="127.0.0.1"):
    code = client.call("GetProvisioningCode", category=category, sip="temp")["code"]
    return sim.control("POST", "phones", {"hw_id": hw_id, "code": code, "address": address})


def test_provisioning_makes_a_device_and_tells_the_requester(sim, devices):
    sim.admin(TEMP_USER)
    add_category(devices)
    code = devices.call("GetProvisioningCode", category="Hotdesking", sip="temp")["code"]
    key = devices.call("GetUserInfo")["key"]
    with login(sim.devices_url, sim.devices_domain) as bystander:
        sim.control("POST", "phones", {"hw_id": "009033000001", "code": code, "address": "127.0.0.1"})
        event = devices.receive(lambda m: m["mt"] == "DeviceProvisioned")
        assert event["code"] == code and event["src"] == "r4"
        device = event["device"]
        assert device == {
            "id": device["id"], "hwId": "009033000001", "domainId": 1, "product": "IP232",
            "version": device["version"], "type": "PHONE", "pbxActive": False, "online": True,
            "hasLeaseLicenses": False, "other": False, "ethIfs": [{"if": "ETH0", "ipv4": "127.0.0.1"}],
            "uri": sim.url + "/%s/devices/passthrough/009033000001/%s/" % (sim.devices_domain, key)}
        assert devices.call("GetProvisionedDevice", code=code)["device"] == device
        listed = bystander.listing("GetDevices", "devices", recvUpdates=False, domainIds="1")
        assert listed == [{k: v for k, v in device.items() if k != "uri"}]     # "not in GetDevicesResult"
        assert set(listed[0]) == DEVICE_FIELDS
        assert not [m for m in bystander.pending if m["mt"] == "DeviceProvisioned"]
    temp = sim.admin('<show><user h323="temp" config="true"/></show>').find("user")
    assert [d.get("hw") for d in temp.findall("device")] == ["009033000001"]
    again = sim.control("POST", "phones", {"hw_id": "009033000002", "code": code, "address": "127.0.0.1"},
                        expect=409)
    assert again == {"error": "provisioning code already used"}
    unknown = sim.control("POST", "phones", {"hw_id": "009033000002", "code": "123", "address": "127.0.0.1"},
                          expect=409)
    assert unknown == {"error": "unknown provisioning code"}


def test_get_devices_filters(pbxsim):
    sim = pbxsim("--domain-password", "branch.example.com=branch-secret")
    sim.admin(TEMP_USER)
    with login(sim.devices_url) as admin:
        add_category(admin, "Desk")
        add_category(admin, "Lobby")
        assert admin.call("AddCategory", domainId=2, name="Desk", config=True)["id"]
        desk = provision(sim, admin, "009033000001", "Desk")["device_id"]
        lobby = provision(sim, admin, "009033000002", "Lobby")["device_id"]
        code = admin.call("GetProvisioningCode", domainId=2, category="Desk")["code"]
        branch = sim.control("POST", "phones", {"hw_id": "009033000003", "code": code, "address": "::1"})["device_id"]

        def ids(**fields):
            return [d["id"] for d in admin.listing("GetDevices", "devices", **fields)]

        assert ids() == [desk, lobby, branch]                      # nothing set: all devices
        assert ids(domainIds="1") == [desk, lobby]
        assert ids(domainIds="2, 1") == [desk, lobby, branch]
        assert ids(categories="Desk") == [desk, branch]
        assert ids(categories="Desk", domainIds="1") == [desk]
        assert ids(categories="Lobby,Nope") == [lobby]
        assert ids(categories="", subcategories="", domainIds="") == [desk, lobby, branch]   # "" = not set
        assert ids(subcategories="Desk") == []                     # pbxsim's devices have no subcategories
        assert ids(unassigned=True) == []                          # "just unassigned": pbxsim has none
        assert ids(unassigned=True, domainIds="2") == [branch]
        assert admin.call("GetDevices", domainIds="1,x")["error"] == "domainIds must be a comma separated list of ids"
        assert admin.call("GetDevices", domainIds="7")["error"] == "no access to domain 7"
        assert admin.listing("GetDevices", "devices", domainIds="2")[0]["ethIfs"] == [{"if": "ETH0", "ipv6": "::1"}]
    with appws.AppClient(sim.devices_url) as client:
        assert client.login(DEVICES_APP, "branch.example.com", "branch-secret")["ok"]
        assert [d["id"] for d in client.listing("GetDevices", "devices")] == [branch]
        assert client.call("GetDevices", domainIds="1")["error"] == "no access to domain 1"


def test_get_filtered_devices(sim, devices):
    sim.admin(TEMP_USER)
    add_category(devices)
    first = provision(sim, devices, "009033000001")["device_id"]
    second = provision(sim, devices, "009033000002")["device_id"]

    def ids(**fields):
        return [d["id"] for d in devices.listing("GetFilteredDevices", "devices", **fields)]

    assert ids() == [first, second]
    assert ids(domainId=1, types=["PHONE", "GW"]) == [first, second]
    assert ids(types=["DECT"]) == []
    assert ids(types=[]) == [first, second]
    assert ids(hwIds="009033000002,0090330000FF") == [second]
    assert ids(hwIds="009033000001", types=["PHONE"]) == [first]
    assert ids(justFxs=True) == []                 # pbxsim's phones have no FXS interface
    assert ids(justFxs=False) == [first, second]
    assert devices.call("GetFilteredDevices", types="PHONE")["error"] == \
        "types must be a list of VA | GW | PHONE | DECT | APP_PLATFORM"
    assert devices.call("GetFilteredDevices", justFxs="yes")["error"] == "justFxs must be true or false"
    assert devices.call("GetFilteredDevices", domainId=9)["error"] == "no access to domain 9"
    assert [(len(page["devices"]), page["last"]) for page in devices.answers("GetFilteredDevices")] == [(2, True)]


def test_device_events_on_provisioning_and_online_changes(sim, devices):
    sim.admin(TEMP_USER)
    add_category(devices, "Desk")
    add_category(devices, "Lobby")
    with login(sim.devices_url) as lobby_watcher:
        assert lobby_watcher.listing("GetDevices", "devices", recvUpdates=True, categories="Lobby") == []
        devices.listing("GetDevices", "devices", recvUpdates=True)
        phone = provision(sim, devices, "009033000001", "Desk")
        sim.control("POST", "phones/009033000001/offline")
        sim.control("POST", "phones/009033000001/offline")     # no change, no event
        sim.control("POST", "phones/009033000001/online")
        provision(sim, devices, "009033000001", "Desk")          # provisioned again: the same device
        provision(sim, devices, "009033000002", "Lobby")
        devices.call("GetUserInfo")
        lobby_watcher.call("GetUserInfo")
        events = [(m["mt"], m["device"]["hwId"], m["device"]["online"]) for m in devices.pending
                  if m["mt"].startswith("Device") and m["mt"] != "DeviceProvisioned"]
        assert events == [("DeviceAdded", "009033000001", True), ("DeviceUpdate", "009033000001", False),
                          ("DeviceUpdate", "009033000001", True), ("DeviceUpdate", "009033000001", True),
                          ("DeviceAdded", "009033000002", True)]
        assert all(set(m["device"]) == DEVICE_FIELDS for m in devices.pending if "device" in m
                   and m["mt"] != "DeviceProvisioned")
        assert [(m["mt"], m["device"]["hwId"]) for m in lobby_watcher.pending] == [("DeviceAdded", "009033000002")]
    assert devices.listing("GetDevices", "devices")[0]["id"] == phone["device_id"]


def test_offline_phone_shows_in_its_device_object(sim, devices):
    sim.admin(TEMP_USER)
    add_category(devices)
    provision(sim, devices, "009033000001")
    phone = sim.control("POST", "phones/009033000001/offline")
    assert phone["online"] is False
    assert [d["online"] for d in devices.listing("GetDevices", "devices")] == [False]
    assert sim.control("POST", "phones/009033000001/online")["online"] is True
    assert [d["online"] for d in devices.listing("GetFilteredDevices", "devices")] == [True]
    assert sim.control("POST", "phones/nope/offline", expect=409) == {"error": "no phone nope"}


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
        config_id = add_config(client, type="EXPERT", desc="Hot Desking", categories=[category], script=SCRIPT)
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
        assert client.device_config(config_id)["script"] == SCRIPT
        assert client.call("AddCategory", domainId=1, name="Hotdesking", config=True)["error"]
        new_id = add_category(client, "Second")
        assert new_id > category
    expired = sim.control("POST", "phones", {"hw_id": "009033000001", "code": stale, "address": "127.0.0.1"},
                          expect=409)
    assert expired == {"error": "provisioning code expired"}
    assert sim.control("POST", "phones", {"hw_id": "009033000001", "code": fresh, "address": "127.0.0.1"})
