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

import ipaddress
import re

from ansible_collections.innovaphone.pbx.plugins.module_utils.crypto import MAX_USER_PASSWORD
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import TEMPLATE

EXTENSION = re.compile(r"^[0-9#*]+$")
MAX_INHERITED_TEMPLATES = 4


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
                    value, where(list_name, seen[folded])))
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
    if owner is not None and owner.get("h323") != name and not (frees and frees(owner)):
        errors.add(place, "%s %r already belongs to PBX object %r" % (what, value, owner.get("cn")))


def freed_by(listed, field, value, fold):
    """frees(owner) for check_owner: whether the entries (`listed` by lower-case name) remove the owner or give it
    another `field`."""
    def frees(owner):
        entry = listed.get((owner.get("h323") or "").lower())
        if entry is None:
            return False
        if entry.get("state", "present") == "absent":
            return True
        return entry.get(field) is not None and fold(entry[field]) != fold(value)
    return frees


def check_users(entries, directory, list_name="users", check_mode=False):
    errors = Errors(check_mode)
    check_unique(errors, entries, "name", list_name)
    check_unique(errors, entries, "long_name", list_name)
    check_unique(errors, entries, "extension", list_name, exact=True)
    listed = dict((entry["name"].lower(), entry) for entry in entries)
    for index, entry in enumerate(entries):
        if entry.get("state", "present") == "absent":
            check_spelling(errors, where(list_name, index, "name"), directory.owner("h323", entry["name"]), "h323",
                           entry["name"])
            continue
        extension, password, template = entry.get("extension"), entry.get("password"), entry.get("template")
        if extension and not EXTENSION.match(extension):
            errors.add(where(list_name, index, "extension"), "%r may hold only digits, # and *" % extension)
        if password is not None and len(password.encode("utf-8")) > MAX_USER_PASSWORD:
            errors.add(where(list_name, index, "password"), "longer than %d bytes (UTF-8), which the PBX would "
                       "truncate" % MAX_USER_PASSWORD)
        if template and template not in directory.templates:
            errors.missing(where(list_name, index, "template"), "no config template %r on the PBX" % template)
        long_name = entry.get("long_name")
        if not long_name and directory.owner("h323", entry["name"]) is None:
            long_name = entry["name"]  # what a new user without a long name gets (UserBackend.attributes)
        for field, value, attribute, what, fold in (("name", entry["name"], "h323", "username", str.lower),
                                                    ("long_name", long_name, "cn", "long name", str.lower),
                                                    ("extension", extension, "e164", "extension", str)):
            if value:
                check_owner(errors, where(list_name, index, field), directory.owner(attribute, value),
                            entry["name"], value, what, freed_by(listed, field, value, fold))
    return errors.check()


def check_template(entry, directory, filters, check_mode=False):
    errors = Errors(check_mode)
    owner = directory.owner("cn", entry["name"])
    template = owner is not None and owner.get("cn") in directory.templates
    check_spelling(errors, "name", owner if template else None, "cn", entry["name"])
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
        check_unreferenced(errors, owner.get("cn"), directory)
    return errors.check()


def check_unreferenced(errors, name, directory):
    """A template to delete that users name, or templates inherit from, is refused (the PBX would leave them
    pointing at nothing, or refuse): the message names them."""
    folded = name.lower()
    users = sorted(e.get("h323") or e.get("cn") for e in directory.users.values()
                   if (e.get("config") or "").lower() == folded)
    heirs = sorted(cn for cn, e in directory.templates.items()
                   if folded in [n.strip().lower() for n in (e.get("config") or "").split(TEMPLATE["inherit_separator"])])
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
        spelt = check_spelling(errors, where(list_name, index), directory.owner("h323", name), "h323", name)
        if not spelt or not entry.get("registered"):
            continue
        if name not in directory.users:
            errors.missing(where(list_name, index), "no user %r on the PBX" % name)
        else:
            check_owner(errors, where(list_name, index), directory.hw_owner(name), name, name, "hardware id")
    return errors.check()


def check_settings(settings):
    errors = Errors()
    count = settings.get("registrations_without_password")
    if count is not None and count < 0:
        errors.add("registrations_without_password", "must be 0 or more, not %d" % count)
    for index, entry in enumerate(settings.get("ip_filter") or []):
        try:
            ipaddress.IPv4Network("%s/%s" % (entry["address"], entry["mask"]), strict=False)
        except ValueError as exc:
            errors.add(where("ip_filter", index), "not an IPv4 address and mask: %s" % exc)
    errors.check()


def check_hotdesk_options(params):
    if params["exclusive"] and params["state"] != "present":
        raise ValidationError(["exclusive: needs state=present"])


# Options of device_config that only one type of configuration has.
TYPE_OPTIONS = {"phone": ("gatekeeper", "coder", "protect_config", "allow_user_config"), "expert": ("script",)}


def check_device_config_options(params):
    """Options that do not fit the type, before anything is read."""
    errors = Errors()
    for kind, options in sorted(TYPE_OPTIONS.items()):
        for option in options:
            if params["type"] != kind and params[option] not in (None, {}):
                errors.add(option, "only a %s configuration has this option, not a %s one" % (kind, params["type"]))
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


def check_list_options(params):
    if params["parallel"] < 1:
        raise ValidationError(["parallel: must be 1 or more, not %d" % params["parallel"]])
