# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which guessed wire names a PBX confirms, read-only (wire_probe).

It reads what can be read without a write (the bulk reads, cfg.txt and its layers, the Devices login and its read
messages) and says of every entry of the wire-name table: confirmed (seen as the table spells it), contradicted
(something else seen where it should be, with what was seen, and an override when the data leaves one choice) or
unseen (nothing to see without a write: what to do, after reference section 8). No value of a password-like flag
is ever shown (but for the table's flag of "No of Regs w/o Pwd", which is a count).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt, soap
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import AppWsError
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import SETTINGS_MODULE, is_template
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER, SECRET_NAME
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import PbxError
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import DEFAULTS, WIRE_NAMES

CONFIRMED = "confirmed"
CONTRADICTED = "contradicted"
UNSEEN = "unseen"

# The documented attributes of a PBX object (reference 1.1 and the PbxAdminApi properties of reference 6): any
# other attribute set to "true" on a template may be the PBX's spelling of a template entry of the table.
DOCUMENTED_ATTRIBUTES = frozenset((
    "cn", "dn", "h323", "e164", "pwd", "pwdx", "hide", "config", "filter", "cd-filter", "node", "loc", "text",
    "email", "emails", "guid", "no-dev", "h323-email"))
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


def probe(pbx, devices=None):
    report = Report()
    probe_objects(report, pbx)
    probe_registrations(report, pbx)
    probe_config(report, pbx)
    probe_devices(report, devices)
    for entry in ("soap.ok", "soap.error", "soap.delete", "config.ok", "config.error"):
        report.note(entry, UNSEEN)
    return report.result()


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


def probe_devices(report, devices):
    if devices is not None:
        try:
            domains = devices.app().items("GetDomains", "domains", recvUpdates=False)
            devices.categories()
            devices.app().items("GetDeviceConfigs", "configs", domainId=devices.domain_id)
        except AppWsError as exc:
            report.note("devices.app", CONTRADICTED, seen=[str(exc)],
                        hint="the login was refused: the app name or the password is wrong")
        else:
            report.note("devices.app", CONFIRMED, seen=["login as domain %s, %d domains seen" % (
                devices.domain, len(domains))])
    else:
        report.note("devices.app", UNSEEN)
    for key in sorted(WIRE_NAMES["devices"]):
        if key != "app":
            report.note("devices." + key, UNSEEN)
