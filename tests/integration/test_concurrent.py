# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent runs against one PBX, their writes interleaved at chosen points with pbxsim's fault `hold`: two runs
that change different objects keep every change; a change made by hand between a module's read and its write is
kept; and the limit: two runs changing different fields of one object at the same instant lose one change over SOAP
(modify replaces the whole object), which a re-run of each puts right."""

import concurrent.futures
import re
import time
import xml.etree.ElementTree as ET

import pytest
import requests
import yaml
from requests.auth import HTTPDigestAuth

from role_runs import SECRETS
from simulator import ADMIN_PASSWORD, ansible_playbook

STAFF = ["emp%02d" % number for number in range(1, 17)]
RECAP = re.compile(r"^localhost\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", re.M)
SHOW_BY_GUID = "&lt;show&gt;&lt;user guid="          # Pbx.fresh(): the re-read right before a modify
MODIFY = "&lt;modify&gt;"
REACH_SECONDS = 120


def long_name(h323):
    return "Employee %s" % h323[3:]


@pytest.fixture
def staff(sim):
    sim.admin("<add>%s</add>" % "".join('<user cn="%s" h323="%s" e164="3%s"/>' % (long_name(h323), h323, h323[3:])
                                        for h323 in STAFF))
    return sim


@pytest.fixture
def pool(sim):
    """Two threads for playbook runs; a test that fails while requests are held drops them, so its runs end."""
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    yield executor
    sim.control("DELETE", "faults")
    executor.shutdown(wait=True)


def playbook(tmp_path, name, tasks):
    """An inline playbook of PBX module tasks against the sim of the extra vars pbx_url and pbx_admin_password."""
    path = tmp_path / (name + ".yml")
    path.write_text(yaml.safe_dump([{
        "name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "module_defaults": {"group/innovaphone.pbx.pbx": {
            "url": "{{ pbx_url }}", "password": "{{ pbx_admin_password }}"}},
        "tasks": tasks,
    }], sort_keys=False))
    return path


def register(users, **flags):
    return {"name": "Hot-desking registrations", "innovaphone.pbx.hotdesk_registration": dict(flags, users=users)}


def rename(users, suffix):
    return {"name": "Long names", "innovaphone.pbx.users": {
        "users": [{"name": h323, "long_name": "%s (%s)" % (long_name(h323), suffix)} for h323 in users]}}


def run(sim, path, *args):
    """Run an inline playbook; its number of changed tasks (it must succeed and show no secret)."""
    completed = ansible_playbook(path, {"pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD}, *args)
    output = completed.stdout + completed.stderr
    assert [secret for secret in SECRETS if secret in output] == [], "secrets in the output of %s" % path.name
    assert completed.returncode == 0, output[-6000:]
    changed, failed = RECAP.search(output).groups()
    assert failed == "0"
    return int(changed)


def people(state):
    """{h323: (long name, extension, hide, the hw ids of its devices, its device flags)} of every user."""
    return dict((obj["attrs"]["h323"], (obj["attrs"]["cn"], obj["attrs"].get("e164"), obj["attrs"].get("hide"),
                                        [child["attrs"]["hw"] for child in obj["children"] if child["tag"] == "device"],
                                        [child["attrs"].get("trusted") for child in obj["children"]
                                         if child["tag"] == "device"]))
                for obj in state["pbx"]["objects"] if obj["attrs"].get("h323"))


def wait_held(sim, count, runs=()):
    """The held requests once `count` are held; fails as soon as one of the `runs` (futures) ended instead."""
    deadline = time.monotonic() + REACH_SECONDS
    while time.monotonic() < deadline:
        held = sim.control("GET", "holds")
        if len(held) >= count:
            return held
        for future in runs:
            if future.done():
                future.result()
                raise AssertionError("a run ended before it reached the hold")
        time.sleep(0.05)
    raise AssertionError("not %d requests held after %d s" % (count, REACH_SECONDS))


def hand_modify(sim, h323, **attributes):
    """A SOAP modify of the whole user as another tool sends it: what the PBX holds now, `attributes` changed."""
    obj, = [o for o in sim.state()["pbx"]["objects"] if o["attrs"].get("h323") == h323]
    user = ET.Element("user", dict(obj["attrs"], **attributes))
    for child in obj["children"]:
        ET.SubElement(user, child["tag"], child["attrs"])
    sim.admin("<modify>%s</modify>" % ET.tostring(user, encoding="unicode"))


def hand_device(sim, h323, hw):
    sim.admin('<add-attrib><user h323="%s"><device hw="%s" text="desk phone"/></user></add-attrib>' % (h323, hw))


def test_two_runs_at_once_keep_every_change_of_both(staff, tmp_path, pool):
    """Run 1 registers A and renames A', run 2 renames B' and registers B. Each run's first writes wait until the
    other run has read the PBX too, so each writes over a read that lacks the other's changes."""
    a, a_, b, b_ = STAFF[0:4], STAFF[4:8], STAFF[8:12], STAFF[12:16]
    first = playbook(tmp_path, "first", [register(a), rename(a_, "first")])
    second = playbook(tmp_path, "second", [rename(b_, "second"), register(b)])
    before = people(staff.state())
    # Four writes at once per module (its default `parallel`): run 1's four registrations and run 2's four renames.
    staff.control("POST", "faults", {"kind": "hold", "body": "add-attrib", "count": 4})
    staff.control("POST", "faults", {"kind": "hold", "body": MODIFY, "count": 4})
    runs = [pool.submit(run, staff, first), pool.submit(run, staff, second)]
    wait_held(staff, 8, runs)
    assert people(staff.state()) == before, "nothing is written while both runs wait"
    staff.control("POST", "holds/release")
    assert [future.result(timeout=REACH_SECONDS * 2) for future in runs] == [2, 2]

    wanted = dict(before)
    for h323 in a + b:
        wanted[h323] = wanted[h323][:3] + ([h323], [None])
    for h323, suffix in [(h323, "first") for h323 in a_] + [(h323, "second") for h323 in b_]:
        wanted[h323] = ("%s (%s)" % (long_name(h323), suffix),) + wanted[h323][1:]
    assert people(staff.state()) == wanted
    assert run(staff, first) == 0 and run(staff, second) == 0


