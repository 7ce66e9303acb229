#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: device_config
short_description: Manage a phone or expert device configuration of the innovaphone Devices app
version_added: 0.1.0
description:
  - Creates, updates or deletes a device configuration of a Devices domain and assigns it to categories, as the
    Step-by-Step Hot Desking how-to does with the Phone configuration ("Assign category to Phone configuration")
    and the expert configuration C(Hot Desking) ("Create Expert configuration").
  - A configuration is identified by its type and name (the description the Devices app shows) within the domain.
  - It reads the list of the domain's configurations and the values of the named one only, and writes only the
    named one; the category assignments of other configurations stay as they are. Values of a configuration that
    this module has no option for are kept.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
options:
  type:
    description:
      - V(phone) for a phone configuration (gatekeeper settings), V(expert) for an expert configuration (update
        script).
    type: str
    required: true
    choices: [phone, expert]
  name:
    description:
      - Name of the configuration, for example V(Hot Desking).
    type: str
    required: true
  categories:
    description:
      - Names of categories of the domain; the module looks up their ids.
      - What happens to them depends on O(categories_state). When not given, the assignments stay as they are.
      - In check mode a category that does not exist yet (because an earlier task would create it) gives a
        warning; otherwise it is an error and nothing is written.
    type: list
    elements: str
  categories_state:
    description:
      - V(present) assigns the configuration to at least O(categories), keeping other assignments.
      - V(absent) removes the configuration from O(categories), keeping other assignments.
      - V(exact) assigns it to exactly O(categories), removing every other assignment; with an empty list, to none.
    type: str
    choices: [present, absent, exact]
    default: present
  gatekeeper:
    description:
      - Gatekeeper settings of a phone configuration (O(type=phone) only), the PBX the phones register to.
      - Suboptions not given keep their current value.
    type: dict
    suboptions:
      id:
        description: Gatekeeper id (the PBX's system name).
        type: str
      primary:
        description: Address of the primary gatekeeper.
        type: str
      secondary:
        description: Address of the secondary gatekeeper.
        type: str
  coder:
    description:
      - Preferred coder of a phone configuration (O(type=phone) only). When not given, it is left as it is.
    type: str
    choices: [G711A, G711u, G722, OPUS-NB, OPUS-WB]
  protect_config:
    description:
      - The setting C(Protect configuration at phone) of a phone configuration (O(type=phone) only). When not
        given, it is left as it is.
    type: bool
  allow_user_config:
    description:
      - The setting C(Allow user settings at phone) of a phone configuration (O(type=phone) only). When not
        given, it is left as it is.
    type: bool
  script:
    description:
      - Update script of an expert configuration (O(type=expert) only), one command per line.
      - Required to create an expert configuration. Line ends are normalised and trailing blank lines dropped
        before comparing and writing.
      - Every line is checked before anything is read, and a script with a line the phone's update client would
        refuse is not written; the line must be a known update-script command (C(config add), C(config change),
        C(config write), C(config activate), C(vars create), C(mod cmd), C(reset), C(ireset), C(resetn),
        C(iresetn)) with balanced double quotes, each C(/flag) followed by at most one value, and a C(vars create
        PHONE/USER-CFG/<n>) value that is C(<user>) XML once URL-decoded. The error names the line by its number,
        never its text.
      - The script usually carries a password (C(/gk-pwd) in the how-to), so it is never logged. In results and
        diffs the value after every flag whose name holds C(pwd), C(pass), C(secret) or C(key) reads as
        C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER).
    type: str
  state:
    description:
      - V(present) creates or updates the configuration, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.devices
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.converge
notes:
  - To say "exactly these categories", use O(categories_state=exact); the default V(present) means "at least these".
  - Do not hand O(script) in through a C(loop) item, because Ansible copies the item, script and all, into the task result.
seealso:
  - module: innovaphone.pbx.devices_category
  - module: innovaphone.pbx.provisioning_code
  - plugin: innovaphone.pbx.hotdesk_function_key
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Hot-desking configurations of the how-to
  module_defaults:
    group/innovaphone.pbx.devices:
      devices_url: wss://ap.example.com/example.com/devices
      devices_password: "{{ vault_devices_password }}"
  block:
    - name: Phone configuration also in the hot-desking category
      innovaphone.pbx.device_config:
        type: phone
        name: Phone
        categories: [PBX1 Hotdesking]
        gatekeeper:
          id: PBX1
          primary: 192.0.2.10

    - name: Expert configuration that registers the phone as the Hot Desk Base user
      innovaphone.pbx.device_config:
        type: expert
        name: Hot Desking
        categories: [PBX1 Hotdesking]
        categories_state: exact
        script: |
          config add PHONE SIG /h323 hot-desk-base /gk-pwd {{ vault_base_password }}
          {{ 0 | innovaphone.pbx.hotdesk_function_key('hot-desking', 'log out') }}
          mod cmd UP1 check iresetn hot-desk
          config write
          config activate

