# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Devices modules end to end as Ansible runs them (arguments in, JSON out) against an in-memory app."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.innovaphone.pbx.plugins.module_utils import appws, common, devices, wire_names
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER
from ansible_collections.innovaphone.pbx.plugins.modules import device_config, devices_category, provisioning_code

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16-2.18: AnsibleModule reads its arguments from basic._ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps(dict(ANSIBLE_MODULE_ARGS=args)).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

URL = "ws://127.0.0.1:1/example.com/devices"
BASE_PASSWORD = "Base-Pass-123"
SEED_SCRIPT = """config add PHONE SIG /h323 hot-desk-base /gk-pwd %s
vars create PHONE/USER-CFG/00000 p %%3cuser%%3e%%3cf+id='0'+label='hot-desking'%%3e%%3chotdesk+label='log+out'+pbx='1'/%%3e%%3c/f%%3e%%3c/user%%3e
mod cmd UP1 check iresetn hot-desk
config write
config activate
""" % BASE_PASSWORD


@pytest.fixture
def peer(devices_peer, monkeypatch):
    monkeypatch.setattr(appws.websocket, "create_connection", devices_peer.connect)
    return devices_peer


def run_module(module, capsys, **args):
    """Run a module's main() with `args` (None leaves an option out); the parsed JSON result and the raw output."""
    args = dict(dict(devices_url=URL, devices_password="s3cret-devices"), **args)
    with patch_module_args(dict((k, v) for k, v in args.items() if v is not None)):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def phone(capsys, **args):
    return run_module(device_config, capsys, **dict(dict(type="phone", name="Phone"), **args))[0]


# --- devices_category ------------------------------------------------------------------------------------
def test_category_module_creates_then_reports_no_change(peer, capsys):
    result, out = run_module(devices_category, capsys, name="PBX1 Hotdesking", provisioning=True)
    assert result["changed"] and result["category"] == {"name": "PBX1 Hotdesking", "provisioning": True}
    added = [m for m in peer.sent if m["mt"] == "AddCategory"]
    assert [dict((k, m[k]) for k in ("domainId", "name", "config")) for m in added] == [
        {"domainId": 1, "name": "PBX1 Hotdesking", "config": True}]
    assert "s3cret-devices" not in out
    assert peer.closed
    writes = peer.writes
    result, _out = run_module(devices_category, capsys, name="PBX1 Hotdesking", provisioning=True)
    assert not result["changed"] and result["changes"] == [] and peer.writes == writes
    assert peer.url == URL and peer.sent[1]["domain"] == "example.com"


def test_category_check_mode_writes_nothing_and_predicts(peer, capsys):
    result, _out = run_module(devices_category, capsys, name="PBX1 Hotdesking", provisioning=True,
                              _ansible_check_mode=True, _ansible_diff=True)
    created = {"name": "PBX1 Hotdesking", "provisioning": True}
    assert result["changed"] and result["category"] == created
    assert result["diff"] == {"before": {}, "after": created}
    assert peer.writes == 0 and peer.categories == {}


def test_category_without_provisioning_option_keeps_the_flag(peer, capsys):
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(devices_category, capsys, name="PBX1 Hotdesking")
    assert not result["changed"] and peer.writes == 0


def test_category_is_deleted_once_and_reads_empty(peer, capsys):
    category_id = peer.add_category("PBX1 Hotdesking")
    result, _out = run_module(devices_category, capsys, name="PBX1 Hotdesking", state="absent")
    assert result["changed"] and result["category"] == {} and category_id not in peer.categories
    assert not run_module(devices_category, capsys, name="PBX1 Hotdesking", state="absent")[0]["changed"]


def test_category_in_another_domain(peer, capsys):
    run_module(devices_category, capsys, name="X", domain="other.example.com")
    assert [c["domainId"] for c in peer.categories.values()] == [2]


def test_two_categories_of_one_name_are_an_error(peer, capsys):
    peer.add_category("Twice")
    peer.add_category("Twice")
    result, _out = run_module(devices_category, capsys, name="Twice")
    assert result["failed"] and "has two categories named 'Twice'" in result["msg"]


