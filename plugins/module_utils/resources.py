# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One declarative entry per resource, PBX and Devices alike: identity, module fields <-> wire names, codecs, and
each field's module option (argument spec) and rule.

A record is a dict of module field names to normalised values; the codecs turn wire values (XML attribute
strings on the PBX, JSON values in the Devices app) into those values and back. The engine only ever compares
records; the backends only ever speak wire names. Documented wire names are spelt here, guesses come from
wire_names.py. A field's module option is its codec's (str for text, bool for a flag ...) with what the field adds
(required, default, no_log, choices); a module's argument spec is its resource's argument_spec() with the options
that are not fields (state ...). Every table checks itself when it is built.

Adding a field to a resource: its entry here (wire name, codec, option, rule), and its documentation in the
module's DOCUMENTATION, which tests/unit/plugins/modules/test_documented_options.py holds equal to the table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER, masked_script
from ansible_collections.innovaphone.pbx.plugins.module_utils.rules import (
    extension, ip_filter_entry, not_empty, not_negative, user_password)
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import WireName


def _same(value):
    return value


class Codec:
    """How a value of one kind reads from and writes to the wire, and how a wanted value is normalised
    before it is compared (the same normal form decode gives). `option` is the argument spec of a module option of
    this kind, `choices` the values a choice takes."""

    def __init__(self, decode, encode, normalise=_same, option=None, choices=None):
        self.decode = decode
        self.encode = encode
        self.normalise = normalise
        self.option = option or dict(type="str")
        self.choices = choices


# XML attributes (PBX): a string, "" or absent = empty.
TEXT = Codec(lambda wire: wire or "", lambda value: value or "")
BOOL = Codec(lambda wire: wire == "true", lambda value: "true" if value else "", option=dict(type="bool"))
INT = Codec(lambda wire: int(wire) if wire else 0, str, option=dict(type="int"))
STR_LIST = dict(type="list", elements="str")


def separated(separator):
    """A list joined by `separator` (a wire_names.WireName, read when used)."""
    def join(value):
        return separator.value.join(value)

    return Codec(lambda wire: wire.split(separator.value) if wire else [], join, option=STR_LIST)


def _decode_ip_filter(wire):
    entries = []
    for pair in (wire or "").split(","):
        if pair.strip():
            address, _sep, mask = pair.strip().partition("/")
            entries.append(ip_filter_entry({"address": address, "mask": mask}))
    return entries


# `<addr>/<mask>,...` (reference 2), each entry as network address and dotted mask (rules.ip_filter_entry), so
# that 10.0.0.0/8 on the PBX and 10.0.0.0 with 255.0.0.0 in the inventory are the same network.
IP_FILTER = Codec(_decode_ip_filter, lambda value: ",".join("%s/%s" % (e["address"], e["mask"]) for e in value),
                  lambda value: [ip_filter_entry(entry) for entry in value],
                  option=dict(type="list", elements="dict", options=dict(address=dict(type="str", required=True),
                                                                         mask=dict(type="str"))))

# JSON values (Devices app): an absent value reads as empty.
JSON_TEXT = Codec(lambda wire: wire or "", lambda value: value or "")
JSON_BOOL = Codec(bool, bool, option=dict(type="bool"))


def choice(mapping):
    """A value from a fixed set, spelt one way in the module and another on the wire."""
    wire_to_value = dict((wire, value) for value, wire in mapping.items())
    return Codec(lambda wire: wire_to_value.get(wire, wire), lambda value: mapping[value],
                 option=dict(type="str", choices=list(mapping)), choices=list(mapping))


def normalised_script(script):
    """One command per line, LF line ends, no trailing blanks or surrounding blank lines: how a script compares."""
    return "\n".join(line.rstrip() for line in (script or "").replace("\r\n", "\n").split("\n")).strip("\n")


SCRIPT = Codec(normalised_script, _same, normalised_script)
# The categories of a device configuration: category objects {id, name, config} on the wire, sorted names in a
# record. Encoding gives names only; the backend completes each with the category of that name.
CATEGORY_NAMES = Codec(lambda wire: sorted(c.get("name", "") for c in wire or []),
                       lambda names: [{"name": name} for name in names], lambda names: sorted(set(names)),
                       option=STR_LIST)


