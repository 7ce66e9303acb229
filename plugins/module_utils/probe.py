# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which guessed wire names a PBX confirms, read-only (wire_probe).

It reads what can be read without a write (the bulk reads, cfg.txt and its layers, the Devices login as both
documented apps and its read messages, the message types the Devices UI's scripts send) and says of every entry of
the wire-name table: confirmed (seen as the table spells it), contradicted
(something else seen where it should be, with what was seen, and an override when the data leaves one choice) or
unseen (nothing to see without a write: what to do, after reference section 8). No value of a password-like flag
is ever shown (but for the table's flag of "No of Regs w/o Pwd", which is a count). Beside the table it says which
PBX APIs answer (SOAP, and on the PBX's AppWebsocket PbxAdminApi and PbxTableUsers, with the App object's
credentials which grants it lacks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.six.moves.urllib.parse import urljoin, urlsplit

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt, soap
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import AppRequestError, AppWebsocket, AppWsError
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import SETTINGS_MODULE, is_template
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER, SECRET_NAME
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import HttpClient, PbxError
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import DEFAULTS, WIRE_NAMES

CONFIRMED = "confirmed"
CONTRADICTED = "contradicted"
UNSEEN = "unseen"

# The documented attributes of a PBX object (reference 1.1 and the PbxAdminApi properties of reference 6): any
# other attribute set to "true" on a template may be the PBX's spelling of a template entry of the table.
DOCUMENTED_ATTRIBUTES = frozenset((
    "cn", "dn", "h323", "e164", "pwd", "pwdx", "hide", "config", "filter", "cd-filter", "node", "loc", "text",
    "email", "emails", "guid", "no-dev", "h323-email"))
# The two apps of the Devices service (reference 4, revised turn 3): the admin UI and the hidden API app. Which one
# a direct login must name is not documented, so the probe tries both.
DEVICES_APPS = ("innovaphone-devices", "innovaphone-devices-api")
DEVICES_UI_APP = DEVICES_APPS[0]
# The UI page names its scripts; they name the messages the UI sends as string literals, `mt: "…"` (reference 8).
SCRIPT_SOURCE = re.compile(r"""<script\b[^>]*?\ssrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
SENT_TYPE = re.compile(r"""\bmt["']?\s*(?::|=(?!=))\s*["']([A-Za-z]\w*)["']""")
MAX_SCRIPTS = 20
# How a write message of the Devices table may begin, when the UI spells it otherwise.
WRITE_VERBS = {"add": ("Add", "Create", "New", "Insert"),
               "update": ("Update", "Edit", "Modify", "Change", "Set", "Save"),
               "delete": ("Delete", "Del", "Remove", "Drop")}
# The PBX's AppWebsocket (reference 6.1), and per API the grant (PBX Manager's check mark) and a harmless read.
APPS_PATH = "/PBX0/APPS/websocket"
SOAP_API = "SOAP"
API_READS = (("PbxAdminApi", "Admin", "GetPbxConfig", {}),
             ("PbxTableUsers", "TableUsers", "ReplicateStart", {"columns": {"guid": {}}}))
IP_FILTER_VALUE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}/[\d.]+(,\d{1,3}(\.\d{1,3}){3}/[\d.]+)*$")
SEPARATORS = (",", ";", " ", "|", ":")

# How an operator sees an entry that no read shows (reference 8).
LOGGING = ("in the PBX's Maintenance/Logging tick Administration, make the change in the UI and read the logged "
           "command")
BROWSER = ("open the Devices app with the browser's developer tools (F12), %s, and read the WebSocket messages the "
           "UI sends")
HINTS = {
    "soap.ok": "the answer of a successful add/modify: every module checks it on its first write; " + LOGGING,
    "soap.error": "the answer of a refused command, seen when the PBX refuses a write; " + LOGGING,
    "soap.delete": "the delete command; " + LOGGING + " (delete a test user in Users Admin)",
    "template.store_phone_config": "enable Store Phone Config on a template in PBX Manager and probe again",
    "template.discard_phone_config": "enable Discard Phone Config on a template in PBX Manager and probe again",
    "template.inherit_separator": "give a test template two templates to inherit from and probe again",
    "hotdesk.device_text": "add a Hotdesking registration for a test user in Users Admin and probe again",
    "hotdesk.device_app": "add a Hotdesking registration for a test user in Users Admin and probe again",
    "registration": "probe again while a phone is registered",
    "config.registrations_without_password": "set No of Regs w/o Pwd in PBX/Config/General and probe again",
    "config.ip_filter": "an empty IP filter has no flag: set one in PBX/Config/Filter and probe again",
    "config.filter_object": "no call filter is listed in /cfg.txt: add one in PBX/Config/Filter and probe again",
    "config.filter_name": "no call filter is listed in /cfg.txt: add one in PBX/Config/Filter and probe again",
    "config.layer": ("the layers read alike: nothing is pending, or the PBX ignores the parameter; change a setting "
                     "without config write and probe again"),
    "config.ok": "the answer of a /! command, seen on the first write of pbx_settings; " + LOGGING,
    "config.error": "the answer of a refused /! command; " + LOGGING,
    "devices.app": "give the Devices connection (devices_url, devices_password) to probe the login",
    "devices.add_category": BROWSER % "add a category",
    "devices.update_category": BROWSER % "edit a category",
    "devices.delete_category": BROWSER % "delete a category",
    "devices.add_device_config": BROWSER % "add a device configuration",
    "devices.update_device_config": BROWSER % "edit a device configuration",
    "devices.delete_device_config": BROWSER % "delete a device configuration",
    "devices.config_event": ("a key of the DeviceConfigAdded / DeviceConfigEdited events, which only a change sends: "
                             "run the event source innovaphone.pbx.pbx_events and edit a device configuration"),
    "devices.config_deleted_id": ("a key of the DeviceConfigDeleted event, which only a delete sends: run the event "
                                  "source innovaphone.pbx.pbx_events and delete a device configuration"),
}


def shown_flag(name, value):
    """A PBX0 flag as the report shows it: the value of a flag named like a secret masked, unless the table names
    the flag as a setting that is none ("No of Regs w/o Pwd" is a count, though named after passwords)."""
    public = (WIRE_NAMES["config"]["registrations_without_password"], WIRE_NAMES["config"]["ip_filter"])
    return "/%s %s" % (name, PLACEHOLDER if SECRET_NAME.search(name) and name not in public else value)


class Report:
    """The entries of the table in order, each with its status; overrides for what the data resolves."""

    def __init__(self):
        self.entries = {}
        self.suggested = {}

    def note(self, entry, status, seen=None, suggest=None, hint=None):
        section, key = entry.split(".")
        row = {"entry": entry, "value": WIRE_NAMES[section][key], "status": status}
        if seen:
            row["seen"] = seen
        if status != CONFIRMED:
            row["hint"] = hint or HINTS.get(entry) or HINTS.get(section) or LOGGING
        if suggest:
            row["suggested"] = suggest
            self.suggested.setdefault(section, {})[key] = suggest
        self.entries[entry] = row

    def seen_as(self, entry, seen, candidates):
        """Confirmed when the table's value is among what was seen; else contradicted by the candidates (the one,
        if only one, suggested), or unseen when nothing was."""
        section, key = entry.split(".")
        if WIRE_NAMES[section][key] in seen:
            self.note(entry, CONFIRMED, seen=sorted(seen))
        elif candidates:
            candidates = sorted(candidates)
            self.note(entry, CONTRADICTED, seen=candidates, suggest=candidates[0] if len(candidates) == 1 else None)
        else:
            self.note(entry, UNSEEN)

    def result(self):
        rows = [self.entries.get("%s.%s" % (section, key)) or {"entry": "%s.%s" % (section, key)}
                for section, names in DEFAULTS.items() for key in names]
        counts = dict((status, sum(1 for row in rows if row.get("status") == status))
                      for status in (CONFIRMED, CONTRADICTED, UNSEEN))
        return {"changed": False, "entries": rows, "counts": counts, "suggested_wire_names": self.suggested}


def probe(pbx, devices=None, devices_login=None, ui=None, pbx_apps=None, app_credentials=False):
    """The report on the table; with `devices` (and `devices_login(app)`, an AppWebsocket logging in as `app`) the
    Devices logins, with `ui` (an HttpClient of the page's host, the page's path) the UI's message types, and with
    `pbx_apps` (an AppWebsocket to the PBX's, logging in as the App object when `app_credentials`) its APIs."""
    report = Report()
    probe_objects(report, pbx)
    probe_registrations(report, pbx)
    probe_config(report, pbx)
    logins = probe_devices(report, devices, devices_login)
    devices_ui = probe_devices_ui(report, *(ui or (None, None)))
    for entry in ("soap.ok", "soap.error", "soap.delete", "config.ok", "config.error"):
        report.note(entry, UNSEEN)
    apis, missing = probe_apis(pbx, pbx_apps, app_credentials)
    return dict(report.result(), devices_apps=logins, devices_ui=devices_ui, pbx_apis=apis, missing_grants=missing)


def ui_source(params, secrets):
    """(HttpClient, path) of the Devices UI page: devices_page_url, else the App object URL of the UI app, i.e. the
    instance URL (devices_url over http) plus the app's name (reference 3 and 8)."""
    url = params["devices_page_url"] or "%s/%s" % (
        re.sub(r"^ws", "http", params["devices_url"].rstrip("/"), flags=re.IGNORECASE), DEVICES_UI_APP)
    parts = urlsplit(url)
    client = HttpClient("%s://%s" % (parts.scheme, parts.netloc), "", "", validate_certs=params["validate_certs"],
                        ca_path=params["ca_path"], timeout=params["timeout"], secrets=secrets,
                        option="devices_page_url", peer="the Devices app's web server")
    return client, parts.path or "/"


def apps_source(params, secrets):
    """An AppWebsocket to the PBX's AppWebsocket (reference 6.1), as the App object app_name when given."""
    url = re.sub(r"^http", "ws", params["url"].rstrip("/"), flags=re.IGNORECASE) + APPS_PATH
    return AppWebsocket(url, params["app_password"] or "", "", params["app_name"] or "",
                        validate_certs=params["validate_certs"], ca_path=params["ca_path"], timeout=params["timeout"],
                        secrets=secrets, peer="the PBX's AppWebsocket")


def probe_objects(report, pbx):
    names = WIRE_NAMES["template"]
    root = pbx.read_xml(soap.BULK_USERS_PATH, "the bulk read")
    report.seen_as("soap.show_root", [root.tag], [root.tag])
    objects = list(root)
    templates = [o for o in objects if is_template(o)]
    by_cn = set(t.get("cn") for t in templates)
    table = set(names.values())
    unknown = set(a for t in templates for a, v in t.attrib.items() if v == "true"
                  and a not in DOCUMENTED_ATTRIBUTES and a not in table)
    attributes = set(a for t in templates for a in t.attrib)
    report.seen_as("template.store_phone_config", attributes,
                   [a for a in unknown if "phone" in a and "discard" not in a])
    report.seen_as("template.discard_phone_config", attributes, [a for a in unknown if "discard" in a])
    inherit = [t.get("config") for t in templates if t.get("config") and t.get("config") not in by_cn]
    fits = set(sep for value in inherit for sep in SEPARATORS
               if sep in value and all(part in by_cn for part in value.split(sep)))
    report.seen_as("template.inherit_separator", fits, fits)
    devices = [d for o in objects if not is_template(o) for d in o.findall("device")
               if d.get("hw", "").lower() == (o.get("h323") or "").lower()]
    for entry, attribute in (("hotdesk.device_text", "text"), ("hotdesk.device_app", "app")):
        seen = set(d.get(attribute) for d in devices if d.get(attribute))
        report.seen_as(entry, seen, seen)


def probe_registrations(report, pbx):
    names = WIRE_NAMES["registration"]
    regs = list(pbx.read_xml(soap.BULK_REGS_PATH, "the registrations"))
    tags = set(r.tag for r in regs)
    report.seen_as("registration.element", tags, tags)
    attributes = set(a for r in regs if r.tag == names["element"] for a in r.attrib)
    unknown = attributes - set(names.values())
    for key in sorted(names):
        if key != "element":
            report.seen_as("registration." + key, attributes, unknown)


def probe_config(report, pbx):
    names = WIRE_NAMES["config"]
    text = pbx.client.get(cfgtxt.CFG_PATH)
    cfg = cfgtxt.CfgText(text)
    flags = cfg.flags(SETTINGS_MODULE)
    table = set(names.values())
    # Candidates by the form of their value, which is never shown for a password-like name (shown_flag).
    unknown = dict((n, v) for n, v in flags.items() if n not in table)
    report.seen_as("config.registrations_without_password", flags,
                   [n for n, v in unknown.items() if isinstance(v, str) and v.isdigit()])
    report.seen_as("config.ip_filter", flags,
                   [n for n, v in unknown.items() if isinstance(v, str) and IP_FILTER_VALUE.match(v)])
    for entry in ("config.registrations_without_password", "config.ip_filter"):
        if report.entries[entry]["status"] != UNSEEN:
            report.entries[entry]["seen"] = [shown_flag(n, v) for n, v in sorted(flags.items())]
    kinds = set(kind for module, kind, _flags in cfg.objects if module == SETTINGS_MODULE)
    report.seen_as("config.filter_object", kinds, kinds)
    filter_flags = set(n for module, kind, fl in cfg.objects if module == SETTINGS_MODULE
                       and kind == names["filter_object"] for n in fl)
    report.seen_as("config.filter_name", filter_flags, filter_flags)
    probe_layers(report, pbx, text)


def probe_layers(report, pbx, current):
    seen = {}
    for layer in (cfgtxt.WRITTEN, cfgtxt.ACTIVE):
        try:
            seen[layer] = pbx.client.get(cfgtxt.cfg_path(layer))
        except PbxError as exc:
            report.note("config.layer_" + layer, CONTRADICTED, seen=[str(exc)], hint=HINTS["config.layer"])
    differs = [layer for layer, text in seen.items() if text != current]
    for layer in seen:
        report.note("config.layer_" + layer, CONFIRMED if layer in differs else UNSEEN, hint=HINTS["config.layer"])
    if differs:
        report.note("config.layer_parameter", CONFIRMED)
    elif len(seen) < 2:
        report.note("config.layer_parameter", CONTRADICTED, seen=["the PBX refused the parameter"],
                    hint=HINTS["config.layer"])
    else:
        report.note("config.layer_parameter", UNSEEN, hint=HINTS["config.layer"])


def probe_devices(report, devices, devices_login=None):
    """The login as the table's app name (and its reads), then as each documented app the table does not name:
    [{app, accepted, seen}], None without a Devices connection."""
    if devices is None:
        report.note("devices.app", UNSEEN)
        return None
    table = WIRE_NAMES["devices"]["app"]
    try:
        domains = devices.app().items("GetDomains", "domains", recvUpdates=False)
        devices.categories()
        devices.app().items("GetDeviceConfigs", "configs", domainId=devices.domain_id)
    except AppWsError as exc:
        logins = [{"app": table, "accepted": False, "seen": str(exc)}]
    else:
        logins = [{"app": table, "accepted": True, "seen": "login as domain %s, %d domains seen" % (
            devices.domain, len(domains))}]
    for app in DEVICES_APPS:
        if app != table and devices_login is not None:
            ws = devices_login(app)
            try:
                ws.open()
                logins.append({"app": app, "accepted": True, "seen": "login as domain %s" % ws.login_domain})
            except AppWsError as exc:
                logins.append({"app": app, "accepted": False, "seen": str(exc)})
            finally:
                ws.close()
    accepted = [login["app"] for login in logins if login["accepted"]]
    seen = ["%s: %s" % (login["app"], login["seen"]) for login in logins]
    if table in accepted:
        report.note("devices.app", CONFIRMED, seen=seen)
    elif accepted:
        report.note("devices.app", CONTRADICTED, seen=seen, suggest=accepted[0] if len(accepted) == 1 else None,
                    hint="the instance refuses the login as %s and accepts %s" % (table, " and ".join(accepted)))
    else:
        report.note("devices.app", CONTRADICTED, seen=seen,
                    hint="the login was refused: the app name or the password is wrong")
    return logins


class Unreadable(Exception):
    """The Devices UI page or its scripts cannot be read; the message says why."""


def ui_message_types(client, path):
    """(the message types the page's scripts send, the scripts read, what could not be read); Unreadable."""
    status, page = client.page(path)
    if status in (401, 403):
        raise Unreadable("the page asks for authentication (HTTP %d)" % status)
    if status >= 400:
        raise Unreadable("the page answered HTTP %d: another layout? devices_page_url names the page the Devices "
                         "App object's URL names" % status)
    sources = SCRIPT_SOURCE.findall(page)
    if not sources:
        raise Unreadable("the page loads no script (a sign-in page or another layout?)")
    page_url = client.base_url + path
    types, scripts, problems = set(), [], []
    for source in sources[:MAX_SCRIPTS]:
        url = urljoin(page_url, source)
        parts = urlsplit(url)
        if client.base_url != "%s://%s" % (parts.scheme, parts.netloc):
            problems.append("%s: on another host, not read" % url)
            continue
        status, script = client.page(parts.path + ("?" + parts.query if parts.query else ""))
        if status >= 400:
            problems.append("%s: HTTP %d" % (url, status))
            continue
        scripts.append(url)
        types.update(SENT_TYPE.findall(script))
    if not types:
        raise Unreadable("the page's scripts name no message type (mt: \"...\"): %s" % (
            "; ".join(problems) or "%d script(s) read" % len(scripts)))
    return sorted(types), scripts, problems


def write_candidates(key, types):
    """The message types that may be the UI's spelling of the Devices write `key` (add_category …)."""
    verb, _sep, kind = key.partition("_")
    if kind == "category":
        return [mt for mt in types if mt.startswith(WRITE_VERBS[verb]) and "Category" in mt]
    return [mt for mt in types if mt.startswith(WRITE_VERBS[verb]) and "Config" in mt and "Category" not in mt]


def probe_devices_ui(report, client, path):
    """Marks the Devices writes from the UI's scripts; {page, scripts, message_types, problems} or {page, unreadable}
    (None without a Devices connection)."""
    writes = [key for key in sorted(WIRE_NAMES["devices"]) if key.partition("_")[0] in WRITE_VERBS]
    for key in sorted(WIRE_NAMES["devices"]):
        if key != "app" and key not in writes:      # the events' payload keys: no UI script shows them
            report.note("devices." + key, UNSEEN)
    if client is None:
        for key in writes:
            report.note("devices." + key, UNSEEN)
        return None
    ui = {"page": client.base_url + path}
    try:
        types, ui["scripts"], ui["problems"] = ui_message_types(client, path)
    except (Unreadable, PbxError) as exc:
        ui["unreadable"] = str(exc)
        for key in writes:
            report.note("devices." + key, UNSEEN, hint="%s; %s" % (exc, HINTS["devices." + key]))
        return ui
    ui["message_types"] = types
    for key in writes:
        entry, value = "devices." + key, WIRE_NAMES["devices"][key]
        candidates = write_candidates(key, types)
        if value in types:
            report.note(entry, CONFIRMED, seen=[value])
        elif candidates:
            report.note(entry, CONTRADICTED, seen=candidates, suggest=candidates[0] if len(candidates) == 1 else None,
                        hint="the UI's scripts send %s, not %s" % (" or ".join(candidates), value))
        else:
            report.note(entry, UNSEEN, hint="the UI's scripts send %d message types, none of them %s or like it; %s" % (
                len(types), value, HINTS[entry]))
    return ui


def probe_apis(pbx, pbx_apps, app_credentials):
    """Which PBX APIs answer: [{api, offered, granted?, seen}], and the grants the App object lacks (None when not
    known: without App credentials, or when its login failed)."""
    try:
        pbx.admin(soap.show(cn="_ADMIN_"))
        rows = [{"api": SOAP_API, "offered": True, "seen": "Admin() answered a show"}]
    except PbxError as exc:
        rows = [{"api": SOAP_API, "offered": False, "seen": str(exc)}]
    if pbx_apps is None:
        return rows + [{"api": api, "offered": None, "granted": None, "seen": "not probed"}
                       for api, _grant, _mt, _fields in API_READS], None
    if not app_credentials:
        try:
            answered = pbx_apps.answers_challenge()
            seen = ("%s answers AppChallenge; which APIs the App object is granted needs its credentials (app_name "
                    "and app_password)" % pbx_apps.url) if answered else "%s sent no challenge" % pbx_apps.url
        except AppWsError as exc:
            answered, seen = False, str(exc)
        return rows + [{"api": api, "offered": answered, "granted": None, "seen": seen}
                       for api, _grant, _mt, _fields in API_READS], None
    try:
        pbx_apps.open()
    except AppWsError as exc:
        return rows + [{"api": api, "offered": None, "granted": None, "seen": str(exc)}
                       for api, _grant, _mt, _fields in API_READS], None
    missing = []
    try:
        for api, grant, mt, fields in API_READS:
            try:
                pbx_apps.request(mt, idempotent=True, api=api, **fields)
                rows.append({"api": api, "offered": True, "granted": True, "seen": "%s answered" % mt})
            except AppRequestError as exc:
                missing.append(grant)
                rows.append({"api": api, "offered": True, "granted": False, "seen": "%s refused: %s" % (mt, exc.text)})
            except AppWsError as exc:
                rows.append({"api": api, "offered": None, "granted": None, "seen": str(exc)})
    finally:
        pbx_apps.close()    # which also ends the replication ReplicateStart began
    return rows, missing
