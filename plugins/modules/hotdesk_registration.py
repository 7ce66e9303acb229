#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hotdesk_registration
short_description: Manage the hot-desking registrations (hardware ids) of innovaphone PBX users
version_added: 0.1.0
description:
  - Does what Users Admin "Register phones, + Hotdesking registration" does for a list of users. Each user
    gets a device entry whose hardware id is the user's own name, for the phone app, so that the user can
    log in on a hot-desking phone.
  - Reads every PBX object in one bulk request and writes one SOAP C(modify) per user that must change,
    keeping every other device entry, attribute and child of the user.
  - A user holding its hot-desking hardware id more than once (an C(add-attrib) carried out twice, by a retry
    after a timeout or by two runs at once) is drift (C(duplicates) in RV(registrations)); the module keeps the first
    device entry and removes the others.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx
  - innovaphone.pbx.connection.pbx_login
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.converge
options:
  users:
    description:
      - Usernames (H.323 names) of the users. With O(state=present) every user must exist, and no other
        user may hold a device with that hardware id. In check mode a missing user is only a warning, since
        an earlier task may create it.
      - A username the PBX holds spelt in another case is an error.
    type: list
    elements: str
    required: true
  app:
    description:
      - The phone app of the registration.
      - When not given, the one Users Admin writes, V(phone) (the wire-name entry C(hotdesk.device_app)).
    type: str
  text:
    description:
      - Description of the device entry.
      - When not given, the one Users Admin writes, V(Hotdesking) (the wire-name entry C(hotdesk.device_text)).
    type: str
  trusted:
    description:
      - The device flag "registration from trusted reverse proxy allowed" (C(trusted)). The how-to says a
        registration that passes a reverse proxy fails without it.
      - When not given, it is left as it is (a new registration gets none).
      - Over PbxAdminApi (O(pbx_api)) the module reads the reverse proxies the PBX knows (C(GetRPs)) and warns when
        there are any and a registration of O(users) would be without this flag. SOAP has no documented read of
        them, so over SOAP there is no such warning.
    type: bool
  tls:
    description:
      - The device flag "only registration with verified TLS certificate, or from trusted reverse proxy allowed"
        (C(tls)).
      - When not given, it is left as it is (a new registration gets none).
    type: bool
  no_filter:
    description:
      - The device flag "registration allowed for endpoints not matching the registration address filter"
        (C(no-filter)), which lets these logins pass the IP filter of the PBX.
      - When not given, it is left as it is (a new registration gets none).
    type: bool
  state:
    description:
      - Whether the users should have a hot-desking registration.
    type: str
    choices: [present, absent]
    default: present
  report_unchanged:
    description:
      - With V(false) the result lists only the registrations that changed (would change, in check mode), which keeps a run over
        thousands of them fast when little changes; with V(true) every one listed.
    type: bool
    default: false
  parallel:
    description:
      - How many writes go to the PBX at once (over SOAP each on its own connection, over PbxAdminApi in flight
        together on the one WebSocket); V(1) writes one after the other. Every
        entry is checked before the first write, so writes at once keep the PBX's rules; an error still names its
        entry, and a re-run converges.
    type: int
    default: 4
  exclusive:
    description:
      - With V(true), also remove the hot-desking registration of every user not in O(users). A hot-desking
        registration is the C(<device>) whose hardware id is the user's own name; a user's other devices (real
        phones by their MAC) are never touched.
      - With V(false) those registrations are kept, and listed in RV(unlisted).
      - Only with O(state=present).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Let the Hot Desk Base user and two colleagues use hot desking, and nobody else
  module_defaults:
    group/innovaphone.pbx.pbx:
      url: https://pbx.example.com
      password: "{{ pbx_admin_password }}"
  innovaphone.pbx.hotdesk_registration:
    users: [hot-desk-base, alice, bob]
    exclusive: true

- name: Hot desking for phones that reach the PBX through a reverse proxy
  innovaphone.pbx.hotdesk_registration:
    url: https://pbx.example.com
    password: "{{ pbx_admin_password }}"
    users: [hot-desk-base, carol]
    trusted: true

- name: Take hot desking away from a user
  innovaphone.pbx.hotdesk_registration:
    url: https://pbx.example.com
    password: "{{ pbx_admin_password }}"
    users: [bob]
    state: absent
