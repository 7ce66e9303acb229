# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module target against a fresh pbxsim: check+diff, create, repeat, update, delete, module_defaults."""

from conftest import assert_passed, run_target


def test_config_template(sim):
    assert_passed(run_target(sim, "config_template"))
