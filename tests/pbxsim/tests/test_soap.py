# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SOAP Admin()/Version/Echo conformance: a zeep client from the WSDL, commands, answers, passwords."""

import base64
import http.client
import os
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest
import requests
import zeep
import zeep.exceptions
import zeep.transports
from requests.auth import HTTPDigestAuth

from pbxsim import crypto

from .conftest import ADMIN_PASSWORD, PBX_PASSWORD, SOAP_ENVELOPE

WSDL = os.environ.get("INNOVAPHONE_WSDL", "/work/shared/reference/pbx11_00.wsdl")
BINDING = "{http://innovaphone.com/pbx}pbxBinding"
TEMPLATE = '<add><user cn="Hot Desk Template" filter="intern" cd-filter="intern" phone-config="true">' \
           '<pseudo type="config"/></user></add>'
BASE_USER = '<add><user cn="Hot Desk Base" h323="hot-desk-base" e164="#10" pwd="base-secret" hide="true" ' \
            'config="Hot Desk Template"><device hw="hot-desk-base" text="Hotdesking" app="phone"/></user></add>'


def zeep_service(sim):
    session = requests.Session()
    session.auth = HTTPDigestAuth("admin", ADMIN_PASSWORD)
    client = zeep.Client(WSDL, transport=zeep.transports.Transport(session=session))
    return client.create_service(BINDING, sim.url + "/PBX0/user.soap")


def show(sim, **selector):
    attrs = " ".join('%s="%s"' % item for item in selector.items())
    return sim.admin('<show><user %s config="true"/></show>' % attrs)


def only_user(sim, **selector):
    answer = show(sim, **selector)
    assert answer.tag == "show" and len(answer) == 1, ET.tostring(answer)
    return answer[0]


def test_zeep_client_from_the_wsdl_round_trips_admin_version_echo(sim):
    service = zeep_service(sim)
    assert ET.fromstring(service.Admin(xml=TEMPLATE)).tag == "ok"
    assert ET.fromstring(service.Admin(xml=BASE_USER)).tag == "ok"
    answer = ET.fromstring(service.Admin(xml='<show><user cn="Hot Desk Base" config="true"/></show>'))
    assert answer.tag == "show"
    assert answer[0].get("h323") == "hot-desk-base" and answer[0].get("e164") == "#10"
    version = service.Version()
    assert version.VersionResult == 1100
    assert version.GatekeeperID == "pbx1"
    assert service.Echo(session=7, key=42) == 42


def test_zeep_sees_not_implemented_operations_as_soap_faults(sim):
    with pytest.raises(zeep.exceptions.Fault, match="not implemented"):
        zeep_service(sim).Poll(session=1)


def test_every_soap_error_is_answered_on_a_connection_that_stays_open(pbxsim):
    """Not implemented or unknown operations, bad envelopes and bad Admin commands get an answer, never a
    dropped connection: one keep-alive connection carries them all, and a good call after them."""
    sim = pbxsim("--basic")
    connection = http.client.HTTPConnection(sim.url[len("http://"):], timeout=10)
    auth = "Basic " + base64.b64encode(("admin:" + ADMIN_PASSWORD).encode()).decode()
    envelope = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>%s'
                '</soap:Body></soap:Envelope>')
    calls = [
        (500, "not implemented: Poll",
         envelope % '<Poll xmlns="http://innovaphone.com/pbx"><session>1</session></Poll>'),
        (500, "not implemented: Frobnicate", envelope % '<Frobnicate xmlns="http://innovaphone.com/pbx"/>'),
        (500, "is not in namespace", envelope % '<Admin xmlns="urn:other"><xml>&lt;show/&gt;</xml></Admin>'),
        (500, "Echo needs an integer key",
         envelope % '<Echo xmlns="http://innovaphone.com/pbx"><key>x</key></Echo>'),
        (500, "malformed envelope", "<soap:Envelope"),
        (500, "malformed envelope", ""),
        (500, "not a SOAP 1.1 envelope", "<not-soap/>"),
        (200, "unknown command frobnicate", SOAP_ENVELOPE % escape("<frobnicate><user cn='x'/></frobnicate>")),
        (200, "VersionResult", envelope % '<Version xmlns="http://innovaphone.com/pbx"/>'),
    ]
    for status, text, body in calls:
        connection.request("POST", "/PBX0/user.soap", body=body.encode(),
                           headers={"Authorization": auth, "Content-Type": "text/xml; charset=utf-8"})
        response = connection.getresponse()
        answer = response.read().decode()
        assert (response.status, response.getheader("Connection", "keep-alive").lower()) == (status, "keep-alive")
        assert text in answer, answer
        if status == 500:
            assert "<faultcode>soap:" in answer and response.getheader("Content-Type").startswith("text/xml")
    connection.close()


