# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmark of issue 10 (`make bench`): the users and hotdesk_registration modules, the hotdesking role on one
site and on many, against the uri loop, the wire limit and Ansible's floor, all driven from this one process
so that the ratios are comparable on a noisy machine. Writes docs/benchmarks.md and docs/benchmarks-*.png.

    .venv/bin/python tests/benchmarks/bench.py                      # everything (make bench)
    .venv/bin/python tests/benchmarks/bench.py --quick              # small sizes, one run (development)
    .venv/bin/python tests/benchmarks/bench.py --smoke              # N=10, one run, no plots (make bench-smoke)
    .venv/bin/python tests/benchmarks/bench.py --only users,sites   # some scenarios: users registrations uri
                                                                    # role sites (sites includes the 1-site point)
    .venv/bin/python tests/benchmarks/bench.py --only users,registrations --apis pbxadminapi --merge-page
                                                                    # only the PbxAdminApi module rows, written
                                                                    # into the page, every other row kept

Passes: pass 1 runs every block once; passes 2 to --runs (3) run again every block whose pass took at most
--repeat-under seconds (60), and the costlier ones, cheapest first, as long as the benchmark then still ends
within --budget-minutes (45). So every row is the median of 3 runs except where a block is so slow that it would
not fit (the table says how many runs each row has); --budget-minutes 0 runs every block 3 times.

