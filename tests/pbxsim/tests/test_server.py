# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The process: ready line, --count, persistence across restarts, concurrency, TLS."""

import json
import os
import ssl
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

WRITERS = 50
USERS_PER_WRITER = 4


def bulk(sim, pbx=0):
    return sim.get("/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*", pbx).text


def test_ready_line_lists_every_pbx(pbxsim):
    sim = pbxsim("--count", "3")
    ready = sim.ready
    assert set(ready) == {"name", "url", "devices_url", "devices_domain", "ca", "control_token", "apps_url",
                          "app_name", "pbxs"}
    assert [pbx["devices_domain"] for pbx in ready["pbxs"]] == ["site1.example.com", "site2.example.com",
                                                                "site3.example.com"]
    assert {key: ready[key] for key in ready["pbxs"][0]} == ready["pbxs"][0]
    ports = {pbx["url"].rsplit(":", 1)[1] for pbx in ready["pbxs"]}
    assert len(ports) == 3
    for pbx in ready["pbxs"]:
        assert pbx["url"].startswith("http://127.0.0.1:") and pbx["ca"] is None
        assert pbx["devices_url"] == pbx["url"].replace("http", "ws") + "/" + pbx["devices_domain"] + "/devices"
        assert pbx["apps_url"] == pbx["url"].replace("http", "ws") + "/PBX0/APPS/websocket"
    assert json.loads(sim.log().splitlines()[0]) == ready  # the same line on stdout


def test_pbxs_of_one_process_are_independent(pbxsim):
    sim = pbxsim("--count", "2")
    assert sim.admin('<add><user cn="only-on-1" h323="one"/></add>', pbx=0).tag == "ok"
    assert len(sim.admin('<show><user cn="only-on-1"/></show>', pbx=1)) == 0
    assert sim.admin('<add><user cn="only-on-1" h323="one"/></add>', pbx=1).tag == "ok"
    assert sim.state(pbx=1)["name"] == "pbx2"


def test_restart_with_the_same_state_file_serves_the_same_pbx(pbxsim, tmp_path):
    state = tmp_path / "pbx.json"
    sim = pbxsim("--state", str(state))
    sim.admin('<add><user cn="T"><pseudo type="config"/></user></add>')
    sim.admin('<add><user cn="Base" h323="base" e164="#10" pwd="pw" config="T"><device hw="base"/></user></add>')
    sim.get("/!config%20change%20PBX0%20/reg-no-pwd%200")
    sim.get("/!config%20write")
    sim.get("/!config%20change%20PBX0%20/reg-no-pwd%203")
    before = bulk(sim), sim.admin('<show><user cn="_ADMIN_"/></show>')[0].get("key"), sim.state()
    sim.restart()
    assert (bulk(sim), sim.admin('<show><user cn="_ADMIN_"/></show>')[0].get("key"), sim.state()) == before
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".pbxsim-")] == []


def test_state_directory_with_count(pbxsim, tmp_path):
    sim = pbxsim("--count", "2", "--state", str(tmp_path / "states"))
    sim.admin('<add><user cn="two" h323="two"/></add>', pbx=1)
    assert sorted(path.name for path in (tmp_path / "states").iterdir()) == ["pbx1.json", "pbx2.json"]
    sim.restart()
    assert len(sim.admin('<show><user cn="two"/></show>', pbx=1)) == 1
    assert len(sim.admin('<show><user cn="two"/></show>', pbx=0)) == 0


def test_fifty_concurrent_writers_lose_nothing(pbxsim, tmp_path):
    sim = pbxsim("--state", str(tmp_path / "pbx.json"))

    def writer(number):
        session = sim.session()
        for index in range(USERS_PER_WRITER):
            name = "w%02d-%d" % (number, index)
            response = session.post(sim.url + "/PBX0/user.soap", headers={"Content-Type": "text/xml"},
                                    data=soap_add(name, "7%02d%d" % (number, index)), timeout=60)
            assert response.status_code == 200 and "&lt;ok/&gt;" in response.text, response.text

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    expected = {"w%02d-%d" % (n, i) for n in range(WRITERS) for i in range(USERS_PER_WRITER)}
    assert {user.get("cn") for user in ET.fromstring(bulk(sim))} == expected
    sim.restart()
    assert {user.get("cn") for user in ET.fromstring(bulk(sim))} == expected


def soap_add(name, number):
    return ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<Admin xmlns="http://innovaphone.com/pbx"><xml>&lt;add&gt;&lt;user cn="%s" h323="%s" e164="%s"'
            ' pwd="pw-%s"/&gt;&lt;/add&gt;</xml></Admin></soap:Body></soap:Envelope>' % (name, name, number, name))


def test_tls_with_the_throwaway_ca(pbxsim):
    sim = pbxsim("--tls")
    assert sim.url.startswith("https://127.0.0.1:") and sim.devices_url.startswith("wss://127.0.0.1:")
    with open(sim.ca, encoding="ascii") as stream:
        assert "BEGIN CERTIFICATE" in stream.read()
    assert sim.session().get(sim.url + "/cfg.txt", timeout=10).status_code == 200  # verified with the CA
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url + "/cfg.txt", timeout=10)  # system trust store: unknown CA
    localhost = sim.url.replace("127.0.0.1", "localhost")
    assert sim.session().get(localhost + "/cfg.txt", timeout=10).status_code == 200
    context = ssl.create_default_context(cafile=sim.ca)
    assert context.get_ca_certs()[0]["subject"]
    sim.stop()
    assert not os.path.exists(sim.ca)  # the temporary CA is removed
