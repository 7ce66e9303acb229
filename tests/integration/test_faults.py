# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hotdesking role against a PBX and a Devices app that misbehave (issue 12, pbxsim's faults): each run either
converges after retries or fails with a message that names the site, the step and the cause, never a traceback;
with the faults cleared a re-run converges, and the PBX then holds exactly what an undisturbed run leaves."""

import json
import re
import time

import pytest

from role_runs import ALICE_PASSWORD, changed_tasks, comparable_state, run_playbook, site_vars
from simulator import Sim

TIMEOUT = 2                     # hotdesking_timeout: a fault that withholds an answer costs this, once or twice
STEPS = 7                       # tasks an undisturbed run on a fresh PBX changes (test_hotdesking_role.py)
# In the expected messages, <pbx> stands for the site's PBX URL and <devices> for its Devices URL.

# Each fault aims at a request of a step, counted from the first request of the run: without the preflight's reads,
# which test_bad_inventory.py covers. Task names of the role's steps, as Ansible shows them in the failed task's
# header.
TEMPLATE = "Config template"
CATEGORY = "Provisioning category in the Devices app"
PHONE_CONFIG = "Category in the Phone device configuration"
SECURITY = "Registrations without password and IP filter"

# Faults the role rides out: retries of what can be sent again, a check before a write is sent again.
SURVIVED = {
    "http503 with Retry-After": [{"kind": "http503", "retry_after": 1, "count": 2}],
    # Every other request, an add among them: the add is sent again only after a show found it missing.
    "reset": [{"kind": "reset", "rate": 0.5, "count": 3}],
    "stale nonce": [{"kind": "stale_nonce", "count": 3}],
    "read delayed beyond the timeout": [{"kind": "delay", "delay_ms": 3500, "path": "/PBX0/ADMIN/"}],
    "silent read": [{"kind": "silent", "path": "/cfg.txt"}],
    "truncated read": [{"kind": "truncated_xml", "path": "/PBX0/ADMIN/"}],
    # The add times out: a show finds it not carried out (yet), so it is sent again; the PBX refuses the late first
    # one, as the template's name is taken by then.
    "write delayed beyond the timeout": [{"kind": "delay", "delay_ms": 3000, "path": "/PBX0/user.soap"}],
    # The add was carried out, its answer cut: a show finds it, so it is not sent again.
    "truncated write answer": [{"kind": "truncated_xml", "path": "/PBX0/user.soap"}],
    "ws_close on a read mid-run": [{"kind": "ws_close", "mt": "GetDeviceConfigs"}],
    "silent Devices read": [{"kind": "silent", "mt": "GetProvisioningCategories"}],
    "no_last once": [{"kind": "no_last", "mt": "GetDeviceConfig"}],
    # The third request to /cfg.txt is the first of the security step: the PBX reboots between two steps.
    "reboot between two steps": [{"kind": "reboot", "path": "/cfg.txt", "after": 2, "down_ms": 1500}],
    "reboot during a Devices read": [{"kind": "reboot", "mt": "GetDeviceConfigs", "down_ms": 1500}],
    # Between config change and config write: the change is lost, the retried write stores the old line; the
    # step finds the change missing and makes it again.
    "reboot before config write": [{"kind": "reboot", "path": "/!config write", "down_ms": 1500}],
}

# Faults that fail the run: (faults, the failed task, a pattern of its message, what a re-run then changes).
RERUN = r"\(a re-run reads first and converges\)"
FAILED = {
    "http500": (
        [{"kind": "http500"}], TEMPLATE,
        r"^the PBX at <pbx> answered HTTP 500 to GET /cfg\.txt: internal server error \(injected\)$", STEPS),
    # No SOAP request is answered: the add that timed out is not sent again blindly, the show before a resend
    # times out too.
    "silent writes": (
        [{"kind": "silent", "rate": 1, "path": "/PBX0/user.soap"}], TEMPLATE,
        r"^show 'Hot Desking': the PBX at <pbx> did not answer POST /PBX0/user\.soap within 2 seconds "
        r"\(2 attempts\)$", STEPS),
    "silent until cleared": (
        [{"kind": "silent", "rate": 1, "path": "/cfg.txt", "after": 2}], SECURITY,
        r"^the PBX at <pbx> did not answer GET /cfg\.txt within 2 seconds \(2 attempts\)$", 1),
    "ws_close on a write": (
        [{"kind": "ws_close", "mt": "AddDeviceConfig"}], PHONE_CONFIG,
        r"^the Devices app at <devices> closed the connection while we waited for AddDeviceConfigResult; it may or "
        r"may not have carried out AddDeviceConfig, so it was not sent again " + RERUN + r" \(the message is "
        r".*AddDeviceConfig", 3),
    "silent Devices write": (
        [{"kind": "silent", "mt": "AddCategory"}], CATEGORY,
        r"^the Devices app at <devices> did not answer AddCategory within 2 seconds; not sent again, since the app "
        r"may still carry it out " + RERUN, 4),
    "no_last until cleared": (
        [{"kind": "no_last", "rate": 1, "mt": "GetDeviceConfigs"}], PHONE_CONFIG,
        r"^the Devices app at <devices> sent 1 message of its answer to GetDeviceConfigs but not the last one "
        r"\(last: true\) within 2 seconds \(2 attempts\)$", 3),
    "truncated until cleared": (
        [{"kind": "truncated_xml", "rate": 1}], TEMPLATE,
        r"^the PBX at <pbx> answered the bulk read 2 times with XML that is cut short or malformed: .+$", STEPS),
    "soap_fault with HTTP 500": (
        [{"kind": "soap_fault", "status": 500}], TEMPLATE,
        r"^add 'Hot Desking': the PBX at <pbx> answered HTTP 500 with a SOAP fault \(soap:Server: internal error "
        r"\(injected\)\)$", STEPS),
    "soap_fault with HTTP 200": (
        [{"kind": "soap_fault", "status": 200}], TEMPLATE,
        r"^add 'Hot Desking': the PBX at <pbx> answered a SOAP fault \(soap:Server: internal error "
        r"\(injected\)\)$", STEPS),
    "html": (
        [{"kind": "html"}], TEMPLATE,
        r"^the PBX at <pbx> answered GET /cfg\.txt with an HTML page instead of the configuration text \(a "
        r"reverse proxy or a login page\?\)$", STEPS),
    "html instead of the WebSocket": (
        [{"kind": "html", "path": "/example.com/devices"}], CATEGORY,
        r"^the Devices app at <devices> answered the WebSocket upgrade with an HTML page \(HTTP 200\): a reverse "
        r"proxy or a login page\?$", 4),
}

TASK = re.compile(r"^TASK \[(?:innovaphone\.pbx\.hotdesking : )?(.*?)\] \*+$")
FATAL = re.compile(r"^fatal: \[(\S+)\]: FAILED! => (\{.*\})$")


def failure(output):
    """(host, task, msg) of the task that failed the run, from ansible-playbook's output."""
    task = None
    for line in output.splitlines():
        header = TASK.match(line)
        if header:
            task = header.group(1)
        fatal = FATAL.match(line)
        if fatal:
            return fatal.group(1), task, json.loads(fatal.group(2))["msg"]
    raise AssertionError("no task failed:\n" + output[-6000:])


