# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The export's mapping from pbx_info and devices_info results to the hotdesking role's variables."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.innovaphone.pbx.plugins.filter.hotdesk_function_key import hotdesk_function_key
from ansible_collections.innovaphone.pbx.plugins.filter.hotdesking_export import (
    export_secrets_needed, hotdesking_export)
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER
from ansible_collections.innovaphone.pbx.plugins.plugin_utils.export import parse_expert_script, vault_variable

SEED_KEY_LINE = ("vars create PHONE/USER-CFG/00000 p %3cuser%3e%3cf+id='0'+label='hot-desking'%3e"
                 "%3chotdesk+label='log+out'+pbx='1'/%3e%3c/f%3e%3c/user%3e")


def script(base="hot-desk-base", key=SEED_KEY_LINE, serial="hot-desk", extra=()):
    """An update script as devices_info returns it: the password masked."""
    return "\n".join(["config add PHONE SIG /h323 %s /gk-pwd %s" % (base, PLACEHOLDER), key,
                      "mod cmd UP1 check iresetn " + serial, "config write", "config activate"] + list(extra))


def user(name, long_name, extension, template="", hotdesk=None, hide=False):
    registered = hotdesk is not None
    record = dict({"user": name, "registered": registered, "app": "", "text": "", "trusted": False, "tls": False,
                   "no_filter": False}, **(hotdesk or {}))
    return {"name": name, "long_name": long_name, "display_name": "", "extension": extension,
            "hide_from_ldap": hide, "template": template, "hotdesk": record, "devices": [], "groups": []}


REGISTERED = {"app": "phone", "text": "Hotdesking"}


def how_to_site():
    """What pbx_info and devices_info return for a site the role converged with its defaults."""
    pbx = {
        "templates": [{"name": "Hot Desking", "call_filter": "intern", "call_forward_filter": "intern",
                       "store_phone_config": True, "inherit": []}],
        "users": [user("hot-desk-base", "Hot Desk Base", "#10", "Hot Desking", REGISTERED, True),
                  user("temp", "temp", "#20", "Hot Desking", hide=True),
                  user("alice", "Alice", "101", hotdesk=REGISTERED),
                  user("carol", "Carol", "103")],
        "settings": {"registrations_without_password": 0, "ip_filter": [], "unwritten": False, "inactive": False},
        "filters": ["intern"],
        "registrations": [],
    }
    devices = {
        "domain": "example.com",
        "categories": [{"name": "site1 Hotdesking", "provisioning": True}, {"name": "Other", "provisioning": False}],
        "device_configs": [
            {"name": "Phone", "type": "phone", "categories": ["Other", "site1 Hotdesking"],
             "gatekeeper": {"id": "", "primary": "192.0.2.1", "secondary": ""}, "coder": "",
             "protect_config": False, "allow_user_config": False},
            {"name": "Hot Desking", "type": "expert", "categories": ["site1 Hotdesking"], "script": script()},
            {"name": "Time", "type": "NTP", "categories": [], "ntp1": "pool.ntp.org"},
        ],
        "devices": [],
    }
    return pbx, devices


CONNECTION = {"hotdesking_pbx_url": "https://pbx.example.com", "hotdesking_pbx_password": "Admin-Secret-1",
              "hotdesking_devices_url": "wss://ap.example.com/example.com/devices",
              "hotdesking_devices_password": "Devices-Secret-2", "hotdesking_devices_domain": "example.com",
              "hotdesking_pbx_key_password": "Key-Secret-3", "hotdesking_users": ["ignored"]}


def export(pbx=None, devices=None, site="site1", connection=None):
    default_pbx, default_devices = how_to_site()
    return hotdesking_export(pbx or default_pbx, devices or default_devices, site, connection or CONNECTION)


