# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.innovaphone.pbx.plugins.filter.input_errors import input_errors

ROLE_USERS = ["hotdesking_base_user", "hotdesking_temp_user"]
PBX = {"templates": [{"name": "Other"}], "filters": ["intern"],
       "users": [{"name": "alice", "long_name": "Alice", "extension": "101", "devices": [{"hw": "carol"}]}]}


def test_the_places_are_the_callers_names():
    errors = input_errors([{"name": "base", "extension": "#1a"}, {"name": "temp", "extension": "#1a"}], "users",
                          ROLE_USERS)
    assert "hotdesking_base_user_extension: '#1a' may hold only digits, # and *" in errors
    assert "hotdesking_temp_user_extension: '#1a' is also given in hotdesking_base_user_extension" in errors


def test_settings_fields_take_the_prefix():
    errors = input_errors({"ip_filter": [{"address": "192.0.2.0", "mask": "255.255.255.0"},
                                         {"address": "192.0.2.300", "mask": "255.255.255.0"}],
                           "registrations_without_password": 0}, "pbx_settings", prefix="hotdesking")
    assert len(errors) == 1 and errors[0].startswith("hotdesking_ip_filter[1]: not an IPv4 address and mask")


def test_without_the_pbx_a_reference_is_no_error_yet():
    assert input_errors([{"name": "base", "template": "Hot Desking"}], "users", ROLE_USERS) == []
    assert input_errors(["bob"], "hotdesk_registration", ["hotdesking_users[0]"]) == []


def test_against_the_pbx_owners_and_references_count():
    assert input_errors(["alice", "bob", "carol"], "hotdesk_registration",
                        ["hotdesking_users[%d]" % i for i in range(3)], pbx=PBX) == [
        "hotdesking_users[1]: no user 'bob' on the PBX",
        "hotdesking_users[2]: no user 'carol' on the PBX"]
    errors = input_errors([{"name": "base", "long_name": "ALICE", "extension": "101", "template": "Hot Desking"}],
                          "users", ROLE_USERS, pbx=PBX, creates={"templates": ["Hot Desking"]})
    assert errors == ["hotdesking_base_user_long_name: long name 'ALICE' already belongs to PBX object 'Alice'",
                      "hotdesking_base_user_extension: extension '101' already belongs to PBX object 'Alice'"]
    assert input_errors({"name": "T", "call_filter": "normal"}, "config_template", prefix="hotdesking_template",
                        pbx=PBX) == ["hotdesking_template_call_filter: no filter 'normal' on the PBX (known: intern)"]


def test_an_unknown_kind_is_refused():
    with pytest.raises(AnsibleFilterError, match="unknown kind"):
        input_errors([], "phones")


def test_a_field_of_a_single_entry_takes_its_name_from_a_dict():
    names = {"key_id": "hotdesking_function_key_id", "label": "hotdesking_function_key_label",
             "logout_label": "hotdesking_function_key_logout_label"}
    assert input_errors({"key_id": -3, "label": "", "logout_label": "log out"}, "hotdesk_function_key", names) == [
        "hotdesking_function_key_id: must be 0 or more, not -3", "hotdesking_function_key_label: must be a non-empty text"]
    assert input_errors({"name": ""}, "devices_category", {"name": "hotdesking_category_name"}) == [
        "hotdesking_category_name: must not be empty"]
    assert input_errors({"name": "x"}, "device_config", {"name": "hotdesking_phone_config_name"}) == []


def test_script_lines_are_named_by_the_callers_names():
    assert input_errors(["config write", "confg write"], "update_script", ["line_a", "extra[0]"]) == [
        "extra[0]: not an update-script command (known: config, ireset, iresetn, mod, reset, resetn, vars); "
        "did you mean config?"]


def test_urls_are_named_as_the_caller_names_them():
    errors = input_errors({"url": "pbx.example.invalid", "devices_url": "wss://apps.example.com/x/devices"},
                          "connection", {"url": "hotdesking_pbx_url", "devices_url": "hotdesking_devices_url"})
    assert errors == ["hotdesking_pbx_url must start with http:// or https:// and name a host, got "
                      "'pbx.example.invalid'"]
    assert input_errors({"url": "https://pbx.example.com", "timeout": 0}, "connection",
                        {"url": "hotdesking_pbx_url", "timeout": "hotdesking_timeout"}) == [
        "hotdesking_timeout: must be 1 second or more, not 0"]
    errors = input_errors({"url": "https://admin:s3cret@pbx.example.com"}, "connection", {"url": "hotdesking_pbx_url"})
    assert len(errors) == 1 and errors[0].startswith("hotdesking_pbx_url must not carry credentials")
    assert "s3cret" not in errors[0]


def test_the_ip_filter_opt_in_is_named_with_the_prefix():
    errors = input_errors({"ip_filter": [{"address": "10.0.0.0", "mask": "0"}]}, "pbx_settings", prefix="hotdesking")
    assert errors == ["hotdesking_ip_filter[0]: mask 0 matches every address, which turns the IP filter off; set "
                      "hotdesking_allow_ip_filter_any to true if that is what you want"]
    assert input_errors({"ip_filter": [{"address": "10.0.0.0", "mask": "0"}], "allow_ip_filter_any": True},
                        "pbx_settings", prefix="hotdesking") == []


def test_a_pbx_without_filters_has_none():
    pbx = dict(PBX, filters=[])
    assert input_errors({"name": "Hot Desking", "call_filter": "intern"}, "config_template", prefix="t", pbx=pbx) == [
        "t_call_filter: no filter 'intern' on the PBX (known: none)"]
