# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PBX's AppWebsocket at /PBX0/APPS/websocket: App objects and their login (reference 3 and 6.1) and every
PbxAdminApi operation of reference 6.2, against pbxsim as a server, each change checked through SOAP too."""

import hashlib
import json
import re
import xml.etree.ElementTree as ET

import pytest
import websocket

from pbxsim import appws, crypto

from .conftest import PBX_PASSWORD, closed_by_server
from .test_phones import Site

APP_NAME = "pbxadminapi"
APP_PASSWORD = "pbxsim-app"
ADMIN_API = "PbxAdminApi"


def connect(sim, name=APP_NAME, password=APP_PASSWORD, **login):
    """An AppClient logged in as an App object."""
    client = appws.AppClient(sim.ready["apps_url"], sslopt={"ca_certs": sim.ca} if sim.ca else None)
    answer = client.login(name, "", password, **login)
    assert answer["ok"] is True, answer
    return client


def call(client, mt, **fields):
    """One PbxAdminApi request; its answer without `src` (api and src checked)."""
    answer = client.call(mt, api=ADMIN_API, **fields)
    assert answer["api"] == ADMIN_API and answer["mt"] == mt + "Result" and answer.pop("src").startswith("r")
    return answer


def show(sim, cn):
    """The object as SOAP shows it: its attributes and children, or None."""
    found = sim.admin('<show><user cn="%s" config="true"/></show>' % cn).findall("user")
    return found[0] if found else None


@pytest.fixture
def client(sim):
    with connect(sim) as app:
        yield app


# --- login and grants -------------------------------------------------------------------------------
def test_the_reference_login_vectors():
    vectors = {None: "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1",
               "{}": "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34",
               '{"cn":"Test User"}': "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"}
    for info, digest in vectors.items():
        assert appws.login_digest("pbxadminapi", "", "", "", "", "0123456789abcdef", "pwd",
                                  None if info is None else json.loads(info)) == digest


def test_app_objects_log_in_with_their_password_and_only_with_it(sim):
    sim.control("POST", "apps", {"name": "automation", "password": "pwd", "grants": ["Admin"]})
    with connect(sim, "automation", "pwd", info={"cn": "Test User"}) as app:
        assert call(app, "GetPbxConfig") == {"api": ADMIN_API, "mt": "GetPbxConfigResult", "loc": "pbx1"}
    with appws.AppClient(sim.ready["apps_url"]) as app:
        assert app.call("GetObject", api=ADMIN_API, cn="x")["error"] == "not logged in"
        assert app.login("automation", "", "wrong")["ok"] is False
        assert app.login("nobody", "", "pwd")["ok"] is False
        assert app.login(APP_NAME, "any.domain", APP_PASSWORD)["ok"] is True     # the domain does not matter
    apps = sim.control("GET", "apps")
    assert {app["name"]: app["grants"] for app in apps} == {
        APP_NAME: ["Admin", "TableUsers"], "automation": ["Admin"]}
    assert {app["password"] for app in apps} == {"********"}


def test_a_message_to_an_api_the_app_object_is_not_granted_gets_an_error(sim):
    sim.control("POST", "apps", {"name": "tables-only", "password": "t", "grants": ["TableUsers"]})
    sim.control("POST", "apps", {"name": "admin-only", "password": "a", "grants": ["Admin"]})
    with connect(sim, "tables-only", "t") as app:
        assert app.call("GetConfigs", api=ADMIN_API)["error"] == \
            "App object tables-only is not enabled for PbxAdminApi"
        assert "error" not in app.call("ReplicateStart", api="PbxTableUsers", columns={"cn": {}})
    with connect(sim, "admin-only", "a") as app:
        assert app.call("ReplicateStart", api="PbxTableUsers")["error"] == \
            "App object admin-only is not enabled for PbxTableUsers"
        assert call(app, "GetConfigs") == {"api": ADMIN_API, "mt": "GetConfigsResult", "configs": []}
    sim.control("DELETE", "apps/admin-only")
    with appws.AppClient(sim.ready["apps_url"]) as app:
        assert app.login("admin-only", "", "a")["ok"] is False


def test_unknown_operations_and_bad_messages_are_answered_with_an_error_and_the_connection_stays(client):
    assert call(client, "Frobnicate")["error"] == "unknown message type Frobnicate"
    assert client.call("GetConfigs", api="NoSuchApi")["error"] == "unknown api NoSuchApi"
    client.send("not json")
    assert client.receive(lambda m: m.get("mt") == "Result") == {"mt": "Result", "error": "message is not JSON"}
    assert call(client, "GetPbxConfig")["loc"] == "pbx1"


def test_an_independent_client_as_innovaphones_php_sample_speaks(sim):
    """Plain websocket and JSON: log in as the App object, GetObject by h323, resend the answer as UpdateObject
    without guid (a clone is created), as innovaphone's websocketphp8 pbxadminapi.php does."""
    assert sim.admin('<add><user cn="Sample App" h323="sample-app" e164="77"><pseudo type="app"/></user></add>'
                     ).tag == "ok"
    ws = websocket.create_connection(sim.ready["apps_url"], timeout=10)
    try:
        ws.send(json.dumps({"mt": "AppChallenge"}))
        challenge = json.loads(ws.recv())["challenge"]
        text = ":".join([APP_NAME, "", "", "", "", challenge, APP_PASSWORD])
        ws.send(json.dumps({"mt": "AppLogin", "app": APP_NAME, "domain": "", "sip": "", "guid": "", "dn": "",
                            "digest": hashlib.sha256(text.encode()).hexdigest()}))
        assert json.loads(ws.recv()) == {"mt": "AppLoginResult", "ok": True}
        ws.send(json.dumps({"mt": "GetObject", "api": "PbxAdminApi", "h323": "sample-app"}))
        found = json.loads(ws.recv())
        assert (found["mt"], found["cn"], found["pseudo"]) == ("GetObjectResult", "Sample App", {"type": "app"})
        clone = dict(found, mt="UpdateObject", h323="sample-app-clone", cn="Sample App (clone)", e164="78")
        del clone["guid"]
        ws.send(json.dumps(clone))
        created = json.loads(ws.recv())
        assert created["mt"] == "UpdateObjectResult" and created["guid"] != found["guid"]
    finally:
        ws.close()
    assert show(sim, "Sample App (clone)").get("guid") == created["guid"]


