# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault kinds of issue 12 (a PBX or Devices app misbehaving): `after`, the WebSocket channel, `silent`,
`ws_close`, `no_last`, `reboot`, and the malformed answers `html`, `truncated_xml` and `soap_fault`."""

import concurrent.futures
import time
import xml.etree.ElementTree as ET

import pytest
import requests
import websocket

from pbxsim import appws
from pbxsim.wire_names import DEVICES_APP

from .conftest import DEVICES_PASSWORD, SOAP_ENVELOPE, SOAP_HEADERS, closed_by_server

BULK = "/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*"
CHANGE = "/!config%20change%20PBX0%20/reg-no-pwd%200"
SCRIPT = "config add PHONE SIG /h323 hot-desk-base /gk-pwd base-secret\n" * 8   # several value parts
SHORT = 1.0   # seconds a client waits for an answer that does not come


def ready_session(sim):
    """A session that already holds a nonce, so that each call is exactly one HTTP request with digest."""
    session = sim.session()
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200
    return session


def soap(session, sim, inner="<show><user cn=\"Alice\"/></show>", timeout=10):
    return session.post(sim.url + "/PBX0/user.soap", data=SOAP_ENVELOPE % inner.replace("<", "&lt;").replace(
        ">", "&gt;"), headers=SOAP_HEADERS, timeout=timeout)


def devices_client(sim, timeout=10):
    client = appws.AppClient(sim.devices_url, timeout=timeout)
    assert client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]
    return client


def fault(sim, **spec):
    return sim.control("POST", "faults", spec)


def wait_up(sim, seconds=15):
    """Wait until the PBX answers control calls again (after a reboot that refused connections)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return sim.control("GET", "faults")
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# --- counting ----------------------------------------------------------------------------------------------------
def test_after_lets_that_many_requests_pass_first(sim):
    session = ready_session(sim)
    fault(sim, kind="http500", after=2)
    statuses = [session.get(sim.url + "/cfg.txt", timeout=10).status_code for _request in range(4)]
    assert statuses == [200, 200, 500, 200]


def test_http_faults_do_not_hit_websocket_messages_and_ws_faults_not_http(sim):
    session = ready_session(sim)
    fault(sim, kind="delay", channel="ws", delay_ms=int(SHORT * 1500))
    start = time.monotonic()
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200
    assert time.monotonic() - start < SHORT
    with devices_client(sim) as client:       # the first message (AppChallenge) waits
        assert time.monotonic() - start >= SHORT
        assert sim.control("GET", "faults") == []
        fault(sim, kind="http500")
        assert client.call("GetUserInfo")["admin"] is True
    assert sim.control("GET", "faults")[0]["kind"] == "http500"


@pytest.mark.parametrize("spec", [
    {"kind": "ws_close", "channel": "http"}, {"kind": "no_last", "channel": "http"},
    {"kind": "html", "channel": "ws"}, {"kind": "soap_fault", "mt": "GetDomains"},
    {"kind": "delay", "channel": "telex"}, {"kind": "delay", "channel": "http", "mt": "GetDomains"},
    {"kind": "ws_close", "mt": ""}, {"kind": "http500", "after": -1}, {"kind": "reboot", "down_ms": "long"},
    {"kind": "reboot", "mode": "explode"}, {"kind": "soap_fault", "status": 404},
])
def test_bad_new_fault_descriptions_are_refused(sim, spec):
    sim.control("POST", "faults", spec, expect=400)
    assert sim.control("GET", "faults") == []


# --- malformed answers --------------------------------------------------------------------------------------------
def test_html_is_a_login_page_with_200_wherever_it_hits(sim):
    session = ready_session(sim)
    fault(sim, kind="html", count=2)
    for path in ("/cfg.txt", BULK):
        answer = session.get(sim.url + path, timeout=10)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
        assert answer.text.startswith("<!DOCTYPE html>") and "<form" in answer.text
    assert session.get(sim.url + "/cfg.txt", timeout=10).text.startswith("config change PBX0")


