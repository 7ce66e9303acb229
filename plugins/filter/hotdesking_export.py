# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of playbook innovaphone.pbx.export: a site's pbx_info and devices_info results as the hotdesking role's
variables, and the secrets the exported sites need (the mapping itself is plugin_utils/export.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.innovaphone.pbx.plugins.plugin_utils.export import export_site, render_secrets_needed


def hotdesking_export(pbx_info, devices_info, site, connection=None):
    """The export of one site: {site, variables, unmapped, notes, secrets, files: {host_vars, notes}}. `connection`
    is the site's hostvars (or any mapping); only its non-secret connection variables are read."""
    for name, value in (("pbx_info", pbx_info), ("devices_info", devices_info), ("connection", connection or {})):
        if not isinstance(value, Mapping):
            raise AnsibleFilterError("hotdesking_export: %s must be a dict (a registered result)" % name)
    if not isinstance(site, str) or not site:
        raise AnsibleFilterError("hotdesking_export: site must be the inventory hostname")
    return export_site(site, pbx_info, devices_info, connection)


def export_secrets_needed(exports):
    """secrets-needed.md (Markdown) over the exports of several sites."""
    if not isinstance(exports, list) or not all(isinstance(e, dict) and "secrets" in e for e in exports):
        raise AnsibleFilterError("export_secrets_needed: give the list of the sites' hotdesking_export results")
    return render_secrets_needed(exports)


class FilterModule(object):
    """innovaphone.pbx export filters."""

    def filters(self):
        return {"hotdesking_export": hotdesking_export, "export_secrets_needed": export_secrets_needed}
