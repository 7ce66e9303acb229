# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A bad inventory never half-configures a PBX: the role refuses it before its first write, names the variable
and the entry, and leaves the PBX as it was (more cases in test_hotdesking_role.py and test_refused_inputs.py)."""

import pytest

from role_runs import ALICE_PASSWORD, BASE_PASSWORD, run_playbook, site_vars

# Refused from the inventory alone, before any request.
OFFLINE = {
    "no PBX password": ({"hotdesking_pbx_password": None}, "hotdesking_pbx_password"),
    "no base user password": ({"hotdesking_base_user_password": None}, "hotdesking_base_user_password"),
    "over-long password": ({"hotdesking_temp_user_password": "Temp-Role-Password-Far-Too-Long-31"},
                           "hotdesking_temp_user_password: at most 23 bytes, the PBX's limit"),
    "base and temp share an extension": ({"hotdesking_temp_user_extension": "#10"},
                                         "need their own name, extension and password"),
    "letters in an extension": ({"hotdesking_base_user_extension": "#1a"},
                                "hotdesking_base_user_extension: '#1a' may hold only digits, # and *"),
    "blank in an extension": ({"hotdesking_temp_user_extension": "20 1"},
                              "hotdesking_temp_user_extension: '20 1' may hold only digits, # and *"),
    "registrations without password, no opt-in": ({"hotdesking_registrations_without_password": 4},
                                                  "set hotdesking_allow_registrations_without_password"),
    "negative registrations without password": (
        {"hotdesking_registrations_without_password": -1, "hotdesking_allow_registrations_without_password": True},
        "hotdesking_registrations_without_password: must be 0 or more"),
    "IP filter with a bad address": ({"hotdesking_ip_filter": [{"address": "10.0.0.1", "mask": "255.0.0.0"},
                                                               {"address": "10.0.300.0", "mask": "255.255.0.0"}]},
                                     "hotdesking_ip_filter[1]: not an IPv4 address and mask"),
    "IP filter with a bad mask": ({"hotdesking_ip_filter": [{"address": "192.0.2.0", "mask": "255.0.255.0"}]},
                                  "hotdesking_ip_filter[0]: not an IPv4 address and mask"),
    "IP filter entry without a mask": ({"hotdesking_ip_filter": [{"address": "192.0.2.0"}]},
                                       "hotdesking_ip_filter[0]: 192.0.2.0 has no mask"),
    "users not a list": ({"hotdesking_users": {"alice": True}}, "hotdesking_users"),
    "timeout not a number": ({"hotdesking_timeout": "soon"}, "hotdesking_timeout"),
    "unknown wire name": ({"hotdesking_wire_names": {"template": {"store_config": "x"}}},
                          "wire_names: unknown key template.store_config"),
}

# Refused after reading the PBX and logging in to the Devices app, before the first write.
ONLINE = {
    "hot-desking user missing on the PBX": ({"hotdesking_users": ["alice", "bob"]},
                                            "hotdesking_users[1]: no user 'bob' on the PBX"),
    "unknown call filter": ({"hotdesking_template_call_filter": "internal"},
                            "hotdesking_template_call_filter: no filter 'internal' on the PBX"),
    "template named like a user": ({"hotdesking_template_name": "alice"},
                                   "hotdesking_template_name: 'alice' is the long name of a PBX object"),
    "base extension taken by a user": ({"hotdesking_base_user_extension": "101"},
                                       "hotdesking_base_user_extension: extension '101' already belongs to PBX "
                                       "object 'Alice'"),
    "temp long name taken by a user": ({"hotdesking_temp_user_long_name": "ALICE"},
                                       "hotdesking_temp_user_long_name: long name 'ALICE' already belongs"),
    "hardware id of another user": ({"hotdesking_users": ["carol"]},
                                    "hotdesking_users[0]: hardware id 'carol' already belongs to PBX object 'Alice'"),
    "wrong PBX key password": ({"hotdesking_pbx_key_password": "not-the-pbx-password"},
                               "hotdesking_pbx_key_password: it is not the PBX password"),
    "wrong Devices password": ({"hotdesking_devices_password": "not-the-devices-password"}, "Devices"),
    "wrong PBX password": ({"hotdesking_pbx_password": "not-the-admin-password"}, "401"),
}


@pytest.mark.parametrize("overrides, message", OFFLINE.values(), ids=list(OFFLINE))
def test_refused_before_any_request(site, tmp_path, overrides, message):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **overrides))
    assert code != 0
    assert message in output, output[-3000:]
    assert "Traceback" not in output
    assert site.stats()["requests"] == 0


@pytest.mark.parametrize("overrides, message", ONLINE.values(), ids=list(ONLINE))
def test_refused_before_the_first_write(site, tmp_path, overrides, message):
    site.admin('<add><user cn="Carol" h323="carol" e164="102"/></add>')
    # modify replaces the whole object: Alice keeps her password (what proves the PBX key) only if it is given.
    site.admin('<modify><user cn="Alice" h323="alice" e164="101" pwd="%s"><device hw="carol" app="phone"/></user>'
               '</modify>' % ALICE_PASSWORD)
    before = site.state()
    site.control("POST", "stats/reset")
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **overrides))
    assert code != 0
    assert message in output, output[-3000:]
    assert "Traceback" not in output
    assert site.stats()["writes"] == 0
    assert site.state() == before


def test_a_password_change_alone_shows_as_changed_in_the_diff(site, tmp_path):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site))
    assert code == 0, output[-3000:]
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_base_user_password=BASE_PASSWORD
                                                                  + "x"), "--diff", "--tags", "users")
    assert code == 0, output[-3000:]
    assert "password: changed" in output or '"password": "changed"' in output, output[-3000:]
