# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interrupted runs: ansible-playbook killed (SIGKILL to its process group and to the worker that runs the task, which
ansible-core puts in a session of its own) at chosen points of the hotdesking role's converge, then run again.
pbxsim's fault `hold` stops the run at the point: the module has sent a request and waits for the answer when it is
killed; the held request is then carried out (the PBX got it, the answer was lost) or dropped (it never arrived).
The re-run must succeed and leave exactly the state an undisturbed run leaves, with no duplicate or half-made
object."""

import collections
import contextlib
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import yaml

from role_runs import PLAYBOOKS, REPO, SECRETS, changed_tasks, run_playbook, site_vars

# Enough hot-desking users that their registrations (one write each, four at a time) have a middle.
USERS = ["user%02d" % number for number in range(1, 21)]
TEMPLATE, BASE, TEMP = "Hot Desking", "hot-desk-base", "temp"
CATEGORY, PHONE_CONFIG, EXPERT_CONFIG = "site1 Hotdesking", "Phone", "Hot Desking"
REACH_SECONDS = 120       # for a run to reach its kill point on a busy machine


def employees():
    return "<add>%s</add>" % "".join('<user cn="User %02d" h323="user%02d" e164="2%02d" pwd="Employee-Pw-%02d"/>' % (
        number, number, number, number) for number in range(1, len(USERS) + 1))


def office_vars(sim):
    # The kill points count requests of the steps: without the preflight's reads before them.
    return site_vars(sim, hotdesking_users=USERS, hotdesking_preflight=False)


def _comparable(state):
    """The state without what differs between two equal converges: ids, guids, sessions, encrypted passwords (a
    password reads `********`, set or not shows); the Devices app's category ids replaced by the categories' names.
    Lists keep their duplicates."""
    def attributes(attrs):
        return dict((k, v) for k, v in attrs.items() if k not in ("guid", "pwdx"))

    def element(item):
        return {"tag": item["tag"], "attrs": attributes(item["attrs"]),
                "children": [element(child) for child in item["children"] if child["tag"] != "sessions"]}

    devices = state["devices"]
    names = dict((category["id"], category["name"]) for category in devices["categories"])
    return {
        "objects": sorted((element(obj) for obj in state["pbx"]["objects"]), key=lambda o: o["attrs"]["cn"]),
        "registrations": state["pbx"]["registrations"],
        "config": state["config"],
        "categories": sorted((dict((k, v) for k, v in c.items() if k != "id") for c in devices["categories"]),
                             key=lambda c: c["name"]),
        "configs": sorted((dict(dict((k, v) for k, v in c.items() if k != "id"),
                                categories=sorted(names.get(ref, ref) for ref in c["categories"]))
                           for c in devices["configs"]), key=lambda c: (c["type"], c.get("desc", ""))),
        "devices": devices["devices"], "codes": devices["codes"], "phones": state["phones"],
    }


@pytest.fixture(scope="module")
def undisturbed(pbxsim, tmp_path_factory):
    """The comparable state an undisturbed run leaves on a fresh PBX with the employees."""
    pbxsim.reset()
    pbxsim.admin(employees())
    code, output = run_playbook(tmp_path_factory.mktemp("undisturbed"), "hotdesking", office_vars(pbxsim))
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 7
    return _comparable(pbxsim.state())


@pytest.fixture
def office(sim):
    sim.admin(employees())
    return sim


class Run:
    """ansible-playbook hotdesking in a session (and process group) of its own, output to a file."""

    def __init__(self, tmp_path, variables):
        inventory = tmp_path / "killed-inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"site1": variables}}}))
        self.log = tmp_path / "killed-run.log"
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"))
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(PLAYBOOKS / "hotdesking.yml"),
                   "-i", str(inventory)]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

        self.tree = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        """A test that failed before its kill leaves nothing running."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        for pid in running(self.tree):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def output(self):
        return self.log.read_text(errors="replace")

    def wait_held(self, sim, count):
        """The requests the run's hold caught, once `count` are held; fails if the run ends first."""
        deadline = time.monotonic() + REACH_SECONDS
        while time.monotonic() < deadline:
            held = sim.control("GET", "holds")
            if len(held) >= count:
                return held
            assert self.process.poll() is None, "the run ended before its kill point:\n" + self.output()[-6000:]
            time.sleep(0.05)
        raise AssertionError("the run did not reach its kill point in %d s:\n%s" % (REACH_SECONDS, self.output()))

    def kill(self, workers=True):
        """SIGKILL to ansible-playbook's process group and, with `workers`, to each of its workers: a worker makes a
        session of its own (ansible-core detaches it from the terminal), so the group alone leaves the task that runs
        going on. Returns the workers, which without `workers` may still run."""
        os.kill(self.process.pid, signal.SIGSTOP)     # forks no new worker while the tree is read
        tree = self.tree = descendants(self.process.pid)
        os.killpg(self.process.pid, signal.SIGKILL)
        for pid in tree if workers else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        if workers:
            gone(tree)
        output = self.output()
        assert [secret for secret in SECRETS if secret in output] == [], "secrets in the killed run's output"
        assert "PLAY RECAP" not in output
        return tree


