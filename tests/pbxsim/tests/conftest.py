# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures that run pbxsim as a real subprocess (pbxsim.launcher), exactly as a user starts it.

- `pbxsim`: a factory, `pbxsim("--tls", "--state", path, env={...})` -> a started Sim; every Sim it
  started is stopped after the test.
- `sim`: one shared server (started once per test session, --control), reset to factory state
  before each test. Use it unless a test needs its own flags.

A Sim is a launcher.Pbxsim (`sim.ready`, `control()` for /_sim/ calls with the token, `log()`) with
helpers: `session()` for a digest-authenticated requests.Session, `admin()` for a SOAP Admin() call.
"""

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest
import requests
import websocket
from requests.auth import HTTPDigestAuth

from pbxsim.launcher import Pbxsim

ADMIN_PASSWORD = "pbxsim-admin"
PBX_PASSWORD = "pbxsim-pbx"
DEVICES_PASSWORD = "pbxsim-devices"
SOAP_ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?>'
                 '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 '<Admin xmlns="http://innovaphone.com/pbx"><xml>%s</xml></Admin></soap:Body></soap:Envelope>')
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://innovaphone.com/pbx/Admin"'}
RETURN_TAG = "{http://innovaphone.com/pbx}return"


class Sim(Pbxsim):
    """A pbxsim process with the HTTP helpers the simulator's own tests use."""

    _session = None

    def start(self, detached=False):
        self._session = None
        return super().start(detached)

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


def closed_by_server(ws):
    """Whether the next thing a websocket-client connection gets is the server closing it: a close frame (recv()
    answers it and returns ""), or, when the server dropped the socket before the client's answer to that frame
    got out, the broken connection itself (a race the machine's load decides)."""
    try:
        return ws.recv() == ""
    except (BrokenPipeError, ConnectionResetError, websocket.WebSocketConnectionClosedException):
        return True
