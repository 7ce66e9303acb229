# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One declarative entry per resource: identity, module fields <-> wire names, value codecs, secrets.

A record is a dict of module field names to normalised values; the codecs turn wire strings into those
values and back. The engine only ever compares records; the backends only ever speak wire names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import CONFIG, HOTDESK, TEMPLATE


class Codec:
    """How a value of one kind reads from and writes to its wire string ("" = absent)."""

    def __init__(self, decode, encode):
        self.decode = decode
        self.encode = encode


TEXT = Codec(lambda wire: wire or "", lambda value: value or "")
BOOL = Codec(lambda wire: wire == "true", lambda value: "true" if value else "")
INT = Codec(lambda wire: int(wire) if wire else 0, str)


def separated(separator):
    return Codec(lambda wire: wire.split(separator) if wire else [], separator.join)


def _decode_ip_filter(wire):
    entries = []
    for pair in (wire or "").split(","):
        if pair:
            address, _sep, mask = pair.partition("/")
            entries.append({"address": address, "mask": mask})
    return entries


IP_FILTER = Codec(_decode_ip_filter, lambda value: ",".join("%s/%s" % (e["address"], e["mask"]) for e in value))


class Field:
    def __init__(self, name, wire, codec=TEXT, secret=False):
        self.name = name
        self.wire = wire
        self.codec = codec
        self.secret = secret


class Resource:
    def __init__(self, name, key, fields):
        self.name = name
        self.key = key
        self.fields = fields

    @property
    def secret_fields(self):
        return frozenset(f.name for f in self.fields if f.secret)

    def field(self, name):
        return next(f for f in self.fields if f.name == name)

    def decode(self, wire_values):
        """A record from a {wire name: string} mapping (absent names read as empty)."""
        return dict((f.name, f.codec.decode(wire_values.get(f.wire))) for f in self.fields if f.wire and not f.secret)

    def encode(self, record):
        """{wire name: string} for the fields present in a record ("" where the value is empty)."""
        return dict((f.wire, f.codec.encode(record[f.name])) for f in self.fields if f.wire and f.name in record)


TEMPLATES = Resource("templates", "name", [
    Field("name", "cn"),
    Field("call_filter", "filter"),
    Field("call_forward_filter", "cd-filter"),
    Field("store_phone_config", TEMPLATE["store_phone_config"], BOOL),
    Field("inherit", "config", separated(TEMPLATE["inherit_separator"])),
])

USERS = Resource("users", "name", [
    Field("name", "h323"),
    Field("long_name", "cn"),
    Field("display_name", "dn"),
    Field("extension", "e164"),
    Field("password", "pwd", secret=True),
    Field("hide_from_ldap", "hide", BOOL),
    Field("template", "config"),
])

# A hot-desking registration is the <device> of a user whose hw is the user's own h323 name (contract 2).
HOTDESK_REGISTRATIONS = Resource("registrations", "user", [
    Field("user", "h323"),
    Field("registered", None, BOOL),
    Field("app", "app"),
    Field("text", "text"),
])
HOTDESK_DEFAULTS = {"app": HOTDESK["device_app"], "text": HOTDESK["device_text"]}

# `unwritten` / `inactive`: the written / active layer lacks a wanted value (contract 4); no wire name.
PBX_SETTINGS = Resource("settings", "module", [
    Field("module", None),
    Field("registrations_without_password", CONFIG["registrations_without_password"], INT),
    Field("ip_filter", CONFIG["ip_filter"], IP_FILTER),
    Field("unwritten", None, BOOL),
    Field("inactive", None, BOOL),
])
