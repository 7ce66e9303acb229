# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole-input checks, run after the read and before the first write.

Every error names the entry and the field (`users[3].extension: ...`, indexes from 0) and all errors are
reported at once, so that one run shows everything to fix and nothing has been written.

An entry that names an object the PBX lacks (a user's template, a template to inherit from, a user to register)
is an error, except in check mode: there an earlier task of the same run only reported that it would create the
object, so the check returns a warning instead and the run goes on predicting.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import functools
import re
import xml.etree.ElementTree as ET

from ansible.module_utils.six.moves.urllib.parse import unquote_plus

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import (
    DEVICE_CONFIGS, HOTDESK_REGISTRATIONS, PBX_SETTINGS, TEMPLATES, TYPE_OPTIONS, USERS)
from ansible_collections.innovaphone.pbx.plugins.module_utils.rules import ip_filter_network
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import TEMPLATE

MAX_INHERITED_TEMPLATES = 4
# The wire names of the user attributes the checks look objects up by (the same attributes a template has).
NAME, LONG_NAME, TEMPLATE_WIRE = (USERS.wire_of(field) for field in ("name", "long_name", "template"))
TEMPLATE_NAME, INHERIT = TEMPLATES.wire_of("name"), TEMPLATES.wire_of("inherit")


# How many errors a message spells out; the others are counted (every one stays in ValidationError.errors).
SHOWN_ERRORS = 10


class ValidationError(Exception):
    def __init__(self, errors):
        self.errors = errors
        shown = "; ".join(errors[:SHOWN_ERRORS])
        if len(errors) > SHOWN_ERRORS:
            shown += "; and %d more" % (len(errors) - SHOWN_ERRORS)
        super(ValidationError, self).__init__("invalid input: " + shown)


class Errors:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.messages = []
        self.warnings = []

    def add(self, where, message):
        self.messages.append("%s: %s" % (where, message))

    def missing(self, where, message):
        """A referenced object that does not exist: an error, in check mode a warning."""
        if self.check_mode:
            self.warnings.append("%s: %s now, so a real run fails unless an earlier task creates it" % (
                where, message))
        else:
            self.add(where, message)

    def check(self):
        """Raise the errors; without any, return the warnings."""
        if self.messages:
            raise ValidationError(self.messages)
        return self.warnings


def where(list_name, index, field=None):
    place = "%s[%d]" % (list_name, index) if list_name else ""
    return ".".join(p for p in (place, field) if p)


def check_unique(errors, entries, field, list_name, exact=False):
    """No two present entries with the same value (ignoring case unless `exact`, as the PBX does)."""
    seen = {}
    for index, entry in enumerate(entries):
        value = entry.get(field)
        if value and entry.get("state", "present") == "present":
            folded = value if exact else value.lower()
            if folded in seen:
                errors.add(where(list_name, index, field), "%r is also given in %s" % (
                    value, where(list_name, seen[folded], field)))
            seen.setdefault(folded, index)


def check_spelling(errors, place, owner, attribute, name):
    """Whether the PBX `owner` of `name` (if any) spells it as given; else an error, as the modules key objects
    exactly and a removal would find nothing and report no change."""
    if owner is not None and owner.get(attribute) != name:
        errors.add(place, "%r is spelt %r on the PBX" % (name, owner.get(attribute)))
        return False
    return True


def check_owner(errors, place, owner, name, value, what, frees=None):
    """An object other than user `name` holding `value` is a conflict, unless the same run frees the value
    (`frees(owner)`: the owner is listed to give it up or to go), as when a block of extensions shifts by one."""
    if owner is not None and owner.get(NAME) != name and not (frees and frees(owner)):
        errors.add(place, "%s %r already belongs to PBX object %r" % (what, value, owner.get(LONG_NAME)))


def freed_by(listed, field, value, fold):
    """frees(owner) for check_owner: whether the entries (`listed` by lower-case name) remove the owner or give it
    another `field`."""
    def frees(owner):
        entry = listed.get((owner.get(NAME) or "").lower())
        if entry is None:
            return False
        if entry.get("state", "present") == "absent":
            return True
        return entry.get(field) is not None and fold(entry[field]) != fold(value)
    return frees


def check_rules(errors, resource, entry, place, names=None):
    """The rules of the resource table's fields (of `names`, default all) for the values `entry` gives; whether it
    keeps them all."""
    broken = resource.broken_rules(entry, names)
    for field, problem in broken:
        errors.add(place(field), problem)
    return not broken


def check_fields(resource, entry):
    """The rules of the fields of one entry, named by field alone (a module of one object)."""
    errors = Errors()
    check_rules(errors, resource, entry, str)
    errors.check()


# What an error calls a user field that only one object may hold.
HELD = (("name", "username"), ("long_name", "long name"), ("extension", "extension"))


def _fold(field):
    """How the PBX compares the values of a user field: as the table's `unique` folds them, a username (the key)
    ignoring case."""
    return USERS.field(field).unique or str.lower


def check_users(entries, directory, list_name="users", check_mode=False):
    errors = Errors(check_mode)
    for field, _what in HELD:
        check_unique(errors, entries, field, list_name, exact=_fold(field) is str)
    listed = dict((entry["name"].lower(), entry) for entry in entries)
    for index, entry in enumerate(entries):
        place = functools.partial(where, list_name, index)
        if not check_rules(errors, USERS, entry, place, [USERS.key]):
            continue
        if entry.get("state", "present") == "absent":
            check_spelling(errors, place("name"), directory.owner(NAME, entry["name"]), NAME, entry["name"])
            continue
        check_rules(errors, USERS, dict(entry, name=None), place)
        template = entry.get("template")
        if template and template not in directory.templates:
            errors.missing(place("template"), "no config template %r on the PBX" % template)
        values = dict(entry)
        if not entry.get("long_name") and directory.owner(NAME, entry["name"]) is None:
            values["long_name"] = entry["name"]  # what a new user without a long name gets (UserBackend.attributes)
        for field, what in HELD:
            value = values.get(field)
            if value:
                check_owner(errors, place(field), directory.owner(USERS.wire_of(field), value),
                            entry["name"], value, what, freed_by(listed, field, value, _fold(field)))
    return errors.check()


def check_template(entry, directory, filters, check_mode=False):
    errors = Errors(check_mode)
    owner = directory.owner(TEMPLATE_NAME, entry["name"])
    template = owner is not None and owner.get(TEMPLATE_NAME) in directory.templates
    check_spelling(errors, "name", owner if template else None, TEMPLATE_NAME, entry["name"])
    if entry.get("state", "present") == "present":
        for field in ("call_filter", "call_forward_filter"):
            if entry.get(field) and entry[field] not in filters:
                errors.add(field, "no filter %r on the PBX (known: %s)" % (entry[field], ", ".join(filters) or "none"))
        inherit = entry.get("inherit") or []
        if len(inherit) > MAX_INHERITED_TEMPLATES:
            errors.add("inherit", "at most %d templates" % MAX_INHERITED_TEMPLATES)
        for name in inherit:
            if name == entry["name"]:
                errors.add("inherit", "a config template cannot inherit from itself")
            elif name not in directory.templates:
                errors.missing("inherit", "no config template %r on the PBX" % name)
        if owner is not None and not template:
            errors.add("name", "%r is the long name of a PBX object that is not a config template" % entry["name"])
    elif template:
        check_unreferenced(errors, owner.get(TEMPLATE_NAME), directory)
    return errors.check()


def check_unreferenced(errors, name, directory):
    """A template to delete that users name, or templates inherit from, is refused (the PBX would leave them
    pointing at nothing, or refuse): the message names them."""
    folded = name.lower()
    users = sorted(e.get(NAME) or e.get(LONG_NAME) for e in directory.users.values()
                   if (e.get(TEMPLATE_WIRE) or "").lower() == folded)
    heirs = sorted(cn for cn, e in directory.templates.items() if folded in [
        n.strip().lower() for n in (e.get(INHERIT) or "").split(TEMPLATE["inherit_separator"])])
    found = []
    if users:
        found.append("config template %r is still the template of user(s) %s; give them another template first" % (
            name, ", ".join(users)))
    if heirs:
        found.append("config template %r is still inherited by template(s) %s" % (name, ", ".join(heirs)))
    for message in found:
        if errors.check_mode:   # an earlier task of the run may give them another template
            errors.warnings.append("name: %s (now, so a real run fails unless an earlier task changes that)" % message)
        else:
            errors.add("name", message)


def check_hotdesk(entries, directory, list_name="users", check_mode=False):
    errors = Errors(check_mode)
    check_unique(errors, entries, "user", list_name)
    for index, entry in enumerate(entries):
        name = entry["user"]
        # The module's `users` lists the names: an entry is named by its place alone.
        if not check_rules(errors, HOTDESK_REGISTRATIONS, entry, lambda _field: where(list_name, index), ["user"]):
            continue
        spelt = check_spelling(errors, where(list_name, index), directory.owner(NAME, name), NAME, name)
        if not spelt or not entry.get("registered"):
            continue
        if name not in directory.users:
            errors.missing(where(list_name, index), "no user %r on the PBX" % name)
        else:
            check_owner(errors, where(list_name, index), directory.hw_owner(name), name, name, "hardware id")
    return errors.check()


def check_settings(settings, allow_ip_filter_any=False, opt_in="allow_ip_filter_any"):
    """"No of Regs w/o Pwd" and the IP filter. An entry whose mask is all zeros (0, /0, 0.0.0.0) lets every address
    pass, which turns the filter off: refused unless `allow_ip_filter_any` (the option `opt_in` sets it)."""
    errors = Errors()
    check_rules(errors, PBX_SETTINGS, settings, str)
    for index, entry in enumerate(settings.get("ip_filter") or []):
        try:
            network = ip_filter_network(entry)
        except ValueError as exc:
            errors.add(where("ip_filter", index), str(exc))
            continue
        if network.prefixlen == 0 and not allow_ip_filter_any:
            given = "mask %s" % entry["mask"] if entry.get("mask") else entry.get("address")
            errors.add(where("ip_filter", index), "%s matches every address, which turns the IP filter off; set %s "
                       "to true if that is what you want" % (given, opt_in))
    errors.check()


def check_hotdesk_options(params):
    if params["exclusive"] and params["state"] != "present":
        raise ValidationError(["exclusive: needs state=present"])


def check_device_config_options(params):
    """Options that do not fit the type, an empty name and every line of an update script, before anything is
    read."""
    errors = Errors()
    for kind, options in sorted(TYPE_OPTIONS.items()):
        for option in options:
            if params["type"] != kind and params[option] not in (None, {}):
                errors.add(option, "only a %s configuration has this option, not a %s one" % (kind, params["type"]))
    check_rules(errors, DEVICE_CONFIGS[params["type"]], params, str, ["name"])
    if params["type"] == "expert" and params["script"]:
        check_update_script(params["script"].replace("\r\n", "\n").split("\n"), errors=errors)
    errors.check()


def check_device_config(entry, current, categories, domain, check_mode=False):
    """A new expert configuration has a script; the categories exist in the domain."""
    errors = Errors(check_mode)
    if entry["state"] == "present" and entry["name"] not in current and entry["type"] == "expert" \
            and not entry.get("script"):
        errors.add("script", "a new expert configuration needs an update script")
    missing = sorted(set(entry.get("categories") or []) - set(categories))
    if missing:
        errors.missing("categories", "no category %s in domain %s" % (", ".join(missing), domain))
    return errors.check()


# Update-script commands a phone's update client runs (reference 5; `config change` as on the command interface,
# reference 2), with what follows each.
RESET_COMMANDS = ("reset", "ireset", "resetn", "iresetn")
UPDATE_COMMANDS = {
    "config": "add or change <module> [/flag value ...], write, activate",
    "vars": "create <name> <flags> <URL-encoded value>",
    "mod": "cmd <module> <command> (mod cmd UP1 check <%s or ser> <serial>)" % "|".join(RESET_COMMANDS),
}
UPDATE_COMMANDS.update((command, "alone on its line") for command in RESET_COMMANDS)
# The phone user config the how-to's `vars create` line stores: URL-encoded <user> XML (reference 5).
USER_CONFIG_VARIABLE = re.compile(r"^PHONE/USER-CFG/\d+$")


def _config_line_error(words):
    """What is wrong with `config add|change <module> ...`: after the module (and object) names come /flags, each
    followed by at most one value."""
    names = 0
    while 2 + names < len(words) and not words[2 + names].startswith("/"):
        names += 1
    if not names:
        return "config %s needs the module it changes (config %s PHONE ...)" % (words[1], words[1])
    after_value = False
    for number, word in enumerate(words[2 + names:], start=3 + names):
        if word.startswith("/"):
            after_value = False
        elif after_value:
            return ("word %d is neither a /flag nor the value of the flag before it (a value with blanks needs double "
                    "quotes)" % number)
        else:
            after_value = True
    return None


def update_script_line_error(line):
    """What is wrong with one line of an update script, or None. The message never quotes the line: it may hold a
    password (/gk-pwd)."""
    if line.count('"') % 2:
        return "unbalanced double quote"
    words = cfgtxt.split(line)
    if not words:
        return None
    command = words[0]
    if command not in UPDATE_COMMANDS:
        close = difflib.get_close_matches(command.lower(), sorted(UPDATE_COMMANDS), n=1, cutoff=0.6)
        return "not an update-script command (known: %s)%s" % (
            ", ".join(sorted(UPDATE_COMMANDS)), "; did you mean %s?" % close[0] if close else "")
    if command in RESET_COMMANDS:
        return None if len(words) == 1 else "%s stands alone on its line" % command
    usage = "%s takes %s" % (command, UPDATE_COMMANDS[command])
    if command == "config":
        if len(words) == 2 and words[1] in ("write", "activate"):
            return None
        return _config_line_error(words) if len(words) > 1 and words[1] in ("add", "change") else usage
    if command == "vars":
        if len(words) != 5 or words[1] != "create":
            return usage
        if USER_CONFIG_VARIABLE.match(words[2]):
            try:
                root = ET.fromstring(unquote_plus(words[4]))
            except ET.ParseError as exc:
                return "the value of %s is not well-formed XML once URL-decoded (%s)" % (words[2], exc)
            if root.tag != "user":
                return "the value of %s is <%s> XML, not <user>" % (words[2], root.tag)
        return None
    if len(words) < 4 or words[1] != "cmd":
        return usage
    if words[2:4] == ["UP1", "check"] and (len(words) != 6 or words[4] not in RESET_COMMANDS + ("ser",)):
        return "mod cmd UP1 check takes one of %s or ser, then one serial without blanks" % ", ".join(RESET_COMMANDS)
    return None


def check_update_script(lines, names=None, errors=None):
    """Every line of an update script (a list of lines) is one the phone runs: a known command, balanced quotes,
    a `vars create` user config that is XML. `names[i]` names line i in an error (default: script line i+1).
    The errors name lines, never their text, which may hold a password. Adds to `errors`, or raises its own."""
    found = Errors() if errors is None else errors
    for index, line in enumerate(lines):
        problem = update_script_line_error(line)
        if problem:
            found.add(names[index] if names else "script line %d" % (index + 1), problem)
    if errors is None:
        found.check()


def check_function_key(key_id, label, logout_label, user_config=0):
    """The Hot Desking key of the update script's `vars create` line; returns key_id and user_config as numbers."""
    errors = Errors()
    numbers = {}
    for field, value, low, high in (("key_id", key_id, 0, None), ("user_config", user_config, 0, 99999)):
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            numbers[field] = int(value)
        except (TypeError, ValueError):
            errors.add(field, "must be a whole number, not %r" % (value,))
            continue
        if numbers[field] < low or (high is not None and numbers[field] > high):
            errors.add(field, "must be %d or more%s, not %d" % (low, " and %d or less" % high if high else "",
                                                                numbers[field]))
    for field, value in (("label", label), ("logout_label", logout_label)):
        if not isinstance(value, str) or not value.strip():
            errors.add(field, "must be a non-empty text")
    errors.check()
    return numbers["key_id"], numbers["user_config"]


def check_provisioning_code(params):
    if params["wait_for_device"] < 0:
        raise ValidationError(["wait_for_device: must be 0 or more, not %d" % params["wait_for_device"]])


def check_phone_reset(params):
    """The PBX to tell logged-in phones by; category names the Devices app can take in a list."""
    errors = Errors()
    if params["only_logged_in"] and not (params["url"] and params["password"]):
        errors.add("only_logged_in", "needs the PBX connection (url, password) to see the hot-desk logins")
    for index, name in enumerate(params["categories"] or []):
        if "," in name:
            errors.add(where("categories", index), "%r: the Devices app takes category names separated by commas, "
                       "so a name cannot hold one" % name)
    errors.check()


def check_connection_options(params):
    """A timeout the HTTP and WebSocket clients can wait (0 or less fails the first request, not in these words)."""
    if params.get("timeout") is not None and params["timeout"] < 1:
        raise ValidationError(["timeout: must be 1 second or more, not %d" % params["timeout"]])


def check_list_options(params):
    if params["parallel"] < 1:
        raise ValidationError(["parallel: must be 1 or more, not %d" % params["parallel"]])


# --- What only PbxAdminApi can tell (reference 6.2): licenses and reverse proxies -----------------------------
# The license a user object with a registration takes; the how-to: "the default user (Hot Desk Base user) requires
# one port license".
PORT_LICENSE = "Port"


def port_licenses(licenses):
    """(installed, used) port licenses of pbx_info's `licenses` ({test_mode, items}); None when they cannot be
    counted: not read (SOAP: None) or a PBX that lists no licenses (test mode, or none installed)."""
    if not licenses or licenses.get("test_mode"):
        return None
    ports = [item for item in licenses.get("items") or [] if item.get("name") == PORT_LICENSE]
    return sum(item["count"] for item in ports), sum(item["used"] for item in ports)


def check_port_license(licenses, user, exists, variable):
    """The error for a user that does not exist yet and would get no free port license, or None (it exists, a
    license is free, or the licenses cannot be counted). `variable` names the user as the operator does."""
    counted = port_licenses(licenses)
    if exists or counted is None:
        return None
    installed, used = counted
    if installed - used >= 1:
        return None
    return ("%s: the Hot Desk Base user %s does not exist yet and needs a free port license (the how-to: it "
            "\"requires one port license\"), but the PBX has %d port licenses and %d are used; free one or install "
            "more, then run again" % (variable, user, installed, used))


def untrusted_registration_warning(reverse_proxies, trusted, variable, all_trusted_now=False):
    """The warning for hot-desking registrations without `trusted` on a PBX with reverse proxies, or None.
    trusted None leaves the flag as the PBX has it: no warning when every registration concerned has it now."""
    if not reverse_proxies or trusted or trusted is None and all_trusted_now:
        return None
    return ("%s is %s, but the PBX has reverse proxies (%s): a hot-desk login through one fails without the flag "
            "trusted (the how-to: \"or the registration will fail\"); set it to true where phones reach the PBX "
            "through a reverse proxy" % (variable, "not set" if trusted is None else "false",
                                         ", ".join(rp.get("addr", "?") for rp in reverse_proxies)))