def test_connection_options_from_the_environment(peer, capsys, monkeypatch):
    monkeypatch.setenv("INNOVAPHONE_DEVICES_URL", "ws://127.0.0.1:1/site9/devices")
    monkeypatch.setenv("INNOVAPHONE_DEVICES_PASSWORD", "s3cret-devices")
    monkeypatch.setenv("INNOVAPHONE_DEVICES_DOMAIN", "example.com")
    result, _out = run_module(devices_category, capsys, name="X", devices_url=None, devices_password=None)
    assert result["changed"] and peer.url == "ws://127.0.0.1:1/site9/devices"
    assert peer.sent[1]["domain"] == "example.com"


def test_wrong_password_fails_without_secrets(peer, capsys):
    result, out = run_module(devices_category, capsys, name="X", devices_password="wrong-one")
    assert result["failed"] and "AppLogin as app innovaphone-devices in domain example.com" in result["msg"]
    assert all("%s (hotdesking_%s in the role)" % (option, option) in result["msg"]
               for option in ("devices_url", "devices_domain", "devices_password"))
    assert "wrong-one" not in out


def test_an_empty_category_name_is_refused_before_any_request(peer, capsys):
    result, _out = run_module(devices_category, capsys, name="")
    assert result["failed"] and result["msg"] == "invalid input: name: must not be empty"
    assert peer.sent == []


@pytest.mark.parametrize("line, message", [
    ("confg write", "script line 4: not an update-script command"),
    ('config add UP1 /url "http://x/', "script line 4: unbalanced double quote"),
])
def test_an_update_script_with_a_bad_line_is_refused_before_any_request(peer, capsys, line, message):
    lines = SEED_SCRIPT.splitlines()
    script = "\n".join(lines[:3] + [line] + lines[3:])
    result, out = run_module(device_config, capsys, type="expert", name="Hot Desking", script=script)
    assert result["failed"] and not result.get("changed") and message in result["msg"]
    assert peer.sent == [] and peer.writes == 0
    assert BASE_PASSWORD not in out


def test_a_url_without_domain_logs_in_with_an_empty_domain(peer, capsys):
    result, _out = run_module(devices_category, capsys, name="X", devices_url="ws://127.0.0.1:1")
    assert result["changed"] and peer.sent[1]["domain"] == ""
    assert [c["domainId"] for c in peer.categories.values()] == [1]


def test_missing_websocket_client_is_reported(peer, capsys, monkeypatch):
    monkeypatch.setattr(common, "HAS_WEBSOCKET", False)
    result, _out = run_module(devices_category, capsys, name="X")
    assert result["failed"] and "websocket-client" in result["msg"]


@pytest.mark.parametrize("params, domain", [
    ({"devices_domain": "given.example.com", "devices_url": "wss://ap/x.example.com/devices"}, "given.example.com"),
    ({"devices_domain": None, "devices_url": "wss://ap:443/x.example.com/devices"}, "x.example.com"),
    ({"devices_domain": None, "devices_url": "wss://ap"}, ""),
])
def test_login_domain(params, domain):
    assert common.login_domain(params) == domain


# --- device_config ---------------------------------------------------------------------------------------
@pytest.fixture
def phone_setup(peer):
    """A Phone configuration in category Office with values the module does not manage; a second configuration
    in the hot-desking category."""
    office = peer.add_category("Office", config=True)
    hotdesk = peer.add_category("PBX1 Hotdesking", config=True)
    values = {"gkId": "PBX1", "gk1": "192.0.2.10", "frameSize": 40, "hideAdminCfg": True}
    phone_id = peer.add_config("PHONE", "Phone", [office], values)
    other = peer.add_config("PHONE", "Other", [hotdesk], {"gkId": "PBX2"})
    return dict(office=office, hotdesk=hotdesk, phone=phone_id, other=other)


def test_present_adds_a_category_and_keeps_the_rest(peer, capsys, phone_setup):
    result = phone(capsys, categories=["PBX1 Hotdesking"])
    assert result["changes"] == [{"name": "Phone", "action": "update", "fields": ["categories"]}]
    assert peer.category_names(phone_setup["phone"]) == ["Office", "PBX1 Hotdesking"]
    stored = peer.configs[phone_setup["phone"]]
    assert (stored["gkId"], stored["gk1"], stored["frameSize"], stored["hideAdminCfg"]) == (
        "PBX1", "192.0.2.10", 40, True)
    assert peer.category_names(phone_setup["other"]) == ["PBX1 Hotdesking"]
    assert result["device_config"] == {
        "name": "Phone", "type": "phone", "categories": ["Office", "PBX1 Hotdesking"], "coder": "",
        "protect_config": False, "allow_user_config": False,
        "gatekeeper": {"id": "PBX1", "primary": "192.0.2.10", "secondary": ""}}
    writes = peer.writes
    assert not phone(capsys, categories=["PBX1 Hotdesking"])["changed"] and peer.writes == writes


