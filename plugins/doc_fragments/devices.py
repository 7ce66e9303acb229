# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Where a Devices module connects to (contract sections 1 and 8), and the action group that sets it once;
    # the TLS and timeout options come from innovaphone.pbx.connection.
    DOCUMENTATION = r"""
options:
  devices_url:
    description:
      - WebSocket URL of the Devices app, C(ws://) or C(wss://), for example V(wss://ap.example.com/example.com/devices).
      - It is the URL of the Devices App object without its last path element.
      - A URL with credentials (V(wss://user:secret@ap)), a query or a fragment fails the task before anything is
        sent. A plain V(ws://) URL to a host other than V(localhost), 127.0.0.0/8 or V(::1) (as written) gets a
        warning, since the messages, the expert configuration's script with the base user's password included,
        travel unencrypted.
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_URL) is used.
    type: str
    required: true
  devices_password:
    description:
      - Password of the Devices app login, the instance password (every domain) or a domain password (that domain).
      - It never goes over the wire; the login proves it with a digest (AppLogin).
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_PASSWORD) is used.
    type: str
    required: true
  devices_domain:
    description:
      - Domain of the Devices app login, the instance domain for the instance password.
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_DOMAIN) is used, and without it the first
        path element of O(devices_url).
    type: str
  domain:
    description:
      - Name of the Devices domain the module works in.
      - Defaults to the login domain (O(devices_domain)); another domain needs the instance password.
    type: str
requirements:
  - websocket-client
attributes:
  action_group:
    description: Use C(group/innovaphone.pbx.devices) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - innovaphone.pbx.devices
"""