def processes():
    """{pid: (state, ppid, pgid)} of every process."""
    found = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found[int(stat.parent.name)] = (fields[0], int(fields[1]), int(fields[2]))
    return found


def descendants(pid):
    table = processes()
    found, parents = [], {pid}
    while parents:
        children = [child for child, (_state, ppid, _pgid) in table.items() if ppid in parents and child not in found]
        found.extend(children)
        parents = set(children)
    return found


def gone(pids, seconds=30):
    """Wait until none of `pids` runs."""
    deadline = time.monotonic() + seconds
    while running(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running(pids) == [], "a process of the killed run lives on"


def running(pids):
    """Which of `pids` run still, or lead a process group that does (zombies, which nothing may reap in a
    container, do not count)."""
    pids = set(pids)
    return sorted(pid for pid, (state, _ppid, pgid) in processes().items()
                  if state != "Z" and (pid in pids or pgid in pids))


def objects(state):
    return state["pbx"]["objects"]


def named(state, cn):
    return [obj for obj in objects(state) if obj["attrs"]["cn"] == cn]


def registered(state):
    """The users with a hot-desking registration (a device whose hw is their own name), one entry per device."""
    return sorted(obj["attrs"]["h323"] for obj in objects(state) for child in obj["children"]
                  if child["tag"] == "device" and child["attrs"]["hw"] == obj["attrs"].get("h323"))


def pbx0(state, layer):
    return state["config"][layer]["modules"].get("PBX0", {}).get("reg-no-pwd")


def configs(state, kind):
    return [config["desc"] for config in state["devices"]["configs"] if config["type"] == kind]


def category_names(state):
    return [category["name"] for category in state["devices"]["categories"]]


class Point:
    """A kill point: the hold that stops the run there, how many requests it holds, and what the PBX holds at the
    kill (`at_kill`) and after the held requests were carried out (`applied`) or lost (`lost`)."""

    def __init__(self, hold, held, at_kill, applied=None, lost=None):
        self.hold = hold
        self.held = held
        self.at_kill = at_kill
        self.applied = applied or at_kill
        self.lost = lost or at_kill


POINTS = {
    # The users step's first request (its bulk read): the template step is done, nothing of the users step is.
    "after the template step": Point(
        {"path": "/PBX0/ADMIN/mod_cmd_login.xml", "after": 2}, 1,
        lambda s: len(named(s, TEMPLATE)) == 1 and named(s, "Hot Desk Base") == []),
    # The temp user's add, after the base user's: in the middle of the users.
    "between the base and the temp user": Point(
        {"body": "&lt;add&gt;", "after": 2}, 1,
        lambda s: len(named(s, "Hot Desk Base")) == 1 and named(s, TEMP) == [],
        applied=lambda s: len(named(s, TEMP)) == 1),
    # Registrations 9 to 12 of 21 on their way (four at a time): 8 made, 9 left to send.
    "in the middle of the registrations": Point(
        {"body": "add-attrib", "after": 8, "count": 4}, 4,
        lambda s: len(registered(s)) == 8,
        applied=lambda s: len(registered(s)) == 12),
    "between config change and config write": Point(
        {"path": "/!config write"}, 1,
        lambda s: (pbx0(s, "current"), pbx0(s, "written"), pbx0(s, "active")) == ("0", "4", "4"),
        applied=lambda s: (pbx0(s, "current"), pbx0(s, "written"), pbx0(s, "active")) == ("0", "0", "4")),
    "between config write and config activate": Point(
        {"path": "/!config activate"}, 1,
        lambda s: (pbx0(s, "current"), pbx0(s, "written"), pbx0(s, "active")) == ("0", "0", "4"),
        applied=lambda s: (pbx0(s, "current"), pbx0(s, "written"), pbx0(s, "active")) == ("0", "0", "0")),
    "creating the Devices category": Point(
        {"mt": "AddCategory"}, 1,
        lambda s: len(registered(s)) == len(USERS) + 1 and category_names(s) == [],
        applied=lambda s: category_names(s) == [CATEGORY]),
    "creating the phone configuration": Point(
        {"mt": "AddDeviceConfig"}, 1,
        lambda s: category_names(s) == [CATEGORY] and s["devices"]["configs"] == [],
        applied=lambda s: configs(s, "PHONE") == [PHONE_CONFIG]),
    "creating the expert configuration": Point(
        {"mt": "AddDeviceConfig", "after": 1}, 1,
        lambda s: configs(s, "PHONE") == [PHONE_CONFIG] and configs(s, "EXPERT") == [],
        applied=lambda s: configs(s, "EXPERT") == [EXPERT_CONFIG]),
}
# A read held at the kill changes nothing whether it is carried out or not: once is enough.
CASES = [(point, drop) for point in POINTS for drop in (False, True)
         if not (drop and point == "after the template step")]
CASE_IDS = ["%s, %s" % (point, "lost" if drop else "carried out") for point, drop in CASES]


def assert_whole(state):
    """Exactly one of each object, each registration once, nothing half-made."""
    counts = collections.Counter(obj["attrs"]["cn"] for obj in objects(state))
    assert [cn for cn, count in counts.items() if count > 1] == []
    template, = named(state, TEMPLATE)
    assert {"tag": "pseudo", "attrs": {"type": "config"}, "children": []} in template["children"]
    for cn in ("Hot Desk Base", TEMP):
        user, = named(state, cn)
        assert user["attrs"]["config"] == TEMPLATE and user["attrs"]["pwd"] == "********"
    assert registered(state) == sorted([BASE] + USERS)
    category, = state["devices"]["categories"]
    assert (category["name"], category["config"]) == (CATEGORY, True)
    assert configs(state, "PHONE") == [PHONE_CONFIG] and configs(state, "EXPERT") == [EXPERT_CONFIG]
    assert all(config["categories"] == [category["id"]] for config in state["devices"]["configs"])
    assert (pbx0(state, "current"), pbx0(state, "written"), pbx0(state, "active")) == ("0", "0", "0")


@pytest.mark.parametrize("point, drop", CASES, ids=CASE_IDS)
def test_a_killed_run_is_run_again_and_converges(office, tmp_path, undisturbed, point, drop):
    kill_point = POINTS[point]
    office.control("POST", "faults", dict(kill_point.hold, kind="hold"))
    with Run(tmp_path, office_vars(office)) as run:
        held = run.wait_held(office, kill_point.held)
        assert len(held) == kill_point.held
        assert kill_point.at_kill(office.state()), "the run is not at the kill point"
        run.kill()
    office.control("POST", "holds/release", {"drop": drop})
    assert office.control("GET", "faults") == [], "the hold is used up"
    assert (kill_point.lost if drop else kill_point.applied)(office.state()), "the kill left another state"
    assert_converges(office, tmp_path, undisturbed)


def assert_converges(sim, tmp_path, undisturbed):
    code, output = run_playbook(tmp_path, "hotdesking", office_vars(sim))
    assert code == 0, output[-6000:]
    state = sim.state()
    assert_whole(state)
    assert _comparable(state) == undisturbed


def test_a_killed_process_group_lets_the_running_task_finish(office, tmp_path, undisturbed):
    """SIGKILL to ansible-playbook's process group alone (what `kill -9 -<pgid>` does): the worker of the task that
    runs is in a session of its own and finishes the task, with nobody to report to; no later task runs."""
    office.control("POST", "faults", dict(POINTS["in the middle of the registrations"].hold, kind="hold"))
    with Run(tmp_path, office_vars(office)) as run:
        run.wait_held(office, 4)
        workers = run.kill(workers=False)
        assert running(workers), "the task's worker runs on"
        office.control("POST", "holds/release")
        gone(workers, REACH_SECONDS)
    state = office.state()
    assert registered(state) == sorted([BASE] + USERS) and category_names(state) == []
    assert_converges(office, tmp_path, undisturbed)
