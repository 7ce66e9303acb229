# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-rulebook (from PyPI, in .venv-eda/: `make eda-venv`) with extensions/eda/rulebooks/hotdesking_remediate.yml
against pbxsim: a hot-desking hardware id removed by hand comes back by the rulebook's run of the hotdesking playbook;
a hand change to an object the role does not manage starts no run. Loopback only, bounded in time, and the
ansible-rulebook process is stopped at the end."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from eventsource import APP_PASSWORD, DEVICES_PASSWORD, REPO, Sim

from role_runs import ALICE_PASSWORD, SECRETS, run_playbook, site_vars

EDA_VENV = pathlib.Path(os.environ.get("EDA_VENV", REPO / ".venv-eda"))
RULEBOOKS = REPO / "extensions" / "eda" / "rulebooks"
RECAP = "PLAY RECAP"
DEADLINE = 240          # seconds for the whole scenario


@pytest.fixture
def site(tmp_path):
    (tmp_path / "pbxsim").mkdir()
    sim = Sim(tmp_path / "pbxsim").start()
    try:
        sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % ALICE_PASSWORD)
        yield sim
    finally:
        sim.stop()


def alice_devices(sim):
    alice = sim.objects()["alice"]
    return [child["attrs"]["hw"] for child in alice["children"] if child["tag"] == "device"]


def wait_for(what, predicate, deadline):
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.25)


class Rulebook:
    """ansible-rulebook in its own process group, its output in a file."""

    def __init__(self, tmp_path, rulebook, variables, inventory):
        binary = EDA_VENV / "bin" / "ansible-rulebook"
        assert binary.exists(), "no %s: run `make eda-venv` (ansible-rulebook from PyPI)" % binary
        assert shutil.which("java"), "no Java runtime: tests/tools/install_java.sh installs openjdk-17-jre-headless"
        self.log = tmp_path / "rulebook.log"
        variables_file = tmp_path / "vars.yml"
        variables_file.write_text(yaml.safe_dump(variables))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOME=str(tmp_path / "ansible-home"), PWD=str(tmp_path),
                   # ansible-runner starts the ansible-playbook of the collection's venv, which has its modules' deps
                   PATH=os.pathsep.join((str(pathlib.Path(sys.executable).parent), str(EDA_VENV / "bin"),
                                         os.environ["PATH"])))
        with open(self.log, "w", encoding="utf-8") as out:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [str(binary), "--rulebook", str(RULEBOOKS / rulebook), "-i", str(inventory),
                 "--vars", str(variables_file), "-v"],
                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self):
        return self.log.read_text(encoding="utf-8", errors="replace")

    def runs(self):
        return self.output().count(RECAP)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def rulebook_vars(sim):
    return {
        "pbx_event_sites": [{"name": "site1", "url": sim.url, "app_name": sim.ready["app_name"],
                             "app_password": APP_PASSWORD, "devices_url": sim.devices_url,
                             "devices_password": DEVICES_PASSWORD, "timeout": 10}],
        "hotdesking_role_users": ["hot-desk-base", "temp"],
        "hotdesking_role_templates": ["Hot Desking"],
        "hotdesking_role_categories": ["site1 Hotdesking"],
        "hotdesking_role_device_configs": ["Phone", "Hot Desking"],
    }


def wait_for_baseline(sim, rulebook, deadline):
    """Ready when the source has read its baseline: ReplicateStart and ReplicateNext reached the PBX, then a
    moment for the Devices session's."""
    wait_for("the source's baseline", lambda: rulebook.process.poll() is None and sim.stats()["interfaces"]
             .get("pbxapi", {}).get("reads", 0) >= 2, deadline)
    time.sleep(2)


def settled(rulebook, deadline, quiet=8):
    """The number of runs once no run has started nor is running for `quiet` seconds."""
    while True:
        runs = rulebook.runs()
        time.sleep(quiet)
        output = rulebook.output()
        if output.count(RECAP) == runs and output.rsplit("PLAY [", 1)[-1].count(RECAP) == 1:
            return runs
        assert time.monotonic() < deadline, "the rulebook's runs did not settle"


