# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the modules ask of a PBX (SOAP Admin(), the bulk reads, cfg.txt, `!` commands) and the engine
backends built on it: config templates, users, hot-desking registrations and the PBX0 settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt, crypto, soap
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import UNKNOWN
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import (
    HOTDESK_REGISTRATIONS, PBX_SETTINGS, TEMPLATES, USERS, State)
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import (
    ATTEMPTS, TIMEOUT_ATTEMPTS, HttpStatusError, PbxError, Unanswered)
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import (
    REGISTRATION, SOAP, WireName, named, see_docs)

SETTINGS_MODULE = "PBX0"


# Admin() commands that do no more when sent twice than once (show reads, modify replaces the whole object, del-attrib
# removes what matches): sent again whenever an answer is missing. Others (add, add-attrib, del) are sent again only
# once a show proves that the first one was not carried out.
IDEMPOTENT_COMMANDS = ("show", "modify", "del-attrib")
# How often an answer that is not well-formed XML is asked for again (the first time it may have been cut on the way).
MALFORMED_ATTEMPTS = 2
RERUN = "a re-run reads first and converges"


def object_name(command):
    """How messages name the object of a command: its cn, else its h323 name, else its guid."""
    obj = command[0] if len(command) else command
    return obj.get("cn") or obj.get("h323") or obj.get("guid")


