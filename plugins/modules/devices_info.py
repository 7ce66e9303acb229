#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: devices_info
short_description: Read the domains, categories, device configurations and devices of the innovaphone Devices app
version_added: 0.1.0
description:
  - Returns what the Devices app holds for a domain, its categories, its device configurations with their values,
    and its devices, each with whether it is online.
  - With the PBX connection (O(url), O(password)) each device also gets the registrations it holds on the PBX now,
    and the user of its hot-desk login, if any. A hot-desk login registers with the user's name as hardware id, so
    the module ties it to a phone by the address it comes from; a login from an address several devices share
    (phones behind one NAT or reverse proxy) is ambiguous and given to none (RV(devices[].ambiguous)). A
    registrations read that does not show the user and the hardware id fails naming the wire names; logins without
    an address are a warning.
  - Never changes anything, and never returns a secret (an update script shows with the value of every
    password-like flag masked, other password-like values as the placeholder).
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx_optional
  - innovaphone.pbx.connection.pbx_login
  - innovaphone.pbx.devices
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.info_module
options:
  categories:
    description:
      - Only the devices of these categories (names).
    type: list
    elements: str
  hw_ids:
    description:
      - Only the devices with these hardware ids (compared ignoring case).
    type: list
    elements: str
  query:
    description:
      - A JMESPath expression applied to a dict of all that the module returns (C(domain), C(categories),
        C(device_configs), C(devices)); its value is returned as RV(query_result).
    type: str
requirements:
  - jmespath (for O(query))
"""

EXAMPLES = r"""
- name: Which hot-desking phones have somebody logged in?
  innovaphone.pbx.devices_info:
    devices_url: wss://ap.example.com/example.com/devices
    devices_password: "{{ vault_devices_password }}"
    url: https://pbx.example.com
    password: "{{ vault_pbx_admin_password }}"
    categories: [PBX1 Hotdesking]
    query: "devices[?hotdesk_user].{phone: hw_id, user: hotdesk_user}"
  register: desks
"""

RETURN = r"""
domain:
  description: The Devices domain read.
  returned: always
  type: str
  sample: example.com
categories:
  description: The categories of the domain.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "PBX1 Hotdesking", "provisioning": true}]
device_configs:
  description:
    - The device configurations of the domain with their values; phone and expert configurations as
      M(innovaphone.pbx.device_config) returns them, others with the fields the Devices app sends.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "Hot Desking", "type": "expert", "categories": ["PBX1 Hotdesking"],
            "script": "config add PHONE SIG /h323 hot-desk-base /gk-pwd VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}]
devices:
  description: The devices of the domain (of O(categories) and O(hw_ids) if given).
  returned: always
  type: list
  elements: dict
  contains:
    hw_id:
      description: Hardware id.
      type: str
      sample: "009033400001"
    name:
      description: Name of the device, if configured.
      type: str
    product:
      description: Product, for example IP232.
      type: str
    version:
      description: Firmware version.
      type: str
    type:
      description: Device type (PHONE, GW, ...).
      type: str
    online:
      description: Whether the device is connected to the Devices app now.
      type: bool
    registrations:
      description: The registrations of the device on the PBX now (with the PBX connection).
      type: list
      elements: dict
      sample: [{"user": "hot-desk-base", "hotdesk": false}, {"user": "alice", "hotdesk": true}]
    hotdesk_user:
      description: The user of its hot-desk login, or null (with the PBX connection).
      type: str
      sample: alice
    ambiguous:
      description: A hot-desk login comes from an address this device shares with another one.
      type: bool
query_result:
  description: The value of O(query).
  returned: when O(query) is given
  type: raw
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    OPTIONAL_PBX_ARGUMENT_SPEC, connect_optional_pbx, devices_module, queried, run_devices)
from ansible_collections.innovaphone.pbx.plugins.module_utils.devices import CategoryBackend
from ansible_collections.innovaphone.pbx.plugins.module_utils.phones import device_info, phone_states, unplaced_logins
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import CONFIG_TYPES, DEVICE_CONFIGS
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER, SECRET_NAME

MODULE_TYPES = dict((wire, kind) for kind, wire in CONFIG_TYPES.items())


def config_info(config):
    """A device configuration fit for a result: phone and expert ones as records, others with secrets masked."""
    kind = MODULE_TYPES.get(config.get("type"))
    if kind:
        resource = DEVICE_CONFIGS[kind]
        return resource.public(resource.decode(config))
    shown = dict((k, PLACEHOLDER if SECRET_NAME.search(k) and v else v) for k, v in config.items()
                 if k not in ("id", "domainId", "categories", "desc"))
    categories = sorted(c.get("name") for c in config.get("categories") or [])
    return dict(shown, name=config.get("desc", ""), categories=categories)


def read(module, devices):
    params = module.params
    pbx = connect_optional_pbx(module)
    configs = devices.app().items("GetDeviceConfigs", "configs", domainId=devices.domain_id)
    found = devices.devices(params["categories"], params["hw_ids"])
    registrations = pbx.registrations() if pbx else []
    states = phone_states(found, registrations) if pbx else {}
    info = {
        "domain": devices.domain,
        "categories": sorted(CategoryBackend(devices).read_all().values(), key=lambda c: c["name"]),
        "device_configs": [config_info(devices.config(c["id"])) for c in configs],
        "devices": [device_info(d, states.get(d["hwId"], {})) for d in found],
    }
    result = queried(module, info)
    unplaced = unplaced_logins(registrations)
    if unplaced:
        result["warnings"] = ["%s: hotdesk_user is null on those phones" % unplaced]
    return result


def main():
    spec = dict(OPTIONAL_PBX_ARGUMENT_SPEC)
    spec.update(categories=dict(type="list", elements="str"), hw_ids=dict(type="list", elements="str"),
                query=dict(type="str"))
    module = devices_module(spec)
    run_devices(module, lambda devices: read(module, devices))


if __name__ == "__main__":
    main()
