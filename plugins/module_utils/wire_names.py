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

import copy

# Where an operator reads what each entry is and how to confirm it on a PBX (errors point there).
DOCS_PAGE = "docs/wire-names.md"

DEFAULTS = {
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
        # Payload keys of the documented events DeviceConfigAdded / DeviceConfigEdited (the configuration object
        # without its values) and DeviceConfigDeleted (its id): the SDK names the events but not their fields.
        "config_event": "config",
        "config_deleted_id": "id",
    },
}

# The names in use: the defaults, with an operator's overrides laid over them by use(). The sections are the same
# dicts for the whole run, so that every `SOAP["delete"]` and the like reads the current name.
WIRE_NAMES = copy.deepcopy(DEFAULTS)


class WireNameError(ValueError):
    """Overrides that do not fit the table; the message names every key at fault."""


def use(overrides):
    """Lay `overrides` ({section: {key: name}}, the nested keys of the table) over the defaults."""
    overrides = overrides or {}
    problems = []
    if not isinstance(overrides, dict):
        raise WireNameError("wire_names: must be a dict of sections, not %r" % (overrides,))
    for section, names in sorted(overrides.items()):
        if section not in DEFAULTS:
            problems.append("unknown section %r (known: %s)" % (section, ", ".join(sorted(DEFAULTS))))
        elif not isinstance(names, dict):
            problems.append("%s must be a dict of names" % section)
        else:
            for key, value in sorted(names.items()):
                if key not in DEFAULTS[section]:
                    problems.append("unknown key %s.%s (known in %s: %s)" % (
                        section, key, section, ", ".join(sorted(DEFAULTS[section]))))
                elif not isinstance(value, str) or not value:
                    problems.append("%s.%s must be a non-empty string" % (section, key))
    if problems:
        raise WireNameError("wire_names: " + "; ".join(problems))
    for section, names in WIRE_NAMES.items():
        names.clear()
        names.update(DEFAULTS[section], **overrides.get(section, {}))


class WireName:
    """A name of the table as a field declares it: read when used, so that an override counts."""

    def __init__(self, section, key):
        if key not in DEFAULTS[section]:
            raise KeyError("no wire name %s.%s" % (section, key))
        self.section = section
        self.key = key

    @property
    def value(self):
        return WIRE_NAMES[self.section][self.key]


def named(name):
    """How a message names a wire name (a WireName, or a documented name as a string)."""
    if isinstance(name, WireName):
        return "wire name %r (%s.%s)" % (name.value, name.section, name.key)
    return "wire name %r" % name


def see_docs(*names):
    """The pointer to the docs page an error ends with when it concerns one of the guessed names."""
    return ": see %s" % DOCS_PAGE if any(isinstance(name, WireName) for name in names) else ""


SOAP = WIRE_NAMES["soap"]
TEMPLATE = WIRE_NAMES["template"]
HOTDESK = WIRE_NAMES["hotdesk"]
REGISTRATION = WIRE_NAMES["registration"]
CONFIG = WIRE_NAMES["config"]
DEVICES = WIRE_NAMES["devices"]
