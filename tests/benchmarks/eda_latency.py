# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How fast Event-Driven Ansible reacts to a hand change, with N users (default 1,000) replicated:

1. the event source innovaphone.pbx.pbx_events in this process: the time of its baseline (N rows), and the time
   from a hand change (SOAP del-attrib / add-attrib of a user's hot-desking device, the request sent) to its event
   on the queue, --changes times;
2. ansible-rulebook (.venv-eda/, `make eda-venv`) with hotdesking_remediate.yml on a site converged with N
   hot-desking users: the time from the hand removal of one user's hot-desking id until pbxsim has it back, the
   site re-converged by the rulebook's run of the hotdesking playbook, --runs times.

    .venv/bin/python tests/benchmarks/eda_latency.py [--users 1000] [--changes 20] [--runs 3]

Prints the figures (median, max) as Markdown for docs/benchmarks.md's section "Event-Driven Ansible".
"""

import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "eda"))

from eventsource import Running, Sim, site_args  # noqa: E402  pylint: disable=wrong-import-position
from role_runs import run_playbook, site_vars  # noqa: E402  pylint: disable=wrong-import-position
from test_rulebook import RULEBOOKS, Rulebook, rulebook_vars  # noqa: E402  pylint: disable=wrong-import-position


DEVICE = '<device hw="%s" text="Hotdesking" app="phone"/>'


def seed(sim, users):
    """N users, each with its hot-desking device (hw id = its h323 name), as the role leaves them."""
    names = ["u%04d" % number for number in range(users)]
    for start in range(0, users, 250):
        sim.admin("<add>%s</add>" % "".join('<user cn="User %s" h323="%s" e164="%d">%s</user>'
                                            % (name, name, 5000 + number, DEVICE % name)
                                            for number, name in enumerate(names[start:start + 250], start)))
    return names


def has_device(sim, name):
    show = sim_show(sim, name)
    return ('hw="%s"' % name) in show


def sim_show(sim, name):
    import requests                                   # pylint: disable=import-outside-toplevel
    from requests.auth import HTTPDigestAuth          # pylint: disable=import-outside-toplevel
    from simulator import ADMIN_PASSWORD              # pylint: disable=import-outside-toplevel
    response = requests.get(sim.url + "/PBX0/ADMIN/mod_cmd_login.xml", params={"cmd": "show", "user": "*",
                                                                               "search": name},
                            auth=HTTPDigestAuth("admin", ADMIN_PASSWORD), timeout=30)
    return response.text


async def source_latency(sim, names, changes):
    started = time.monotonic()
    async with Running(site_args(sim)) as source:
        baseline = time.monotonic() - started
        latencies = []
        for number in range(changes):
            name = names[(number // 2 * 37) % len(names)]
            # Remove a user's hot-desking device, then put it back: two changes.
            command = ("<del-attrib><user cn=\"User %s\">%s</user></del-attrib>" if number % 2 == 0 else
                       "<add-attrib><user cn=\"User %s\">%s</user></add-attrib>") % (name, DEVICE % name)
            sent = time.monotonic()
            await asyncio.to_thread(sim.admin, command)
            event, = await source.events(1, timeout=60)
            latencies.append(time.monotonic() - sent)
            assert event["kind"] == "user_changed" and event["h323"] == name, event
    return baseline, latencies


def reconverge(sim, names, runs, workdir):
    variables = site_vars(sim, hotdesking_users=names, hotdesking_verify_user=None, hotdesking_verify_password=None)
    status, output = run_playbook(workdir, "hotdesking", variables)
    assert status == 0, output[-3000:]
    rulebook_file = workdir / "hotdesking_remediate.yml"
    rulebook_file.write_text((RULEBOOKS / "hotdesking_remediate.yml").read_text().replace(
        "once_within: 5 minutes", "once_within: 5 seconds"))
    rulebook = Rulebook(workdir, rulebook_file, rulebook_vars(sim), workdir / "inventory.yml")
    times = []
    try:
        deadline = time.monotonic() + 120
        while sim.stats()["interfaces"].get("pbxapi", {}).get("reads", 0) < len(names):
            assert time.monotonic() < deadline and rulebook.process.poll() is None, rulebook.output()[-3000:]
            time.sleep(0.2)
        time.sleep(3)
        for number in range(runs):
            name = names[(number * 101) % len(names)]
            before = rulebook.runs()
            started = time.monotonic()
            sim.admin('<del-attrib><user cn="User %s">%s</user></del-attrib>' % (name, DEVICE % name))
            while not has_device(sim, name):
                assert time.monotonic() - started < 600, rulebook.output()[-3000:]
                time.sleep(0.05)
            times.append(time.monotonic() - started)
            while rulebook.runs() <= before or "PLAY RECAP" not in rulebook.output().rsplit("PLAY [", 1)[-1]:
                time.sleep(0.2)
            quiet = rulebook.runs()              # the run's own change may start one more run after 5 s
            time.sleep(8)
            while rulebook.runs() != quiet:
                quiet = rulebook.runs()
                time.sleep(8)
    finally:
        rulebook.stop()
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        workdir = pathlib.Path(workdir)
        (workdir / "pbxsim").mkdir()
        sim = Sim(workdir / "pbxsim").start()
        try:
            names = seed(sim, options.users)
            baseline, latencies = asyncio.run(source_latency(sim, names, options.changes))
            times = reconverge(sim, names, options.runs, workdir)
        finally:
            sim.stop()
    print("| measure | N users | runs | median (s) | max (s) |")
    print("|---|---:|---:|---:|---:|")
    print("| source baseline (replication of every row and the Devices objects) | %d | 1 | %.2f | %.2f |"
          % (options.users, baseline, baseline))
    print("| hand change → event on the queue | %d | %d | %.3f | %.3f |"
          % (options.users, len(latencies), statistics.median(latencies), max(latencies)))
    print("| hand change → site re-converged by hotdesking_remediate.yml | %d | %d | %.1f | %.1f |"
          % (options.users, len(times), statistics.median(times), max(times)))


if __name__ == "__main__":
    main()
