# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource tables: wire attributes <-> records, and the redaction of secrets from text."""

from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER, redact_text
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import PBX_SETTINGS, TEMPLATES, USERS


def test_user_attributes_become_a_record_without_the_password():
    record = USERS.decode({"h323": "alice", "cn": "Alice", "e164": "#10", "hide": "true", "pwd": "********",
                           "unmanaged": "x"})
    assert record == {"name": "alice", "long_name": "Alice", "display_name": "", "extension": "#10",
                      "hide_from_ldap": True, "template": ""}


def test_record_fields_become_wire_attributes_and_empty_means_absent():
    assert USERS.encode({"name": "a", "hide_from_ldap": False, "password": "pw", "display_name": ""}) == {
        "h323": "a", "hide": "", "pwd": "pw", "dn": ""}


def test_template_inheritance_list_round_trips():
    record = TEMPLATES.decode({"cn": "T", "config": "Base,Phones", "store-phone-cfg": "true"})
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