class Pbx:
    """One PBX over one HttpClient; every failure surfaces as the client's secret-free PbxError. PBX objects go
    over SOAP Admin() here, over PbxAdminApi in pbxadmin.PbxAdmin (the same methods)."""

    writes_pwdx = True      # a password may go as pwdx, encrypted with the PBX key (reference 1.3)
    api = "SOAP"

    def __init__(self, client):
        self.client = client

    def close(self):
        """Nothing to close: the HTTP session ends with the module."""

    @property
    def interruptions(self):
        """Failed connections and forgotten nonces so far (transport.HttpClient): a sign that the PBX rebooted."""
        return self.client.interruptions

    def _checked(self, parse, *args):
        """parse(*args), with a malformed answer or a refusal raised as the client's PbxError."""
        try:
            return parse(*args)
        except soap.SoapError as exc:
            raise self.client.error(str(exc))

    def admin(self, command):
        """Run one Admin() command element (on one object) and return the answer element.

        An answer that did not come (the connection broke or the timeout passed) or came malformed is made good: an
        idempotent command is sent again, another one only once a show says it was not carried out (after a timeout
        TIMEOUT_ATTEMPTS times at most, since each waits that long). Nothing is sent again after a SOAP fault or a
        refusal."""
        label = "%s %r" % (command.tag, object_name(command))
        idempotent = command.tag in IDEMPOTENT_COMMANDS
        malformed = timeouts = 0
        for attempt in range(ATTEMPTS):
            try:
                body = self.client.post(soap.SOAP_PATH, soap.envelope(command), soap.HEADERS, idempotent=idempotent,
                                        expect="SOAP XML")
                return soap.unwrap(body)
            except HttpStatusError as exc:
                fault = soap.body_fault(exc.body)
                if fault is None:
                    raise self.client.error("%s: %s" % (label, exc))
                raise self.client.error("%s: %s answered HTTP %d with a SOAP fault (%s)" % (
                    label, self.client.where, exc.status, fault))
            except Unanswered as exc:
                # Sent again only once a show says it was not carried out. After a timeout the PBX may still carry
                # out the first one: an add-attrib may then leave a duplicate device, which the next run removes
                # (a duplicate hot-desking device is drift); a second add is refused by the PBX.
                timeouts += 1 if exc.timed_out else 0
                if timeouts >= TIMEOUT_ATTEMPTS:
                    raise self.client.error("%s: %s (%d attempts, a show before each resend; %s)" % (
                        label, exc, timeouts, RERUN))
                if attempt == ATTEMPTS - 1:
                    raise self.client.error("%s: %s (%d attempts; %s)" % (label, exc, ATTEMPTS, RERUN))
                if self._carried_out(command):
                    return soap.element(SOAP["ok"], {})
            except soap.SoapFault as exc:
                raise self.client.error("%s: %s answered %s" % (label, self.client.where, exc))
            except soap.MalformedAnswer as exc:
                malformed += 1
                if malformed == MALFORMED_ATTEMPTS or attempt == ATTEMPTS - 1:
                    raise self.client.error("%s: %s answered %d times with XML that is cut short or malformed: %s" % (
                        label, self.client.where, malformed, exc.detail))
                if not idempotent and self._carried_out(command):
                    return soap.element(SOAP["ok"], {})
            except (soap.SoapError, PbxError) as exc:
                raise self.client.error("%s: %s" % (label, exc))
        raise self.client.error("%s: no answer" % label)  # not reached: the last attempt returns or raises

    def _carried_out(self, command):
        """Whether an add, add-attrib or del whose answer went missing was carried out (a show tells)."""
        obj = command[0]
        lookup = {"guid": obj.get("guid")} if obj.get("guid") else {"cn": obj.get("cn")}
        found = self._checked(soap.objects, self.admin(soap.show(**lookup)))
        if command.tag == SOAP["delete"]:
            return not found
        if not found:
            return False
        if command.tag == "add-attrib":
            return all(any(_same_child(child, stored) for stored in found[0]) for child in obj)
        return True

    def read_xml(self, path, what):
        """The XML a GET of `path` answers, as it is; read again once when it came malformed."""
        for attempt in range(1, MALFORMED_ATTEMPTS + 1):
            text = self.client.get(path, expect="XML")
            try:
                return soap.parse_xml(text, what)
            except soap.MalformedAnswer as exc:
                if attempt == MALFORMED_ATTEMPTS:
                    raise self.client.error("%s answered %s %d times with XML that is cut short or malformed: %s" % (
                        self.client.where, what, attempt, exc.detail))
        raise self.client.error("no answer to %s" % what)  # not reached

    def _bulk(self, path):
        return self._checked(soap.checked, self.read_xml(path, "the bulk read"))

    def objects(self):
        """Every PBX object (users and templates) in one request."""
        return self._checked(soap.objects, self._bulk(soap.BULK_USERS_PATH))

    def registrations(self):
        """The registrations the PBX holds now, one dict each. `hotdesk` (a hot-desk login) is derived from documented
        facts (reference 6.4): a registration of user U whose hardware id is U's own name; the ASSUMED attribute
        (registration.hotdesk) counts too where the PBX sends it. A read that lacks both fails, naming the wire
        names, instead of reporting nobody logged in."""
        names = REGISTRATION
        root = self._bulk(soap.BULK_REGS_PATH)
        found = list(root.iter(names["element"]))
        if len(root) and not found:
            raise self._unreadable("the registrations read holds <%s> elements, none named %s" % (
                "/".join(sorted(set(child.tag for child in root))), named(WireName("registration", "element"))),
                WireName("registration", "element"))
        registrations = []
        for reg in found:
            user, hw, flag = reg.get(names["user"]), reg.get(names["hw"]), reg.get(names["hotdesk"])
            if flag is None and not (user and hw):
                missing = [WireName("registration", key) for key in ("hotdesk", "user", "hw")
                           if not reg.get(names[key])]
                raise self._unreadable("a registration in the registrations read has no %s, so whether it is a "
                                       "hot-desk login cannot be told (reference 6.4: a registration of a user whose "
                                       "hardware id is the user's own name)" % " and no ".join(map(named, missing)),
                                       *missing)
            registrations.append({
                "user": user or "",
                "long_name": reg.get(names["long_name"], ""),
                "hw": hw or "",
                "address": reg.get(names["address"], ""),
                "with_password": reg.get(names["with_password"]) == "true",
                "hotdesk": flag == "true" or bool(user and fold("hw", hw or "") == fold("hw", user)),
            })
        return registrations

    def _unreadable(self, message, *wires):
        return self.client.error("%s: %s%s" % (self.client.where, message, see_docs(*wires)))

    def fresh(self, element):
        """The object as the PBX holds it now (SOAP show by guid): what a modify must start from, since it replaces
        the whole object and a change made since the bulk read would be lost."""
        found = self._checked(soap.objects, self.admin(soap.show(guid=element.get("guid"))))
        if not found:
            raise self.client.error("%r is gone from the PBX since it was read" % element.get("cn"))
        return found[0]

    def add(self, element):
        self.admin(soap.command("add", element))

    def modify(self, element, attributes):
        """`attributes` laid over the object as the PBX holds it now: modify replaces the whole object."""
        self.admin(soap.command("modify", soap.edited(self.fresh(element), attributes)))

    deleted_by = WireName("soap", "delete")

    def delete_object(self, element):
        try:
            self.admin(soap.delete(element.get("cn")))
        except PbxError as exc:  # the delete command is a guess: say which
            used = self.deleted_by
            raise self.client.error("%s (the command is %s%s)" % (exc, named(used), see_docs(used)))

    def put_device(self, element, device_for):
        """Store device_for(the user's hot-desking <device> as the PBX holds it, or None) on the user `element`, or
        remove that device when it gives None. A device added or removed is one child (add-attrib, del-attrib); a
        changed one is a modify of the object as the PBX holds it now."""
        device = hotdesk_device(element)
        guid = element.get("guid")
        if device is None:
            new = device_for(None)
            if new is not None:
                self.admin(soap.children("add-attrib", guid, [new]))
            return
        if device_for(device) is None:
            self.admin(soap.children("del-attrib", guid, [soap.element("device", {"hw": device.get("hw")})]))
            return
        edited = soap.edited(self.fresh(element), {})
        fresh_devices = hotdesk_devices(edited)
        if not fresh_devices:
            raise self.client.error("the hot-desking registration of %s is gone since it was read" %
                                    element.get("h323"))
        position = list(edited).index(fresh_devices[0])
        for duplicate in fresh_devices:  # a duplicate goes: the first one stays, with the wanted fields
            edited.remove(duplicate)
        edited.insert(position, device_for(fresh_devices[0]))
        self.admin(soap.command("modify", edited))

    def read_ahead(self, *reads):
        """The module will read these too ("key", "reverse_proxies"): PbxAdmin asks for them with its first read,
        so that the round trips overlap; over SOAP each is one request when it is made."""

    def proves(self, key, pbx_password):
        """Whether the PBX itself proves a key right (None: SOAP has no such proof; the users' pwdx tell)."""
        return None

    def key(self, pbx_password):
        """The PBX key (reference 1.3) from _ADMIN_ and the PBX password."""
        admin = self._checked(soap.objects, self.admin(soap.show(cn="_ADMIN_")))
        if not admin or not admin[0].get("key"):
            raise self.client.error("the PBX did not return the key of _ADMIN_")
        return crypto.pbx_key(admin[0].get("key"), pbx_password)

    def cfg(self, layer=None):
        """cfg.txt of the current configuration, or of the cfgtxt.WRITTEN or cfgtxt.ACTIVE one."""
        return cfgtxt.CfgText(self.client.get(cfgtxt.cfg_path(layer), expect="the configuration text"))

    def filters(self, cfg=None):
        """The names of the call filters, from cfg.txt (`cfg`, when read already)."""
        return (cfg if cfg is not None else self.cfg()).filters()

    def licenses(self):
        """None: SOAP has no documented read of the PBX's licenses (PbxAdminApi has, pbxadmin.py)."""
        return None

    def reverse_proxies(self):
        """None: SOAP has no documented read of the PBX's reverse proxies (PbxAdminApi has, pbxadmin.py)."""
        return None

    def command(self, text):
        """Run a `!` command and return its answer text. A `config` command sets what it names whatever was set
        before, so it is sent again when its answer went missing; any other (a reset) is not."""
        name = cfgtxt.command_name(text)
        try:
            return cfgtxt.command_result(self.client.get(cfgtxt.command_path(text), shown="/!" + name,
                                                         idempotent=text.startswith("config "),
                                                         expect="a command answer"))
        except cfgtxt.CommandError as exc:
            raise self.client.error("command %s failed: %s" % (name, exc))
        except Unanswered as exc:
            raise self.client.error("command %s: %s; not sent again (%s)" % (name, exc, RERUN))


