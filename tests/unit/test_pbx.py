# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PBX objects as the modules see them (hot-desking registrations, user passwords), and failed writes."""

import copy
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
    assert hotdesk_record(user) == {"user": "alice", "registered": True, "duplicates": 0, "app": "phone",
                                    "text": "Hotdesking", "trusted": False, "tls": False, "no_filter": False}


def test_the_hotdesk_device_held_twice_is_a_duplicate_and_the_first_one_counts():
    user = ET.fromstring('<user cn="Alice" h323="alice"><device hw="alice" app="phone" trusted="true"/>'
                         '<device hw="0090331234"/><device hw="ALICE" app="other"/></user>')
    record = hotdesk_record(user)
    assert (record["registered"], record["duplicates"], record["app"], record["trusted"]) == (True, 1, "phone", True)


def test_the_flags_of_the_hotdesk_device_are_read():
    user = ET.fromstring('<user cn="Alice" h323="alice"><device hw="alice" trusted="true" no-filter="true"/></user>')
    record = hotdesk_record(user)
    assert (record["trusted"], record["tls"], record["no_filter"]) == (True, False, True)


def test_a_hardware_id_matches_the_user_name_in_any_case_as_on_the_pbx():
    user = ET.fromstring('<user cn="Alice" h323="alice"><device hw="ALICE" app="phone" text="Hotdesking"/></user>')
    assert hotdesk_record(user)["registered"] is True


def test_a_user_without_it_is_not_registered():
    user = ET.fromstring('<user cn="Bob" h323="bob"><device hw="0090331234" app="phone"/></user>')
    assert hotdesk_record(user) == {"user": "bob", "registered": False, "duplicates": 0, "app": "", "text": "",
                                    "trusted": False, "tls": False, "no_filter": False}


