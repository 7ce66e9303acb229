# -*- coding: utf-8 -*-
# Copyright: innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the modules would refuse in their input, checked before a run writes anything: the modules' own rules
(module_utils/validation.py), with each error named as the caller names the value (a role's variable)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.innovaphone.pbx.plugins.module_utils import validation, wire_names
from ansible_collections.innovaphone.pbx.plugins.module_utils.endpoint import URL_OPTIONS, Endpoint, EndpointError
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Directory

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


def _errors(check):
    try:
        check()
    except validation.ValidationError as exc:
        return exc.errors
    return []


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


def input_errors(value, kind, names=None, prefix=None, pbx=None, creates=None, wire_name_overrides=None):
    """The errors `kind`'s module would raise for `value`; with `pbx` (what innovaphone.pbx.pbx_info returned)
    also those against what the PBX holds, with the objects named in `creates` counted as existing.
    `names` names the places: a list names the entries of a list, a dict the fields of one entry."""
    wire_names.use(wire_name_overrides or {})
    directory = Directory.from_info(pbx or {}, creates or {})
    offline = pbx is None  # without the PBX's objects, a reference to one is not an error yet
    if kind == "users":
        errors = _errors(lambda: validation.check_users(value, directory, check_mode=offline))
    elif kind == "hotdesk_registration":
        entries = [{"user": name, "registered": True} for name in value]
        errors = _errors(lambda: validation.check_hotdesk(entries, directory, check_mode=offline))
    elif kind == "config_template":
        filters = pbx.get("filters") or [] if pbx is not None else [
            value.get(f) for f in ("call_filter", "call_forward_filter") if value.get(f)]
        errors = _errors(lambda: validation.check_names(value, ["name"]))
        errors += _errors(lambda: validation.check_template(value, directory, filters, check_mode=offline))
    elif kind == "pbx_settings":
        errors = _errors(lambda: validation.check_settings(
            value, value.get("allow_ip_filter_any", False), "%s_allow_ip_filter_any" % (prefix or kind)))
    elif kind in ("devices_category", "device_config"):
        errors = _errors(lambda: validation.check_names(value, ["name"]))
    elif kind == "hotdesk_function_key":
        errors = _errors(functools.partial(validation.check_function_key, **value))
    elif kind == "update_script":  # a list of lines, names[i] naming line i
        return _errors(lambda: validation.check_update_script(value, names))
    elif kind == "port_license":  # a user to create, named names (a string); pbx with its users and licenses
        error = validation.check_port_license((pbx or {}).get("licenses"), value,
                                              directory.owner("h323", value) is not None, names or prefix or kind)
        return [error] if error else []
    elif kind == "connection":
        errors = _errors(lambda: validation.check_connection_options(value))
        return _endpoint_errors(value, names) + [_renamed(message, names, prefix or kind) for message in errors]
    else:
        raise AnsibleFilterError("input_errors: unknown kind %r" % kind)
    return [_renamed(message, names, prefix or kind) for message in errors]


class FilterModule:
    def filters(self):
        return {"input_errors": input_errors}
