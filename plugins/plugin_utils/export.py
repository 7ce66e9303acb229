# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hot-desking setup a site holds now, as the hotdesking role's inventory variables (playbook export).

The input is what innovaphone.pbx.pbx_info and innovaphone.pbx.devices_info return, which holds no secret
(passwords are never read, update scripts come masked). The output is the role's variables for the site, the vault
variables its passwords refer to, and notes on what no role variable can hold. The export never guesses: where the
data allows more than one answer, or the role would write something else, the variable stays out and the note says
why. Every role variable the export knows is in ROLE_VARIABLES; each step's mapping is one function below.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote_plus

from ansible.errors import AnsibleFilterError

from ansible_collections.innovaphone.pbx.plugins.filter.hotdesk_function_key import hotdesk_function_key
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import CONFIG_TYPES, normalised_script
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import HOTDESK

TEMPLATE_VARIABLES = ("hotdesking_template_name", "hotdesking_template_call_filter",
                      "hotdesking_template_call_forward_filter", "hotdesking_template_store_phone_config")
# The variables the role builds the expert configuration's update script from (besides the base user).
SCRIPT_VARIABLES = ("hotdesking_function_key_id", "hotdesking_function_key_label",
                    "hotdesking_function_key_logout_label", "hotdesking_reset_serial")
# The role's variables the export writes, by the heading they stand under in the file, in the role's order.
ROLE_VARIABLES = (
    ("Connection (as the inventory the export ran with has it)", (
        "hotdesking_pbx_url", "hotdesking_pbx_username", "hotdesking_pbx_password", "hotdesking_pbx_key_password",
        "hotdesking_validate_certs", "hotdesking_ca_path", "hotdesking_allow_basic_auth", "hotdesking_timeout",
        "hotdesking_wire_names", "hotdesking_devices_url", "hotdesking_devices_password",
        "hotdesking_devices_domain")),
    ("Step 1: config template", TEMPLATE_VARIABLES),
    ("Step 2: Hot Desk Base user and temp user", (
        "hotdesking_base_user_name", "hotdesking_base_user_long_name", "hotdesking_base_user_extension",
        "hotdesking_base_user_password", "hotdesking_temp_user_name", "hotdesking_temp_user_long_name",
        "hotdesking_temp_user_extension", "hotdesking_temp_user_password", "hotdesking_hide_from_ldap")),
    ("Step 3: hot-desking registration", (
        "hotdesking_users", "hotdesking_phone_app", "hotdesking_registration_trusted", "hotdesking_registration_tls",
        "hotdesking_registration_no_filter")),
    ("Step 4: Devices provisioning category", ("hotdesking_category_name",)),
    ("Step 5: Phone device configuration", (
        "hotdesking_phone_config_name", "hotdesking_gatekeeper_id", "hotdesking_primary_gatekeeper",
        "hotdesking_secondary_gatekeeper")),
    ("Step 6: expert configuration", ("hotdesking_expert_config_name",) + SCRIPT_VARIABLES),
    ("Security considerations", ("hotdesking_registrations_without_password", "hotdesking_ip_filter")),
)
# The connection variables the export copies from the inventory (the secrets among them never: see SECRETS).
CONNECTION_VARIABLES = ROLE_VARIABLES[0][1]
# Passwords: written as a reference to a vault variable the operator fills, never with a value.
SECRETS = ("hotdesking_pbx_password", "hotdesking_pbx_key_password", "hotdesking_devices_password",
           "hotdesking_base_user_password", "hotdesking_temp_user_password")
# The registration flags of the role, by the field pbx_info returns them under.
REGISTRATION_FLAGS = (("trusted", "hotdesking_registration_trusted"), ("tls", "hotdesking_registration_tls"),
                      ("no_filter", "hotdesking_registration_no_filter"))
GATEKEEPER = (("id", "hotdesking_gatekeeper_id"), ("primary", "hotdesking_primary_gatekeeper"),
              ("secondary", "hotdesking_secondary_gatekeeper"))

