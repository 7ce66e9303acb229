# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which registration belongs to which phone: its own hw id, and hot-desk logins from its address only."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils.phones import phone_states
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError, check_phone_reset


def device(hw_id, address=None):
    return {"hwId": hw_id, "online": True, "ethIfs": [{"if": "ETH0", "ipv4": address}] if address else []}


def reg(user, hw, address, hotdesk=False):
    return {"user": user, "long_name": user, "hw": hw, "address": address, "with_password": True, "hotdesk": hotdesk}


def test_a_hotdesk_login_belongs_to_the_phone_at_its_address():
    devices = [device("0090A1", "192.0.2.1"), device("0090A2", "192.0.2.2")]
    regs = [reg("base", "0090a1", "192.0.2.1"), reg("base", "0090A2", "192.0.2.2"),
            reg("alice", "alice", "192.0.2.2", hotdesk=True)]
    states = phone_states(devices, regs)
    assert states["0090A1"] == {"registrations": [{"user": "base", "hotdesk": False}], "hotdesk_user": None,
                                "ambiguous": False}
    assert states["0090A2"]["hotdesk_user"] == "alice"


def test_the_address_of_the_own_registration_counts_when_the_device_tells_none():
    states = phone_states([device("0090A1")], [reg("base", "0090A1", "192.0.2.1"),
                                               reg("alice", "alice", "192.0.2.1", hotdesk=True)])
    assert states["0090A1"]["hotdesk_user"] == "alice"


def test_a_login_from_an_address_two_phones_share_is_given_to_neither():
    devices = [device("0090A1", "198.51.100.7"), device("0090A2", "198.51.100.7")]
    states = phone_states(devices, [reg("alice", "alice", "198.51.100.7", hotdesk=True)])
    assert [(s["hotdesk_user"], s["ambiguous"]) for s in states.values()] == [(None, True), (None, True)]


@pytest.mark.parametrize("params, message", [
    ({"only_logged_in": True, "url": None, "password": None, "categories": ["A"]}, "only_logged_in: needs the PBX"),
    ({"only_logged_in": False, "url": None, "password": None, "categories": ["A,B"]}, r"categories\[0\]: 'A,B'"),
])
def test_phone_reset_input_is_refused_before_any_request(params, message):
    with pytest.raises(ValidationError, match=message):
        check_phone_reset(params)
