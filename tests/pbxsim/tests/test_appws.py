# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppWebsocket on the Devices URL: the reference's digest vectors, login, scopes and message framing."""

import json
import re
import time
import uuid

import pytest
import requests

from pbxsim import appws
from pbxsim.wire_names import DEVICES_APP

from .conftest import DEVICES_PASSWORD

VECTOR_CHALLENGE = "0123456789abcdef"


@pytest.mark.parametrize("info, digest", [
    (None, "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"),
    ({}, "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34"),
    ({"cn": "Test User"}, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"),
])
def test_reference_digest_vectors(info, digest):
    assert appws.login_digest("pbxadminapi", "", "", "", "", VECTOR_CHALLENGE, "pwd", info) == digest


@pytest.mark.parametrize("info, digest", [
    (None, "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"),
    ({"cn": "Test User"}, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"),
])
def test_login_check_accepts_the_vectors_and_nothing_else(info, digest):
    login = {"mt": "AppLogin", "app": "pbxadminapi", "domain": "", "sip": "", "guid": "", "dn": "",
             "digest": digest, **({} if info is None else {"info": info})}
    assert appws.check_login(login, VECTOR_CHALLENGE, [("other", "x"), ("pwd", "scope")]) == ("pwd", "scope")
    assert appws.check_login(login, VECTOR_CHALLENGE, [("other", "x")]) is None
    assert appws.check_login(login, "fedcba9876543210", [("pwd", "scope")]) is None
    assert appws.check_login(login, None, [("pwd", "scope")]) is None


def connect(sim):
    return appws.AppClient(sim.devices_url)


def test_the_app_is_the_service_name():
    assert DEVICES_APP == "innovaphone-devices"


def test_login_with_the_instance_password_is_admin(sim):
    with connect(sim) as client:
        challenge = client.call("AppChallenge")["challenge"]
        assert re.fullmatch("[0-9]{16}", challenge), challenge    # at most 16 characters, digits
        fields = {"app": DEVICES_APP, "domain": sim.devices_domain, "sip": "", "guid": "", "dn": ""}
        digest = appws.login_digest(*fields.values(), challenge, DEVICES_PASSWORD)
        assert client.call("AppLogin", **fields, digest=digest) == {
            "mt": "AppLoginResult", "ok": True, "domain": sim.devices_domain, "src": "r2"}
        info = client.call("GetUserInfo")
        assert set(info) == {"mt", "key", "admin", "src"} and info["admin"] is True
        assert str(uuid.UUID(info["key"])) == info["key"]        # a GUID, 0e6ff4c7-7a88-40c4-98eb-8c91903933e6
        assert client.call("GetLoginInfo") == {**info, "mt": "GetLoginInfoResult", "src": "r4"}


@pytest.mark.parametrize("domain", ["", "branch.example.com", "no-such-domain.example.com"])
def test_the_instance_password_logs_in_whatever_domain_says(pbxsim, domain):
    """innovaphone's PHP client sends domain "": the instance password is checked first."""
    sim = pbxsim("--domain-password", "branch.example.com=branch-secret")
    with connect(sim) as client:
        answer = client.login(DEVICES_APP, domain, DEVICES_PASSWORD)
        assert (answer["ok"], answer["domain"]) == (True, sim.devices_domain)
        assert client.call("GetUserInfo")["admin"] is True
        assert [d["name"] for d in client.listing("GetDomains", "domains")] == [
            sim.devices_domain, "branch.example.com"]
        # the home domain is the instance domain: requests without domainId go there
        assert client.call("AddCategory", domainId=1, name="Home", config=True)["id"]
        assert [c["domainId"] for c in client.listing("GetProvisioningCategories", "categories")] == [1]


def test_each_login_gets_its_own_key(sim):
    with connect(sim) as first, connect(sim) as second:
        first.login(DEVICES_APP, "", DEVICES_PASSWORD)
        second.login(DEVICES_APP, "", DEVICES_PASSWORD)
        key = first.call("GetUserInfo")["key"]
        assert key != second.call("GetUserInfo")["key"]
        first.login(DEVICES_APP, "", DEVICES_PASSWORD)
        assert first.call("GetUserInfo")["key"] != key


def test_login_with_an_info_object_covers_it_in_the_digest(sim):
    with connect(sim) as client:
        assert client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD, info={"cn": "Test User"})["ok"]
    with connect(sim) as client:
        challenge = client.call("AppChallenge")["challenge"]
        digest = appws.login_digest(DEVICES_APP, sim.devices_domain, "", "", "", challenge, DEVICES_PASSWORD)
        answer = client.call("AppLogin", app=DEVICES_APP, domain=sim.devices_domain, sip="", guid="", dn="",
                             info={"cn": "Test User"}, digest=digest)
        assert answer["ok"] is False


@pytest.mark.parametrize("app, domain, password", [
    (DEVICES_APP, None, "wrong"),
    ("devices", None, DEVICES_PASSWORD),        # the project's old guess of the app name
    ("pbxadminapi", None, DEVICES_PASSWORD),
])
def test_failed_login_answers_not_ok_and_keeps_the_session_closed(sim, app, domain, password):
    with connect(sim) as client:
        answer = client.login(app, domain or sim.devices_domain, password)
        assert answer["ok"] is False and answer["error"]
        refused = client.call("GetDomains")
        assert refused["error"] == "not logged in" and "domains" not in refused
        assert client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"] is True


@pytest.mark.parametrize("app", ["innovaphone-devices", "innovaphone-devices-api"])
def test_both_documented_apps_of_the_devices_service_log_in_by_default(sim, app):
    with connect(sim) as client:
        assert client.login(app, sim.devices_domain, DEVICES_PASSWORD) == {
            "mt": "AppLoginResult", "ok": True, "domain": sim.devices_domain, "src": "r2"}
        assert client.call("GetUserInfo")["admin"] is True


def test_devices_app_narrows_the_login_to_one_app_name(pbxsim):
    sim = pbxsim("--devices-app", "innovaphone-devices-api")
    with connect(sim) as client:
        assert client.login("innovaphone-devices", sim.devices_domain, DEVICES_PASSWORD)["ok"] is False
        assert client.login("innovaphone-devices-api", sim.devices_domain, DEVICES_PASSWORD)["ok"] is True


def test_the_devices_ui_page_loads_a_script_that_names_the_messages_it_sends(sim):
    before = sim.control("GET", "stats")["unauthorized"]
    page = requests.get(sim.url + "/example.com/devices/innovaphone-devices", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page.text)
    assert sources == ["innovaphone-devices.js"]
    script = requests.get(sim.url + "/example.com/devices/" + sources[0], timeout=10)
    assert script.headers["Content-Type"].startswith("application/javascript")
    sent = re.findall(r'\bmt: "(\w+)"', script.text)
    assert {"GetDeviceConfigs", "AddCategory", "UpdateCategory", "DeleteCategory", "AddDeviceConfig",
            "UpdateDeviceConfig", "DeleteDeviceConfig"} <= set(sent)
    assert "AppLogin" not in sent and len(sent) == len(set(sent))
    assert sim.control("GET", "stats")["unauthorized"] == before    # no authentication asked for
    assert requests.get(sim.url + "/example.com/devices/other.js", timeout=10).status_code == 404


def test_a_challenge_serves_one_login_only(sim):
    with connect(sim) as client:
        challenge = client.call("AppChallenge")["challenge"]
        fields = {"app": DEVICES_APP, "domain": sim.devices_domain, "sip": "", "guid": "", "dn": ""}
        digest = appws.login_digest(*fields.values(), challenge, DEVICES_PASSWORD)
        assert client.call("AppLogin", **fields, digest=digest)["ok"] is True
        assert client.call("AppLogin", **fields, digest=digest)["ok"] is False
    with connect(sim) as client:
        assert client.call("AppLogin", **fields, digest=digest)["ok"] is False


def test_messages_before_login_get_an_error_result_with_src(sim):
    with connect(sim) as client:
        for mt in ("GetUserInfo", "GetLoginInfo", "GetProvisioningCategories", "AddCategory"):
            client.send({"mt": mt, "src": "before", "domainId": 1, "name": "x"})
            answer = client.receive(lambda m: m.get("src") == "before")
            assert answer == {"mt": mt + "Result", "error": "not logged in", "src": "before"}


def test_unknown_and_malformed_messages_get_errors_and_the_connection_stays(sim):
    with connect(sim) as client:
        assert client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]
        assert client.call("NoSuchMessage", x=1) == {
            "mt": "NoSuchMessageResult", "error": "unknown message type NoSuchMessage", "src": "r3"}
        client.send("this is not json")
        assert client.receive(lambda m: True) == {"mt": "Result", "error": "message is not JSON"}
        client.send(json.dumps([1, 2]))
        assert client.receive(lambda m: True)["error"] == "message is not a JSON object"
        client.send({"src": "no-mt"})
        assert client.receive(lambda m: True) == {"mt": "Result", "error": "message has no mt", "src": "no-mt"}
        client.send({"mt": 7, "src": "bad-mt"})
        assert client.receive(lambda m: True) == {"mt": "Result", "error": "message has no mt", "src": "bad-mt"}
        for mt in ("SetDeviceConfig", "GetServices", "GetDomain"):   # not implemented here
            assert client.call(mt)["error"] == "unknown message type " + mt
        assert client.call("GetUserInfo")["admin"] is True


