# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource tables: wire attributes <-> records, and the redaction of secrets from text."""

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER, masked_script, redact_text
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import (
    BOOL, CATEGORIES, DEVICE_CONFIGS, HOTDESK_REGISTRATIONS, PBX_SETTINGS, TEMPLATES, USERS, Field, Resource, State)


def test_user_attributes_become_a_record_without_the_password():
    record = USERS.decode({"h323": "alice", "cn": "Alice", "e164": "#10", "hide": "true", "pwd": "********",
                           "unmanaged": "x"})
    assert record == {"name": "alice", "long_name": "Alice", "display_name": "", "extension": "#10",
                      "hide_from_ldap": True, "template": ""}


def test_record_fields_become_wire_attributes_and_empty_means_absent():
    assert USERS.encode({"name": "a", "hide_from_ldap": False, "password": "pw", "display_name": ""}) == {
        "h323": "a", "hide": "", "pwd": "pw", "dn": ""}


def test_template_inheritance_list_round_trips():
    record = TEMPLATES.decode({"cn": "T", "config": "Base,Phones", "phone-config": "true"})
    assert record["inherit"] == ["Base", "Phones"] and record["store_phone_config"] is True
    assert TEMPLATES.encode({"inherit": ["Base", "Phones"]}) == {"config": "Base,Phones"}
    assert TEMPLATES.decode({"cn": "T"})["inherit"] == []


def test_settings_flags_round_trip():
    flags = {"reg-no-pwd": "0", "ip-filter": "10.0.0.0/255.0.0.0,192.0.2.0/255.255.255.0"}
    record = PBX_SETTINGS.decode(flags)
    assert record == {"registrations_without_password": 0, "ip_filter": [
        {"address": "10.0.0.0", "mask": "255.0.0.0"}, {"address": "192.0.2.0", "mask": "255.255.255.0"}]}
    assert PBX_SETTINGS.encode(record) == flags
    assert PBX_SETTINGS.decode({}) == {"registrations_without_password": 0, "ip_filter": []}


def test_redact_text_replaces_every_secret_longest_first():
    assert redact_text("pw pw-long pw", ["pw", "pw-long", ""]) == "%s %s %s" % ((PLACEHOLDER,) * 3)


def test_a_table_that_contradicts_itself_does_not_build():
    with pytest.raises(ValueError) as caught:
        Resource("broken", "id", [Field("name", "cn"), Field("name", "dn"), Field("other", "cn"),
                                  Field("unstored", None), State("derived", BOOL, "x")])
    assert str(caught.value) == (
        "resource broken: its key 'id' is not a field; field 'name' is declared twice; wire name 'cn' is used twice; "
        "field 'unstored' has no wire name")


def test_every_resource_of_the_collection_builds():
    resources = [TEMPLATES, USERS, HOTDESK_REGISTRATIONS, PBX_SETTINGS, CATEGORIES] + list(DEVICE_CONFIGS.values())
    assert all(r.key in r.by_name for r in resources)


def test_a_device_configuration_reads_the_documented_flat_fields():
    phone = DEVICE_CONFIGS["phone"].decode({
        "id": 3, "desc": "Phone", "type": "PHONE", "gk1": "192.0.2.10", "gkId": "PBX1", "coder": "G722",
        "categories": [{"id": 2, "name": "B", "config": True}, {"id": 1, "name": "A", "config": False}]})
    assert phone == {"name": "Phone", "type": "phone", "categories": ["A", "B"], "coder": "G722",
                     "protect_config": False, "allow_user_config": False,
                     "gatekeeper": {"id": "PBX1", "primary": "192.0.2.10", "secondary": ""}}
    assert DEVICE_CONFIGS["phone"].encode({"gatekeeper": {"primary": "192.0.2.20"}, "protect_config": True}) == {
        "gk1": "192.0.2.20", "protectCfg": True}


def test_an_expert_script_compares_normalised_and_shows_masked():
    expert = DEVICE_CONFIGS["expert"]
    wanted = expert.normalised({"script": "config add PHONE SIG /gk-pwd Secret-1  \r\nconfig write\r\n\r\n"})
    assert wanted == {"script": "config add PHONE SIG /gk-pwd Secret-1\nconfig write"}
    assert expert.decode({"script": wanted["script"] + "\n"})["script"] == wanted["script"]
    assert expert.public(wanted)["script"] == "config add PHONE SIG /gk-pwd %s\nconfig write" % PLACEHOLDER


def test_masked_script_hides_values_of_secret_flags_only():
    script = "config add PHONE SIG /h323 hot-desk-base /gk-pwd a b\nconfig change X /password p /Key k /name n\n/pwd"
    assert masked_script(script) == (
        "config add PHONE SIG /h323 hot-desk-base /gk-pwd %s b\nconfig change X /password %s /Key %s /name n\n/pwd"
        % (PLACEHOLDER, PLACEHOLDER, PLACEHOLDER))


@pytest.mark.parametrize("line, shown", [
    ("config add PHONE SIG /gk-pwd  Pass-1", "config add PHONE SIG /gk-pwd  %s"),
    ("config add PHONE SIG /gk-pwd\tPass-2 /h323 base", "config add PHONE SIG /gk-pwd\t%s /h323 base"),
    ('config add PHONE SIG /gk-pwd "Pass 3" /h323 base', "config add PHONE SIG /gk-pwd %s /h323 base"),
], ids=["two spaces", "tab", "quoted"])
def test_masked_script_hides_a_secret_however_it_is_separated_or_quoted(line, shown):
    assert masked_script(line) == shown % PLACEHOLDER


def test_masked_script_never_takes_a_value_from_the_next_line():
    assert masked_script("config add X /pwd\nconfig write") == "config add X /pwd\nconfig write"


def test_field_rules_run_for_the_given_values_in_table_order():
    entry = {"name": " ", "extension": "1a", "password": "x" * 24, "display_name": None}
    assert [field for field, _problem in USERS.broken_rules(entry)] == ["name", "extension", "password"]
    assert USERS.broken_rules(entry, ["extension"]) == [("extension", "'1a' may hold only digits, # and *")]
    assert USERS.broken_rules({"name": "alice", "extension": None}) == []


def test_a_secret_field_is_no_log_and_cannot_be_shown():
    assert USERS.argument_spec()["password"] == {"type": "str", "no_log": True}
    with pytest.raises(ValueError, match="secret field 'pwd' is not no_log"):
        Resource("fakes", "name", [Field("name", "cn"), Field("pwd", "pwd", secret=True, option=dict(no_log=False))])