def test_malformed_envelope_is_a_client_fault(sim):
    response = sim.http.post(sim.url + "/PBX0/user.soap", data="<not-soap/>", timeout=10)
    assert response.status_code == 500
    assert "soap:Client" in response.text and "faultstring" in response.text


def test_show_by_every_key_and_config_true_gives_the_configured_object(sim):
    sim.admin(TEMPLATE)
    sim.admin(BASE_USER)
    user = only_user(sim, cn="Hot Desk Base")
    for selector in ({"h323": "hot-desk-base"}, {"e164": "#10"}, {"guid": user.get("guid")},
                     {"cn": "hot desk base"}):
        assert only_user(sim, **selector).get("guid") == user.get("guid")
    assert user.get("config") == "Hot Desk Template" and user.get("filter") is None  # template not applied
    assert [child.attrib for child in user] == [{"hw": "hot-desk-base", "text": "Hotdesking", "app": "phone"}]
    assert len(user.get("guid")) == 32 and int(user.get("guid"), 16) >= 0
    assert "<return>&lt;show/&gt;</return>" in sim.soap('<show><user cn="nobody"/></show>').text


def test_template_carries_pseudo_config_and_its_options(sim):
    sim.admin(TEMPLATE)
    template = only_user(sim, cn="Hot Desk Template")
    assert template.get("phone-config") == "true" and template.get("filter") == "intern"
    assert [child.attrib for child in template] == [{"type": "config"}]


def test_store_and_discard_phone_config_are_the_13r2_property_names(sim):
    sim.admin('<add><user cn="Keep" phone-config="true" discard-phone-config="false"><pseudo type="config"/>'
              '</user></add>')
    template = only_user(sim, cn="Keep")
    assert template.get("phone-config") == "true" and template.get("discard-phone-config") is None
    guid = template.get("guid")
    sim.admin('<modify><user guid="%s" cn="Keep" phone-config="false" discard-phone-config="true">'
              '<pseudo type="config"/></user></modify>' % guid)
    template = only_user(sim, cn="Keep")
    assert template.get("phone-config") is None and template.get("discard-phone-config") == "true"


def test_modify_replaces_the_whole_object(sim):
    sim.admin(TEMPLATE)
    sim.admin(BASE_USER)
    guid = only_user(sim, cn="Hot Desk Base").get("guid")
    answer = sim.admin('<modify><user guid="%s" cn="Hot Desk Base" h323="hot-desk-base" pwd="********"/></modify>'
                       % guid)
    assert answer.tag == "ok"
    user = only_user(sim, guid=guid)
    assert user.get("e164") is None and user.get("hide") is None and len(user) == 0
    assert user.get("pwd") == "********"


def test_delete_by_cn_h323_and_guid(sim):
    for number in range(3):
        sim.admin('<add><user cn="u%d" h323="u%d"/></add>' % (number, number))
    guid = only_user(sim, cn="u2").get("guid")
    for selector in ('cn="u0"', 'h323="u1"', 'guid="%s"' % guid):
        assert sim.admin("<del><user %s/></del>" % selector).tag == "ok"
    assert len(sim.admin('<show><user cn="u0"/><user cn="u1"/><user cn="u2"/></show>')) == 0


def test_add_attrib_and_del_attrib(sim):
    sim.admin('<add><user cn="alice" h323="alice"/></add>')
    for _twice in range(2):  # no duplicate check on add
        assert sim.admin('<add-attrib><user cn="alice"><device hw="alice" text="Hotdesking"/></user>'
                         '</add-attrib>').tag == "ok"
    assert [child.get("hw") for child in only_user(sim, cn="alice")] == ["alice", "alice"]
    assert sim.admin('<del-attrib><user cn="alice"><device hw="nothing"/></user></del-attrib>').tag == "ok"
    assert len(only_user(sim, cn="alice")) == 2
    assert sim.admin('<del-attrib><user cn="alice"><device hw="alice"/></user></del-attrib>').tag == "ok"
    assert len(only_user(sim, cn="alice")) == 0


