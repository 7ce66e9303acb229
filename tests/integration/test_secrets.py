# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No password in any module result or diff, nor anywhere in the `ansible-playbook -vvv --diff` output."""

from conftest import ADMIN_PASSWORD, APP_PASSWORD, PBX_PASSWORD, assert_passed, run_target

USER_SECRETS = {
    "alice_password": "Alice-Secret-Pw1",
    "seeded_password": "Zed-Seeded-Pw7",
    "new_zed_password": "Zed-Changed-Pw8",
    "too_long_password": "Bob-Far-Too-Long-Password-42",
}


def test_no_secret_in_results_diffs_or_verbose_output(sim, pbx_api):
    sim.admin('<add><user cn="Zed" h323="zed" pwd="%s"/></add>' % USER_SECRETS["seeded_password"])
    all_secrets = list(USER_SECRETS.values()) + [ADMIN_PASSWORD, PBX_PASSWORD, APP_PASSWORD]
    completed = run_target(sim, "secrets", "-vvv", "--diff", extra_vars=dict(USER_SECRETS, all_secrets=all_secrets))
    assert_passed(completed)
    output = completed.stdout + completed.stderr
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
    assert [secret for secret in all_secrets if secret in output] == []