def site_url(site):
    return site_vars(site)["hotdesking_devices_url"]


def wait_until(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """What an undisturbed run leaves on a fresh pbxsim of its own, as comparable_state() sees it."""
    workdir = tmp_path_factory.mktemp("reference")
    sim = Sim(workdir / "pbxsim").start()
    try:
        sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % ALICE_PASSWORD)
        code, output = run_playbook(workdir, "hotdesking", site_vars(sim, hotdesking_timeout=TIMEOUT, hotdesking_preflight=False))
        assert code == 0 and changed_tasks(output) == STEPS, output[-6000:]
        return comparable_state(sim)
    finally:
        sim.stop()


def rerun_converges(site, tmp_path, reference, changed):
    """With the faults cleared, a re-run changes `changed` tasks and leaves what an undisturbed run leaves."""
    site.control("DELETE", "faults")
    wait_until(lambda: site.control("GET", "faults") == [])
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_timeout=TIMEOUT, hotdesking_preflight=False))
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == changed
    assert comparable_state(site) == reference


@pytest.mark.parametrize("faults", SURVIVED.values(), ids=list(SURVIVED))
def test_the_role_rides_out(site, tmp_path, reference, faults):
    for fault in faults:
        site.control("POST", "faults", fault)
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_timeout=TIMEOUT, hotdesking_preflight=False))
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == STEPS
    assert site.control("GET", "faults") == [], "every injected fault fired"
    assert comparable_state(site) == reference
    rerun_converges(site, tmp_path, reference, 0)


@pytest.mark.parametrize("faults, task, message, rerun_changes", FAILED.values(), ids=list(FAILED))
def test_the_role_fails_naming_the_step_and_the_cause(site, tmp_path, reference, faults, task, message,
                                                      rerun_changes):
    for fault in faults:
        site.control("POST", "faults", fault)
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_timeout=TIMEOUT, hotdesking_preflight=False))
    assert code != 0
    assert "Traceback" not in output, output[-6000:]
    host, failed_task, msg = failure(output)
    expected = message.replace("<pbx>", re.escape(site.url)).replace("<devices>", re.escape(site_url(site)))
    assert (host, failed_task) == ("site1", task), msg
    assert re.search(expected, msg), msg
    rerun_converges(site, tmp_path, reference, rerun_changes)
