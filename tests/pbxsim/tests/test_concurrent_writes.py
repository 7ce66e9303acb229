# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes arriving on several connections at once, as a module with a bounded pool of writers sends them, and
the request recording the benchmark replays (/_sim/record).

The PBX rules must hold whatever the interleaving: unique names and numbers, one hardware id per user, a
show -> modify of one user never loses another user's change, an error still names the object. Requests that
wait out --latency-ms on different connections overlap, as on a WAN, instead of queueing behind each other."""

import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

from pbxsim import appws
from pbxsim.wire_names import DEVICES_APP

from .conftest import DEVICES_PASSWORD, RETURN_TAG, SOAP_ENVELOPE, SOAP_HEADERS

BULK = "/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*"
POOL = 4


def admin(session, sim, inner_xml, pbx=0):
    response = session.post(sim.pbx_url(pbx) + "/PBX0/user.soap", data=SOAP_ENVELOPE % escape(inner_xml),
                            headers=SOAP_HEADERS, timeout=60)
    assert response.status_code == 200, response.text
    return ET.fromstring(ET.fromstring(response.content).find(".//" + RETURN_TAG).text)


def objects(sim, pbx=0):
    return {user.get("h323"): user for user in ET.fromstring(sim.get(BULK, pbx).content)}


def seed(sim, count, pbx=0):
    users = "".join('<user cn="User %03d" h323="u%03d" e164="%d" pwd="pw-%03d"/>' % (n, n, 1000 + n, n)
                    for n in range(count))
    assert sim.admin("<add>%s</add>" % users, pbx).tag == "ok"


def pool_map(function, items, workers=POOL):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


def test_concurrent_modifies_of_different_users_all_land(pbxsim):
    """Show -> edit -> modify of 200 users on 4 connections (one shared session, as one module run holds):
    every device lands, every password and attribute the modify kept survives."""
    sim = pbxsim("--latency-ms", "5")
    seed(sim, 200)
    shared = sim.session()
    before = objects(sim)

    def register(name):
        element = before[name]
        ET.SubElement(element, "device", {"hw": name, "text": "Hotdesking", "app": "phone"})
        return admin(shared, sim, "<modify>%s</modify>" % ET.tostring(element, encoding="unicode")).tag

    assert pool_map(register, sorted(before)) == ["ok"] * 200
    after = objects(sim)
    assert sorted(after) == sorted(before)
    for name, element in after.items():
        assert [device.get("hw") for device in element.findall("device")] == [name]
        assert element.get("pwdx") == before[name].get("pwdx") and element.get("e164") == before[name].get("e164")
    assert sim.control("GET", "stats")["interfaces"]["soap"]["writes"] == 201


def test_concurrent_adds_of_one_name_admit_exactly_one(pbxsim):
    """Eight connections add the same username (and long name, and number) at once: one wins, seven are
    refused with an error naming the conflict, and the PBX holds one object."""
    sim = pbxsim()
    barrier = threading.Barrier(8)

    def add(number):
        session = sim.session()
        session.get(sim.url + "/cfg.txt", timeout=10)  # the digest handshake before the race
        barrier.wait()
        return admin(session, sim, '<add><user cn="Same %d" h323="same" e164="%d"/></add>' % (number, 500 + number))

    answers = pool_map(add, range(8), workers=8)
    assert sorted(answer.tag for answer in answers) == ["error"] * 7 + ["ok"]
    assert all("same" in answer.text for answer in answers if answer.tag == "error")
    assert list(objects(sim)) == ["same"]


def test_concurrent_claims_of_one_hardware_id_admit_exactly_one(pbxsim):
    """Eight users claim the same hw id at once through modify: exactly one holds it afterwards."""
    sim = pbxsim("--latency-ms", "20")
    seed(sim, 8)
    current = objects(sim)
    barrier = threading.Barrier(8)

    def claim(name):
        session = sim.session()
        session.get(sim.url + "/cfg.txt", timeout=10)
        element = current[name]
        ET.SubElement(element, "device", {"hw": "009033000001"})
        barrier.wait()
        return admin(session, sim, "<modify>%s</modify>" % ET.tostring(element, encoding="unicode"))

    answers = pool_map(claim, sorted(current), workers=8)
    assert sorted(answer.tag for answer in answers) == ["error"] * 7 + ["ok"]
    assert all("009033000001" in answer.text for answer in answers if answer.tag == "error")
    holders = [name for name, element in objects(sim).items() if element.find("device") is not None]
    assert len(holders) == 1


def test_requests_on_several_connections_overlap_their_latency(pbxsim):
    """40 writes at 50 ms latency: about 2 s one at a time, about 0.5 s on four connections."""
    sim = pbxsim("--latency-ms", "50")
    seed(sim, 40)
    current = objects(sim)
    sessions = threading.local()

    def rename(name):
        if not hasattr(sessions, "http"):
            sessions.http = sim.session()
        element = current[name]
        element.set("dn", "Display " + name)
        return admin(sessions.http, sim, "<modify>%s</modify>" % ET.tostring(element, encoding="unicode")).tag

    started = time.monotonic()
    assert pool_map(rename, sorted(current)) == ["ok"] * 40
    elapsed = time.monotonic() - started
    assert elapsed < 40 * 0.05 / 2, "the writes queued behind each other: %.2f s" % elapsed
    assert all(element.get("dn") == "Display " + name for name, element in objects(sim).items())


def test_concurrent_writes_to_several_pbxs_of_one_process_stay_apart(pbxsim):
    sim = pbxsim("--count", "3", "--latency-ms", "5")

    def fill(pbx):
        session = sim.session()
        for number in range(30):
            answer = admin(session, sim, '<add><user cn="P%d U%d" h323="u%d" e164="%d"/></add>'
                           % (pbx, number, number, 100 + number), pbx)
            assert answer.tag == "ok", ET.tostring(answer)
        return sorted(objects(sim, pbx))

    listings = pool_map(fill, range(3), workers=3)
    assert listings == [sorted("u%d" % n for n in range(30))] * 3
    assert [sim.control("GET", "stats", pbx=pbx)["interfaces"]["soap"]["writes"] for pbx in range(3)] == [30] * 3


def test_record_keeps_authenticated_requests_and_devices_messages(sim):
    sim.control("POST", "record")
    sim.admin('<add><user cn="Rec" h323="rec"/></add>')
    sim.get(BULK)
    sim.get("/!config%20write")
    recorded = sim.control("DELETE", "record")
    assert not recorded["recording"]
    kinds = [(entry["kind"], entry["method"], entry["path"].split("?")[0]) for entry in recorded["requests"]]
    assert kinds == [("http", "POST", "/PBX0/user.soap"), ("http", "GET", "/PBX0/ADMIN/mod_cmd_login.xml"),
                     ("http", "GET", "/!config%20write")]
    soap = recorded["requests"][0]
    assert "&lt;add&gt;" in soap["body"] and soap["headers"]["SOAPAction"] == SOAP_HEADERS["SOAPAction"]
    assert recorded["requests"][1]["path"] == BULK
    # Stopped: nothing more is kept.
    sim.get(BULK)
    assert sim.control("GET", "record") == {"recording": False, "requests": []}


def test_record_numbers_the_devices_sessions(sim):
    sim.control("POST", "record")
    for _session in range(2):
        with appws.AppClient(sim.devices_url) as client:
            assert client.login(DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]
            client.call("GetCategories")
    recorded = sim.control("DELETE", "record")["requests"]
    messages = [(entry["session"], appws.decode(entry["text"])[0]["mt"]) for entry in recorded]
    assert messages == [(1, "AppChallenge"), (1, "AppLogin"), (1, "GetCategories"),
                        (2, "AppChallenge"), (2, "AppLogin"), (2, "GetCategories")]
