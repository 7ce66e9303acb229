# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Devices client and its engine backends (categories, device configurations) against an in-memory app."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import devices as dv
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import AppWebsocket, AppWsError
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import CATEGORIES, DEVICE_CONFIGS

SCRIPT = "config add PHONE SIG /h323 hot-desk-base /gk-pwd Base-Pass-123\nconfig write\nconfig activate"


def devices(peer, domain=None, login_domain="example.com"):
    ws = AppWebsocket("ws://127.0.0.1:1/%s/devices" % login_domain, peer.password, login_domain,
                      "innovaphone-devices", timeout=1, connect=peer.connect)
    return dv.Devices(ws, domain)


def test_the_login_sends_the_service_name_and_the_module_works_in_the_domain_the_login_got(devices_peer):
    devices_peer.login_domain = "other.example.com"
    app = devices(devices_peer, login_domain="")
    assert app.domain_id == 2 and app.domain == "other.example.com"
    login = devices_peer.sent[1]
    assert login["mt"] == "AppLogin" and login["app"] == "innovaphone-devices" and login["domain"] == ""


def test_a_domain_given_wins_over_the_login_domain(devices_peer):
    assert devices(devices_peer, "other.example.com").domain_id == 2


def test_an_unknown_domain_names_the_domains_the_login_sees(devices_peer):
    with pytest.raises(AppWsError, match="does not see domain nowhere.example.com .it sees: example.com, other"):
        devices(devices_peer, "nowhere.example.com").categories()


def test_a_configuration_is_read_with_its_values_joined_from_their_parts(devices_peer):
    category = devices_peer.add_category("Hotdesking", config=True)
    config_id = devices_peer.add_config("EXPERT", "Hot Desking", [category], {"script": SCRIPT})
    app = devices(devices_peer)
    listed = app.configs("EXPERT")
    assert listed == [{"id": config_id, "domainId": 1, "desc": "Hot Desking", "type": "EXPERT",
                       "categories": [{"id": category, "name": "Hotdesking", "config": True}]}]
    config = app.config(config_id)
    assert config["script"] == SCRIPT
    parts = [m for m in devices_peer.inbox_log if m["mt"] == "GetDeviceConfigValueResult"]
    assert len(parts) == -(-len(SCRIPT) // devices_peer.VALUE_PART) > 1


def test_two_objects_of_a_name_are_an_error_only_when_that_name_is_wanted(devices_peer):
    app = devices(devices_peer)
    items = [{"desc": "Twice"}, {"desc": "Twice"}, {"desc": "Once"}]
    assert app.named("configurations", items, "desc", ["Once"])["Once"] == {"desc": "Once"}
    with pytest.raises(AppWsError, match="domain example.com has two configurations named 'Twice'"):
        app.named("configurations", items, "desc", ["Twice"])


def test_category_backend_creates_updates_with_the_whole_object_and_deletes(devices_peer):
    app = devices(devices_peer)
    engine = Engine(CATEGORIES, dv.CategoryBackend(app))
    assert engine.converge([{"name": "Hotdesking", "provisioning": False}])["changed"]
    assert engine.converge([{"name": "Hotdesking", "provisioning": True}])["changes"][0]["fields"] == ["provisioning"]
    update = next(m for m in devices_peer.sent if m["mt"] == "UpdateCategory")
    assert dict((k, update[k]) for k in ("id", "name", "config")) == {
        "id": 101, "name": "Hotdesking", "config": True}
    assert engine.converge([{"name": "Hotdesking", "state": "absent"}])["changed"]
    assert devices_peer.categories == {}


def test_config_backend_sends_documented_objects_and_keeps_unmanaged_values(devices_peer):
    office = devices_peer.add_category("Office", config=True)
    hotdesk = devices_peer.add_category("Hotdesking", config=True)
    phone = devices_peer.add_config("PHONE", "Phone", [office], {"gkId": "PBX1", "gk1": "192.0.2.10",
                                                                 "frameSize": 40, "hideAdminCfg": True})
    app = devices(devices_peer)
    backend = dv.ConfigBackend(app, "phone", ["Phone"])
    engine = Engine(DEVICE_CONFIGS["phone"], backend)
    current = engine.read()
    assert current["Phone"] == {
        "name": "Phone", "type": "phone", "categories": ["Office"], "coder": "", "protect_config": False,
        "allow_user_config": False, "gatekeeper": {"id": "PBX1", "primary": "192.0.2.10", "secondary": ""}}
    result = engine.converge([{"name": "Phone", "type": "phone", "categories": ["Hotdesking", "Office"],
                               "coder": "G722"}], current)
    assert result["changes"] == [{"name": "Phone", "action": "update", "fields": ["categories", "coder"]}]
    update = next(m for m in devices_peer.sent if m["mt"] == "UpdateDeviceConfig")
    assert update["id"] == phone and update["desc"] == "Phone" and update["type"] == "PHONE"
    assert update["categories"] == [{"id": hotdesk, "name": "Hotdesking", "config": True},
                                    {"id": office, "name": "Office", "config": True}]
    assert devices_peer.configs[phone]["frameSize"] == 40 and devices_peer.configs[phone]["hideAdminCfg"] is True
    assert devices_peer.configs[phone]["coder"] == "G722"


def test_config_backend_reads_values_of_the_named_configuration_only(devices_peer):
    for number in range(3):
        devices_peer.add_config("EXPERT", "Script %d" % number, values={"script": SCRIPT})
    devices_peer.add_config("PHONE", "Script 1")
    backend = dv.ConfigBackend(devices(devices_peer), "expert", ["Script 1"])
    assert list(backend.read_all()) == ["Script 1"]
    assert [m["id"] for m in devices_peer.sent if m["mt"] == "GetDeviceConfig"] == [102]


def test_a_new_configuration_carries_its_type_description_and_category_objects(devices_peer):
    hotdesk = devices_peer.add_category("Hotdesking", config=True)
    backend = dv.ConfigBackend(devices(devices_peer), "expert", ["Hot Desking"])
    engine = Engine(DEVICE_CONFIGS["expert"], backend)
    engine.converge([{"name": "Hot Desking", "type": "expert", "categories": ["Hotdesking"], "script": SCRIPT}])
    added = next(m for m in devices_peer.sent if m["mt"] == "AddDeviceConfig")
    assert dict((k, v) for k, v in added.items() if k not in ("mt", "src")) == {
        "domainId": 1, "desc": "Hot Desking", "type": "EXPERT", "script": SCRIPT,
        "categories": [{"id": hotdesk, "name": "Hotdesking", "config": True}]}


@pytest.mark.parametrize("announce", [True, False])
def test_wait_for_device_by_event_or_by_polling(devices_peer, monkeypatch, announce):
    monkeypatch.setattr(dv, "POLL_SECONDS", 0.05)
    devices_peer.add_category("Hotdesking", config=True)
    devices_peer.phone = {"id": 7, "hwId": "009033400001", "product": "IP232"}
    devices_peer.announce = announce
    app = devices(devices_peer)
    code = app.provisioning_code("Hotdesking", "temp")["code"]
    assert app.provisioned_device(code, 5) == devices_peer.phone
    polled = [m for m in devices_peer.sent if m["mt"] == "GetProvisionedDevice"]
    assert [m["code"] for m in polled] == ([] if announce else [code])