def test_a_how_to_site_maps_to_every_variable_and_no_note():
    result = export()
    assert result["notes"] == [] and result["unmapped"] == {}
    assert result["variables"] == {
        "hotdesking_pbx_url": "https://pbx.example.com",
        "hotdesking_pbx_password": "{{ vault_site1_pbx_password }}",
        "hotdesking_pbx_key_password": "{{ vault_site1_pbx_key_password }}",
        "hotdesking_devices_url": "wss://ap.example.com/example.com/devices",
        "hotdesking_devices_password": "{{ vault_site1_devices_password }}",
        "hotdesking_devices_domain": "example.com",
        "hotdesking_template_name": "Hot Desking",
        "hotdesking_template_call_filter": "intern",
        "hotdesking_template_call_forward_filter": "intern",
        "hotdesking_template_store_phone_config": True,
        "hotdesking_base_user_name": "hot-desk-base",
        "hotdesking_base_user_long_name": "Hot Desk Base",
        "hotdesking_base_user_extension": "#10",
        "hotdesking_base_user_password": "{{ vault_site1_base_user_password }}",
        "hotdesking_temp_user_name": "temp",
        "hotdesking_temp_user_long_name": "temp",
        "hotdesking_temp_user_extension": "#20",
        "hotdesking_temp_user_password": "{{ vault_site1_temp_user_password }}",
        "hotdesking_hide_from_ldap": True,
        "hotdesking_users": ["alice"],
        "hotdesking_phone_app": "phone",
        "hotdesking_registration_trusted": False,
        "hotdesking_registration_tls": False,
        "hotdesking_registration_no_filter": False,
        "hotdesking_category_name": "site1 Hotdesking",
        "hotdesking_phone_config_name": "Phone",
        "hotdesking_primary_gatekeeper": "192.0.2.1",
        "hotdesking_expert_config_name": "Hot Desking",
        "hotdesking_function_key_id": 0,
        "hotdesking_function_key_label": "hot-desking",
        "hotdesking_function_key_logout_label": "log out",
        "hotdesking_reset_serial": "hot-desk",
        "hotdesking_registrations_without_password": 0,
        "hotdesking_ip_filter": [],
    }
    files = result["files"]
    assert files["host_vars"]["name"] == "site1.yml" and files["notes"]["name"] == "site1.md"
    assert yaml.safe_load(files["host_vars"]["content"]) == result["variables"]
    assert "mapped everything" in files["notes"]["content"]


def test_no_password_of_the_connection_is_ever_written():
    content = export()["files"]["host_vars"]["content"]
    for secret in ("Admin-Secret-1", "Devices-Secret-2", "Key-Secret-3"):
        assert secret not in content
    assert PLACEHOLDER not in content


def test_the_vault_variables_name_the_site_as_an_identifier():
    assert vault_variable("Berlin-HQ.example.com", "hotdesking_base_user_password") == (
        "vault_berlin_hq_example_com_base_user_password")
    result = export(site="Berlin-HQ")
    assert [s["vault"] for s in result["secrets"]] == [
        "vault_berlin_hq_pbx_password", "vault_berlin_hq_pbx_key_password", "vault_berlin_hq_devices_password",
        "vault_berlin_hq_base_user_password", "vault_berlin_hq_temp_user_password"]
    table = export_secrets_needed([result, export(site="site1")])
    assert table.index("| Berlin-HQ | hotdesking_pbx_password | vault_berlin_hq_pbx_password |") < table.index(
        "| site1 | hotdesking_temp_user_password | vault_site1_temp_user_password |")


@pytest.mark.parametrize("key_id, label, logout", [(0, "hot-desking", "log out"), (5, "Desk & Go", "Bye 'now'"),
                                                   (1, "Schreibtisch ä", "Abmelden")])
def test_a_key_line_the_role_writes_parses_back_to_its_variables(key_id, label, logout):
    parsed = parse_expert_script(script(key=hotdesk_function_key(key_id, label, logout), serial="s-1"))
    assert parsed == {"values": {"hotdesking_base_user_name": "hot-desk-base", "hotdesking_function_key_id": key_id,
                                 "hotdesking_function_key_label": label, "hotdesking_function_key_logout_label": logout,
                                 "hotdesking_reset_serial": "s-1"},
                      "extra_lines": [], "problems": []}


@pytest.mark.parametrize("key, why", [
    (hotdesk_function_key(0, pbx=False), "pbx='0'"),
    (hotdesk_function_key(0, user_config=1), "another user config"),
    (SEED_KEY_LINE.replace("%3c", "%3C"), "another encoding: the role would rewrite the line"),
    (SEED_KEY_LINE.replace("%3c/f%3e", "%3c/f%3e%3cf+id='1'+label='x'/%3e"), "a second key"),
    ("vars create PHONE/USER-CFG/00000 p %3cuser%3e%3cf", "broken XML"),
    ("config change PHONE /x 1", "not a key line"),
])
def test_a_key_line_the_role_would_not_write_is_a_problem(key, why):
    parsed = parse_expert_script(script(key=key))
    assert "hotdesking_function_key_label" not in parsed["values"], why
    assert [p for p in parsed["problems"] if p.startswith("line 2")], why


