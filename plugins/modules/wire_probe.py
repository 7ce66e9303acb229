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
    and read messages, the message types the Devices UI's scripts send) and reports every entry of the table as
    V(confirmed) (seen as the table spells it),
    V(contradicted) (something else seen where it should be, with what was seen) or V(unseen) (nothing to see
    without a write, with what to do to confirm it).
  - Where what it saw leaves one choice it suggests the override, ready for O(wire_names) or for the variable
    C(hotdesking_wire_names) of the role.
  - It tries the Devices login with both documented app names, C(innovaphone-devices) and C(innovaphone-devices-api),
    and says which the instance accepts.
  - It says which PBX APIs answer (SOAP, PbxAdminApi, PbxTableUsers) and, with O(app_name) and O(app_password),
    which API grants the App object lacks (a harmless read per API).
  - It never writes to the PBX or the Devices app, and never shows the value of a password-like flag (the flag
    of C(config.registrations_without_password), a count, is none).
  - Playbook C(innovaphone.pbx.probe) runs it for every site and writes a report per site.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx
  - innovaphone.pbx.connection.pbx_login
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
  devices_page_url:
    description:
      - URL of the Devices app's UI page, whose scripts name the messages the UI sends (the Devices write entries
        of the table are confirmed or contradicted from them).
      - Default the Devices App object's URL, O(devices_url) over http(s) plus C(/innovaphone-devices).
    type: str
  app_name:
    description:
      - Name of a PBX App object (PBX Manager, App object with "Grant access to APIs"), to say which of the APIs
        PbxAdminApi and PbxTableUsers it is granted; without it the probe only says whether the PBX's
        AppWebsocket answers.
    type: str
  app_password:
    description:
      - Password of the App object O(app_name).
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
devices_apps:
  description: The Devices logins tried, the table's app name first, then the documented ones it does not name.
  returned: when O(devices_url) is given
  type: list
  elements: dict
  sample: [{"app": "innovaphone-devices", "accepted": true, "seen": "login as domain example.com, 1 domains seen"}]
devices_ui:
  description:
    - The Devices UI page read, its scripts and the message types they send, or why they could not be read
      (C(unreadable)); C(problems) lists scripts that could not be read.
  returned: when O(devices_url) is given
  type: dict
  sample: {"page": "https://ap.example.com/example.com/devices/innovaphone-devices", "message_types": ["AddCategory"]}
pbx_apis:
  description:
    - Per PBX API (C(SOAP), C(PbxAdminApi), C(PbxTableUsers)) whether it answers (C(offered), null when not known),
      whether the App object is granted it (C(granted), null without App credentials) and what was seen.
  returned: always
  type: list
  elements: dict
  sample: [{"api": "PbxTableUsers", "offered": true, "granted": false, "seen": "ReplicateStart refused: ..."}]
missing_grants:
  description:
    - The API grants (PBX Manager's check marks C(Admin), C(TableUsers)) the App object lacks; null when not known.
  returned: always
  type: list
  elements: str
  sample: ["TableUsers"]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import HAS_WEBSOCKET
from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    CONNECTION_ARGUMENT_SPEC, DEVICES_ARGUMENT_SPEC, connect, connect_devices, devices_websocket, module_with, run)
from ansible_collections.innovaphone.pbx.plugins.module_utils.endpoint import EndpointError
from ansible_collections.innovaphone.pbx.plugins.module_utils.probe import apps_source, probe, ui_source


def main():
    # The Devices connection is optional here: without it the probe reads the PBX only.
    spec = dict(DEVICES_ARGUMENT_SPEC)
    spec.update((name, dict(DEVICES_ARGUMENT_SPEC[name], required=False)) for name in ("devices_url", "devices_password"))
    spec.update(devices_page_url=dict(type="str"), app_name=dict(type="str"),
                app_password=dict(type="str", no_log=True))
    module = module_with(CONNECTION_ARGUMENT_SPEC, spec, required_together=[
        ("devices_url", "devices_password"), ("app_name", "app_password")])
    params = module.params
    devices = connect_devices(module) if params["devices_url"] else None
    try:
        ui = ui_source(params, module.no_log_values) if devices else None
        apps = apps_source(params, module.no_log_values) if HAS_WEBSOCKET else None
    except EndpointError as exc:
        module.fail_json(msg=str(exc))
    try:
        run(module, lambda: probe(connect(module), devices, lambda app: devices_websocket(module, app), ui, apps,
                                  bool(params["app_name"])))
    finally:
        if devices is not None:
            devices.close()


if __name__ == "__main__":
    main()