def test_several_objects_in_one_command_all_or_nothing(sim):
    answer = sim.admin('<add><user cn="a" h323="a"/><user cn="b" h323="a"/></add>')
    assert answer.tag == "error" and "h323" in answer.text
    assert len(sim.admin('<show><user cn="a"/><user cn="b"/></show>')) == 0
    assert sim.admin('<add><user cn="a" h323="a"/><user cn="b" h323="b"/></add>').tag == "ok"
    assert len(sim.admin('<show><user cn="a"/><user cn="b"/></show>')) == 2


def decrypt_pwdx(admin_key, pwdx):
    """The reference 1.3 scheme, as a client with the PBX password applies it."""
    pbx_key = crypto.rc4(crypto.pad(PBX_PASSWORD, 16), bytes.fromhex(admin_key))
    return crypto.rc4(pbx_key, bytes.fromhex(pwdx)).rstrip(b"\0").decode()


def test_password_is_hidden_and_pwdx_decrypts_with_the_admin_key(sim):
    sim.admin(TEMPLATE)
    sim.admin(BASE_USER)
    user = only_user(sim, cn="Hot Desk Base")
    assert user.get("pwd") == "********" and len(bytes.fromhex(user.get("pwdx"))) == 24
    admin_key = only_user(sim, cn="_ADMIN_").get("key")
    assert len(bytes.fromhex(admin_key)) == 16
    assert decrypt_pwdx(admin_key, user.get("pwdx")) == "base-secret"


def pbx_key_of(sim):
    """The PBX key, as a client that knows the PBX password unlocks it from _ADMIN_ key (reference 1.3)."""
    return crypto.rc4(crypto.pad(PBX_PASSWORD, 16), bytes.fromhex(only_user(sim, cn="_ADMIN_").get("key")))


def test_eight_stars_without_pwdx_keep_the_password(sim):
    sim.admin('<add><user cn="bob" h323="bob" pwd="first"/></add>')
    before = only_user(sim, cn="bob")
    sim.admin('<modify><user guid="%s" cn="bob" h323="bob" pwd="********"/></modify>' % before.get("guid"))
    assert only_user(sim, cn="bob").get("pwdx") == before.get("pwdx")
    sim.admin('<modify><user cn="bob" h323="bob" pwd="second"/></modify>')
    key = only_user(sim, cn="_ADMIN_").get("key")
    assert decrypt_pwdx(key, only_user(sim, cn="bob").get("pwdx")) == "second"


def test_pwdx_written_with_eight_stars_or_without_pwd_sets_the_password(sim):
    """soapphp5 "method b": the client sends the password encrypted with the PBX key, never in clear."""
    pbx_key = pbx_key_of(sim)
    key = only_user(sim, cn="_ADMIN_").get("key")
    assert sim.admin('<add><user cn="bob" h323="bob" pwdx="%s"/></add>' % crypto.pwdx(pbx_key, "first")).tag == "ok"
    assert decrypt_pwdx(key, only_user(sim, cn="bob").get("pwdx")) == "first"
    assert sim.admin('<modify><user cn="bob" h323="bob" pwd="********" pwdx="%s"/></modify>'
                     % crypto.pwdx(pbx_key, "sécond")).tag == "ok"
    assert decrypt_pwdx(key, only_user(sim, cn="bob").get("pwdx")) == "sécond"
    user = only_user(sim, cn="bob")
    assert user.get("pwd") == "********" and len(bytes.fromhex(user.get("pwdx"))) == 24
    # what show answers can be written back unchanged: the password stays
    assert sim.admin('<modify><user cn="bob" h323="bob" pwd="********" pwdx="%s"/></modify>'
                     % user.get("pwdx")).tag == "ok"
    assert only_user(sim, cn="bob").get("pwdx") == user.get("pwdx")


def test_a_clear_pwd_wins_over_pwdx(sim):
    pbx_key = pbx_key_of(sim)
    key = only_user(sim, cn="_ADMIN_").get("key")
    sim.admin('<add><user cn="bob" h323="bob" pwd="clear" pwdx="%s"/></add>' % crypto.pwdx(pbx_key, "encrypted"))
    assert decrypt_pwdx(key, only_user(sim, cn="bob").get("pwdx")) == "clear"


@pytest.mark.parametrize("pwdx", ["zz" * 24, "abc", "00 ff", "0x00ff"])
def test_a_pwdx_that_is_not_hex_is_refused(sim, pwdx):
    sim.admin('<add><user cn="bob" h323="bob" pwd="first"/></add>')
    before = only_user(sim, cn="bob")
    answer = sim.admin('<modify><user cn="bob" h323="bob" pwd="********" pwdx="%s"/></modify>' % pwdx)
    assert answer.tag == "error" and answer.text == "pwdx of bob: %r is not hex" % pwdx
    assert ET.tostring(only_user(sim, cn="bob")) == ET.tostring(before)


