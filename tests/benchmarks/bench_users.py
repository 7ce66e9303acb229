# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark, not a test: converge N users against pbxsim twice (create, then no change).

Prints, per run, the wall time of `ansible-playbook` and the requests pbxsim counted (`/_sim/stats`).
Usage: .venv/bin/python tests/benchmarks/bench_users.py [N ...]   (default: 1000 5000)
"""

import pathlib
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from simulator import ADMIN_PASSWORD, PBX_PASSWORD, Sim, ansible_playbook  # noqa: E402


def users(count):
    return [{"name": "bench%05d" % i, "long_name": "Bench User %05d" % i, "extension": str(100000 + i),
             "password": "Bench-Pw-%05d" % i, "hide_from_ldap": i % 2 == 0} for i in range(count)]


def converge(sim, bench_users):
    sim.control("POST", "stats/reset")
    started = time.monotonic()
    completed = ansible_playbook(HERE / "users.yml", {"pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD,
                                                      "pbx_password": PBX_PASSWORD, "bench_users": bench_users})
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        sys.exit(completed.stdout[-3000:] + completed.stderr[-3000:])
    changed = "changed=1" in completed.stdout
    return seconds, changed, sim.stats()


def main(sizes):
    with tempfile.TemporaryDirectory(prefix="bench-users-") as workdir:
        sim = Sim(workdir).start()
        try:
            print("| users | run | changed | wall time (s) | requests | reads | writes | bulk reads | SOAP writes |")
            print("|---:|---|---|---:|---:|---:|---:|---:|---:|")
            for size in sizes:
                sim.reset()
                bench_users = users(size)
                for run in ("first", "second"):
                    seconds, changed, stats = converge(sim, bench_users)
                    print("| %d | %s | %s | %.1f | %d | %d | %d | %d | %d |" % (
                        size, run, changed, seconds, stats["requests"], stats["reads"], stats["writes"],
                        stats["interfaces"]["bulk"]["reads"], stats["interfaces"]["soap"]["writes"]), flush=True)
        finally:
            sim.stop()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 5000])