def _same_child(sent, stored):
    """Whether a stored child is the one an add-attrib sent: a device by its hw id (one owner only, reference 1.1),
    anything else by its attributes."""
    if sent.tag != stored.tag:
        return False
    if sent.get("hw") is not None:
        return fold("hw", sent.get("hw")) == fold("hw", stored.get("hw") or "")
    return dict(sent.attrib) == dict(stored.attrib)


def is_template(element):
    return any(child.tag == "pseudo" and child.get("type") == "config" for child in element)


# The PBX compares these case-insensitively (contract 2); e164 compares exactly.
CASE_INSENSITIVE = ("cn", "h323", "hw")


def fold(attribute, value):
    return value.lower() if attribute in CASE_INSENSITIVE else value


def hotdesk_devices(element):
    """The hot-desking <device>s of a user: hw equal to the user's own h323 name, in any case (contract 2). More
    than one is a duplicate (add-attrib has no duplicate check): a retry or two runs at once can leave one."""
    name = element.get("h323")
    if not name:
        return []
    return [d for d in element.findall("device") if fold("hw", d.get("hw", "")) == fold("hw", name)]


def hotdesk_device(element):
    """The hot-desking <device> of a user (the first one), None when it has none."""
    devices = hotdesk_devices(element)
    return devices[0] if devices else None


