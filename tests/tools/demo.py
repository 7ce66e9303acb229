# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make demo`: the whole how-to against pbxsim, for the two sites of docs/examples/.

Starts pbxsim with two PBXs, creates the demo employees, runs playbook hotdesking, runs it again to show
that nothing changes, runs playbook verify (a simulated phone is provisioned and used for hot desking),
prints a short summary and stops pbxsim, also when a step fails.
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from pbxsim.launcher import PbxsimError, start_sites  # noqa: E402  pylint: disable=wrong-import-position

EXAMPLES = os.path.join(ROOT, "docs", "examples")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", re.M)
VERIFIED = re.compile(r'"msg": "(\S+ verified: [^"]*)"')


class DemoFailed(Exception):
    pass


def run_playbook(workdir, playbook, title):
    """Run one playbook against the example inventory plus pbxsim's overlay; returns its output."""
    print("\n=== %s" % title, flush=True)
    command = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook,
        "-i", os.path.join(EXAMPLES, "inventory.yml"), "-i", os.path.join(workdir, "inventory.yml"),
        "--vault-password-file", os.path.join(EXAMPLES, "demo-vault-password"),
    ]
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    lines = []
    with subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    output = "".join(lines)
    if process.returncode or not RECAP.search(output):
        raise DemoFailed("%s failed (exit %d)" % (title, process.returncode))
    return output


def changes(output):
    """{host: number of changed tasks} from the play recap."""
    return {host: int(changed) for host, changed in RECAP.findall(output)}


def show_changes(output):
    return "  ".join("%s changed=%d" % item for item in sorted(changes(output).items()))


def main():
    with tempfile.TemporaryDirectory(prefix="innovaphone-demo-") as workdir:
        summary, failure, sim = [], None, None
        try:
            sim = start_sites(workdir, count=2)
            summary.append("pbxsim: %s" % ", ".join(pbx["url"] for pbx in sim.ready["pbxs"]))
            run_playbook(workdir, os.path.join(EXAMPLES, "demo_employees.yml"), "Demo employees (pbxsim is empty)")
            first = run_playbook(workdir, "innovaphone.pbx.hotdesking", "hotdesking, first run")
            summary.append("first run:   %s" % show_changes(first))
            second = run_playbook(workdir, "innovaphone.pbx.hotdesking", "hotdesking, second run")
            summary.append("second run:  %s" % show_changes(second))
            if any(changes(second).values()):
                raise DemoFailed("the second run changed something: the role is not idempotent")
            verified = run_playbook(workdir, "innovaphone.pbx.verify", "verify")
            summary.extend("verify:      %s" % line for line in sorted(VERIFIED.findall(verified)))
        except (DemoFailed, PbxsimError) as exc:
            failure = str(exc)
        finally:
            if sim:
                sim.stop()
        summary.append("FAILED: %s" % failure if failure else "all steps passed")
        print("\n=== Demo summary (pbxsim stopped)\n" + "\n".join("  " + line for line in summary))
        return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