def test_every_message_is_counted_in_stats(sim):
    with connect(sim) as client:
        client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)
        client.call("GetDomains")
        client.call("AddCategory", domainId=1, name="Counted", config=True)
        client.call("NoSuchMessage")
    devices = sim.control("GET", "stats")["interfaces"]["devices"]
    assert devices == {"reads": 4, "writes": 1}


def test_domain_password_gives_that_domain_only(pbxsim):
    sim = pbxsim("--domain-password", "branch.example.com=branch-secret",
                 "--domain-password", "other.example.com=other-secret")
    with connect(sim) as admin:
        assert admin.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]
        domains = admin.listing("GetDomains", "domains")
        assert [(d["name"], d["isInstanceDomain"]) for d in domains] == [
            (sim.devices_domain, True), ("branch.example.com", False), ("other.example.com", False)]
        ids = {d["name"]: d["id"] for d in domains}
        for name, domain_id in ids.items():
            assert "id" in admin.call("AddCategory", domainId=domain_id, name="Cat " + name, config=True)
    with connect(sim) as branch:
        assert branch.login(DEVICES_APP, "branch.example.com", "branch-secret") == {
            "mt": "AppLoginResult", "ok": True, "domain": "branch.example.com", "src": "r2"}
        assert branch.call("GetUserInfo")["admin"] is False
        assert [d["name"] for d in branch.listing("GetDomains", "domains")] == ["branch.example.com"]
        assert [c["name"] for c in branch.listing("GetProvisioningCategories", "categories")] == [
            "Cat branch.example.com"]
        refused = branch.call("GetProvisioningCategories", domainId=ids["other.example.com"])
        assert refused["error"] == "no access to domain %d" % ids["other.example.com"]
        refused = branch.call("AddCategory", domainId=ids[sim.devices_domain], name="Intruder", config=True)
        assert "error" in refused
    with connect(sim) as wrong_scope:
        # A domain password is no key to the instance domain, nor to another domain.
        assert wrong_scope.login(DEVICES_APP, sim.devices_domain, "branch-secret")["ok"] is False
        assert wrong_scope.login(DEVICES_APP, "other.example.com", "branch-secret")["ok"] is False
        assert wrong_scope.login(DEVICES_APP, "", "branch-secret")["ok"] is False
        # The instance password opens everything, whatever domain the login names.
        assert wrong_scope.login(DEVICES_APP, "branch.example.com", DEVICES_PASSWORD)["domain"] == sim.devices_domain