def hotdesk_record(element):
    """The hot-desking registration of a user as a record {user, registered, duplicates, app, text, trusted, tls,
    no_filter}."""
    devices = hotdesk_devices(element)
    attributes = dict(devices[0].attrib if devices else {}, h323=element.get("h323"))
    return dict(HOTDESK_REGISTRATIONS.decode(attributes), registered=bool(devices),
                duplicates=max(len(devices) - 1, 0))


# The flags of a <device> (reference 1.4 and 6, all documented as booleans): "true" or absent on the wire.
DEVICE_FLAGS = ("admin", "no-filter", "tls", "no-mob", "trusted")


def device_entry(device):
    """A <device> as pbx_info returns it: its attributes, the documented flags as booleans."""
    entry = dict(device.attrib)
    entry.update((flag, entry.get(flag) == "true") for flag in DEVICE_FLAGS)
    return entry


def device_attributes(entry):
    """The wire attributes of a device entry of pbx_info (device_entry() reversed)."""
    return dict((name, ("true" if value else "") if isinstance(value, bool) else value)
                for name, value in entry.items())


def logged_in_users(registrations):
    """The users with a hot-desk login now (Pbx.registrations()), folded as the PBX compares names."""
    return frozenset(fold("h323", reg["user"]) for reg in registrations if reg["hotdesk"])


def hotdesk_info(element, logged_in):
    """A user's hot-desking as pbx_info returns it: hotdesk_record(), `enabled` (it has its hot-desking hardware
    id; `registered` says the same, deprecated since it reads like a login) and `logged_in` (a hot-desk login of
    the user is active now; `logged_in` from logged_in_users())."""
    record = hotdesk_record(element)
    record.update(enabled=record["registered"], logged_in=fold("h323", element.get("h323") or "") in logged_in)
    return record


