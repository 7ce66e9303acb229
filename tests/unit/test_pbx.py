# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PBX objects as the modules see them (hot-desking registrations, user passwords), and failed writes."""

import xml.etree.ElementTree as ET
from urllib.parse import unquote
from xml.sax.saxutils import escape

import pytest
import requests

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt, crypto, soap
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Pbx, UserBackend, hotdesk_record
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import USERS
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


class Answer:
    def __init__(self, status, text=""):
        self.status_code, self.text, self.headers = status, text, {}


COMMAND = "config change PBX0 /pwd Flag-Value-1 /reg-no-pwd 0"


def failing_command(answer):
    """The error of running COMMAND when every request ends in `answer` (a response or an exception)."""
    client = HttpClient("http://pbx.test", "admin", "admin-pw", sleep=lambda seconds: None)

    def request(method, url, **kwargs):
        if isinstance(answer, Exception):
            raise answer
        return answer

    client.session.request = request
    with pytest.raises(PbxError) as caught:
        Pbx(client).command(COMMAND)
    return str(caught.value)


@pytest.mark.parametrize("answer", [
    Answer(200, "error bad flag"),
    Answer(500, "internal error"),
    requests.exceptions.ConnectionError("Max retries exceeded with url: " + cfgtxt.command_path(COMMAND)),
], ids=["refused", "HTTP 500", "unreachable"])
def test_a_failed_command_is_named_without_its_flag_values(answer):
    message = failing_command(answer)
    assert "config change PBX0" in message
    assert "Flag-Value-1" not in message and "Flag-Value-1" not in unquote(message)


class ObjectsPbx:
    """A PBX whose bulk read answers `objects` (XML text) and that keeps the Admin() commands it is sent."""

    def __init__(self, objects):
        self.elements = soap.objects(ET.fromstring("<show>%s</show>" % objects))
        self.sent = []
        self.client = HttpClient("http://pbx.test", "admin", "admin-pw")

    def objects(self):
        return self.elements

    def admin(self, command):
        self.sent.append(soap.to_text(command))


def test_only_the_passwords_of_the_listed_users_are_decrypted():
    key = crypto.pbx_key("00112233445566778899aabbccddeeff", "pbx-secret")
    pbx = ObjectsPbx('<user cn="Alice" h323="alice" pwd="********" pwdx="%s"/>'
                     '<user cn="Old" h323="old" pwd="********" pwdx="%s"/>' % (
                         crypto.encrypt_password(key, "alice-pw"), "ff" * 24))
    entry = dict((f.name, None) for f in USERS.fields)
    entry.update(name="alice", password="alice-pw", state="present")
    result = Engine(USERS, UserBackend(pbx, key, ["alice"])).converge([entry])
    assert not result["changed"] and pbx.sent == []
