# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cfg.txt lines and `!` command URLs."""

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt

CFG = """\
config change PBX0 /name "main pbx" /reg-no-pwd 4 /ip-filter 10.0.0.0/255.0.0.0,192.0.2.0/255.255.255.0 /trace
config add PBX0 FILTER /name intern
config add PBX0 FILTER /name normal
config change IP0 /addr 10.0.0.5
config add IP0 ROUTE /addr 0.0.0.0
vars create PHONE/USER-CFG/00000 p x
"""


def test_change_lines_become_flag_dicts():
    cfg = cfgtxt.CfgText(CFG)
    assert cfg.flags("PBX0") == {"name": "main pbx", "reg-no-pwd": "4", "trace": True,
                                 "ip-filter": "10.0.0.0/255.0.0.0,192.0.2.0/255.255.255.0"}
    assert cfg.flags("IP0") == {"addr": "10.0.0.5"}
    assert cfg.flags("NONE") == {}


def test_filters_are_the_pbx0_filter_objects():
    assert cfgtxt.CfgText(CFG).filters() == ["intern", "normal"]


def test_change_command_round_trips_through_the_parser():
    flags = cfgtxt.CfgText(CFG).flags("PBX0")
    flags["reg-no-pwd"] = "0"
    flags["ip-filter"] = ""
    command = cfgtxt.change_command("PBX0", flags)
    assert command == 'config change PBX0 /name "main pbx" /reg-no-pwd 0 /trace'
    assert cfgtxt.CfgText(command).flags("PBX0") == {"name": "main pbx", "reg-no-pwd": "0", "trace": True}


def test_cfg_path_names_the_layer_in_a_query_parameter():
    assert cfgtxt.cfg_path() == "/cfg.txt"
    assert cfgtxt.cfg_path(cfgtxt.WRITTEN) == "/cfg.txt?layer=written"
    assert cfgtxt.cfg_path(cfgtxt.ACTIVE) == "/cfg.txt?layer=active"


def test_command_path_url_encodes_spaces_and_keeps_slashes():
    assert cfgtxt.command_path("config change PBX0 /reg-no-pwd 0") == "/!config%20change%20PBX0%20/reg-no-pwd%200"


def test_command_result():
    assert cfgtxt.command_result("ok\n") == "ok"
    with pytest.raises(cfgtxt.CommandError, match="unknown module"):
        cfgtxt.command_result("error unknown module")
