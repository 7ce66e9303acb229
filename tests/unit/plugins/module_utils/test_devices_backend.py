# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Devices backends over the engine: categories, device configurations, provisioning codes (in-memory app)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import devices_backend as db
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import AppRequestError, AppWebsocket, AppWsError
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError

BASE_PASSWORD = "Base-Pass-123"
SEED_SCRIPT = """config add PHONE SIG /h323 hot-desk-base /gk-pwd %s
vars create PHONE/USER-CFG/00000 p %%3cuser%%3e%%3cf+id='0'+label='hot-desking'%%3e%%3chotdesk+label='log+out'+pbx='1'/%%3e%%3c/f%%3e%%3c/user%%3e
mod cmd UP1 check iresetn hot-desk
config write
config activate
""" % BASE_PASSWORD


def devices(peer, domain="example.com"):
    ws = AppWebsocket("ws://127.0.0.1:1/example.com/devices", peer.password, "example.com", "devices",
                      timeout=1, connect=peer.connect, secrets=[BASE_PASSWORD])
    return db.Devices(ws, domain).open()


def category_params(**params):
    return dict(dict(name="PBX1 Hotdesking", provisioning=True, state="present"), **params)


def config_params(**params):
    defaults = dict(type="phone", name="Phone", categories=None, categories_state="present", gatekeeper=None,
                    script=None, state="present")
    return dict(defaults, **params)


# --- categories -----------------------------------------------------------------------------------------
def test_category_is_created_in_the_domain_then_left_alone(devices_peer):
    result = db.converge_category(devices(devices_peer), category_params())
    assert result["changed"] and result["categories"] == [{"name": "PBX1 Hotdesking", "provisioning": True}]
    added = [m for m in devices_peer.sent if m["mt"] == "AddCategory"]
    assert [dict((k, m[k]) for k in ("domainId", "name", "config")) for m in added] == [
        {"domainId": 1, "name": "PBX1 Hotdesking", "config": True}]
    writes = devices_peer.writes
    again = db.converge_category(devices(devices_peer), category_params())
    assert not again["changed"] and again["changes"] == []
    assert devices_peer.writes == writes


def test_category_flag_is_updated_by_id(devices_peer):
    category_id = devices_peer.add_category("PBX1 Hotdesking", config=False)
    result = db.converge_category(devices(devices_peer), category_params(), diff_mode=True)
    assert result["changes"] == [{"name": "PBX1 Hotdesking", "action": "update", "fields": ["provisioning"]}]
    assert result["diff"]["before"]["PBX1 Hotdesking"]["provisioning"] is False
    update = next(m for m in devices_peer.sent if m["mt"] == "UpdateCategory")
    assert update == {"mt": "UpdateCategory", "src": update["src"], "id": category_id, "name": "PBX1 Hotdesking",
                      "config": True}


def test_category_without_provisioning_option_keeps_the_flag(devices_peer):
    devices_peer.add_category("PBX1 Hotdesking", config=True)
    result = db.converge_category(devices(devices_peer), category_params(provisioning=None))
    assert not result["changed"] and devices_peer.writes == 0


def test_category_is_deleted_once(devices_peer):
    category_id = devices_peer.add_category("PBX1 Hotdesking")
    assert db.converge_category(devices(devices_peer), category_params(state="absent"))["changed"]
    assert category_id not in devices_peer.categories
    assert not db.converge_category(devices(devices_peer), category_params(state="absent"))["changed"]


def test_category_check_mode_writes_nothing_and_predicts(devices_peer):
    result = db.converge_category(devices(devices_peer), category_params(), check_mode=True, diff_mode=True)
    assert result["changed"] and result["categories"] == [{"name": "PBX1 Hotdesking", "provisioning": True}]
    created = {"name": "PBX1 Hotdesking", "provisioning": True}
    assert result["diff"] == {"before": {}, "after": {"PBX1 Hotdesking": created}}
    assert devices_peer.writes == 0 and devices_peer.categories == {}


def test_category_in_another_domain_and_an_unknown_domain(devices_peer):
    db.converge_category(devices(devices_peer, "other.example.com"), category_params())
    assert [c["domainId"] for c in devices_peer.categories.values()] == [2]
    with pytest.raises(AppWsError, match="does not see domain nowhere.example.com .it sees: example.com, other"):
        db.converge_category(devices(devices_peer, "nowhere.example.com"), category_params())


