#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: provisioning_code
short_description: Create a provisioning code of the innovaphone Devices app
version_added: 0.1.0
description:
  - Creates a provisioning code for a category and, optionally, a PBX user, as the Verification of the
    Step-by-Step Hot Desking how-to does for the temp user. A phone reset to factory defaults that is given the
    code is provisioned into the category and receives its device configurations.
  - Every run creates a new code, so the task always reports a change.
  - Never runs in check mode; it then reports that it would create a code (changed) without contacting the app.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
options:
  category:
    description:
      - Name of the category the provisioned device joins.
    type: str
    required: true
  sip:
    description:
      - Name (H.323 id) of the PBX user the device is provisioned for, for example V(temp).
    type: str
  rollout:
    description:
      - Create a rollout code, valid for 7 days, instead of a code valid for 15 minutes.
    type: bool
    default: false
  wait_for_device:
    description:
      - Seconds to wait for a device to be provisioned with the new code; V(0) does not wait.
      - The module listens for the C(DeviceProvisioned) event and also asks C(GetProvisionedDevice) every two
        seconds. When no device comes in time the task fails, and its result still holds the code.
    type: int
    default: 0
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.devices
  - innovaphone.pbx.attributes
attributes:
  check_mode:
    support: partial
    details:
      - In check mode nothing is sent to the Devices app; the task reports C(changed) without a code.
  diff_mode:
    support: none
seealso:
  - module: innovaphone.pbx.devices_category
  - module: innovaphone.pbx.device_config
"""

EXAMPLES = r"""
- name: Code for the temp user in the hot-desking category
  innovaphone.pbx.provisioning_code:
    category: PBX1 Hotdesking
    sip: temp
    devices_url: wss://ap.example.com/example.com/devices
    devices_password: "{{ vault_devices_password }}"
  register: provisioning

- name: Tell the code to the person at the phone
  ansible.builtin.debug:
    msg: "Enter {{ provisioning.code }} on the phone before {{ '%H:%M' | strftime(provisioning.valid_until) }}"

- name: Rollout code, waiting up to ten minutes for the first phone
  module_defaults:
    group/innovaphone.pbx.devices:
      devices_url: wss://ap.example.com/example.com/devices
      devices_password: "{{ vault_devices_password }}"
  innovaphone.pbx.provisioning_code:
    category: PBX1 Hotdesking
    sip: temp
    rollout: true
    wait_for_device: 600
  register: rollout

- name: Show the phone
  ansible.builtin.debug:
    msg: "{{ rollout.device.hwId }} ({{ rollout.device.product }}) is provisioned"
"""

RETURN = r"""
code:
  description: The provisioning code to enter on the phone.
  returned: success, not in check mode
  type: str
  sample: "4711081512"
valid_until:
  description: When the code expires, in seconds since the epoch (UTC).
  returned: success, not in check mode
  type: int
  sample: 1767225600
domain:
  description: The Devices domain of the code.
  returned: success, not in check mode
  type: str
  sample: example.com
category:
  description: The category of the code.
  returned: success, not in check mode
  type: str
  sample: PBX1 Hotdesking
sip:
  description: The PBX user of the code, if any.
  returned: success, not in check mode
  type: str
  sample: temp
device:
  description:
    - The device provisioned with the code, as the Devices app describes it.
  returned: when O(wait_for_device) is set and a device came in time
  type: dict
  sample: {"id": 12, "hwId": "009033400001", "name": "", "domainId": 1, "product": "IP232",
           "version": "13r3", "type": "PHONE", "pbxActive": false, "online": true, "uri": "http://192.0.2.30/"}
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import devices_module, run_devices
from ansible_collections.innovaphone.pbx.plugins.module_utils.devices import DeviceWaitTimeout
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import check_provisioning_code


def issue(module, devices):
    """A new code for the category (and user); with wait_for_device, also the device that used it. Nothing is
    sent in check mode: every call makes a new code."""
    params = module.params
    check_provisioning_code(params)
    if module.check_mode:
        return {"changed": True, "msg": "would create a provisioning code for category %s" % params["category"]}
    answer = devices.provisioning_code(params["category"], params["sip"], params["rollout"])
    result = {"changed": True, "code": answer.get("code"), "valid_until": answer.get("validUntil"),
              "domain": devices.domain, "category": params["category"], "sip": params["sip"]}
    if not result["code"]:
        raise devices.error("GetProvisioningCode answered without a code")
    if params["wait_for_device"]:
        result["device"] = devices.provisioned_device(result["code"], params["wait_for_device"])
        if result["device"] is None:
            raise DeviceWaitTimeout("no device was provisioned with the code within %d seconds" % (
                params["wait_for_device"]), result)
    return result


def main():
    module = devices_module(dict(
        category=dict(type="str", required=True),
        sip=dict(type="str"),
        rollout=dict(type="bool", default=False),
        wait_for_device=dict(type="int", default=0),
    ))
    run_devices(module, lambda devices: issue(module, devices))


if __name__ == "__main__":
    main()