"""

RETURN = r"""
registrations:
  description:
    - The hot-desking registrations that changed, after the run (as they would be, in check mode); of every user
      concerned with O(report_unchanged).
    - C(registered) says that the user has its hot-desking hardware id (it may log in at a hot desk), not that it
      is logged in anywhere; C(duplicates) how many more device entries with that hardware id the user has.
  returned: always
  type: list
  elements: dict
  sample:
    - user: alice
      registered: true
      duplicates: 0
      app: phone
      text: Hotdesking
      trusted: false
      tls: false
      no_filter: false
unlisted:
  description:
    - The users not in O(users) that had a hot-desking registration when the module read the PBX, sorted; with
      O(exclusive) their registrations were removed (would be, in check mode), else kept.
    - Empty with O(state=absent).
  returned: always
  type: list
  elements: str
  sample: [carol]
changes:
  description: What was changed (would be, in check mode), one entry per user.
  returned: always
  type: list
  elements: dict
  sample:
    - user: bob
      action: update
      fields: [registered]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    LIST_ARGUMENT_SPEC, STATE_OPTION, connect, pbx_module, run)
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import DEVICE_FIELDS, HotdeskBackend
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import HOTDESK_REGISTRATIONS
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import (
    check_hotdesk, check_hotdesk_options, check_list_options, untrusted_registration_warning)
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import HOTDESK


ARGUMENT_SPEC = HOTDESK_REGISTRATIONS.argument_spec(
    users=dict(type="list", elements="str", required=True),
    state=STATE_OPTION,
    exclusive=dict(type="bool", default=False),
    **LIST_ARGUMENT_SPEC
)


def wanted(params, current):
    """One entry per user concerned: the listed users, and with `exclusive` every other registered user."""
    if params["state"] == "absent":
        return [{"user": name, "registered": False} for name in params["users"]]
    device = dict((field, params[field]) for field in DEVICE_FIELDS)
    device["app"] = device["app"] or HOTDESK["device_app"]
    device["text"] = device["text"] or HOTDESK["device_text"]
    # A user holding its hot-desking hardware id twice (a retried or concurrent add) is drift: one device stays.
    entries = [dict(device, user=name, registered=True, duplicates=0) for name in params["users"]]
    if params["exclusive"]:
        entries.extend({"user": name, "registered": False} for name in unlisted(params, current))
    return entries


def converge(module):
    check_hotdesk_options(module.params)
    check_list_options(module.params)
    pbx = connect(module)
    if reads_reverse_proxies(module.params):
        pbx.read_ahead("reverse_proxies")
    backend = HotdeskBackend(pbx)
    engine = Engine(HOTDESK_REGISTRATIONS, backend, module.check_mode, module._diff,
                    report_unchanged=module.params["report_unchanged"], parallel=module.params["parallel"])
    current = engine.read()
    entries = wanted(module.params, current)
    warning = reverse_proxy_warning(module.params, pbx, current)  # read before the first write: it may fail
    # A user that does not exist has no registration to remove; errors still count the entries as given.
    result = engine.converge([e for e in entries if e["registered"] or e["user"] in current], current,
                             validate=lambda _entries, _current: check_hotdesk(
                                 entries, backend.directory, check_mode=module.check_mode))
    result["unlisted"] = unlisted(module.params, current)
    if warning:
        result.setdefault("warnings", []).append(warning)
    return result


def reverse_proxy_warning(params, pbx, current):
    """With reverse proxies on the PBX, registrations of `users` without trusted fail through them (the how-to):
    the warning, or None. Not given, trusted stays as the PBX has it: a warning if a registration lacks it."""
    if not reads_reverse_proxies(params):
        return None     # nothing to read
    all_trusted_now = all(current.get(name, {}).get("registered") and current[name].get("trusted")
                          for name in params["users"])
    rps = pbx.reverse_proxies()     # None over SOAP: no documented read
    return untrusted_registration_warning(rps, params["trusted"], "trusted (hotdesking_registration_trusted in the "
                                          "role)", all_trusted_now)


def reads_reverse_proxies(params):
    return params["state"] == "present" and not params["trusted"]


def unlisted(params, current):
    """The users not in `users` that have a hot-desking registration now (none to tell with state=absent)."""
    if params["state"] == "absent":
        return []
    listed = set(params["users"])
    return [name for name in sorted(current) if current[name]["registered"] and name not in listed]


def main():
    module = pbx_module(ARGUMENT_SPEC)
    run(module, lambda: converge(module))


if __name__ == "__main__":
    main()
