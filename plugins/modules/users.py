#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: users
short_description: Manage a list of innovaphone PBX users in one run
version_added: 0.1.0
description:
  - Creates, updates and deletes the users given in O(users), like the Hot Desk Base and temp users of
    innovaphone's Step-by-Step Hot Desking how-to.
  - Reads every PBX object in one bulk request, compares only the fields given for each user, and writes
    one SOAP C(modify) per user that must change. Users not listed are never touched.
  - A modify keeps every attribute and child the module does not manage (devices, groups, forwards).
  - The whole list is checked before the first write; an error names the entry and the field, for
    example C(users[3].extension), counting from 0.
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
      - The users to manage. A field left out is neither compared nor changed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Username (H.323 name, SIP user) of the user, the key the module finds the user by. The PBX compares
            usernames ignoring case; one it holds spelt otherwise is an error.
        type: str
        required: true
      long_name:
        description:
          - The long name (ID, C(cn)), unique on the PBX. Defaults to O(users[].name) when a user is created.
        type: str
      display_name:
        description:
          - Display name.
        type: str
      extension:
        description:
          - Extension number; digits, C(#) and C(*), for example V(#10). An empty string removes it.
        type: str
      password:
        description:
          - Password of the user, at most 23 characters. An empty string removes it.
          - When it is compared depends on O(update_password).
        type: str
      hide_from_ldap:
        description:
          - Hide the user from LDAP.
        type: bool
      template:
        description:
          - Long name of the config template the user inherits from; it must exist on the PBX. In check mode
            a missing template is only a warning, since an earlier task may create it.
        type: str
      state:
        description:
          - Whether the user should exist.
        type: str
        choices: [present, absent]
        default: present
  update_password:
    description:
      - V(always) compares the password of existing users and writes it when it differs. The current
        password can be read only with the PBX key (see O(pbx_password)); without it the password is written on
        every run and a warning says so.
      - V(on_create) sets the password only when a user is created.
    type: str
    choices: [always, on_create]
    default: always
  report_unchanged:
    description:
      - With V(false) the result lists only the users that changed (would change, in check mode), which keeps a run over
        thousands of them fast when little changes; with V(true) every one listed.
    type: bool
    default: false
  parallel:
    description:
      - How many writes go to the PBX at once (over SOAP each on its own connection, over PbxAdminApi in flight
        together on the one WebSocket); V(1) writes one after the other. Every
        user is checked before the first write, so writes at once keep the PBX's rules; an error still names its
        entry, and a re-run converges.
    type: int
    default: 4
  pbx_password:
    description:
      - The PBX password. With it the module decrypts the current passwords (C(pwdx)) to compare them,
        so that an unchanged password reports no change, and writes passwords encrypted (as C(pwdx)) instead of in
        clear text. It is never sent to the PBX.
      - The module first checks it against the passwords the PBX holds (they decrypt to NUL-padded values only with
        the right key); a password they prove wrong fails the task before anything is written.
      - If not set, the environment variable E(INNOVAPHONE_PBX_PASSWORD) is used, and without it the connection
        password O(password), as C(admin) logs in with the PBX password; that one is used only when the PBX's
        passwords prove it, otherwise passwords are written in clear text and on every run, and a warning says why.
      - A PBX without any user password yet cannot prove a key, so the first passwords go in clear text.
    type: str
notes:
  - Changes of several users are written one by one; a failed run leaves the users written so far and can
    simply be run again.
  - With thousands of users that have a password, most of the run time is Ansible removing every no_log value
    from the result, which grows with the number of users times the number of passwords; the PBX work itself
    is one bulk read and one write per changed user.
"""

EXAMPLES = r"""
- name: Ensure the Hot Desk Base and temp users
  module_defaults:
    group/innovaphone.pbx.pbx:
      url: https://pbx.example.com
      password: "{{ pbx_admin_password }}"
  innovaphone.pbx.users:
    pbx_password: "{{ pbx_password }}"
    users:
      - name: hot-desk-base
        long_name: Hot Desk Base
        extension: "#10"
        password: "{{ hot_desk_base_password }}"
        hide_from_ldap: true
        template: Hotdesking
      - name: temp
        long_name: temp
        extension: "#20"
        password: "{{ temp_password }}"
        hide_from_ldap: true
        template: Hotdesking

- name: Remove a user
  innovaphone.pbx.users:
    url: https://pbx.example.com
    password: "{{ pbx_admin_password }}"
    users:
      - name: temp
        state: absent
"""

RETURN = r"""
users:
  description:
    - The users that changed as they are after the run (as they would be, in check mode), every listed one with
      O(report_unchanged); passwords masked.
  returned: always
  type: list
  elements: dict
  sample:
    - name: hot-desk-base
      long_name: Hot Desk Base
      display_name: ""
      extension: "#10"
      password: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER
      hide_from_ldap: true
      template: Hotdesking
changes:
  description: What was changed (would be, in check mode), one entry per user.
  returned: always
  type: list
  elements: dict
  sample:
    - name: temp
      action: update
      fields: [extension]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    LIST_ARGUMENT_SPEC, STATE_OPTION, connect, pbx_module, pbx_password_option, run)
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import UserBackend
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import USERS
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import check_list_options, check_users

ARGUMENT_SPEC = dict(
    users=dict(type="list", elements="dict", required=True, options=USERS.argument_spec(state=STATE_OPTION)),
    update_password=dict(type="str", choices=["always", "on_create"], default="always", no_log=False),
    pbx_password=pbx_password_option(),
    **LIST_ARGUMENT_SPEC
)


def converge(module):
    params = module.params
    check_list_options(params)
    # The PBX key compares and encrypts passwords: from pbx_password, else from the connection password (admin logs
    # in with the PBX password, reference 1), which is used only when the users' pwdx prove it.
    unlock = None
    if any(u["password"] is not None for u in params["users"]):
        unlock = (params["pbx_password"], "pbx_password") if params["pbx_password"] else (
            params["password"], "the connection password")
    pbx = connect(module)
    if unlock:
        pbx.read_ahead("key")
    backend = UserBackend(pbx, [u["name"] for u in params["users"]], unlock, required=bool(params["pbx_password"]))
    engine = Engine(USERS, backend, module.check_mode, module._diff, params["update_password"],
                    report_unchanged=params["report_unchanged"], parallel=params["parallel"])
    current = engine.read()
    engine.unreadable_hint = " (%sgive pbx_password to compare it)" % (backend.note + "; " if backend.note else "")
    result = engine.converge(params["users"], current, lambda entries, _current: check_users(
        entries, backend.directory, check_mode=module.check_mode))
    # The users whose password cannot be read have their warning already, with the same reason.
    clear_text = [name for name in backend.clear_text if name not in engine.unreadable]
    if clear_text and backend.note:
        result.setdefault("warnings", []).append("the password of %s went to the PBX in clear text, as %s" % (
            ", ".join(clear_text), backend.note))
    return result


def main():
    module = pbx_module(ARGUMENT_SPEC)
    run(module, lambda: converge(module))


if __name__ == "__main__":
    main()