def test_a_refused_write_names_the_object():
    client = HttpClient("http://pbx.test", "admin", "admin-pw")
    refusal = "<error>hardware id 0090331234 already used by Bob</error>"
    client.post = lambda path, body, headers, **options: (
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


ADMIN_KEY = "00112233445566778899aabbccddeeff"
PBX_PASSWORD = "pbx-secret"
KEY = crypto.pbx_key(ADMIN_KEY, PBX_PASSWORD)


class ObjectsPbx(Pbx):
    """A SOAP PBX whose bulk read answers `objects` (XML text) and that keeps the Admin() commands it is sent."""

    def __init__(self, objects):
        super().__init__(HttpClient("http://pbx.test", "admin", "admin-pw"))
        self.elements = soap.objects(ET.fromstring("<show>%s</show>" % objects))
        self.sent = []

    def objects(self):
        return self.elements

    def key(self, pbx_password):
        return crypto.pbx_key(ADMIN_KEY, pbx_password)

    def fresh(self, element):
        return next(e for e in self.elements if e.get("cn") == element.get("cn"))

    def admin(self, command):
        """Keep the command and apply it as a PBX would: a clear password comes back as its pwdx."""
        self.sent.append(command)
        user = copy.deepcopy(command.find("user"))
        if user.get("pwd") not in (None, soap.KEEP_PASSWORD):
            user.set("pwdx", crypto.encrypt_password(KEY, user.get("pwd")))
        user.set("pwd", soap.KEEP_PASSWORD)
        self.elements = [e for e in self.elements if e.get("cn") != user.get("cn")] + [user]


def user_xml(name, password=None, pwdx=None):
    pwdx = pwdx or (crypto.encrypt_password(KEY, password) if password else None)
    return '<user cn="%s" h323="%s"%s/>' % (name.capitalize(), name, ' pwd="********" pwdx="%s"' % pwdx if pwdx else "")


def users_entry(**fields):
    entry = dict((f.name, None) for f in USERS.fields)
    entry.update(state="present", **fields)
    return entry


def test_only_the_passwords_of_the_listed_users_are_decrypted():
    pbx = ObjectsPbx(user_xml("alice", "alice-pw") + user_xml("old", pwdx="ff" * 16) + user_xml("bob", "bob-pw"))
    backend = UserBackend(pbx, ["alice"], (PBX_PASSWORD, "pbx_password"), required=True)
    result = Engine(USERS, backend).converge([users_entry(name="alice", password="alice-pw")])
    assert not result["changed"] and pbx.sent == []


@pytest.mark.parametrize("required", [True, False], ids=["pbx_password", "connection password"])
def test_a_proven_key_writes_passwords_as_pwdx_never_in_clear_text(required):
    pbx = ObjectsPbx(user_xml("alice", "alice-pw") + user_xml("bob"))
    backend = UserBackend(pbx, ["alice", "bob", "carol"], (PBX_PASSWORD, "the key password"), required=required)
    entries = [users_entry(name="alice", password="new-alice-pw"), users_entry(name="bob", password="bob-pw"),
               users_entry(name="carol", password="carol-pw")]
    result = Engine(USERS, backend).converge(entries)
    assert [c["action"] for c in result["changes"]] == ["update", "update", "create"]
    assert backend.pbx_key.proven and backend.clear_text == []
    for command, password in zip(pbx.sent, ("new-alice-pw", "bob-pw", "carol-pw")):
        user = command.find("user")
        assert user.get("pwd") == soap.KEEP_PASSWORD
        assert crypto.decrypt_password(KEY, user.get("pwdx")) == password
        assert password not in soap.to_text(command)


def test_a_connection_password_the_users_refute_is_not_used():
    pbx = ObjectsPbx(user_xml("alice", "alice-pw"))
    backend = UserBackend(pbx, ["alice"], ("gateway-admin-pw", "the connection password"))
    engine = Engine(USERS, backend)
    result = engine.converge([users_entry(name="alice", password="alice-pw")])
    assert result["changed"] and engine.unreadable == ["alice"]
    assert backend.note == "the connection password is not the PBX password"
    assert pbx.sent[0].find("user").get("pwd") == "alice-pw" and backend.clear_text == ["alice"]


def test_a_pbx_password_the_users_refute_fails_before_any_write():
    pbx = ObjectsPbx(user_xml("alice", "alice-pw"))
    backend = UserBackend(pbx, ["alice"], ("wrong-pbx-pw", "pbx_password"), required=True)
    with pytest.raises(PbxError, match="pbx_password is not the PBX password: it does not decrypt the passwords"):
        Engine(USERS, backend).converge([users_entry(name="alice", password="alice-pw")])
    assert pbx.sent == []


def test_without_any_user_password_a_key_cannot_be_proven_and_the_first_password_goes_in_clear():
    pbx = ObjectsPbx(user_xml("bob"))
    backend = UserBackend(pbx, ["bob"], (PBX_PASSWORD, "pbx_password"), required=True)
    Engine(USERS, backend).converge([users_entry(name="bob", password="bob-pw")])
    assert not backend.pbx_key.proven and not backend.pbx_key.refuted
    assert backend.note == "no user on the PBX has a password yet to prove pbx_password against"
    assert pbx.sent[0].find("user").get("pwd") == "bob-pw" and backend.clear_text == ["bob"]


def test_an_old_pwdx_of_a_listed_user_is_written_again_instead_of_failing():
    pbx = ObjectsPbx(user_xml("alice", "alice-pw") + user_xml("old", pwdx="ff" * 16))
    backend = UserBackend(pbx, ["old"], (PBX_PASSWORD, "pbx_password"), required=True)
    engine = Engine(USERS, backend)
    assert engine.converge([users_entry(name="old", password="old-pw")])["changed"]
    assert engine.unreadable == ["old"]


# --- issue 12: a write whose answer went missing --------------------------------------------------------------------
RESET = requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset'))")


def soap_answer(inner):
    return Answer(200, '<Envelope><Body><AdminResponse><return>%s</return></AdminResponse></Body></Envelope>'
                  % escape(inner))


def pbx_answering(*answers):
    """A Pbx whose HTTP session plays back `answers`; it keeps the Admin() commands sent, as text."""
    client = HttpClient("http://pbx.test", "admin", "admin-pw", sleep=lambda seconds: None)
    queue, sent = list(answers), []

    def request(method, url, data=None, **kwargs):
        sent.append(ET.fromstring(ET.fromstring(data).find(".//{%s}xml" % soap.NAMESPACE).text).tag)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client.session.request = request
    return Pbx(client), sent


ALICE = '<user cn="Alice" h323="alice"/>'


TIMEOUT = requests.exceptions.ReadTimeout("read timed out")


@pytest.mark.parametrize("failure", [RESET, TIMEOUT], ids=["connection broke", "timed out"])
@pytest.mark.parametrize("found, sent", [("", ["add", "show", "add"]), (ALICE, ["add", "show"])],
                         ids=["not carried out: sent again", "carried out: not sent again"])
def test_an_add_without_an_answer_is_sent_again_only_if_a_show_misses_it(failure, found, sent):
    pbx, commands = pbx_answering(failure, soap_answer("<show>%s</show>" % found), soap_answer("<ok/>"))
    assert pbx.admin(soap.command("add", ET.fromstring(ALICE))).tag == "ok"
    assert commands == sent


def test_an_add_attrib_counts_as_carried_out_when_the_device_is_there():
    pbx, commands = pbx_answering(RESET, soap_answer('<show><user cn="Alice" h323="alice" guid="g1">'
                                                     '<device hw="ALICE" app="phone"/></user></show>'))
    command = soap.children("add-attrib", "g1", [ET.fromstring('<device hw="alice" app="phone" text="x"/>')])
    assert pbx.admin(command).tag == "ok" and commands == ["add-attrib", "show"]


def test_a_modify_whose_answer_was_cut_short_is_sent_again():
    pbx, commands = pbx_answering(Answer(200, "<Envelope><Body><AdminRes"), soap_answer("<ok/>"))
    assert pbx.admin(soap.command("modify", ET.fromstring(ALICE))).tag == "ok"
    assert commands == ["modify", "modify"]


def test_an_add_that_timed_out_twice_is_not_sent_a_third_time():
    pbx, commands = pbx_answering(TIMEOUT, soap_answer("<show></show>"), TIMEOUT)
    with pytest.raises(PbxError) as caught:
        pbx.admin(soap.command("add", ET.fromstring(ALICE)))
    assert commands == ["add", "show", "add"]
    assert str(caught.value) == (
        "add 'Alice': the PBX at http://pbx.test did not answer POST /PBX0/user.soap within 30 seconds (2 attempts, "
        "a show before each resend; a re-run reads first and converges)")


@pytest.mark.parametrize("status", [500, 200])
def test_a_soap_fault_names_the_command_and_the_fault(status):
    fault = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
             '<faultcode>soap:Server</faultcode><faultstring>out of memory</faultstring></soap:Fault>'
             '</soap:Body></soap:Envelope>')
    pbx, commands = pbx_answering(Answer(status, fault))
    with pytest.raises(PbxError) as caught:
        pbx.admin(soap.command("add", ET.fromstring(ALICE)))
    assert commands == ["add"]
    assert str(caught.value) == "add 'Alice': the PBX at http://pbx.test answered %sa SOAP fault (%s)" % (
        "HTTP 500 with " if status == 500 else "", "soap:Server: out of memory")


