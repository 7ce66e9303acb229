# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules built on the resource table document exactly the options the table gives them.

DOCUMENTATION stays a static string (ansible-test sanity reads it without running the module); this test is what
makes a field added to the table without its documentation (or the other way round) fail. no_log is no documentation
key: the table itself checks it against its secret and masked fields when it is built."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

import pytest
import yaml

from ansible_collections.innovaphone.pbx.plugins.module_utils import resources

TABLE_MODULES = ("users", "config_template", "hotdesk_registration", "pbx_settings", "devices_category",
                 "device_config")


def _module(name):
    return importlib.import_module("ansible_collections.innovaphone.pbx.plugins.modules." + name)


def documented(options):
    """{option: the argument spec the documentation promises}, suboptions as `options`."""
    spec = {}
    for name, doc in (options or {}).items():
        option = dict(type=doc.get("type", "str"), required=doc.get("required", False), default=doc.get("default"),
                      choices=doc.get("choices"), elements=doc.get("elements"))
        if "suboptions" in doc:
            option["options"] = documented(doc["suboptions"])
        spec[name] = option
    return spec


def specified(argument_spec):
    """The same keys of an argument spec, absent ones as Ansible takes them."""
    spec = {}
    for name, arg in argument_spec.items():
        option = dict(type=arg.get("type", "str"), required=arg.get("required", False), default=arg.get("default"),
                      choices=arg.get("choices"), elements=arg.get("elements"))
        if "options" in arg:
            option["options"] = specified(arg["options"])
        spec[name] = option
    return spec


@pytest.mark.parametrize("name", TABLE_MODULES)
def test_documented_options_are_the_argument_spec(name):
    module = _module(name)
    assert documented(yaml.safe_load(module.DOCUMENTATION)["options"]) == specified(module.ARGUMENT_SPEC)


@pytest.mark.parametrize("name", TABLE_MODULES)
def test_the_module_takes_its_fields_options_from_the_table(name):
    """Every module option a table field gives is the field's own argument spec, not one restated beside it."""
    module = _module(name)
    tables = {"users": [resources.USERS], "config_template": [resources.TEMPLATES],
              "hotdesk_registration": [resources.HOTDESK_REGISTRATIONS], "pbx_settings": [resources.PBX_SETTINGS],
              "devices_category": [resources.CATEGORIES], "device_config": list(resources.DEVICE_CONFIGS.values())}
    options = module.ARGUMENT_SPEC["users"]["options"] if name == "users" else module.ARGUMENT_SPEC
    for table in tables[name]:
        for field in table.fields:
            if field.argument_spec is not None:
                assert options[field.name] == field.argument_spec, field.name


def test_a_field_added_without_documentation_fails():
    users = _module("users")
    spec = dict(users.ARGUMENT_SPEC)
    spec["users"] = dict(spec["users"], options=dict(spec["users"]["options"], fake=dict(type="str")))
    assert documented(yaml.safe_load(users.DOCUMENTATION)["options"]) != specified(spec)


def test_the_table_refuses_a_no_log_field_that_shows_its_value():
    with pytest.raises(ValueError, match="no_log field 'fake' is neither secret nor shown masked"):
        resources.Resource("fakes", "name", [resources.Field("name", "cn"),
                                             resources.Field("fake", "fake", option=dict(no_log=True))])


def test_the_table_refuses_choices_its_codec_does_not_take():
    with pytest.raises(ValueError, match="field 'kind' offers choices"):
        resources.Resource("fakes", "name", [resources.Field("name", "cn"), resources.Field(
            "kind", "kind", resources.choice({"a": "A"}), option=dict(choices=["a", "b"]))])