class Directory:
    """Every PBX object of one bulk read, with the lookups validation needs."""

    def __init__(self, elements):
        self.elements = elements
        self.templates = dict((e.get("cn"), e) for e in elements if is_template(e))
        self.users = dict((e.get("h323"), e) for e in elements if e.get("h323") and not is_template(e))
        self._owners = {}

    @classmethod
    def from_info(cls, info, creates=None):
        """The Directory of what innovaphone.pbx.pbx_info returned (`templates`, `users` with their `devices`), and
        the config templates named in creates["templates"] as if they existed (a run creates them first)."""
        elements = []
        templates = list(info.get("templates") or [])
        templates += [{"name": name} for name in (creates or {}).get("templates") or []
                      if name not in [t.get("name") for t in templates]]
        for template in templates:
            elements.append(soap.new_object(TEMPLATES.encode(template), [soap.element("pseudo", {"type": "config"})]))
        for user in info.get("users") or []:
            fields = dict((name, value) for name, value in user.items() if name in USERS.by_name)
            devices = [soap.element("device", device_attributes(device)) for device in user.get("devices") or []]
            elements.append(soap.new_object(USERS.encode(fields), devices))
        return cls(elements)

    def owner(self, attribute, value):
        """The object whose `attribute` is `value`, None when there is none."""
        if attribute not in self._owners:
            self._owners[attribute] = dict((fold(attribute, e.get(attribute)), e)
                                           for e in self.elements if e.get(attribute))
        return self._owners[attribute].get(fold(attribute, value))

    def hw_owner(self, hw):
        """The object holding a device with this hardware id (one user only, reference 1.1)."""
        if "device" not in self._owners:
            self._owners["device"] = dict((fold("hw", d.get("hw", "")), e)
                                          for e in self.elements for d in e.findall("device"))
        return self._owners["device"].get(fold("hw", hw))


class ObjectBackend:
    """PBX objects of one kind ("users" or "templates" of a Directory), read in bulk, written over SOAP."""

    resource = None
    kind = None
    peer = "the PBX"

    def __init__(self, pbx):
        self.pbx = pbx
        self.directory = None

    def read_all(self):
        self.directory = Directory(self.pbx.objects())
        self.loaded()
        return dict((key, self.record(element)) for key, element in self.elements().items())

    def loaded(self):
        """Called when a bulk read is in `directory`, before its objects become records."""

    def elements(self):
        return getattr(self.directory, self.kind)

    def record(self, element):
        return self.resource.decode(element.attrib)

    def create(self, record):
        self.pbx.add(self.new_element(record))

    def attributes(self, key, record):
        """The wire attributes of (some fields of) the record of object `key`."""
        return self.resource.encode(record)

    def new_element(self, record):
        return soap.new_object(self.attributes(record[self.resource.key], record))

    def update(self, key, changes):
        self.pbx.modify(self.elements()[key], self.attributes(key, changes))

    def delete(self, key):
        self.pbx.delete_object(self.elements()[key])


class TemplateBackend(ObjectBackend):
    resource = TEMPLATES
    kind = "templates"

    def new_element(self, record):
        return soap.new_object(self.attributes(record["name"], record), [soap.element("pseudo", {"type": "config"})])


# How many users' pwdx prove a PBX key right or wrong (reference 1.3): a wrong key pads a password of n bytes
# with NULs by chance 1 in 256^(24-n), so a few users are as good as all.
KEY_PROOF_USERS = 8


class PbxKey:
    """The PBX key unlocked with a password the module was given (`source` names it), once the users' pwdx prove
    it (reference 1.3). Only a proven key encrypts passwords for writing: a wrong one would set wrong passwords.
    `note` says why there is no (proven) key."""

    def __init__(self, pbx, password, source, elements):
        self.source = source
        self.key = pbx.key(password)
        proven = pbx.proves(self.key, password)   # the PBX's own proof, where its API has one
        decided = proven is not None
        if not decided:
            proofs = [e.get("pwdx") for e in elements
                      if len(e.get("pwdx") or "") == 2 * crypto.USER_PASSWORD_PAD][:KEY_PROOF_USERS]
            decided = bool(proofs)
            proven = decided and all(crypto.proves_key(self.key, pwdx) for pwdx in proofs)
        self.proven = proven
        self.refuted = decided and not proven
        if self.proven:
            self.note = None
        elif self.refuted:
            self.note = "%s is not the PBX password" % source
        else:
            self.note = "no user on the PBX has a password yet to prove %s against" % source