class Field:
    """A module field stored under one wire name. A secret never reads back in clear (it is not decoded) and
    shows as the placeholder; `shown` turns any other value into what results and diffs may show.

    `option` adds to the codec's argument spec of the module option (required, default, choices ...; a secret is
    no_log), False when the field is no module option of its own; `rule` (rules.py) checks a given value."""

    def __init__(self, name, wire, codec=TEXT, secret=False, shown=None, unique=None, vacant=None, option=None,
                 rule=None):
        self.name = name
        self._wire = wire
        self.codec = codec
        self.secret = secret
        self.shown = shown
        # A value only one object may hold (`unique` folds it for comparing, as the PBX compares it), and the value
        # that gives it up for a moment (None: it cannot be empty), so that writes can pass values around.
        self.unique = unique
        self.vacant = vacant
        self.option = option
        self.rule = rule

    @property
    def argument_spec(self):
        """The module option's argument spec, None when the field is not a module option."""
        if self.option is False:
            return None
        spec = copy.deepcopy(self.codec.option)
        if self.secret:
            spec["no_log"] = True
        spec.update(copy.deepcopy(self.option or {}))
        return spec

    @property
    def wire(self):
        """The wire name: a documented one, or the current value of a wire_names.WireName."""
        return self._wire.value if isinstance(self._wire, WireName) else self._wire

    @property
    def wire_names(self):
        return (self.wire,)

    @property
    def wire_refs(self):
        """The wire names as declared: documented strings, or wire_names.WireName for the guesses."""
        return (self._wire,)

    @property
    def readable(self):
        return not self.secret

    def read(self, wire_values):
        return self.codec.decode(wire_values.get(self.wire))

    def write(self, value):
        return {self.wire: self.codec.encode(value)}

    def public(self, value):
        if self.secret:
            return PLACEHOLDER if value else value
        return self.shown(value) if self.shown and value else value


class Group(Field):
    """A module field whose suboptions are stored under a wire name each, e.g. a phone's gatekeeper."""

    def __init__(self, name, wires, codec):
        super(Group, self).__init__(name, None, codec)
        self.wires = wires

    @property
    def argument_spec(self):
        options = dict((option, copy.deepcopy(self.codec.option)) for option, _wire in self.wires)
        return dict(type="dict", options=options)

    @property
    def wire_names(self):
        return tuple(wire for _option, wire in self.wires)

    @property
    def wire_refs(self):
        return self.wire_names

    def read(self, wire_values):
        return dict((option, self.codec.decode(wire_values.get(wire))) for option, wire in self.wires)

    def write(self, value):
        return dict((wire, self.codec.encode(value[option])) for option, wire in self.wires if option in value)


class State(Field):
    """A field a backend derives from what it reads (no wire name of its own), such as whether a user has
    its hot-desking device."""

    def __init__(self, name, codec, meaning, follows=False):
        super(State, self).__init__(name, None, codec)
        self.meaning = meaning
        # Derived from the stored fields of the same record (a layer lacking a value): a write that did not keep
        # a stored field is named by that field first.
        self.follows = follows

    wire_names = ()
    wire_refs = ()
    readable = False
    argument_spec = None

    def write(self, value):
        return {}


class Resource:
    def __init__(self, name, key, fields):
        self.name = name
        self.key = key
        self.fields = fields
        self.by_name = dict((f.name, f) for f in fields)
        self._check()

    def _check(self):
        """The table is consistent, or the collection does not import at all."""
        problems = []
        names = [f.name for f in self.fields]
        wires = [wire for f in self.fields for wire in f.wire_names]
        if self.key not in names:
            problems.append("its key %r is not a field" % self.key)
        problems.extend("field %r is declared twice" % n for n in sorted(set(n for n in names if names.count(n) > 1)))
        problems.extend("wire name %r is used twice" % w for w in sorted(set(w for w in wires if wires.count(w) > 1)))
        problems.extend("field %r has no wire name" % f.name for f in self.fields
                        if not isinstance(f, State) and not all(f.wire_names))
        problems.extend("secret field %r is derived, not stored" % f.name for f in self.fields
                        if f.secret and isinstance(f, State))
        for f in self.fields:
            spec = f.argument_spec or {}
            if f.secret and not spec.get("no_log"):
                problems.append("secret field %r is not no_log" % f.name)
            if spec.get("no_log") and not (f.secret or f.shown):
                problems.append("no_log field %r is neither secret nor shown masked" % f.name)
            if f.codec.choices is not None and spec.get("choices") != f.codec.choices:
                problems.append("field %r offers choices %r, its codec takes %r" % (
                    f.name, spec.get("choices"), f.codec.choices))
            if f.rule is not None and not callable(f.rule):
                problems.append("the rule of field %r is not a function" % f.name)
        if problems:
            raise ValueError("resource %s: %s" % (self.name, "; ".join(problems)))

    @property
    def unique_fields(self):
        return [f for f in self.fields if f.unique]

    @property
    def secret_fields(self):
        return frozenset(f.name for f in self.fields if f.secret)

    def field(self, name):
        return self.by_name[name]

    def wire_of(self, name):
        """The wire name of field `name`."""
        return self.by_name[name].wire

    def argument_spec(self, **extras):
        """The module options of the fields (suboptions of a list entry, or a module's own), and `extras`, the
        options that are not fields."""
        spec = dict((f.name, f.argument_spec) for f in self.fields if f.argument_spec is not None)
        spec.update(extras)
        return spec

    def broken_rules(self, entry, names=None):
        """(field, message) for each given value of `entry` (of the fields `names`, default all) its field's rule
        refuses, in the table's order."""
        return [(f.name, problem) for f in self.fields
                if f.rule and (names is None or f.name in names) and entry.get(f.name) is not None
                for problem in [f.rule(entry[f.name])] if problem]

    def decode(self, wire_values):
        """A record from a {wire name: value} mapping (absent names read as empty); no secrets, no derived state."""
        return dict((f.name, f.read(wire_values)) for f in self.fields if f.readable)

    def encode(self, record):
        """{wire name: value} for the fields present in a record (empty where the value is empty)."""
        wire = {}
        for f in self.fields:
            if f.name in record:
                wire.update(f.write(record[f.name]))
        return wire

    def normalised(self, entry):
        """A wanted entry in the normal form decode gives, so that equal values compare equal."""
        return dict((name, self.by_name[name].codec.normalise(value) if name in self.by_name else value)
                    for name, value in entry.items())

    def public(self, record):
        """A record fit for results and diffs: secrets as the placeholder, scripts masked."""
        return dict((f.name, f.public(record[f.name])) for f in self.fields if f.name in record)


