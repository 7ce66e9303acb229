# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""--wire-names: pbxsim speaks another spelling of the guessed names, everywhere, and refuses a bad file."""

import ast
import json
import pathlib
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

from pbxsim import appws, cfg, devices, model, server, soap, wire_names
from pbxsim.launcher import PbxsimError

from .conftest import DEVICES_PASSWORD

PBXSIM = pathlib.Path(wire_names.__file__).parent
# The brief's example: a PBX that spells "No of Regs w/o Pwd" and "Store Phone Config" otherwise.
RESPELT = {"config": {"registrations_without_password": "no-pwd-regs"},
           "template": {"store_phone_config": "store-phone-config"}}
TEMPLATE = '<add><user cn="%s"%s><pseudo type="config"/></user></add>'


@pytest.fixture
def respelt():
    """Respell names in this process (the unit-level tests); the default spelling comes back afterwards."""
    yield wire_names.apply_overrides
    wire_names.reset()


def write_json(tmp_path, document, name="wire-names.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def command(sim, line, pbx=0):
    return sim.get("/!" + urllib.parse.quote(line, safe="/,"), pbx=pbx).text


# --- the table and its mapping --------------------------------------------------------------------------------
def test_every_collection_key_names_a_constant_of_the_table():
    assert set(wire_names.COLLECTION_KEYS.values()) <= set(wire_names.DEFAULTS)
    assert len(set(wire_names.COLLECTION_KEYS.values())) == len(wire_names.COLLECTION_KEYS)
    assert wire_names.COLLECTION_KEYS[("config", "registrations_without_password")] == "REG_NO_PWD_FLAG"


@pytest.mark.parametrize("document, message", [
    ({"configs": {}}, "unknown section 'configs'"),
    ({"config": {"registrations_without_passwords": "x"}}, "unknown key config.registrations_without_passwords"),
    ({"config": {"ip_filter": ""}}, 'config.ip_filter must be a non-empty string, not ""'),
    ({"devices": {"app": 7}}, "devices.app must be a non-empty string, not 7"),
    ({"devices": {"app": None}}, "devices.app must be a non-empty string, not null"),
    ({"soap": ["ok"]}, "section 'soap' must be an object"),
    (["config"], "expected a JSON object"),
])
def test_a_bad_document_is_refused_naming_the_key_and_changes_nothing(respelt, document, message):
    before = dict(wire_names.WIRE_NAMES)
    with pytest.raises(wire_names.WireNamesError, match=message):
        respelt({"soap": {"ok": "done"}, **document} if isinstance(document, dict) else document)
    assert wire_names.OK_ELEMENT == "ok" and wire_names.WIRE_NAMES == before


def test_load_overrides_refuses_a_file_it_cannot_read(tmp_path):
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    for path in (tmp_path / "broken.json", tmp_path / "missing.json"):
        with pytest.raises(wire_names.WireNamesError, match="cannot read"):
            wire_names.load_overrides(str(path))


def test_apply_overrides_sets_the_constants_and_the_table_and_reset_restores_them(respelt):
    assert respelt(RESPELT) == {"REG_NO_PWD_FLAG": "no-pwd-regs", "STORE_PHONE_CONFIG": "store-phone-config"}
    assert wire_names.REG_NO_PWD_FLAG == "no-pwd-regs" and wire_names.WIRE_NAMES["reg_no_pwd_flag"] == "no-pwd-regs"
    assert wire_names.DISCARD_PHONE_CONFIG == "discard-phone-config"
    wire_names.reset()
    assert wire_names.REG_NO_PWD_FLAG == "reg-no-pwd" and wire_names.WIRE_NAMES["store_phone_config"] == "phone-config"


def wire_name_reads_at_import(path):
    """Places where a module reads a wire_names constant outside a function body, or imports one by name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("wire_names"):
            found.append("line %d: from … wire_names import …" % node.lineno)
        if isinstance(node, (ast.ImportFrom, ast.Import)):
            aliases.update(alias.asname or alias.name for alias in node.names if alias.name == "wire_names")

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            found.append("line %d: %s.%s" % (node.lineno, node.value.id, node.attr))
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(tree)
    return found


@pytest.mark.parametrize("module", sorted(path.name for path in PBXSIM.glob("*.py") if path.name != "wire_names.py"))
def test_no_module_reads_a_wire_name_at_import(module):
    assert wire_name_reads_at_import(PBXSIM / module) == []


# --- respelt in this process: every module follows ------------------------------------------------------------
def test_the_device_configuration_follows_the_respelt_flags(respelt):
    respelt({"config": {"registrations_without_password": "no-pwd-regs", "ip_filter": "reg-filter",
                        "filter_object": "CALLFILTER", "filter_name": "label"}})
    config = cfg.DeviceConfig()
    assert config.text().splitlines()[0] == "config change PBX0 /no-pwd-regs 4"
    config.run("config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/8 /reg-filter 10.0.0.0/8 /no-pwd-regs 1")
    assert config.layers["current"]["modules"]["PBX0"] == {"reg-filter": "10.0.0.0/8", "no-pwd-regs": "1"}
    config.run("config add PBX0 CALLFILTER /label extra")
    assert "config add PBX0 CALLFILTER /label extra" in config.text().splitlines()
    with pytest.raises(cfg.ConfigError, match="no-pwd-regs must be a number"):
        config.run("config change PBX0 /no-pwd-regs many")
    with pytest.raises(cfg.ConfigError):
        config.run("config add PBX0 FILTER /name extra")


def test_the_pbx_follows_the_respelt_template_flags_and_separator(respelt):
    respelt({"template": {"store_phone_config": "store-phone-config", "inherit_separator": ";"}})
    pbx = model.Pbx(cfg.DeviceConfig(), "pbx-pw")
    pseudo = [model.element("pseudo", {"type": "config"})]
    pbx.add(model.element("user", {"cn": "a", "phone-config": "true", "store-phone-config": "true"}, pseudo))
    pbx.add(model.element("user", {"cn": "b", "store-phone-config": "false"}, pseudo))
    pbx.add(model.element("user", {"cn": "c", "config": "a;b"}, pseudo))
    assert pbx.show({"cn": "a"})[0]["attrs"] == {"cn": "a", "store-phone-config": "true",
                                                 "guid": pbx.show({"cn": "a"})[0]["attrs"]["guid"]}
    assert "store-phone-config" not in pbx.show({"cn": "b"})[0]["attrs"]
    with pytest.raises(model.PbxError, match="a,b does not exist"):
        pbx.add(model.element("user", {"cn": "d", "config": "a,b"}, pseudo))


def test_soap_answers_follow_the_respelt_names(respelt):
    respelt({"soap": {"show_root": "list", "ok": "done", "error": "fail", "delete": "remove"},
             "registration": {"element": "registration", "user": "name", "long_name": "long", "hw": "hwid",
                              "address": "ip", "with_password": "secure", "hotdesk": "desk"}})
    pbx = model.Pbx(cfg.DeviceConfig(), "pbx-pw")
    assert soap.admin(pbx, '<add><user cn="a"/></add>')[0] == "<done/>"
    assert soap.admin(pbx, '<show><user cn="a"/></show>')[0].startswith("<list><user ")
    assert soap.admin(pbx, '<del><user cn="a"/></del>')[0] == "<fail>unknown command del</fail>"
    assert soap.admin(pbx, '<remove><user cn="a"/></remove>')[0] == "<done/>"
    reg = {"user": "u", "cn": "U", "hw": "h", "addr": "10.0.0.1", "pwd": True, "hotdesk": False}
    assert soap.to_xml(soap.reg_element(reg)) == \
        '<registration name="u" long="U" hwid="h" ip="10.0.0.1" secure="true" desk="false"/>'


def test_cfg_layers_and_devices_messages_follow_the_respelt_names(respelt):
    respelt({"config": {"layer_written": "flash"},
             "devices": {"add_category": "NewCategory", "delete_device_config": "RemoveDeviceConfig"}})
    assert server.cfg_layer("flash") == "written" and server.cfg_layer("written") is None
    assert server.cfg_layer(None) == "current" and server.cfg_layer("active") == "active"
    handlers = devices.DevicesApp.handlers()
    assert "NewCategory" in handlers and "AddCategory" not in handlers
    assert "RemoveDeviceConfig" in handlers and "DeleteDeviceConfig" not in handlers
    assert "GetDeviceConfigs" in handlers and "UpdateCategory" in handlers


def test_a_devices_message_respelt_onto_another_one_is_refused(respelt):
    devices.DevicesApp.check_message_names()
    respelt({"devices": {"add_category": "GetDevices"}})
    with pytest.raises(ValueError, match="GetDevices would name two messages"):
        devices.DevicesApp.check_message_names()


# --- a real pbxsim, through the launcher -----------------------------------------------------------------------
def test_pbxsim_speaks_the_spelling_of_its_wire_names_file_on_every_pbx(pbxsim, tmp_path):
    sim = pbxsim("--count", "2", "--wire-names", write_json(tmp_path, RESPELT))
    for pbx in (0, 1):
        assert sim.get("/cfg.txt", pbx=pbx).text.splitlines()[0] == "config change PBX0 /no-pwd-regs 4"
    # The default spelling is a flag this PBX does not know: answered ok, not kept.
    assert command(sim, "config change PBX0 /reg-no-pwd 0") == "ok"
    assert sim.get("/cfg.txt").text.splitlines()[0] == "config change PBX0"
    assert "reg-no-pwd" not in sim.get("/cfg.txt").text
    assert command(sim, "config change PBX0 /no-pwd-regs 0") == "ok"
    assert sim.get("/cfg.txt").text.splitlines()[0] == "config change PBX0 /no-pwd-regs 0"
    assert sim.state()["config"]["current"]["modules"]["PBX0"] == {"no-pwd-regs": "0"}
    # Store Phone Config: the default spelling is dropped, the file's kept.
    assert sim.admin(TEMPLATE % ("Old Spelling", ' phone-config="true"')).tag == "ok"
    assert sim.admin(TEMPLATE % ("New Spelling", ' store-phone-config="true"')).tag == "ok"
    old = sim.admin('<show><user cn="Old Spelling" config="true"/></show>')[0]
    new = sim.admin('<show><user cn="New Spelling" config="true"/></show>')[0]
    assert "phone-config" not in old.attrib and "store-phone-config" not in old.attrib
    assert new.get("store-phone-config") == "true" and "phone-config" not in new.attrib
    # The second PBX speaks the same.
    assert command(sim, "config change PBX0 /reg-no-pwd 0 /no-pwd-regs 2", pbx=1) == "ok"
    assert sim.get("/cfg.txt", pbx=1).text.splitlines()[0] == "config change PBX0 /no-pwd-regs 2"


def test_pbxsim_respells_soap_config_and_devices_names(pbxsim, tmp_path):
    sim = pbxsim("--wire-names", write_json(tmp_path, {
        "soap": {"show_root": "list", "ok": "done", "error": "fail"},
        "config": {"filter_object": "CALLFILTER", "filter_name": "label", "layer_parameter": "view",
                   "layer_written": "flash", "ok": "OK", "error": "ERR"},
        "devices": {"app": "com.example.devices", "add_category": "NewCategory"},
    }))
    assert sim.admin('<add><user cn="Alice" h323="alice"/></add>').tag == "done"
    assert sim.admin('<add><user cn="Alice"/></add>').tag == "fail"
    assert sim.admin('<show><user cn="Alice"/></show>').tag == "list"
    assert ET.fromstring(sim.get("/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*").text).tag == "list"
    assert "config add PBX0 CALLFILTER /label intern" in sim.get("/cfg.txt").text.splitlines()
    assert command(sim, "config change PBX0 /reg-no-pwd 1") == "OK"
    assert command(sim, "config change PBX0 /reg-no-pwd many").startswith("ERR ")
    assert command(sim, "config write") == "OK"
    assert sim.get("/cfg.txt?view=flash").text.splitlines()[0] == "config change PBX0 /reg-no-pwd 1"
    assert sim.get("/cfg.txt?view=written").status_code == 400
    with appws.AppClient(sim.devices_url) as client:
        assert client.login("innovaphone-devices", sim.devices_domain, DEVICES_PASSWORD)["ok"] is False
    with appws.AppClient(sim.devices_url) as client:
        assert client.login("com.example.devices", sim.devices_domain, DEVICES_PASSWORD)["ok"] is True
        assert client.call("AddCategory", domainId=1, name="Old", config=True) == {
            "mt": "AddCategoryResult", "error": "unknown message type AddCategory", "src": "r3"}
        assert "id" in client.call("NewCategory", domainId=1, name="New", config=True)
        assert [c["name"] for c in client.listing("GetProvisioningCategories", "categories")] == ["New"]
    # The Devices UI's script sends the respelt message; the API app's documented name still logs in.
    script = requests.get(sim.url + "/example.com/devices/innovaphone-devices.js", timeout=10).text
    assert 'mt: "NewCategory"' in script and '"AddCategory"' not in script and 'mt: "UpdateCategory"' in script
    with appws.AppClient(sim.devices_url) as client:
        assert client.login("innovaphone-devices-api", sim.devices_domain, DEVICES_PASSWORD)["ok"] is True


@pytest.mark.parametrize("document, message", [
    ({"config": {"registrations_without_pasword": "no-pwd-regs"}}, "unknown key config.registrations_without_pasword"),
    ({"template": {"store_phone_config": ""}}, "template.store_phone_config must be a non-empty string"),
    ({"pbx": {"ok": "done"}}, "unknown section 'pbx'"),
])
def test_pbxsim_refuses_a_bad_wire_names_file_with_exit_status_2(pbxsim, tmp_path, document, message):
    with pytest.raises(PbxsimError) as refused:
        pbxsim("--wire-names", write_json(tmp_path, document))
    assert refused.value.returncode == 2
    assert "exit status 2" in str(refused.value) and message in str(refused.value)