class UserBackend(ObjectBackend):
    """Users. With the PBX key, the current passwords of the `listed` users are decrypted from pwdx so they can be
    compared (any other reads as UNKNOWN: the pwdx of a user the module does not manage cannot fail a run), and
    with a proven key passwords are written as pwdx, never in clear text (reference 1.3).

    `unlock` is the (password, source) the key may be unlocked with, tried once after the first bulk read;
    `required` fails the run when the users prove it wrong (an explicit pbx_password), else the module goes on
    without a key. `clear_text` lists the users whose password went to the PBX in clear."""

    resource = USERS
    kind = "users"

    def __init__(self, pbx, listed=(), unlock=None, required=False):
        super(UserBackend, self).__init__(pbx)
        self.listed = frozenset(listed)
        self.unlock = unlock
        self.required = required
        self.pbx_key = None
        self.clear_text = []

    @property
    def key(self):
        """The key that decrypts pwdx: a proven one, or an explicit pbx_password nobody could prove yet."""
        usable = self.pbx_key is not None and (self.pbx_key.proven or self.required)
        return self.pbx_key.key if usable else None

    @property
    def note(self):
        return self.pbx_key.note if self.pbx_key is not None else None

    def loaded(self):
        if self.unlock is None or self.pbx_key is not None:
            return
        self.pbx_key = PbxKey(self.pbx, self.unlock[0], self.unlock[1], self.directory.elements)
        if self.required and self.pbx_key.refuted:
            raise self.pbx.client.error("%s: it does not decrypt the passwords the PBX holds" % self.pbx_key.note)

    def record(self, element):
        record = super(UserBackend, self).record(element)
        record["password"] = self.password(element)
        return record

    def password(self, element):
        if self.key is None or element.get("h323") not in self.listed:
            return UNKNOWN
        pwdx = element.get("pwdx")
        if not pwdx:
            return ""
        try:
            return crypto.decrypt_password(self.key, pwdx)
        except crypto.CryptoError:
            return UNKNOWN  # an old or non-UTF-8 password: written again, and the warning names the user

    def attributes(self, key, record):
        """A password goes as pwdx with a proven key (pwd `********` tells the PBX so), else in clear text."""
        attributes = self.resource.encode(record)
        if attributes.get("pwd"):
            if self.pbx_key is not None and self.pbx_key.proven and self.pbx.writes_pwdx:
                attributes.update(pwd=soap.KEEP_PASSWORD, pwdx=crypto.encrypt_password(self.pbx_key.key,
                                                                                       attributes["pwd"]))
            elif self.pbx.writes_pwdx:
                self.clear_text.append(key)
        if key not in self.elements():
            attributes.setdefault("cn", key)  # a new user's long name defaults to its name
        return attributes


# The fields of a hot-desking registration stored on its <device>.
DEVICE_FIELDS = ("app", "text", "trusted", "tls", "no_filter")


class HotdeskBackend(ObjectBackend):
    """The hot-desking registration of every user, as records {user, registered, app, text, and the flags}."""

    resource = HOTDESK_REGISTRATIONS
    kind = "users"

    def record(self, element):
        return hotdesk_record(element)

    def create(self, record):
        raise self.pbx.client.error("user %s does not exist" % record["user"])

    def update(self, key, changes):
        """A registration added or removed is one device, a changed one the device laid over as the PBX holds it
        now; a duplicate of it goes (put_device)."""
        wanted = dict(self.record(self.elements()[key]), **changes)

        def device_for(current):
            if not wanted["registered"]:
                return None
            if current is None:
                return self.device(key, wanted)
            return self.device(current.get("hw"), wanted, current.attrib)

        self.pbx.put_device(self.elements()[key], device_for)

    def device(self, hw, wanted, attributes=None):
        """The <device> of a registration: `attributes` kept, the wanted fields laid over (false and empty values
        left out, as the PBX stores none)."""
        device = soap.element("device", dict(attributes or {}, hw=hw))
        for name, value in self.resource.encode(dict((name, wanted[name]) for name in DEVICE_FIELDS)).items():
            if value:
                device.set(name, value)
            else:
                device.attrib.pop(name, None)
        return device


