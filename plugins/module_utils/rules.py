# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of single values: what the resource table gives a field (Field.rule) and the IP filter's normal form.

A rule takes a given value (never None) and returns what is wrong with it in one line, or None. The messages are
the modules' own: validation.py prefixes them with the entry and field they belong to. Kept apart from
validation.py, which reads the resource table, so that the table can use them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.innovaphone.pbx.plugins.module_utils.crypto import MAX_USER_PASSWORD

EXTENSION = re.compile(r"^[0-9#*]+$")


def not_empty(value):
    """A name the PBX or the Devices app keys an object by: one that is blank would be refused only after the writes
    before it, or make an object nobody can name."""
    return None if str(value).strip() else "must not be empty"


def extension(value):
    return "%r may hold only digits, # and *" % value if value and not EXTENSION.match(value) else None


def user_password(value):
    if len(value.encode("utf-8")) > MAX_USER_PASSWORD:
        return "at most %d bytes, the PBX's limit (in UTF-8); the PBX would cut a longer one short" % MAX_USER_PASSWORD
    return None


def not_negative(value):
    return "must be 0 or more, not %d" % value if value < 0 else None


def ip_filter_network(entry):
    """The IPv4 network of an IP filter entry {address, mask}: the address in CIDR form (10.0.0.0/8), or an address and
    a mask, dotted (255.0.0.0) or as a prefix length (8, /8). ValueError says in one line what is wrong."""
    address = str(entry.get("address") or "").strip()
    mask = "" if entry.get("mask") is None else str(entry["mask"]).strip()
    if not address:
        raise ValueError("no address: give the network, such as address: 192.0.2.0/24")
    if "/" in address:
        if mask:
            raise ValueError("%s already has a mask after '/', so mask %s is one too many" % (address, mask))
        address, _slash, mask = address.partition("/")
    elif not mask:
        raise ValueError("%s has no mask: give one (mask: 255.255.255.0) or write the address as CIDR "
                         "(192.0.2.0/24)" % address)
    try:
        return ipaddress.IPv4Network("%s/%s" % (address, mask[1:] if mask.startswith("/") else mask), strict=False)
    except ValueError as exc:
        raise ValueError("not an IPv4 address and mask: %s" % exc)


def ip_filter_entry(entry):
    """An IP filter entry in the one form written to the PBX and compared: network address and dotted mask, as the
    PBX shows them (PBX/Config/Filter); an entry that is not one stays as it is."""
    try:
        network = ip_filter_network(entry)
    except ValueError:
        return {"address": entry.get("address"), "mask": entry.get("mask")}
    return {"address": str(network.network_address), "mask": str(network.netmask)}
