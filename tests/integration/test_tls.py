# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTPS with pbxsim's throwaway CA: ca_path, validate_certs false, and the refusal of an unknown CA."""

from conftest import assert_passed, run_target


def test_tls(pbxsim_tls):
    pbxsim_tls.reset()
    assert pbxsim_tls.url.startswith("https://") and pbxsim_tls.ca
    assert_passed(run_target(pbxsim_tls, "tls"))
