# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every wire name the public innovaphone documentation does not confirm, in ONE table.

Each entry is marked ASSUMED in the interface reference or fixed by docs/design/contract.md.
The codecs import these names; nothing else spells them. docs/wire-names.md lists the same table
(tests/unit/test_wire_names_match.py keeps both, and the simulator's table, in step) so that an operator
with a real PBX can confirm or correct them in one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

WIRE_NAMES = {
    "soap": {
        # Root element of a `show` answer and of the bulk read.
        "show_root": "show",
        # Success and refusal answers inside <return>.
        "ok": "ok",
        "error": "error",
        # Delete command: <del><user cn="X"/></del>.
        "delete": "del",
    },
    "template": {
        # "Store Phone Config" and "Discard Phone Config" on a config template.
        "store_phone_config": "store-phone-cfg",
        "discard_phone_config": "discard-phone-cfg",
        # Separator between the cn of the templates a template inherits from (in its `config`).
        "inherit_separator": ",",
    },
    "hotdesk": {
        # The <device> text Users Admin writes for a hot-desking registration, and the default phone app.
        "device_text": "Hotdesking",
        "device_app": "phone",
    },
    "registration": {
        # Attributes of <reg> in mod_cmd_login.xml?cmd=show&reg=*.
        "element": "reg",
        "user": "user",
        "long_name": "cn",
        "hw": "hw",
        "address": "addr",
        "with_password": "pwd",
        "hotdesk": "hotdesk",
    },
    "config": {
        # PBX0 flags of the security settings ("No of Regs w/o Pwd", "IP Filter").
        "registrations_without_password": "reg-no-pwd",
        "ip_filter": "ip-filter",
        # A filter known to the PBX is the cfg.txt line `config add PBX0 FILTER /name <name>`.
        "filter_object": "FILTER",
        "filter_name": "name",
        # GET /cfg.txt?layer=written (or active) reads that layer instead of the current one; a PBX that
        # ignores the parameter answers with the current layer.
        "layer_parameter": "layer",
        "layer_written": "written",
        "layer_active": "active",
        # Body of a command answer.
        "ok": "ok",
        "error": "error",
    },
    "devices": {
        "app": "devices",
        "add_category": "AddCategory",
        "update_category": "UpdateCategory",
        "delete_category": "DeleteCategory",
        "get_device_configs": "GetDeviceConfigs",
        "add_device_config": "AddDeviceConfig",
        "update_device_config": "UpdateDeviceConfig",
        "delete_device_config": "DeleteDeviceConfig",
        # A device configuration: {id, domainId, type, name, categoryIds, settings} in a GetDeviceConfigs page.
        "configs_key": "configs",
        "category_ids_key": "categoryIds",
        "settings_key": "settings",
        "type_phone": "PHONE",
        "type_expert": "EXPERT",
        # PHONE settings (the gatekeeper the phone registers to) and EXPERT settings (the update script).
        "setting_gk_id": "gkId",
        "setting_primary_gk": "primaryGk",
        "setting_secondary_gk": "secondaryGk",
        "setting_script": "script",
    },
}

SOAP = WIRE_NAMES["soap"]
TEMPLATE = WIRE_NAMES["template"]
HOTDESK = WIRE_NAMES["hotdesk"]
REGISTRATION = WIRE_NAMES["registration"]
CONFIG = WIRE_NAMES["config"]
DEVICES = WIRE_NAMES["devices"]
