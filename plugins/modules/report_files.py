#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: report_files
short_description: Write the report files of a run on the controller, all in one task
version_added: 0.2.0
description:
  - Writes text files into one folder of the controller, each only when its content differs, each atomically (a
    reader never sees half a file). The folder is created when missing.
  - Runs on the controller only (an action plugin), without starting a module process per file as
    M(ansible.builtin.copy) does, so that a compliance run over hundreds of sites writes all its reports in one
    task (C(run_once)).
  - Writes also in check mode, as the files are the run's own output, not the state being checked.
author:
  - innovaphone.pbx maintainers (@innovaphone-pbx)
extends_documentation_fragment:
  - innovaphone.pbx.attributes
attributes:
  check_mode:
    support: none
    details:
      - Writes the files in check mode too.
  diff_mode:
    support: none
options:
  dest:
    description: The folder on the controller.
    type: path
    required: true
  files:
    description: The files, by name within O(dest) (no path separators).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The file name.
        type: str
        required: true
      content:
        description: The text; written as UTF-8.
        type: str
        required: true
  mode:
    description: The permissions of files it writes.
    type: raw
    default: "0644"
"""

EXAMPLES = r"""
- name: Write every site's report at once
  innovaphone.pbx.report_files:
    dest: "{{ report_dir }}"
    files: "{{ ansible_play_hosts | map('extract', hostvars, 'site_report_files') | flatten }}"
  run_once: true
"""

RETURN = r"""
written:
  description: The names of the files that were written (new or changed content).
  returned: always
  type: list
  elements: str
  sample: [site1.json, site1.md]
"""