def test_two_categories_of_one_name_are_an_error(devices_peer):
    devices_peer.add_category("Twice")
    devices_peer.add_category("Twice")
    with pytest.raises(AppWsError, match="has two categories named 'Twice'"):
        db.converge_category(devices(devices_peer), category_params(name="Twice"))


# --- device configurations ------------------------------------------------------------------------------
@pytest.fixture
def phone_setup(devices_peer):
    """A Phone configuration in category Office with a setting the module does not manage; a second
    configuration in the hot-desking category."""
    office = devices_peer.add_category("Office", config=True)
    hotdesk = devices_peer.add_category("PBX1 Hotdesking", config=True)
    settings = {"gkId": "PBX1", "primaryGk": "192.0.2.10", "coder": "G722"}
    phone = devices_peer.add_config("PHONE", "Phone", [office], settings)
    other = devices_peer.add_config("PHONE", "Other", [hotdesk], {"gkId": "PBX2"})
    return dict(office=office, hotdesk=hotdesk, phone=phone, other=other)


def test_present_adds_a_category_and_keeps_the_rest(devices_peer, phone_setup):
    result = db.converge_device_config(devices(devices_peer), config_params(categories=["PBX1 Hotdesking"]))
    assert result["changes"] == [{"name": "Phone", "action": "update", "fields": ["categories"]}]
    phone = devices_peer.configs[phone_setup["phone"]]
    assert phone["categoryIds"] == sorted([phone_setup["office"], phone_setup["hotdesk"]])
    assert phone["settings"] == {"gkId": "PBX1", "primaryGk": "192.0.2.10", "coder": "G722"}
    assert devices_peer.configs[phone_setup["other"]]["categoryIds"] == [phone_setup["hotdesk"]]
    assert result["device_configs"] == [{"name": "Phone", "type": "phone", "categories": ["Office", "PBX1 Hotdesking"],
                                         "gatekeeper": {"id": "PBX1", "primary": "192.0.2.10", "secondary": ""}}]
    writes = devices_peer.writes
    assert not db.converge_device_config(devices(devices_peer), config_params(categories=["PBX1 Hotdesking"]))[
        "changed"]
    assert devices_peer.writes == writes


@pytest.mark.parametrize("state, given, expected", [
    ("absent", ["Office"], []),
    ("absent", ["PBX1 Hotdesking"], ["Office"]),
    ("exact", ["PBX1 Hotdesking"], ["PBX1 Hotdesking"]),
    ("exact", [], []),
    ("present", ["Office"], ["Office"]),
])
def test_categories_state(devices_peer, phone_setup, state, given, expected):
    result = db.converge_device_config(devices(devices_peer), config_params(categories=given, categories_state=state))
    assert result["device_configs"][0]["categories"] == expected
    assert result["changed"] == (expected != ["Office"])
    names = dict((c["id"], c["name"]) for c in devices_peer.categories.values())
    assert sorted(names[i] for i in devices_peer.configs[phone_setup["phone"]]["categoryIds"]) == expected


def test_gatekeeper_suboptions_not_given_are_kept(devices_peer, phone_setup):
    params = config_params(gatekeeper={"id": None, "primary": "192.0.2.20", "secondary": None})
    result = db.converge_device_config(devices(devices_peer), params)
    assert result["changes"][0]["fields"] == ["gatekeeper"]
    assert devices_peer.configs[phone_setup["phone"]]["settings"] == {
        "gkId": "PBX1", "primaryGk": "192.0.2.20", "coder": "G722"}


def test_a_stale_category_id_survives_present_and_goes_with_exact(devices_peer, phone_setup):
    devices_peer.configs[phone_setup["phone"]]["categoryIds"].append(999)
    result = db.converge_device_config(devices(devices_peer), config_params(categories=["Office"]))
    assert not result["changed"] and result["device_configs"][0]["categories"] == ["#999", "Office"]
    db.converge_device_config(devices(devices_peer), config_params(categories=["PBX1 Hotdesking"]))
    assert 999 in devices_peer.configs[phone_setup["phone"]]["categoryIds"]
    db.converge_device_config(devices(devices_peer), config_params(categories=["Office"], categories_state="exact"))
    assert devices_peer.configs[phone_setup["phone"]]["categoryIds"] == [phone_setup["office"]]


