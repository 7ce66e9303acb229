# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench.py's report: the tables, the targets of issues 10 and 18 (met / not met, with the figures) and the plots."""

import json
import statistics

PHASES = {"fresh": "fresh converge", "nochange": "no-change converge", "check": "check mode, 1 % drift",
          "compliance": "compliance"}
KINDS = {"users": "users", "registrations": "hotdesk_registration"}
INTERFACES = ("bulk", "soap", "pbxapi", "config", "cfgtxt", "devices", "passthrough")
API = "pbxadminapi"
# The PbxAdminApi section of the page: bench.py --merge-page replaces what is between these lines.
API_BEGIN = "<!-- PbxAdminApi rows (issue 18): bench.py --apis pbxadminapi --merge-page rewrites up to the end mark -->"
API_END = "<!-- end of the PbxAdminApi rows -->"
FRESH_WIRE_RATIO = 1.5
MB = 1e6


def json_text(value):
    return json.dumps(value, indent=1, sort_keys=True)


def seconds(value):
    if value is None:
        return "—"
    return "%.2f" % value if value < 10 else "%.1f" % value


def ratio(value):
    if value is None:
        return "—"
    return "%.3f" % value if value < 0.1 else "%.2f" % value


def number(value):
    return "{:,}".format(value)


def requests_text(stats):
    """`bulk 2 r · soap 1 r 1,000 w · 401 1` from pbxsim stats."""
    if not stats:
        return "—"
    parts = []
    for name in INTERFACES:
        counts = stats["interfaces"].get(name, {})
        if counts.get("reads") or counts.get("writes"):
            text = " ".join("%s %s" % (number(counts[direction]), direction[0])
                            for direction in ("reads", "writes") if counts.get(direction))
            parts.append("%s %s" % (name, text))
    if stats.get("unauthorized"):
        parts.append("401 %s" % number(stats["unauthorized"]))
    return " · ".join(parts) or "none"


class Figure:
    """A measured median with its number of runs; `estimated` when it is an extrapolation."""

    def __init__(self, value, runs, estimated=False, low=None, high=None):
        self.value, self.runs, self.estimated, self.low, self.high = value, runs, estimated, low, high


