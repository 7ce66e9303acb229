#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: unknown_vars
short_description: Refuse or warn about a host's variables that look like a role's but that the role does not know
version_added: 0.2.0
description:
  - Looks at the host's own variables (inventory, extra vars, facts; not play or role variables) whose name
    starts with O(prefix), and fails, warns or says nothing (O(on_unknown)) about every one that the role's
    argument spec does not name, naming the host and the closest known name when there is one. A misspelt
    variable (C(hotdesking_ip_fliter)) is otherwise silently ignored and the role runs with the default.
  - Runs on the controller only (an action plugin); it never connects to a host.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.info_module
options:
  prefix:
    description: The prefix of the variables to look at.
    type: str
    required: true
  argument_spec:
    description:
      - The role's C(meta/argument_specs.yml); the options of its C(main) entry point are the known names.
      - Defaults to the one of the role the task belongs to.
    type: path
  known:
    description: Further names the role reads or sets, as shell-style patterns (C(hotdesking_result_*)).
    type: list
    elements: str
    default: []
  on_unknown:
    description:
      - V(error) fails the task naming every unknown variable, V(warn) warns about each one, V(ignore) only returns
        them in RV(unknown).
    type: str
    choices: [error, warn, ignore]
    default: warn
  opt_out:
    description: How the caller turns the error off, for the message of O(on_unknown=error).
    type: str
    default: "on_unknown: warn"
"""

EXAMPLES = r"""
- name: Refuse misspelt hotdesking_* variables
  innovaphone.pbx.unknown_vars:
    prefix: hotdesking_
    known: [hotdesking_result_*]
    on_unknown: error
"""

RETURN = r"""
unknown:
  description: The names of the unknown variables.
  returned: always
  type: list
  elements: str
  sample: [hotdesking_ip_fliter]
"""