def test_html_answers_the_websocket_upgrade_too(sim):
    fault(sim, kind="html")
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        appws.AppClient(sim.devices_url, timeout=10)
    assert caught.value.status_code == 200


def test_truncated_xml_cuts_soap_and_bulk_answers_and_nothing_else(sim):
    session = ready_session(sim)
    whole_bulk = session.get(sim.url + BULK, timeout=10).text
    whole_soap = soap(session, sim).text
    fault(sim, kind="truncated_xml", count=2)
    assert session.get(sim.url + "/cfg.txt", timeout=10).text.endswith("\n"), "cfg.txt is not XML: not counted"
    cut_bulk = session.get(sim.url + BULK, timeout=10)
    cut_soap = soap(session, sim)
    for cut, whole in ((cut_bulk, whole_bulk), (cut_soap, whole_soap)):
        assert cut.status_code == 200 and cut.text == whole[:len(whole.encode()) // 2]
        with pytest.raises(ET.ParseError):
            ET.fromstring(cut.content)
    assert sim.control("GET", "faults") == []
    assert soap(session, sim).text == whole_soap


def test_truncated_xml_counts_only_requests_with_digest_credentials(sim):
    whole = ready_session(sim).get(sim.url + BULK, timeout=10).text
    fault(sim, kind="truncated_xml")
    session = sim.session()                   # its first request goes without credentials: 401, not counted
    answer = session.get(sim.url + BULK, timeout=10)
    assert answer.history[0].status_code == 401 and answer.text == whole[:len(whole) // 2]
    assert sim.control("GET", "faults") == []


@pytest.mark.parametrize("status", [500, 200])
def test_soap_fault_answers_a_fault_envelope_and_does_nothing(sim, status):
    session = ready_session(sim)
    fault(sim, kind="soap_fault", status=status)
    assert session.get(sim.url + BULK, timeout=10).status_code == 200, "not a SOAP request: not counted"
    answer = soap(session, sim, '<add><user cn="Alice" h323="alice"/></add>')
    assert answer.status_code == status and answer.headers["Content-Type"].startswith("text/xml")
    body = ET.fromstring(answer.content)
    fault_element = body.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault_element.find("faultcode").text == "soap:Server"
    assert "injected" in fault_element.find("faultstring").text
    assert sim.state()["pbx"]["objects"] == []
    assert soap(session, sim, '<add><user cn="Alice" h323="alice"/></add>').status_code == 200
    assert len(sim.state()["pbx"]["objects"]) == 1


# --- silent -------------------------------------------------------------------------------------------------------
def test_silent_holds_a_request_until_the_client_gives_up(sim):
    session = ready_session(sim)
    fault(sim, kind="silent", path="/!config")
    start = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        session.get(sim.url + CHANGE, timeout=SHORT)
    assert time.monotonic() - start >= SHORT
    assert sim.state()["config"]["current"]["modules"]["PBX0"] == {"reg-no-pwd": "4"}, "read, never carried out"
    assert session.get(sim.url + CHANGE, timeout=10).text == "ok"


def test_silent_with_rate_one_lasts_until_cleared(sim):
    session = ready_session(sim)
    fault(sim, kind="silent", rate=1)
    for _request in range(2):
        with pytest.raises(requests.ReadTimeout):
            session.get(sim.url + "/cfg.txt", timeout=SHORT / 2)
    assert sim.control("GET", "faults")[0]["kind"] == "silent"
    sim.control("DELETE", "faults")
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200


def test_a_silent_websocket_message_gets_no_answer_and_the_connection_stays(sim):
    with devices_client(sim, timeout=SHORT) as client:
        fault(sim, kind="silent", mt="GetDomains")
        client.send({"mt": "GetDomains", "src": "silent"})
        with pytest.raises(websocket.WebSocketTimeoutException):
            client.ws.recv()
        assert client.call("GetUserInfo")["admin"] is True
        assert len(client.listing("GetDomains", "domains")) == 1


# --- WebSocket connections ----------------------------------------------------------------------------------------
def test_ws_close_after_k_messages_closes_before_the_next_one_is_handled(sim):
    fault(sim, kind="ws_close", after=3)      # AppChallenge, AppLogin, GetUserInfo pass; AddCategory closes
    with devices_client(sim) as client:
        assert client.call("GetUserInfo")["admin"] is True
        client.send({"mt": "AddCategory", "domainId": 1, "name": "Hotdesking", "config": True, "src": "add"})
        assert closed_by_server(client.ws), "a close frame, nothing else"
    assert sim.state()["devices"]["categories"] == [], "the message that closed it was not carried out"
    with devices_client(sim) as client:       # a new connection is served
        assert client.listing("GetProvisioningCategories", "categories") == []


def test_ws_close_on_a_message_type_lets_the_answers_before_it_out(sim):
    fault(sim, kind="ws_close", mt="GetDeviceConfigs")
    with devices_client(sim) as client:
        client.send({"mt": "GetDomains", "src": "a"})
        client.send({"mt": "GetDeviceConfigs", "src": "b"})
        client.send({"mt": "GetUserInfo", "src": "c"})
        assert client.receive(lambda m: True)["src"] == "a"
        assert closed_by_server(client.ws)


def test_a_reset_on_the_ws_channel_drops_the_connection(sim):
    fault(sim, kind="reset", mt="GetDomains")
    with devices_client(sim) as client:
        client.send({"mt": "GetDomains", "src": "x"})
        with pytest.raises((ConnectionError, websocket.WebSocketConnectionClosedException)):
            client.ws.recv()


def test_delay_on_the_ws_channel_delays_the_answer(sim):
    with devices_client(sim) as client:
        fault(sim, kind="delay", mt="GetUserInfo", delay_ms=int(SHORT * 1000))
        start = time.monotonic()
        client.call("GetUserInfo")
        assert time.monotonic() - start >= SHORT


def test_no_last_sends_the_final_page_without_last_and_nothing_after(sim):
    with devices_client(sim, timeout=SHORT) as client:
        for number in range(3):
            client.call("AddCategory", domainId=1, name="Category %d" % number, config=True)
        fault(sim, kind="no_last")
        assert client.call("GetUserInfo")["admin"] is True, "not answered in parts: not counted"
        client.send({"mt": "GetProvisioningCategories", "src": "pages"})
        pages = [client.receive(lambda m: True) for _page in range(2)]
        assert [len(page["categories"]) for page in pages] == [2, 1]
        assert [page["last"] for page in pages] == [False, False]
        with pytest.raises(websocket.WebSocketTimeoutException):
            client.ws.recv()
        assert [page["last"] for page in client.answers("GetProvisioningCategories")] == [False, True]


def test_no_last_withholds_the_result_of_a_configuration_sent_in_parts(sim):
    with devices_client(sim, timeout=SHORT) as client:
        config_id = client.call("AddDeviceConfig", domainId=1, type="EXPERT", desc="Hot Desking", categories=[],
                                script=SCRIPT)["id"]
        fault(sim, kind="no_last", mt="GetDeviceConfig")
        client.send({"mt": "GetDeviceConfig", "id": config_id, "src": "parts"})
        parts = []
        with pytest.raises(websocket.WebSocketTimeoutException):
            while True:
                parts.append(client.receive(lambda m: True))
        assert len(parts) > 1 and {part["mt"] for part in parts} == {"GetDeviceConfigValueResult"}
        assert client.device_config(config_id)["script"] == SCRIPT


# --- reboot -------------------------------------------------------------------------------------------------------
def test_reboot_refuses_connections_then_serves_the_written_configuration(pbxsim):
    sim = pbxsim()
    session = ready_session(sim)
    assert session.get(sim.url + "/!config%20change%20PBX0%20/reg-no-pwd%201", timeout=10).text == "ok"
    assert session.get(sim.url + "/!config%20write", timeout=10).text == "ok"
    assert session.get(sim.url + CHANGE, timeout=10).text == "ok"          # current only: lost by the reboot
    assert soap(session, sim, '<add><user cn="Alice" h323="alice" pwd="alice-pw"/></add>').status_code == 200
    client = devices_client(sim)
    key = client.call("GetUserInfo")["key"]
    fault(sim, kind="reboot", down_ms=1500, path="/cfg.txt")
    with pytest.raises(requests.ConnectionError):
        session.get(sim.url + "/cfg.txt", timeout=10)                      # the request that hit it: reset
    with pytest.raises(requests.ConnectionError, match="refused|NewConnectionError"):
        requests.get(sim.url + "/cfg.txt", timeout=10)                     # down: nothing listens
    with pytest.raises((OSError, websocket.WebSocketException)):
        client.call("GetUserInfo")                                          # the WebSocket is gone
    wait_up(sim)
    stats_before = sim.control("GET", "stats")["unauthorized"]
    assert session.get(sim.url + "/cfg.txt", timeout=10).text.startswith("config change PBX0 /reg-no-pwd 1\n")
    assert sim.control("GET", "stats")["unauthorized"] == stats_before + 1, "the old nonce is stale now"
    state = sim.state()
    assert state["config"]["current"] == state["config"]["written"] == state["config"]["active"]
    assert [o["attrs"]["cn"] for o in state["pbx"]["objects"]] == ["Alice"], "objects survive"
    passthrough_url = "%s/passthrough/0090330001/%s/cfg.txt" % (sim.devices_url.replace("ws", "http", 1), key)
    passthrough = requests.get(passthrough_url, timeout=10)
    assert passthrough.status_code == 403, "the old session's key is gone"
    with devices_client(sim) as again:
        assert again.call("GetUserInfo")["key"] != key


def test_reboot_in_reset_mode_resets_requests_while_down_and_control_still_answers(pbxsim):
    sim = pbxsim()
    fault(sim, kind="reboot", mode="reset", down_ms=1500, mt="GetDomains")
    client = devices_client(sim)
    client.send({"mt": "GetDomains", "src": "x"})
    with pytest.raises((OSError, websocket.WebSocketException)):
        client.ws.recv()
    with pytest.raises(requests.ConnectionError, match="reset|aborted"):
        requests.get(sim.url + "/cfg.txt", timeout=10)
    assert sim.control("GET", "faults") == []
    time.sleep(1.7)
    assert ready_session(sim).get(sim.url + "/cfg.txt", timeout=10).status_code == 200


def test_the_reboot_control_call_with_down_ms_reboots_the_whole_pbx(pbxsim):
    sim = pbxsim()
    session = ready_session(sim)
    assert session.get(sim.url + CHANGE, timeout=10).text == "ok"
    assert sim.control("POST", "reboot", {"down_ms": 300, "mode": "reset"}) == {
        "ok": True, "down_ms": 300, "mode": "reset"}
    time.sleep(0.6)
    assert session.get(sim.url + "/cfg.txt", timeout=10).text.startswith("config change PBX0 /reg-no-pwd 4\n")
    sim.control("POST", "reboot", {"down_ms": "soon"}, expect=400)


def test_a_request_delayed_across_a_reboot_is_dropped(pbxsim):
    sim = pbxsim()
    session = ready_session(sim)
    fault(sim, kind="delay", delay_ms=1500, path="/!config")
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        change = pool.submit(session.get, sim.url + CHANGE, timeout=10)
        time.sleep(0.5)
        sim.control("POST", "reboot", {"down_ms": 100, "mode": "reset"})
        with pytest.raises(requests.ConnectionError):
            change.result()
    time.sleep(1.2)
    assert sim.state()["config"]["current"]["modules"]["PBX0"] == {"reg-no-pwd": "4"}, "never carried out"


def test_a_delayed_request_is_carried_out_even_when_the_client_gave_up(sim):
    session = ready_session(sim)
    fault(sim, kind="delay", delay_ms=int(SHORT * 1500), path="/PBX0/user.soap")
    with pytest.raises(requests.ReadTimeout):
        soap(session, sim, '<add><user cn="Alice" h323="alice"/></add>', timeout=SHORT / 2)
    deadline = time.monotonic() + 10
    while not sim.state()["pbx"]["objects"]:
        assert time.monotonic() < deadline, "the delayed add never landed"
        time.sleep(0.1)
