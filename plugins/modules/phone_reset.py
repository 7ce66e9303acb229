#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: phone_reset
short_description: Reset innovaphone phones through the Devices app, to end their hot-desk logins
version_added: 0.1.0
description:
  - The how-to's limitation, "There is no automatic logout", in a task - the PBX cannot end a hot-desk login, a
    reset of the phone does. The module sends the phones of O(categories) and O(hw_ids) the reset command
    through the Devices app (its device passthrough, with the session key of C(GetUserInfo)).
  - By default (O(only_logged_in=true)) only phones that have a hot-desk login at that moment are reset, as the PBX
    registrations show (O(url), O(password) are then needed), so a run where nobody is logged in changes nothing.
    A hot-desk login is a registration of a user whose hardware id is the user's own name; it is tied to a phone by
    the address it registers from. A login from an address that several devices share is reported as ambiguous
    and that phone is left alone. A registrations read that does not show what tells a login (the user, the
    hardware id, the address) fails the task naming the wire names it missed, and no phone is reset.
  - An offline phone is reported, not an error. In check mode nothing is sent; the result names the phones that
    would be reset.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx_optional
  - innovaphone.pbx.connection.pbx_login
  - innovaphone.pbx.devices
  - innovaphone.pbx.attributes
options:
  categories:
    description:
      - The phones of these categories (names), for example the hot-desking category of the how-to.
      - At least one of O(categories) and O(hw_ids) is required.
    type: list
    elements: str
  hw_ids:
    description:
      - The phones with these hardware ids; with O(categories), only those of them in the categories.
    type: list
    elements: str
  reset:
    description:
      - V(when_idle) resets a phone as soon as it is not in use (C(ireset)), V(now) at once (C(reset)), a call
        in progress or not.
    type: str
    choices: [when_idle, now]
    default: when_idle
  only_logged_in:
    description:
      - Reset only the phones with a hot-desk login now. With V(false) every phone targeted is reset (no PBX
        connection needed), and the task always reports a change.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details:
      - Sends nothing and reports the phones that would be reset.
  diff_mode:
    support: none
notes:
  - A reset with O(reset=when_idle) may happen later than the task, when the phone is no longer in use; the task
    reports the command as sent.
"""

EXAMPLES = r"""
- name: Log out every hot-desking phone where somebody is logged in (the nightly job)
  innovaphone.pbx.phone_reset:
    devices_url: wss://ap.example.com/example.com/devices
    devices_password: "{{ vault_devices_password }}"
    url: https://pbx.example.com
    password: "{{ vault_pbx_admin_password }}"
    categories: [PBX1 Hotdesking]

- name: Reset one phone at once, logged in or not
  innovaphone.pbx.phone_reset:
    devices_url: wss://ap.example.com/example.com/devices
    devices_password: "{{ vault_devices_password }}"
    hw_ids: ["009033400001"]
    only_logged_in: false
    reset: now
"""

RETURN = r"""
phones:
  description: Every phone targeted, with what happened to it.
  returned: always
  type: list
  elements: dict
  contains:
    hw_id:
      description: Hardware id.
      type: str
      sample: "009033400001"
    online:
      description: Whether the phone is connected to the Devices app.
      type: bool
    hotdesk_user:
      description: The user of its hot-desk login before the reset, or null (with O(only_logged_in)).
      type: str
      sample: alice
    action:
      description:
        - V(reset) (the command was sent), V(would reset) (check mode), V(not logged in), V(ambiguous) (a login
          from a shared address), V(offline).
      type: str
      sample: reset
reset:
  description: The hardware ids of the phones reset (that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["009033400001"]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    OPTIONAL_PBX_ARGUMENT_SPEC, connect_optional_pbx, devices_module, run_devices)
from ansible_collections.innovaphone.pbx.plugins.module_utils.phones import (
    device_info, phone_states, reset, unplaced_logins)
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import check_phone_reset


def action(phone, only_logged_in, check_mode):
    """What is done to a phone, and whether that is a reset."""
    if not phone["online"]:
        return "offline"
    if only_logged_in and phone["ambiguous"]:
        return "ambiguous"
    if only_logged_in and not phone["hotdesk_user"]:
        return "not logged in"
    return "would reset" if check_mode else "reset"


def reset_phones(module, devices):
    params = module.params
    check_phone_reset(params)
    pbx = connect_optional_pbx(module)
    found = devices.devices(params["categories"], params["hw_ids"])
    registrations = pbx.registrations() if pbx else []
    unplaced = unplaced_logins(registrations)
    if unplaced and params["only_logged_in"]:
        # A phone left logged in must not pass as "not logged in": nothing is reset, the run fails.
        raise pbx.client.error("%s; no phone was reset" % unplaced)
    states = phone_states(found, registrations)
    phones = []
    for device in found:
        phone = device_info(device, states[device["hwId"]])
        phone["action"] = action(phone, params["only_logged_in"], module.check_mode)
        if phone["action"] == "reset":
            reset(devices, phone["hw_id"], params["reset"])
        phones.append(dict((k, phone[k]) for k in ("hw_id", "name", "online", "hotdesk_user", "action")))
    done = [p["hw_id"] for p in phones if p["action"] in ("reset", "would reset")]
    return {"changed": bool(done), "reset": done, "phones": phones}


def main():
    spec = dict(OPTIONAL_PBX_ARGUMENT_SPEC)
    spec.update(
        categories=dict(type="list", elements="str"),
        hw_ids=dict(type="list", elements="str"),
        reset=dict(type="str", choices=["when_idle", "now"], default="when_idle"),
        only_logged_in=dict(type="bool", default=True),
    )
    module = devices_module(spec, required_one_of=[("categories", "hw_ids")])
    run_devices(module, lambda devices: reset_phones(module, devices))


if __name__ == "__main__":
    main()