def test_a_hand_change_while_a_registration_is_written_is_kept(staff, tmp_path, pool):
    """A registration is added as one <device> (add-attrib): a change of the user's attributes and another device
    made by hand while it is on its way both stay."""
    staff.control("POST", "faults", {"kind": "hold", "body": "add-attrib"})
    module = pool.submit(run, staff, playbook(tmp_path, "register", [register(["emp01"])]))
    wait_held(staff, 1, [module])
    hand_modify(staff, "emp01", e164="391")
    hand_device(staff, "emp01", "009033000001")
    staff.control("POST", "holds/release")
    assert module.result(timeout=REACH_SECONDS) == 1
    assert people(staff.state())["emp01"] == ("Employee 01", "391", None, ["009033000001", "emp01"], [None, None])


@pytest.mark.parametrize("task, result", [
    (rename(["emp01"], "new"), ("Employee 01 (new)", "391", None, ["emp01", "009033000001"], [None, None])),
    (register(["emp01"], trusted=True), ("Employee 01", "391", None, ["emp01", "009033000001"], ["true", None])),
], ids=["users: a long name", "hotdesk_registration: a flag of the registration"])
def test_a_hand_change_before_the_re_read_of_a_modify_is_kept(staff, tmp_path, pool, task, result):
    """A modify replaces the whole object, so the module re-reads the object right before it: a change made by hand
    after the module's bulk read (here: while that re-read is on its way) is in the object the module writes."""
    hand_device(staff, "emp01", "emp01")             # a registration, for the flag to change
    staff.control("POST", "faults", {"kind": "hold", "body": SHOW_BY_GUID})
    module = pool.submit(run, staff, playbook(tmp_path, "modify", [task]))
    wait_held(staff, 1, [module])
    hand_modify(staff, "emp01", e164="391")
    hand_device(staff, "emp01", "009033000001")
    staff.control("POST", "holds/release")
    assert module.result(timeout=REACH_SECONDS) == 1
    assert people(staff.state())["emp01"] == result


def test_a_hand_change_of_pbx0_before_config_change_is_kept(sim, tmp_path, pool):
    """`config change` replaces the whole PBX0 line: pbx_settings reads the line again right before it, so a flag set
    by hand after the module's first read (here: while it reads the written layer) stays."""
    sim.control("POST", "faults", {"kind": "hold", "path": "/cfg.txt", "after": 1})
    module = pool.submit(run, sim, playbook(tmp_path, "settings", [{
        "name": "Registrations without password", "innovaphone.pbx.pbx_settings": {
            "registrations_without_password": 0}}]))
    wait_held(sim, 1, [module])
    answer = requests.get(sim.url + "/!config%20change%20PBX0%20/reg-no-pwd%204%20/name%20main-site", timeout=30,
                          auth=HTTPDigestAuth("admin", ADMIN_PASSWORD))
    assert answer.text == "ok"
    sim.control("POST", "holds/release")
    assert module.result(timeout=REACH_SECONDS) == 1
    config = sim.state()["config"]
    assert config["current"]["modules"]["PBX0"] == config["active"]["modules"]["PBX0"] == {
        "reg-no-pwd": "0", "name": "main-site"}


