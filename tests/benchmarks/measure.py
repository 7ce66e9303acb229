# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What bench.py measures of one ansible-playbook run: wall time, CPU time of the whole controller process tree,
peak memory of that tree (sampled), the PLAY RECAP. Linux only (/proc)."""

import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def _stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1]); None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].split()


def cpu_seconds(pid):
    """User + system CPU time a running process has used so far; None once it is gone."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / TICKS


def _pss_bytes(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid, "rb") as stream:
            for line in stream:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Samples the memory of a process and all its descendants until stop(): the peak of the summed RSS (what
    `ps` shows; pages a fork shares with its parent count in both) and of the summed PSS (shared pages split
    between the processes that share them: what the tree really occupies).

    A sample scans /proc for the tree (this kernel has no /proc/<pid>/task/<tid>/children); the pause between
    samples is at least 0.1 s and at least 20 times the cost of the last sample, so that sampling takes at most
    about 5 % of one core however large the tree (50 sites with forks 25)."""

    def __init__(self, root_pid):
        super().__init__(daemon=True)
        self.root = root_pid
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_processes = 0
        self.samples = 0
        self._done = threading.Event()

    def tree(self):
        """{pid: rss bytes} of the root and its descendants."""
        children, rss = {}, {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            fields = _stat_fields(int(name))
            if fields is None or fields[0] == b"Z":
                continue
            children.setdefault(int(fields[1]), []).append(int(name))
            rss[int(name)] = int(fields[21]) * PAGE
        members, todo = {}, [self.root]
        while todo:
            pid = todo.pop()
            if pid in rss:
                members[pid] = rss[pid]
                todo.extend(children.get(pid, ()))
        return members

    def sample(self):
        members = self.tree()
        if not members:
            return
        self.samples += 1
        self.peak_rss = max(self.peak_rss, sum(members.values()))
        self.peak_pss = max(self.peak_pss, sum(_pss_bytes(pid) for pid in members))
        self.peak_processes = max(self.peak_processes, len(members))

    def run(self):
        while not self._done.is_set():
            started = time.perf_counter()
            self.sample()
            self._done.wait(max(0.1, 20 * (time.perf_counter() - started)))

    def stop(self):
        self._done.set()
        self.join()


class Run:
    """One measured ansible-playbook run."""

    def __init__(self, command, returncode, output, wall, cpu, sampler):
        self.command = command
        self.returncode = returncode
        self.output = output
        self.wall = wall
        self.cpu = cpu
        self.peak_rss = sampler.peak_rss
        self.peak_pss = sampler.peak_pss
        self.processes = sampler.peak_processes
        self.recap = {host: {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable),
                             "failed": int(failed)}
                      for host, ok, changed, unreachable, failed in RECAP.findall(output)}

    @property
    def changed(self):
        return sum(host["changed"] for host in self.recap.values())

    @property
    def failed(self):
        return self.returncode != 0 or any(host["failed"] or host["unreachable"] for host in self.recap.values())

    def tail(self, characters=3000):
        return self.output[-characters:]


def environment(**extra):
    """ansible-playbook's environment: this tree's collection, no colours, Ansible's home under .build/."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0",
               ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"))
    env.setdefault("ANSIBLE_HOME", str(REPO / ".build" / "ansible-home"))
    env.update(extra)
    return env


def tool(name):
    """An Ansible command of this venv."""
    return str(pathlib.Path(sys.executable).parent / name)


def ansible_playbook(playbook, variables=None, args=(), inventory=None, cwd=None, timeout=3600):
    """Run ansible-playbook (extra vars through a file: any size) and measure it; returns a Run.

    CPU time is that of every process of the run: getrusage(RUSAGE_CHILDREN) grows by what each child and the
    descendants it waited for used, once the child is waited for. pbxsim, also a child of this process, is
    still running then and not counted."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as workdir:
        command = [tool("ansible-playbook"), str(playbook)]
        if variables is not None:
            extra = pathlib.Path(workdir) / "vars.json"
            extra.write_text(json.dumps(variables), encoding="utf-8")
            command += ["-e", "@%s" % extra]
        if inventory is not None:
            command += ["-i", str(inventory)]
        command += list(args)
        with open(pathlib.Path(workdir) / "output.txt", "w+", encoding="utf-8") as output:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            process = subprocess.Popen(command, env=environment(), cwd=cwd or workdir, stdin=subprocess.DEVNULL,
                                       stdout=output, stderr=subprocess.STDOUT)
            sampler = TreeSampler(process.pid)
            sampler.start()
            try:
                returncode = process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                returncode = process.wait()
            wall = time.monotonic() - started
            sampler.stop()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            output.seek(0)
            text = output.read()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(command, returncode, text, wall, cpu, sampler)


def documented_options(*modules):
    """{module: set of option names} from one `ansible-doc -j` of this tree's collection."""
    completed = subprocess.run([tool("ansible-doc"), "-j"] + list(modules), env=environment(),
                               capture_output=True, text=True, timeout=300, check=False)
    if completed.returncode != 0:
        raise RuntimeError("ansible-doc failed: %s" % completed.stderr[-2000:])
    docs = json.loads(completed.stdout)
    return {module: set((docs.get(module) or {}).get("doc", {}).get("options", {})) for module in modules}
