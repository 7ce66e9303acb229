# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way to start, reach and stop pbxsim: the tests, the benchmarks, `make demo` and molecule use it.

In a Python process (pytest fixtures, benchmarks, demo):

    sim = Pbxsim(workdir, ["--tls"], env={"PBXSIM_ADMIN_PASSWORD": …}).start()
    sim.url, sim.ca, sim.ready["pbxs"], sim.control("GET", "state")
    sim.stop()

`workdir` receives ready.json, pbxsim.log and, when detached, pbxsim.pid. Detached, pbxsim runs in a session
of its own (a Ctrl-C of the caller does not reach it) and any later process stops it through the pid file;
that is what molecule needs, whose create and destroy steps are separate processes:

    PYTHONPATH=tests python -m pbxsim.launcher start DIR [--count N] [--wire-names FILE]  # writes DIR/inventory.yml
    PYTHONPATH=tests python -m pbxsim.launcher stop DIR
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

TESTS_DIR = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0   # seconds; a busy two-core machine starts pbxsim in about one
STOP_TIMEOUT = 10.0


class PbxsimError(Exception):
    """pbxsim did not start, or a control call got another status than expected.

    `returncode`: pbxsim's exit status when it ended before it was ready (2: refused its command line,
    e.g. a bad --wire-names file), else None.
    """

    def __init__(self, message, returncode=None):
        super().__init__(message)
        self.returncode = returncode


def _ready_value(key):
    return property(lambda self: self.ready[key], doc="`%s` of the ready line (the first PBX)" % key)


class Pbxsim:
    """One pbxsim process: --port 0 --ready-file <workdir>/ready.json, --control unless control=False, `args`."""

    def __init__(self, workdir, args=(), env=None, control=True):
        self.workdir = Path(workdir).resolve()  # _runs_as() finds this path in pbxsim's command line
        self.args = (["--control"] if control else []) + list(args)
        self.env = dict(os.environ, PYTHONPATH=str(TESTS_DIR), **(env or {}))
        self.ready_file = self.workdir / "ready.json"
        self.log_file = self.workdir / "pbxsim.log"
        self.pid_file = self.workdir / "pbxsim.pid"
        self.process = None
        self.ready = {}

    # --- process ---------------------------------------------------------------------------------
    def start(self, detached=False):
        """Start pbxsim and return self once it listens (its ready line is in `ready`)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        command = [sys.executable, "-m", "pbxsim", "--port", "0", "--ready-file", str(self.ready_file)] + self.args
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=detached)
        if detached:
            self.pid_file.write_text("%d\n" % self.process.pid, encoding="utf-8")
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready_file.exists():
            returncode = self.process.poll()
            if returncode is not None or time.monotonic() > deadline:
                self.stop()
                ended = "" if returncode is None else " (exit status %d)" % returncode
                raise PbxsimError("pbxsim did not start%s:\n%s" % (ended, self.log()), returncode)
            time.sleep(0.02)
        self.ready = json.loads(self.ready_file.read_text(encoding="utf-8"))
        return self

    def stop(self):
        """SIGTERM (SIGKILL after STOP_TIMEOUT) to the pbxsim of this workdir; False if none was running."""
        process, self.process = self.process, None
        if process is None:
            return self._stop_detached()
        self.pid_file.unlink(missing_ok=True)
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return True

    def restart(self):
        self.stop()
        return self.start()

    def _stop_detached(self):
        """Stop the pbxsim another process started detached in this workdir."""
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        self.pid_file.unlink()
        if not self._runs_as(pid):
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._runs_as(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        return True

    def _runs_as(self, pid):
        """True while `pid` is this workdir's pbxsim (Linux /proc): not a reused pid, not a zombie."""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as stream:
                return str(self.ready_file).encode() in stream.read()
        except FileNotFoundError:
            return False

    def log(self):
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    # --- addresses and the control API -----------------------------------------------------------
    url = _ready_value("url")
    devices_url = _ready_value("devices_url")
    devices_domain = _ready_value("devices_domain")
    ca = _ready_value("ca")
    token = _ready_value("control_token")

    def pbx_url(self, pbx=0):
        return self.ready["pbxs"][pbx]["url"]

    def control(self, method, path, body=None, pbx=0, expect=200):
        """Call /_sim/<path> of PBX number `pbx` (0-based) with the token; returns the JSON answer.

        A new connection each time: a kept-alive one may be closed by pbxsim's idle timeout as it is reused.
        """
        response = requests.request(method, "%s/_sim/%s" % (self.pbx_url(pbx), path), json=body, timeout=30,
                                    headers={"X-Sim-Token": self.token}, verify=self.ca or True)
        if response.status_code != expect:
            raise PbxsimError("%s /_sim/%s answered %d, not %d: %s"
                              % (method, path, response.status_code, expect, response.text))
        return response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None


# --- detached, for molecule and make demo ----------------------------------------------------------
def site_vars(pbx):
    """Inventory variables that point one site of docs/examples/ at one simulated PBX."""
    return {
        "hotdesking_pbx_url": pbx["url"],
        "hotdesking_devices_url": pbx["devices_url"],
        "hotdesking_devices_domain": pbx["devices_domain"],
        "hotdesking_primary_gatekeeper": pbx["url"].split("//", 1)[1].rsplit(":", 1)[0],
        "hotdesking_sim_control_url": pbx["url"] + "/_sim",
        "hotdesking_sim_control_token": pbx["control_token"],
    }


def start_sites(directory, count=1, wire_names=None):
    """Start pbxsim detached with `count` PBXs (all speaking the spelling of the `wire_names` file, if given);
    DIR/inventory.yml points hosts site1..siteN at them."""
    args = ["--count", str(count)] + (["--wire-names", str(Path(wire_names).resolve())] if wire_names else [])
    sim = Pbxsim(directory, args).start(detached=True)
    inventory = {"all": {"hosts": {"site%d" % number: site_vars(pbx)
                                   for number, pbx in enumerate(sim.ready["pbxs"], start=1)}}}
    # JSON is YAML: Ansible's yaml inventory plugin reads it.
    (sim.workdir / "inventory.yml").write_text(json.dumps(inventory, indent=2, sort_keys=True), encoding="utf-8")
    return sim


def main():
    parser = argparse.ArgumentParser(prog="python -m pbxsim.launcher", description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--wire-names", help="pbxsim's --wire-names file (start)")
    options = parser.parse_args()
    if options.action == "stop":
        Pbxsim(options.directory).stop()
        return
    try:
        sim = start_sites(options.directory, options.count, options.wire_names)
    except PbxsimError as exc:
        sys.exit(str(exc))
    print(" ".join(pbx["url"] for pbx in sim.ready["pbxs"]))


if __name__ == "__main__":
    main()
