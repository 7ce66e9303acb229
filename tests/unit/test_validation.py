# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole-input checks: every error names the entry and the field, all errors at once."""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import validation
from ansible_collections.innovaphone.pbx.plugins.module_utils import soap
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Directory
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError, check_users

PBX = Directory(ET.fromstring(
    '<show>'
    '<user cn="Hotdesking"><pseudo type="config"/></user>'
    '<user cn="Alice" h323="alice" e164="10"><device hw="alice"/></user>'
    '<user cn="Bob" h323="bob" e164="11"><device hw="carol"/></user>'
    '<user cn="Queue" e164="99"/>'
    '</show>').findall("user"))


def errors_of(check, *args):
    with pytest.raises(validation.ValidationError) as info:
        check(*args)
    return info.value.errors


def user(name, **fields):
    return dict(fields, name=name, state=fields.get("state", "present"))


def test_valid_users_pass():
    validation.check_users([user("alice", extension="10", template="Hotdesking"), user("new", extension="#20")], PBX)


def test_user_errors_name_entry_and_field_and_come_all_at_once():
    errors = errors_of(validation.check_users, [
        user("alice", extension="1 0"),
        user("x", password="p" * 24, template="Missing"),
        user("y", extension="11"),
        user("z", long_name="Queue"),
        user("x"),
    ], PBX)
    assert errors == [
        "users[4].name: 'x' is also given in users[1].name",
        "users[0].extension: '1 0' may hold only digits, # and *",
        "users[1].password: at most 23 bytes, the PBX's limit (in UTF-8); the PBX would cut a longer one short",
        "users[1].template: no config template 'Missing' on the PBX",
        "users[2].extension: extension '11' already belongs to PBX object 'Bob'",
        "users[3].long_name: long name 'Queue' already belongs to PBX object 'Queue'",
    ]


def test_error_messages_never_hold_the_password():
    errors = errors_of(validation.check_users, [user("a", password="very-long-secret-password-123")], PBX)
    assert "very-long-secret" not in " ".join(errors)


def test_names_compare_case_insensitively_like_the_pbx():
    errors = errors_of(validation.check_users, [user("ALICE"), user("new", long_name="bob")], PBX)
    assert errors == ["users[0].name: username 'ALICE' already belongs to PBX object 'Alice'",
                      "users[1].long_name: long name 'bob' already belongs to PBX object 'Bob'"]
    hotdesk = [{"user": "Carol", "registered": True}]
    directory = Directory(PBX.elements + [ET.fromstring('<user cn="Carol2" h323="Carol"/>')])
    assert errors_of(validation.check_hotdesk, hotdesk, directory) == [
        "users[0]: hardware id 'Carol' already belongs to PBX object 'Bob'"]


def test_duplicate_extensions_inside_the_list():
    errors = errors_of(validation.check_users, [user("p", extension="#30"), user("q", extension="#30")], PBX)
    assert errors == ["users[1].extension: '#30' is also given in users[0].extension"]


def test_absent_users_are_not_checked_for_content():
    validation.check_users([user("gone", state="absent", extension="bad extension")], PBX)


def test_template_filters_and_inheritance():
    template = {"name": "T", "call_filter": "intern", "call_forward_filter": "nope",
                "inherit": ["Hotdesking", "X", "T"], "state": "present"}
    assert errors_of(validation.check_template, template, PBX, ["intern", "normal"]) == [
        "call_forward_filter: no filter 'nope' on the PBX (known: intern, normal)",
        "inherit: no config template 'X' on the PBX",
        "inherit: a config template cannot inherit from itself",
    ]


def test_template_name_taken_by_a_user():
    assert errors_of(validation.check_template, {"name": "Alice", "state": "present"}, PBX, []) == [
        "name: 'Alice' is the long name of a PBX object that is not a config template"]


def test_hotdesk_user_must_exist_and_hw_id_must_be_free():
    entries = [{"user": "alice", "registered": True}, {"user": "ghost", "registered": True},
               {"user": "carol", "registered": True}, {"user": "ghost2", "registered": False}]
    directory = Directory(PBX.elements + [ET.fromstring('<user cn="Carol" h323="carol"/>')])
    assert errors_of(validation.check_hotdesk, entries, directory) == [
        "users[1]: no user 'ghost' on the PBX",
        "users[2]: hardware id 'carol' already belongs to PBX object 'Bob'",
    ]


LATER = "now, so a real run fails unless an earlier task creates it"