def test_wss_with_the_throwaway_ca(pbxsim):
    sim = pbxsim("--tls")
    with appws.AppClient(sim.devices_url, sslopt={"ca_certs": sim.ca}) as client:
        assert client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]


def test_each_pbx_of_count_has_its_own_devices_app(pbxsim):
    sim = pbxsim("--count", "2")
    first, second = sim.ready["pbxs"]
    with appws.AppClient(second["devices_url"]) as client:
        # The instance password wins whatever the domain: the login lands in the second PBX's domain.
        assert client.login(DEVICES_APP, first["devices_domain"], DEVICES_PASSWORD)["domain"] == \
            second["devices_domain"]
        client.call("AddCategory", domainId=1, name="Only on the second", config=True)
    with appws.AppClient(first["devices_url"]) as client:
        assert client.login(DEVICES_APP, first["devices_domain"], DEVICES_PASSWORD)["ok"]
        assert client.listing("GetProvisioningCategories", "categories") == []


def test_latency_applies_to_every_message(pbxsim):
    sim = pbxsim("--latency-ms", "100")
    with connect(sim) as client:
        started = time.monotonic()
        client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)
        client.call("NoSuchMessage")
        assert time.monotonic() - started >= 0.3


def test_latency_is_the_networks_requests_in_flight_together_wait_it_once(pbxsim):
    """--latency-ms on a WebSocket delays each message from its arrival, in order: 10 requests sent before any
    answer take about one latency, not ten, and are answered in the order sent."""
    sim = pbxsim("--latency-ms", "200")
    with connect(sim) as client:
        client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)
        started = time.monotonic()
        for number in range(10):
            client.send({"mt": "NoSuchMessage", "src": "p%d" % number})
        answers = [client.receive(lambda m: m.get("mt") == "NoSuchMessageResult") for _number in range(10)]
        took = time.monotonic() - started
    assert [answer["src"] for answer in answers] == ["p%d" % number for number in range(10)]
    assert 0.2 <= took < 1.0
