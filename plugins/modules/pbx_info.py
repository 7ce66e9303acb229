#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pbx_info
short_description: Read the hot-desking state of an innovaphone PBX
version_added: 0.1.0
description:
  - Returns the config templates, the users with their device entries and hot-desking registration, the
    security settings, the call filters and the current registrations of a PBX, each read in bulk. Over SOAP a
    fixed handful of requests whatever the number of users, over PbxAdminApi one PbxTableUsers replication, the
    templates (C(GetConfigObjects)) and the registrations (C(GetRegs) of each user, many in flight at once).
  - Over PbxAdminApi (O(pbx_api)) also the PBX's licenses and reverse proxies, one request each; SOAP has no
    documented read of them, so there they are V(null).
  - Passwords are never returned.
  - O(query) selects from that with a JMESPath expression.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx
  - innovaphone.pbx.connection.pbx_login
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.info_module
options:
  pbx_password:
    description:
      - The PBX password (reference 1.3, the one that unlocks the PBX key), to check it; RV(pbx_key) says whether it
        decrypts the passwords the PBX holds. It is never sent to the PBX.
      - Falls back to the E(INNOVAPHONE_PBX_PASSWORD) environment variable.
    type: str
  query:
    description:
      - A JMESPath expression applied to a dict of all that the module returns (C(templates), C(users),
        C(settings), C(filters), C(registrations), C(licenses), C(reverse_proxies), C(pbx_api)); its value is
        returned as RV(query_result).
    type: str
requirements:
  - jmespath (for O(query))
"""

EXAMPLES = r"""
- name: Read the PBX
  module_defaults:
    group/innovaphone.pbx.pbx:
      url: https://pbx.example.com
      password: "{{ pbx_admin_password }}"
  innovaphone.pbx.pbx_info:
  register: pbx

- name: Names of the users that can use hot desking
  innovaphone.pbx.pbx_info:
    url: https://pbx.example.com
    password: "{{ pbx_admin_password }}"
    query: "users[?hotdesk.enabled].name"
  register: hotdesk_users

- name: Who is logged in at a hot desk now
  innovaphone.pbx.pbx_info:
    url: https://pbx.example.com
    password: "{{ pbx_admin_password }}"
    query: "users[?hotdesk.logged_in].name"
  register: logged_in
"""

RETURN = r"""
templates:
  description: The config templates.
  returned: always
  type: list
  elements: dict
  sample:
    - name: Hotdesking
      call_filter: intern
      call_forward_filter: intern
      store_phone_config: true
      inherit: []
      description: Hot desking, managed by innovaphone.pbx.hotdesking
users:
  description:
    - The users (PBX objects with a username that are not templates), without passwords.
    - C(groups) names the PBX groups a user is a member of.
    - C(hotdesk) is the user's hot-desking registration. C(hotdesk.enabled) says that the user has its hot-desking
      hardware id (a device entry named like the user), so that it may log in at a hot desk;
      C(hotdesk.logged_in) that a hot-desk login of the user is active now (a registration of the user with its
      own name as hardware id); C(hotdesk.duplicates) how many more such device entries the user has than one;
      C(hotdesk.trusted), C(hotdesk.tls) and C(hotdesk.no_filter) are the flags of the device entry.
    - C(hotdesk.registered) is the same as C(hotdesk.enabled); it is deprecated (it reads like a login) and will be
      removed in release 2.0.0.
    - C(devices) are the user's device entries with their attributes; the flags C(admin), C(no-filter), C(tls),
      C(no-mob) and C(trusted) are booleans.
  returned: always
  type: list
  elements: dict
  sample:
    - name: hot-desk-base
      long_name: Hot Desk Base
      display_name: ""
      extension: "#10"
      hide_from_ldap: true
      template: Hotdesking
      hotdesk: {user: hot-desk-base, enabled: true, registered: true, logged_in: false, duplicates: 0, app: phone,
                text: Hotdesking, trusted: false, tls: false, no_filter: false}
      devices: [{hw: hot-desk-base, app: phone, text: Hotdesking, admin: false, no-filter: false, tls: false,
                 no-mob: false, trusted: false}]
      groups: []
settings:
  description:
    - The security settings of the current configuration.
    - C(unwritten) and C(inactive) are true when the written configuration (what survives a reboot) or the
      active one (what the PBX enforces) holds other security settings, that is, a change is pending.
  returned: always
  type: dict
  sample:
    registrations_without_password: 0
    ip_filter: [{address: 192.0.2.0, mask: 255.255.255.0}]
    unwritten: false
    inactive: false
filters:
  description:
    - Names of the call filters the PBX knows.
    - Over PbxAdminApi (O(pbx_api)) from C(GetFilters), over SOAP from the configuration text (C(cfg.txt)).
  returned: always
  type: list
  elements: str
  sample: [intern, normal, international]