# The update script the role writes (roles/hotdesking/tasks/main.yml, reference 5), line by line.
SIG_LINE = re.compile(r"^config add PHONE SIG /h323 (?P<base>\S+) /gk-pwd (?P<password>\S+)$")
KEY_LINE = re.compile(r"^vars create PHONE/USER-CFG/(?P<user_config>\d{5}) p (?P<xml>\S+)$")
RESET_LINE = re.compile(r"^mod cmd UP1 check iresetn (?P<serial>\S+)$")
CLOSING_LINES = ("config write", "config activate")
# Where the export finds the base user of a hand-made expert script, whatever else the script is.
REGISTERS_AS = re.compile(r"^config add PHONE SIG\b.*?\s/h323\s+(?P<base>\S+)", re.MULTILINE)


def vault_variable(site, variable):
    """The vault variable a password variable of `site` refers to: vault_<site>_<variable without hotdesking_>."""
    slug = re.sub(r"[^0-9a-z_]+", "_", site.lower()).strip("_") or "site"
    return "vault_%s_%s" % (slug, variable[len("hotdesking_"):])


def listed(names):
    return ", ".join("`%s`" % name for name in names)


class SiteExport:
    """The variables and notes of one site while they are mapped."""

    def __init__(self, site):
        self.site = site
        self.values = {}
        self.unmapped = {}
        self.notes = []

    def set(self, variable, value):
        self.values[variable] = value

    def leave_out(self, variables, note):
        """Variables the data does not give one value for: out of the file, the reason in the notes."""
        for variable in variables:
            self.unmapped.setdefault(variable, note)
        self.note(note)

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def result(self):
        secrets = [{"variable": name, "vault": vault_variable(self.site, name)} for name in SECRETS]
        for secret in secrets:
            self.values[secret["variable"]] = "{{ %s }}" % secret["vault"]
        return {"site": self.site, "variables": self.values, "unmapped": self.unmapped, "notes": self.notes,
                "secrets": secrets,
                "files": {"host_vars": {"name": self.site + ".yml", "content": render_host_vars(self)},
                          "notes": {"name": self.site + ".md", "content": render_note(self)}}}


# --- reading the update script back ---------------------------------------------------------------------------
def function_key(line):
    """The role's variables of a `vars create PHONE/USER-CFG/...` line, or None when the role would not write
    that line (the line the role writes from them must be this one, character for character)."""
    match = KEY_LINE.match(line)
    if not match or match.group("user_config") != "00000":
        return None
    try:
        user = ET.fromstring(unquote_plus(match.group("xml")))
    except ET.ParseError:
        return None
    keys = list(user)
    actions = list(keys[0]) if len(keys) == 1 else []
    if user.tag != "user" or len(actions) != 1 or keys[0].tag != "f" or actions[0].tag != "hotdesk":
        return None
    key, action = keys[0], actions[0]
    try:
        values = {"hotdesking_function_key_id": int(key.get("id")),
                  "hotdesking_function_key_label": key.get("label"),
                  "hotdesking_function_key_logout_label": action.get("label")}
        rebuilt = hotdesk_function_key(values["hotdesking_function_key_id"], values["hotdesking_function_key_label"],
                                       values["hotdesking_function_key_logout_label"])
    except (AnsibleFilterError, TypeError, ValueError):  # a value the filter refuses, the role cannot hold either
        return None
    return values if rebuilt == line else None