# --- GetObject, UpdateObject, DeleteObject ------------------------------------------------------------
def test_update_object_creates_without_guid_or_with_an_empty_one(sim, client):
    first = call(client, "UpdateObject", cn="Alice", h323="alice", e164="201", pwd="alice-pw", hide=True,
                 devices=[{"hw": "alice", "text": "Hotdesking", "app": "phone", "trusted": True}])
    second = call(client, "UpdateObject", guid="", cn="Bob", h323="bob")
    alice = show(sim, "Alice")
    assert alice.get("guid") == first["guid"] and show(sim, "Bob").get("guid") == second["guid"]
    assert (alice.get("h323"), alice.get("hide")) == ("alice", "true")
    assert alice.find("device").attrib == {"hw": "alice", "text": "Hotdesking", "app": "phone", "trusted": "true"}
    # pwd is the clear-text password: SOAP's pwdx decrypts to it with the PBX key
    key = bytes.fromhex(sim.admin('<show><user cn="_ADMIN_"/></show>').find("user").get("key"))
    pbx_key = crypto.rc4(crypto.pad(PBX_PASSWORD, crypto.ADMIN_KEY_PAD), key)
    assert crypto.password_from_pwdx(pbx_key, alice.get("pwdx")) == "alice-pw"
    got = call(client, "GetObject", guid=first["guid"])
    assert got["pwd"] == alice.get("pwdx")
    assert call(client, "UpdateObject", cn="Alice 2", h323="alice")["error"] == "h323 alice already used by Alice"
    assert sim.control("GET", "stats")["clear_passwords"] == 1, "a clear pwd arriving is counted, as on SOAP"


