#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: wire_probe
short_description: Say which guessed wire names an innovaphone PBX and its Devices app confirm, writing nothing
version_added: 0.1.0
description:
  - Some names on the wire are not documented by innovaphone; the collection keeps its guesses in one table
    (C(docs/wire-names.md)), which O(wire_names) corrects. This module reads what a PBX shows without any write (the
    bulk reads of objects and registrations, C(/cfg.txt) and its written and active layers, the Devices app's login
    and read messages) and reports every entry of the table as V(confirmed) (seen as the table spells it),
    V(contradicted) (something else seen where it should be, with what was seen) or V(unseen) (nothing to see
    without a write, with what to do to confirm it).
  - Where what it saw leaves one choice it suggests the override, ready for O(wire_names) or for the variable
    C(hotdesking_wire_names) of the role.
  - It never writes to the PBX or the Devices app, and never shows the value of a password-like flag (the flag
    of C(config.registrations_without_password), a count, is none).
  - Playbook C(innovaphone.pbx.probe) runs it for every site and writes a report per site.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.info_module
options:
  devices_url:
    description:
      - WebSocket URL of the Devices app, as for the Devices modules; without it the Devices entries read V(unseen).
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_URL) is used.
    type: str
  devices_password:
    description:
      - Password of the Devices app login, the instance password or a domain password.
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_PASSWORD) is used.
    type: str
  devices_domain:
    description:
      - Domain of the Devices app login; default the first path element of O(devices_url).
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_DOMAIN) is used.
    type: str
  domain:
    description:
      - Name of the Devices domain whose device configurations are read; default the login's.
    type: str
"""

EXAMPLES = r"""
- name: Which guessed names does this PBX confirm?
  innovaphone.pbx.wire_probe:
    url: https://pbx.example.com
    password: "{{ vault_pbx_admin_password }}"
    devices_url: wss://ap.example.com/example.com/devices
    devices_password: "{{ vault_devices_password }}"
  register: probe

- name: Show the overrides it suggests
  ansible.builtin.debug:
    var: probe.suggested_wire_names
"""

RETURN = r"""
entries:
  description: Every entry of the wire-name table, in its order.
  returned: always
  type: list
  elements: dict
  contains:
    entry:
      description: The entry, C(section.key).
      type: str
      sample: config.registrations_without_password
    value:
      description: The name the collection speaks now (the default, or the override given).
      type: str
      sample: reg-no-pwd
    status:
      description: V(confirmed), V(contradicted) or V(unseen).
      type: str
      sample: contradicted
    seen:
      description: What the PBX showed where the name should be (values of password-like flags masked).
      type: list
      elements: str
      returned: when something was seen
      sample: ["/no-pwd-regs 4"]
    suggested:
      description: The override the probe suggests for this entry.
      type: str
      returned: when what was seen leaves one choice
      sample: no-pwd-regs
    hint:
      description: How to confirm the entry, or what to do when the probe could not.
      type: str
      returned: unless confirmed
counts:
  description: How many entries are confirmed, contradicted and unseen.
  returned: always
  type: dict
  sample: {"confirmed": 20, "contradicted": 1, "unseen": 11}
suggested_wire_names:
  description: The overrides the probe suggests, in the form O(wire_names) takes.
  returned: always
  type: dict
  sample: {"config": {"registrations_without_password": "no-pwd-regs"}}
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    CONNECTION_ARGUMENT_SPEC, DEVICES_ARGUMENT_SPEC, connect, connect_devices, module_with, run)
from ansible_collections.innovaphone.pbx.plugins.module_utils.probe import probe


def main():
    # The Devices connection is optional here: without it the probe reads the PBX only.
    spec = dict(DEVICES_ARGUMENT_SPEC)
    spec.update((name, dict(DEVICES_ARGUMENT_SPEC[name], required=False)) for name in ("devices_url", "devices_password"))
    module = module_with(CONNECTION_ARGUMENT_SPEC, spec, required_together=[("devices_url", "devices_password")])
    devices = connect_devices(module) if module.params["devices_url"] else None
    try:
        run(module, lambda: probe(connect(module), devices))
    finally:
        if devices is not None:
            devices.close()


if __name__ == "__main__":
    main()