def parse_expert_script(script):
    """The role's variables of an update script as the role writes it (lines: SIG, function key, reset, config
    write, config activate), the lines after those (`extra_lines`), and a list of the lines the role would not
    write."""
    lines = [line for line in normalised_script(script).split("\n") if line.strip()]
    values, problems = {}, []
    head, extra = lines[:5], lines[5:]
    sig = SIG_LINE.match(head[0]) if head else None
    if sig and sig.group("password") == PLACEHOLDER:
        values["hotdesking_base_user_name"] = sig.group("base")
    else:
        problems.append("line 1 is not `config add PHONE SIG /h323 <base user> /gk-pwd <password>`")
    key = function_key(head[1]) if len(head) > 1 else None
    if key:
        values.update(key)
    else:
        problems.append("line 2 is not the Hot Desking key the role writes (one key with a hotdesk action, "
                        "user config 00000, pbx='1')")
    reset = RESET_LINE.match(head[2]) if len(head) > 2 else None
    if reset:
        values["hotdesking_reset_serial"] = reset.group("serial")
    else:
        problems.append("line 3 is not `mod cmd UP1 check iresetn <serial>`")
    if tuple(head[3:5]) != CLOSING_LINES:
        problems.append("lines 4 and 5 are not `config write` and `config activate`")
    return {"values": values, "extra_lines": extra, "problems": problems}


# --- the steps --------------------------------------------------------------------------------------------------
def map_connection(export, connection):
    """Copies the connection variables `connection` (the site's hostvars) defines; it never reads a password."""
    for variable in CONNECTION_VARIABLES:
        if variable not in SECRETS and variable in connection and connection[variable] is not None:
            export.set(variable, connection[variable])


def hot_desk_users(export, users, wire_names):
    """The users with the registration the role writes: a device whose hw is the user's own name and whose text is
    the one Users Admin writes (pbx_info's `hotdesk`; the text as the site's hotdesking_wire_names spell it)."""
    text = ((wire_names or {}).get("hotdesk") or {}).get("device_text") or HOTDESK["device_text"]
    found, other_text = [], []
    for user in users.values():
        hotdesk = user.get("hotdesk") or {}
        if hotdesk.get("registered"):
            (found if hotdesk.get("text") == text else other_text).append(user["name"])
    if other_text:
        export.note("Users %s have a device with their own name as hardware id, but not with the text %s: the export "
                    "does not count them as hot-desking users (the role would rewrite the text)."
                    % (listed(other_text), text))
    return found


def find_expert_config(export, configs, users):
    """The expert configuration that registers a phone as a user of this PBX (/h323 <user>; `users` by folded
    name, as the PBX compares names): it names the base user and the category. None, with a note, when there is not
    exactly one."""
    candidates = []
    for config in configs:
        if config.get("type") == "expert":
            match = REGISTERS_AS.search(normalised_script(config.get("script")))
            if match and match.group("base").lower() in users:
                candidates.append(config)
    if len(candidates) == 1:
        return candidates[0]
    what = ("No expert device configuration registers phones as a user of this PBX (`config add PHONE SIG /h323 "
            "<user>`)" if not candidates else
            "Several expert device configurations register phones as a user of this PBX: %s"
            % listed(c["name"] for c in candidates))
    export.leave_out(("hotdesking_expert_config_name", "hotdesking_base_user_name", "hotdesking_category_name")
                     + SCRIPT_VARIABLES,
                     what + ": the export cannot tell the base user, the category and the expert configuration.")
    return None


def map_expert_config(export, expert):
    export.set("hotdesking_expert_config_name", expert["name"])
    parsed = parse_expert_script(expert.get("script"))
    export.values.update(parsed["values"])
    if parsed["problems"]:
        export.leave_out([v for v in SCRIPT_VARIABLES if v not in parsed["values"]],
                         "The script of expert configuration `%s` is not the one the role writes: %s. The role "
                         "would replace it." % (expert["name"], "; ".join(parsed["problems"])))
    if parsed["extra_lines"]:
        # No role variable takes lines after the how-to's script yet; one that does maps them here.
        export.note("The script of expert configuration `%s` has lines after the how-to's script, which the role "
                    "would remove:\n\n```\n%s\n```" % (expert["name"], "\n".join(parsed["extra_lines"])))