def test_update_object_star_updates_by_cn_and_leaves_absent_properties(sim, client):
    guid = call(client, "UpdateObject", cn="Alice", h323="alice", dn="Alice", e164="201", filter="intern")["guid"]
    assert call(client, "UpdateObject", guid="*", cn="Alice", dn="Alice A.") == {
        "api": ADMIN_API, "mt": "UpdateObjectResult", "guid": guid}
    alice = show(sim, "Alice")
    assert (alice.get("dn"), alice.get("h323"), alice.get("e164"), alice.get("filter")) == (
        "Alice A.", "alice", "201", "intern")
    assert call(client, "UpdateObject", guid="*", cn="Nobody", dn="x")["error"] == "no object with cn Nobody"
    assert show(sim, "Nobody") is None
    assert call(client, "UpdateObject", guid=guid, e164="202")["guid"] == guid
    assert show(sim, "Alice").get("e164") == "202"
    assert call(client, "UpdateObject", guid="0" * 32, dn="x")["error"] == "no object with guid " + "0" * 32


def test_update_object_question_mark_finds_by_cn_or_creates_so_a_resend_never_duplicates(sim, client):
    request = {"guid": "?", "cn": "Hot Desk Base", "h323": "hot-desk-base", "e164": "#10", "hide": True}
    guid = call(client, "UpdateObject", **request)["guid"]
    assert call(client, "UpdateObject", **request)["guid"] == guid
    assert len(sim.admin('<show><user cn="Hot Desk Base"/></show>').findall("user")) == 1
    assert len(sim.state()["pbx"]["objects"]) == 1


def test_a_boolean_sent_as_an_integer_deletes_the_setting_and_the_template_counts_again(sim, client):
    call(client, "UpdateObject", **{"cn": "Hotdesking", "hide": True, "pseudo": {"type": "config"},
                                    "phone-config": True})
    call(client, "UpdateObject", cn="Alice", h323="alice", config="Hotdesking", hide=False)
    assert show(sim, "Alice").get("hide") is None
    call(client, "UpdateObject", guid="*", cn="Alice", hide=True)
    assert show(sim, "Alice").get("hide") == "true"
    call(client, "UpdateObject", guid="*", cn="Alice", hide=-1)
    assert show(sim, "Alice").get("hide") is None
    without = call(client, "GetObject", cn="Alice")
    assert "hide" not in without and "phone-config" not in without
    inherited = call(client, "GetObject", cn="Alice", template="with")
    assert (inherited["hide"], inherited["phone-config"], inherited["cn"]) == (True, True, "Alice")
    assert call(client, "GetObject", cn="Alice", template="maybe")["error"] == 'template must be "with" or "without"'
    template = call(client, "GetObject", cn="Hotdesking")
    assert (template["pseudo"], template["phone-config"]) == ({"type": "config"}, True)


def test_get_object_by_guid_cn_or_h323_with_chosen_properties(client):
    guid = call(client, "UpdateObject", cn="Alice", h323="alice", e164="201", dn="Alice")["guid"]
    for selector in ({"guid": guid}, {"cn": "alice"}, {"h323": "ALICE"}):
        assert call(client, "GetObject", **selector)["guid"] == guid
    assert call(client, "GetObject", cn="Alice", properties=["e164", "dn"]) == {
        "api": ADMIN_API, "mt": "GetObjectResult", "guid": guid, "e164": "201", "dn": "Alice"}
    assert call(client, "GetObject", cn="Nobody")["error"] == "no object with cn Nobody"
    assert call(client, "GetObject")["error"] == "one of guid, cn, h323 is required"


def test_copy_pwd_copies_another_objects_password_but_not_onto_a_user(sim, client):
    call(client, "UpdateObject", cn="Source", h323="source", pwd="shared-secret")
    call(client, "UpdateObject", cn="App", h323="app", pseudo={"type": "app"}, copyPwd="source")
    assert show(sim, "App").get("pwdx") == show(sim, "Source").get("pwdx")
    assert call(client, "UpdateObject", cn="User", h323="user", copyPwd="source")["error"] == \
        "copyPwd cannot be used for an object of type user"
    assert show(sim, "User") is None


