# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pbxsim (through tests/pbxsim/launcher.py) with the passwords and helpers of the integration tests.

Used by the integration tests (conftest.py) and by the benchmarks (tests/benchmarks/).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

import requests
from requests.auth import HTTPDigestAuth

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from pbxsim.launcher import Pbxsim  # noqa: E402  pylint: disable=wrong-import-position

ADMIN_PASSWORD = "it-admin-Pw1"
PBX_PASSWORD = "it-pbx-Pw2"
CONTROL_TOKEN = "it-control-token"
# The PBX's App object for automation (PbxAdminApi and PbxTableUsers granted).
APP_NAME = "it-automation"
APP_PASSWORD = "it-app-Pw3"
SOAP_NS = "http://innovaphone.com/pbx"


class Sim(Pbxsim):
    """pbxsim started with the passwords and control token above (contract section 6), or a site's own."""

    def __init__(self, workdir, args=(), admin_password=ADMIN_PASSWORD, pbx_password=PBX_PASSWORD,
                 devices_password=None):
        env = {"PBXSIM_ADMIN_PASSWORD": admin_password, "PBXSIM_PBX_PASSWORD": pbx_password,
               "PBXSIM_CONTROL_TOKEN": CONTROL_TOKEN,
               "PBXSIM_APP_NAME": APP_NAME, "PBXSIM_APP_PASSWORD": APP_PASSWORD}
        if devices_password is not None:
            env["PBXSIM_DEVICES_PASSWORD"] = devices_password
        super().__init__(workdir, args, env=env)
        self.admin_password = admin_password

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
                                 auth=HTTPDigestAuth("admin", self.admin_password), verify=self.ca or True,
                                 headers={"Content-Type": "text/xml", "SOAPAction": '"%s/Admin"' % SOAP_NS})
        assert response.status_code == 200 and "&lt;ok/&gt;" in response.text, response.text
        self.control("POST", "stats/reset")


def respelt_sim(workdir, spelling):
    """A started pbxsim that spells the guessed wire names of `spelling` ({section: {key: name}}) otherwise."""
    path = pathlib.Path(workdir) / "wire-names.json"
    path.write_text(json.dumps(spelling))
    return Sim(workdir, ["--wire-names", str(path)]).start()


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
        run = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=3600, check=False)
    # No ansible-core of the matrix (2.16 to 2.21) may have anything of the collection to deprecate.
    assert "DEPRECATION WARNING" not in run.stdout + run.stderr, run.stdout + run.stderr
    return run