def map_users(export, base, users, hotdesk):
    """Step 2 and 3, and the template from the base user."""
    user = users.get(base)
    for field in ("name", "long_name", "extension"):
        export.set("hotdesking_base_user_" + field, user[field])
    export.set("hotdesking_hide_from_ldap", user["hide_from_ldap"])
    template = user.get("template") or ""
    if not template:
        export.leave_out(TEMPLATE_VARIABLES + ("hotdesking_temp_user_name",),
                         "The base user `%s` has no config template: the export cannot tell the template and the "
                         "temp user." % base)
    else:
        export.set("hotdesking_template_name", template)
        temps = sorted(u["name"] for u in users.values()
                       if u.get("template") == template and u["name"] != base and u["name"] not in hotdesk)
        if len(temps) == 1:
            temp = users[temps[0]]
            for field in ("name", "long_name", "extension"):
                export.set("hotdesking_temp_user_" + field, temp[field])
            if temp["hide_from_ldap"] != user["hide_from_ldap"]:
                export.note("The base user and the temp user differ in Hide from LDAP; the role gives both the "
                            "base user's value, %s." % json.dumps(user["hide_from_ldap"]))
        else:
            export.leave_out(("hotdesking_temp_user_name", "hotdesking_temp_user_long_name",
                              "hotdesking_temp_user_extension"),
                             "The temp user is the one user besides the base user with template `%s` and no "
                             "hot-desking registration; %s." % (
                                 template, "there is none" if not temps else "candidates: " + listed(temps)))
    if base not in hotdesk:
        export.note("The base user `%s` has no hot-desking registration; the role will add it." % base)
    export.set("hotdesking_users", sorted(name for name in hotdesk if name != base))
    members = [users[name]["hotdesk"] for name in hotdesk]
    apps = sorted(set(m.get("app") or "" for m in members))
    if len(apps) == 1:
        export.set("hotdesking_phone_app", apps[0])
    elif apps:
        export.leave_out(("hotdesking_phone_app",), "The hot-desking registrations name several phone apps: %s; the "
                         "role gives every one the same." % listed(apps))
    for field, variable in REGISTRATION_FLAGS:
        flags = set(bool(m.get(field)) for m in members)
        # Mixed flags: null, which the role reads as "leave the flag as the PBX has it".
        export.set(variable, flags.pop() if len(flags) == 1 else None)


def map_template(export, templates):
    name = export.values.get("hotdesking_template_name")
    template = next((t for t in templates if t["name"] == name), None) if name else None
    if name and template is None:
        export.leave_out(TEMPLATE_VARIABLES[1:], "The base user's template `%s` is not a config template of the "
                         "PBX (a second template on the user?)." % name)
    elif template:
        export.set("hotdesking_template_call_filter", template["call_filter"])
        export.set("hotdesking_template_call_forward_filter", template["call_forward_filter"])
        export.set("hotdesking_template_store_phone_config", template["store_phone_config"])
        if template.get("inherit"):
            export.note("Config template `%s` inherits from %s; the role makes it inherit from none (the how-to)."
                        % (name, listed(template["inherit"])))


def map_category(export, expert, devices):
    names = expert.get("categories") or []
    if len(names) != 1:
        export.leave_out(("hotdesking_category_name", "hotdesking_phone_config_name"),
                         "Expert configuration `%s` has %s: the export cannot tell the hot-desking category." % (
                             expert["name"], "no category (valid for all devices)" if not names
                             else "several categories, " + listed(names)))
        return
    category = names[0]
    export.set("hotdesking_category_name", category)
    if not any(c["name"] == category and c.get("provisioning") for c in devices.get("categories") or []):
        export.note("Category `%s` is not a provisioning category; the role makes it one." % category)
    phones = [c for c in devices.get("device_configs") or []
              if c.get("type") == "phone" and category in (c.get("categories") or [])]
    if len(phones) != 1:
        which = "No Phone device configuration has" if not phones else (
            "Several Phone device configurations have (%s)" % listed(c["name"] for c in phones))
        export.leave_out(("hotdesking_phone_config_name",) + tuple(v for _f, v in GATEKEEPER),
                         "%s category `%s`: the role gives it to the one hotdesking_phone_config_name names "
                         "(default `Phone`)." % (which, category))
        return
    export.set("hotdesking_phone_config_name", phones[0]["name"])
    for field, variable in GATEKEEPER:
        value = (phones[0].get("gatekeeper") or {}).get(field)
        if value:
            export.set(variable, value)