def test_expert_config_is_created_with_a_normalised_script_that_results_never_show(devices_peer, phone_setup):
    params = config_params(type="expert", name="Hot Desking", categories=["PBX1 Hotdesking"],
                           script=SEED_SCRIPT.replace("\n", "\r\n") + "\n\n")
    result = db.converge_device_config(devices(devices_peer), params, diff_mode=True)
    added = next(c for c in devices_peer.configs.values() if c["name"] == "Hot Desking")
    assert added["type"] == "EXPERT" and added["categoryIds"] == [phone_setup["hotdesk"]]
    assert added["settings"] == {"script": SEED_SCRIPT.rstrip("\n")}
    assert BASE_PASSWORD not in json.dumps(result)
    shown = result["device_configs"][0]["script"]
    assert shown.splitlines()[0] == "config add PHONE SIG /h323 hot-desk-base /gk-pwd " + PLACEHOLDER
    assert shown.splitlines()[1:] == SEED_SCRIPT.splitlines()[1:]
    assert result["diff"]["after"]["Hot Desking"]["script"] == shown
    assert not db.converge_device_config(devices(devices_peer), params)["changed"]


def test_a_changed_password_in_the_script_is_a_change_whose_diff_hides_both(devices_peer, phone_setup):
    devices_peer.add_config("EXPERT", "Hot Desking", [phone_setup["hotdesk"]],
                            {"script": SEED_SCRIPT.replace(BASE_PASSWORD, "Old-Pass-9")})
    params = config_params(type="expert", name="Hot Desking", script=SEED_SCRIPT)
    result = db.converge_device_config(devices(devices_peer), params, check_mode=True, diff_mode=True)
    assert result["changes"] == [{"name": "Hot Desking", "action": "update", "fields": ["script"]}]
    text = json.dumps(result)
    assert "Old-Pass-9" not in text and BASE_PASSWORD not in text
    assert devices_peer.writes == 0


def test_expert_and_phone_configs_of_one_name_are_different_objects(devices_peer, phone_setup):
    params = config_params(type="expert", name="Phone", script="config write")
    assert db.converge_device_config(devices(devices_peer), params)["changes"][0]["action"] == "create"
    assert db.converge_device_config(devices(devices_peer), config_params(state="absent"))["changed"]
    assert [c["type"] for c in devices_peer.configs.values() if c["name"] == "Phone"] == ["EXPERT"]


def test_a_new_expert_config_needs_a_script(devices_peer):
    with pytest.raises(ValidationError, match="script: a new expert configuration needs an update script"):
        db.converge_device_config(devices(devices_peer), config_params(type="expert", name="Hot Desking"))
    assert devices_peer.writes == 0


@pytest.mark.parametrize("params, message", [
    (dict(type="expert", gatekeeper={"id": "PBX1"}), "gatekeeper: only a phone configuration"),
    (dict(type="phone", script="config write"), "script: only an expert configuration"),
])
def test_options_of_the_other_type_are_refused_before_reading(devices_peer, params, message):
    with pytest.raises(ValidationError, match=message):
        db.converge_device_config(devices(devices_peer), config_params(**params))
    assert [m["mt"] for m in devices_peer.sent] == ["AppChallenge", "AppLogin"]


def test_unknown_category_fails_but_only_warns_in_check_mode(devices_peer, phone_setup):
    params = config_params(categories=["Later"])
    with pytest.raises(ValidationError, match="categories: no category Later in domain example.com"):
        db.converge_device_config(devices(devices_peer), params)
    result = db.converge_device_config(devices(devices_peer), params, check_mode=True)
    assert result["changed"] and result["device_configs"][0]["categories"] == ["Later", "Office"]
    assert result["warnings"] == [
        "categories: no category Later in domain example.com now, so a real run fails unless an earlier task creates it"]
    assert devices_peer.writes == 0


# --- provisioning codes ---------------------------------------------------------------------------------
def code_params(**params):
    return dict(dict(category="PBX1 Hotdesking", sip="temp", rollout=False, wait_for_device=0), **params)


