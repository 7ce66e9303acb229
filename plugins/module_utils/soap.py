# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SOAP Admin() envelopes and PBX object XML (reference 1, contract 2 and 3)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import xml.etree.ElementTree as ET

from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import SOAP

NAMESPACE = "http://innovaphone.com/pbx"
SOAP_PATH = "/PBX0/user.soap"
BULK_USERS_PATH = "/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*"
BULK_REGS_PATH = "/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&reg=*"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"%s/Admin"' % NAMESPACE}
ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
KEEP_PASSWORD = "********"
# Never sent back: pwdx is derived by the PBX, sessions are runtime state (reference 1, contract 2).
NOT_WRITTEN_ATTRIBUTES = ("pwdx",)
NOT_WRITTEN_CHILDREN = ("sessions",)


class SoapError(Exception):
    """A malformed answer or a refusal (<error>) from the PBX."""


class MalformedAnswer(SoapError):
    """An answer that is not well-formed XML (cut short on the way, or not the PBX's); `detail` is the parser's."""

    def __init__(self, what, detail):
        super(MalformedAnswer, self).__init__("%s is not well-formed XML (cut short?): %s" % (what, detail))
        self.detail = detail


class SoapFault(SoapError):
    """A SOAP Fault envelope: the PBX did not carry out the call."""


def envelope(command):
    """The SOAP 1.1 request body carrying one Admin() command element."""
    root = ET.Element("{%s}Envelope" % ENVELOPE_NS)
    admin = ET.SubElement(ET.SubElement(root, "{%s}Body" % ENVELOPE_NS), "{%s}Admin" % NAMESPACE)
    ET.SubElement(admin, "{%s}xml" % NAMESPACE).text = to_text(command)
    return ET.tostring(root, encoding="utf-8")


def to_text(element):
    return ET.tostring(element, encoding="unicode")


def parse_xml(text, what):
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise MalformedAnswer(what, exc)


def fault_text(root):
    """`faultcode: faultstring` of the SOAP Fault in a parsed envelope, None if it holds none."""
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Fault":
            parts = dict((child.tag.rsplit("}", 1)[-1], " ".join((child.text or "").split())) for child in element)
            code, text = parts.get("faultcode"), parts.get("faultstring")
            return ": ".join(part for part in (code, text) if part) or "no fault text"
    return None


def body_fault(body):
    """The fault text of an answer body (an HTTP error answer may carry a SOAP Fault), None if it is none."""
    try:
        return fault_text(ET.fromstring(body))
    except ET.ParseError:
        return None


def unwrap(body):
    """The command answer inside <return>; SoapFault for a fault, SoapError for an <error> answer, MalformedAnswer
    for one that is not XML."""
    root = parse_xml(body, "the SOAP answer")
    fault = fault_text(root)
    if fault is not None:
        raise SoapFault("a SOAP fault (%s)" % fault)
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "return":
            return checked(parse_xml(element.text or "", "the Admin() answer"))
    raise SoapError("the SOAP answer has no <return>")


def checked(answer):
    if answer.tag == SOAP["error"]:
        raise SoapError("the PBX refused: %s" % (answer.text or "").strip())
    return answer


def objects(answer):
    """The <user> elements of a show answer or a bulk read."""
    if answer.tag != SOAP["show_root"]:
        raise SoapError("expected <%s>, got <%s>" % (SOAP["show_root"], answer.tag))
    return answer.findall("user")


def command(verb, obj):
    """<verb><user .../></verb> around a copy of an object element."""
    root = ET.Element(verb)
    root.append(copy.deepcopy(obj))
    return root


def show(**lookup):
    return command("show", ET.Element("user", dict(lookup, config="true")))


def children(verb, guid, elements):
    """<add-attrib> or <del-attrib> of child elements of the object `guid`: the smallest write of a child, which
    leaves every other part of the object as another writer may just have made it."""
    obj = ET.Element("user", {"guid": guid})
    obj.extend(copy.deepcopy(e) for e in elements)
    return command(verb, obj)


def delete(cn):
    return command(SOAP["delete"], ET.Element("user", {"cn": cn}))


def new_object(attributes, children=()):
    """A <user> element from attributes (empty values left out) and child elements."""
    obj = element("user", attributes)
    obj.extend(children)
    return obj


def edited(obj, attributes):
    """The complete object for `modify`: every attribute and child kept, the password too unless `attributes`
    name `pwd`, and `attributes` applied (an empty value removes the attribute, so an empty pwd clears it)."""
    result = copy.deepcopy(obj)
    for name in NOT_WRITTEN_ATTRIBUTES:
        result.attrib.pop(name, None)
    for child in [c for c in result if c.tag in NOT_WRITTEN_CHILDREN]:
        result.remove(child)
    result.set("pwd", KEEP_PASSWORD)
    for name, value in attributes.items():
        if value:
            result.set(name, value)
        else:
            result.attrib.pop(name, None)
    return result


def element(tag, attributes):
    """An element with the non-empty attributes (the PBX stores no empty ones, contract 2)."""
    return ET.Element(tag, dict((k, v) for k, v in attributes.items() if v))