def test_stats_count_clear_and_encrypted_passwords_that_arrive(sim):
    pbx_key = pbx_key_of(sim)
    sim.admin('<add><user cn="a" h323="a" pwd="clear-a"/><user cn="b" h323="b" pwd="********"/>'
              '<user cn="c" h323="c" pwd=""/></add>')
    sim.admin('<modify><user cn="a" h323="a" pwd="********" pwdx="%s"/></modify>' % crypto.pwdx(pbx_key, "x"))
    sim.admin('<add><user cn="d" h323="d" pwdx="%s"/></add>' % crypto.pwdx(pbx_key, "y"))
    sim.admin('<add><user cn="e" h323="e" pwd="clear-e" pwdx="%s"/></add>' % crypto.pwdx(pbx_key, "z"))
    sim.admin('<add><user cn="a" h323="a" pwd="refused-but-sent"/></add>')        # cn taken: refused, still counted
    sim.admin('<add-attrib><user cn="a" pwd="not-a-write-of-the-object"><device hw="a"/></user></add-attrib>')
    sim.admin('<show><user cn="a" pwd="x"/></show>')
    stats = sim.control("GET", "stats")
    assert (stats["clear_passwords"], stats["pwdx_passwords"]) == (3, 2)
    stats = sim.control("POST", "stats/reset")
    assert (stats["clear_passwords"], stats["pwdx_passwords"]) == (0, 0)


def test_the_pbx_keeps_23_bytes_of_a_user_password(sim):
    sim.admin('<add><user cn="long" h323="long" pwd="%s"/></add>' % ("x" * 30))
    key = only_user(sim, cn="_ADMIN_").get("key")
    assert decrypt_pwdx(key, only_user(sim, cn="long").get("pwdx")) == "x" * 23


def test_admin_key_depends_on_the_pbx_password_only(pbxsim):
    first = pbxsim()
    key = first.admin('<show><user cn="_ADMIN_"/></show>')[0].get("key")
    first.admin('<add><user cn="c" h323="c" pwd="pw"/></add>')
    pwdx = first.admin('<show><user cn="c"/></show>')[0].get("pwdx")
    assert decrypt_pwdx(key, pwdx) == "pw"
    other = pbxsim("--pbx-password", "another")
    other_key = other.admin('<show><user cn="_ADMIN_"/></show>')[0].get("key")
    assert other_key != key


@pytest.mark.parametrize("inner, error", [
    ("<show><user", "malformed xml"),
    ("<frobnicate><user cn='x'/></frobnicate>", "unknown command"),
    ("<add/>", "needs one or more"),
    ("<show><group cn='x'/></show>", "needs one or more"),
    ("<show><user config='true'/></show>", "no object selector"),
    ("<modify><user cn='ghost' h323='ghost'/></modify>", "no such object"),
    ("<del><user cn='ghost'/></del>", "no such object"),
    ("<add-attrib><user cn='ghost'><device hw='x'/></user></add-attrib>", "no such object"),
])
def test_bad_commands_answer_an_error_element(sim, inner, error):
    answer = sim.admin(inner)
    assert answer.tag == "error" and error in answer.text