def test_a_script_that_is_not_the_roles_leaves_the_script_variables_out():
    pbx, devices = how_to_site()
    devices["device_configs"][1]["script"] = "config add PHONE SIG /h323 hot-desk-base /gk-pwd %s\nconfig write" % (
        PLACEHOLDER)
    result = export(pbx, devices)
    assert result["variables"]["hotdesking_base_user_name"] == "hot-desk-base"
    assert set(result["unmapped"]) == {"hotdesking_function_key_id", "hotdesking_function_key_label",
                                       "hotdesking_function_key_logout_label", "hotdesking_reset_serial"}
    assert "line 2 is not the Hot Desking key" in result["notes"][0]
    assert "# hotdesking_reset_serial: not exported, see notes/site1.md" in result["files"]["host_vars"]["content"]


def test_lines_after_the_how_tos_script_go_into_the_notes():
    pbx, devices = how_to_site()
    devices["device_configs"][1]["script"] = script(extra=["config change PHONE /tone 3"])
    result = export(pbx, devices)
    assert result["unmapped"] == {}
    assert len(result["notes"]) == 1 and "config change PHONE /tone 3" in result["notes"][0]


def test_two_expert_configurations_registering_phones_are_not_guessed_between():
    pbx, devices = how_to_site()
    second = dict(devices["device_configs"][1], name="Hot Desking 2", categories=["Other"])
    devices["device_configs"].append(second)
    result = export(pbx, devices)
    for variable in ("hotdesking_base_user_name", "hotdesking_category_name", "hotdesking_expert_config_name"):
        assert variable in result["unmapped"] and variable not in result["variables"]
    assert "`Hot Desking`, `Hot Desking 2`" in result["notes"][0]
    assert result["variables"]["hotdesking_users"] == ["alice", "hot-desk-base"]


def test_no_expert_configuration_is_said_so():
    pbx, devices = how_to_site()
    del devices["device_configs"][1]
    result = export(pbx, devices)
    assert "No expert device configuration registers phones" in result["notes"][0]
    assert "hotdesking_template_name" not in result["variables"]


@pytest.mark.parametrize("categories, text", [([], "no category (valid for all devices)"),
                                              (["site1 Hotdesking", "Other"], "several categories")])
def test_an_expert_configuration_without_one_category(categories, text):
    pbx, devices = how_to_site()
    devices["device_configs"][1]["categories"] = categories
    result = export(pbx, devices)
    assert "hotdesking_category_name" in result["unmapped"] and "hotdesking_phone_config_name" in result["unmapped"]
    assert text in result["notes"][0]


def test_two_phone_configurations_with_the_category():
    pbx, devices = how_to_site()
    devices["device_configs"].append(dict(devices["device_configs"][0], name="Phone 2"))
    result = export(pbx, devices)
    assert result["variables"]["hotdesking_category_name"] == "site1 Hotdesking"
    assert {"hotdesking_phone_config_name", "hotdesking_primary_gatekeeper"} <= set(result["unmapped"])
    assert "Several Phone device configurations have (`Phone`, `Phone 2`)" in result["notes"][0]


def test_a_category_without_provisioning_is_noted():
    pbx, devices = how_to_site()
    devices["categories"][0]["provisioning"] = False
    assert "not a provisioning category" in export(pbx, devices)["notes"][0]


def test_several_temp_user_candidates_or_none():
    pbx, devices = how_to_site()
    pbx["users"].append(user("spare", "Spare", "#30", "Hot Desking"))
    result = export(pbx, devices)
    assert "candidates: `spare`, `temp`" in result["notes"][0]
    assert "hotdesking_temp_user_name" in result["unmapped"]
    pbx, devices = how_to_site()
    pbx["users"] = [u for u in pbx["users"] if u["name"] != "temp"]
    assert "there is none" in export(pbx, devices)["notes"][0]


