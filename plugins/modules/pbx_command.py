#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pbx_command
short_description: Run a raw command on an innovaphone PBX
version_added: 0.1.0
description:
  - The escape hatch for what no other module does. Runs one device command (the part after C(/!) in the
    URL, for example C(config write)) and returns its answer.
  - The module cannot know whether a command changes anything; it reports what O(changed) declares.
  - Fails when the device answers C(error).
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx
  - innovaphone.pbx.connection.pbx_login
  - innovaphone.pbx.attributes
attributes:
  check_mode:
    support: partial
    details:
      - A command declared as changing (O(changed=true)) is not run in check mode; a read-only one is.
  diff_mode:
    support: none
options:
  command:
    description:
      - The command, without the leading C(!); it is URL-encoded by the module.
    type: str
    required: true
  changed:
    description:
      - Whether the command changes the PBX; it is what the module reports as RV(ignore:changed).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Store the configuration to flash
  module_defaults:
    group/innovaphone.pbx.pbx:
      url: https://pbx.example.com
      password: "{{ pbx_admin_password }}"
  innovaphone.pbx.pbx_command:
    command: config write

- name: A read-only command, also run in check mode
  innovaphone.pbx.pbx_command:
    url: https://pbx.example.com
    password: "{{ pbx_admin_password }}"
    command: config show
    changed: false
"""

RETURN = r"""
output:
  description: The answer of the device; empty when the command was not run (check mode).
  returned: always
  type: str
  sample: ok
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import connect, pbx_module, run


def execute(module):
    command = module.params["command"].lstrip("!")
    declared = module.params["changed"]
    if module.check_mode and declared:
        return {"changed": True, "output": ""}
    return {"changed": declared, "output": connect(module).command(command)}


def main():
    module = pbx_module(dict(
        command=dict(type="str", required=True),
        changed=dict(type="bool", default=True),
    ))
    run(module, lambda: execute(module))


if __name__ == "__main__":
    main()
