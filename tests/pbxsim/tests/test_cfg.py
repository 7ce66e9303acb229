# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command interface (/!config …) and /cfg.txt: round trip, current/written/active, refusals."""

import urllib.parse

import pytest

from pbxsim import cfg


def command(sim, line):
    return sim.get("/!" + urllib.parse.quote(line, safe="/,")).text


def pbx0(sim, layer):
    return sim.state()["config"][layer]["modules"]["PBX0"]


def test_cfg_txt_round_trip(sim):
    assert command(sim, "config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/255.0.0.0,192.168.1.0/24") == "ok"
    text = sim.get("/cfg.txt").text
    assert "config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/255.0.0.0,192.168.1.0/24\n" in text
    assert "config add PBX0 FILTER /name intern\n" in text
    for line in text.splitlines():
        assert command(sim, line) == "ok"
    assert sim.get("/cfg.txt").text == text


def test_change_write_activate_are_distinct_layers(sim):
    factory = pbx0(sim, "active")
    assert command(sim, "config change PBX0 /reg-no-pwd 0") == "ok"
    assert pbx0(sim, "current") == {"reg-no-pwd": "0"}
    assert pbx0(sim, "written") == factory and pbx0(sim, "active") == factory
    assert command(sim, "config write") == "ok"
    assert pbx0(sim, "written") == {"reg-no-pwd": "0"} and pbx0(sim, "active") == factory
    assert command(sim, "config activate") == "ok"
    assert pbx0(sim, "active") == {"reg-no-pwd": "0"}


def test_reboot_drops_what_was_not_written(sim):
    command(sim, "config change PBX0 /reg-no-pwd 1")
    command(sim, "config write")
    command(sim, "config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/8")
    command(sim, "config activate")
    assert pbx0(sim, "active") == {"reg-no-pwd": "0", "ip-filter": "10.0.0.0/8"}
    sim.control("POST", "reboot")
    for layer in ("current", "written", "active"):
        assert pbx0(sim, layer) == {"reg-no-pwd": "1"}
    assert "config change PBX0 /reg-no-pwd 1\n" in sim.get("/cfg.txt").text


def test_cfg_txt_shows_the_written_and_active_layers_on_request(sim):
    command(sim, "config change PBX0 /reg-no-pwd 1")
    command(sim, "config write")
    command(sim, "config change PBX0 /reg-no-pwd 0")
    lines = dict((layer, sim.get("/cfg.txt?layer=%s" % layer).text.splitlines()[0])
                 for layer in ("written", "active"))
    assert sim.get("/cfg.txt").text.splitlines()[0] == "config change PBX0 /reg-no-pwd 0"
    assert lines == {"written": "config change PBX0 /reg-no-pwd 1", "active": "config change PBX0 /reg-no-pwd 4"}
    assert "config add PBX0 FILTER /name intern" in sim.get("/cfg.txt?layer=active").text


def test_cfg_txt_refuses_an_unknown_layer(sim):
    response = sim.get("/cfg.txt?layer=flash")
    assert response.status_code == 400 and response.text == "unknown layer"


def test_change_replaces_the_whole_module_line(sim):
    command(sim, "config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/8")
    command(sim, "config change PBX0 /reg-no-pwd 2")
    assert pbx0(sim, "current") == {"reg-no-pwd": "2"}


def test_values_with_blanks_are_quoted(sim):
    assert command(sim, 'config change PBX0 /reg-no-pwd 0 /ip-filter "10.0.0.0/8, 10.1.0.0/16"') == "ok"
    assert 'config change PBX0 /reg-no-pwd 0 /ip-filter "10.0.0.0/8, 10.1.0.0/16"\n' in sim.get("/cfg.txt").text


def test_pbx0_drops_the_flags_it_does_not_know_and_answers_ok(sim):
    assert command(sim, 'config change PBX0 /reg-no-pwd 0 /text "two words" /flag /ip-filter 10.0.0.0/8') == "ok"
    assert pbx0(sim, "current") == {"reg-no-pwd": "0", "ip-filter": "10.0.0.0/8"}
    assert sim.get("/cfg.txt").text.splitlines()[0] == "config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/8"
    # The stand-ins for the PBX0 flags a client does not manage are known, with or without a value.
    assert command(sim, 'config change PBX0 /reg-no-pwd 1 /name "main pbx" /trace /noreg') == "ok"
    assert pbx0(sim, "current") == {"reg-no-pwd": "1", "name": "main pbx", "trace": None}
    assert sim.get("/cfg.txt").text.splitlines()[0] == 'config change PBX0 /reg-no-pwd 1 /name "main pbx" /trace'
    # Nothing it knows: the line is replaced by an empty one, and still answered ok.
    assert command(sim, "config change PBX0 /reg-no-pwds 0") == "ok"
    assert pbx0(sim, "current") == {}
    assert sim.get("/cfg.txt").text.splitlines()[0] == "config change PBX0"


def test_a_dropped_flag_is_not_checked_either():
    config = cfg.DeviceConfig()
    config.run("config change PBX0 /reg-no-pwd 1 /reg-no-pwd-x many")
    assert config.layers["current"]["modules"]["PBX0"] == {"reg-no-pwd": "1"}


def test_other_module_lines_keep_every_flag():
    config = cfg.DeviceConfig()
    config.layers["current"]["modules"]["UP1"] = {}   # pbxsim's PBX has no other module; a state file may
    config.run('config change UP1 /url http://x/ /text "two words" /flag')
    assert config.layers["current"]["modules"]["UP1"] == {"url": "http://x/", "text": "two words", "flag": None}
    assert 'config change UP1 /url http://x/ /text "two words" /flag\n' in config.text()


@pytest.mark.parametrize("line, error", [
    ("config change PBX0 /reg-no-pwd many", "reg-no-pwd must be a number"),
    ("config change PBX0 /reg-no-pwd -1", "reg-no-pwd must be a number"),
    ("config change PBX0 /ip-filter 10.0.0.300/8", "bad ip filter"),
    ("config change PBX0 /ip-filter 10.0.0.0/255.0.255.0", "bad ip filter"),
    ("config change NOPE0 /x 1", "unknown module NOPE0"),
    ("config change PBX0 stray", "value without a flag"),
    ('config change PBX0 /text "open', "unbalanced quote"),
    ("config frobnicate", "unknown command"),
    ("config write now", "unknown command"),
    ("config add PBX0 FILTER /label x", "unknown command"),
    ("reset", "unknown command"),
])
def test_refused_commands_change_nothing(sim, line, error):
    before = sim.state()["config"]
    answer = command(sim, line)
    assert answer.startswith("error ") and error in answer
    assert sim.state()["config"] == before


def test_command_and_cfg_txt_need_digest_credentials(sim):
    session = sim.session(password="wrong")
    assert session.get(sim.url + "/cfg.txt", timeout=10).status_code == 401
    assert session.get(sim.url + "/!config%20write", timeout=10).status_code == 401


@pytest.mark.parametrize("address, ip_filter, allowed", [
    ("10.1.2.3", "", True),
    ("10.1.2.3", "10.0.0.0/255.0.0.0", True),
    ("10.1.2.3", "192.168.0.0/16,10.1.2.3/32", True),
    ("172.16.0.1", "10.0.0.0/255.0.0.0,192.168.0.0/16", False),
])
def test_ip_filter_matching(address, ip_filter, allowed):
    assert cfg.address_allowed(address, ip_filter) is allowed
