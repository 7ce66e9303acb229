# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs module phone_reset in the controller's process when it would run there anyway (plugin_utils.in_process)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.innovaphone.pbx.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    pass
