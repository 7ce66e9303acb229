# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every wire name the public innovaphone documentation does not confirm, in ONE table.

Each entry is marked ASSUMED or INFERRED in the interface reference, or fixed by docs/design/contract.md.
Names innovaphone documents (the object attributes, the Devices read messages and their fields) are not here:
they are spelt once, in resources.py (fields) or beside the request that uses them (pbx.py, devices.py).
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
        # "Store Phone Config" and "Discard Phone Config" on a config template (INFERRED: the 13r2 PbxAdminApi
        # object properties, which equal the XML attributes).
        "store_phone_config": "phone-config",
        "discard_phone_config": "discard-phone-config",
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
        # `app` of the AppLogin: the service name of the Devices instance (INFERRED, reference 3 and 4).
        "app": "innovaphone-devices",
        # Messages that create, change and delete categories and device configurations: not documented; they
        # carry the documented objects (reference 4).
        "add_category": "AddCategory",
        "update_category": "UpdateCategory",
        "delete_category": "DeleteCategory",
        "add_device_config": "AddDeviceConfig",
        "update_device_config": "UpdateDeviceConfig",
        "delete_device_config": "DeleteDeviceConfig",
    },
}

SOAP = WIRE_NAMES["soap"]
TEMPLATE = WIRE_NAMES["template"]
HOTDESK = WIRE_NAMES["hotdesk"]
REGISTRATION = WIRE_NAMES["registration"]
CONFIG = WIRE_NAMES["config"]
DEVICES = WIRE_NAMES["devices"]
