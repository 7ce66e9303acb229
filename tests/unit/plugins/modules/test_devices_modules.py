# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Devices modules end to end as Ansible runs them (arguments in, JSON out) against an in-memory app."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from ansible_collections.innovaphone.pbx.plugins.module_utils import appws, devices_backend
from ansible_collections.innovaphone.pbx.plugins.modules import device_config, devices_category, provisioning_code

URL = "ws://127.0.0.1:1/example.com/devices"
BASE_PASSWORD = "Base-Pass-123"


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


def test_category_module_creates_then_reports_no_change(peer, capsys):
    result, out = run_module(devices_category, capsys, name="PBX1 Hotdesking", provisioning=True)
    assert result["changed"] and result["categories"] == [{"name": "PBX1 Hotdesking", "provisioning": True}]
    assert "s3cret-devices" not in out
    assert peer.closed
    result, _out = run_module(devices_category, capsys, name="PBX1 Hotdesking", provisioning=True)
    assert not result["changed"]
    assert peer.url == URL and peer.sent[1]["domain"] == "example.com"


def test_connection_options_from_the_environment(peer, capsys, monkeypatch):
    monkeypatch.setenv("INNOVAPHONE_DEVICES_URL", "ws://127.0.0.1:1/site9/devices")
    monkeypatch.setenv("INNOVAPHONE_DEVICES_PASSWORD", "s3cret-devices")
    monkeypatch.setenv("INNOVAPHONE_DEVICES_DOMAIN", "example.com")
    result, _out = run_module(devices_category, capsys, name="X", devices_url=None, devices_password=None)
    assert result["changed"] and peer.url == "ws://127.0.0.1:1/site9/devices"
    assert peer.sent[1]["domain"] == "example.com"


def test_wrong_password_fails_without_secrets(peer, capsys):
    result, out = run_module(devices_category, capsys, name="X", devices_password="wrong-one")
    assert result["failed"] and "AppLogin as app devices in domain example.com" in result["msg"]
    assert "wrong-one" not in out


def test_device_config_module_never_shows_the_script(peer, capsys):
    peer.add_category("PBX1 Hotdesking", config=True)
    script = "config add PHONE SIG /h323 hot-desk-base /gk-pwd %s\nconfig write\n" % BASE_PASSWORD
    args = dict(type="expert", name="Hot Desking", categories=["PBX1 Hotdesking"], script=script, _ansible_diff=True)
    result, out = run_module(device_config, capsys, **args)
    assert result["changed"] and result["diff"]["after"]["Hot Desking"]["categories"] == ["PBX1 Hotdesking"]
    assert BASE_PASSWORD not in out
    result, out = run_module(device_config, capsys, **args)
    assert not result["changed"] and BASE_PASSWORD not in out


def test_device_config_check_mode_warns_about_a_missing_category(peer, capsys, monkeypatch):
    warnings = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda module, text: warnings.append(text))
    result, _out = run_module(device_config, capsys, type="phone", name="Phone", categories=["Later"],
                              gatekeeper={"id": "PBX1"}, _ansible_check_mode=True)
    assert result["changed"] and warnings == [
        "categories: no category Later in domain example.com now, so a real run fails unless an earlier task creates it"]
    assert peer.writes == 0


def test_provisioning_code_module(peer, capsys):
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", sip="temp")
    assert result["changed"] and result["code"] == "4711000000" and result["valid_until"] == 1767225600 + 900


def test_provisioning_code_never_runs_in_check_mode(peer, capsys):
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", _ansible_check_mode=True)
    assert result["changed"] and "code" not in result and "would create a provisioning code" in result["msg"]
    assert peer.sent == []


def test_provisioning_code_wait_timeout_fails_with_the_code(peer, capsys, monkeypatch):
    monkeypatch.setattr(devices_backend, "POLL_SECONDS", 0.05)
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", wait_for_device=1)
    assert result["failed"] and result["code"] == "4711000000" and result["device"] is None
    assert "no device was provisioned with the code within 1 seconds" in result["msg"]


def test_missing_websocket_client_is_reported(peer, capsys, monkeypatch):
    monkeypatch.setattr(devices_backend, "HAS_WEBSOCKET", False)
    result, _out = run_module(devices_category, capsys, name="X")
    assert result["failed"] and "websocket-client" in result["msg"]


def test_missing_domain_is_reported(peer, capsys):
    result, _out = run_module(devices_category, capsys, name="X", devices_url="ws://127.0.0.1:1")
    assert result["failed"] and "devices_domain is not set" in result["msg"]


def test_provisioning_code_refuses_a_negative_wait_before_asking_for_a_code(peer, capsys):
    peer.add_category("PBX1 Hotdesking", config=True)
    result, _out = run_module(provisioning_code, capsys, category="PBX1 Hotdesking", wait_for_device=-1)
    assert result["failed"] and result["msg"] == "wait_for_device: must be 0 or more, not -1"
    assert peer.sent == [] and peer.codes == {}
