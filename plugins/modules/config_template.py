#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: config_template
short_description: Manage a config template of an innovaphone PBX
version_added: 0.1.0
description:
  - Creates, updates or deletes a config template (PBX Manager "Templates"), such as the hot-desking
    template of innovaphone's Step-by-Step Hot Desking how-to.
  - Compares only the options given, and O(inherit), whose default is no template; an update keeps every other
    attribute and child of the template.
  - Fails before writing anything when a named call filter or inherited template does not exist on the PBX.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.connection
  - innovaphone.pbx.connection.pbx
  - innovaphone.pbx.connection.pbx_login
  - innovaphone.pbx.attributes
  - innovaphone.pbx.attributes.converge
options:
  name:
    description:
      - Name (long name, C(cn)) of the template. The PBX compares names ignoring case; a template it holds spelt
        otherwise is an error.
    type: str
    required: true
  call_filter:
    description:
      - Call filter of the template, a filter configured on the PBX (PBX/Config/Filter), for example V(intern).
    type: str
  call_forward_filter:
    description:
      - Call forward filter of the template, a filter configured on the PBX.
    type: str
  store_phone_config:
    description:
      - Store the phone configuration on the PBX ("Store Phone Config").
    type: bool
  inherit:
    description:
      - Templates this template inherits from (at most four). The default, no template, is what the
        hot-desking how-to asks for.
      - In check mode a missing template is only a warning, since an earlier task may create it.
    type: list
    elements: str
    default: []
  description:
    description:
      - Description of the template (its C(text), as on a user object). The hotdesking role writes a fixed text
        here that marks the templates it created, so that it can report one it no longer manages.
    type: str
  update_description:
    description:
      - V(always) sets O(description) on an existing template too; V(on_create) only on a template this module
        creates, and leaves the description of one that exists as it is (the hotdesking role adopts a template
        configured by hand without marking it as one it created).
    type: str
    choices: [always, on_create]
    default: always
  state:
    description:
      - Whether the template should exist.
      - V(absent) is refused while users name the template, or other templates inherit from it.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Ensure the hot-desking template
  module_defaults:
    group/innovaphone.pbx.pbx:
      url: https://pbx.example.com
      password: "{{ pbx_admin_password }}"
  innovaphone.pbx.config_template:
    name: Hotdesking
    call_filter: intern
    call_forward_filter: intern
    store_phone_config: true

- name: Remove a template
  innovaphone.pbx.config_template:
    url: https://pbx.example.com
    password: "{{ pbx_admin_password }}"
    name: Old template
    state: absent
"""

RETURN = r"""
template:
  description: The template after the run (as it would be, in check mode); empty when it does not exist.
  returned: always
  type: dict
  sample:
    name: Hotdesking
    call_filter: intern
    call_forward_filter: intern
    store_phone_config: true
    inherit: []
    description: ""
changes:
  description: What was changed (would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - name: Hotdesking
      action: create
      fields: [call_filter, call_forward_filter, inherit, name, store_phone_config]
"""

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import (
    STATE_OPTION, connect, pbx_module, run, single)
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import TemplateBackend
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import TEMPLATES
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import check_fields, check_template


ARGUMENT_SPEC = TEMPLATES.argument_spec(
    update_description=dict(type="str", choices=["always", "on_create"], default="always"),
    state=STATE_OPTION,
)


def converge(module):
    entry = dict((f.name, module.params[f.name]) for f in TEMPLATES.fields)
    entry["state"] = module.params["state"]
    check_fields(TEMPLATES, entry)
    pbx = connect(module)
    names_filter = entry["state"] == "present" and (entry["call_filter"] or entry["call_forward_filter"])
    filters = pbx.filters() if names_filter else []
    backend = TemplateBackend(pbx)
    engine = Engine(TEMPLATES, backend, module.check_mode, module._diff)

    def validate(_entries, current):
        if module.params["update_description"] == "on_create" and entry["name"] in current:
            entry["description"] = None     # not compared, not written: the template exists
        return check_template(entry, backend.directory, filters, check_mode=module.check_mode)

    result = engine.converge([entry], validate=validate)
    return single(result, TEMPLATES.name, "template")


def main():
    module = pbx_module(ARGUMENT_SPEC)
    run(module, lambda: converge(module))


if __name__ == "__main__":
    main()