@pytest.mark.parametrize("state, given, expected", [
    ("absent", ["Office"], []),
    ("absent", ["PBX1 Hotdesking"], ["Office"]),
    ("exact", ["PBX1 Hotdesking"], ["PBX1 Hotdesking"]),
    ("exact", [], []),
    ("present", ["Office"], ["Office"]),
])
def test_categories_state(peer, capsys, phone_setup, state, given, expected):
    result = phone(capsys, categories=given, categories_state=state)
    assert result["device_config"]["categories"] == expected
    assert result["changed"] == (expected != ["Office"])
    assert peer.category_names(phone_setup["phone"]) == expected


def test_gatekeeper_suboptions_not_given_are_kept(peer, capsys, phone_setup):
    result = phone(capsys, gatekeeper={"primary": "192.0.2.20"})
    assert result["changes"][0]["fields"] == ["gatekeeper"]
    stored = peer.configs[phone_setup["phone"]]
    assert (stored["gkId"], stored["gk1"]) == ("PBX1", "192.0.2.20")


def test_phone_fields_are_compared_only_when_given(peer, capsys, phone_setup):
    result = phone(capsys, coder="G722", protect_config=True)
    assert result["changes"] == [{"name": "Phone", "action": "update", "fields": ["coder", "protect_config"]}]
    stored = peer.configs[phone_setup["phone"]]
    assert (stored["coder"], stored["protectCfg"]) == ("G722", True) and "allowUserCfg" not in stored
    assert not phone(capsys, coder="G722")["changed"]
    assert phone(capsys, allow_user_config=True)["changes"][0]["fields"] == ["allow_user_config"]


def test_expert_config_is_created_with_a_normalised_script_that_results_never_show(peer, capsys, phone_setup):
    args = dict(type="expert", name="Hot Desking", categories=["PBX1 Hotdesking"],
                script=SEED_SCRIPT.replace("\n", "\r\n") + "\n\n", _ansible_diff=True)
    result, out = run_module(device_config, capsys, **args)
    added = next(c for c in peer.configs.values() if c["desc"] == "Hot Desking")
    assert added["type"] == "EXPERT" and added["categories"] == [phone_setup["hotdesk"]]
    assert added["script"] == SEED_SCRIPT.rstrip("\n")
    assert BASE_PASSWORD not in out
    shown = result["device_config"]["script"]
    assert shown.splitlines()[0] == "config add PHONE SIG /h323 hot-desk-base /gk-pwd " + PLACEHOLDER
    assert shown.splitlines()[1:] == SEED_SCRIPT.splitlines()[1:]
    assert result["diff"]["after"]["script"] == shown
    again, out = run_module(device_config, capsys, **args)
    assert not again["changed"] and BASE_PASSWORD not in out


def test_a_changed_password_in_the_script_is_a_change_whose_diff_hides_both(peer, capsys, phone_setup):
    peer.add_config("EXPERT", "Hot Desking", [phone_setup["hotdesk"]],
                    {"script": SEED_SCRIPT.replace(BASE_PASSWORD, "Old-Pass-9")})
    result, out = run_module(device_config, capsys, type="expert", name="Hot Desking", script=SEED_SCRIPT,
                             _ansible_check_mode=True, _ansible_diff=True)
    assert result["changes"] == [{"name": "Hot Desking", "action": "update", "fields": ["script"]}]
    assert "Old-Pass-9" not in out and BASE_PASSWORD not in out
    assert peer.writes == 0


def test_expert_and_phone_configs_of_one_name_are_different_objects(peer, capsys, phone_setup):
    result, _out = run_module(device_config, capsys, type="expert", name="Phone", script="config write")
    assert result["changes"][0]["action"] == "create"
    assert phone(capsys, state="absent")["changed"]
    assert [c["type"] for c in peer.configs.values() if c["desc"] == "Phone"] == ["EXPERT"]


def test_a_new_expert_config_needs_a_script(peer, capsys):
    result, _out = run_module(device_config, capsys, type="expert", name="Hot Desking")
    assert result["failed"] and "script: a new expert configuration needs an update script" in result["msg"]
    assert peer.writes == 0


