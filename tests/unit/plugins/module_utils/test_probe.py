# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the probe reads the Devices UI: script sources of a page, the message types a script sends, the candidates for
a Devices write spelt otherwise."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.innovaphone.pbx.plugins.module_utils.probe import (
    SCRIPT_SOURCE, SENT_TYPE, write_candidates)


def test_script_sources_of_a_page_in_their_order():
    page = ('<html><head><script type="text/javascript" src="web1/lib1/innovaphone.lib1.js"></script>\n'
            "<SCRIPT SRC='innovaphone-devices.js' defer></SCRIPT><script>var inline = 1;</script>"
            '<script data-src="no.js"></script></head></html>')
    assert SCRIPT_SOURCE.findall(page) == ["web1/lib1/innovaphone.lib1.js", "innovaphone-devices.js"]


def test_message_types_a_script_sends_minified_or_not_but_not_the_ones_it_compares():
    script = ('app.send({mt:"AddCategory",name:n});app.send({ "mt": "GetDomains" });msg.mt = \'DeleteCategory\';'
              'if (msg.mt == "AddCategoryResult") {} if (m.mt === "DeviceConfigAdded") {} var format = "AddX";'
              "send({ mt: 'UpdateDeviceConfig', config: c })")
    assert sorted(SENT_TYPE.findall(script)) == ["AddCategory", "DeleteCategory", "GetDomains", "UpdateDeviceConfig"]


def test_candidates_for_a_devices_write_spelt_otherwise():
    types = ["AddCategory", "CreateCategory", "EditDeviceConfig", "GetDeviceConfigs", "RemoveDeviceConfig",
             "SetCategoryName", "GetProvisioningCategories"]
    assert write_candidates("add_category", types) == ["AddCategory", "CreateCategory"]
    assert write_candidates("update_category", types) == ["SetCategoryName"]
    assert write_candidates("update_device_config", types) == ["EditDeviceConfig"]
    assert write_candidates("delete_device_config", types) == ["RemoveDeviceConfig"]
    assert write_candidates("delete_category", types) == []
    assert write_candidates("add_device_config", types) == []
