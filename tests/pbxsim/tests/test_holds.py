# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault kind `hold`: a request waits until /_sim/holds/release lets it go on or drops it."""

import concurrent.futures
import json

import pytest
import requests

from .conftest import SOAP_ENVELOPE, SOAP_HEADERS
from .test_devices import categories, login
from .test_control import ready_session

ALICE = '<add><user cn="Alice" h323="alice" e164="201"/></add>'
ADD_ATTRIB = '<add-attrib><user cn="Alice"><device hw="%s"/></user></add-attrib>'


@pytest.fixture
def pool():
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def written(sim):
    return sim.state()["config"]["written"]["modules"]["PBX0"]


def devices_of(sim, cn):
    user, = [o for o in sim.state()["pbx"]["objects"] if o["attrs"]["cn"] == cn]
    return [child["attrs"]["hw"] for child in user["children"] if child["tag"] == "device"]


def test_a_held_request_waits_for_its_release_and_then_goes_on(sim, pool):
    session = ready_session(sim)
    session.get(sim.url + "/!config%20change%20PBX0%20/reg-no-pwd%200", timeout=10)
    assert sim.control("POST", "faults", {"kind": "hold", "path": "/!config write"}) == {
        "kind": "hold", "path": "/!config write", "body": None, "mt": None, "after": 0, "count": 1}
    answer = pool.submit(session.get, sim.url + "/!config%20write", timeout=30)
    held, = sim.control("POST", "holds/wait", {"timeout": 10})
    assert (held["kind"], held["method"], held["path"]) == ("http", "GET", "/!config write")
    assert held["rule"] == {"path": "/!config write"}
    assert sim.control("GET", "holds") == [held]
    assert sim.control("GET", "faults") == []        # the rule has held its one request
    assert not answer.done() and written(sim) == {"reg-no-pwd": "4"}
    released, = sim.control("POST", "holds/release")
    assert released["id"] == held["id"]
    assert written(sim) == {"reg-no-pwd": "0"}        # handled before the release answers
    assert answer.result(timeout=10).text == "ok"
    assert sim.control("GET", "holds") == []


def test_a_dropped_request_changes_nothing_and_gets_no_answer(sim, pool):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "hold", "path": "/!config change"})
    answer = pool.submit(session.get, sim.url + "/!config%20change%20PBX0%20/reg-no-pwd%200", timeout=30)
    sim.control("POST", "holds/wait", {"timeout": 10})
    sim.control("POST", "holds/release", {"drop": True})
    with pytest.raises(requests.ConnectionError):
        answer.result(timeout=10)
    assert sim.state()["config"]["current"]["modules"]["PBX0"] == {"reg-no-pwd": "4"}


def soap_body(inner_xml):
    return SOAP_ENVELOPE % inner_xml.replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize("drop, kept", [(False, ["phone-1"]), (True, [])])
def test_a_request_whose_client_is_gone_is_applied_or_lost_as_released(sim, pool, drop, kept):
    """A client gone while its request is held (as a killed one is): the PBX got it and does it, or never got it."""
    sim.admin(ALICE)
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "hold", "body": "add-attrib"})
    answer = pool.submit(session.post, sim.url + "/PBX0/user.soap", data=soap_body(ADD_ATTRIB % "phone-1"),
                         headers=SOAP_HEADERS, timeout=1)
    sim.control("POST", "holds/wait", {"timeout": 10})
    with pytest.raises(requests.Timeout):
        answer.result(timeout=10)     # the client gave up and closed its connection
    assert devices_of(sim, "Alice") == []
    sim.control("POST", "holds/release", {"drop": drop})
    assert devices_of(sim, "Alice") == kept


def test_body_after_and_count_pick_the_requests_to_hold(sim, pool):
    sim.admin(ALICE)
    sim.control("POST", "faults", {"kind": "hold", "path": "/PBX0/user.soap", "body": "add-attrib", "after": 1,
                                   "count": 2})
    first = sim.soap('<show><user cn="Alice"/></show>')            # no add-attrib: not counted
    assert first.status_code == 200
    assert sim.soap(ADD_ATTRIB % "phone-1").status_code == 200     # the one let through
    held = [pool.submit(sim.session().post, sim.url + "/PBX0/user.soap", headers=SOAP_HEADERS, timeout=30,
                        data=soap_body(ADD_ATTRIB % hw)) for hw in ("phone-2", "phone-3")]
    assert len(sim.control("POST", "holds/wait", {"count": 2, "timeout": 10})) == 2
    assert sim.soap(ADD_ATTRIB % "phone-4").status_code == 200     # the rule is used up
    assert devices_of(sim, "Alice") == ["phone-1", "phone-4"]
    sim.control("POST", "holds/release")
    assert [answer.result(timeout=10).status_code for answer in held] == [200, 200]
    assert sorted(devices_of(sim, "Alice")) == ["phone-1", "phone-2", "phone-3", "phone-4"]