- name: Phone configuration no longer in the test category
  innovaphone.pbx.device_config:
    type: phone
    name: Phone
    categories: [Hotdesking (test)]
    categories_state: absent
    devices_url: wss://ap.example.com/example.com/devices
    devices_password: "{{ vault_devices_password }}"
"""

RETURN = r"""
device_config:
  description: The configuration as it is after the run (as it would be, in check mode); empty once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the configuration.
      type: str
      sample: Hot Desking
    type:
      description: V(phone) or V(expert).
      type: str
      sample: expert
    categories:
      description: Names of the categories it is assigned to, sorted.
      type: list
      elements: str
      sample: [PBX1 Hotdesking]
    gatekeeper:
      description: Gatekeeper settings (phone configurations), V(id), V(primary) and V(secondary).
      type: dict
      returned: for O(type=phone)
      sample: {"id": "PBX1", "primary": "192.0.2.10", "secondary": ""}
    coder:
      description: Preferred coder, empty when not set (phone configurations).
      type: str
      returned: for O(type=phone)
      sample: G722
    protect_config:
      description: Whether the configuration at the phone is protected (phone configurations).
      type: bool
      returned: for O(type=phone)
      sample: false
    allow_user_config:
      description: Whether user settings at the phone are allowed (phone configurations).
      type: bool
      returned: for O(type=phone)
      sample: true
    script:
      description: Update script (expert configurations), secret values masked.
      type: str
      returned: for O(type=expert)
      sample: "config add PHONE SIG /h323 hot-desk-base /gk-pwd VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
changes:
  description: What was changed (would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "Hot Desking", "action": "update", "fields": ["categories"]}]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    STATE_OPTION, devices_module, run_devices, single)
from ansible_collections.innovaphone.pbx.plugins.module_utils.devices import ConfigBackend
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import DEVICE_CONFIGS, TYPE_OPTIONS
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import (
    check_device_config, check_device_config_options)


# The options of every type of configuration (those of one type only are checked against `type`).
ARGUMENT_SPEC = dict(
    categories_state=dict(type="str", default="present", choices=["present", "absent", "exact"]),
    state=STATE_OPTION,
)
for _resource in DEVICE_CONFIGS.values():
    ARGUMENT_SPEC.update(_resource.argument_spec())


def wanted_categories(have, given, categories_state):
    """The category names a configuration should end with: at least (present), none of (absent), exactly (exact)."""
    if categories_state == "exact":
        return sorted(set(given))
    if categories_state == "absent":
        return sorted(set(have) - set(given))
    return sorted(set(have) | set(given))


def config_entry(params, have):
    """The engine entry of the configuration: the options given, categories and gatekeeper completed from `have`."""
    entry = {"name": params["name"], "type": params["type"], "state": params["state"]}
    if params["state"] == "absent":
        return entry
    have = have or {}
    if params["categories"] is not None:
        entry["categories"] = wanted_categories(have.get("categories", []), params["categories"],
                                                params["categories_state"])
    for option in TYPE_OPTIONS[params["type"]]:
        entry[option] = params[option]
    if entry.get("gatekeeper"):
        gatekeeper = dict(have.get("gatekeeper") or dict((option, "") for option in ("id", "primary", "secondary")))
        gatekeeper.update((k, v) for k, v in entry["gatekeeper"].items() if v is not None)
        entry["gatekeeper"] = gatekeeper
    return entry


def converge(module, devices):
    params = module.params
    check_device_config_options(params)
    backend = ConfigBackend(devices, params["type"], [params["name"]])
    engine = Engine(backend.resource, backend, module.check_mode, module._diff)
    current = engine.read()
    entry = config_entry(params, current.get(params["name"]))
    result = engine.converge([entry], current, lambda _entries, current: check_device_config(
        entry, current, backend.categories, devices.domain, module.check_mode))
    return single(result, backend.resource.name, "device_config")


def main():
    module = devices_module(ARGUMENT_SPEC)
    run_devices(module, lambda devices: converge(module, devices))


if __name__ == "__main__":
    main()