@pytest.mark.parametrize("args, message", [
    (dict(type="expert", gatekeeper={"id": "PBX1"}), "gatekeeper: only a phone configuration has this option"),
    (dict(type="expert", coder="G722"), "coder: only a phone configuration has this option"),
    (dict(type="phone", script="config write"), "script: only a expert configuration has this option"),
])
def test_options_of_the_other_type_are_refused_before_connecting(peer, capsys, args, message):
    result, _out = run_module(device_config, capsys, **dict(dict(name="X"), **args))
    assert result["failed"] and message in result["msg"]
    assert peer.sent == []


def test_unknown_category_fails_but_only_warns_in_check_mode(peer, capsys, phone_setup, monkeypatch):
    result = phone(capsys, categories=["Later"])
    assert result["failed"] and "categories: no category Later in domain example.com" in result["msg"]
    warnings = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda module, text: warnings.append(text))
    result = phone(capsys, categories=["Later"], _ansible_check_mode=True)
    assert result["changed"] and result["device_config"]["categories"] == ["Later", "Office"]
    assert warnings == [
        "categories: no category Later in domain example.com now, so a real run fails unless an earlier task creates it"]
    assert peer.writes == 0


# --- provisioning_code -----------------------------------------------------------------------------------
def test_provisioning_code_for_a_user(peer, capsys):
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", sip="temp")
    request = next(m for m in peer.sent if m["mt"] == "GetProvisioningCode")
    assert request == {"mt": "GetProvisioningCode", "src": request["src"], "domainId": 1,
                       "category": "PBX1 Hotdesking", "sip": "temp"}
    result.pop("invocation", None)  # ansible-core 2.21 leaves it out
    assert result == {"changed": True, "code": "4711000000", "valid_until": 1767225600 + 900,
                      "domain": "example.com", "category": "PBX1 Hotdesking", "sip": "temp"}


def test_rollout_code_lasts_seven_days(peer, capsys):
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", rollout=True)
    request = next(m for m in peer.sent if m["mt"] == "GetProvisioningCode")
    assert request["rollout"] is True and "sip" not in request
    assert result["valid_until"] == 1767225600 + 7 * 86400


def test_provisioning_code_for_an_unknown_category_is_refused(peer, capsys):
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking")
    assert result["failed"] and "refused GetProvisioningCode: no category PBX1 Hotdesking" in result["msg"]


def test_provisioning_code_never_runs_in_check_mode(peer, capsys):
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", _ansible_check_mode=True)
    assert result["changed"] and "code" not in result and "would create a provisioning code" in result["msg"]
    assert peer.sent == []


def test_provisioning_code_wait_timeout_fails_with_the_code(peer, capsys, monkeypatch):
    monkeypatch.setattr(devices, "POLL_SECONDS", 0.05)
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", wait_for_device=1)
    assert result["failed"] and result["code"] == "4711000000" and result["device"] is None
    assert "no device was provisioned with the code within 1 seconds" in result["msg"]
    assert len([m for m in peer.sent if m["mt"] == "GetProvisionedDevice"]) > 2


def test_provisioning_code_refuses_a_negative_wait_before_asking_for_a_code(peer, capsys):
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", wait_for_device=-1)
    assert result["failed"] and result["msg"] == "invalid input: wait_for_device: must be 0 or more, not -1"
    assert peer.sent == [] and peer.codes == {}


# --- wire names --------------------------------------------------------------------------------------------
@pytest.fixture
def default_wire_names():
    yield
    wire_names.use({})


def test_an_unknown_wire_name_key_fails_before_any_request(peer, capsys, default_wire_names):
    result, _out = run_module(devices_category, capsys, name="X", wire_names={"devices": {"add_categry": "Add"}})
    assert result["failed"] and "wire_names: unknown key devices.add_categry" in result["msg"]
    assert peer.sent == []


def test_a_message_the_app_does_not_know_names_its_wire_name(peer, capsys, monkeypatch, default_wire_names):
    monkeypatch.setenv("INNOVAPHONE_WIRE_NAMES", '{"devices": {"add_category": "NewCategory"}}')
    result, _out = run_module(devices_category, capsys, name="X")
    assert result["failed"] and [m["mt"] for m in peer.sent][-1] == "NewCategory"
    assert result["msg"].endswith("refused NewCategory: unknown message NewCategory (the message is wire name "
                                  "'NewCategory' (devices.add_category): see docs/wire-names.md)")