def test_two_modifies_of_one_user_at_the_same_instant_lose_one_change_and_re_runs_converge(staff, tmp_path, pool):
    """The limit of SOAP: modify replaces the whole object and has no condition, so two runs that re-read a user at
    the same instant and each change another field of it write over each other; both report success. Nothing the
    client does can prevent it; running each again brings everything to the wanted state."""
    name_run = playbook(tmp_path, "name", [rename(["emp01"], "R1")])
    extension_run = playbook(tmp_path, "extension", [{"name": "Extension", "innovaphone.pbx.users": {
        "users": [{"name": "emp01", "extension": "399"}]}}])
    # Each run's modify waits once it is sent: both re-read emp01 before either wrote.
    staff.control("POST", "faults", {"kind": "hold", "body": "(R1)"})
    staff.control("POST", "faults", {"kind": "hold", "body": 'e164="399"'})
    runs = [pool.submit(run, staff, name_run), pool.submit(run, staff, extension_run)]
    held = dict((request["rule"]["body"], request["id"]) for request in wait_held(staff, 2, runs))
    staff.control("POST", "holds/release", {"ids": [held["(R1)"]]})
    assert runs[0].result(timeout=REACH_SECONDS) == 1
    assert people(staff.state())["emp01"][:2] == ("Employee 01 (R1)", "301")
    staff.control("POST", "holds/release", {"ids": [held['e164="399"']]})
    assert runs[1].result(timeout=REACH_SECONDS) == 1
    assert people(staff.state())["emp01"][:2] == ("Employee 01", "399"), "the second modify undid the first"

    assert run(staff, name_run) == 1
    assert run(staff, extension_run) == 0
    assert people(staff.state())["emp01"][:2] == ("Employee 01 (R1)", "399")


def test_a_registration_whose_answer_is_late_is_sent_again_after_a_show_and_the_duplicate_left_is_drift(
        staff, tmp_path, pool):
    """The PBX takes longer than the module's timeout over an add-attrib: the module reads the user (show) and, as
    the registration is not there, sends the add-attrib again. When the PBX gets round to the first one too, the
    user holds its hot-desking hardware id twice: a check run reports it as drift and writes nothing, the next run
    removes the duplicate, and the one after changes nothing."""
    staff.control("POST", "faults", {"kind": "hold", "body": "add-attrib"})
    task = register(["emp01"])
    task["innovaphone.pbx.hotdesk_registration"]["timeout"] = 3
    path = playbook(tmp_path, "register", [task])
    module = pool.submit(run, staff, path)
    wait_held(staff, 1, [module])
    assert module.result(timeout=REACH_SECONDS) == 1          # the second add-attrib made the registration
    assert people(staff.state())["emp01"][3] == ["emp01"]
    staff.control("POST", "holds/release")                    # the PBX gets round to the first one
    assert people(staff.state())["emp01"][3] == ["emp01", "emp01"]
    writes = staff.stats()["writes"]
    assert run(staff, path, "--check") == 1
    assert staff.stats()["writes"] == writes
    assert run(staff, path) == 1
    assert people(staff.state())["emp01"][3] == ["emp01"]
    assert run(staff, path) == 0


def test_two_runs_registering_one_user_at_once_leave_a_duplicate_the_next_run_removes(staff, tmp_path, pool):
    """Both runs read the user without its registration and both add it (add-attrib has no duplicate check and no
    condition): the user holds its hot-desking hardware id twice. That is drift: the next run removes the
    duplicate (one device stays, with its flags), and the one after changes nothing."""
    same = playbook(tmp_path, "same", [register(["emp01"])])
    staff.control("POST", "faults", {"kind": "hold", "body": "add-attrib", "count": 2})
    runs = [pool.submit(run, staff, same), pool.submit(run, staff, same)]
    wait_held(staff, 2, runs)
    staff.control("POST", "holds/release")
    assert [future.result(timeout=REACH_SECONDS) for future in runs] == [1, 1]
    assert people(staff.state())["emp01"][3] == ["emp01", "emp01"]
    check = playbook(tmp_path, "check", [dict(register(["emp01"]), register="drift")] + [{
        "name": "Drift", "ansible.builtin.assert": {"that": ["drift.changes == [{'user': 'emp01', 'action': 'update', "
                                                             "'fields': ['duplicates']}]"]}}])
    assert run(staff, check, "--check") == 1
    assert run(staff, same) == 1
    assert people(staff.state())["emp01"][3:] == (["emp01"], [None])
    assert run(staff, same) == 0
