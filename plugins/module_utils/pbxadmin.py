# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PBX objects over the PBX's own AppWebsocket (reference 6): PbxAdminApi and PbxTableUsers, logged in as the
App object for automation, one connection per module run.

What the object backends of pbx.py ask of a PBX, spoken with documented names only: the users and their devices as
one PbxTableUsers replication, the config templates from GetConfigObjects and GetObject, registrations from GetRegs
(a hot-desk login is the registration whose hw is the user's own name, reference 6.4), writes as UpdateObject and
DeleteObject, the PBX key from MonitorAdminObject. The answers become the elements the SOAP read gives (the XML
attribute names are the PbxAdminApi property names, reference 1.1), so one resource table and one diff engine serve
both. The PBX0 settings and `!` commands stay on the command interface (HTTP), as the SOAP Pbx speaks it.

Retries: every request here may be sent twice without harm, but for DeleteObject: the reads, UpdateObject of an
object by its guid (it sets what it names), and a create as UpdateObject with guid `?`, which finds by cn what a first
send whose answer went missing created (reference 6.2). A replication that lost its connection starts again.

Speed on the one connection: requests do not wait for each other. The engine's `parallel` writer threads each have
their request in flight at once (appws post/collect: the answers go to their requests by `src`, reference 3), and a
read of many objects (GetRegs of every user, the ReplicateNext of every row) keeps a window of them out,
growing to READS_IN_FLIGHT.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET
from collections import deque
from itertools import islice

from ansible_collections.innovaphone.pbx.plugins.module_utils import crypto, soap
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import AppRequestError, AppWsError, Lost, NoAnswer
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Pbx, fold, hotdesk_devices, object_name
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import (
    BOOL, HOTDESK_REGISTRATIONS, TEMPLATES, USERS)

API_PATH = "/PBX0/APPS/websocket"
ADMIN_API = "PbxAdminApi"
TABLE_API = "PbxTableUsers"
# The App object's grant ("Grant access to APIs" in PBX Manager) each API needs (reference 6.1).
GRANTS = {ADMIN_API: "Admin", TABLE_API: "TableUsers"}
# The columns of the users table a bulk read needs (reference 6.3): the user fields of the resource table (its
# wire names are the property names), and the array properties that are child elements on SOAP (reference 1.1:
# `devices` holds <device>, `grp`/`grps` <grp>).
USER_COLUMNS = ("guid",) + tuple(wire for f in USERS.fields for wire in f.wire_names) + (
    "node", "loc", "pseudo", "devices", "grps")
REQUIRED_COLUMNS = ("guid", "h323", "cn", "devices")
ARRAYS = {"devices": "device", "grp": "grp", "grps": "grp"}
# What every message carries beside the object's properties (reference 6.1).
ENVELOPE = ("api", "mt", "src")
# The device flags (reference 6.2's device object) beside the resource table's booleans.
DEVICE_FLAGS = ("admin", "no-filter", "tls", "no-mob", "trusted")
# GetConfigObjects returns at most this many templates per answer (reference 6.2).
CONFIG_OBJECTS_LIMIT = 50
# How many reads of one kind (GetRegs of every user, ReplicateNext of every row) go out before their answers come
# back: the first READS_FIRST, twice as many each time half of them are answered, up to READS_IN_FLIGHT (a window
# that grows as TCP's does). So N reads cost about log2 + N / READS_IN_FLIGHT latencies, while a small table gets
# few ReplicateNext past its end; the requests are a few dozen bytes each. When half are answered, the next ones go
# out in one write (appws post_all), not one write per answer.
READS_FIRST = 128
READS_IN_FLIGHT = 512
# A boolean sent as a number deletes the setting (reference 6.2): what SOAP does when the attribute is left out.
DELETE_SETTING = -1
# The reads a module may announce (Pbx.read_ahead): the request that answers each.
AHEAD = {"key": ("MonitorAdminObject", {}), "reverse_proxies": ("GetRPs", {})}
# The numbers of a GetPbxLicenses license (reference 6.2; sent as strings by the PBX, INFERRED).
LICENSE_COUNTS = ("count", "local", "slaves", "used")


def pbxadminapi_url(url):
    """The PBX's AppWebsocket of the base URL `url`: ws(s) for http(s), the path /PBX0/APPS/websocket (reference
    6.1) under the URL's own path (a reverse proxy's)."""
    scheme, _sep, rest = url.strip().rstrip("/").partition("://")
    return "%s://%s%s" % ({"http": "ws", "https": "wss"}.get(scheme.lower(), scheme), rest, API_PATH)


def request_key(mt, fields):
    """What tells one request from another, for a read asked ahead."""
    return mt, json.dumps(fields, sort_keys=True)


def boolean_properties():
    """The properties the collection writes as JSON booleans: the resource table's and the device flags."""
    return frozenset(f.wire for resource in (USERS, TEMPLATES, HOTDESK_REGISTRATIONS) for f in resource.fields
                     if f.codec is BOOL) | frozenset(DEVICE_FLAGS)


def to_element(obj, tag="user"):
    """An object of a PbxAdminApi answer or a PbxTableUsers row as the element the SOAP read gives: strings and
    numbers as attributes, `true` as "true" (false and absent alike: the PBX stores no false), the encrypted `pwd`
    as `pwdx` (reference 1.3 and 6.2), arrays and objects as children, `pseudo` given as XML parsed."""
    element = ET.Element(tag)
    for name, value in obj.items():
        if name in ENVELOPE:
            continue
        if name == "pseudo" and isinstance(value, str):
            if value.strip():
                element.append(soap.parse_xml(value, "the pseudo column"))
        elif isinstance(value, dict):
            element.append(to_element(value, name))
        elif isinstance(value, list):
            element.extend(to_element(item, ARRAYS.get(name, name)) for item in value if isinstance(item, dict))
        elif isinstance(value, bool):
            if value:
                element.set(name, "true")
        elif value is None or value == "":
            continue
        elif name == "pwd" and tag == "user":
            element.set("pwdx", str(value))
        else:
            element.set(name, str(value))
    return element


def properties(attributes, booleans):
    """UpdateObject properties of SOAP-style attributes: booleans as JSON booleans, an empty one deleted."""
    result = {}
    for name, value in attributes.items():
        if name in booleans:
            result[name] = True if value else DELETE_SETTING
        else:
            result[name] = value
    return result


def device_properties(device, booleans):
    """A <device> element as an item of the `devices` array (flags true or left out)."""
    return dict((name, True if name in booleans else value) for name, value in device.attrib.items()
                if value and (name not in booleans or value == "true"))


def element_properties(element):
    """A whole new object: its attributes and children as UpdateObject properties."""
    booleans = boolean_properties()
    result = properties(dict(element.attrib), booleans)
    for child in element:
        if child.tag == "device":
            result.setdefault("devices", []).append(device_properties(child, booleans))
        elif child.tag == "pseudo":
            result["pseudo"] = dict(child.attrib)
        else:
            result.setdefault(child.tag, []).append(dict(child.attrib))
    return result


class PbxAdmin(Pbx):
    """A PBX whose objects go over PbxAdminApi/PbxTableUsers on `ws` (an appws.AppWebsocket logged in as the App
    object); settings and commands over `client` (HTTP) as on the SOAP Pbx. SOAP Admin() is never sent."""

    writes_pwdx = False     # UpdateObject takes `pwd` in clear text only (reference 6.2)
    api = "PbxAdminApi"

    def __init__(self, client, ws):
        super(PbxAdmin, self).__init__(client)
        self.ws = ws
        self._admin_info = None
        self._users = None
        # The APIs that have answered a request: a later refusal is about that request, not a missing grant.
        self._answered = set()
        self._queued = []       # reads asked ahead (ahead()), sent with the next request
        self._ahead = {}        # request_key() -> the ticket of a read asked ahead and sent

    def read_ahead(self, *reads):
        for read in reads:
            mt, fields = AHEAD[read]
            self.ahead(mt, **fields)

    def ahead(self, mt, api=ADMIN_API, **fields):
        """Ask for a read with the next request that goes out, so that its round trip overlaps the others; call()
        with the same mt and fields collects its answer."""
        self._queued.append((mt, dict(fields, api=api)))

    def post(self, requests):
        """Send `requests` [(mt, fields)] in one write, after the reads asked ahead not sent yet; their tickets."""
        queued, self._queued = self._queued, []
        tickets = self.ws.post_all(queued + list(requests))
        self._ahead.update(zip([request_key(mt, fields) for mt, fields in queued], tickets))
        return tickets[len(queued):]

    def close(self):
        self.ws.close()

    def call(self, mt, idempotent=True, api=ADMIN_API, **fields):
        """The result message of one request; a refusal names the grant the App object may lack. Thread-safe:
        the engine's writer threads each have a request in flight at once on the one connection. A read asked
        ahead is not sent again: its answer is collected (asked again only when it went missing)."""
        if self._queued:
            self.post([])
        ticket = self._ahead.pop(request_key(mt, dict(fields, api=api)), None)
        if ticket is not None:
            try:
                return self.answer(ticket, api)
            except (Lost, NoAnswer):
                pass    # asked again below, with the retries of shared()
        try:
            result = self.ws.shared(mt, idempotent=idempotent, api=api, **fields)[-1]
        except AppRequestError as exc:
            raise self.refused(exc, api)
        self._answered.add(api)
        return result

    def answer(self, ticket, api=ADMIN_API):
        """The result message of a request sent with ws.post()."""
        ticket_mt = ticket[2]
        try:
            result = self.ws.checked(ticket_mt, self.ws.collect(ticket))[-1]
        except AppRequestError as exc:
            raise self.refused(exc, api)
        self._answered.add(api)
        return result

    def refused(self, exc, api):
        """The error of a refused request; until the API has answered one, it may be the App object's grant."""
        if api in self._answered:
            return self.ws.error(str(exc))
        return self.ws.error("%s (is the App object %s granted %s? docs/guide.md)" % (exc, self.ws.app, GRANTS[api]))

    def admin(self, command):
        raise self.client.error("SOAP %s is not sent with pbx_api: pbxadminapi (not implemented over PbxAdminApi)"
                                % command.tag)

    # --- reads ----------------------------------------------------------------------------------
    def objects(self):
        """Every user with its devices (one replication) and every config template; the first page of templates
        is asked for with the replication."""
        self.ahead("GetConfigObjects", limit=CONFIG_OBJECTS_LIMIT)
        return self.users() + self.templates()

    def users(self):
        for attempt in range(2):
            try:
                self._users = self._replicate()
                return list(self._users)
            except AppRequestError:
                raise
            except AppWsError as exc:
                if attempt:
                    raise
                failure = exc
            try:
                self.ws.reconnect()   # a new session replicates from the start
            except AppWsError as exc:
                raise self.ws.error("%s; connecting again failed: %s" % (failure, exc))
        return []  # not reached

    def _replicate(self):
        """The users table from the first row to the end (ReplicateStart, then ReplicateNext until an answer
        carries no row: reference 6.3, INFERRED)."""
        # ReplicateStart and the first READS_FIRST ReplicateNext in one write: the app takes a connection's
        # requests in order (reference 3: answers are matched by src, INFERRED that requests are handled in turn),
        # so the replication has started when they come to it, one round trip earlier.
        tickets = self.post([("ReplicateStart", {"api": TABLE_API, "columns": dict((n, {}) for n in USER_COLUMNS)})]
                            + [("ReplicateNext", {"api": TABLE_API})] * READS_FIRST)
        started = self.answer(tickets[0], TABLE_API)
        offered = started.get("columns")
        missing = [name for name in REQUIRED_COLUMNS if isinstance(offered, (dict, list)) and name not in offered]
        if missing:
            raise self.ws.error("%s offers no column %s in its users table (reference 6.3)" % (
                self.ws.where, ", ".join(missing)))
        # Many ReplicateNext at once (_window), each answered by the next row in turn (INFERRED: the page shows
        # one at a time); past the end they are answered without a row. Not sent again: a lost one loses a row,
        # so the caller replicates again from the start.
        rows, ended = [], []

        def more():
            while not ended:
                yield "ReplicateNext", {"api": TABLE_API}
        try:
            for answer in self._window(more(), TABLE_API, tickets[1:]):
                row = answer.get("columns")
                if row:
                    rows.append(to_element(row))
                else:
                    ended.append(True)
        except NoAnswer as exc:
            raise self.ws.error("%s; the replication is not continued (%s)" % (exc, "a re-run reads again"))
        return rows

    def _window(self, requests, api=ADMIN_API, in_flight=()):
        """The result of each request (mt, fields) of the iterable `requests`, in order, in a window that grows
        from READS_FIRST to READS_IN_FLIGHT: when half of it is answered, it doubles and is filled again in one
        write. `in_flight`: tickets sent already, whose answers come first. `requests` is drawn from only when more
        are sent, so it may end on what has been answered so far."""
        in_flight, requests, drawn = deque(in_flight), iter(requests), True
        window = max(READS_FIRST, len(in_flight))
        while True:
            if drawn and len(in_flight) <= window // 2:
                if in_flight:
                    window = min(2 * window, READS_IN_FLIGHT)
                batch = list(islice(requests, window - len(in_flight)))
                drawn = bool(batch)
                in_flight.extend(self.post(batch) if batch else ())
            if not in_flight:
                return
            yield self.answer(in_flight.popleft(), api)

    def templates(self):
        """The config templates (GetConfigObjects, paged by `more`) with their properties (GetObject each); what a
        template inherits as GetConfigObjects lists it (reference 6.2)."""
        listed, more = [], None
        while True:
            fields = {"limit": CONFIG_OBJECTS_LIMIT}
            if more is not None:
                fields["more"] = more
            answer = self.call("GetConfigObjects", **fields)
            if "objects" not in answer:
                raise self.ws.error("%s answered GetConfigObjects without objects" % self.ws.where)
            listed.extend(answer["objects"] or [])
            if not answer.get("more") or answer.get("more") == more:
                break
            more = answer["more"]
        templates = []
        objects = self.reads("GetObject", [{"cn": listing.get("cn"), "template": "without"} for listing in listed])
        for listing, answer in zip(listed, objects):
            element = to_element(answer)
            inherit = TEMPLATES.field("inherit")
            element.attrib.pop(inherit.wire, None)
            element.attrib.update(inherit.write(listing.get("config") or []))
            if not element.get(inherit.wire):
                element.attrib.pop(inherit.wire)
            if not any(child.tag == "pseudo" for child in element):
                element.append(ET.Element("pseudo", {"type": "config"}))
            templates.append(element)
        return templates

    def registrations(self):
        """The registrations of every user now (GetRegs each); a hot-desk login is one whose hw is the user's own
        name (reference 6.4). Whether a registration used a password is not in GetRegs: None."""
        users = self._users if self._users is not None else self.users()
        found = []
        for user, answer in zip(users, self.reads("GetRegs", [{"guid": user.get("guid")} for user in users])):
            if not isinstance(answer.get("regs", []), list):
                raise self.ws.error("%s answered GetRegs for %r without a list of regs" % (
                    self.ws.where, user.get("cn")))
            name = user.get("h323") or ""
            found.extend({
                "user": name,
                "long_name": user.get("cn") or "",
                "hw": reg.get("hw") or "",
                "address": reg.get("addr") or "",
                "with_password": None,
                "hotdesk": bool(name) and fold("hw", reg.get("hw") or "") == fold("hw", name),
            } for reg in answer.get("regs") or [])
        return found

    def reads(self, mt, many):
        """The results of one PbxAdminApi read per fields dict of `many`, up to READS_IN_FLIGHT in flight.
        When the connection breaks or an answer stays away, the reads not answered yet go one by one through
        call(), with its retries."""
        results = []
        try:
            results.extend(self._window((mt, dict(fields, api=ADMIN_API)) for fields in many))
        except (Lost, NoAnswer):
            results.extend(self.call(mt, **fields) for fields in many[len(results):])
        return results

    def admin_info(self):
        """MonitorAdminObjectInfo {key, pwd} (reference 6.2), asked for once."""
        if self._admin_info is None:
            self.call("MonitorAdminObject")
            info = self.ws.shared_wait_for("MonitorAdminObjectInfo", self.ws.timeout)
            if not info or not info.get("key"):
                raise self.ws.error("%s sent no MonitorAdminObjectInfo with the key after MonitorAdminObject" %
                                    self.ws.where)
            self._admin_info = info
        return self._admin_info

    def key(self, pbx_password):
        return crypto.pbx_key(self.admin_info()["key"], pbx_password)

    def proves(self, key, pbx_password):
        """Whether the admin object's `pwd` decrypts with `key` to `pbx_password` (reference 6.2, INFERRED)."""
        pwd = self.admin_info().get("pwd")
        if not pwd:
            return None
        try:
            return crypto.decrypt_password(key, pwd) == pbx_password
        except crypto.CryptoError:
            return False

    # --- writes ---------------------------------------------------------------------------------
    def write(self, mt, element, idempotent=True, **fields):
        """One request about the object `element`; its error names the object (several are in flight at once)."""
        try:
            return self.call(mt, idempotent=idempotent, **fields)
        except AppWsError as exc:
            raise self.ws.error("%s %r: %s" % (mt, object_name(element), exc))

    def add(self, element):
        """Create with guid `?`: a resend after a lost answer finds by cn what the first send created."""
        self.write("UpdateObject", element, **dict(element_properties(element), guid="?"))

    def modify(self, element, attributes):
        """Only the changed properties: what UpdateObject leaves out stays as the PBX holds it now."""
        self.write("UpdateObject", element,
                   **dict(properties(attributes, boolean_properties()), guid=element.get("guid")))

    def delete_object(self, element):
        self.write("DeleteObject", element, idempotent=False, guid=element.get("guid"))

    def put_device(self, element, device_for):
        """The user's devices as the PBX holds them now, the hot-desking one replaced by device_for(it) (removed
        for None), written back whole (UpdateObject replaces the array)."""
        guid = element.get("guid")
        devices = list(self.write("GetObject", element, guid=guid, properties=["devices"]).get("devices") or [])
        now = to_element({"h323": element.get("h323"), "devices": devices})
        hot = hotdesk_devices(now)
        current = hot[0] if hot else None
        positions = [list(now).index(device) for device in hot]
        position = positions[0] if hot else len(devices)
        new = device_for(current)
        if current is None and new is None:
            return
        for index in reversed(positions):  # a duplicate goes with it: the first one's place is kept
            del devices[index]
        if new is not None:
            devices.insert(position, device_properties(new, boolean_properties()))
        self.write("UpdateObject", element, guid=guid, devices=devices)

    # --- what only PbxAdminApi tells (reference 6.2): call filters, licenses, reverse proxies ------------
    def filters(self, cfg=None):
        """The names of the call filters (GetFilters {filter: [names]}); `cfg` is the SOAP Pbx's, unused here."""
        names = self.call("GetFilters").get("filter")
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise self.ws.error("%s answered GetFilters without its list of filter names {filter: [names]} "
                                "(reference 6.2)" % self.ws.where)
        return names

    def licenses(self):
        """The PBX's licenses (GetPbxLicenses {lic: [{name, count, local, slaves, used, version}]}), the counts as
        numbers: {test_mode, items}. An answer without `lic` is a PBX "in the Test Mode or [that] has no licenses
        installed" (innovaphone's license example for GetPbxLicenses): test_mode true, no items."""
        answer = self.call("GetPbxLicenses")
        if "lic" not in answer:
            return {"test_mode": True, "items": []}
        expected = ("%s answered GetPbxLicenses with a lic that is not a list of {name, count, local, slaves, used, "
                    "version} with numbers for count and used (reference 6.2)" % self.ws.where)
        if not isinstance(answer["lic"], list):
            raise self.ws.error(expected)
        items = []
        for lic in answer["lic"]:
            if not isinstance(lic, dict) or not isinstance(lic.get("name"), str):
                raise self.ws.error(expected)
            item = dict(lic)
            for count in LICENSE_COUNTS:
                if count not in lic and count not in ("count", "used"):
                    continue    # local and slaves: not needed for a free license
                try:
                    item[count] = int(str(lic.get(count)).strip())
                except ValueError:
                    raise self.ws.error("%s: %s %r of license %s" % (expected, count, lic.get(count), lic["name"]))
            items.append(item)
        return {"test_mode": False, "items": items}

    def reverse_proxies(self):
        """The reverse proxies the PBX knows (GetRPs {addr, hw, dns, rp: [{addr, cert, cert2}]}): the rp list."""
        rps = self.call("GetRPs").get("rp")
        if not isinstance(rps, list) or not all(isinstance(rp, dict) and rp.get("addr") for rp in rps):
            raise self.ws.error("%s answered GetRPs without its list of reverse proxies {rp: [{addr, cert, cert2}]} "
                                "(reference 6.2)" % self.ws.where)
        return [dict(rp) for rp in rps]
