#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: devices_category
short_description: Manage a category of the innovaphone Devices app
version_added: 0.1.0
description:
  - Creates, updates or deletes a category of a Devices domain, such as the hot-desking category of the
    Step-by-Step Hot Desking how-to ("Create category - Devices app").
  - A category is identified by its name within the domain.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
options:
  name:
    description:
      - Name of the category, for example V(PBX1 Hotdesking).
    type: str
    required: true
  provisioning:
    description:
      - The check mark "Provisioning category for device configuration deployment".
      - When not given, an existing category keeps its setting and a new one is created without it.
    type: bool
  state:
    description:
      - V(present) creates or updates the category, V(absent) deletes it.
      - Deleting a category also removes it from the device configurations it is assigned to.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.devices
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.converge
seealso:
  - module: innovaphone.pbx.device_config
  - module: innovaphone.pbx.provisioning_code
"""

EXAMPLES = r"""
- name: Hot-desking category of the how-to
  innovaphone.pbx.devices_category:
    name: PBX1 Hotdesking
    provisioning: true
    devices_url: wss://ap.example.com/example.com/devices
    devices_password: "{{ vault_devices_password }}"

- name: The same connection for several Devices tasks
  module_defaults:
    group/innovaphone.pbx.devices:
      devices_url: wss://ap.example.com/example.com/devices
      devices_password: "{{ vault_devices_password }}"
  block:
    - name: Category in another domain of the instance
      innovaphone.pbx.devices_category:
        name: Branch Hotdesking
        provisioning: true
        domain: branch.example.com

    - name: Old category gone
      innovaphone.pbx.devices_category:
        name: Hotdesking (test)
        state: absent
"""

RETURN = r"""
category:
  description: The category as it is after the run (as it would be, in check mode); empty once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the category.
      type: str
      sample: PBX1 Hotdesking
    provisioning:
      description: Whether it is a provisioning category for device configuration deployment.
      type: bool
      sample: true
changes:
  description: What was changed (would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "PBX1 Hotdesking", "action": "create", "fields": ["name", "provisioning"]}]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    STATE_OPTION, devices_module, run_devices, single)
from ansible_collections.innovaphone.pbx.plugins.module_utils.devices import CategoryBackend
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import CATEGORIES
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import check_fields


ARGUMENT_SPEC = CATEGORIES.argument_spec(state=STATE_OPTION)


def converge(module, devices):
    entry = dict((name, module.params[name]) for name in ("name", "provisioning", "state"))
    check_fields(CATEGORIES, entry)
    engine = Engine(CATEGORIES, CategoryBackend(devices), module.check_mode, module._diff)
    return single(engine.converge([entry]), CATEGORIES.name, "category")


def main():
    module = devices_module(ARGUMENT_SPEC)
    run_devices(module, lambda devices: converge(module, devices))


if __name__ == "__main__":
    main()
