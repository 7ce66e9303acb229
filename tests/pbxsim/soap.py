# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SOAP 1.1 `Admin()`, `Version`, `Echo` of pbx11_00.wsdl and the bulk reads (reference 1, contract 2, 3).

Pure functions from request bytes to answer bytes; server.py does the HTTP around them.
"""

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from . import model
from . import wire_names as wn

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PBX_NS = "http://innovaphone.com/pbx"
INTERFACE_VERSION = 1100  # pbx11_00.wsdl
ATTRIBUTE_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?>'
            '<soap:Envelope xmlns:soap="%s"><soap:Body>%%s</soap:Body></soap:Envelope>' % SOAP_NS)
CLEAR_PASSWORDS = "clear_passwords"    # counters of /_sim/stats (see count_passwords)
PWDX_PASSWORDS = "pwdx_passwords"


def commands():
    """The Admin() commands (the delete command as the wire name table spells it)."""
    return ("show", "add", "modify", wn.DELETE_COMMAND, "add-attrib", "del-attrib")


class SoapFault(Exception):
    """A request that is not a usable SOAP call: answered with HTTP 500 and a fault."""

    def __init__(self, code, text):
        super().__init__(text)
        self.code = code


# --- PBX object XML -----------------------------------------------------------------------------
def to_element(node):
    """An ElementTree element as a model element dict (text content is not used by the PBX)."""
    return model.element(node.tag, node.attrib, [to_element(child) for child in node])


def to_xml(elem):
    attrs = "".join(' %s="%s"' % (name, escape(value, ATTRIBUTE_ESCAPES)) for name, value in elem["attrs"].items())
    if not elem["children"]:
        return "<%s%s/>" % (elem["tag"], attrs)
    return "<%s%s>%s</%s>" % (elem["tag"], attrs, "".join(to_xml(child) for child in elem["children"]), elem["tag"])


def show_answer(elements):
    return to_xml(model.element(wn.SHOW_ROOT, children=elements))


def error_answer(text):
    return "<%s>%s</%s>" % (wn.ERROR_ELEMENT, escape(text), wn.ERROR_ELEMENT)


def count_passwords(command, objects, tally):
    """Count the passwords that arrive in add/modify: clear text (a pwd other than "" and "********") or
    encrypted (a pwdx that sets the password, as no clear pwd comes with it). Refused commands count too."""
    if tally is None or command.tag not in ("add", "modify"):
        return
    for obj in objects:
        if obj.tag != "user":
            continue
        if obj.get("pwd", "") not in ("", model.HIDDEN_PASSWORD):
            tally[CLEAR_PASSWORDS] += 1
        elif obj.get("pwdx"):
            tally[PWDX_PASSWORDS] += 1


def admin(pbx, xml_text, tally=None):
    """Run one Admin() command: (answer, whether it was a write command).

    The answer is `<show>…`, `<ok/>` or `<error>…`; malformed XML counts as a read. `tally`, a dict with
    the keys CLEAR_PASSWORDS and PWDX_PASSWORDS, counts the passwords that arrive (count_passwords).
    """
    try:
        command = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        return error_answer("malformed xml: %s" % exc), False
    write = command.tag != "show"
    objects = list(command)
    count_passwords(command, objects, tally)
    if command.tag not in commands():
        return error_answer("unknown command %s" % command.tag), write
    if not objects or any(obj.tag != "user" for obj in objects):
        return error_answer("%s needs one or more <user> elements" % command.tag), write
    try:
        if not write:
            return show_answer([found for obj in objects for found in pbx.show(obj.attrib)]), write
        with pbx.transaction():
            for obj in objects:
                apply(pbx, command.tag, obj)
    except model.PbxError as exc:
        return error_answer(str(exc)), write
    return "<%s/>" % wn.OK_ELEMENT, write


def apply(pbx, command, obj):
    if command == "add":
        pbx.add(to_element(obj))
    elif command == "modify":
        pbx.modify(to_element(obj))
    elif command == wn.DELETE_COMMAND:
        pbx.delete(obj.attrib)
    elif command == "add-attrib":
        pbx.add_attrib(obj.attrib, [to_element(child) for child in obj])
    else:
        pbx.del_attrib(obj.attrib, [to_element(child) for child in obj])


# --- SOAP envelope --------------------------------------------------------------------------------
def parse_call(body):
    """(operation name, {child name: text}) of a SOAP 1.1 request in the PBX namespace."""
    try:
        envelope = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SoapFault("soap:Client", "malformed envelope: %s" % exc) from exc
    soap_body = envelope.find("{%s}Body" % SOAP_NS)
    if envelope.tag != "{%s}Envelope" % SOAP_NS or soap_body is None or len(soap_body) != 1:
        raise SoapFault("soap:Client", "not a SOAP 1.1 envelope with one call in its body")
    call = soap_body[0]
    namespace, operation = call.tag[1:].partition("}")[::2]
    if namespace != PBX_NS:
        raise SoapFault("soap:Client", "operation %s is not in namespace %s" % (call.tag, PBX_NS))
    return operation, {child.tag.rpartition("}")[2]: child.text or "" for child in call}


def response(operation, parts):
    """A document/literal response element <operation>Response with qualified children."""
    inner = "".join("<%s>%s</%s>" % (name, escape(str(value)), name) for name, value in parts)
    return (ENVELOPE % '<%sResponse xmlns="%s">%s</%sResponse>' % (operation, PBX_NS, inner, operation)).encode()


def fault(code, text):
    body = "<soap:Fault><faultcode>%s</faultcode><faultstring>%s</faultstring></soap:Fault>" % (code, escape(text))
    return (ENVELOPE % body).encode()


def call(pbx, identity, operation, args, tally=None):
    """(answer, whether it was a write) of one SOAP operation; identity holds the Version fields,
    tally counts passwords (see admin)."""
    if operation == "Admin":
        answer, write = admin(pbx, args.get("xml", ""), tally)
        return response("Admin", [("return", answer)]), write
    if operation == "Version":
        return response("Version", [("VersionResult", INTERFACE_VERSION)] + list(identity.items())), False
    if operation == "Echo":
        try:
            key = int(args.get("key", ""))
        except ValueError as exc:
            raise SoapFault("soap:Client", "Echo needs an integer key") from exc
        return response("Echo", [("return", key)]), False
    raise SoapFault("soap:Server", "not implemented: %s" % operation)


# --- bulk reads (reference 1 revised, contract 3) --------------------------------------------------
# Parameters of /PBX0/ADMIN/mod_cmd_login.xml?cmd=show&… that innovaphone's own clients and public scripts
# send [DOC, seen in public scripts]; `xsl` names a style sheet for the browser, which pbxsim cannot run:
# it answers the XML. A parameter that is not listed for the query is refused.
LIST_PARAMETERS = frozenset(("cmd", "user", "search", "search-loc", "search-grp", "hide", "sort", "sort-order",
                             "xsl"))
ONE_OBJECT_PARAMETERS = frozenset(("cmd", "user-guid", "xsl"))
REG_PARAMETERS = frozenset(("cmd", "reg", "xsl"))
QUERIES = (("user", LIST_PARAMETERS), ("user-guid", ONE_OBJECT_PARAMETERS), ("reg", REG_PARAMETERS))
# search=<text> matches these attributes, as a case-insensitive substring [ASSUMED: the scripts only show
# that a number finds its object].
SEARCHED_ATTRIBUTES = ("cn", "h323", "e164", "dn")


def sort_orders():
    """sort-order value -> descending; sort-order=up is seen in public scripts, its opposite is a guess."""
    return {"up": False, wn.SORT_ORDER_DOWN: True}


class BulkQueryError(Exception):
    """A bulk read pbxsim does not know: answered with HTTP 400 and an <error>."""


def wire_bool(value):
    return wn.BOOLEAN_TRUE if value else "false"


def reg_element(reg):
    return model.element(wn.REG_ELEMENT, {
        wn.REG_USER: reg["user"], wn.REG_CN: reg["cn"], wn.REG_HW: reg["hw"], wn.REG_ADDR: reg["addr"],
        wn.REG_PWD: wire_bool(reg["pwd"]), wn.REG_HOTDESK: wire_bool(reg["hotdesk"]),
    })


def bulk(pbx, query):
    """The answer of /PBX0/ADMIN/mod_cmd_login.xml for the query (a mapping of parameters).

    Raises BulkQueryError for a query it does not know.
    """
    if query.get("cmd") != "show":
        raise BulkQueryError("unknown query: cmd=%s" % query.get("cmd", ""))
    kinds = [(name, allowed) for name, allowed in QUERIES if name in query]
    if len(kinds) != 1:
        raise BulkQueryError("unknown query: cmd=show needs exactly one of user=*, user-guid=<guid>, reg=<name>")
    kind, allowed = kinds[0]
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise BulkQueryError("unknown query: parameter %s is not supported with %s" % (", ".join(unknown), kind))
    if kind == "user-guid":
        guid = query.get("user-guid", "")
        return show_answer(pbx.show({"guid": guid}) if guid else [])
    if kind == "reg":
        regs = pbx.registrations() if query["reg"] == "*" else pbx.registrations_of(query["reg"])
        return show_answer(reg_element(reg) for reg in regs)
    return show_answer(listed_objects(pbx, query))


def listed_objects(pbx, query):
    """cmd=show&user=*: every object, narrowed by search, search-loc, search-grp, in sort order."""
    if query.get("user") != "*":
        raise BulkQueryError("unknown query: user=%s (only user=* lists objects)" % query.get("user"))
    if query.get("hide"):
        raise BulkQueryError("unknown query: hide=%s is not supported (only an empty hide=)" % query.get("hide"))
    order = query.get("sort-order") or "up"
    if order not in sort_orders():
        raise BulkQueryError("unknown query: sort-order=%s (up or %s)" % (order, wn.SORT_ORDER_DOWN))
    text = (query.get("search") or "").casefold()
    loc = (query.get("search-loc") or "").casefold()
    group = (query.get("search-grp") or "").casefold()
    objects = [obj for obj in pbx.all_objects()
               if (not text or any(text in obj["attrs"].get(name, "").casefold() for name in SEARCHED_ATTRIBUTES))
               and (not loc or obj["attrs"].get("loc", "").casefold() == loc)
               and (not group or any(child["tag"] == "grp" and child["attrs"].get("name", "").casefold() == group
                                     for child in obj["children"]))]
    sort = query.get("sort")
    if sort:
        objects.sort(key=lambda obj: obj["attrs"].get(sort, "").casefold(), reverse=sort_orders()[order])
    return objects