def test_bulk_read_lists_every_object_like_show(sim):
    sim.admin(TEMPLATE)
    sim.admin(BASE_USER)
    response = sim.get("/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    listing = ET.fromstring(response.content)
    assert listing.tag == "show"
    assert [user.get("cn") for user in listing] == ["Hot Desk Template", "Hot Desk Base"]
    assert ET.tostring(listing[1]) == ET.tostring(only_user(sim, cn="Hot Desk Base"))


BULK = "/PBX0/ADMIN/mod_cmd_login.xml?"
DIRECTORY = [
    '<add><user cn="Sales" h323="sales"><pseudo type="config"/></user></add>',
    '<add><user cn="Zoe Adams" h323="zoe" e164="301" dn="Zoe" loc="Berlin"><grp name="Support"/></user></add>',
    '<add><user cn="anna Berg" h323="anna" e164="302" loc="Munich"><grp name="sales"/><grp name="Support"/>'
    '</user></add>',
    '<add><user cn="Max Carter" h323="max" e164="1302" dn="Maximilian" loc="berlin"/></add>',
]


def listed(sim, query):
    response = sim.get(BULK + query)
    assert response.status_code == 200, response.text
    listing = ET.fromstring(response.content)
    assert listing.tag == "show"
    return [obj.get("cn") for obj in listing]


def test_bulk_read_of_the_csv_import_script_narrows_by_location(sim):
    for command in DIRECTORY:
        assert sim.admin(command).tag == "ok"
    query = "cmd=show&user=*&search=&search-loc=%s&search-grp=&hide=&xsl=pbx_objs_right.xsl"
    assert listed(sim, query % "Berlin") == ["Zoe Adams", "Max Carter"]
    assert listed(sim, query % "munich") == ["anna Berg"]
    assert listed(sim, query % "") == ["Sales", "Zoe Adams", "anna Berg", "Max Carter"]
    assert listed(sim, query % "Paris") == []


def test_bulk_read_search_matches_cn_h323_e164_dn_case_insensitively(sim):
    for command in DIRECTORY:
        assert sim.admin(command).tag == "ok"
    assert listed(sim, "cmd=show&user=*&search=302") == ["anna Berg", "Max Carter"]
    assert listed(sim, "cmd=show&user=*&search=MAXIMILIAN") == ["Max Carter"]
    assert listed(sim, "cmd=show&user=*&search=zo") == ["Zoe Adams"]
    assert listed(sim, "cmd=show&user=*&search=SALES") == ["Sales"]      # a group name is not searched
    assert listed(sim, "cmd=show&user=*&search=a&search-loc=berlin") == ["Zoe Adams", "Max Carter"]
    assert listed(sim, "cmd=show&user=*&search=nobody") == []


def test_bulk_read_by_group(sim):
    for command in DIRECTORY:
        assert sim.admin(command).tag == "ok"
    assert listed(sim, "cmd=show&user=*&search-grp=support") == ["Zoe Adams", "anna Berg"]
    assert listed(sim, "cmd=show&user=*&search-grp=Sales") == ["anna Berg"]
    assert listed(sim, "cmd=show&user=*&search-grp=Support&search-loc=Munich") == ["anna Berg"]


def test_bulk_read_sorted_like_the_licence_summary_script(sim):
    for command in DIRECTORY:
        assert sim.admin(command).tag == "ok"
    assert listed(sim, "cmd=show&search=&sort=cn&sort-order=up&user=*&xsl=pbx_objs.xsl") == [
        "anna Berg", "Max Carter", "Sales", "Zoe Adams"]
    assert listed(sim, "cmd=show&search=&sort=cn&sort-order=down&user=*") == [
        "Zoe Adams", "Sales", "Max Carter", "anna Berg"]
    assert listed(sim, "cmd=show&user=*&sort=e164") == ["Sales", "Max Carter", "Zoe Adams", "anna Berg"]
    full = ET.fromstring(sim.get(BULK + "cmd=show&user=*&sort=cn&xsl=x.xsl").content)
    assert ET.tostring(full.find("user[@cn='Zoe Adams']")) == ET.tostring(only_user(sim, cn="Zoe Adams"))


def test_bulk_read_of_one_object_by_guid(sim):
    for command in DIRECTORY:
        assert sim.admin(command).tag == "ok"
    user = only_user(sim, cn="anna Berg")
    response = sim.get(BULK + "cmd=show&user-guid=%s" % user.get("guid"))
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    listing = ET.fromstring(response.content)
    assert [ET.tostring(obj) for obj in listing] == [ET.tostring(user)]
    assert listed(sim, "cmd=show&user-guid=%s" % user.get("guid").upper()) == ["anna Berg"]
    assert sim.get(BULK + "cmd=show&user-guid=" + "0" * 32).text == "<show/>"
    assert sim.get(BULK + "cmd=show&user-guid=").text == "<show/>"


@pytest.mark.parametrize("query", [
    "cmd=list", "", "cmd=show", "cmd=show&user=alice", "cmd=show&user=*&hide=true",
    "cmd=show&user=*&sort=cn&sort-order=sideways",
    "cmd=show&user=*&reg=*", "cmd=show&user=*&frobnicate=1", "cmd=show&reg=*&search=a",
    "cmd=show&user-guid=00&search-loc=x",
])
def test_unknown_bulk_query_is_refused(sim, query):
    response = sim.get(BULK + query)
    assert response.status_code == 400
    answer = ET.fromstring(response.content)
    assert answer.tag == "error" and answer.text.startswith("unknown query")
