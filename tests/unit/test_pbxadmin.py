# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PBX objects over PbxAdminApi/PbxTableUsers: what the answers become, what the writes send."""

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import crypto
from ansible_collections.innovaphone.pbx.plugins.module_utils.common import uses_pbxadminapi
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import hotdesk_record
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbxadmin import (
    READS_FIRST, READS_IN_FLIGHT, PbxAdmin, boolean_properties, element_properties, pbxadminapi_url, properties,
    to_element)
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import HttpClient


@pytest.mark.parametrize("url, expected", [
    ("https://pbx.example.com", "wss://pbx.example.com/PBX0/APPS/websocket"),
    ("http://127.0.0.1:8080/", "ws://127.0.0.1:8080/PBX0/APPS/websocket"),
    ("HTTPS://proxy.example.com/pbx1", "wss://proxy.example.com/pbx1/PBX0/APPS/websocket"),
])
def test_the_apps_websocket_is_beside_the_pbx_url(url, expected):
    assert pbxadminapi_url(url) == expected


def test_a_replicated_row_reads_as_the_soap_element():
    row = {"guid": "ab12", "h323": "alice", "cn": "Alice", "pwd": "00ff" * 12, "hide": False, "e164": "101",
           "devices": [{"hw": "ALICE", "text": "Hotdesking", "app": "phone", "trusted": True, "tls": False}],
           "grps": [{"name": "sales", "mode": "static"}]}
    element = to_element(row)
    assert dict(element.attrib) == {"guid": "ab12", "h323": "alice", "cn": "Alice", "pwdx": "00ff" * 12,
                                    "e164": "101"}
    assert [child.tag for child in element] == ["device", "grp"]
    assert hotdesk_record(element) == {"user": "alice", "registered": True, "app": "phone", "text": "Hotdesking",
                                       "trusted": True, "tls": False, "no_filter": False, "duplicates": 0}


def test_an_answer_keeps_its_envelope_out_and_parses_a_pseudo_column():
    element = to_element({"mt": "GetObjectResult", "src": "3", "api": "PbxAdminApi", "cn": "T",
                          "pseudo": '<pseudo type="config"/>'})
    assert dict(element.attrib) == {"cn": "T"}
    assert element.find("pseudo").get("type") == "config"


def test_an_empty_boolean_deletes_the_setting_as_soap_leaves_the_attribute_out():
    booleans = boolean_properties()
    assert {"hide", "trusted", "tls", "no-filter"} <= booleans
    assert properties({"hide": "", "dn": "", "e164": "7"}, booleans) == {"hide": -1, "dn": "", "e164": "7"}
    assert properties({"hide": "true"}, booleans) == {"hide": True}


def test_a_new_template_sends_its_pseudo_object():
    element = to_element({"cn": "Hotdesking", "filter": "intern", "pseudo": {"type": "config"}})
    assert element_properties(element) == {"cn": "Hotdesking", "filter": "intern", "pseudo": {"type": "config"}}


class FakeWs:
    """An AppWebsocket that answers from a table and keeps what it was sent."""

    app = "automation"
    where = "the PBX"
    timeout = 1

    def __init__(self, answers, events=()):
        self.answers = answers
        self.events = list(events)
        self.sent = []

    def open(self):
        return self

    def shared(self, mt, idempotent=None, **fields):
        self.sent.append(dict(fields, mt=mt, idempotent=idempotent))
        answer = self.answers[mt]
        # A list answers in turn; its last answer stays (the end of a replication, however many ask).
        return [answer.pop(0) if isinstance(answer, list) and len(answer) > 1 else
                answer[0] if isinstance(answer, list) else answer]

    def post(self, mt, **fields):
        return (self.shared(mt, idempotent="posted", **fields), None, mt, None)

    def post_all(self, requests):
        return [self.post(mt, **fields) for mt, fields in requests]

    @staticmethod
    def collect(ticket):
        return ticket[0]

    @staticmethod
    def checked(_mt, answer):
        return answer

    def shared_wait_for(self, mt, seconds):
        return next((event for event in self.events if event["mt"] == mt), None)

    def error(self, message):
        return Exception(message)


def admin(answers, events=()):
    return PbxAdmin(HttpClient("http://pbx.test", "admin", "pw"), FakeWs(answers, events))