def test_the_digest_handshake_is_never_held(sim, pool):
    """A new session's first request is answered 401 without being counted; its retry with a digest is held."""
    sim.control("POST", "faults", {"kind": "hold", "path": "/cfg.txt"})
    sim.control("POST", "stats/reset")
    answer = pool.submit(sim.session().get, sim.url + "/cfg.txt", timeout=30)
    sim.control("POST", "holds/wait", {"timeout": 10})
    assert sim.control("GET", "stats")["unauthorized"] == 1
    sim.control("POST", "holds/release")
    assert answer.result(timeout=10).status_code == 200


def test_a_websocket_message_is_held_by_its_mt(sim, pool):
    with login(sim.devices_url, sim.devices_domain) as client:
        sim.control("POST", "faults", {"kind": "hold", "mt": "AddCategory"})
        assert categories(client) == []                              # another mt passes
        answer = pool.submit(client.call, "AddCategory", domainId=1, name="Hotdesking", config=True)
        held, = sim.control("POST", "holds/wait", {"timeout": 10})
        assert (held["kind"], held["mt"]) == ("ws", "AddCategory")
        assert sim.state()["devices"]["categories"] == []
        sim.control("POST", "holds/release")
        assert "id" in answer.result(timeout=10)
        assert [c["name"] for c in categories(client)] == ["Hotdesking"]


@pytest.mark.parametrize("drop, kept", [(False, ["Hotdesking"]), (True, [])])
def test_a_websocket_message_of_a_client_that_is_gone(sim, drop, kept):
    client = login(sim.devices_url, sim.devices_domain)
    sim.control("POST", "faults", {"kind": "hold", "mt": "AddCategory"})
    client.send({"mt": "AddCategory", "domainId": 1, "name": "Hotdesking", "config": True, "src": "gone"})
    sim.control("POST", "holds/wait", {"timeout": 10})
    client.ws.sock.close()           # the client dies: no close frame
    sim.control("POST", "holds/release", {"drop": drop})
    assert [c["name"] for c in sim.state()["devices"]["categories"]] == kept
    with login(sim.devices_url, sim.devices_domain) as other:  # the app serves on
        assert [c["name"] for c in categories(other)] == kept


def test_wait_times_out_and_release_names_unknown_ids(sim):
    sim.control("POST", "faults", {"kind": "hold", "path": "/cfg.txt"})
    timed_out = sim.control("POST", "holds/wait", {"timeout": 0.2}, expect=408)
    assert timed_out == {"error": "0 of 1 requests held after 0.2 s", "held": []}
    assert sim.control("POST", "holds/release", {"ids": [999]}, expect=409) == {"error": "no held request with id 999"}
    assert sim.control("POST", "holds/release") == []
    sim.control("POST", "holds/wait", {"count": 0}, expect=400)
    sim.control("POST", "holds/release", {"ids": "all"}, expect=400)


def test_reset_drops_held_requests(sim, pool):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "hold", "path": "/!config change", "count": 2})
    answer = pool.submit(session.get, sim.url + "/!config%20change%20PBX0%20/reg-no-pwd%200", timeout=30)
    sim.control("POST", "holds/wait", {"timeout": 10})
    sim.control("POST", "reset")
    with pytest.raises(requests.ConnectionError):
        answer.result(timeout=10)
    assert sim.control("GET", "holds") == [] and sim.control("GET", "faults") == []
    assert sim.state()["config"]["current"]["modules"]["PBX0"] == {"reg-no-pwd": "4"}


@pytest.mark.parametrize("spec", [
    {"kind": "hold", "path": "cfg.txt"}, {"kind": "hold", "mt": "AddCategory", "path": "/"},
    {"kind": "hold", "mt": ""}, {"kind": "hold", "after": -1}, {"kind": "hold", "count": 0},
    {"kind": "hold", "rate": 0.5}, {"kind": "hold", "body": 7},
])
def test_bad_holds_are_refused(sim, spec):
    sim.control("POST", "faults", spec, expect=400)
    assert sim.control("GET", "faults") == []


def test_the_state_names_no_held_body(sim, pool):
    """A held request's description says where it goes, never what it carries (a password, say)."""
    sim.control("POST", "faults", {"kind": "hold", "body": "secret-Pw"})
    answer = pool.submit(sim.soap, '<add><user cn="Bob" h323="bob" pwd="secret-Pw"/></add>')
    held, = sim.control("POST", "holds/wait", {"timeout": 10})
    assert "secret-Pw" not in json.dumps({key: value for key, value in held.items() if key != "rule"})
    sim.control("POST", "holds/release")
    assert answer.result(timeout=10).status_code == 200