def test_template_problems():
    pbx, devices = how_to_site()
    pbx["templates"][0]["inherit"] = ["Base"]
    assert "inherits from `Base`" in export(pbx, devices)["notes"][0]
    pbx, devices = how_to_site()
    pbx["users"][0]["template"] = pbx["users"][1]["template"] = "Hot Desking,Extra"
    result = export(pbx, devices)
    assert "not a config template of the PBX" in result["notes"][0]
    assert "hotdesking_template_call_filter" in result["unmapped"]
    pbx, devices = how_to_site()
    pbx["users"][0]["template"] = ""
    result = export(pbx, devices)
    assert "has no config template" in result["notes"][0]
    assert "hotdesking_temp_user_name" in result["unmapped"]


def test_registrations_the_role_would_not_count_or_write_alike():
    pbx, devices = how_to_site()
    pbx["users"][2]["hotdesk"].update(trusted=True)
    pbx["users"][3]["hotdesk"] = dict(pbx["users"][2]["hotdesk"], user="carol", registered=True, text="Desk")
    result = export(pbx, devices)
    assert result["variables"]["hotdesking_users"] == ["alice"]
    assert "`carol`" in result["notes"][0]
    # Mixed flags: null, the role leaves each as the PBX has it.
    assert result["variables"]["hotdesking_registration_trusted"] is None
    assert result["variables"]["hotdesking_registration_tls"] is False
    assert "hotdesking_registration_trusted: null" in result["files"]["host_vars"]["content"]
    pbx["users"][2]["hotdesk"]["app"] = "phone2"
    assert "hotdesking_phone_app" in export(pbx, devices)["unmapped"]


def test_base_user_without_registration_and_differing_hide_from_ldap():
    pbx, devices = how_to_site()
    pbx["users"][0]["hotdesk"] = user("x", "x", "")["hotdesk"]
    pbx["users"][1]["hide_from_ldap"] = False
    notes = export(pbx, devices)["notes"]
    assert any("differ in Hide from LDAP" in n for n in notes)
    assert any("has no hot-desking registration; the role will add it" in n for n in notes)


def test_security_settings_the_role_would_not_accept_as_they_are():
    pbx, devices = how_to_site()
    pbx["settings"] = {"registrations_without_password": 3, "unwritten": True,
                       "ip_filter": [{"address": "192.0.2.0", "mask": "255.255.255.0"}]}
    result = export(pbx, devices)
    assert result["variables"]["hotdesking_registrations_without_password"] == 3
    assert result["variables"]["hotdesking_ip_filter"] == [{"address": "192.0.2.0", "mask": "255.255.255.0"}]
    assert "hotdesking_allow_registrations_without_password" not in result["variables"]
    assert any("refuses that unless you also set" in n for n in result["notes"])
    assert any("not yet written" in n for n in result["notes"])


def test_the_input_is_not_changed():
    pbx, devices = how_to_site()
    before = copy.deepcopy((pbx, devices))
    export(pbx, devices)
    assert (pbx, devices) == before


@pytest.mark.parametrize("args", [([], {}, "site1"), ({}, {}, ""), ({}, {}, "site1", "x")])
def test_bad_input_is_a_filter_error(args):
    with pytest.raises(AnsibleFilterError):
        hotdesking_export(*args)
    with pytest.raises(AnsibleFilterError):
        export_secrets_needed([{"site": "x"}])


def test_the_hot_desking_text_follows_the_sites_wire_names():
    pbx, devices = how_to_site()
    for record in pbx["users"]:
        if record["hotdesk"]["registered"]:
            record["hotdesk"]["text"] = "Hot Desk"
    assert export(pbx, devices)["variables"]["hotdesking_users"] == []
    connection = dict(CONNECTION, hotdesking_wire_names={"hotdesk": {"device_text": "Hot Desk"}})
    result = export(pbx, devices, connection=connection)
    assert result["variables"]["hotdesking_users"] == ["alice"] and result["notes"] == []
    assert result["variables"]["hotdesking_wire_names"] == {"hotdesk": {"device_text": "Hot Desk"}}


def test_the_base_user_is_found_in_any_case_and_the_role_spelling_noted():
    pbx, devices = how_to_site()
    devices["device_configs"][1]["script"] = script(base="Hot-Desk-Base")
    result = export(pbx, devices)
    assert result["variables"]["hotdesking_base_user_name"] == "hot-desk-base"
    assert result["variables"]["hotdesking_template_name"] == "Hot Desking"
    assert result["notes"] == ["Expert configuration `Hot Desking` registers phones as `Hot-Desk-Base`, the user is "
                               "`hot-desk-base`: the role writes the user's spelling into the script."]