def test_users_are_one_replication_to_its_end_and_templates_come_from_getconfigobjects():
    pbx = admin({
        "ReplicateStart": {"columns": {"guid": {}, "h323": {}, "cn": {}, "devices": {}}},
        "ReplicateNext": [{"columns": {"guid": "1", "h323": "alice", "cn": "Alice"}},
                          {"columns": {"guid": "2", "h323": "bob", "cn": "Bob"}}, {}],
        "GetConfigObjects": [{"objects": [{"cn": "A", "config": []}], "more": "A"},
                             {"objects": [{"cn": "B", "config": ["A"]}]}],
        "GetObject": [{"cn": "A", "guid": "3", "pseudo": {"type": "config"}}, {"cn": "B", "guid": "4"}],
    })
    elements = pbx.objects()
    assert [e.get("cn") for e in elements] == ["Alice", "Bob", "A", "B"]
    assert elements[3].get("config") == "A" and elements[3].find("pseudo").get("type") == "config"
    sent = [message["mt"] for message in pbx.ws.sent]
    # The first page of templates is asked for with the replication, whose first READS_FIRST ReplicateNext go out
    # with ReplicateStart; more only when half of them are answered, and an answer without a row (the third) ends
    # the table before.
    assert sent == ["GetConfigObjects", "ReplicateStart"] + ["ReplicateNext"] * READS_FIRST + [
        "GetConfigObjects", "GetObject", "GetObject"]
    assert "more" not in pbx.ws.sent[0] and pbx.ws.sent[READS_FIRST + 2]["more"] == "A"


@pytest.mark.parametrize("count", [0, 1, 100, 1000, 5000])
def test_the_read_window_grows_to_its_bound_and_stops_soon_past_the_table(count):
    rows = [{"columns": {"guid": str(n), "h323": "u%d" % n, "cn": "U %d" % n, "devices": []}} for n in range(count)]
    pbx = admin({"ReplicateStart": {"columns": {"guid": {}, "h323": {}, "cn": {}, "devices": {}}},
                 "ReplicateNext": rows + [{}]})
    writes, out = [], [0]
    post_all, collect = pbx.ws.post_all, pbx.ws.collect

    def counted_post_all(requests):
        writes.append(len(requests))
        out[0] += len(requests)
        assert out[0] <= READS_IN_FLIGHT + 1     # the window, and ReplicateStart with the first part of it
        return post_all(requests)

    def counted_collect(ticket):
        out[0] -= 1
        return collect(ticket)
    pbx.ws.post_all, pbx.ws.collect = counted_post_all, counted_collect
    assert [user.get("h323") for user in pbx.users()] == ["u%d" % n for n in range(count)]
    nexts = sum(1 for message in pbx.ws.sent if message["mt"] == "ReplicateNext")
    assert count < nexts <= count + READS_IN_FLIGHT
    assert writes[0] == 1 + READS_FIRST and writes[1:3] == [READS_FIRST + READS_FIRST // 2,
                                                            READS_IN_FLIGHT - READS_FIRST][:len(writes) - 1]
    # Round trips: about log2(READS_IN_FLIGHT / READS_FIRST) + N / (READS_IN_FLIGHT / 2), not N / 128.
    assert len(writes) <= 3 + count // (READS_IN_FLIGHT // 2)


def test_a_table_without_the_devices_column_is_said_not_read_as_empty():
    pbx = admin({"ReplicateStart": {"columns": {"guid": {}, "h323": {}, "cn": {}}}, "ReplicateNext": {}})
    with pytest.raises(Exception, match="no column devices"):
        pbx.users()


def test_a_hot_desk_login_is_the_registration_whose_hw_is_the_users_name():
    regs = [{"hw": "009033000001", "addr": "192.0.2.1"}, {"hw": "Alice", "addr": "192.0.2.2"}]
    pbx = admin({"GetRegs": [{"regs": regs}, {}]})
    pbx._users = [to_element({"guid": "1", "h323": "alice", "cn": "Alice"}),
                  to_element({"guid": "2", "h323": "bob", "cn": "Bob"})]
    assert pbx.registrations() == [
        {"user": "alice", "long_name": "Alice", "hw": "009033000001", "address": "192.0.2.1", "with_password": None,
         "hotdesk": False},
        {"user": "alice", "long_name": "Alice", "hw": "Alice", "address": "192.0.2.2", "with_password": None,
         "hotdesk": True}]


