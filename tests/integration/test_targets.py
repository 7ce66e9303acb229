# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module target against a fresh pbxsim: check+diff, create, repeat, update, delete, module_defaults; the PBX
object modules over SOAP and over PbxAdminApi/PbxTableUsers (fixture pbx_api)."""

from conftest import assert_passed, run_target


def test_config_template(sim, pbx_api):
    assert_passed(run_target(sim, "config_template"))


def seed_users(sim):
    sim.admin('<add><user cn="Hotdesking"><pseudo type="config"/></user></add>')
    sim.admin('<add><user cn="Keeper" h323="keeper" e164="501" pwd="keeper-pw" email="k@example.com">'
              '<device hw="009033000100" text="desk" app="phone"/><grp name="sales" mode="static"/></user></add>')
    sim.admin('<add><user cn="Zed" h323="zed" e164="500" pwd="zed-pw"><device hw="0090330000ff"/></user></add>')


def test_users(sim, pbx_api):
    seed_users(sim)
    completed = run_target(sim, "users", "-vvv")
    assert_passed(completed)
    assert "AnsiballZ_users" not in completed.stdout      # run in the controller's process


def test_users_as_module_processes(sim, pbx_api, module_process):
    """The same target with every module run as its own process, as on a host other than the controller."""
    seed_users(sim)
    completed = run_target(sim, "users", "-vvv", extra_vars=module_process)
    assert_passed(completed)
    assert "AnsiballZ_users.py" in completed.stdout


def test_hotdesk_registration(sim, pbx_api):
    for name in ("alice", "bob", "erin"):
        sim.admin('<add><user cn="%s" h323="%s"/></add>' % (name.capitalize(), name))
    sim.admin('<add><user cn="Carol" h323="carol"><device hw="0090330000c0" text="desk phone"/></user></add>')
    sim.admin('<add><user cn="Dave" h323="dave"><device hw="erin" text="taken"/></user></add>')
    sim.admin('<add><user cn="Frank" h323="frank"><device hw="FRANK" text="Hotdesking" app="phone"/></user></add>')
    assert_passed(run_target(sim, "hotdesk_registration"))


def test_pbx_settings(sim, pbx_api):
    assert_passed(run_target(sim, "pbx_settings"))


def test_pbx_info(sim, pbx_api):
    sim.admin('<add><user cn="Hotdesking" phone-config="true"><pseudo type="config"/></user></add>')
    sim.admin('<add><user cn="Hot Desk Base" h323="hot-desk-base" pwd="base-Pw-9" config="Hotdesking">'
              '<device hw="hot-desk-base" text="Hotdesking" app="phone" trusted="true"/><device hw="009033000001"/>'
              '</user></add>')
    sim.admin('<add><user cn="Bob" h323="bob" pwd="bob-Pw-8"/></add>')
    assert_passed(run_target(sim, "pbx_info"))


def test_pbx_command(sim):
    assert_passed(run_target(sim, "pbx_command"))


def test_check_mode_references(sim, pbx_api):
    assert_passed(run_target(sim, "check_mode_references"))