# --- issue 16: hot-desk logins from documented facts (reference 6.4) ---------------------------------------------
class RegistrationsClient:
    """Answers the registrations read with `xml`."""

    where = "the PBX at http://pbx.test"

    def __init__(self, xml):
        self.xml = xml

    def get(self, path, **options):
        return self.xml

    def error(self, message):
        return PbxError(message)


def registrations(xml):
    return Pbx(RegistrationsClient(xml)).registrations()


def test_a_hot_desk_login_is_a_registration_of_a_user_with_its_own_name_as_hardware_id():
    regs = registrations('<show><reg user="hot-desk-base" hw="009033000a01" addr="192.0.2.1"/>'
                         '<reg user="alice" hw="ALICE" addr="192.0.2.1"/></show>')
    assert [(reg["user"], reg["hotdesk"]) for reg in regs] == [("hot-desk-base", False), ("alice", True)]


def test_the_hotdesk_attribute_tells_where_the_user_or_hardware_id_is_missing():
    regs = registrations('<show><reg hw="alice" hotdesk="true"/><reg user="bob" hotdesk="false"/></show>')
    assert [reg["hotdesk"] for reg in regs] == [True, False]


def test_a_registration_without_the_facts_of_a_login_is_an_error_naming_the_wire_names():
    with pytest.raises(PbxError) as caught:
        registrations('<show><reg user="alice" addr="192.0.2.1"/></show>')
    assert str(caught.value) == (
        "the PBX at http://pbx.test: a registration in the registrations read has no wire name 'hotdesk' "
        "(registration.hotdesk) and no wire name 'hw' (registration.hw), so whether it is a hot-desk login cannot "
        "be told (reference 6.4: a registration of a user whose hardware id is the user's own name): "
        "see docs/wire-names.md")


def test_registrations_under_another_element_name_are_an_error_not_nobody():
    assert registrations("<show></show>") == []
    with pytest.raises(PbxError, match=r"holds <registration> elements, none named wire name 'reg' "
                                       r"\(registration.element\): see docs/wire-names.md$"):
        registrations('<show><registration user="alice" hw="alice"/></show>')
