# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start pbxsim in the background for a playbook run, and stop it again.

    python tests/tools/pbxsim_run.py start DIR [--count N]   # DIR/inventory.yml: one host per simulated PBX
    python tests/tools/pbxsim_run.py stop DIR

`start` returns once pbxsim listens and leaves DIR/pbxsim.pid, DIR/pbxsim.log, DIR/ready.json and
DIR/inventory.yml, an inventory overlay that points hosts site1..siteN at pbxsim's random ports (URLs,
Devices domain, control API). Used by `make demo`, molecule and the integration tests.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_TIMEOUT = 30


class PbxsimError(Exception):
    """pbxsim did not start."""


def site_vars(pbx):
    """Inventory variables that point one site at one simulated PBX."""
    host = pbx["url"].split("//", 1)[1].rsplit(":", 1)[0]
    return {
        "hotdesking_pbx_url": pbx["url"],
        "hotdesking_devices_url": pbx["devices_url"],
        "hotdesking_devices_domain": pbx["devices_domain"],
        "hotdesking_primary_gatekeeper": host,
        "hotdesking_sim_control_url": pbx["url"] + "/_sim",
        "hotdesking_sim_control_token": pbx["control_token"],
    }


def overlay(ready):
    return {"all": {"hosts": {
        "site%d" % number: site_vars(pbx) for number, pbx in enumerate(ready["pbxs"], start=1)}}}


def start(directory, count=1, extra_args=()):
    """Start pbxsim; returns its ready information once it listens."""
    os.makedirs(directory, exist_ok=True)
    ready_file = os.path.join(directory, "ready.json")
    if os.path.exists(ready_file):
        os.unlink(ready_file)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tests"))
    command = [sys.executable, "-m", "pbxsim", "--port", "0", "--control", "--count", str(count),
               "--ready-file", ready_file] + list(extra_args)
    with open(os.path.join(directory, "pbxsim.log"), "wb") as log:
        # A session of its own, so that the caller's Ctrl-C or exit does not reach it: `stop` ends it.
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True)
    with open(os.path.join(directory, "pbxsim.pid"), "w", encoding="utf-8") as stream:
        stream.write("%d\n" % process.pid)
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(ready_file):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(directory)
            with open(os.path.join(directory, "pbxsim.log"), encoding="utf-8", errors="replace") as log:
                raise PbxsimError("pbxsim did not start:\n" + log.read())
        time.sleep(0.05)
    with open(ready_file, encoding="utf-8") as stream:
        ready = json.load(stream)
    with open(os.path.join(directory, "inventory.yml"), "w", encoding="utf-8") as stream:
        stream.write("---\n# Written by tests/tools/pbxsim_run.py: the sites as pbxsim serves them.\n")
        yaml.safe_dump(overlay(ready), stream, default_flow_style=False, sort_keys=True)
    return ready


def stop(directory):
    """Stop the pbxsim started in `directory`; True if one was running."""
    pid_file = os.path.join(directory, "pbxsim.pid")
    try:
        with open(pid_file, encoding="utf-8") as stream:
            pid = int(stream.read())
    except (OSError, ValueError):
        return False
    os.unlink(pid_file)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:       # not our child: poll for its end instead
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory")
    parser.add_argument("--count", type=int, default=1)
    options = parser.parse_args()
    if options.action == "start":
        try:
            ready = start(options.directory, options.count)
        except PbxsimError as exc:
            sys.exit(str(exc))
        print(" ".join(pbx["url"] for pbx in ready["pbxs"]))
    else:
        stop(options.directory)


if __name__ == "__main__":
    main()