licenses:
  description:
    - The PBX's licenses, from C(GetPbxLicenses) over PbxAdminApi (O(pbx_api)).
    - C(items) lists them with C(name) (C(Port) for the port licenses a registered user needs), C(count) installed
      and C(used) (numbers), and C(local), C(slaves) and C(version) as the PBX gives them.
    - C(test_mode) is true when the PBX lists no licenses at all; innovaphone says such a PBX is in test mode or has
      no licenses installed. C(items) is then empty.
    - V(null) over SOAP, which has no documented read of licenses (RV(notes) says so); set O(app_name) and
      O(app_password) to read them over PbxAdminApi.
  returned: always
  type: dict
  sample:
    test_mode: false
    items: [{name: Port, count: 20, used: 2, local: 20, slaves: 0, version: "13"}]
reverse_proxies:
  description:
    - The reverse proxies the PBX knows (C(GetRPs) over PbxAdminApi), each with its C(addr) and, when set, C(cert)
      and C(cert2). Hot-desking registrations through one need the flag C(trusted) (the how-to says "or the registration
      will fail").
    - V(null) over SOAP, which has no documented read of them (RV(notes) says so).
  returned: always
  type: list
  elements: dict
  sample: [{addr: 192.0.2.10, cert: "009033000010"}]
pbx_api:
  description: The API the PBX objects were read over, C(soap) or C(pbxadminapi) (O(pbx_api) decides).
  returned: always
  type: str
  sample: pbxadminapi
notes:
  description: What the module could not read over the API it used, and why.
  returned: when something could not be read
  type: list
  elements: str
  sample:
    - "licenses, reverse_proxies: not readable over SOAP (no documented read); set app_name and app_password to read
      them over PbxAdminApi (docs/guide.md)"
registrations:
  description:
    - The registrations the PBX holds now. C(hotdesk) marks a hot-desk login, a registration whose C(hw) is the
      user's own name.
    - Over PbxAdminApi (O(pbx_api)) they come from C(GetRegs) for every user, which does not say whether a
      registration used a password; C(with_password) is then V(null).
  returned: always
  type: list
  elements: dict
  sample:
    - {user: alice, long_name: Alice, hw: alice, address: 192.0.2.10, with_password: true, hotdesk: true}
pbx_key:
  description:
    - With O(pbx_password), whether it is the PBX password - C(proven) (it decrypts the passwords of users on the
      PBX), C(refuted) (it does not), or C(unproven) (no user has a password to check it against).
    - Over PbxAdminApi the admin object's C(pwd) of C(MonitorAdminObject) proves or refutes it, users or none.
  returned: when O(pbx_password) is given
  type: str
  sample: proven
query_result:
  description: The value of O(query).
  returned: when O(query) is given
  type: raw
  sample: [hot-desk-base, alice]
"""


from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    connect, pbx_module, pbx_password_option, queried, run)
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import (
    Directory, PbxKey, SETTINGS_MODULE, device_entry, hotdesk_info, logged_in_users, settings_record)
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import PBX_SETTINGS, TEMPLATES, USERS


def user_info(element, logged_in):
    info = USERS.decode(element.attrib)
    info["hotdesk"] = hotdesk_info(element, logged_in)
    info["devices"] = [device_entry(device) for device in element.findall("device")]
    info["groups"] = [group.get("name") for group in element.findall("grp")]
    return info


def read(module):
    pbx = connect(module)
    directory = Directory(pbx.objects())
    cfg = pbx.cfg()
    flags = cfg.flags(SETTINGS_MODULE)
    registrations = pbx.registrations()
    logged_in = logged_in_users(registrations)
    info = {
        "templates": [TEMPLATES.decode(e.attrib) for e in directory.templates.values()],
        "users": [user_info(e, logged_in) for e in directory.users.values()],
        # Pending: the written or active layer lacks a current value.
        "settings": settings_record(pbx, flags, PBX_SETTINGS.decode(flags)),
        "filters": pbx.filters(cfg),
        "registrations": registrations,
        "licenses": pbx.licenses(),
        "reverse_proxies": pbx.reverse_proxies(),
        "pbx_api": pbx.api.lower(),
    }
    result = queried(module, info)
    unread = [name for name in ("licenses", "reverse_proxies") if info[name] is None]
    if unread:
        result["notes"] = ["%s: not readable over SOAP (no documented read); set app_name and app_password to read "
                           "them over PbxAdminApi (docs/guide.md)" % ", ".join(unread)]
    if module.params["pbx_password"]:
        key = PbxKey(pbx, module.params["pbx_password"], "pbx_password", directory.elements)
        result["pbx_key"] = "proven" if key.proven else "refuted" if key.refuted else "unproven"
    return result


def main():
    module = pbx_module(dict(query=dict(type="str"), pbx_password=pbx_password_option()))
    run(module, lambda: read(module))


if __name__ == "__main__":
    main()
