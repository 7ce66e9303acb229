# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SOAP Admin() envelopes and PBX object XML."""

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import soap

ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
PBX = "{http://innovaphone.com/pbx}"


def answer(inner):
    return ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<AdminResponse xmlns="http://innovaphone.com/pbx"><return>%s</return></AdminResponse>'
            '</soap:Body></soap:Envelope>' % escape(inner))


def test_envelope_carries_the_command_escaped_in_admin_xml():
    root = ET.fromstring(soap.envelope(soap.show(cn="Hot Desk Base")))
    xml = root.find("%sBody/%sAdmin/%sxml" % (ENV, PBX, PBX))
    command = ET.fromstring(xml.text)
    assert command.tag == "show"
    assert command.find("user").attrib == {"cn": "Hot Desk Base", "config": "true"}


def test_unwrap_returns_the_answer_element():
    assert soap.unwrap(answer('<show><user cn="a"/><user cn="b"/></show>')).tag == "show"
    assert [u.get("cn") for u in soap.objects(soap.unwrap(answer('<show><user cn="a"/><user cn="b"/></show>')))] \
        == ["a", "b"]


def test_unwrap_raises_the_pbx_refusal():
    with pytest.raises(soap.SoapError, match="no such template"):
        soap.unwrap(answer("<error>no such template</error>"))


def test_unwrap_raises_a_soap_fault():
    fault = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
             '<faultcode>soap:Client</faultcode><faultstring>bad envelope</faultstring></soap:Fault>'
             '</soap:Body></soap:Envelope>')
    with pytest.raises(soap.SoapError, match="bad envelope"):
        soap.unwrap(fault)


@pytest.mark.parametrize("body", ["not xml", "<a/>", answer("<show")])
def test_unwrap_refuses_garbage(body):
    with pytest.raises(soap.SoapError):
        soap.unwrap(body)


def test_objects_wants_the_show_root():
    with pytest.raises(soap.SoapError):
        soap.objects(ET.fromstring("<ok/>"))


def test_edited_keeps_everything_it_does_not_manage():
    user = ET.fromstring(
        '<user cn="Alice" h323="alice" e164="12" pwd="********" pwdx="abcd" unknown="kept" guid="1">'
        '<device hw="0090331234" text="desk"/><grp name="sales"/><sessions><s/></sessions></user>')
    edited = soap.edited(user, {"e164": "13", "dn": "Alice A."})
    assert edited.attrib == {"cn": "Alice", "h323": "alice", "e164": "13", "pwd": "********", "unknown": "kept",
                             "guid": "1", "dn": "Alice A."}
    assert [c.tag for c in edited] == ["device", "grp"]
    assert user.get("pwdx") == "abcd" and user.find("sessions") is not None, "the original is left alone"


def test_edited_removes_emptied_attributes_and_sets_a_new_password():
    edited = soap.edited(ET.fromstring('<user cn="a" dn="x" pwd="********"/>'), {"dn": "", "pwd": "new-pw"})
    assert edited.attrib == {"cn": "a", "pwd": "new-pw"}


def test_edited_clears_the_password_given_as_empty():
    edited = soap.edited(ET.fromstring('<user cn="a" pwd="********" pwdx="abcd"/>'), {"pwd": ""})
    assert edited.attrib == {"cn": "a"}


def test_new_object_leaves_out_empty_values():
    element = soap.new_object({"cn": "T", "filter": "", "phone-config": "true"},
                              [soap.element("pseudo", {"type": "config"})])
    assert soap.to_text(element) == '<user cn="T" phone-config="true"><pseudo type="config" /></user>'


def test_delete_command():
    assert soap.to_text(soap.delete("Old")) == '<del><user cn="Old" /></del>'