# The layers behind the current configuration (contract 4): the record field that says a layer holds another value
# of a setting concerned than the current layer (a change is pending), and the command that copies the current
# layer to it.
LAGGING_LAYERS = ((cfgtxt.WRITTEN, "unwritten", "config write"), (cfgtxt.ACTIVE, "inactive", "config activate"))


def settings_record(pbx, flags, concerned, lagging=None):
    """The settings of the PBX0 `flags` of the current layer and, when `concerned` names any setting, whether the
    written and the active layer hold another value of one of them than the current layer: a change is pending
    (one read each). The same meaning in pbx_info, in pbx_settings' results and diffs, and so in the reports.
    `lagging`, a dict, gets the settings each lagging layer holds otherwise ({"unwritten": [field, ...]})."""
    record = PBX_SETTINGS.decode(flags)
    if concerned:
        for layer, lags, _command in LAGGING_LAYERS:
            values = PBX_SETTINGS.decode(pbx.cfg(layer).flags(SETTINGS_MODULE))
            differing = sorted(name for name in concerned if values[name] != record[name])
            record[lags] = bool(differing)
            if lagging is not None:
                lagging[lags] = differing
    return record


def settings_entry(wanted):
    """The engine entry of the `wanted` settings: the current layer holds them and no layer lags."""
    entry = dict(wanted, module=SETTINGS_MODULE)
    if wanted:
        entry.update((lags, False) for _layer, lags, _command in LAGGING_LAYERS)
    return entry


class SettingsBackend:
    """The PBX0 flags of cfg.txt: `config change` of the whole line when the current layer lacks a wanted
    value, then `config write` and `config activate`; without a change, `config write` / `config activate` when
    the written / active layer holds another value of a wanted setting than the current layer (a pending change).

    `config change` replaces the whole line, so the line is read again right before it (as Pbx.fresh() does for
    a modify): a flag changed since the module's first read is kept, not written back to what that read saw."""

    resource = PBX_SETTINGS
    peer = "the PBX"

    def __init__(self, pbx, wanted):
        self.pbx = pbx
        self.wanted = wanted
        self.flags = {}
        self.lagging = {}

    def read_all(self):
        self.flags = self.pbx.cfg().flags(SETTINGS_MODULE)
        record = settings_record(self.pbx, self.flags, self.wanted, self.lagging)
        return {SETTINGS_MODULE: dict(record, module=SETTINGS_MODULE)}

    def lacking(self, _key, name):
        """The settings the layer of `name` (unwritten, inactive) holds otherwise than the current layer, as last
        read."""
        return self.lagging.get(name, [])

    def update(self, key, changes):
        values = self.resource.encode(changes)
        for attempt in range(2):
            interruptions = self.pbx.interruptions
            if values:
                # Read again just before: config change replaces the whole line, so a flag changed by hand since
                # the module's read would be put back.
                self.flags = self.pbx.cfg().flags(SETTINGS_MODULE)
                self.pbx.command(cfgtxt.change_command(key, dict(self.flags, **values)))
            # A changed setting is always written and activated; a change others left pending only when a layer
            # lags the current one.
            for _layer, lags, command in LAGGING_LAYERS:
                if values or lags in changes:
                    self.pbx.command(command)
            if not values or attempt or self.pbx.interruptions == interruptions:
                return
            # A connection failed or a nonce went stale meanwhile: the PBX may have rebooted between `config change`
            # and `config write`, and lost the change. Then the current layer lacks it, and it is made once more.
            # (A PBX that drops a flag it does not know fails the engine's re-read as before.)
            now = self.resource.decode(self.pbx.cfg().flags(key))
            if all(now.get(name) == value for name, value in changes.items()
                   if not isinstance(self.resource.field(name), State)):
                return
