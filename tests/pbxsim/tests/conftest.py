# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures that run pbxsim as a real subprocess, exactly as a user starts it.

- `pbxsim`: a factory, `pbxsim("--tls", "--state", path, env={...})` -> a started Sim; every Sim it
  started is stopped after the test.
- `sim`: one shared server (started once per test session, --control), reset to factory state
  before each test. Use it unless a test needs its own flags.

A Sim holds the parsed ready JSON (`sim.ready`) and helpers: `control()` for /_sim/ calls with the
token, `session()` for a digest-authenticated requests.Session, `admin()` for a SOAP Admin() call.
"""

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import requests
from requests.auth import HTTPDigestAuth

TESTS_DIR = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "pbxsim-admin"
PBX_PASSWORD = "pbxsim-pbx"
DEVICES_PASSWORD = "pbxsim-devices"
START_TIMEOUT = 20.0
SOAP_ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?>'
                 '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 '<Admin xmlns="http://innovaphone.com/pbx"><xml>%s</xml></Admin></soap:Body></soap:Envelope>')
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://innovaphone.com/pbx/Admin"'}
RETURN_TAG = "{http://innovaphone.com/pbx}return"


class Sim:
    """One pbxsim process: --port 0 --ready-file …, --control unless control=False, then `args`."""

    def __init__(self, workdir, args=(), env=None, control=True):
        self.workdir = Path(workdir)
        self.args = (["--control"] if control else []) + list(args)
        self.env = dict(os.environ, PYTHONPATH=str(TESTS_DIR), **(env or {}))
        self.ready_file = self.workdir / "ready.json"
        self.log_file = self.workdir / "pbxsim.log"
        self.process = None
        self.ready = {}
        self._session = None

    # --- process ---------------------------------------------------------------------------------
    def start(self):
        self.ready_file.unlink(missing_ok=True)
        command = [sys.executable, "-m", "pbxsim", "--port", "0", "--ready-file", str(self.ready_file)] + self.args
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pbxsim did not start: %s" % self.log_file.read_text())
            time.sleep(0.02)
        self.ready = json.loads(self.ready_file.read_text())
        self._session = None
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self):
        self.stop()
        return self.start()

    # --- addresses -------------------------------------------------------------------------------
    @property
    def url(self):
        return self.ready["url"]

    @property
    def devices_url(self):
        return self.ready["devices_url"]

    @property
    def devices_domain(self):
        return self.ready["devices_domain"]

    @property
    def ca(self):
        return self.ready["ca"]

    @property
    def token(self):
        return self.ready["control_token"]

    def pbx_url(self, pbx=0):
        return self.ready["pbxs"][pbx]["url"]

    # --- helpers ---------------------------------------------------------------------------------
    def control(self, method, path, json_body=None, pbx=0, expect=200):
        """Call /_sim/<path> on PBX number `pbx` (0-based); returns the JSON answer."""
        response = requests.request(method, "%s/_sim/%s" % (self.pbx_url(pbx), path), json=json_body,
                                    headers={"X-Sim-Token": self.token}, verify=self.ca or True, timeout=30)
        assert response.status_code == expect, response.text
        return response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None

    def session(self, password=ADMIN_PASSWORD, username="admin"):
        """A new keep-alive session with digest auth (and the CA with --tls)."""
        session = requests.Session()
        session.auth = HTTPDigestAuth(username, password)
        session.verify = self.ca or True
        session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides verify
        return session

    @property
    def http(self):
        """A shared admin session (reused between calls, like the collection does)."""
        if self._session is None:
            self._session = self.session()
        return self._session

    def soap(self, inner_xml, pbx=0):
        """POST an Admin() envelope; returns the requests response."""
        return self.http.post(self.pbx_url(pbx) + "/PBX0/user.soap", data=SOAP_ENVELOPE % escape(inner_xml),
                              headers=SOAP_HEADERS, timeout=30)

    def admin(self, inner_xml, pbx=0):
        """The `return` of an Admin() call, parsed: an ElementTree element (<show>, <ok/>, <error>)."""
        response = self.soap(inner_xml, pbx)
        assert response.status_code == 200, response.text
        return ET.fromstring(ET.fromstring(response.content).find(".//" + RETURN_TAG).text)

    def get(self, path, pbx=0):
        return self.http.get(self.pbx_url(pbx) + path, timeout=30)

    def state(self, pbx=0):
        return self.control("GET", "state", pbx=pbx)

    def log(self):
        return self.log_file.read_text()


@pytest.fixture
def pbxsim(tmp_path):
    """Factory: pbxsim(*args, env=None, control=True) starts a pbxsim subprocess with extra flags."""
    started = []

    def start(*args, env=None, control=True):
        workdir = tmp_path / ("sim%d" % len(started))
        workdir.mkdir()
        sim = Sim(workdir, args, env, control)
        started.append(sim)
        return sim.start()

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture(scope="session")
def shared_sim(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("shared-sim")).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(shared_sim):
    """The shared pbxsim, reset to factory state (no objects, faults or counters)."""
    shared_sim.control("POST", "reset")
    return shared_sim