class Report:
    def __init__(self, bench, blocks, info, options):
        self.bench, self.blocks, self.info, self.options = bench, blocks, info, options
        self.samples = bench.samples

    # --- figures ------------------------------------------------------------------------------------
    def find(self, **fields):
        """The samples of every key matching `fields`, one list per key."""
        return {key: samples for key, samples in self.samples.items()
                if all(getattr(key, name) == value for name, value in fields.items())}

    def runs(self, **fields):
        found = self.find(**fields)
        return next(iter(found.values())) if len(found) == 1 else []

    def median(self, field="wall", **fields):
        values = [sample[field] for sample in self.runs(**fields) if sample.get(field) is not None]
        if not values:
            return None
        return Figure(statistics.median(values), len(values), low=min(values), high=max(values))

    def value(self, field="wall", **fields):
        figure = self.median(field, **fields)
        return None if figure is None else figure.value

    def floor(self, sites=1, forks=None):
        return self.median(section="floor", sites=sites, forks=forks)

    def uri(self, kind, latency, count, phase):
        """The uri loop's time for `count` entries: measured at --uri-n, else floor + count x per-entry cost."""
        measured = self.median(section="uri", kind=kind, latency=latency,
                               phase="show" if phase == "check" else "converge")
        floor = self.floor()
        if measured is None or floor is None:
            return None
        if count == self.options.uri_n:
            return measured
        per_entry = (measured.value - floor.value) / self.options.uri_n
        return Figure(floor.value + count * per_entry, measured.runs, estimated=True)

    def stats(self, **fields):
        runs = self.runs(**fields)
        return runs[-1]["stats"] if runs else None

    def all_writes(self, **fields):
        return [sample["stats"]["writes"] for sample in self.runs(**fields)]

    def notes(self, **fields):
        return sorted({note for sample in self.runs(**fields) for note in sample["notes"]})

    def same(self, **fields):
        runs = self.runs(**fields)
        if not runs or "same" not in runs[-1]:
            return "—"
        return "yes" if all(sample.get("same") for sample in runs) else "**no**"

    # --- rows ---------------------------------------------------------------------------------------
    def module_rows(self, api=None):
        """The module rows of one API (None: SOAP)."""
        rows = []
        keys = sorted({(k.kind, k.n, k.latency, k.phase) for k in self.samples if k.section == "module"
                       and k.api == api},
                      key=lambda k: (list(KINDS).index(k[0]), k[2], k[1], list(PHASES).index(k[3])))
        floor = self.floor()
        for kind, count, latency, phase in keys:
            where = dict(section="module", kind=kind, n=count, latency=latency, phase=phase, api=api)
            ours, theirs = self.median(what="ours", **where), self.median(what="wire", **where)
            uri = self.uri(kind, latency, count, phase)
            base = floor.value + theirs.value if floor and theirs else None
            with_input = self.median(section="floor_input", kind=kind, n=count)
            base_input = with_input.value + theirs.value if with_input and theirs else None
            rows.append({
                "kind": kind, "n": count, "latency": latency, "phase": phase, "ours": ours, "wire": theirs, "api": api,
                "base": base, "uri": uri, "stats": self.stats(what="ours", **where),
                "floor_input": with_input, "ratio_input": ours.value / base_input if ours and base_input else None,
                "rss": self.value("rss", what="ours", **where), "pss": self.value("pss", what="ours", **where),
                "cpu": self.value("cpu", what="ours", **where), "same": self.same(what="wire", **where),
                "writes": self.all_writes(what="ours", **where),
                "ratio_uri": ours.value / uri.value if ours and uri else None,
                "ratio_base": ours.value / base if ours and base else None,
                "notes": self.notes(what="ours", **where) + self.notes(what="wire", **where),
            })
        return rows

    def role_rows(self):
        rows = []
        keys = sorted({(k.sites, k.n, k.forks or 0, k.phase) for k in self.samples if k.section == "role"},
                      key=lambda k: (k[0], -k[1] if k[0] == 1 else k[1], k[2], list(PHASES).index(k[3])))
        for sites, count, forks, phase in keys:
            forks = forks or None
            where = dict(section="role", sites=sites, n=count, forks=forks, phase=phase)
            ours, theirs = self.median(what="ours", **where), self.median(what="wire", **where)
            floor = self.floor(sites, forks) or self.floor()
            base = floor.value + theirs.value if floor and theirs else None
            cpu = self.value("cpu", what="ours", **where)
            rows.append({
                "sites": sites, "n": count, "forks": forks, "phase": phase, "ours": ours, "wire": theirs,
                "floor": floor, "base": base, "stats": self.stats(what="ours", **where),
                "rss": self.value("rss", what="ours", **where), "pss": self.value("pss", what="ours", **where),
                "cpu": cpu, "cpu_site": cpu / sites if cpu is not None else None,
                "pbxsim_cpu": self.value("pbxsim_cpu", what="ours", **where),
                "same": self.same(what="wire", **where), "writes": self.all_writes(what="ours", **where),
                "ratio_base": ours.value / base if ours and base else None,
                "notes": self.notes(what="ours", **where) + self.notes(what="wire", **where),
            })
        return rows

    # --- targets (issue 10, "Targets") ----------------------------------------------------------------
    def targets(self):
        """[(target, met: True/False/None for not measured, the measured figure)]."""
        modules, roles = self.module_rows(), self.role_rows()
        found = []

        def module(kind, count, phase):
            return [row for row in modules if (row["kind"], row["n"], row["phase"]) == (kind, count, phase)]

        for kind, what in (("users", "users"), ("registrations", "registrations")):
            rows = [row for row in module(kind, 5000, "nochange") if row["ratio_base"] is not None]
            met = (all(row["ratio_base"] <= 2 and not any(row["writes"]) for row in rows) if rows else None)
            figure = "; ".join("%d ms: %s s = %sx (floor + wire limit %s s)%s, writes %s" % (
                row["latency"], seconds(row["ours"].value), ratio(row["ratio_base"]), seconds(row["base"]),
                " = %sx (floor with the input %s s + wire limit)" % (
                    ratio(row["ratio_input"]), seconds(row["floor_input"].value)) if row["ratio_input"] else "",
                "/".join(str(w) for w in row["writes"])) for row in rows) or "not measured"
            found.append(("No-change converge of 5,000 %s: at most 2x (floor + wire limit), zero writes" % what,
                          met, figure))

        parts, met = [], None
        for kind in KINDS:
            for latency in self.options.latencies:
                reads = {}
                for row in modules:
                    if (row["kind"], row["latency"], row["phase"]) == (kind, latency, "nochange") and row["stats"]:
                        reads[row["n"]] = tuple(sorted((name, counts["reads"])
                                                       for name, counts in row["stats"]["interfaces"].items()
                                                       if counts["reads"]))
                if len(reads) > 1:
                    grows = len(set(reads.values())) > 1
                    met = (met is not False) and not grows
                    parts.append("%s %d ms: %s at N = %s" % (
                        KINDS[kind], latency, " / ".join(
                            "; ".join("%s %d" % item for item in value) for value in dict.fromkeys(reads.values())),
                        ", ".join(number(n) for n in sorted(reads))))
        found.append(("Reads on a no-change run do not grow with N (beyond the bulk read itself)", met,
                      "; ".join(parts) or "not measured (needs two sizes)"))

        rows = [row for row in module("users", 1000, "fresh") if row["latency"] == 20]
        found.append(("Fresh converge of 1,000 users at 20 ms latency: at most 12 s",
                      rows[0]["ours"].value <= 12 if rows else None,
                      "%s s (wire limit %s s)" % (seconds(rows[0]["ours"].value), seconds(rows[0]["wire"].value))
                      if rows else "not measured"))

        rows = [row for row in modules if row["n"] == 1000 and row["ratio_uri"]]
        if rows:
            worst = max(rows, key=lambda row: row["ratio_uri"])
            estimated = any(row["uri"].estimated for row in rows)
            figure = "at least %.0fx (the slowest: %s %s at %d ms, %s s against %s%s s of the uri loop)%s" % (
                1 / worst["ratio_uri"], KINDS[worst["kind"]], PHASES[worst["phase"]], worst["latency"],
                seconds(worst["ours"].value), "≈ " if worst["uri"].estimated else "", seconds(worst["uri"].value),
                "; the uri loop's time at 1,000 is extrapolated from %d entries" % self.options.uri_n
                if estimated else "")
            found.append(("At 1,000 users the module is at least 50x faster than the uri loop",
                          1 / worst["ratio_uri"] >= 50, figure))
        else:
            found.append(("At 1,000 users the module is at least 50x faster than the uri loop", None, "not measured"))

        sites = self.options.sites
        for phase, name in (("compliance", "compliance"), ("nochange", "converge with no change")):
            rows = [row for row in roles if (row["sites"], row["forks"], row["phase"]) == (sites, 25, phase)]
            target = "%d sites x %d users, %s with forks 25: at most 60 s" % (sites, self.options.site_users, name)
            found.append((target,
                          rows[0]["ours"].value <= 60 if rows else None,
                          "%s s (floor %s s, wire replay %s s)" % (seconds(rows[0]["ours"].value),
                                                                   seconds(rows[0]["floor"].value),
                                                                   seconds(rows[0]["wire"].value))
                          if rows else "not measured"))
        rows = [row for row in roles if row["sites"] == sites and row["forks"] == 25
                and row["phase"] in ("compliance", "nochange")]
        found.append(("At most about 2 controller CPU-seconds per site (%d sites, forks 25, compliance and no-change "
                      "converge)" % sites,
                      all(row["cpu_site"] <= 2 for row in rows) if rows else None,
                      "; ".join("%s %.1f CPU-s per site" % (PHASES[row["phase"]], row["cpu_site"]) for row in rows)
                      or "not measured"))

        rows = [row for row in modules if row["n"] == 5000 and row["rss"]]
        if rows:
            worst = max(rows, key=lambda row: row["rss"])
            found.append(("Controller peak RSS at 5,000 users: at most 300 MB", worst["rss"] <= 300 * MB,
                          "%.0f MB (PSS %.0f MB; %s, %s, %d ms)" % (
                              worst["rss"] / MB, worst["pss"] / MB, KINDS[worst["kind"]], PHASES[worst["phase"]],
                              worst["latency"])))
        else:
            found.append(("Controller peak RSS at 5,000 users: at most 300 MB", None, "not measured"))
        return found

    def api_targets(self, soap_times=None):
        """Issue 18's targets of the PbxAdminApi rows: [(target, met, figure)]. `soap_times` {(kind, n, latency,
        phase): seconds} of the SOAP rows when this run did not measure them (bench.py --merge-page: the page's)."""
        rows = self.module_rows(API)
        # The SOAP rows of this run (measured beside these, under the same load), else the page's.
        soap = {(row["kind"], row["n"], row["latency"], row["phase"]): row["ours"].value
                for row in self.module_rows() if row["ours"]}
        page = dict(soap_times or {})
        found = []

        compared = []
        for row in rows:
            where = (row["kind"], row["n"], row["latency"], "nochange")
            theirs = soap.get(where, page.get(where))
            if row["phase"] == "nochange" and row["ours"] and theirs is not None:
                compared.append((row, theirs, page.get(where) if where in soap else None))
        found.append((
            "No-change converge over PbxAdminApi: at most the SOAP row's time (same module, N and latency), zero "
            "writes",
            all(row["ours"].value <= theirs and not any(row["writes"]) for row, theirs, _page in compared)
            if compared else None,
            "; ".join("%s %s %d ms: %s s (SOAP %s s%s)%s" % (
                KINDS[row["kind"]], number(row["n"]), row["latency"], seconds(row["ours"].value), seconds(theirs),
                "; on the page %s s" % seconds(earlier) if earlier is not None else "",
                "" if row["ours"].value <= theirs else " **slower**") for row, theirs, earlier in compared)
            or "not measured (no SOAP row to compare with)"))

        fresh = [row for row in rows if row["phase"] == "fresh" and row["ours"] and row["base"]]
        found.append((
            "Fresh converge over PbxAdminApi: at most %sx its wire limit (requests pipelined on the one WebSocket, "
            "`parallel` in flight), Ansible's floor added as in the issue-10 targets" % FRESH_WIRE_RATIO,
            all(row["ratio_base"] <= FRESH_WIRE_RATIO for row in fresh) if fresh else None,
            "; ".join("%s %s %d ms: %s s = %sx (floor + wire limit %s s; wire limit alone %s s)" % (
                KINDS[row["kind"]], number(row["n"]), row["latency"], seconds(row["ours"].value),
                ratio(row["ratio_base"]), seconds(row["base"]), seconds(row["wire"].value)) for row in fresh)
            or "not measured"))

        parts, met = [], None
        for kind in KINDS:
            for latency in self.options.latencies:
                beyond = {}
                for row in rows:
                    if (row["kind"], row["latency"], row["phase"]) == (kind, latency, "nochange") and row["stats"]:
                        reads = row["stats"]["interfaces"].get("pbxapi", {}).get("reads", 0)
                        others = sum(counts["reads"] for name, counts in row["stats"]["interfaces"].items()
                                     if name != "pbxapi")
                        beyond[row["n"]] = (reads - row["n"], others)
                if len(beyond) > 1:
                    # Past the table's end the replication has had up to READS_IN_FLIGHT ReplicateNext out (sent
                    # in batches, so how many depends on where N falls): bounded, not growing with N.
                    spread = max(v[0] for v in beyond.values()) - min(v[0] for v in beyond.values())
                    met = (met is not False) and spread <= self.reads_in_flight() and len(
                        set(v[1] for v in beyond.values())) == 1
                    parts.append("%s %d ms: pbxapi N + %s%s at N = %s" % (
                        KINDS[kind], latency, " / ".join(str(value[0]) for value in dict.fromkeys(beyond.values())),
                        "".join(", other interfaces %d" % value[1] for value in dict.fromkeys(beyond.values())
                                if value[1]),
                        ", ".join(number(n) for n in sorted(beyond))))
        found.append(("Reads on a no-change run over PbxAdminApi do not grow with N beyond the bulk read (the "
                      "users table replicated: one ReplicateNext per row, and at most %d past its end, as the "
                      "batches fall)" % self.reads_in_flight(), met,
                      "; ".join(parts) or "not measured (needs two sizes)"))
        return found

    def targets_text(self):
        lines = ["Targets (issue 10):"]
        for target, met, figure in self.targets():
            lines.append("  [%s] %s: %s" % ({True: "met", False: "NOT MET", None: "not measured"}[met], target,
                                            figure))
        if self.module_rows(API):
            lines.append("Targets (issue 18):")
            for target, met, figure in self.api_targets(getattr(self.options, "soap_times", None)):
                lines.append("  [%s] %s: %s" % ({True: "met", False: "NOT MET", None: "not measured"}[met], target,
                                                figure))
        return "\n".join(lines)

    # --- Markdown -----------------------------------------------------------------------------------
    def markdown(self, path, plots=True):
        info, options = self.info, self.options
        load = info["load"]
        lines = [
            "# Benchmarks",
            "",
            "Generated by `make bench` (`tests/benchmarks/bench.py`): do not edit, run it again. Commit %s, %s; "
            "the whole run took %.0f minutes." % (info["commit"], info["date"], info["duration"] / 60),
            "",
            "## Machine",
            "",
            "- %s, %d cores, %.0f GiB RAM, Linux %s" % (info["cpu"], info["cores"], info["ram"] / 2 ** 30,
                                                        info["kernel"]),
            "- Python %s, ansible-core %s" % (info["python"], info["ansible"]),
            "- While it ran, the benchmark's own processes (this driver, ansible-playbook and its children, pbxsim) "
            "used %.2f cores on average and other work on the machine %.2f cores; load average %s at the start, "
            "%s at the end. %s" % (
                load["ours_cores"], load["other_cores"], "/".join("%.1f" % v for v in load["loads"][0]),
                "/".join("%.1f" % v for v in load["loads"][-1]),
                "The machine was shared with other work: absolute times are noisy, the ratios less so, since each "
                "block runs ours, the wire client and the floor side by side." if load["other_cores"] > 0.2 else ""),
            "- Writes: %s." % self.bench.parallel_note,
            "",
            "## Targets (issue 10)",
            "",
        ]
        for target, met, figure in self.targets():
            lines.append("- **%s**: %s. %s" % ({True: "met", False: "not met", None: "not measured"}[met], target,
                                               figure))
        lines += ["", "## Running it", ""]
        lines += [
            "- `make bench` runs `tests/benchmarks/bench.py` and rewrites this page and its plots; "
            "`make bench BENCH_ARGS=\"--only users --sizes 1000\"` runs a subset (`--only` takes users, "
            "registrations, uri, role, sites; `--apis` soap, pbxadminapi; `--quick` is a small development run, "
            "`--help` lists the rest). `make bench-smoke` (part of `make test`) runs the harness on a tiny "
            "workload and checks it. `make bench BENCH_ARGS=\"--only users,registrations --apis pbxadminapi "
            "--merge-page\"` measures the PbxAdminApi rows alone and rewrites only their section of this page.",
            "- Every measurement is kept in `.build/benchmarks/last-run.json`; `bench.py --from-json "
            ".build/benchmarks/last-run.json` writes the page from it again without measuring.",
            "- Passes: pass 1 runs every block once; passes 2 and 3 run again every block whose pass took at most "
            "%.0f s, and the costlier ones, cheapest first, while the benchmark still ends within %s "
            "(`--budget-minutes 0`: every block 3 times). So a row is the median of 3 runs unless its block is "
            "slow; the *runs* column says how many it has, the section *Runs* why." % (
                options.repeat_under, "%.0f minutes" % options.budget_minutes if options.budget_minutes
                else "any time"),
            "- It runs on one machine: pbxsim (one process per latency, one with `--count %d` for the sites) "
            "shares the cores with Ansible, as the wire client does; pbxsim's CPU is shown for the role rows." % (
                options.sites),
        ]
        lines += ["", "## How to read the tables", ""]
        lines += [
            "- **ours**: `ansible-playbook` of `tests/benchmarks/users.yml` / `registrations.yml` (one task of the "
            "module), or of `playbooks/hotdesking.yml` / `compliance.yml` (the role): wall time, the median of "
            "*runs* runs. Fresh: pbxsim reset (registrations: the users seeded without registration) before each "
            "run. No change: pbxsim reset and seeded with the converged state. Check mode: `--check --diff` after "
            "%.0f %% of the entries were changed by hand over SOAP (users: hide-from-LDAP flipped; registrations: "
            "the hot-desking device removed). Role: fresh, then again (no change), then compliance, in that "
            "order on the same PBXs." % (options.drift * 100),
            "- **requests**: what pbxsim counted for ours, per interface, `r` reads and `w` writes (`401`: the "
            "digest handshakes, one per connection); with several sites, the sum over all PBXs.",
            "- **peak RSS / PSS**: the peak of the summed memory of the whole `ansible-playbook` process tree "
            "(forks and module processes), sampled every 0.1 s or more. RSS counts the pages a fork shares with "
            "its parent in every process that maps them; PSS splits them, so it is what the tree really occupies.",
            "- **controller CPU**: user + system CPU seconds of the whole tree (every process the run started). "
            "pbxsim's own CPU is not in it.",
            "- **wire limit**: module rows: `tests/benchmarks/wire.py`, a plain Python client (requests, "
            "keep-alive, digest auth) that decides and makes the requests the module makes: the bulk read, the "
            "`_ADMIN_` show for the PBX key (users, as passwords are given), one SOAP `add`/`modify` per entry that "
            "changes, the bulk re-read after writes; in check mode the reads only. Role rows: the requests pbxsim "
            "recorded of that very run (`/_sim/record`), replayed in their order by the same kind of client, "
            "the Devices messages on as many WebSocket sessions with a fresh login each, the sites %s at a time "
            "as with the run's forks. **wire = ours**: pbxsim counted the same reads and writes per interface "
            "for both." % "forks",
            "- **floor**: `tests/benchmarks/noop.yml`, one `ansible.builtin.debug` task: on localhost for the "
            "module rows and one site (the median of all its runs in the benchmark, %s), over the same "
            "inventory with the same forks for many sites." % self.floor_text(),
            "- **floor with input**: `tests/benchmarks/noop_input.yml` with the module row's extra vars: Ansible "
            "loads the same list, templates it into one task argument and validates it as a list "
            "(`ansible.builtin.validate_argument_spec`), and does nothing else; what any task given that input "
            "costs before a module runs.",
            "- **uri loop**: `tests/benchmarks/uri_loop.yml`, what an operator writes without this collection: "
            "`ansible.builtin.uri`, one SOAP `show` per entry, then one `add` or `modify` per entry, always (a "
            "no-change run costs what a fresh one does); for check mode its shows alone. It was measured with "
            "%d entries (table below); for N entries its time is floor + N x (its time - floor) / %d, marked "
            "≈. A full uri loop of 1,000 entries would take about %s minutes per run." % (
                options.uri_n, options.uri_n, self.uri_minutes(1000)),
            "- **ours / uri loop** below 1 is faster than the uri loop (0.01 = 100 times faster); **ours / "
            "(floor + wire)** is what Ansible and the module add over the unavoidable: 1 would be no overhead "
            "at all.",
        ]
        lines += ["", "## Modules", ""]
        lines += self.module_table()
        if self.module_rows(API):
            lines += [""] + self.api_section(path, plots)
        lines += ["", "## The role", ""]
        lines += self.role_table()
        lines += ["", "## Baselines", ""]
        lines += self.baseline_table()
        lines += ["", "## Runs", ""]
        lines += self.runs_text()
        problems = self.bench.problems
        if problems:
            lines += ["", "## Problems", ""] + ["- %s" % problem for problem in problems]
        if plots:
            names = self.plots(path)
            if names:
                lines += ["", "## Plots", ""] + ["![%s](%s)" % (title, name) for title, name in names]
        return "\n".join(lines) + "\n"

    def floor_text(self):
        floor = self.floor()
        if floor is None:
            return "not measured"
        return "%s s over %d runs, %s to %s s" % (
            seconds(floor.value), floor.runs, seconds(floor.low), seconds(floor.high))

    def uri_minutes(self, count):
        values = [self.uri(kind, latency, count, "fresh") for kind in KINDS for latency in self.options.latencies]
        values = [value.value for value in values if value]
        return "%.0f" % (max(values) / 60) if values else "—"

    def api_section(self, path, plots=True, soap_times=None, extra=()):
        """The PbxAdminApi rows with their targets, between API_BEGIN and API_END (`extra`: lines at its end)."""
        lines = [API_BEGIN, "", "## Modules over PbxAdminApi", "",
                 "The same module runs as above, given the App object's credentials (`app_name`, `app_password`; "
                 "`pbx_api: auto` then speaks PbxAdminApi and PbxTableUsers on one WebSocket, "
                 "`/PBX0/APPS/websocket`). The users table is one replication with a window of ReplicateNext in "
                 "flight, each answered by one row: %d go out with ReplicateStart and the "
                 "module's other reads (GetConfigObjects, MonitorAdminObject, GetRPs), and whenever half the window "
                 "is answered it doubles, up to %d, and is filled again in one write; writes are UpdateObject "
                 "(registrations: GetObject of the user's devices first), the module's `parallel` requests in "
                 "flight at once; verify-after-write reads the table again. pbxsim's `--latency-ms` on a WebSocket "
                 "delays each message from its arrival while later ones arrive, as a network does "
                 "(tests/pbxsim/README.md)." % (self.reads_first(), self.reads_in_flight()), "",
                 "- **wire limit** here: `tests/benchmarks/wire.py`'s plain WebSocket client (AppChallenge/AppLogin "
                 "as the App object, reference 6.1) that decides and makes the requests the module makes, with the "
                 "same number in flight and reads sent along: the replication, GetConfigObjects, MonitorAdminObject "
                 "for the PBX key (users), GetRPs (registrations), one UpdateObject per entry that changes "
                 "(registrations: GetObject, then UpdateObject, `parallel` users at once), the reads again after "
                 "writing; in check mode the reads only.",
                 "- **requests**: `pbxapi` counts every WebSocket message of the PBX's AppWebsocket, the login's "
                 "two included; N + 1 to N + %d ReplicateNext read a table of N users." % self.reads_in_flight(),
                 "- **SOAP** in the first target: the SOAP row of the same module, N and latency, measured in the same "
                 "run as the PbxAdminApi row when that run measured it (`--merge-page` measures the SOAP no-change "
                 "rows again beside the new ones, under the same load; the figure on the page above is given too).",
                 "", "### Targets (issue 18)", ""]
        targets = self.api_targets(soap_times)
        for target, met, figure in targets:
            verdict = {True: "met", False: "not met", None: "not measured"}[met]
            lines.append("- **%s**: %s. %s" % (verdict, target, figure))
        causes = []
        if targets[0][1] is False:
            causes.append(
                "No change: PbxTableUsers gives the users table one row per message (up to N + %d messages, each "
                "framed, decoded and turned into an object by the module, and as many answered by pbxsim) where "
                "SOAP's bulk read is one XML document, so at 5,000 users the read costs more CPU on both sides; "
                "and a run over the WebSocket takes more round trips one after the other (the WebSocket "
                "handshake, AppChallenge, AppLogin, then the replication with the other reads sent along, "
                "about log2(%d / %d) + N / %d) than SOAP's digest handshake, bulk read and one show, which is what the 20 ms rows add." % (
                    self.reads_in_flight(), self.reads_in_flight(), self.reads_first(),
                    self.reads_in_flight() // 2))
        if targets[1][1] is False:
            causes.append(
                "Fresh: where a row misses, the module's CPU (column *controller CPU*) is what exceeds the wire "
                "limit, not the WebSocket: at 0 ms the wire limit is below a second or two, so the per-entry work "
                "of Ansible and the engine dominates: Ansible's templating and validation of the N-entry list "
                "(the *floor with input* column: the ratio against it is the last column), the module's threads "
                "that keep `parallel` writes in flight, and reading the table twice (before, and to verify).")
        if causes:
            lines += ["", "Why a target is missed:", ""] + ["- %s" % cause for cause in causes]
        lines += [""] + self.module_table(API)
        lines += list(extra)
        if plots:
            names = self.plots(path, api=API)
            if names:
                lines += [""] + ["![%s](%s)" % (title, name) for title, name in names]
        return lines + ["", API_END]

    @staticmethod
    def reads_in_flight():
        import wire  # pylint: disable=import-outside-toplevel
        return wire.READS_IN_FLIGHT

    @staticmethod
    def reads_first():
        import wire  # pylint: disable=import-outside-toplevel
        return wire.READS_FIRST

    def module_table(self, api=None):
        lines = ["| module | N | latency | run | ours (s) | runs | requests (ours) | peak RSS / PSS (MB) | "
                 "controller CPU (s) | wire limit (s) | wire = ours | floor + wire (s) | uri loop (s) | "
                 "ours / uri loop | ours / (floor + wire) | ours / (floor with input + wire) |",
                 "|---|---:|---:|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
        for row in self.module_rows(api):
            lines.append("| %s | %s | %d ms | %s%s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                KINDS[row["kind"]], number(row["n"]), row["latency"], PHASES[row["phase"]],
                " (%s)" % "; ".join(row["notes"]) if row["notes"] else "",
                seconds(row["ours"].value) if row["ours"] else "—", row["ours"].runs if row["ours"] else 0,
                requests_text(row["stats"]),
                "%.0f / %.0f" % (row["rss"] / MB, row["pss"] / MB) if row["rss"] else "—",
                seconds(row["cpu"]), seconds(row["wire"].value) if row["wire"] else "—", row["same"],
                seconds(row["base"]),
                ("≈ " if row["uri"].estimated else "") + seconds(row["uri"].value) if row["uri"] else "—",
                ratio(row["ratio_uri"]), ratio(row["ratio_base"]), ratio(row["ratio_input"])))
        return lines if len(lines) > 2 else ["Not measured in this run."]

    def role_table(self):
        lines = ["| sites x hot-desking users | forks | run | ours (s) | runs | requests (ours, all sites) | "
                 "peak RSS / PSS (MB) | controller CPU (s) | CPU-s per site | pbxsim CPU (s) | wire replay (s) | "
                 "wire = ours | floor (s) | ours / uri loop | ours / (floor + wire) |",
                 "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
        rows = self.role_rows()
        for row in rows:
            lines.append("| %d x %s | %s | %s%s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | — | %s |" % (
                row["sites"], number(row["n"]), row["forks"] or "—",
                PHASES[row["phase"]] if row["phase"] != "nochange" else "no-change converge",
                " (%s)" % "; ".join(row["notes"]) if row["notes"] else "",
                seconds(row["ours"].value) if row["ours"] else "—", row["ours"].runs if row["ours"] else 0,
                requests_text(row["stats"]),
                "%.0f / %.0f" % (row["rss"] / MB, row["pss"] / MB) if row["rss"] else "—",
                seconds(row["cpu"]), seconds(row["cpu_site"]), seconds(row["pbxsim_cpu"]),
                seconds(row["wire"].value) if row["wire"] else "—", row["same"],
                seconds(row["floor"].value) if row["floor"] else "—", ratio(row["ratio_base"])))
        if len(lines) == 2:
            return ["Not measured in this run."]
        lines += ["", "The uri loop has no counterpart for the whole role (its rows compare single modules)."]
        many = [row for row in rows if row["sites"] > 1 and row["cpu_site"]]
        if many:
            lines += ["", "**What a site costs** (for sizing AWX execution nodes): the controller CPU per site and "
                      "run, measured here over %d sites of %s hot-desking users each:" % (
                          self.options.sites, number(self.options.site_users)), ""]
            for phase in ("fresh", "nochange", "compliance"):
                values = [row["cpu_site"] for row in many if row["phase"] == phase]
                if values:
                    cost = max(values)
                    lines.append("- %s: %.1f CPU-seconds per site, about %.0f sites per core and minute" % (
                        PHASES[phase] if phase != "nochange" else "no-change converge", cost, 60 / cost))
            lines.append("")
            lines.append("A run of S sites on C cores takes at least S x cost / C, and not less than the floor.")
        return lines

    def baseline_table(self):
        lines = ["| baseline | where | runs | median (s) | range (s) |", "|---|---|---:|---:|---:|"]
        for key in sorted((k for k in self.samples if k.section == "floor"), key=lambda k: (k.sites, k.forks or 0)):
            figure = self.median(section="floor", sites=key.sites, forks=key.forks)
            where = "localhost" if key.sites == 1 else "%d hosts, forks %d" % (key.sites, key.forks)
            lines.append("| floor (one no-op task) | %s | %d | %s | %s to %s |" % (
                where, figure.runs, seconds(figure.value), seconds(figure.low), seconds(figure.high)))
        floor = self.floor()
        for key in sorted((k for k in self.samples if k.section == "uri"),
                          key=lambda k: (list(KINDS).index(k.kind), k.latency, k.phase)):
            figure = self.median(section="uri", kind=key.kind, latency=key.latency, phase=key.phase)
            per_entry = (figure.value - floor.value) / key.n if floor else None
            lines.append("| uri loop, %s (%s) | %d entries, %d ms | %d | %s | %s to %s; %s s per entry |" % (
                KINDS[key.kind], "show + write" if key.phase == "converge" else "shows only", key.n, key.latency,
                figure.runs, seconds(figure.value), seconds(figure.low), seconds(figure.high), seconds(per_entry)))
        return lines

    def runs_text(self):
        budget = self.options.budget_minutes
        lines = ["Every block ran in pass 1; passes 2 to %d ran again every block whose pass took at most %.0f s, "
                 "and the costlier ones that fitted in the budget of %s, cheapest first. A block's cost is its "
                 "longest pass." % (self.options.runs, self.options.repeat_under,
                                    "%.0f minutes" % budget if budget else "(none)"), "",
                 "| block | runs | cost of one pass (s) |", "|---|---:|---:|"]
        for block in self.blocks:
            lines.append("| %s | %d | %.0f |" % (block.name, block.passes, block.cost or 0))
        return lines

    # --- plots --------------------------------------------------------------------------------------
    def plots(self, path, api=None):
        try:
            import matplotlib  # pylint: disable=import-outside-toplevel
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
        except ImportError:
            return []
        names = []
        modules = self.module_rows(api)
        colours = {"fresh": "tab:blue", "nochange": "tab:green", "check": "tab:orange", "compliance": "tab:red"}
        for kind in KINDS:
            rows = [row for row in modules if row["kind"] == kind]
            if len({row["n"] for row in rows}) < 2:
                continue
            latencies = sorted({row["latency"] for row in rows})
            figure, axes = plt.subplots(1, len(latencies), figsize=(6.5 * len(latencies), 5), squeeze=False)
            for axis, latency in zip(axes[0], latencies):
                for phase in ("fresh", "nochange", "check"):
                    mine = sorted((row for row in rows if row["latency"] == latency and row["phase"] == phase),
                                  key=lambda row: row["n"])
                    sizes = [row["n"] for row in mine]
                    axis.plot(sizes, [row["ours"].value for row in mine], "o-", color=colours[phase],
                              label="ours, %s" % PHASES[phase])
                    axis.plot(sizes, [row["wire"].value for row in mine if row["wire"]], "s--", color=colours[phase],
                              alpha=0.6, label="wire limit, %s" % PHASES[phase])
                    if phase != "nochange" and all(row["uri"] for row in mine):
                        axis.plot(sizes, [row["uri"].value for row in mine], ":", color=colours[phase], alpha=0.8,
                                  label="uri loop (≈), %s" % ("shows" if phase == "check" else "show + write"))
                floor = self.floor()
                if floor:
                    axis.axhline(floor.value, color="black", linewidth=0.8, label="floor (no-op playbook)")
                axis.set_xscale("log")
                axis.set_yscale("log")
                axis.set_xlabel("entries (N)")
                axis.set_ylabel("wall time (s)")
                axis.set_title("%s%s, pbxsim latency %d ms" % (KINDS[kind], " over PbxAdminApi" if api else "",
                                                               latency))
                axis.grid(True, which="both", alpha=0.3)
                axis.legend(fontsize=7)
            figure.tight_layout()
            name = "%s-%s%s.png" % (path.stem, "pbxadminapi-" if api else "", kind)
            figure.savefig(path.parent / name, dpi=90)
            plt.close(figure)
            names.append(("%s%s: time vs N" % (KINDS[kind], " over PbxAdminApi" if api else ""), name))
        if api:
            return names
        roles = [row for row in self.role_rows() if row["n"] == self.options.site_users]
        if any(row["sites"] > 1 for row in roles):
            figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
            styles = dict(zip(sorted({row["forks"] for row in roles if row["forks"]}), ("o-", "s--", "^-.", "d:")))
            single = {row["phase"]: row for row in roles if row["sites"] == 1}
            for forks, style in styles.items():
                for phase in ("fresh", "nochange", "compliance"):
                    points = [single[phase]] if phase in single else []
                    points += [row for row in roles if row["forks"] == forks and row["phase"] == phase]
                    left.plot([row["sites"] for row in points], [row["ours"].value for row in points], style,
                              color=colours[phase], label="%s, forks %d" % (PHASES[phase], forks))
                floors = [(1, self.floor())] + [(self.options.sites, self.floor(self.options.sites, forks))]
                left.plot([sites for sites, floor in floors if floor], [floor.value for _s, floor in floors if floor],
                          style, color="black", linewidth=0.8, label="floor, forks %d" % forks)
            left.axhline(60, color="grey", linestyle=":", label="target: 60 s")
            left.set_xlabel("sites (PBXs of one pbxsim, %d hot-desking users each)" % self.options.site_users)
            left.set_ylabel("wall time (s)")
            left.set_title("The role over many sites")
            left.grid(True, alpha=0.3)
            left.legend(fontsize=7)
            many = [row for row in roles if row["sites"] > 1]
            labels = ["%s\nforks %d" % ("no change" if row["phase"] == "nochange" else row["phase"], row["forks"])
                      for row in many]
            right.bar(range(len(many)), [row["cpu_site"] for row in many],
                      color=[colours[row["phase"]] for row in many])
            right.set_xticks(range(len(many)))
            right.set_xticklabels(labels, fontsize=8)
            right.axhline(2, color="grey", linestyle=":", label="target: about 2 CPU-s per site")
            right.set_ylabel("controller CPU-seconds per site")
            right.set_title("What a site costs (%d sites)" % self.options.sites)
            right.legend(fontsize=7)
            figure.tight_layout()
            name = "%s-sites.png" % path.stem
            figure.savefig(path.parent / name, dpi=90)
            plt.close(figure)
            names.append(("the role over many sites", name))
        return names