def test_the_key_comes_from_monitoradminobject_and_its_pwd_proves_the_pbx_password():
    key = b"0123456789abcdef"
    info = {"mt": "MonitorAdminObjectInfo", "key": crypto.rc4(b"pbx-pw".ljust(16, b"\0"), key).hex(),
            "pwd": crypto.rc4(key, b"pbx-pw".ljust(16, b"\0")).hex()}
    pbx = admin({"MonitorAdminObject": {}}, [info])
    assert pbx.key("pbx-pw") == key
    assert pbx.proves(pbx.key("pbx-pw"), "pbx-pw") is True
    assert pbx.proves(pbx.key("other"), "other") is False
    assert [message["mt"] for message in pbx.ws.sent] == ["MonitorAdminObject"]


def test_writes_are_updateobject_a_create_found_again_by_cn_a_device_in_the_whole_array():
    pbx = admin({"UpdateObject": {"guid": "9"}, "DeleteObject": {},
                 "GetObject": {"devices": [{"hw": "0090", "text": "desk"}, {"hw": "ALICE", "text": "old"}]}})
    pbx.add(to_element({"cn": "Alice", "h323": "alice", "pwd": ""}))
    pbx.modify(to_element({"guid": "9"}), {"dn": "A", "hide": ""})
    pbx.put_device(to_element({"guid": "9", "h323": "alice"}),
                   lambda current: to_element({"hw": current.get("hw"), "text": "Hotdesking", "trusted": True},
                                              "device"))
    pbx.delete_object(to_element({"guid": "9"}))
    create, modify, _get, device, delete = pbx.ws.sent
    assert create == {"mt": "UpdateObject", "idempotent": True, "api": "PbxAdminApi", "guid": "?", "cn": "Alice",
                      "h323": "alice"}
    assert modify == {"mt": "UpdateObject", "idempotent": True, "api": "PbxAdminApi", "guid": "9", "dn": "A",
                      "hide": -1}
    assert device["devices"] == [{"hw": "0090", "text": "desk"}, {"hw": "ALICE", "text": "Hotdesking", "trusted": True}]
    assert delete == {"mt": "DeleteObject", "idempotent": False, "api": "PbxAdminApi", "guid": "9"}


def test_soap_admin_is_refused_over_pbxadminapi_never_sent():
    pbx = admin({})
    with pytest.raises(Exception, match="not sent with pbx_api: pbxadminapi"):
        pbx.admin(to_element({}, "show"))


class FakeModule:
    def __init__(self, **params):
        self.params = dict(dict(app_name=None, app_password=None, pbx_api="auto"), **params)

    def fail_json(self, msg):
        raise AssertionError(msg)


@pytest.mark.parametrize("params, expected", [
    ({}, False),
    ({"app_name": "automation"}, False),
    ({"app_name": "automation", "app_password": "pw"}, True),
    ({"app_name": "automation", "app_password": "pw", "pbx_api": "soap"}, False),
    ({"app_name": "automation", "app_password": "pw", "pbx_api": "pbxadminapi"}, True),
])
def test_auto_speaks_pbxadminapi_when_the_app_objects_credentials_are_given(params, expected):
    assert uses_pbxadminapi(FakeModule(**params)) is expected


def test_pbxadminapi_without_the_app_password_fails_before_any_request_naming_the_variable():
    with pytest.raises(AssertionError, match="app_password is not set .hotdesking_pbx_app_password in the role"):
        uses_pbxadminapi(FakeModule(app_name="automation", pbx_api="pbxadminapi"))


def test_a_read_asked_ahead_goes_out_with_the_replication_and_once():
    pbx = admin({
        "MonitorAdminObject": {}, "GetRPs": {"rp": []},
        "ReplicateStart": {"columns": {"guid": {}, "h323": {}, "cn": {}, "devices": {}}},
        "ReplicateNext": [{"columns": {"guid": "1", "h323": "alice", "cn": "Alice"}}, {}],
        "GetConfigObjects": {"objects": []},
    }, events=[{"mt": "MonitorAdminObjectInfo", "key": "k", "pwd": ""}])
    pbx.read_ahead("key", "reverse_proxies")
    pbx.objects()
    assert pbx.admin_info()["key"] == "k" and pbx.reverse_proxies() == []
    sent = [message["mt"] for message in pbx.ws.sent]
    assert sent[:4] == ["MonitorAdminObject", "GetRPs", "GetConfigObjects", "ReplicateStart"]
    assert sent.count("MonitorAdminObject") == sent.count("GetRPs") == sent.count("GetConfigObjects") == 1
