# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PbxTableUsers replication (reference 6.3): the whole table row by row, then every change through any interface
(SOAP, the bulk-read's model, PbxAdminApi, the Devices app and its phones) as ReplicateAdd / Update / Del, and a
ReplicateUpdate from the replicator applied to the PBX in the columns it may update."""

import hashlib
import json

import pytest
import websocket

from pbxsim import cfg, crypto, model

from .conftest import PBX_PASSWORD
from .test_pbxadminapi import call, connect, show
from .test_phones import Site

API = "PbxTableUsers"
COLUMNS = {"guid": {}, "cn": {"update": True}, "h323": {}, "e164": {"update": True}, "dn": {}, "hide": {},
           "pwd": {"update": True}, "pseudo": {}, "devices": {"update": True}, "grps": {}}


def start(client, columns=None, **fields):
    answer = client.call("ReplicateStart", api=API, add=True, columns=COLUMNS if columns is None else columns,
                         **{"del": True, **fields})
    assert answer["mt"] == "ReplicateStartResult" and "error" not in answer, answer
    return answer


def first_pass(client):
    """ReplicateNext until an answer without a row; the rows."""
    rows = []
    while True:
        answer = client.call("ReplicateNext", api=API)
        assert answer["mt"] == "ReplicateNextResult" and answer["api"] == API
        if "columns" not in answer:
            return rows
        rows.append(answer["columns"])


def events(client):
    """The Replicate* events that reached the client so far (a round trip makes sure they are in)."""
    client.call("ReplicateNoSuchMessage", api=API)
    found = [message for message in client.pending if message.get("mt", "").startswith("Replicate")
             and not message["mt"].endswith("Result")]
    client.pending = [message for message in client.pending if message not in found]
    return [(message["mt"], message["columns"]) for message in found]


@pytest.fixture
def replicator(sim):
    with connect(sim) as client:
        yield client


def add_users(sim, count):
    assert sim.admin("<add>%s</add>" % "".join('<user cn="User %d" h323="u%d" e164="%d" pwd="pw%d"/>' % (n, n, n, n)
                                               for n in range(count))).tag == "ok"


def test_the_first_pass_sends_every_user_once_then_an_answer_without_a_row(sim, replicator):
    add_users(sim, 5)
    assert sim.admin('<add><user cn="Hotdesking"><pseudo type="config"/></user></add>').tag == "ok"
    assert sim.admin('<add-attrib><user cn="User 1"><device hw="u1" text="Hotdesking" app="phone" tls="true"/>'
                     '<grp name="sales" mode="active"/></user></add-attrib>').tag == "ok"
    offered = start(replicator, dict(COLUMNS, **{"no-such-column": {}, "guid": {"update": True}}))["columns"]
    assert offered == COLUMNS, "unknown columns are not offered, the guid cannot be updated"
    rows = first_pass(replicator)
    assert [row["cn"] for row in rows] == ["User %d" % n for n in range(5)], "templates only with pseudo"
    guid = show(sim, "User 1").get("guid")
    assert rows[1] == {"guid": guid, "cn": "User 1", "h323": "u1", "e164": "1", "hide": False,
                       "pwd": show(sim, "User 1").get("pwdx"),
                       "devices": [{"hw": "u1", "text": "Hotdesking", "app": "phone", "tls": True}],
                       "grps": [{"name": "sales", "mode": "active"}]}
    assert replicator.call("ReplicateNext", api=API) == {"api": API, "mt": "ReplicateNextResult", "src": "r10"}


def test_pseudo_types_replicate_other_objects_and_columns_default_to_all(sim, replicator):
    add_users(sim, 1)
    assert sim.admin('<add><user cn="Hotdesking"><pseudo type="config"/></user></add>').tag == "ok"
    offered = start(replicator, columns={}, pseudo=["config"])["columns"]
    assert "devices" in offered and "t-cfpr" in offered and offered["cn"] == {}
    rows = first_pass(replicator)
    assert [(row["cn"], row.get("pseudo")) for row in rows] == [
        ("User 0", None), ("Hotdesking", '<pseudo type="config"/>')]


def test_changes_through_soap_reach_every_replicating_session(sim, replicator):
    add_users(sim, 2)
    start(replicator)
    assert len(first_pass(replicator)) == 2
    with connect(sim) as other:
        start(other, columns={"guid": {}, "cn": {}}, **{"del": False})
        first_pass(other)
        assert sim.admin('<add><user cn="New" h323="new"/></add>').tag == "ok"
        assert sim.admin('<add-attrib><user cn="User 0"><device hw="u0" text="Hotdesking" app="phone"/></user>'
                         '</add-attrib>').tag == "ok"
        assert sim.admin('<modify><user cn="User 1" h323="u1" e164="1" dn="changed"/></modify>').tag == "ok"
        assert sim.admin("<del><user cn=\"New\"/></del>").tag == "ok"
        new_guid = show(sim, "User 0").get("guid")
        seen = events(replicator)
        assert [(mt, row["cn"]) for mt, row in seen] == [("ReplicateAdd", "New"), ("ReplicateUpdate", "User 0"),
                                                         ("ReplicateUpdate", "User 1"), ("ReplicateDel", "New")]
        assert seen[1][1]["guid"] == new_guid and seen[1][1]["devices"][0]["hw"] == "u0"
        assert seen[2][1]["dn"] == "changed" and "pwd" not in seen[2][1], "modify without pwd cleared it"
        # the other session asked for cn only, and no deletions: User 1's dn does not touch its row
        assert list(events(other)) == [("ReplicateAdd", {"guid": seen[0][1]["guid"], "cn": "New"})]


def test_changes_through_pbxadminapi_and_the_phones_reach_the_replication(sim, replicator):
    site = Site(sim)
    start(replicator)
    assert "Alice" in [row["cn"] for row in first_pass(replicator)]
    with connect(sim) as admin:
        call(admin, "UpdateObject", guid="*", cn="Alice", e164="401")
        call(admin, "DeleteObject", guid=show(sim, "Bob").get("guid"))
    assert [(mt, row["cn"], row.get("e164")) for mt, row in events(replicator)] == [
        ("ReplicateUpdate", "Alice", "401"), ("ReplicateDel", "Bob", "202")]
    site.phone_config()
    site.provision()                  # Devices puts the phone's hw id on the code's user
    assert [(mt, row["cn"], [dev["hw"] for dev in row["devices"]]) for mt, row in events(replicator)] == [
        ("ReplicateUpdate", "temp", ["009033aabbcc"])]
    site.devices.close()


def test_a_replicate_update_changes_the_pbx_in_the_columns_marked_update(sim, replicator):
    add_users(sim, 1)
    start(replicator)
    row = first_pass(replicator)[0]
    with connect(sim) as other:
        start(other)
        first_pass(other)
        changed = dict(row, cn="Renamed", e164="500", dn="ignored: not marked update",
                       devices=[{"hw": "u0", "text": "Hotdesking", "app": "phone", "trusted": True}])
        replicator.send({"api": API, "mt": "ReplicateUpdate", "columns": changed})
        renamed = show(sim, "Renamed")
        assert (renamed.get("e164"), renamed.get("dn"), renamed.find("device").get("trusted")) == ("500", None, "true")
        echoed = dict(row, cn="Renamed", e164="500", devices=changed["devices"])
        assert events(other) == [("ReplicateUpdate", echoed)]
        assert events(replicator) == [("ReplicateUpdate", echoed)], "the PBX's row comes back to the sender too"
    assert show(sim, "User 0") is None


def test_a_replicated_password_is_encrypted_and_one_sent_back_sets_it(sim, replicator):
    add_users(sim, 1)
    start(replicator)
    row = first_pass(replicator)[0]
    key = bytes.fromhex(sim.admin('<show><user cn="_ADMIN_"/></show>').find("user").get("key"))
    pbx_key = crypto.rc4(crypto.pad(PBX_PASSWORD, crypto.ADMIN_KEY_PAD), key)
    assert crypto.password_from_pwdx(pbx_key, row["pwd"]) == "pw0"
    new_password = {"guid": row["guid"], "pwd": crypto.pwdx(pbx_key, "new-pw")}
    replicator.send({"api": API, "mt": "ReplicateUpdate", "columns": new_password})
    assert crypto.password_from_pwdx(pbx_key, show(sim, "User 0").get("pwdx")) == "new-pw"
    replicator.send({"api": API, "mt": "ReplicateUpdate", "columns": dict(row, pwd=row["pwd"])})
    assert crypto.password_from_pwdx(pbx_key, show(sim, "User 0").get("pwdx")) == "pw0", "a row sent back as read"
    assert sim.control("GET", "stats")["pwdx_passwords"] == 2


def test_a_refused_replicate_update_answers_an_error_and_changes_nothing(sim, replicator):
    add_users(sim, 2)
    start(replicator)
    rows = first_pass(replicator)
    answer = replicator.call("ReplicateUpdate", api=API, columns={"guid": rows[1]["guid"], "e164": "0"})
    assert answer["error"] == "e164 0 already used by User 0"
    assert show(sim, "User 1").get("e164") == "1" and events(replicator) == []
    assert replicator.call("ReplicateUpdate", api=API, columns={"cn": "x"})["error"] == \
        "columns with the row's guid are required"
    assert replicator.call("ReplicateAdd", api=API, columns={"cn": "x"})["error"] == \
        "pbxsim does not take ReplicateAdd from a replicator"


def test_a_change_during_the_first_pass_arrives_once(sim, replicator):
    add_users(sim, 3)
    start(replicator)
    assert replicator.call("ReplicateNext", api=API)["columns"]["cn"] == "User 0"
    assert sim.admin('<modify><user cn="User 2" h323="u2" e164="222"/></modify>').tag == "ok"
    assert sim.admin('<del><user cn="User 1"/></del>').tag == "ok"
    assert sim.admin('<modify><user cn="User 0" h323="u0" e164="111"/></modify>').tag == "ok"
    assert [(row["cn"], row["e164"]) for row in first_pass(replicator)] == [("User 2", "222")]
    assert [(mt, row["e164"]) for mt, row in events(replicator)] == [("ReplicateUpdate", "111")]


def test_replication_needs_a_start_and_a_reset_deletes_every_row(sim, replicator):
    assert replicator.call("ReplicateNext", api=API)["error"] == "no replication started (ReplicateStart)"
    add_users(sim, 2)
    start(replicator)
    first_pass(replicator)
    sim.control("POST", "reset")
    assert [(mt, row["cn"]) for mt, row in events(replicator)] == [("ReplicateDel", "User 0"),
                                                                   ("ReplicateDel", "User 1")]


def test_an_independent_replicator_as_public_apps_write_it(sim):
    """Plain websocket JSON in the form public innovaphone apps send (columns as {name: {}}, src on every message)."""
    add_users(sim, 2)
    ws = websocket.create_connection(sim.ready["apps_url"], timeout=10)
    try:
        ws.send(json.dumps({"mt": "AppChallenge"}))
        challenge = json.loads(ws.recv())["challenge"]
        digest = hashlib.sha256(("pbxadminapi:::::%s:pbxsim-app" % challenge).encode()).hexdigest()
        ws.send(json.dumps({"mt": "AppLogin", "app": "pbxadminapi", "domain": "", "sip": "", "guid": "", "dn": "",
                            "digest": digest}))
        assert json.loads(ws.recv())["ok"] is True
        ws.send(json.dumps({"api": "PbxTableUsers", "mt": "ReplicateStart", "add": True, "del": True,
                            "columns": {"guid": {}, "dn": {}, "cn": {}, "h323": {}, "e164": {}, "node": {},
                                        "grps": {}, "devices": {}}, "src": "pbx"}))
        assert json.loads(ws.recv())["mt"] == "ReplicateStartResult"
        table = []
        while True:
            ws.send(json.dumps({"api": "PbxTableUsers", "mt": "ReplicateNext", "src": "pbx"}))
            answer = json.loads(ws.recv())
            if not answer.get("columns"):
                break
            table.append(answer["columns"]["h323"])
        assert table == ["u0", "u1"]
        assert sim.admin('<add><user cn="Carol" h323="carol"/></add>').tag == "ok"
        added = json.loads(ws.recv())
        assert (added["mt"], added["api"], added["columns"]["h323"]) == ("ReplicateAdd", "PbxTableUsers", "carol")
    finally:
        ws.close()


def test_the_model_tells_its_watchers_only_committed_changes():
    """The source of every replication event: one call per committed change, none for a refused or undone one."""
    pbx = model.Pbx(cfg.DeviceConfig(), "pbx-pw")
    told = []
    pbx.watch(lambda changes, reset: told.append(([(old and old["attrs"]["cn"], new and new["attrs"]["cn"])
                                                   for old, new in changes], reset)))
    pbx.add(model.element("user", {"cn": "A", "h323": "a"}))
    with pytest.raises(model.PbxError):
        pbx.add(model.element("user", {"cn": "B", "h323": "a"}))
    with pytest.raises(model.PbxError):
        with pbx.transaction():
            pbx.add(model.element("user", {"cn": "C"}))
            pbx.add(model.element("user", {"cn": "A"}))
    with pbx.transaction():
        pbx.add(model.element("user", {"cn": "D"}))
        pbx.modify(model.element("user", {"cn": "A", "dn": "changed"}))
    pbx.delete({"cn": "D"})
    pbx.reset()
    assert told == [([(None, "A")], False), ([(None, "D"), ("A", "A")], False), ([("D", None)], False),
                    ([("A", None)], True)]
