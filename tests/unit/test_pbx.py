# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PBX objects as the modules see them (the hot-desking registration of a user), and PBX refusals."""

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import soap
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Pbx, hotdesk_record
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import HttpClient, PbxError


def test_the_hotdesk_device_is_the_one_named_like_the_user():
    user = ET.fromstring('<user cn="Alice" h323="alice"><device hw="0090331234"/>'
                         '<device hw="alice" app="phone" text="Hotdesking"/></user>')
    assert hotdesk_record(user) == {"user": "alice", "registered": True, "app": "phone", "text": "Hotdesking"}


def test_a_hardware_id_matches_the_user_name_in_any_case_as_on_the_pbx():
    user = ET.fromstring('<user cn="Alice" h323="alice"><device hw="ALICE" app="phone" text="Hotdesking"/></user>')
    assert hotdesk_record(user)["registered"] is True


def test_a_user_without_it_is_not_registered():
    user = ET.fromstring('<user cn="Bob" h323="bob"><device hw="0090331234" app="phone"/></user>')
    assert hotdesk_record(user) == {"user": "bob", "registered": False, "app": "", "text": ""}


def test_a_refused_write_names_the_object():
    client = HttpClient("http://pbx.test", "admin", "admin-pw")
    refusal = "<error>hardware id 0090331234 already used by Bob</error>"
    client.post = lambda path, body, headers: (
        '<Envelope><Body><AdminResponse><return>%s</return></AdminResponse></Body></Envelope>' % escape(refusal))
    user = ET.fromstring('<user cn="Hot Desk Base" h323="hot-desk-base"><device hw="0090331234"/></user>')
    with pytest.raises(PbxError) as caught:
        Pbx(client).admin(soap.command("modify", user))
    assert str(caught.value) == ("modify 'Hot Desk Base': the PBX refused: hardware id 0090331234 already used by "
                                 "Bob")
