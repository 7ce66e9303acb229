# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Phones as the Devices app and the PBX see them together: which registration belongs to which device, and the
reset that ends a hot-desk login (devices_info, phone_reset).

A phone registers its primary user with its own hardware id; a hot-desk login registers the user with the user's
own name as hardware id (contract 2 and 7), so the PBX ties it to the phone only by the address it comes from.
A registration from an address that several devices share (phones behind one NAT or reverse proxy) belongs to none
of them: it is reported as ambiguous, never guessed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import WireName, named, see_docs

# The reset commands of a device (reference 5, DOC: `ireset` as soon as it is not in use, `reset` at once), sent as
# `/!<command>` through the Devices passthrough (INFERRED).
RESETS = {"when_idle": "ireset", "now": "reset"}


def addresses(device, registrations):
    """The addresses of a device: its ethernet interfaces, and where its own registrations come from."""
    found = set()
    for interface in device.get("ethIfs") or []:
        found.update(interface.get(family) for family in ("ipv4", "ipv6") if interface.get(family))
    hw_id = str(device.get("hwId", "")).lower()
    found.update(reg["address"] for reg in registrations if reg["hw"].lower() == hw_id and reg["address"])
    return found


def phone_states(devices, registrations):
    """{hwId: {registrations: [{user, hotdesk}], hotdesk_user, ambiguous}} for every device."""
    by_address = {}
    device_addresses = {}
    for device in devices:
        device_addresses[device["hwId"]] = addresses(device, registrations)
        for address in device_addresses[device["hwId"]]:
            by_address.setdefault(address, set()).add(device["hwId"])
    states = {}
    for device in devices:
        hw_id, own = device["hwId"], device_addresses[device["hwId"]]
        shared = any(len(by_address[address]) > 1 for address in own)
        mine = [reg for reg in registrations if reg["hw"].lower() == hw_id.lower()
                or (reg["address"] in own and reg["hotdesk"] and not shared)]
        # The phone's own registration first, then its hot-desk logins, however the PBX listed them.
        mine.sort(key=lambda reg: reg["hw"].lower() != hw_id.lower())
        hotdesk = [reg["user"] for reg in mine if reg["hotdesk"]]
        states[hw_id] = {
            "registrations": [{"user": reg["user"], "hotdesk": reg["hotdesk"]} for reg in mine],
            "hotdesk_user": hotdesk[0] if hotdesk else None,
            # Hot-desk logins from an address this phone shares with another device cannot be told apart.
            "ambiguous": shared and any(reg["hotdesk"] and reg["address"] in own for reg in registrations),
        }
    return states


def unplaced_logins(registrations):
    """Why hot-desk logins cannot be tied to a phone, or None: a login whose registration shows no address (the
    phone is the device whose ethIfs[].ipv4 is that address, reference 6.4)."""
    users = sorted(set(reg["user"] for reg in registrations if reg["hotdesk"] and not reg["address"]))
    if not users:
        return None
    address = WireName("registration", "address")
    return ("the registrations of the hot-desk logins of %s have no address (%s), so the phones they are on cannot "
            "be found%s" % (", ".join(users), named(address), see_docs(address)))


def device_info(device, state):
    """A device as devices_info and phone_reset return it."""
    return dict(state, hw_id=device.get("hwId"), name=device.get("name", ""), product=device.get("product", ""),
                version=device.get("version", ""), type=device.get("type", ""), online=bool(device.get("online")))


def reset(devices, hw_id, when):
    """Reset one phone through the passthrough; the phone's answer text (an `error …` answer raises)."""
    command = RESETS[when]
    try:
        return cfgtxt.command_result(devices.passthrough(hw_id, "!" + command))
    except cfgtxt.CommandError as exc:
        raise devices.error("phone %s refused %s: %s" % (hw_id, command, exc))
