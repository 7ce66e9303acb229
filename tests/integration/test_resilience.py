# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retries against pbxsim's injected faults (contract 6), and a failed run that a re-run converges."""

import pytest

from conftest import assert_passed, run_target

# pbxsim fires a rule with `rate` r on every 1/r-th request (it accumulates credit), so these are deterministic.
SURVIVED = {
    "503 with Retry-After on every other request": {"kind": "http503", "rate": 0.5, "retry_after": 1, "count": 4},
    "connection reset on every other request": {"kind": "reset", "rate": 0.5, "count": 4},
    "stale digest nonce": {"kind": "stale_nonce", "count": 3},
    "slow answers": {"kind": "delay", "delay_ms": 300, "count": 3},
}


@pytest.mark.parametrize("fault", SURVIVED.values(), ids=list(SURVIVED))
def test_retried_faults_are_survived(sim, fault):
    sim.control("POST", "faults", fault)
    assert_passed(run_target(sim, "resilience", extra_vars={"first_run_error": "", "written_by_first_run": 3}))
    assert sim.control("GET", "faults") == [], "every injected fault fired"


def test_http_500_fails_the_run_cleanly_and_a_rerun_converges(sim):
    # The 4th request is the second write (1: unauthenticated read, 2: read, 3: first add, 4: second add).
    sim.control("POST", "faults", {"kind": "http500", "rate": 0.25, "count": 1})
    outcome = {"first_run_error": "answered HTTP 500", "written_by_first_run": 1}
    assert_passed(run_target(sim, "resilience", extra_vars=outcome))


@pytest.mark.parametrize("failed_command, lagging_fields", [
    ("config write", ["inactive", "unwritten"]),
    ("config activate", ["inactive"]),
])
def test_settings_left_unwritten_or_inactive_by_a_failed_run_converge(sim, failed_command, lagging_fields):
    sim.control("POST", "faults", {"kind": "http500", "path": "/!" + failed_command})
    assert_passed(run_target(sim, "settings_recovery", extra_vars={
        "failed_command": failed_command, "lagging_fields": lagging_fields}))
    assert sim.control("GET", "faults") == [], "the injected fault fired"
