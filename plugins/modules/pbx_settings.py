#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pbx_settings
short_description: Manage the hot-desking security settings of an innovaphone PBX
version_added: 0.1.0
description:
  - Sets "No of Regs w/o Pwd" (PBX/Config/General) and the IP filter (PBX/Config/Filter), the security
    settings innovaphone's Step-by-Step Hot Desking how-to asks for.
  - Reads C(/cfg.txt), changes only the settings given and keeps every other flag of the C(PBX0) line,
    then runs C(config write) and C(config activate), only when something changed.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.pbx_group
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  registrations_without_password:
    description:
      - How many registrations may be made without a password ("No of Regs w/o Pwd"); the how-to asks for V(0).
    type: int
  ip_filter:
    description:
      - The networks registrations with a password are accepted from; an empty list accepts them from anywhere.
    type: list
    elements: dict
    suboptions:
      address:
        description:
          - Network address, for example V(192.0.2.0).
        type: str
        required: true
      mask:
        description:
          - Network mask, for example V(255.255.255.0).
        type: str
        required: true
notes:
  - The C(PBX0) flag names are ones the public documentation does not confirm; see the collection's
    "Wire names to verify against your PBX" page.
"""

EXAMPLES = r"""
- name: No registrations without password, and only from the office network
  module_defaults:
    group/innovaphone.pbx.pbx:
      url: https://pbx.example.com
      password: "{{ pbx_admin_password }}"
  innovaphone.pbx.pbx_settings:
    registrations_without_password: 0
    ip_filter:
      - address: 192.0.2.0
        mask: 255.255.255.0
"""

RETURN = r"""
settings:
  description: The settings after the run (as they would be, in check mode).
  returned: always
  type: dict
  sample:
    module: PBX0
    registrations_without_password: 0
    ip_filter:
      - address: 192.0.2.0
        mask: 255.255.255.0
changes:
  description: What was changed (would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - module: PBX0
      action: update
      fields: [registrations_without_password]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import connect, pbx_module, run, single
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import SETTINGS_MODULE, SettingsBackend
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import PBX_SETTINGS
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import check_settings


def converge(module):
    params = module.params
    entry = {"module": SETTINGS_MODULE, "registrations_without_password": params["registrations_without_password"]}
    if params["ip_filter"] is not None:
        entry["ip_filter"] = [{"address": e["address"], "mask": e["mask"]} for e in params["ip_filter"]]
    check_settings(entry)
    engine = Engine(PBX_SETTINGS, SettingsBackend(connect(module)), module.check_mode, module._diff)
    return single(engine.converge([entry]), PBX_SETTINGS.name, "settings")


def main():
    module = pbx_module(dict(
        registrations_without_password=dict(type="int", no_log=False),
        ip_filter=dict(type="list", elements="dict", options=dict(
            address=dict(type="str", required=True),
            mask=dict(type="str", required=True),
        )),
    ))
    run(module, lambda: converge(module))


if __name__ == "__main__":
    main()
