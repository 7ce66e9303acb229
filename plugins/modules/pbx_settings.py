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
  - Reads C(/cfg.txt), changes only the settings given and keeps every other flag of the C(PBX0) line.
  - The PBX keeps its configuration in three layers, current (C(config change)), written (C(config write),
    survives a reboot) and active (C(config activate), what the PBX enforces). The module reads all three. A
    setting it changes it always writes and activates; without a change, it writes or activates when the written
    or active layer holds another value of a given setting than the current one (a pending change), so a run that
    failed between the change and the write or activation is finished by the next run.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx
  - innovaphone.pbx.connection.pbx_login
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.converge
options:
  registrations_without_password:
    description:
      - How many registrations may be made without a password ("No of Regs w/o Pwd"); the how-to asks for V(0).
    type: int
  ip_filter:
    description:
      - The networks registrations with a password are accepted from; an empty list accepts them from anywhere.
      - Each entry is written as network address and dotted mask (C(/ip-filter 192.0.2.0/255.255.255.0,...)), the
        form PBX/Config/Filter shows; an entry on the PBX in another form (C(192.0.2.0/24)) that means the same
        network is no change.
      - An entry without a mask, or one whose mask is all zeros (V(0), V(/0), V(0.0.0.0)) and so lets every address
        pass, is refused before anything is read, the latter unless O(allow_ip_filter_any=true).
    type: list
    elements: dict
    suboptions:
      address:
        description:
          - Network address, for example V(192.0.2.0), or network in CIDR form, V(192.0.2.0/24), without O(ip_filter[].mask).
        type: str
        required: true
      mask:
        description:
          - Network mask, dotted (V(255.255.255.0)) or as a prefix length (V(24) or V(/24)).
          - Required unless O(ip_filter[].address) is in CIDR form.
        type: str
  allow_ip_filter_any:
    description:
      - Allow an O(ip_filter) entry whose mask is all zeros, which matches every address and so turns the IP filter
        off. Without it such an entry is refused.
    type: bool
    default: false
notes:
  - The C(PBX0) flag names are ones the public documentation does not confirm; see the collection's
    "Wire names to verify against your PBX" page.
  - The written and active layers are read with C(/cfg.txt?layer=written) and C(/cfg.txt?layer=active), a
    parameter the public documentation does not confirm either. A PBX that ignores it shows the current layer
    for all three; the module then writes and activates exactly when it changes a setting.
  - C(config write) and C(config activate) take the whole current configuration, also changes that others
    left unwritten or inactive.
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
      - address: 198.51.100.0/24
"""

RETURN = r"""
settings:
  description:
    - The settings after the run (as they would be, in check mode).
    - When a setting is given, C(unwritten) and C(inactive) say whether a change of a given setting is pending,
      that is, the written configuration (what survives a reboot) or the active one (what the PBX enforces) holds another
      value than the current one. They mean what they mean in M(innovaphone.pbx.pbx_info).
  returned: always
  type: dict
  sample:
    module: PBX0
    registrations_without_password: 0
    ip_filter:
      - address: 192.0.2.0
        mask: 255.255.255.0
    unwritten: false
    inactive: false
changes:
  description:
    - What was changed (would be, in check mode).
    - C(fields) names the settings changed in the current configuration (always written and activated too), and
      C(unwritten) and C(inactive) when a change pending before the run was written (C(config write)) or
      activated (C(config activate)).
  returned: always
  type: list
  elements: dict
  sample:
    - module: PBX0
      action: update
      fields: [registrations_without_password]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import connect, pbx_module, run, single
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine, NotKept
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import (
    LAGGING_LAYERS, SETTINGS_MODULE, SettingsBackend, settings_entry)
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import PBX_SETTINGS
from ansible_collections.innovaphone.pbx.plugins.module_utils.rules import ip_filter_entry
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import check_settings


ARGUMENT_SPEC = PBX_SETTINGS.argument_spec(allow_ip_filter_any=dict(type="bool", default=False))


def converge(module):
    params = module.params
    wanted = {}
    if params["registrations_without_password"] is not None:
        wanted["registrations_without_password"] = params["registrations_without_password"]
    if params["ip_filter"] is not None:
        wanted["ip_filter"] = [{"address": e["address"], "mask": e["mask"]} for e in params["ip_filter"]]
    check_settings(wanted, params["allow_ip_filter_any"])
    if "ip_filter" in wanted:
        wanted["ip_filter"] = [ip_filter_entry(entry) for entry in wanted["ip_filter"]]
    engine = Engine(PBX_SETTINGS, SettingsBackend(connect(module), wanted), module.check_mode, module._diff)
    result = single(engine.converge([settings_entry(wanted)]), PBX_SETTINGS.name, "settings")
    if result["changed"] and not module.check_mode:
        check_no_pending(result["settings"], wanted)
    return result


def check_no_pending(settings, wanted):
    """After a change, the written and the active layer hold what the current one does (the engine verifies the
    fields it changed; a layer the change itself made lag is checked here)."""
    for _layer, lags, command in LAGGING_LAYERS:
        if settings.get(lags):
            wires = ", ".join("wire name %r" % PBX_SETTINGS.field(name).wire for name in sorted(wanted))
            raise NotKept("settings %r: after %s the PBX still shows a pending change of %s (%s): %s" % (
                SETTINGS_MODULE, command, ", ".join(sorted(wanted)), wires, PBX_SETTINGS.field(lags).meaning))


def main():
    module = pbx_module(ARGUMENT_SPEC)
    run(module, lambda: converge(module))


if __name__ == "__main__":
    main()
