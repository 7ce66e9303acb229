# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /_sim/ control API: guard, state redaction, stats, reset, and every fault kind."""

import json
import time

import pytest
import requests

from .conftest import ADMIN_PASSWORD

DELAY_MS = 600  # long enough that an undelayed request on a busy machine stays below it
USER = '<add><user cn="Alice" h323="alice" e164="201" pwd="alice-secret"><device hw="alice"/></user></add>'


def ready_session(sim):
    """A session that already holds a nonce, so that each call is exactly one HTTP request."""
    session = sim.session()
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200
    return session


def test_control_needs_the_flag_and_the_token(pbxsim, sim):
    assert requests.get(sim.url + "/_sim/state", timeout=10).status_code == 403
    assert requests.get(sim.url + "/_sim/state", headers={"X-Sim-Token": "nope"}, timeout=10).status_code == 403
    closed = pbxsim(control=False)
    assert closed.ready["control_token"] is None
    assert requests.get(closed.url + "/_sim/state", timeout=10).status_code == 404


def test_state_redacts_every_password(sim):
    sim.admin(USER)
    sim.get("/!config%20change%20PBX0%20/reg-no-pwd%200")
    state = sim.state()
    text = json.dumps(state)
    assert "alice-secret" not in text and ADMIN_PASSWORD not in text
    assert state["pbx"]["objects"][0]["attrs"]["pwd"] == "********"
    assert state["pbx"]["pbx_key"] == "********"
    assert state["config"]["current"]["modules"]["PBX0"] == {"reg-no-pwd": "0"}
    assert set(state) == {"name", "pbx", "config", "devices", "phones"}


def test_stats_count_reads_and_writes_per_interface_but_not_control_calls(sim):
    session = ready_session(sim)
    sim.control("POST", "stats/reset")
    sim.admin(USER)
    sim.admin('<show><user cn="Alice"/></show>')
    session.get(sim.url + "/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*", timeout=10)
    session.get(sim.url + "/cfg.txt", timeout=10)
    session.get(sim.url + "/!config%20write", timeout=10)
    sim.state()
    stats = sim.control("GET", "stats")
    assert stats["interfaces"]["soap"] == {"reads": 1, "writes": 1}
    assert stats["interfaces"]["bulk"] == {"reads": 1, "writes": 0}
    assert stats["interfaces"]["cfgtxt"] == {"reads": 1, "writes": 0}
    assert stats["interfaces"]["config"] == {"reads": 0, "writes": 1}
    assert (stats["reads"], stats["writes"], stats["requests"]) == (3, 2, 5)
    assert sim.control("POST", "stats/reset")["requests"] == 0


def test_reset_returns_to_factory_state(sim):
    factory = sim.state()
    sim.admin(USER)
    sim.get("/!config%20change%20PBX0%20/reg-no-pwd%200")
    sim.control("POST", "faults", {"kind": "delay", "count": 5, "delay_ms": 1})
    sim.control("POST", "reset")
    after = sim.state()
    assert after["pbx"]["objects"] == [] and after["config"] == factory["config"]
    assert sim.control("GET", "faults") == []


def test_http500_for_the_next_n_requests(sim):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "http500", "count": 2})
    statuses = [session.get(sim.url + "/cfg.txt", timeout=10).status_code for _request in range(3)]
    assert statuses == [500, 500, 200]


def test_http503_carries_retry_after(sim):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "http503", "retry_after": 7})
    response = session.get(sim.url + "/cfg.txt", timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200


def test_connection_reset(sim):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "reset"})
    with pytest.raises(requests.ConnectionError):
        session.get(sim.url + "/cfg.txt", timeout=10)
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200


def test_delay(sim):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "delay", "delay_ms": DELAY_MS})
    start = time.monotonic()
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200
    assert time.monotonic() - start >= DELAY_MS / 1000
    start = time.monotonic()
    session.get(sim.url + "/cfg.txt", timeout=10)
    assert time.monotonic() - start < DELAY_MS / 1000


def test_stale_nonce_makes_the_client_authenticate_again(sim):
    session = ready_session(sim)
    sim.control("POST", "stats/reset")
    sim.control("POST", "faults", {"kind": "stale_nonce"})
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200
    stats = sim.control("GET", "stats")
    assert (stats["requests"], stats["unauthorized"]) == (2, 1)  # 401 stale=true, then the retry
    assert sim.control("GET", "faults") == []


def test_rate_fires_for_that_fraction_of_requests(sim):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "http500", "rate": 0.25})
    statuses = [session.get(sim.url + "/cfg.txt", timeout=10).status_code for _request in range(8)]
    assert statuses == [200, 200, 200, 500] * 2
    assert sim.control("DELETE", "faults") == []
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200


def test_a_fault_with_a_path_waits_for_a_request_to_that_path(sim):
    session = ready_session(sim)
    sim.control("POST", "faults", {"kind": "http500", "path": "/!config write"})
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 200
    assert session.get(sim.url + "/!config%20change%20PBX0%20/reg-no-pwd%200", timeout=10).text == "ok"
    assert session.get(sim.url + "/!config%20write", timeout=10).status_code == 500
    assert session.get(sim.url + "/!config%20write", timeout=10).text == "ok"
    assert sim.control("GET", "faults") == []


def test_control_calls_suffer_no_faults(sim):
    sim.control("POST", "faults", {"kind": "http500"})
    assert sim.control("GET", "stats")["requests"] == 0
    assert sim.control("GET", "faults")[0]["count"] == 1


@pytest.mark.parametrize("spec", [
    {"kind": "meteor"}, {"kind": "http500", "count": 0}, {"kind": "http500", "rate": 2},
    {"kind": "delay", "delay_ms": "slow"}, {"kind": "http500", "count": True}, {"kind": "http500", "path": "cfg.txt"},
    {"kind": "http500", "path": 7},
])
def test_bad_fault_descriptions_are_refused(sim, spec):
    sim.control("POST", "faults", spec, expect=400)
    assert sim.control("GET", "faults") == []


def test_latency_applies_to_pbx_requests_not_to_control(pbxsim):
    sim = pbxsim("--latency-ms", str(DELAY_MS))
    session = ready_session(sim)
    start = time.monotonic()
    session.get(sim.url + "/cfg.txt", timeout=10)
    assert time.monotonic() - start >= DELAY_MS / 1000
    start = time.monotonic()
    sim.control("GET", "stats")
    assert time.monotonic() - start < DELAY_MS / 1000