def test_missing_references_only_warn_in_check_mode():
    users = [user("alice", template="Later"), user("bob", template="Hotdesking")]
    assert validation.check_users(users, PBX, check_mode=True) == [
        "users[0].template: no config template 'Later' on the PBX " + LATER]
    assert validation.check_users(users[1:], PBX, check_mode=True) == []
    template = {"name": "T", "inherit": ["Later"], "state": "present"}
    assert validation.check_template(template, PBX, [], check_mode=True) == [
        "inherit: no config template 'Later' on the PBX " + LATER]
    hotdesk = [{"user": "alice", "registered": True}, {"user": "new", "registered": True}]
    assert validation.check_hotdesk(hotdesk, PBX, check_mode=True) == ["users[1]: no user 'new' on the PBX " + LATER]


def test_check_mode_keeps_every_other_error():
    errors = errors_of(validation.check_users, [user("x", template="Later", extension="1 0")], PBX, "users", True)
    assert errors == ["users[0].extension: '1 0' may hold only digits, # and *"]
    template = {"name": "T", "call_filter": "nope", "inherit": ["T"], "state": "present"}
    assert errors_of(validation.check_template, template, PBX, ["intern"], True) == [
        "call_filter: no filter 'nope' on the PBX (known: intern)",
        "inherit: a config template cannot inherit from itself",
    ]


def test_settings():
    validation.check_settings({"registrations_without_password": 0,
                               "ip_filter": [{"address": "192.0.2.0", "mask": "255.255.255.0"}]})
    errors = errors_of(validation.check_settings, {"registrations_without_password": -1, "ip_filter": [
        {"address": "192.0.2.0", "mask": "255.255.255.0"}, {"address": "300.1.1.1", "mask": "255.0.0.0"}]})
    assert errors[0] == "registrations_without_password: must be 0 or more, not -1"
    assert errors[1].startswith("ip_filter[1]: not an IPv4 address and mask: ") and len(errors) == 2


def test_a_new_user_without_long_name_takes_its_name_as_long_name():
    errors = errors_of(validation.check_users, [user("queue"), user("alice"), user("Later")], PBX)
    assert errors == ["users[0].long_name: long name 'queue' already belongs to PBX object 'Queue'"]


def test_a_name_in_another_case_than_on_the_pbx_is_an_error_also_for_removal():
    assert errors_of(validation.check_users, [user("ALICE", state="absent")], PBX) == [
        "users[0].name: 'ALICE' is spelt 'alice' on the PBX"]
    hotdesk = [{"user": "Bob", "registered": False}, {"user": "ALICE", "registered": True}]
    assert errors_of(validation.check_hotdesk, hotdesk, PBX, "users", True) == [
        "users[0]: 'Bob' is spelt 'bob' on the PBX", "users[1]: 'ALICE' is spelt 'alice' on the PBX"]


@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_template_name_in_another_case_than_on_the_pbx_is_an_error(state):
    assert errors_of(validation.check_template, {"name": "HOTDESKING", "state": state}, PBX, []) == [
        "name: 'HOTDESKING' is spelt 'Hotdesking' on the PBX"]


def test_an_extension_another_listed_user_gives_up_is_not_a_clash():
    directory = Directory(soap.objects(ET.fromstring(
        '<show><user cn="A" h323="a" e164="10"/><user cn="B" h323="b" e164="11"/><user cn="C" h323="c" e164="12"/>'
        '</show>')))
    entries = [{"name": "a", "extension": "11"}, {"name": "b", "extension": "12"}, {"name": "c", "extension": "13"}]
    assert check_users(entries, directory) == []
    with pytest.raises(ValidationError, match=r"users\[0\].extension: extension '11' already belongs to PBX object 'B'"):
        check_users(entries[:1], directory)


def test_an_error_message_spells_out_ten_errors_and_counts_the_rest():
    error = ValidationError(["e%d" % number for number in range(25)])
    assert str(error) == "invalid input: " + "; ".join("e%d" % n for n in range(10)) + "; and 15 more"
    assert len(error.errors) == 25


def test_deleting_a_template_users_or_templates_still_name_is_refused_naming_them():
    """issue 16: a template the role no longer manages is removed only when nothing names it any more."""
    check_template = validation.check_template
    directory = Directory.from_info({
        "templates": [{"name": "Old"}, {"name": "Child", "inherit": ["old"]}],
        "users": [{"name": "carol", "template": "OLD"}, {"name": "dave", "template": "New"}],
    })
    with pytest.raises(ValidationError) as refused:
        check_template({"name": "Old", "state": "absent"}, directory, [])
    assert refused.value.errors == [
        "name: config template 'Old' is still the template of user(s) carol; give them another template first",
        "name: config template 'Old' is still inherited by template(s) Child"]
    warnings = check_template({"name": "Old", "state": "absent"}, directory, [], check_mode=True)
    assert len(warnings) == 2 and "a real run fails unless an earlier task changes that" in warnings[0]
    assert check_template({"name": "Child", "state": "absent"}, directory, []) == []
