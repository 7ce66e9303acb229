# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection, the simulator and the docs page spell every ASSUMED or INFERRED wire name the same way."""

import importlib.util
import pathlib
import re

from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import WIRE_NAMES

REPO = pathlib.Path(__file__).resolve().parents[2]

# collection (section, key) -> simulator name (tests/pbxsim/wire_names.py, lower-cased).
SIMULATOR_NAME = {
    ("soap", "show_root"): "show_root",
    ("soap", "ok"): "ok_element",
    ("soap", "error"): "error_element",
    ("soap", "delete"): "delete_command",
    ("template", "store_phone_config"): "store_phone_config",
    ("template", "discard_phone_config"): "discard_phone_config",
    ("template", "inherit_separator"): "inherit_separator",
    ("hotdesk", "device_text"): "hotdesk_device_text",
    ("hotdesk", "device_app"): "hotdesk_device_app",
    ("registration", "element"): "reg_element",
    ("registration", "user"): "reg_user",
    ("registration", "long_name"): "reg_cn",
    ("registration", "hw"): "reg_hw",
    ("registration", "address"): "reg_addr",
    ("registration", "with_password"): "reg_pwd",
    ("registration", "hotdesk"): "reg_hotdesk",
    ("config", "registrations_without_password"): "reg_no_pwd_flag",
    ("config", "ip_filter"): "ip_filter_flag",
    ("config", "filter_object"): "filter_kind",
    ("config", "filter_name"): "filter_name_flag",
    ("config", "layer_parameter"): "cfg_layer_parameter",
    ("config", "layer_written"): "cfg_layer_written",
    ("config", "layer_active"): "cfg_layer_active",
    ("config", "ok"): "command_ok",
    ("config", "error"): "command_error",
    ("devices", "app"): "devices_app",
    ("devices", "add_category"): "mt_add_category",
    ("devices", "update_category"): "mt_update_category",
    ("devices", "delete_category"): "mt_delete_category",
    ("devices", "add_device_config"): "mt_add_device_config",
    ("devices", "update_device_config"): "mt_update_device_config",
    ("devices", "delete_device_config"): "mt_delete_device_config",
}


def simulator_table():
    spec = importlib.util.spec_from_file_location("pbxsim_wire_names", REPO / "tests" / "pbxsim" / "wire_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WIRE_NAMES


def collection_entries():
    return dict(((section, key), value) for section, names in WIRE_NAMES.items() for key, value in names.items())


def test_every_collection_name_is_mapped():
    assert set(collection_entries()) == set(SIMULATOR_NAME)


def test_collection_and_simulator_hold_the_same_values():
    simulator = simulator_table()
    mismatches = dict((entry, (value, simulator.get(SIMULATOR_NAME[entry])))
                      for entry, value in collection_entries().items()
                      if simulator.get(SIMULATOR_NAME[entry]) != value)
    assert mismatches == {}


def test_docs_page_lists_every_name_with_its_value():
    page = (REPO / "docs" / "wire-names.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)\.(\w+)` \| `([^`]*)` \|", page, re.MULTILINE))
    assert rows == set((section, key, value) for (section, key), value in collection_entries().items())