def test_rulebook_puts_back_a_removed_hotdesking_id(site, tmp_path):
    deadline = time.monotonic() + DEADLINE
    variables = site_vars(site)
    status, output = run_playbook(tmp_path, "hotdesking", variables)
    assert status == 0, output[-4000:]
    assert "alice" in alice_devices(site)
    inventory = tmp_path / "inventory.yml"          # written by run_playbook: site1 and its variables
    # The shipped rule runs at most once per site in 5 minutes. The test's copy allows one per second, so that a
    # hand change to an object the role does not manage would start a run if the rule matched it (instead of
    # being swallowed by the throttle).
    shipped = (RULEBOOKS / "hotdesking_remediate.yml").read_text()
    rule, = yaml.safe_load(shipped)[0]["rules"]
    assert rule["throttle"] == {"once_within": "5 minutes", "group_by_attributes": ["event.site"]}
    copy = tmp_path / "hotdesking_remediate.yml"
    copy.write_text(shipped.replace("once_within: 5 minutes", "once_within: 1 second"))
    rulebook = Rulebook(tmp_path, copy, rulebook_vars(site), inventory)
    try:
        wait_for_baseline(site, rulebook, deadline)
        assert rulebook.runs() == 0, rulebook.output()[-4000:]

        site.admin('<del-attrib><user cn="Alice"><device hw="alice"/></user></del-attrib>')
        assert "alice" not in alice_devices(site)
        wait_for("the rulebook's run", lambda: rulebook.runs() >= 1 or rulebook.process.poll() is not None,
                 deadline)
        assert rulebook.process.poll() is None, rulebook.output()[-6000:]
        wait_for("the hot-desking id back", lambda: "alice" in alice_devices(site), deadline)
        assert "failed=0" in rulebook.output(), rulebook.output()[-6000:]
        # The run's own change (the id back) is a change the rule matches: one more run, which changes nothing.
        runs = settled(rulebook, deadline)
        assert runs <= 2 and "alice" in alice_devices(site), rulebook.output()[-6000:]

        # A hand change to an object the role does not manage: a user of no hot-desking, a template of another use.
        site.admin('<add><user cn="Zed" h323="zed" e164="999"/></add>')
        site.admin('<add><user cn="Other Template"><pseudo type="config"/></user></add>')
        time.sleep(8)
        assert rulebook.runs() == runs, rulebook.output()[-6000:]
        assert rulebook.process.poll() is None, rulebook.output()[-6000:]
    finally:
        rulebook.stop()
    output = rulebook.output()
    assert [secret for secret in SECRETS + (APP_PASSWORD,) if secret in output] == []


def test_drift_report_records_without_converging(site, tmp_path):
    deadline = time.monotonic() + DEADLINE
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"site1": {}}}}))
    before = site.objects()
    rulebook = Rulebook(tmp_path, "hotdesking_drift_report.yml", rulebook_vars(site), inventory)
    log = tmp_path / "hotdesking-drift.jsonl"
    try:
        wait_for_baseline(site, rulebook, deadline)
        site.admin('<modify><user cn="Alice" h323="alice" e164="102"/></modify>')
        wait_for("the drift record", lambda: log.exists() and log.read_text().strip(), deadline)
    finally:
        rulebook.stop()
    record, = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["site"] == "site1" and record["what"] == "user_changed Alice"
    assert record["fields"]["e164"] == {"old": "101", "new": "102"} and record["fields"]["pwd"] == "changed"
    assert record["who"].startswith("not reported") and record["time"].endswith("Z")
    assert "user_changed Alice (e164, pwd)" in rulebook.output()
    after = site.objects()
    assert set(after) == set(before) and after["alice"]["children"] == before["alice"]["children"]
    assert ALICE_PASSWORD not in log.read_text() + rulebook.output()