What runs, per pass:
- module blocks, per module (users, registrations), API (--apis: soap, pbxadminapi: the module given the App
  object's credentials), N and latency (one pbxsim per latency):
  fresh:  reset pbxsim (registrations: seed the N users), ours; reset again, the wire client.
  steady: reset and seed the converged state, ours and the wire client with no change; change 1 % of the
          entries by hand (SOAP), ours in check mode (--check --diff) and the wire client in check mode.
  A one-task no-op playbook (Ansible's floor) runs at the start of every module block; the steady blocks of the
  first latency also run tests/benchmarks/noop_input.yml (the floor with the module's input: the same extra vars,
  the list templated into a task argument and validated as a list).
- uri blocks, per module and latency: the uri loop (tests/benchmarks/uri_loop.yml, one SOAP show + one write
  per entry) on a fresh PBX with --uri-n entries, then its shows alone (the compliance baseline). Its time at N
  is extrapolated linearly: floor + N x (its time - floor) / uri-n.
- role blocks: playbooks/hotdesking.yml fresh, again (no change), playbooks/compliance.yml, on one site with
  --role-users hot-desking users, on one site of the many-sites pbxsim with --site-users (the 1-site point of
  the sites plot), and on --sites PBXs of one pbxsim (--count) with --site-users each, per --forks. pbxsim
  records the requests of each run (/_sim/record); the wire limit is their replay by a plain client (per
  site in order, sites --forks at a time). The floor there is the no-op playbook over the same inventory
  with the same forks.
Each measured run checks what it must have done (writes of a fresh run, none on a no-change or check run, the
drift found, the wire client's requests equal to the module's per pbxsim interface); a deviation is noted in
the table and makes the exit status 1.
"""

import argparse
import functools
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE))

from simulator import (  # noqa: E402  pylint: disable=wrong-import-position
    ADMIN_PASSWORD, APP_NAME, APP_PASSWORD, PBX_PASSWORD, REPO, Sim)
import measure  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position
import wire  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOKS = REPO / "playbooks"
DEVICES_PASSWORD = "pbxsim-devices"   # pbxsim's default
BASE_PASSWORD = "Bench-Base-Pw-2718"
TEMP_PASSWORD = "Bench-Temp-Pw-3141"
MODULES = {"users": "innovaphone.pbx.users", "registrations": "innovaphone.pbx.hotdesk_registration"}
SCENARIOS = ("users", "registrations", "uri", "role", "sites")
APIS = ("soap", "pbxadminapi")      # the module rows' PBX API (pbx_api); soap rows have the key's api None
API_NAMES = {"soap": "SOAP", "pbxadminapi": "PbxAdminApi"}
SEED_BATCH = 500
RESERVE_S = 60.0   # kept back from the budget for the report


# --- what the PBX holds ------------------------------------------------------------------------------
def bench_entries(count):
    """The users of the module rows (the users module's fields)."""
    return [{"name": "bench%05d" % i, "long_name": "Bench User %05d" % i, "extension": str(100000 + i),
             "password": "Bench-Pw-%05d" % i, "hide_from_ldap": i % 2 == 0} for i in range(count)]


def desk_entries(count):
    """The hot-desking users a site of the role rows has on its PBX."""
    return [{"name": "desk%05d" % i, "long_name": "Desk %05d" % i, "extension": str(200000 + i),
             "password": "Desk-Pw-%05d" % i} for i in range(count)]


def user_element(entry, password=True, device=False):
    attributes = {"cn": entry["long_name"], "h323": entry["name"], "e164": entry["extension"]}
    if password and entry.get("password"):
        attributes["pwd"] = entry["password"]
    if entry.get("hide_from_ldap"):
        attributes["hide"] = "true"
    element = ET.Element("user", attributes)
    if device:
        ET.SubElement(element, "device", {"hw": entry["name"], "text": wire.HOTDESK_TEXT, "app": wire.HOTDESK_APP})
    return element


def seed(url, elements):
    """Add the objects through SOAP Admin(), SEED_BATCH per command."""
    pbx = wire.Pbx(url, ADMIN_PASSWORD)
    for start in range(0, len(elements), SEED_BATCH):
        add = ET.Element("add")
        add.extend(elements[start:start + SEED_BATCH])
        pbx.admin(add)


def drift_count(count, share):
    return max(1, round(count * share))


def apply_drift(url, kind, entries, share):
    """Change `share` of the entries on the PBX by hand, as an operator would in the PBX UI: users get their
    hide-from-LDAP flag flipped (show -> edit -> modify), registrations lose their hot-desking device."""
    count = drift_count(len(entries), share)
    step = len(entries) // count
    names = [entries[i * step]["name"] for i in range(count)]
    pbx = wire.Pbx(url, ADMIN_PASSWORD)
    current = wire.users_by_name(pbx.objects())
    if kind == "users":
        command = ET.Element("modify")
        for name in names:
            element = current[name]
            if element.get("hide") == "true":
                del element.attrib["hide"]
            else:
                element.set("hide", "true")
            command.append(element)
    else:
        command = ET.Element("del-attrib")
        for name in names:
            user = ET.SubElement(command, "user", {"cn": current[name].get("cn")})
            ET.SubElement(user, "device", {"hw": name})
    pbx.admin(command)
    return count


def add_stats(total, stats):
    """Sum pbxsim stats (several PBXs of one run)."""
    if not total:
        return {"interfaces": {name: dict(counts) for name, counts in stats["interfaces"].items()},
                **{key: value for key, value in stats.items() if key != "interfaces"}}
    for name, counts in stats["interfaces"].items():
        for direction, value in counts.items():
            total["interfaces"][name][direction] += value
    for key, value in stats.items():
        if key != "interfaces":
            total[key] += value
    return total


def site_vars(pbx, users, report_dir):
    """The inventory of one site of the role on one simulated PBX, as an operator would write it."""
    return {
        "hotdesking_pbx_url": pbx["url"],
        "hotdesking_pbx_password": ADMIN_PASSWORD,
        "hotdesking_pbx_key_password": PBX_PASSWORD,
        "hotdesking_devices_url": pbx["devices_url"],
        "hotdesking_devices_password": DEVICES_PASSWORD,
        "hotdesking_devices_domain": pbx["devices_domain"],
        "hotdesking_primary_gatekeeper": "127.0.0.1",
        "hotdesking_base_user_password": BASE_PASSWORD,
        "hotdesking_temp_user_password": TEMP_PASSWORD,
        "hotdesking_users": [entry["name"] for entry in users],
        "hotdesking_report_dir": str(report_dir),
    }


class Key(tuple):
    """(section, kind, n, latency, phase, what, sites, forks, api): one row of one measurement (api None: SOAP)."""

    FIELDS = ("section", "kind", "n", "latency", "phase", "what", "sites", "forks", "api")

    def __new__(cls, section, kind=None, n=None, latency=None, phase=None, what=None, sites=None, forks=None,
                api=None):
        return super().__new__(cls, (section, kind, n, latency, phase, what, sites, forks, api))

    def __getattr__(self, name):
        try:
            return self[self.FIELDS.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def but(self, **changes):
        values = dict(zip(self.FIELDS, self))
        values.update(changes)
        return Key(**values)

    def label(self):
        return " ".join("%s=%s" % (name, value) for name, value in zip(self.FIELDS, self) if value is not None)


class Block:
    def __init__(self, name, run):
        self.name = name
        self.run = run
        self.cost = None
        self.passes = 0


class Bench:
    def __init__(self, options, workdir):
        self.options = options
        self.workdir = pathlib.Path(workdir)
        self.sims = {}
        self.sites_sim = None
        self.samples = defaultdict(list)
        self.problems = []
        self.started = time.monotonic()
        self.parallel = None
        self.parallel_note = ""
        self.skipped = []
        self.blocks = []

    # --- processes ----------------------------------------------------------------------------------
    def sim(self, latency):
        if latency not in self.sims:
            args = ["--latency-ms", str(latency)] if latency else []
            self.sims[latency] = Sim(self.workdir / ("sim-%dms" % latency), args).start()
        return self.sims[latency]

    def many(self):
        if self.sites_sim is None:
            self.sites_sim = Sim(self.workdir / "sim-sites", ["--count", str(self.options.sites)]).start()
        return self.sites_sim

    def stop(self):
        for sim in list(self.sims.values()) + ([self.sites_sim] if self.sites_sim else []):
            sim.stop()

    def detect_parallel(self):
        """Pass `parallel` to the modules only when both document it (the option is newer than this harness)."""
        options = measure.documented_options(*MODULES.values())
        if all("parallel" in names for names in options.values()):
            self.parallel = self.options.parallel
            self.parallel_note = ("the modules' option `parallel` is set to %d; the wire client writes on as many "
                                  "connections" % self.parallel)
        else:
            self.parallel_note = ("the modules have no option `parallel` in this tree: they write one entry at a "
                                  "time, and so does the wire client")

    # --- bookkeeping --------------------------------------------------------------------------------
    def problem(self, key, sample, text):
        sample["notes"].append(text)
        self.problems.append("%s: %s" % (key.label(), text))
        print("  !! %s: %s" % (key.label(), text), flush=True)

    def keep(self, key, sample):
        self.samples[key].append(sample)
        extra = ""
        if sample.get("rss"):
            extra = ", %.0f MB RSS, %.1f CPU-s" % (sample["rss"] / 1e6, sample["cpu"])
        print("  %-70s %7.2f s%s" % (key.label(), sample["wall"], extra), flush=True)
        return sample

    def play(self, key, sim, pbxs, playbook, variables=None, args=(), inventory=None, record=False):
        """Run a playbook against PBXs `pbxs` (indexes) of `sim`: a sample (and the recordings when asked)."""
        for pbx in pbxs:
            sim.control("POST", "stats/reset", pbx=pbx)
            if record:
                sim.control("POST", "record", pbx=pbx)
        before = measure.cpu_seconds(sim.process.pid)
        run = measure.ansible_playbook(playbook, variables, args, inventory)
        pbxsim_cpu = measure.cpu_seconds(sim.process.pid) - before
        stats = {}
        for pbx in pbxs:
            stats = add_stats(stats, sim.control("GET", "stats", pbx=pbx))
        recordings = [sim.control("DELETE", "record", pbx=pbx)["requests"] for pbx in pbxs] if record else None
        sample = {"wall": run.wall, "cpu": run.cpu, "rss": run.peak_rss, "pss": run.peak_pss,
                  "processes": run.processes, "pbxsim_cpu": pbxsim_cpu, "stats": stats, "changed": run.changed,
                  "notes": []}
        self.keep(key, sample)
        if run.failed:
            self.problem(key, sample, "the run failed (exit status %d)" % run.returncode)
            print(run.tail(), flush=True)
        return sample, recordings

    def timed(self, key, sim, pbxs, work):
        """Time work() (a wire client) against PBXs `pbxs` of `sim`; the sample has its result as `result`."""
        for pbx in pbxs:
            sim.control("POST", "stats/reset", pbx=pbx)
        before = measure.cpu_seconds(sim.process.pid)
        started = time.monotonic()
        result = work()
        wall = time.monotonic() - started
        stats = {}
        for pbx in pbxs:
            stats = add_stats(stats, sim.control("GET", "stats", pbx=pbx))
        sample = {"wall": wall, "cpu": None, "rss": None, "pss": None, "processes": None,
                  "pbxsim_cpu": measure.cpu_seconds(sim.process.pid) - before, "stats": stats, "result": result,
                  "notes": []}
        return self.keep(key, sample)

    def expect(self, key, sample, condition, text):
        if not condition:
            self.problem(key, sample, text)

    def same_requests(self, key, ours, theirs):
        """The wire client (or replay) made the requests the module (or role) made, per pbxsim interface."""
        mine, other = ours["stats"]["interfaces"], theirs["stats"]["interfaces"]
        theirs["same"] = mine == other
        if not theirs["same"]:
            differ = ", ".join(
                "%s %s/%s vs %s/%s" % (name, mine[name]["reads"], mine[name]["writes"], other[name]["reads"],
                                       other[name]["writes"])
                for name in mine if mine[name] != other[name])
            self.problem(key, theirs, "other requests than the module's (reads/writes): %s" % differ)

    def floor(self):
        self.play(Key("floor", sites=1), self.sim(0), [], HERE / "noop.yml")

    def floor_input(self, kind, entries):
        """Ansible's floor with the module's input: the same extra vars, the list as a task argument."""
        variables = {"bench_users": entries} if kind == "users" else {"bench_names": [e["name"] for e in entries]}
        self.play(Key("floor_input", kind, len(entries)), self.sim(0), [], HERE / "noop_input.yml", variables)

    # --- module blocks ------------------------------------------------------------------------------
    def prepare(self, sim, kind, entries, converged):
        sim.reset()
        if kind == "users":
            if converged:
                seed(sim.url, [user_element(entry) for entry in entries])
        else:
            seed(sim.url, [user_element(entry, password=False, device=converged) for entry in entries])
        sim.control("POST", "stats/reset")

    def module_run(self, key, sim, entries, check=False):
        variables = {"pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD}
        if key.api == "pbxadminapi":
            variables.update(bench_app_name=APP_NAME, bench_app_password=APP_PASSWORD)
        if key.kind == "users":
            variables.update(pbx_password=PBX_PASSWORD, bench_users=entries)
        else:
            variables["bench_names"] = [entry["name"] for entry in entries]
        if self.parallel is not None:
            variables["bench_parallel"] = self.parallel
        playbook = HERE / ("%s.yml" % key.kind)
        return self.play(key, sim, [0], playbook, variables, ["--check", "--diff"] if check else [])[0]

    def wire_run(self, key, sim, entries, check=False):
        parallel = self.parallel or 1

        def work():
            names = [entry["name"] for entry in entries]
            if key.api == "pbxadminapi" and key.kind == "users":
                return wire.converge_users_api(sim.url, APP_NAME, APP_PASSWORD, PBX_PASSWORD, entries, check, parallel)
            if key.api == "pbxadminapi":
                return wire.converge_registrations_api(sim.url, APP_NAME, APP_PASSWORD, names, check, parallel)
            if key.kind == "users":
                return wire.converge_users(sim.url, ADMIN_PASSWORD, PBX_PASSWORD, entries, check, parallel)
            return wire.converge_registrations(sim.url, ADMIN_PASSWORD, names, check, parallel)
        return self.timed(key, sim, [0], work)

    def module_fresh(self, kind, count, latency, api=None):
        sim, entries = self.sim(latency), bench_entries(count)
        key = Key("module", kind, count, latency, "fresh", api=api)
        self.floor()
        self.prepare(sim, kind, entries, converged=False)
        ours = self.module_run(key.but(what="ours"), sim, entries)
        writes = ours["stats"]["interfaces"]["pbxapi" if api else "soap"]["writes"]
        self.expect(key, ours, writes == count and ours["stats"]["writes"] == count,
                    "%d %s writes (%d in all) for %d new entries" % (writes, API_NAMES[api or "soap"],
                                                                     ours["stats"]["writes"], count))
        self.prepare(sim, kind, entries, converged=False)
        theirs = self.wire_run(key.but(what="wire"), sim, entries)
        self.same_requests(key.but(what="wire"), ours, theirs)

    def module_steady(self, kind, count, latency, api=None):
        sim, entries = self.sim(latency), bench_entries(count)
        key = Key("module", kind, count, latency, api=api)
        self.floor()
        if latency == self.options.latencies[0] and (api or "soap") == self.options.apis[0]:
            self.floor_input(kind, entries)
        self.prepare(sim, kind, entries, converged=True)
        ours = self.module_run(key.but(phase="nochange", what="ours"), sim, entries)
        self.expect(key.but(phase="nochange"), ours, ours["stats"]["writes"] == 0 and ours["changed"] == 0,
                    "a no-change run changed something (%d writes)" % ours["stats"]["writes"])
        theirs = self.wire_run(key.but(phase="nochange", what="wire"), sim, entries)
        self.same_requests(key.but(phase="nochange", what="wire"), ours, theirs)
        drifted = apply_drift(sim.url, kind, entries, self.options.drift)
        ours = self.module_run(key.but(phase="check", what="ours"), sim, entries, check=True)
        self.expect(key.but(phase="check"), ours, ours["stats"]["writes"] == 0 and ours["changed"] >= 1,
                    "check mode wrote (%d) or found no drift" % ours["stats"]["writes"])
        theirs = self.wire_run(key.but(phase="check", what="wire"), sim, entries, check=True)
        self.expect(key.but(phase="check", what="wire"), theirs, theirs["result"] == drifted,
                    "the wire client found %s drifted entries, not %d" % (theirs["result"], drifted))
        self.same_requests(key.but(phase="check", what="wire"), ours, theirs)

    def uri(self, kind, latency):
        sim, entries = self.sim(latency), bench_entries(self.options.uri_n)
        if kind == "registrations":
            entries = [{name: value for name, value in entry.items() if name != "password"} for entry in entries]
        key = Key("uri", kind, len(entries), latency, what="uri")
        variables = {"pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD, "bench_users": entries,
                     "bench_kind": kind}
        self.prepare(sim, kind, entries, converged=False)
        sample = self.play(key.but(phase="converge"), sim, [0], HERE / "uri_loop.yml", variables)[0]
        soap = sample["stats"]["interfaces"]["soap"]
        self.expect(key, sample, soap == {"reads": len(entries), "writes": len(entries)},
                    "the uri loop made %s SOAP reads/writes" % soap)
        sample = self.play(key.but(phase="show"), sim, [0], HERE / "uri_loop.yml", dict(variables, bench_write=False),
                           ["--check"])[0]
        self.expect(key, sample, sample["stats"]["writes"] == 0, "the uri shows wrote")

    # --- role blocks --------------------------------------------------------------------------------
    def prepare_sites(self, sim, pbxs, users):
        def one(pbx):
            sim.control("POST", "reset", pbx=pbx)
            seed(sim.pbx_url(pbx), [user_element(entry) for entry in users])
            sim.control("POST", "stats/reset", pbx=pbx)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, pbxs))

    def role(self, sim, pbxs, count, forks, sites):
        """hotdesking (fresh), hotdesking (no change), compliance on PBXs `pbxs` of `sim`, `count` hot-desking
        users each; then the floor over the same inventory and the replays of the three runs."""
        users = desk_entries(count)
        key = Key("role", "role", count, 0, sites=sites, forks=forks)
        directory = pathlib.Path(tempfile.mkdtemp(prefix="inventory-", dir=self.workdir))
        inventory = directory / "inventory.yml"
        hosts = {"site%d" % (pbx + 1): site_vars(sim.ready["pbxs"][pbx], users, directory / "reports")
                 for pbx in pbxs}
        inventory.write_text(report.json_text({"all": {"hosts": hosts}}), encoding="utf-8")
        forks_args = ["--forks", str(forks or 5)]
        self.prepare_sites(sim, pbxs, users)
        recordings, ours = {}, {}
        for phase, playbook in (("fresh", "hotdesking"), ("nochange", "hotdesking"), ("compliance", "compliance")):
            ours[phase], recordings[phase] = self.play(key.but(phase=phase, what="ours"), sim, pbxs,
                                                       PLAYBOOKS / (playbook + ".yml"), args=forks_args,
                                                       inventory=inventory, record=True)
        self.expect(key.but(phase="fresh"), ours["fresh"], ours["fresh"]["stats"]["writes"] > 0, "nothing written")
        self.expect(key.but(phase="nochange"), ours["nochange"],
                    ours["nochange"]["stats"]["writes"] == 0 and ours["nochange"]["changed"] == 0,
                    "a no-change run changed something (%d writes)" % ours["nochange"]["stats"]["writes"])
        self.expect(key.but(phase="compliance"), ours["compliance"], ours["compliance"]["stats"]["writes"] == 0,
                    "compliance wrote")
        self.play(Key("floor", sites=sites, forks=forks), sim, [], HERE / "noop.yml", {"bench_hosts": "all"},
                  forks_args, inventory)

        def replay(phase):
            jobs = [(recordings[phase][index], sim.pbx_url(pbx), ADMIN_PASSWORD, sim.ready["pbxs"][pbx]["devices_url"],
                     DEVICES_PASSWORD, APP_PASSWORD) for index, pbx in enumerate(pbxs)]
            return lambda: wire.replay_many(jobs, forks or 1)

        for phase in ("nochange", "compliance"):
            theirs = self.timed(key.but(phase=phase, what="wire"), sim, pbxs, replay(phase))
            self.same_requests(key.but(phase=phase, what="wire"), ours[phase], theirs)
        self.prepare_sites(sim, pbxs, users)
        theirs = self.timed(key.but(phase="fresh", what="wire"), sim, pbxs, replay("fresh"))
        self.same_requests(key.but(phase="fresh", what="wire"), ours["fresh"], theirs)

    # --- passes -------------------------------------------------------------------------------------
    def plan(self):
        options, blocks = self.options, []
        for count in options.sizes:
            for api in options.apis:
                api = None if api == "soap" else api
                over = " over %s" % API_NAMES[api] if api else ""
                for kind in ("users", "registrations"):
                    if kind not in options.only:
                        continue
                    for latency in options.latencies:
                        fresh = functools.partial(self.module_fresh, kind, count, latency, api)
                        steady = functools.partial(self.module_steady, kind, count, latency, api)
                        blocks.append(Block("%s N=%d %d ms fresh%s" % (kind, count, latency, over), fresh))
                        blocks.append(Block("%s N=%d %d ms no change + check%s" % (kind, count, latency, over), steady))
                        if api and options.merge_page:
                            # The SOAP row the target compares with, measured again beside it (same load).
                            blocks.append(Block("%s N=%d %d ms no change + check over SOAP (for the comparison)" % (
                                kind, count, latency), functools.partial(self.module_steady, kind, count, latency)))
        if "uri" in options.only:
            for kind in ("users", "registrations"):
                for latency in options.latencies:
                    blocks.append(Block("uri loop %s N=%d %d ms" % (kind, options.uri_n, latency),
                                        lambda k=kind, lat=latency: self.uri(k, lat)))
        if "role" in options.only and options.role_users:
            blocks.append(Block("role 1 site x %d users" % options.role_users,
                                lambda: self.role(self.sim(0), [0], options.role_users, None, 1)))
        if "sites" in options.only and options.sites:
            if options.sites_curve:
                blocks.append(Block("role 1 site x %d users (sites curve)" % options.site_users,
                                    lambda: self.role(self.many(), [0], options.site_users, None, 1)))
            for forks in options.forks:
                blocks.append(Block("role %d sites x %d users forks %d" % (options.sites, options.site_users, forks),
                                    lambda f=forks: self.role(self.many(), list(range(options.sites)),
                                                              options.site_users, f, options.sites)))
        return blocks

    def elapsed(self):
        return time.monotonic() - self.started

    def run_block(self, block, number):
        print("[%5.0f s] pass %d: %s" % (self.elapsed(), number, block.name), flush=True)
        started = time.monotonic()
        block.run()
        block.passes += 1
        took = time.monotonic() - started
        block.cost = took if block.cost is None else max(block.cost, took)

    def run(self):
        self.blocks = blocks = self.plan()
        budget = self.options.budget_minutes * 60
        for block in blocks:
            self.run_block(block, 1)
        for number in range(2, self.options.runs + 1):
            passes_left = self.options.runs - number + 1
            chosen, planned = [], 0.0
            for block in sorted(blocks, key=lambda b: b.cost):
                cost = block.cost * passes_left
                cheap = block.cost <= self.options.repeat_under
                if cheap or not budget or self.elapsed() + planned + cost + RESERVE_S <= budget:
                    chosen.append(block)
                    planned += cost
            for block in blocks:
                if block in chosen:
                    self.run_block(block, number)
                elif (block.name, number) not in self.skipped:
                    self.skipped.append((block.name, number))
                    print("[%5.0f s] pass %d: %s left out (budget)" % (self.elapsed(), number, block.name), flush=True)


def machine():
    """What docs/benchmarks.md says about the machine."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            model = next((line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), model)
        with open("/proc/meminfo", encoding="utf-8") as stream:
            ram = int(next(line.split()[1] for line in stream if line.startswith("MemTotal"))) * 1024
    except OSError:
        ram = 0
    import ansible.release  # pylint: disable=import-outside-toplevel

    commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                            text=True, check=False).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "ram": ram, "python": platform.python_version(),
            "ansible": ansible.release.__version__, "kernel": platform.release(), "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


class MachineLoad:
    """CPU the rest of the machine used while the benchmark ran (from /proc/stat, minus this process tree)."""

    def __init__(self):
        self.busy, self.ours, self.wall = self._busy(), self._ours(), time.monotonic()
        self.loads = [os.getloadavg()]

    @staticmethod
    def _busy():
        with open("/proc/stat", encoding="ascii") as stream:
            fields = [int(value) for value in stream.readline().split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / measure.TICKS   # all but idle and iowait

    @staticmethod
    def _ours():
        import resource  # pylint: disable=import-outside-toplevel

        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def finish(self):
        """Called once every child (pbxsim included) has ended: {'other_cores', 'ours_cores', 'loads'}."""
        wall = time.monotonic() - self.wall
        self.loads.append(os.getloadavg())
        other = self._busy() - self.busy - (self._ours() - self.ours)
        return {"other_cores": max(0.0, other) / wall, "ours_cores": (self._ours() - self.ours) / wall,
                "loads": self.loads, "wall": wall}


def numbers(text):
    """A comma-separated list of integers."""
    return [int(value) for value in text.split(",") if value]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--only", default=",".join(SCENARIOS),
                        help="comma-separated scenarios of %s (default: all)" % ", ".join(SCENARIOS))
    parser.add_argument("--sizes", type=numbers, default=[100, 1000, 5000], help="N of the module rows")
    parser.add_argument("--latencies", type=numbers, default=[0, 20], help="pbxsim --latency-ms of the module rows")
    parser.add_argument("--apis", default=",".join(APIS),
                        help="comma-separated PBX APIs of the module rows of %s (default: both)" % ", ".join(APIS))
    parser.add_argument("--merge-page", action="store_true",
                        help="write only the PbxAdminApi section (its rows and targets) into the existing page "
                             "(--output), keeping every other section as it is; the targets compare with the SOAP "
                             "rows the page shows")
    parser.add_argument("--drift", type=float, default=0.01, help="share of entries changed before the check")
    parser.add_argument("--uri-n", type=int, default=10, help="entries of the uri loop (extrapolated to N)")
    parser.add_argument("--role-users", type=int, default=1000, help="hot-desking users of the one-site role row")
    parser.add_argument("--sites", type=int, default=50, help="PBXs of the many-sites rows (pbxsim --count)")
    parser.add_argument("--site-users", type=int, default=200, help="hot-desking users per site")
    parser.add_argument("--forks", type=numbers, default=[10, 25], help="ansible forks of the many-sites rows")
    parser.add_argument("--no-sites-curve", dest="sites_curve", action="store_false",
                        help="leave out the 1-site point of the sites plot (one site of the many-sites pbxsim)")
    parser.add_argument("--parallel", type=int, default=4,
                        help="the modules' option parallel, when they document it (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="passes: every row is the median of its runs")
    parser.add_argument("--budget-minutes", type=float, default=45,
                        help="after the first pass, passes 2.. leave out the costliest blocks that would end the "
                             "benchmark later than this (0: no budget, every block --runs times)")
    parser.add_argument("--repeat-under", type=float, default=60,
                        help="a block whose pass took at most this many seconds runs --runs times whatever the "
                             "budget (default 60)")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"),
                        help="the Markdown report; the plots go beside it (default docs/benchmarks.md)")
    parser.add_argument("--no-plots", action="store_true", help="no PNG plots")
    parser.add_argument("--save-json", default=str(REPO / ".build" / "benchmarks" / "last-run.json"),
                        help="where every measurement goes as JSON (default .build/benchmarks/last-run.json)")
    parser.add_argument("--from-json", metavar="PATH",
                        help="no benchmark: write the report (--output, plots) from a --save-json file again")
    parser.add_argument("--quick", action="store_true",
                        help="development: N 100 and 1000, uri loop of 5, role with 200 users, 10 sites x 50 users "
                             "with forks 5 and 10, one run, report in .build/benchmarks/")
    parser.add_argument("--smoke", action="store_true",
                        help="make bench-smoke: N=10 at 0 ms, uri loop of 2, 2 sites x 5 users with forks 2 (no "
                             "sites curve, no one-site role row), one run, no plots, report in .build/benchmarks/")
    options = parser.parse_args(argv)
    build = REPO / ".build" / "benchmarks"
    if options.quick:
        options.sizes, options.uri_n, options.role_users = [100, 1000], 5, 200
        options.sites, options.site_users, options.forks, options.runs = 10, 50, [5, 10], 1
        if options.output == parser.get_default("output"):
            options.output = str(build / "benchmarks.md")
        if options.save_json == parser.get_default("save_json"):
            options.save_json = str(build / "quick.json")
    if options.smoke:
        options.sizes, options.latencies, options.uri_n, options.role_users = [10], [0], 2, 0
        options.sites, options.site_users, options.forks, options.runs = 2, 5, [2], 1
        options.no_plots, options.sites_curve = True, False
        if options.output == parser.get_default("output"):
            options.output = str(build / "smoke.md")
        if options.save_json == parser.get_default("save_json"):
            options.save_json = str(build / "smoke.json")
    options.only = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = set(options.only) - set(SCENARIOS)
    if unknown:
        parser.error("unknown scenarios: %s" % ", ".join(sorted(unknown)))
    options.apis = [name.strip() for name in options.apis.split(",") if name.strip()]
    if not options.apis or set(options.apis) - set(APIS):
        parser.error("--apis takes %s" % ", ".join(APIS))
    if options.merge_page and options.apis != ["pbxadminapi"]:
        parser.error("--merge-page writes the PbxAdminApi section alone: use it with --apis pbxadminapi")
    return options


def save(path, bench, info, options):
    """Everything the report is made of, as JSON (bench.py --from-json PATH makes the report again from it)."""
    data = {"info": info, "options": dict(vars(options)),
            "parallel_note": bench.parallel_note, "problems": bench.problems,
            "blocks": [{"name": block.name, "passes": block.passes, "cost": block.cost} for block in bench.blocks],
            "samples": [{"key": list(key), "samples": samples} for key, samples in bench.samples.items()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.json_text(data), encoding="utf-8")


class Saved:
    """A benchmark read back from save()'s JSON, with what report.Report needs of a Bench."""

    def __init__(self, data):
        self.samples = {Key(*entry["key"]): entry["samples"] for entry in data["samples"]}
        self.problems = data["problems"]
        self.parallel_note = data["parallel_note"]
        self.blocks = []
        for saved in data["blocks"]:
            block = Block(saved["name"], None)
            block.passes, block.cost = saved["passes"], saved["cost"]
            self.blocks.append(block)


# Sections of the page that other scripts measure (tests/benchmarks/eda_latency.py) start with this line; a new
# report keeps them.
KEPT_SECTIONS = "<!-- measured by another script: bench.py keeps what follows -->"


def page_soap_times(page):
    """{(kind, n, latency, phase): seconds} of the SOAP module rows a page shows (its section "Modules")."""
    phases = {label: phase for phase, label in report.PHASES.items()}
    kinds = {label: kind for kind, label in report.KINDS.items()}
    times, inside = {}, False
    for line in page.splitlines():
        if line.startswith("## "):
            inside = line.strip() == "## Modules"
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if inside and len(cells) > 4 and cells[0] in kinds:
            phase = phases.get(cells[3].split(" (")[0])
            try:
                times[(kinds[cells[0]], int(cells[1].replace(",", "")), int(cells[2].split()[0]), phase)] = float(
                    cells[4])
            except ValueError:
                continue
    return times


def run_text(info, options, bench):
    """Where and how the PbxAdminApi rows were measured, when they were measured on their own."""
    load = info["load"]
    return [
        "", "Measured on their own, beside the rows above (`bench.py --only %s --apis pbxadminapi --merge-page`): "
        "commit %s, %s, %.0f minutes; the benchmark's own processes used %.2f cores on average and other work on "
        "the machine %.2f cores (2 cores shared with other jobs); load average %s at the start, %s at the end. "
        "The floor and the floor with input of these rows are this run's (%s)." % (
            ",".join(options.only), info["commit"], info["date"], info["duration"] / 60, load["ours_cores"],
            load["other_cores"], "/".join("%.1f" % v for v in load["loads"][0]),
            "/".join("%.1f" % v for v in load["loads"][-1]),
            report.Report(bench, bench.blocks, info, options).floor_text()),
        "", "| block | runs | cost of one pass (s) |", "|---|---:|---:|"] + [
        "| %s | %d | %.0f |" % (block.name, block.passes, block.cost or 0) for block in bench.blocks] + (
        ["", "Problems of this run:", ""] + ["- %s" % problem for problem in bench.problems]
        if bench.problems else [])


def merge_page(bench, info, options):
    """Write the PbxAdminApi section into the page as it is (every other row kept), comparing with its SOAP rows."""
    output = pathlib.Path(options.output)
    old = output.read_text(encoding="utf-8") if output.exists() else ""
    soap_times = page_soap_times(old)
    if not soap_times:
        print("%s has no SOAP module rows to keep and compare with: run the whole benchmark" % output)
        return 1
    options.soap_times = soap_times
    result = report.Report(bench, bench.blocks, info, options)
    section = "\n".join(result.api_section(output, not options.no_plots, soap_times, run_text(info, options, bench)))
    if report.API_BEGIN in old and report.API_END in old:
        before, rest = old.split(report.API_BEGIN, 1)
        page = before + section + rest.split(report.API_END, 1)[1]
    else:
        before, role, after = old.partition("\n## The role")
        page = before.rstrip("\n") + "\n\n" + section + "\n" + role + after
    output.write_text(page, encoding="utf-8")
    return reported(bench, result, "%s (the PbxAdminApi section)" % output)


def reported(bench, result, where):
    """Print the targets and the problems; the exit status (1 when a measurement went wrong)."""
    print(result.targets_text())
    print("report: %s" % where)
    if bench.problems:
        print("\n%d problem(s):\n  %s" % (len(bench.problems), "\n  ".join(bench.problems)))
        return 1
    return 0


def write_report(bench, info, options):
    if getattr(options, "merge_page", False):
        return merge_page(bench, info, options)
    output = pathlib.Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    old = output.read_text(encoding="utf-8") if output.exists() else ""
    kept = old[old.index(KEPT_SECTIONS):] if KEPT_SECTIONS in old else ""
    result = report.Report(bench, bench.blocks, info, options)
    page = result.markdown(output, plots=not options.no_plots)
    output.write_text(page.rstrip("\n") + "\n\n" + kept if kept else page, encoding="utf-8")
    return reported(bench, result, output)


def main(argv=None):
    options = parse_args(argv)
    if options.from_json:
        data = json.loads(pathlib.Path(options.from_json).read_text(encoding="utf-8"))
        saved = argparse.Namespace(**dict(data["options"], output=options.output, no_plots=options.no_plots))
        return write_report(Saved(data), data["info"], saved)
    load = MachineLoad()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        bench = Bench(options, workdir)
        try:
            bench.detect_parallel()
            print("innovaphone.pbx benchmark: %s; %s" % (info["commit"], bench.parallel_note), flush=True)
            bench.run()
        except (Exception, KeyboardInterrupt) as exc:  # pylint: disable=broad-exception-caught
            # Whatever was measured goes into the report, which says that the run was cut short.
            traceback.print_exc()
            bench.problems.append("the benchmark stopped early: %r" % exc)
        finally:
            bench.stop()
    info["load"] = load.finish()
    info["duration"] = bench.elapsed()
    save(pathlib.Path(options.save_json), bench, info, options)
    print("measurements: %s (%.0f s)" % (options.save_json, bench.elapsed()))
    return write_report(bench, info, options)


if __name__ == "__main__":
    sys.exit(main())
