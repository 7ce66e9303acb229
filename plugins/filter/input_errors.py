# -*- coding: utf-8 -*-
# Copyright: innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the modules would refuse in their input, checked before a run writes anything: the modules' own rules
(module_utils/validation.py), with each error named as the caller names the value (a role's variable)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.innovaphone.pbx.plugins.module_utils import validation, wire_names
from ansible_collections.innovaphone.pbx.plugins.module_utils.endpoint import URL_OPTIONS, Endpoint, EndpointError
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Directory
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import CATEGORIES, DEVICE_CONFIGS, TEMPLATES

# "users[2].extension: ..." -> list name, index, field, message; settings errors have no index.
_PLACE = re.compile(r"^(?P<list>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<field>\w+))?: (?P<message>.*)$", re.S)


def _renamed(message, names, prefix):
    """`message` with its places as the caller calls them: entry i of a list is names[i] (its fields
    names[i]_<field>), a field of a single entry names[field] when `names` is a dict, else <prefix>_<field>."""
    place = _PLACE.match(message)
    if place is None:
        return "%s: %s" % (prefix, message)
    index, field, text = place.group("index"), place.group("field"), place.group("message")
    if isinstance(names, dict):
        if index is None and field is None and place.group("list") in names:
            return "%s: %s" % (names[place.group("list")], text)
        names = None
    if names:  # "... is also given in users[0].name"
        text = re.sub(r"\b\w+\[(\d+)\](?:\.(\w+))?", lambda other: "_".join(
            part for part in (names[int(other.group(1))], other.group(2)) if part), text)
    if index is not None and names:
        name = names[int(index)]
        return "%s: %s" % ("%s_%s" % (name, field) if field else name, text)
    name = "%s_%s" % (prefix, place.group("list"))
    if index is not None:
        name += "[%s]" % index
    if field:
        name += "." + field
    return "%s: %s" % (name, text)


def _errors(check, *args, **kwargs):
    try:
        check(*args, **kwargs)
    except validation.ValidationError as exc:
        return exc.errors
    return []


class _Call:
    """What the filter was given, for the check of its kind."""

    def __init__(self, value, names, prefix, pbx, directory):
        self.value, self.names, self.prefix, self.pbx, self.directory = value, names, prefix, pbx, directory
        self.offline = pbx is None  # without the PBX's objects, a reference to one is not an error yet

    def errors(self, check, *args, **kwargs):
        """The errors of a validation check, each place named as the caller names it."""
        return [_renamed(message, self.names, self.prefix) for message in _errors(check, *args, **kwargs)]


def _endpoint_errors(urls, names):
    """The URL options' errors as the module's first check would raise them, named as the caller names them."""
    errors = []
    for option, schemes in URL_OPTIONS:
        if urls.get(option) is not None:
            try:
                Endpoint(option, str(urls[option]), schemes, label=(names or {}).get(option))
            except EndpointError as exc:
                errors.append(str(exc))
    return errors


def _template(call):
    value = call.value
    filters = call.pbx.get("filters") or [] if call.pbx is not None else [
        value.get(f) for f in ("call_filter", "call_forward_filter") if value.get(f)]
    return call.errors(validation.check_fields, TEMPLATES, value) + call.errors(
        validation.check_template, value, call.directory, filters, check_mode=call.offline)


def _port_license(call):
    """A user to create (a name; `names` names it as the operator does) and a free port license for it."""
    error = validation.check_port_license((call.pbx or {}).get("licenses"), call.value, call.directory.owner(
        validation.NAME, call.value) is not None, call.names or call.prefix)
    return [error] if error else []


# The check of each kind: the modules' own (module_utils/validation.py, the rules of the resource table's fields).
CHECKS = {
    "users": lambda call: call.errors(validation.check_users, call.value, call.directory, check_mode=call.offline),
    "hotdesk_registration": lambda call: call.errors(
        validation.check_hotdesk, [{"user": name, "registered": True} for name in call.value], call.directory,
        check_mode=call.offline),
    "config_template": _template,
    "pbx_settings": lambda call: call.errors(
        validation.check_settings, call.value, call.value.get("allow_ip_filter_any", False),
        "%s_allow_ip_filter_any" % call.prefix),
    "devices_category": lambda call: call.errors(validation.check_fields, CATEGORIES, call.value),
    "device_config": lambda call: call.errors(
        validation.check_fields, DEVICE_CONFIGS[call.value.get("type") or "phone"], call.value),
    "hotdesk_function_key": lambda call: call.errors(validation.check_function_key, **call.value),
    # a list of lines, names[i] naming line i
    "update_script": lambda call: _errors(validation.check_update_script, call.value, call.names),
    "port_license": _port_license,
    "connection": lambda call: _endpoint_errors(call.value, call.names) + call.errors(
        validation.check_connection_options, call.value),
}


def input_errors(value, kind, names=None, prefix=None, pbx=None, creates=None, wire_name_overrides=None):
    """The errors `kind`'s module would raise for `value`; with `pbx` (what innovaphone.pbx.pbx_info returned)
    also those against what the PBX holds, with the objects named in `creates` counted as existing.
    `names` names the places: a list names the entries of a list, a dict the fields of one entry."""
    if kind not in CHECKS:
        raise AnsibleFilterError("input_errors: unknown kind %r" % kind)
    wire_names.use(wire_name_overrides or {})
    return CHECKS[kind](_Call(value, names, prefix or kind, pbx, Directory.from_info(pbx or {}, creates or {})))


class FilterModule:
    def filters(self):
        return {"input_errors": input_errors}