# --- PBX objects (SOAP Admin(), reference 1.1 and 1.2) ----------------------------------------------------------
TEMPLATES = Resource("templates", "name", [
    Field("name", "cn", option=dict(required=True), rule=not_empty),
    Field("call_filter", "filter"),
    Field("call_forward_filter", "cd-filter"),
    Field("store_phone_config", WireName("template", "store_phone_config"), BOOL),
    Field("inherit", "config", separated(WireName("template", "inherit_separator")), option=dict(default=[])),
    Field("description", "text"),
])

USERS = Resource("users", "name", [
    Field("name", "h323", option=dict(required=True), rule=not_empty),
    Field("long_name", "cn", unique=str.lower),
    Field("display_name", "dn"),
    Field("extension", "e164", unique=str, vacant="", rule=extension),
    Field("password", "pwd", secret=True, rule=user_password),
    Field("hide_from_ldap", "hide", BOOL),
    Field("template", "config"),
])

# A hot-desking registration is the <device> of a user whose hw is the user's own h323 name (contract 2); `user`
# is read from the user, the other fields from that device and its flags (reference 1.1 and 1.4).
HOTDESK_REGISTRATIONS = Resource("registrations", "user", [
    Field("user", "h323", option=False, rule=not_empty),   # the module's `users` lists them
    State("registered", BOOL, "the user has its hot-desking <device>"),
    State("duplicates", INT, "how many more hot-desking <device>s the user has than one (the same hw id again)"),
    Field("app", "app"),
    Field("text", "text"),
    Field("trusted", "trusted", BOOL),
    Field("tls", "tls", BOOL),
    Field("no_filter", "no-filter", BOOL),
])

PBX_SETTINGS = Resource("settings", "module", [
    State("module", TEXT, "the cfg.txt module line the flags are on (PBX0)"),
    Field("registrations_without_password", WireName("config", "registrations_without_password"), INT,
          option=dict(no_log=False), rule=not_negative),
    Field("ip_filter", WireName("config", "ip_filter"), IP_FILTER),
    State("unwritten", BOOL, "the written layer differs from the current one, config write is pending (contract 4)",
          follows=True),
    State("inactive", BOOL, "the active layer differs from the current one, config activate is pending (contract 4)",
          follows=True),
])

# --- Devices app objects (reference 4, the 13r2 SDK's category and device configuration objects) ------------------
CATEGORIES = Resource("categories", "name", [
    Field("name", "name", JSON_TEXT, option=dict(required=True), rule=not_empty),
    Field("provisioning", "config", JSON_BOOL),
])

# The device configuration types the modules manage, module name -> documented `type`.
CONFIG_TYPES = {"phone": "PHONE", "expert": "EXPERT"}


def _device_configs(fields):
    """A device configuration resource: the common fields, then those of its type (flat beside them)."""
    return Resource("device_configs", "name", [
        Field("name", "desc", JSON_TEXT, option=dict(required=True), rule=not_empty),
        Field("type", "type", choice(CONFIG_TYPES), option=dict(required=True)),
        Field("categories", "categories", CATEGORY_NAMES),
    ] + fields)


DEVICE_CONFIGS = {
    "phone": _device_configs([
        Group("gatekeeper", (("id", "gkId"), ("primary", "gk1"), ("secondary", "gk2")), JSON_TEXT),
        Field("coder", "coder", JSON_TEXT, option=dict(choices=["G711A", "G711u", "G722", "OPUS-NB", "OPUS-WB"])),
        Field("protect_config", "protectCfg", JSON_BOOL),
        Field("allow_user_config", "allowUserCfg", JSON_BOOL),
    ]),
    # The script usually carries a password; it is compared in clear and shown masked.
    "expert": _device_configs([Field("script", "script", SCRIPT, shown=masked_script, option=dict(no_log=True))]),
}
# The options only one type of device configuration has, by type (the others all types have).
_COMMON = set.intersection(*(set(resource.by_name) for resource in DEVICE_CONFIGS.values()))
TYPE_OPTIONS = dict((kind, tuple(f.name for f in resource.fields if f.name not in _COMMON))
                    for kind, resource in DEVICE_CONFIGS.items())
