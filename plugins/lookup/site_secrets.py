# -*- coding: utf-8 -*-
# Copyright: innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: site_secrets
version_added: 0.2.0
author: innovaphone.pbx maintainers (@innovaphone-pbx)
short_description: The secrets of one site from a per-site secrets file
description:
  - Reads a YAML (or JSON) file that maps each site (inventory host name) to its secrets, keyed by the names of
    the role's variables, and returns the entry of one site. The AWX credential type "innovaphone site secrets"
    (C(docs/awx/credential-types/innovaphone-site-secrets.yml)) injects such a file and names it in
    E(INNOVAPHONE_SITE_SECRETS_FILE); the role P(innovaphone.pbx.site_secrets#role) loads it.
  - Its errors name the file, the site and the variable, never a value nor a line of the file.
options:
  file:
    description: Path of the site secrets file. Empty or unset, there is no file and the entry is empty.
    type: str  # not path: that would make an empty value the current directory
    env:
      - name: INNOVAPHONE_SITE_SECRETS_FILE
  site:
    description: The site whose entry is returned; by default the C(inventory_hostname) of the task's host.
    type: str
  required:
    description:
      - Variables the site must have. One the site's entry lacks and that no other source (inventory, extra vars,
        a credential) sets is an error naming the site and the variable.
    type: list
    elements: str
    default: []
  names_only:
    description: Return the names of the variables the site's entry sets instead of their values.
    type: bool
    default: false
notes:
  - Only the variables below may appear in an entry (a misspelt name would otherwise drop a secret silently)
    C(hotdesking_pbx_username), C(hotdesking_pbx_password), C(hotdesking_pbx_key_password),
    C(hotdesking_devices_password), C(hotdesking_base_user_password), C(hotdesking_temp_user_password). Every
    value is a string; quote one YAML would read as a number.
  - Sites of the file that are not in the inventory are ignored, so that one file can serve several inventories.
"""

EXAMPLES = r"""
# The site secrets file:
#   berlin:
#     hotdesking_pbx_password: "..."
#     hotdesking_base_user_password: "..."
#   munich:
#     hotdesking_pbx_password: "..."
- name: Load the secrets of this site (never log them)
  ansible.builtin.set_fact:
    hotdesking_pbx_password: "{{ lookup('innovaphone.pbx.site_secrets').hotdesking_pbx_password }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - The site's entry, a dict of variable name to secret (empty when the file or the site's entry is missing),
      or with O(names_only) the sorted list of its variable names.
  type: list
  elements: raw
"""

import os

import yaml

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

SECRET_VARIABLES = ("hotdesking_pbx_username", "hotdesking_pbx_password", "hotdesking_pbx_key_password",
                    "hotdesking_devices_password", "hotdesking_base_user_password", "hotdesking_temp_user_password")


def read_sites(path):
    """The file's mapping of sites to entries, checked; errors never quote the file (it holds secrets)."""
    try:
        with open(path, "rb") as handle:
            sites = yaml.safe_load(handle)
    except OSError as exc:
        raise AnsibleLookupError("cannot read the site secrets file %s: %s" % (path, exc.strerror))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = " (line %d)" % (mark.line + 1) if mark is not None else ""
        raise AnsibleLookupError("the site secrets file %s is not valid YAML%s" % (path, where))
    if sites is None:
        return {}
    if not isinstance(sites, dict) or not all(isinstance(entry, dict) or entry is None for entry in sites.values()):
        raise AnsibleLookupError("the site secrets file %s must map each site to its variables "
                                 "(site: {hotdesking_pbx_password: ..., ...})" % path)
    return dict((str(site), entry or {}) for site, entry in sites.items())


def check_entry(path, site, entry):
    unknown = sorted(str(name) for name in entry if name not in SECRET_VARIABLES)
    if unknown:
        raise AnsibleLookupError("site %s: the site secrets file %s sets %s, which is not one of %s"
                                 % (site, path, ", ".join(unknown), ", ".join(SECRET_VARIABLES)))
    not_strings = sorted(name for name, value in entry.items() if not isinstance(value, str))
    if not_strings:
        raise AnsibleLookupError("site %s: %s in the site secrets file %s must be a string (quote it)"
                                 % (site, ", ".join(not_strings), path))


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        path = self.get_option("file")
        site = self.get_option("site") or variables.get("inventory_hostname")
        if not site:
            raise AnsibleLookupError("no site: give site= or run the lookup in a task of a host")
        site = str(site)
        entry = {}
        if path:
            path = os.path.expanduser(str(path))
            entry = read_sites(path).get(site, {})
            check_entry(path, site, entry)
        missing = [name for name in self.get_option("required") if name not in entry and name not in variables]
        if missing:
            where = "in its entry of the site secrets file %s, " % path if path else ""
            raise AnsibleLookupError("site %s: %s %s not set (%sin the inventory, the extra vars or a credential)"
                                     % (site, ", ".join(missing), "is" if len(missing) == 1 else "are", where))
        if self.get_option("names_only"):
            return [sorted(entry)]
        return [entry]