def test_delete_object_by_guid(sim, client):
    guid = call(client, "UpdateObject", cn="Alice", h323="alice")["guid"]
    assert call(client, "DeleteObject", guid=guid) == {"api": ADMIN_API, "mt": "DeleteObjectResult"}
    assert show(sim, "Alice") is None
    assert call(client, "DeleteObject", guid=guid)["error"] == "no object with guid " + guid
    assert call(client, "DeleteObject", cn="Alice")["error"] == "one of guid is required"


def test_a_write_through_soap_or_the_api_is_seen_by_the_other_and_the_bulk_read(sim, client):
    assert sim.admin('<add><user cn="Alice" h323="alice" e164="201"/></add>').tag == "ok"
    assert call(client, "GetObject", cn="Alice")["e164"] == "201"
    call(client, "UpdateObject", guid="*", cn="Alice", e164="301")
    bulk = ET.fromstring(sim.get("/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*").content)
    assert [user.get("e164") for user in bulk.iter("user")] == ["301"]
    assert sim.control("GET", "stats")["interfaces"]["pbxapi"] == {"reads": 3, "writes": 1}


# --- lists --------------------------------------------------------------------------------------------
def add_templates(sim, count):
    names = ["T%02d" % number for number in range(count)]
    assert sim.admin("<add>%s</add>" % "".join('<user cn="%s"><pseudo type="config"/></user>' % name
                                               for name in names)).tag == "ok"
    return names


def test_get_config_objects_pages_by_more_with_at_most_50(sim, client):
    names = add_templates(sim, 55)
    assert sim.admin('<modify><user cn="T54" config="T00,T01"><pseudo type="config"/></user></modify>').tag == "ok"
    first = call(client, "GetConfigObjects", limit=500)
    assert [obj["cn"] for obj in first["objects"]] == names[:50] and first["more"] == "T49"
    rest = call(client, "GetConfigObjects", more=first["more"])
    assert rest["objects"][-1] == {"cn": "T54", "config": ["T00", "T01"]} and "more" not in rest
    pages, more = [], None
    while True:
        page = call(client, "GetConfigObjects", limit=20, **({"more": more} if more else {}))
        pages.append([obj["cn"] for obj in page["objects"]])
        more = page.get("more")
        if more is None:
            break
    assert [len(page) for page in pages] == [20, 20, 15] and sum(pages, []) == names
    assert call(client, "GetConfigs")["configs"] == names
    assert call(client, "GetConfigObjects", limit=0)["error"] == "limit must be a number from 1"


def test_search_users_pages_20_at_a_time_from_a_cn(sim, client):
    assert sim.admin("<add>%s</add>" % "".join('<user cn="User %02d" h323="u%02d" dn="D%02d" email="u%02d@x"/>'
                                               % ((n,) * 4) for n in range(25))).tag == "ok"
    add_templates(sim, 2)
    assert sim.admin('<add><user cn="User 99 Boss" h323="boss"><pseudo type="executive"/></user></add>').tag == "ok"
    first = call(client, "SearchUsers", cn="")["user"]
    assert len(first) == 20 and first[0] == {"cn": "User 00", "dn": "D00", "guid": show(sim, "User 00").get("guid"),
                                             "h323": "u00", "emails": [{"email": "u00@x"}]}
    second = call(client, "SearchUsers", cn=first[-1]["cn"])["user"]
    assert [user["cn"] for user in second] == ["User %02d" % n for n in range(20, 25)] + ["User 99 Boss"]
    assert [user["cn"] for user in call(client, "SearchUsers", cn="user 20", includeMatch=True, limit=2)["user"]] \
        == ["User 20", "User 21"]
    assert call(client, "SearchUsers", cn="User 99 Boss")["user"] == []