def map_security(export, settings):
    count = settings.get("registrations_without_password") or 0
    export.set("hotdesking_registrations_without_password", count)
    export.set("hotdesking_ip_filter", settings.get("ip_filter") or [])
    if count:
        export.note("The PBX allows %d registrations without password; the role refuses that unless you also set "
                    "hotdesking_allow_registrations_without_password: true (the how-to asks for 0)." % count)
    if settings.get("unwritten") or settings.get("inactive"):
        export.note("The PBX's security settings have a change that is not yet written or not yet active; the "
                    "export shows the current ones.")


def export_site(site, pbx, devices, connection=None):
    """The export of one site from pbx_info's and devices_info's results and the site's connection variables."""
    export = SiteExport(site)
    map_connection(export, connection or {})
    users = dict((u["name"], u) for u in pbx.get("users") or [])
    hotdesk = hot_desk_users(export, users, export.values.get("hotdesking_wire_names"))
    configs = [c for c in devices.get("device_configs") or [] if c.get("type") in CONFIG_TYPES]
    expert = find_expert_config(export, configs, dict((name.lower(), name) for name in users))
    if expert:
        registers_as = REGISTERS_AS.search(normalised_script(expert.get("script"))).group("base")
        base = next(name for name in users if name.lower() == registers_as.lower())
        map_expert_config(export, expert)
        map_users(export, base, users, hotdesk)
        if registers_as != base:
            export.note("Expert configuration `%s` registers phones as `%s`, the user is `%s`: the role writes the "
                        "user's spelling into the script." % (expert["name"], registers_as, base))
        map_template(export, pbx.get("templates") or [])
        map_category(export, expert, devices)
    elif hotdesk:
        export.set("hotdesking_users", sorted(hotdesk))
    map_security(export, pbx.get("settings") or {})
    return export.result()


# --- the files --------------------------------------------------------------------------------------------------
def yaml_value(value):
    """A YAML scalar or flow collection: JSON is YAML."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render_host_vars(export):
    lines = ["---",
             "# Hot-desking setup of %s as it was when innovaphone.pbx.export read it." % export.site,
             "# Passwords refer to vault variables (secrets-needed.md); notes/%s.md says what the export could not"
             % export.site,
             "# map to a role variable."]
    for heading, variables in ROLE_VARIABLES:
        lines.extend(["", "# " + heading])
        for variable in variables:
            if variable in export.values:
                lines.append("%s: %s" % (variable, yaml_value(export.values[variable])))
            elif variable in export.unmapped:
                lines.append("# %s: not exported, see notes/%s.md" % (variable, export.site))
    return "\n".join(lines) + "\n"


def render_note(export):
    lines = ["# Export notes: %s" % export.site, ""]
    if not export.notes:
        lines.append("The export mapped everything the site holds for hot desking to the role's variables.")
    lines.extend("- " + note.replace("\n", "\n  ") for note in export.notes)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_secrets_needed(exports):
    """secrets-needed.md over the exports of all sites."""
    lines = ["# Secrets the exported inventory needs", "",
             "The exported host_vars refer to these vault variables instead of passwords. Define each one, for",
             "example with `ansible-vault encrypt_string --name <variable>` into a vaulted file beside the host_vars,",
             "or in the secret store your runs use.", "",
             "| Site | Role variable | Vault variable |", "|---|---|---|"]
    for export in sorted(exports, key=lambda e: e["site"]):
        lines.extend("| %s | %s | %s |" % (export["site"], s["variable"], s["vault"]) for s in export["secrets"])
    return "\n".join(lines) + "\n"
