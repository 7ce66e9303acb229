# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pbx_settings over the current, written and active layers (contract 4): each lagging layer is brought up
to date, so a run that failed after `config change` is finished by the next one."""

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine, NotKept
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import (
    SettingsBackend, settings_entry, settings_record)
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import PBX_SETTINGS

FACTORY = {"reg-no-pwd": "4", "name": "main pbx"}
OFFICE = [{"address": "192.0.2.0", "mask": "255.255.255.0"}]


class LayeredPbx:
    """cfg.txt in three layers, changed by the `!config` commands as a PBX does; logs reads and commands.
    With `knows_layers=False` it ignores the layer parameter, as a PBX without it would."""

    def __init__(self, current=None, written=None, active=None, knows_layers=True):
        self.layers = dict((name, dict(flags or FACTORY)) for name, flags in (
            ("current", current), (cfgtxt.WRITTEN, written), (cfgtxt.ACTIVE, active)))
        self.knows_layers = knows_layers
        self.reads = []
        self.commands = []
        self.interruptions = 0      # what transport.HttpClient counts: failed connections, stale nonces

    def cfg(self, layer=None):
        self.reads.append(layer)
        shown = layer if layer and self.knows_layers else "current"
        return cfgtxt.CfgText(cfgtxt.change_command("PBX0", self.layers[shown]))

    def command(self, text):
        self.commands.append(text)
        if text == "config write":
            self.layers[cfgtxt.WRITTEN] = dict(self.layers["current"])
        elif text == "config activate":
            self.layers[cfgtxt.ACTIVE] = dict(self.layers["current"])
        else:
            self.layers["current"] = cfgtxt.CfgText(text).flags("PBX0")
        return "ok"


def converge(pbx, check_mode=False, **wanted):
    engine = Engine(PBX_SETTINGS, SettingsBackend(pbx, wanted), check_mode, diff_mode=True)
    return engine.converge([settings_entry(wanted)])


def test_a_new_value_is_changed_written_and_activated():
    pbx = LayeredPbx()
    result = converge(pbx, registrations_without_password=0)
    assert pbx.commands == ['config change PBX0 /reg-no-pwd 0 /name "main pbx"', "config write", "config activate"]
    # Nothing was pending before: the change alone, which is always written and activated.
    assert result["changes"] == [{"module": "PBX0", "action": "update", "fields": ["registrations_without_password"]}]
    assert result["diff"]["before"]["PBX0"]["unwritten"] is False
    assert result["settings"][0] == {"module": "PBX0", "registrations_without_password": 0, "ip_filter": [],
                                     "unwritten": False, "inactive": False}
    assert all(flags["reg-no-pwd"] == "0" for flags in pbx.layers.values())


@pytest.mark.parametrize("written, commands, fields", [
    (FACTORY, ["config write", "config activate"], ["inactive", "unwritten"]),
    ({"reg-no-pwd": "0"}, ["config activate"], ["inactive"]),
], ids=["write failed", "activate failed"])
def test_a_run_that_failed_after_the_change_is_finished(written, commands, fields):
    pbx = LayeredPbx(current={"reg-no-pwd": "0"}, written=written)
    result = converge(pbx, registrations_without_password=0)
    assert result["changed"] and pbx.commands == commands
    assert result["changes"][0]["fields"] == fields
    assert pbx.layers[cfgtxt.WRITTEN] == pbx.layers[cfgtxt.ACTIVE] == {"reg-no-pwd": "0"}
    again = converge(pbx, registrations_without_password=0)
    assert not again["changed"] and pbx.commands == commands


def test_each_layer_is_read_once_per_read_and_only_when_a_setting_is_given():
    pbx = LayeredPbx()
    result = converge(pbx)
    assert pbx.reads == [None] and not result["changed"]
    assert "unwritten" not in result["settings"][0]
    pbx.reads = []
    converge(pbx, registrations_without_password=4)
    assert pbx.reads == [None, cfgtxt.WRITTEN, cfgtxt.ACTIVE]


def test_config_change_starts_from_the_line_as_it_is_right_before_it():
    """`config change` replaces the whole line: a flag someone else sets after the module's first read stays."""
    pbx = LayeredPbx()
    read = pbx.cfg

    def cfg(layer=None):
        if layer == cfgtxt.ACTIVE and not pbx.commands:
            pbx.layers["current"]["trace"] = "on"    # another writer, between the module's reads
        return read(layer)

    pbx.cfg = cfg
    converge(pbx, registrations_without_password=0)
    assert pbx.commands[0] == 'config change PBX0 /reg-no-pwd 0 /name "main pbx" /trace on'
    assert pbx.reads == [None, cfgtxt.WRITTEN, cfgtxt.ACTIVE, None, None, cfgtxt.WRITTEN, cfgtxt.ACTIVE]
    assert pbx.layers[cfgtxt.ACTIVE] == {"reg-no-pwd": "0", "name": "main pbx", "trace": "on"}