def test_get_regs_lists_registrations_and_a_hot_desk_login_has_the_users_name_as_hw(sim, client):
    site = Site(sim)
    site.phone_config()
    site.expert_config()
    site.provision()
    assert site.hotdesk("alice", "alice-pw")["ok"] is True
    assert call(client, "GetRegs", cn="Alice") == {
        "api": ADMIN_API, "mt": "GetRegsResult", "cn": "Alice", "regs": [{"hw": "alice", "addr": "127.0.0.1"}]}
    base = call(client, "GetRegs", guid=show(sim, "Hot Desk Base").get("guid"))
    assert base["regs"] == [{"hw": "009033aabbcc", "addr": "127.0.0.1"}]
    assert call(client, "GetRegs", cn="Bob")["regs"] == []
    lic = call(client, "GetPbxLicenses")["lic"]
    assert lic == [{"name": "Port", "count": "20", "local": "20", "slaves": "0", "used": "2", "version": "13"}]
    site.sim.control("POST", "phones/009033aabbcc/logout")
    assert call(client, "GetRegs", cn="Alice")["regs"] == []
    assert call(client, "GetPbxLicenses")["lic"][0]["used"] == "1"
    site.devices.close()


def test_filters_licenses_and_reverse_proxies_as_configured(sim, client):
    assert call(client, "GetFilters")["filter"] == ["intern", "normal", "international"]
    assert sim.get("/!config%20add%20PBX0%20FILTER%20/name%20hotdesk").text == "ok"
    assert sim.get("/!config%20activate").text == "ok"
    assert call(client, "GetFilters")["filter"][-1] == "hotdesk"
    assert sim.control("POST", "licenses", {"port": 3}) == {"port": 3, "used": 0}
    assert call(client, "GetPbxLicenses")["lic"][0]["count"] == "3"
    sim.control("POST", "licenses", {"port": None})
    assert "lic" not in call(client, "GetPbxLicenses")          # no licenses: the PBX's test mode
    sim.control("POST", "licenses", {"port": -2}, expect=400)
    sim.control("POST", "licenses", {}, expect=400)
    rps = call(client, "GetRPs")
    assert rps["rp"] == [] and rps["addr"] == "127.0.0.1" and re.match("^009033[0-9a-f]{6}$", rps["hw"])
    sim.control("POST", "rps", {"rp": [{"addr": "192.0.2.10", "cert": "009033000010"}]})
    assert call(client, "GetRPs")["rp"] == [{"addr": "192.0.2.10", "cert": "009033000010"}]
    sim.control("POST", "rps", {"rp": [{"cert": "x"}]}, expect=400)


def test_monitor_admin_object_gives_the_soap_admin_key_and_the_password_it_proves(sim, client):
    assert call(client, "MonitorAdminObject") == {"api": ADMIN_API, "mt": "MonitorAdminObjectResult"}
    info = client.receive(lambda m: m.get("mt") == "MonitorAdminObjectInfo")
    assert info["api"] == ADMIN_API
    assert info["key"] == sim.admin('<show><user cn="_ADMIN_"/></show>').find("user").get("key")
    pbx_key = crypto.rc4(crypto.pad(PBX_PASSWORD, crypto.ADMIN_KEY_PAD), bytes.fromhex(info["key"]))
    assert crypto.rc4(pbx_key, bytes.fromhex(info["pwd"])) == crypto.pad(PBX_PASSWORD, crypto.ADMIN_KEY_PAD)
    sim.control("POST", "reset")                   # a new PBX key: the monitor tells
    assert client.receive(lambda m: m.get("mt") == "MonitorAdminObjectInfo")["key"] != info["key"]


def test_monitor_config_pbx_config_and_phone_config(sim, client):
    assert call(client, "MonitorConfig")["mt"] == "MonitorConfigResult"
    info = client.receive(lambda m: m.get("mt") == "MonitorConfigInfo")
    assert (info["pbx"], info["domain"], info["ip4"]) == ("pbx1", "example.com", "127.0.0.1")
    assert "error" not in call(client, "MonitorConfig", stop=True)
    assert call(client, "GetPbxConfig")["loc"] == "pbx1"
    assert client.call("GetPBXConfig", api=ADMIN_API)["loc"] == "pbx1"      # the 13r1 page's spelling
    assert sim.admin('<add><user cn="Hotdesking"><pseudo type="config"/><phone><user-cfg dnd="true"/></phone>'
                     '</user></add>').tag == "ok"
    assert call(client, "GetPhoneConfig", cn="Hotdesking")["phone"] == {"user-cfg": [{"dnd": "true"}]}
    assert "phone" not in call(client, "UpdateObject", cn="Empty") and \
        "phone" not in call(client, "GetPhoneConfig", cn="Empty")
    assert call(client, "GetPhoneConfig", cn="Nobody")["error"] == "no object with cn Nobody"