def test_provisioning_code_for_a_user(devices_peer, phone_setup):
    result = db.provisioning_code(devices(devices_peer), code_params())
    request = next(m for m in devices_peer.sent if m["mt"] == "GetProvisioningCode")
    assert request == {"mt": "GetProvisioningCode", "src": request["src"], "domainId": 1,
                       "category": "PBX1 Hotdesking", "sip": "temp"}
    assert result == {"changed": True, "code": "4711000000", "valid_until": 1767225600 + 900,
                      "domain": "example.com", "category": "PBX1 Hotdesking", "sip": "temp"}


def test_rollout_code_lasts_seven_days(devices_peer, phone_setup):
    result = db.provisioning_code(devices(devices_peer), code_params(rollout=True, sip=None))
    request = next(m for m in devices_peer.sent if m["mt"] == "GetProvisioningCode")
    assert request["rollout"] is True and "sip" not in request
    assert result["valid_until"] == 1767225600 + 7 * 86400


def test_provisioning_code_for_an_unknown_category_is_refused(devices_peer):
    with pytest.raises(AppRequestError, match="refused GetProvisioningCode: no category PBX1 Hotdesking"):
        db.provisioning_code(devices(devices_peer), code_params())


@pytest.mark.parametrize("announce", [True, False])
def test_wait_for_device_by_event_or_by_polling(devices_peer, phone_setup, monkeypatch, announce):
    monkeypatch.setattr(db, "POLL_SECONDS", 0.05)
    devices_peer.phone = {"id": 7, "hwId": "009033400001", "product": "IP232"}
    devices_peer.announce = announce
    result = db.provisioning_code(devices(devices_peer), code_params(wait_for_device=5))
    assert result["device"] == devices_peer.phone
    polled = [m for m in devices_peer.sent if m["mt"] == "GetProvisionedDevice"]
    assert [m["code"] for m in polled] == ([] if announce else [result["code"]])


def test_wait_for_device_times_out_with_the_code_in_the_error(devices_peer, phone_setup, monkeypatch):
    monkeypatch.setattr(db, "POLL_SECONDS", 0.05)
    with pytest.raises(db.DeviceWaitTimeout, match="within 1 seconds") as caught:
        db.provisioning_code(devices(devices_peer), code_params(wait_for_device=1))
    assert caught.value.result["code"] == "4711000000" and caught.value.result["device"] is None
    assert len([m for m in devices_peer.sent if m["mt"] == "GetProvisionedDevice"]) > 2


# --- helpers --------------------------------------------------------------------------------------------
def test_masked_script_hides_values_of_secret_flags_only():
    script = "config add PHONE SIG /h323 hot-desk-base /gk-pwd a b\nconfig change X /password p /Key k /name n\n/pwd"
    assert db.masked_script(script) == (
        "config add PHONE SIG /h323 hot-desk-base /gk-pwd %s b\nconfig change X /password %s /Key %s /name n\n/pwd"
        % (PLACEHOLDER, PLACEHOLDER, PLACEHOLDER))


@pytest.mark.parametrize("params, domain", [
    ({"devices_domain": "given.example.com", "devices_url": "wss://ap/x.example.com/devices"}, "given.example.com"),
    ({"devices_domain": None, "devices_url": "wss://ap:443/x.example.com/devices"}, "x.example.com"),
    ({"devices_domain": None, "devices_url": "wss://ap"}, ""),
])
def test_login_domain(params, domain):
    assert db.login_domain(params) == domain


@pytest.mark.parametrize("line, shown", [
    ("config add PHONE SIG /gk-pwd  Pass-1", "config add PHONE SIG /gk-pwd  %s"),
    ("config add PHONE SIG /gk-pwd\tPass-2 /h323 base", "config add PHONE SIG /gk-pwd\t%s /h323 base"),
    ('config add PHONE SIG /gk-pwd "Pass 3" /h323 base', "config add PHONE SIG /gk-pwd %s /h323 base"),
], ids=["two spaces", "tab", "quoted"])
def test_masked_script_hides_a_secret_however_it_is_separated_or_quoted(line, shown):
    assert db.masked_script(line) == shown % PLACEHOLDER


def test_masked_script_never_takes_a_value_from_the_next_line():
    assert db.masked_script("config add X /pwd\nconfig write") == "config add X /pwd\nconfig write"