def test_only_the_given_settings_are_compared_in_every_layer():
    pbx = LayeredPbx(written={"reg-no-pwd": "4", "ip-filter": "10.0.0.0/255.0.0.0"})
    assert not converge(pbx, registrations_without_password=4)["changed"]
    assert converge(pbx, check_mode=True, ip_filter=[])["changes"][0]["fields"] == ["unwritten"]


def test_check_mode_predicts_and_sends_nothing():
    pbx = LayeredPbx(current={"reg-no-pwd": "0"})
    result = converge(pbx, check_mode=True, registrations_without_password=0, ip_filter=OFFICE)
    assert pbx.commands == []
    assert result["changes"][0]["fields"] == ["inactive", "ip_filter", "unwritten"]
    assert result["settings"][0]["ip_filter"] == OFFICE and result["settings"][0]["unwritten"] is False


@pytest.mark.parametrize("current, commands", [
    (FACTORY, 3),
    ({"reg-no-pwd": "0"}, 0),
])
def test_a_pbx_without_the_layer_parameter_works_as_without_layers(current, commands):
    pbx = LayeredPbx(current=current, written=FACTORY, active=FACTORY, knows_layers=False)
    converge(pbx, registrations_without_password=0)
    assert len(pbx.commands) == commands


def test_pending_settings_compare_each_layer_with_the_current_one():
    pbx = LayeredPbx(current={"reg-no-pwd": "0"}, written={"reg-no-pwd": "0"})
    flags = pbx.cfg().flags("PBX0")
    assert settings_record(pbx, flags, PBX_SETTINGS.decode(flags)) == {
        "registrations_without_password": 0, "ip_filter": [], "unwritten": False, "inactive": True}


class RebootingPbx(LayeredPbx):
    """A PBX that reboots as the first `config write` arrives: the change not written is lost (current = written),
    the client notices (a failed connection), and its retried write stores the old line."""

    def command(self, text):
        if text == "config write" and not self.interruptions:
            self.interruptions += 1
            self.layers["current"] = dict(self.layers[cfgtxt.WRITTEN])
        return super(RebootingPbx, self).command(text)


def test_a_change_lost_to_a_reboot_before_config_write_is_made_again():
    pbx = RebootingPbx()
    result = converge(pbx, registrations_without_password=0)
    assert result["changed"] and all(flags["reg-no-pwd"] == "0" for flags in pbx.layers.values())
    change = 'config change PBX0 /reg-no-pwd 0 /name "main pbx"'
    assert pbx.commands == [change, "config write", "config activate"] * 2


def test_without_an_interruption_the_change_is_not_read_back_before_the_engine_does():
    pbx = LayeredPbx()
    converge(pbx, registrations_without_password=0)
    # The module's read, the current line again right before config change (a hand change since is kept), and
    # the engine's re-read: no read-back of its own.
    assert pbx.reads == [None, cfgtxt.WRITTEN, cfgtxt.ACTIVE, None, None, cfgtxt.WRITTEN, cfgtxt.ACTIVE]


WANTED, OTHER = {"reg-no-pwd": "0"}, {"reg-no-pwd": "4"}