# --- transport ----------------------------------------------------------------------------------------
def test_wss_with_tls_and_the_app_object_from_the_environment(pbxsim):
    sim = pbxsim("--tls", "--port-licenses", "-1", "--reverse-proxy", "192.0.2.1,cert-a",
                 env={"PBXSIM_APP_NAME": "automation", "PBXSIM_APP_PASSWORD": "env-secret"})
    assert sim.ready["apps_url"].startswith("wss://") and sim.ready["app_name"] == "automation"
    with connect(sim, "automation", "env-secret") as app:
        assert "lic" not in call(app, "GetPbxLicenses")
        assert call(app, "GetRPs")["rp"] == [{"addr": "192.0.2.1", "cert": "cert-a"}]


def test_websocket_faults_hit_this_endpoint_by_path_or_mt(sim, client):
    sim.control("POST", "faults", {"kind": "ws_close", "path": "/PBX0/APPS/websocket", "mt": "GetConfigs"})
    assert call(client, "GetPbxConfig")["loc"] == "pbx1"
    client.send({"mt": "GetConfigs", "api": ADMIN_API, "src": "x"})
    assert closed_by_server(client.ws), "a close frame, nothing else"
    sim.control("POST", "faults", {"kind": "delay", "delay_ms": 1, "path": "/example.com/devices"})
    with connect(sim) as app:
        assert call(app, "GetConfigs")["configs"] == []
    assert sim.control("GET", "faults")[0]["count"] == 1       # the Devices fault did not count this endpoint


def test_the_guessed_names_left_follow_wire_names_on_this_endpoint_too(pbxsim, tmp_path):
    """Store Phone Config and the template separator stay INFERRED/ASSUMED: PbxAdminApi speaks the table's spelling
    and drops the default spelling, as the SOAP side does."""
    path = tmp_path / "wire-names.json"
    path.write_text(json.dumps({"template": {"store_phone_config": "store-phone-config",
                                             "inherit_separator": ";"}}), encoding="utf-8")
    sim = pbxsim("--wire-names", str(path))
    with connect(sim) as app:
        for name in ("A", "B"):
            call(app, "UpdateObject", cn=name, pseudo={"type": "config"})
        answer = call(app, "UpdateObject", **{"cn": "Hotdesking", "pseudo": {"type": "config"}, "config": "A;B",
                                              "store-phone-config": True, "phone-config": True})
        template = call(app, "GetObject", guid=answer["guid"])
        assert template["store-phone-config"] is True and "phone-config" not in template
        assert show(sim, "Hotdesking").get("store-phone-config") == "true"
        assert call(app, "GetConfigObjects")["objects"][-1] == {"cn": "Hotdesking", "config": ["A", "B"]}


def test_a_held_update_object_whose_answer_was_lost_is_found_again_by_the_resend(sim):
    """hold works on this endpoint: the client gives up while its UpdateObject is held, the PBX carries it out on
    release, and the resend with guid "?" finds the object instead of creating a second one."""
    sim.control("POST", "faults", {"kind": "hold", "mt": "UpdateObject"})
    request = {"guid": "?", "cn": "Hot Desk Base", "h323": "hot-desk-base"}
    with connect(sim) as lost:
        lost.send(dict(request, api=ADMIN_API, mt="UpdateObject", src="lost"))
        assert [held["mt"] for held in sim.control("POST", "holds/wait", {"timeout": 10})] == ["UpdateObject"]
    sim.control("POST", "holds/release", {})
    created = show(sim, "Hot Desk Base").get("guid")
    with connect(sim) as again:
        assert call(again, "UpdateObject", **request)["guid"] == created
    assert len(sim.state()["pbx"]["objects"]) == 1
