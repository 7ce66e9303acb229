# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules that refuse what would weaken a site or fail half-way (issue 16): IP filter entries, update scripts,
the Hot Desking key and object names; and the one form an IP filter is written and compared in."""

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt, rules, validation
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import CATEGORIES, PBX_SETTINGS, TEMPLATES

PASSWORD = "Base-Secret-271"
HOWTO = [
    "config add PHONE SIG /h323 hot-desk-base /gk-pwd %s" % PASSWORD,
    "vars create PHONE/USER-CFG/00000 p %3cuser%3e%3cf+id='0'+label='hot-desking'%3e%3chotdesk+label='log+out'"
    "+pbx='1'/%3e%3c/f%3e%3c/user%3e",
    "mod cmd UP1 check iresetn hot-desk",
    "config write",
    "config activate",
]


def errors_of(check, *args, **kwargs):
    with pytest.raises(validation.ValidationError) as info:
        check(*args, **kwargs)
    return info.value.errors


@pytest.mark.parametrize("entry, network", [
    ({"address": "10.0.0.0/8"}, ("10.0.0.0", "255.0.0.0")),
    ({"address": "10.0.0.0", "mask": "255.0.0.0"}, ("10.0.0.0", "255.0.0.0")),
    ({"address": "10.0.0.0", "mask": "8"}, ("10.0.0.0", "255.0.0.0")),
    ({"address": "10.0.0.0", "mask": "/8"}, ("10.0.0.0", "255.0.0.0")),
    ({"address": " 192.0.2.77 ", "mask": 25}, ("192.0.2.0", "255.255.255.128")),
    ({"address": "192.0.2.5/32"}, ("192.0.2.5", "255.255.255.255")),
])
def test_an_ip_filter_entry_has_one_written_form(entry, network):
    assert rules.ip_filter_entry(entry) == {"address": network[0], "mask": network[1]}
    validation.check_settings({"ip_filter": [entry]})


@pytest.mark.parametrize("entry, message", [
    ({"address": "10.0.0.0", "mask": "0"}, "mask 0 matches every address, which turns the IP filter off; set "
                                           "allow_ip_filter_any to true if that is what you want"),
    ({"address": "10.0.0.0", "mask": "0.0.0.0"}, "mask 0.0.0.0 matches every address"),
    ({"address": "10.0.0.0", "mask": "/0"}, "mask /0 matches every address"),
    ({"address": "0.0.0.0/0"}, "0.0.0.0/0 matches every address"),
    ({"address": "10.0.0.0"}, "10.0.0.0 has no mask: give one (mask: 255.255.255.0) or write the address as CIDR"),
    ({"address": "10.0.0.0", "mask": ""}, "10.0.0.0 has no mask"),
    ({"address": "10.0.0.0/8", "mask": "8"}, "10.0.0.0/8 already has a mask after '/', so mask 8 is one too many"),
    ({"address": "", "mask": "8"}, "no address"),
    ({"address": "10.0.300.0", "mask": "8"}, "not an IPv4 address and mask: "),
    ({"address": "10.0.0.0", "mask": "255.0.255.0"}, "not an IPv4 address and mask: "),
    ({"address": "10.0.0.0/8/8"}, "not an IPv4 address and mask: "),
])
def test_an_ip_filter_entry_is_refused_in_one_line(entry, message):
    errors = errors_of(validation.check_settings, {"ip_filter": [{"address": "192.0.2.0/24"}, entry]})
    assert len(errors) == 1 and errors[0].startswith("ip_filter[1]: " + message), errors
    assert "\n" not in errors[0]


def test_an_all_zero_mask_with_the_opt_in_and_the_opt_in_named_as_the_caller_names_it():
    validation.check_settings({"ip_filter": [{"address": "0.0.0.0/0"}]}, allow_ip_filter_any=True)
    errors = errors_of(validation.check_settings, {"ip_filter": [{"address": "0.0.0.0/0"}]}, False, "site_allow_any")
    assert "set site_allow_any to true" in errors[0]


def test_the_pbx_value_in_another_form_reads_as_the_same_network():
    record = PBX_SETTINGS.decode({"ip-filter": "10.0.0.0/8, 192.0.2.1/255.255.255.0"})
    wanted = PBX_SETTINGS.normalised({"ip_filter": [{"address": "10.0.0.0", "mask": "255.0.0.0"},
                                                    {"address": "192.0.2.0/24"}]})
    assert record["ip_filter"] == wanted["ip_filter"] == [{"address": "10.0.0.0", "mask": "255.0.0.0"},
                                                          {"address": "192.0.2.0", "mask": "255.255.255.0"}]
    assert PBX_SETTINGS.encode(wanted)["ip-filter"] == "10.0.0.0/255.0.0.0,192.0.2.0/255.255.255.0"


def test_the_howto_script_passes():
    validation.check_update_script(HOWTO + ["", "iresetn", "mod cmd UP1 poll", "config add UP1 /url \"a b\" /poll 1",
                                            "config change PBX0 /noreg /reg-no-pwd 0", "mod cmd UP1 check ser 42"])


@pytest.mark.parametrize("line, message", [
    ("confg write", "not an update-script command (known: config, ireset, iresetn, mod, reset, resetn, vars); "
                    "did you mean config?"),
    ("hello", "not an update-script command (known: "),
    ('config add PHONE SIG /h323 "hot-desk-base /gk-pwd %s' % PASSWORD, "unbalanced double quote"),
    ("config add PHONE SIG /h323 hot desk /gk-pwd %s" % PASSWORD,
     "word 7 is neither a /flag nor the value of the flag before it"),
    ("config add /h323 x", "config add needs the module it changes"),
    ("config delete PHONE", "config takes add or change"),
    ("config write now", "config takes add or change"),
    ("vars create PHONE/USER-CFG/00000 p %3cuser%3e%3cf", "the value of PHONE/USER-CFG/00000 is not well-formed XML"),
    ("vars create PHONE/USER-CFG/00000 p %3cphone/%3e", "the value of PHONE/USER-CFG/00000 is <phone> XML, not <user>"),
    ("vars create PHONE/USER-CFG/00000 p a+b c", "vars takes create <name> <flags> <URL-encoded value>"),
    ("mod cmd UP1 check iresetn hot desk", "mod cmd UP1 check takes one of reset, ireset, resetn, iresetn or ser"),
    ("mod cmd UP1 check restart hot-desk", "mod cmd UP1 check takes one of"),
    ("mod UP1 poll", "mod takes cmd <module> <command>"),
    ("reset now", "reset stands alone on its line"),
])
def test_a_bad_script_line_is_named_by_its_number_and_never_quoted(line, message):
    errors = errors_of(validation.check_update_script, HOWTO[:3] + [line] + HOWTO[3:])
    assert errors == ["script line 4: " + message] or (len(errors) == 1 and errors[0].startswith(
        "script line 4: " + message)), errors
    assert PASSWORD not in errors[0] and "hot desk" not in errors[0]


def test_every_bad_line_is_named_at_once_with_the_callers_names():
    errors = errors_of(validation.check_update_script, ["confg write", "config write", "reset 1"],
                       ["extra[0]", "extra[1]", "extra[2]"])
    assert [error.split(":")[0] for error in errors] == ["extra[0]", "extra[2]"]


def test_the_device_config_module_checks_the_script_and_the_name_before_anything_is_read():
    params = dict(type="expert", name=" ", script="\r\n".join(HOWTO[:1] + ['config add UP1 /url "x'] + HOWTO[1:]),
                  gatekeeper=None, coder=None, protect_config=None, allow_user_config=None)
    assert errors_of(validation.check_device_config_options, params) == [
        "name: must not be empty", "script line 2: unbalanced double quote"]


@pytest.mark.parametrize("args, message", [
    ((-3, "a", "b"), "key_id: must be 0 or more, not -3"),
    (("x", "a", "b"), "key_id: must be a whole number, not 'x'"),
    ((True, "a", "b"), "key_id: must be a whole number, not True"),
    ((0, "", "b"), "label: must be a non-empty text"),
    ((0, "a", None), "logout_label: must be a non-empty text"),
    ((0, "a", "b", 100000), "user_config: must be 0 or more and 99999 or less, not 100000"),
])
def test_the_hot_desking_key(args, message):
    assert errors_of(validation.check_function_key, *args) == [message]


def test_the_hot_desking_key_numbers():
    assert validation.check_function_key("2", "a", "b", 7) == (2, 7)


def test_empty_names():
    """The rule of the name fields in the resource table: check_fields runs it for a module of one object."""
    assert errors_of(validation.check_fields, CATEGORIES, {"name": " ", "provisioning": None}) == [
        "name: must not be empty"]
    validation.check_fields(TEMPLATES, {"name": "Hot Desking", "description": None, "call_filter": ""})


def test_a_filter_line_without_its_name_flag_names_the_wire_name():
    text = "config add PBX0 FILTER /filter-name intern\nconfig add PBX0 FILTER /name normal\n"
    with pytest.raises(cfgtxt.MissingFlag) as info:
        cfgtxt.CfgText(text).filters()
    assert str(info.value) == ("cfg.txt has a `config add PBX0 FILTER` line without the filter's name: this PBX may "
                               "spell wire name 'name' (config.filter_name) otherwise: see docs/wire-names.md")