@pytest.mark.parametrize("current", [WANTED, OTHER], ids=["current wanted", "current other"])
@pytest.mark.parametrize("written", [WANTED, OTHER], ids=["written wanted", "written other"])
@pytest.mark.parametrize("active", [WANTED, OTHER], ids=["active wanted", "active other"])
def test_every_combination_of_the_layers_reports_pending_as_pbx_info_and_converges(current, written, active):
    """What a check reports as the PBX now (the compliance report's before) says what pbx_info says: a layer is
    pending when it holds another value than the current one, not when it lacks the inventory's value (issue 16:
    `config change` + `config activate` without `config write` is unwritten, not inactive)."""
    pbx = LayeredPbx(current=current, written=written, active=active)
    flags = pbx.cfg().flags("PBX0")
    info = settings_record(pbx, flags, PBX_SETTINGS.decode(flags))          # what pbx_info reads
    assert info["unwritten"] == (written != current) and info["inactive"] == (active != current)
    check = converge(pbx, check_mode=True, registrations_without_password=0)
    before = check["diff"]["before"].get("PBX0", dict(info, module="PBX0"))
    assert (before["unwritten"], before["inactive"]) == (info["unwritten"], info["inactive"])
    assert check["changed"] == (WANTED != current or written != current or active != current)
    assert pbx.commands == []
    result = converge(pbx, registrations_without_password=0)
    expected = []
    if current != WANTED:
        expected = ['config change PBX0 /reg-no-pwd 0', "config write", "config activate"]
    else:
        expected += ["config write"] if written != current else []
        expected += ["config activate"] if active != current else []
    assert pbx.commands == expected
    assert all(flags == WANTED for flags in pbx.layers.values())
    assert result["settings"][0]["unwritten"] is False and result["settings"][0]["inactive"] is False
    assert not converge(pbx, registrations_without_password=0)["changed"]


class ForgetfulPbx(LayeredPbx):
    """A PBX that answers `config write` with ok and stores nothing."""

    def command(self, text):
        if text == "config write":
            self.commands.append(text)
            return "ok"
        return super(ForgetfulPbx, self).command(text)


def test_a_write_the_pbx_did_not_keep_after_a_change_fails_naming_the_layer():
    from ansible_collections.innovaphone.pbx.plugins.modules.pbx_settings import check_no_pending
    pbx = ForgetfulPbx()
    result = converge(pbx, registrations_without_password=0)
    assert result["settings"][0]["unwritten"] is True
    with pytest.raises(Exception, match=r"after config write the PBX still shows a pending change of "
                                        r"registrations_without_password \(wire name 'reg-no-pwd'\)"):
        check_no_pending(result["settings"][0], {"registrations_without_password": 0})


class DroppingPbx(LayeredPbx):
    """A PBX that drops a PBX0 flag it does not know (here: every /reg-no-pwd) from what `config change` sets."""

    def command(self, text):
        result = super(DroppingPbx, self).command(text)
        self.layers["current"].pop("reg-no-pwd", None)
        return result


def test_a_value_the_current_layer_dropped_is_named_before_the_layers_behind_it():
    with pytest.raises(NotKept) as caught:
        converge(DroppingPbx(), registrations_without_password=2)
    assert str(caught.value) == (
        "settings 'PBX0', field registrations_without_password: wire name 'reg-no-pwd' "
        "(config.registrations_without_password) was not kept by the PBX: see docs/wire-names.md")


def test_a_pending_write_the_pbx_did_not_take_names_the_setting_and_its_wire_name():
    """Only the written layer lags (nothing to change): `config write` alone, and a PBX that does not take it is
    named with the setting the written layer holds otherwise and its wire name (the engine's re-read)."""
    pbx = ForgetfulPbx(current=WANTED, written=OTHER, active=WANTED)
    with pytest.raises(NotKept) as caught:
        converge(pbx, registrations_without_password=0)
    assert pbx.commands == ["config write"]
    assert str(caught.value) == (
        "settings 'PBX0', field unwritten: the PBX did not keep what was written (the written layer differs from "
        "the current one, config write is pending (contract 4); it differs in registrations_without_password, wire "
        "name 'reg-no-pwd' (config.registrations_without_password)): see docs/wire-names.md")
