# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Devices module targets against a fresh pbxsim (no secret in the -vvv output), and over wss."""

import pytest

from conftest import assert_passed, run_target

# pbxsim's demo defaults (contract 1): the instance password and the instance domain.
DEVICES_PASSWORD = "pbxsim-devices"
DOMAIN = "example.com"
# Passwords the targets put into scripts and users; the output must never show them.
TARGET_SECRETS = ("Base-Secret-1", "Base-Secret-2", "Temp-Secret-3")


def devices_vars(sim):
    return {"devices_url": "%s/%s/devices" % (sim.url.replace("http", "ws", 1), DOMAIN),
            "devices_password": DEVICES_PASSWORD}


@pytest.mark.parametrize("target", ["devices_category", "device_config", "provisioning_code"])
def test_devices_target(sim, target):
    completed = run_target(sim, target, "-vvv", extra_vars=devices_vars(sim))
    assert_passed(completed)
    output = completed.stdout + completed.stderr
    leaked = [secret for secret in TARGET_SECRETS + (DEVICES_PASSWORD,) if secret in output]
    assert leaked == [], "secrets in the output of %s" % target


def test_device_config_as_module_processes(sim, module_process):
    assert_passed(run_target(sim, "device_config", extra_vars=dict(devices_vars(sim), **module_process)))


def test_devices_over_wss(pbxsim_tls):
    pbxsim_tls.reset()
    assert_passed(run_target(pbxsim_tls, "devices_tls", extra_vars=devices_vars(pbxsim_tls)))
