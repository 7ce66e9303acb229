# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start the real pbxsim as a subprocess and drive its control API (contract section 6).

Used by the integration tests (conftest.py) and by the benchmarks (tests/benchmarks/).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import requests
from requests.auth import HTTPDigestAuth

REPO = pathlib.Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "it-admin-Pw1"
PBX_PASSWORD = "it-pbx-Pw2"
CONTROL_TOKEN = "it-control-token"
SOAP_NS = "http://innovaphone.com/pbx"


class Sim:
    """A running pbxsim and its control API (contract section 6)."""

    def __init__(self, process, ready):
        self.process = process
        self.url = ready["url"]
        self.ca = ready["ca"]
        self.session = requests.Session()
        self.session.headers["X-Sim-Token"] = CONTROL_TOKEN

    def control(self, method, call, body=None):
        response = self.session.request(method, "%s/_sim/%s" % (self.url, call), json=body, timeout=10,
                                        verify=self.ca or True)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self):
        return self.control("GET", "state")

    def stats(self):
        return self.control("GET", "stats")

    def reset(self):
        self.control("DELETE", "faults")
        self.control("POST", "reset")
        self.control("POST", "stats/reset")

    def objects(self):
        return dict((o["attrs"].get("h323") or o["attrs"]["cn"], o) for o in self.state()["pbx"]["objects"])

    def admin(self, xml):
        """Seed the PBX through SOAP Admin() (as an operator's other tools would), then zero the stats."""
        body = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                '<Admin xmlns="%s"><xml>%s</xml></Admin></s:Body></s:Envelope>'
                % (SOAP_NS, xml.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")))
        response = requests.post(self.url + "/PBX0/user.soap", data=body.encode(), timeout=10,
                                 auth=HTTPDigestAuth("admin", ADMIN_PASSWORD), verify=self.ca or True,
                                 headers={"Content-Type": "text/xml", "SOAPAction": '"%s/Admin"' % SOAP_NS})
        assert response.status_code == 200 and "&lt;ok/&gt;" in response.text, response.text
        self.control("POST", "stats/reset")


def start_pbxsim(tmp_path, *options):
    ready_file = tmp_path / "ready.json"
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests"), PBXSIM_ADMIN_PASSWORD=ADMIN_PASSWORD,
               PBXSIM_PBX_PASSWORD=PBX_PASSWORD)
    log = open(tmp_path / "pbxsim.log", "w", encoding="utf-8")  # pylint: disable=consider-using-with
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "pbxsim", "--port", "0", "--control", "--control-token", CONTROL_TOKEN,
         "--ready-file", str(ready_file)] + list(options), env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("pbxsim did not start: %s" % (tmp_path / "pbxsim.log").read_text())
        time.sleep(0.05)
    return Sim(process, json.loads(ready_file.read_text()))


def stop(sim):
    sim.process.terminate()
    try:
        sim.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sim.process.kill()


def ansible_playbook(playbook, variables, *args, **env):
    """Run ansible-playbook with the collection of this tree; variables go in through a file (any size)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as extra_vars:
        json.dump(variables, extra_vars)
        extra_vars.flush()
        environment = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                           ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                           ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"), **env)
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(playbook),
                   "-e", "@" + extra_vars.name] + list(args)
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=3600, check=False)
