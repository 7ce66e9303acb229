# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PBX objects, registrations and the rules a PBX enforces (reference 1, contract 2 and 7).

Pure Python, free of HTTP and XML. An object is an element dict
{"tag": "user", "attrs": {name: value}, "children": [element, ...]} as the SOAP `Admin()` XML
carries it; `attrs["pwd"]` holds the clear password, which only ever leaves as "********" and
pwdx. A stored object is never changed in place: every change stores a new dict, so a
transaction can undo itself by putting the old dicts back.
"""

import contextlib
import json
import os
import re
import uuid

from . import cfg
from . import crypto
from . import wire_names as wn

ADMIN_CN = "_ADMIN_"
HIDDEN_PASSWORD = "********"
SELECTORS = ("guid", "cn", "h323", "e164")
UNIQUE_KEYS = ("cn", "h323", "e164")
# The attributes of a <user> object the PBX knows (a real PBX silently drops what it does not know, so pbxsim
# does too; a client can only tell by reading the object back). DOC: reference 1.1 (the user object, XML
# attributes = PbxAdminApi properties, and pwdx of 1.3); the object properties of PbxAdminApi UpdateObject /
# GetObjectResult on the 13r1 SDK page (doc/appwebsocket/PbxAdminApi.htm) and those the 13r2 page adds
# (reference 6: no-dev, h323-email). Arrays of that API (devices, grp, presence, cds, 13r2 emails) are child
# elements, pseudo and phone too; copyPwd is an instruction of UpdateObject, not a property. The template
# flags Store / Discard Phone Config (13r2 properties, reference 1.2) are known in the spelling of the wire
# name table: see known_user_attributes().
DOCUMENTED_USER_ATTRIBUTES = frozenset((
    # reference 1.1 and 1.3
    "cn", "dn", "h323", "e164", "pwd", "pwdx", "hide", "config", "filter", "cd-filter", "node", "loc", "text",
    "email", "guid",
    # PbxAdminApi 13r1 object properties
    "apps", "push", "messages", "cfnr", "colr", "uclic", "voicemail", "fax", "mobility", "mypbx", "video",
    "app-sharing", "reporting",
    # PbxAdminApi 13r2 additions
    "no-dev", "h323-email",
))
# Attributes of the child elements the PBX knows (DOC: reference 1.1 and 1.2, the PbxAdminApi objects device,
# group and pseudo). Other child elements (e.g. <cd>, <presence>) are kept as they come.
KNOWN_CHILD_ATTRIBUTES = {
    # PbxTableUsers' devices table adds sreg, mr, voip, gk-id, prim (reference 6.3)
    "device": frozenset(("hw", "text", "app", "admin", "no-filter", "tls", "no-mob", "trusted", "sreg", "mr", "voip",
                         "gk-id", "prim")),
    "grp": frozenset(("name", "mode", "dyn")),
    "pseudo": frozenset(("type",)),
}
NUMBER = re.compile(r"^[0-9*#]+$")
# How an endpoint reaches the PBX (Pbx.register): plain (TCP, or TLS without a verified certificate), TLS with a
# verified certificate, or through a reverse proxy. pbxsim's own names, used by the simulated phones.
VIA_DIRECT, VIA_TLS, VIA_PROXY = "direct", "tls", "proxy"
VIAS = (VIA_DIRECT, VIA_TLS, VIA_PROXY)
MAX_INHERITED = 4


class PbxError(Exception):
    """A refusal of the PBX; the state is unchanged."""


class RegistrationRefused(PbxError):
    """The PBX does not accept a registration; the message is the reason."""


def element(tag, attrs=None, children=None):
    return {"tag": tag, "attrs": dict(attrs or {}), "children": list(children or [])}


def is_template(obj):
    return any(child["tag"] == "pseudo" and child["attrs"].get("type") == "config"
               for child in obj["children"])


def devices_of(obj):
    return [child["attrs"] for child in obj["children"] if child["tag"] == "device"]


def index_key(key, value):
    """Names compare case-insensitively on a PBX, numbers exactly."""
    return value if key == "e164" else value.casefold()


def boolean_attributes():
    """Attributes whose "false" means the same as absent; the PBX does not keep them."""
    return frozenset(("hide", wn.STORE_PHONE_CONFIG, wn.DISCARD_PHONE_CONFIG,
                      "admin", "no-filter", "tls", "no-mob", "trusted", "sreg", "mr", "dyn"))


def known_user_attributes():
    """The <user> attributes the PBX knows: the documented ones and the template flags as the table spells them."""
    return DOCUMENTED_USER_ATTRIBUTES | {wn.STORE_PHONE_CONFIG, wn.DISCARD_PHONE_CONFIG}


def _known_names(elem, known, like):
    """`known` plus what `like` (elements the PBX shows, of the same tag) carry: what it shows it accepts back."""
    return known.union(*(other["attrs"] for other in like if other["tag"] == elem["tag"]))


def known_child(child, old_children=()):
    """A child element without the attributes the PBX does not know (its descendants as they are)."""
    known = KNOWN_CHILD_ATTRIBUTES.get(child["tag"])
    if known is None:
        return child
    names = _known_names(child, known, old_children)
    return element(child["tag"], {name: value for name, value in child["attrs"].items() if name in names},
                   child["children"])


def known_only(obj, old=None):
    """An object as the PBX takes it in: the attributes it does not know are dropped, silently.

    `old`, the stored object a modify replaces: what it carries is what `show` reported, and is always
    accepted back (matters only for a state loaded from a file written with another spelling).
    """
    if obj["tag"] != "user":
        return obj
    old_children = old["children"] if old is not None else ()
    names = _known_names(obj, known_user_attributes(), [old] if old is not None else [])
    return element(obj["tag"], {name: value for name, value in obj["attrs"].items() if name in names},
                   [known_child(child, old_children) for child in obj["children"]])


def clean(elem):
    """The element as the PBX stores it: no empty attributes, no false booleans."""
    booleans = boolean_attributes()
    attrs = {name: value for name, value in elem["attrs"].items()
             if value != "" and not (name in booleans and value == "false")}
    return element(elem["tag"], attrs, [clean(child) for child in elem["children"]])


def inherited(obj):
    """The templates an object names in `config`: one for a user, up to four (separated) for a template."""
    value = obj["attrs"].get("config", "")
    if not value:
        return []
    return value.split(wn.INHERIT_SEPARATOR) if is_template(obj) else [value]


def is_true(attrs, name):
    return attrs.get(name) == wn.BOOLEAN_TRUE


def compact(value):
    return json.dumps(value, separators=(",", ":"))


class Pbx:
    """The PBX objects and registrations of one simulated PBX."""

    def __init__(self, config, pbx_password):
        self.config = config
        self.pbx_password = pbx_password
        self.pbx_key = b""
        self.objects = {}
        self.regs = {}
        self._index = {}
        self._encoded = {}
        self._journal = None
        self.watchers = []          # callback(changes, reset): told of every committed change (PbxTableUsers)
        self._changes = {}          # guid -> the object before the change being made (None: it is new)
        self.reset()

    def watch(self, callback):
        """callback([(old, new), ...], reset) after every committed change of objects, whatever the interface:
        old None for a new object, new None for a deleted one; reset True when the PBX went back to factory state
        (and got a new PBX key)."""
        self.watchers.append(callback)

    def _publish(self, reset=False):
        changes, self._changes = self._changes, {}
        changes = [(old, self.objects.get(guid)) for guid, old in changes.items()]
        changes = [(old, new) for old, new in changes if old is not new]
        if changes or reset:
            for callback in self.watchers:
                callback(changes, reset)

    # --- state ---------------------------------------------------------------------------
    def reset(self):
        self._changes = dict(getattr(self, "objects", {}))
        self.pbx_key = os.urandom(16)
        self.objects = {}           # guid -> object, in creation order
        self.regs = {}              # registration id -> registration
        self._index = {key: {} for key in UNIQUE_KEYS + ("hw",)}
        self._encoded = {}          # guid -> the object as JSON, so that saving re-encodes only changes
        self._publish(reset=True)

    def to_dict(self):
        return {"pbx_key": self.pbx_key.hex(), "objects": list(self.objects.values()),
                "registrations": list(self.regs.values())}

    def to_json(self):
        """to_dict() as compact JSON, cheap for thousands of objects."""
        return '{"pbx_key":"%s","objects":[%s],"registrations":%s}' % (
            self.pbx_key.hex(), ",".join(self._encoded[guid] for guid in self.objects), compact(self.registrations()))

    def load_dict(self, data):
        self.reset()
        self.pbx_key = bytes.fromhex(data["pbx_key"])
        for obj in data["objects"]:
            self._put(obj)
        self.regs = {reg["id"]: reg for reg in data["registrations"]}

    @contextlib.contextmanager
    def transaction(self):
        """All changes inside succeed together or are undone together."""
        if self._journal is not None:
            yield
            return
        self._journal, regs, order = {}, dict(self.regs), list(self.objects)
        try:
            yield
        except BaseException:
            for guid, old in self._journal.items():
                if old is None:
                    self._remove(guid)
                else:
                    self._put(old)
            self.objects = {guid: self.objects[guid] for guid in order}
            self.regs = regs
            self._changes = {}
            raise
        finally:
            self._journal = None
        self._publish()

    def _put(self, obj):
        guid = obj["attrs"]["guid"]
        self._remember(guid)
        if guid in self.objects:
            self._unindex(self.objects[guid])
        self.objects[guid] = obj
        self._encoded[guid] = compact(obj)
        for key, value in self._index_entries(obj):
            self._index[key][value] = guid
        self._committed()

    def _remove(self, guid):
        self._remember(guid)
        self._unindex(self.objects.pop(guid))
        del self._encoded[guid]
        self._committed()

    def _remember(self, guid):
        self._changes.setdefault(guid, self.objects.get(guid))
        if self._journal is not None and guid not in self._journal:
            self._journal[guid] = self.objects.get(guid)

    def _committed(self):
        """A change outside a transaction is committed at once; inside one, when the transaction ends well."""
        if self._journal is None:
            self._publish()

    def _unindex(self, obj):
        for key, value in self._index_entries(obj):
            if self._index[key].get(value) == obj["attrs"]["guid"]:
                del self._index[key][value]

    @staticmethod
    def _index_entries(obj):
        entries = [(key, index_key(key, obj["attrs"][key])) for key in UNIQUE_KEYS if key in obj["attrs"]]
        return entries + [("hw", index_key("hw", dev["hw"])) for dev in devices_of(obj)]

    # --- reading -----------------------------------------------------------------------------
    def view(self, obj):
        """An object as `show` answers it: password hidden, pwdx added."""
        attrs = {}
        for name, value in obj["attrs"].items():
            if name == "pwd":
                attrs["pwd"] = HIDDEN_PASSWORD
                attrs["pwdx"] = crypto.pwdx(self.pbx_key, value)
            else:
                attrs[name] = value
        return element(obj["tag"], attrs, obj["children"])

    def admin_object(self):
        return element("user", {"cn": ADMIN_CN, "key": crypto.admin_key_attribute(self.pbx_key, self.pbx_password)})

    def show(self, criteria):
        """Objects matching every selector given (guid, cn, h323, e164); _ADMIN_ carries the key."""
        if criteria.get("cn", "").casefold() == ADMIN_CN.casefold():
            return [self.admin_object()]
        obj = self._find(criteria)
        return [self.view(obj)] if obj else []

    def all_objects(self):
        return [self.view(obj) for obj in self.objects.values()]

    def find_user(self, name_or_number):
        """A user (not a template) by h323 name or e164 number, as a flat dict, or None.

        Keys: the object's attributes (without the password), "guid", and "devices": the attribute
        dicts of its <device> children.
        """
        obj = self._find_user_object(name_or_number)
        if obj is None:
            return None
        user = {name: value for name, value in obj["attrs"].items() if name != "pwd"}
        user["devices"] = [dict(dev) for dev in devices_of(obj)]
        return user

    def _find_user_object(self, name_or_number):
        for key in ("h323", "e164"):
            guid = self._index[key].get(index_key(key, name_or_number))
            if guid and not is_template(self.objects[guid]):
                return self.objects[guid]
        return None

    def find(self, criteria):
        """The stored object (clear password inside) matching every selector given, or None."""
        return self._find(criteria)

    def by_cn(self, cn):
        """The stored object with that cn (case-insensitive), or None."""
        return self._by_cn(cn)

    def _find(self, criteria):
        selectors = [(key, criteria[key]) for key in SELECTORS if criteria.get(key)]
        if not selectors:
            raise PbxError("no object selector (one of %s)" % ", ".join(SELECTORS))
        found = set()
        for key, value in selectors:
            if key == "guid":
                found.add(value.lower() if value.lower() in self.objects else None)
            else:
                found.add(self._index[key].get(index_key(key, value)))
        guid = found.pop() if len(found) == 1 else None
        return self.objects.get(guid) if guid else None

    def _existing(self, criteria):
        obj = self._find(criteria)
        if obj is None:
            raise PbxError("no such object")
        return obj

    # --- writing ---------------------------------------------------------------------------------
    def add(self, obj):
        """Create an object; attributes the PBX does not know are not stored (known_only)."""
        self._store(clean(known_only(obj)), None)

    def modify(self, obj):
        """Replace an object (found by guid, else cn) with the complete new one (without what it does not know)."""
        new = clean(obj)
        key = "guid" if new["attrs"].get("guid") else "cn"
        old = self._existing({key: new["attrs"].get(key, "")})
        self._store(clean(known_only(obj, old)), old)

    def delete(self, criteria):
        obj = self._existing(criteria)
        self._check_not_referenced(obj, "deleted")
        with self.transaction():
            self._remove(obj["attrs"]["guid"])
            user = obj["attrs"].get("h323") or obj["attrs"].get("e164")
            self.regs = {rid: reg for rid, reg in self.regs.items() if reg["user"] != user}

    def add_attrib(self, criteria, children):
        """Append child elements (no duplicate check, like the PBX), without the attributes it does not know."""
        old = self._existing(criteria)
        added = [clean(known_child(child, old["children"])) for child in children]
        self._store(element(old["tag"], old["attrs"], old["children"] + added), old)

    def del_attrib(self, criteria, children):
        """Remove every child that has the tag and all attributes of one of `children`."""
        old = self._existing(criteria)

        def matches(child):
            return any(child["tag"] == pattern["tag"] and pattern["attrs"].items() <= child["attrs"].items()
                       for pattern in children)
        kept = [child for child in old["children"] if not matches(child)]
        self._store(element(old["tag"], old["attrs"], kept), old)

    def add_device(self, h323, device):
        """Give a user a <device> (e.g. the hw id of a provisioned phone); a no-op if it has it."""
        obj = self._find_user_object(h323)
        if obj is None:
            raise PbxError("no such user %s" % h323)
        if any(index_key("hw", dev["hw"]) == index_key("hw", device.get("hw", "")) for dev in devices_of(obj)):
            return
        self.add_attrib({"guid": obj["attrs"]["guid"]}, [element("device", device)])

    def _store(self, new, old):
        attrs = new["attrs"]
        if old is None:
            attrs["guid"] = uuid.uuid4().hex
        else:
            attrs["guid"] = old["attrs"]["guid"]
        self._set_password(attrs, old)
        self._check(new, old)
        self._put(new)

    def _set_password(self, attrs, old):
        """Reference 1.3: a clear pwd sets the password and wins; else a pwdx sets it from its encrypted
        form (revised, "method b"); else "********" keeps it; nothing at all clears it (replace semantics).
        An empty pwd or pwdx is no attribute at all (clean() dropped it)."""
        password, encrypted = attrs.get("pwd"), attrs.pop("pwdx", None)
        if password is not None and password != HIDDEN_PASSWORD:
            attrs["pwd"] = crypto.truncate_user_password(password)
        elif encrypted is not None:
            try:
                attrs["pwd"] = crypto.password_from_pwdx(self.pbx_key, encrypted)
            except ValueError as exc:
                raise PbxError("pwdx of %s: %s" % (attrs.get("cn", "an object without cn"), exc)) from exc
            if not attrs["pwd"]:
                del attrs["pwd"]
        elif password == HIDDEN_PASSWORD:
            if old is not None and "pwd" in old["attrs"]:
                attrs["pwd"] = old["attrs"]["pwd"]
            else:
                del attrs["pwd"]

    # --- the rules ----------------------------------------------------------------------------
    def _check(self, new, old):
        attrs, guid = new["attrs"], new["attrs"]["guid"]
        if new["tag"] != "user":
            raise PbxError("unknown object type %s" % new["tag"])
        if not attrs.get("cn"):
            raise PbxError("cn is required")
        if attrs["cn"].casefold() == ADMIN_CN.casefold():
            raise PbxError("%s is reserved" % ADMIN_CN)
        if attrs.get("e164") and not NUMBER.match(attrs["e164"]):
            raise PbxError("e164 %s is not a number" % attrs["e164"])
        for key in UNIQUE_KEYS:
            self._check_unique(key, attrs.get(key), guid)
        for dev in devices_of(new):
            if not dev.get("hw"):
                raise PbxError("device without hw id")
            self._check_unique("hw", dev["hw"], guid)
        self._check_templates(new)
        filters = self.config.active_filters()
        for key in ("filter", "cd-filter"):
            if attrs.get(key) and attrs[key] not in filters:
                raise PbxError("%s %s does not exist" % (key, attrs[key]))
        if old is not None and (not is_template(new) or attrs["cn"].casefold() != old["attrs"]["cn"].casefold()):
            self._check_not_referenced(old, "changed this way")

    def _check_unique(self, key, value, guid):
        owner = self._index[key].get(index_key(key, value)) if value else None
        if owner and owner != guid:
            what = "hardware id" if key == "hw" else key
            raise PbxError("%s %s already used by %s" % (what, value, self.objects[owner]["attrs"]["cn"]))

    def _by_cn(self, cn):
        guid = self._index["cn"].get(index_key("cn", cn))
        return self.objects[guid] if guid else None

    def _check_templates(self, new):
        """`config` names existing templates, at most four, and no chain of them leads back to new."""
        names = inherited(new)
        if len(names) > MAX_INHERITED:
            raise PbxError("a template inherits from at most %d templates" % MAX_INHERITED)
        for name in names:
            template = self._by_cn(name)
            if template is None:
                raise PbxError("config template %s does not exist" % name)
            if not is_template(template):
                raise PbxError("%s is not a config template" % name)
        own, pending, seen = new["attrs"]["cn"].casefold(), list(names), set()
        while pending:
            name = pending.pop().casefold()
            if name == own:
                raise PbxError("config template %s would inherit from itself" % new["attrs"]["cn"])
            if name not in seen:
                seen.add(name)
                pending.extend(inherited(self._by_cn(name)))

    def _check_not_referenced(self, obj, action):
        if not is_template(obj):
            return
        cn = obj["attrs"]["cn"]
        users = [other["attrs"]["cn"] for other in self.objects.values()
                 if other is not obj and cn.casefold() in (name.casefold() for name in inherited(other))]
        if users:
            raise PbxError("config template %s is used by %s and cannot be %s" % (cn, ", ".join(users[:3]), action))

    # --- registrations (contract 7) -----------------------------------------------------------------
    def register(self, hw_id, user, password, address, hotdesk=False, via=VIA_DIRECT):
        """Register hardware id hw_id at address as user (h323 name or e164 number).

        `via` says how the endpoint reaches the PBX: VIA_DIRECT, VIA_TLS (verified certificate) or
        VIA_PROXY (through a reverse proxy). Returns the registration; raises RegistrationRefused with
        the reason. A second registration of the same hw id as the same user replaces the first.
        """
        if via not in VIAS:
            raise ValueError("via must be one of %s, not %r" % (", ".join(VIAS), via))
        obj = self._find_user_object(user)
        if obj is None:
            raise RegistrationRefused("unknown user %s" % user)
        attrs = obj["attrs"]
        name = attrs.get("h323") or attrs.get("e164")
        device = self._registering_device(obj, hw_id)
        if device is None:
            raise RegistrationRefused("user %s has no device %s" % (name, hw_id))
        # Reference 1.4 (revised): trusted = "registration from trusted reverse proxy allowed"; tls = "only
        # registration with verified TLS certificate, or from trusted reverse proxy allowed".
        if via == VIA_PROXY and not is_true(device, "trusted"):
            raise RegistrationRefused("registration of %s through a reverse proxy refused: device %s is not trusted"
                                      % (name, device["hw"]))
        if via == VIA_DIRECT and is_true(device, "tls"):
            raise RegistrationRefused("registration of %s without a verified TLS certificate refused: device %s "
                                      "has tls (TLS only)" % (name, device["hw"]))
        flags = self.config.active_flags(wn.PBX_MODULE)
        previous = next((reg for reg in self.regs.values() if reg["hw"] == hw_id and reg["user"] == name), None)
        if password:
            expected = self.pbx_password if is_true(device, "admin") else attrs.get("pwd")
            if password != expected:
                raise RegistrationRefused("wrong password for %s" % name)
        else:
            limit = int(flags.get(wn.REG_NO_PWD_FLAG) or 0)
            in_use = sum(1 for reg in self.regs.values() if not reg["pwd"] and reg is not previous)
            if is_true(device, "admin") or in_use >= limit:
                raise RegistrationRefused("registration of %s without password refused (/%s %d)"
                                          % (name, wn.REG_NO_PWD_FLAG, limit))
        if not is_true(device, "no-filter") and not cfg.address_allowed(address, flags.get(wn.IP_FILTER_FLAG)):
            raise RegistrationRefused("address %s of %s refused by the IP filter" % (address, name))
        reg = {"id": previous["id"] if previous else uuid.uuid4().hex, "user": name, "cn": attrs["cn"],
               "hw": hw_id, "addr": address, "pwd": bool(password), "hotdesk": bool(hotdesk), "via": via}
        self.regs[reg["id"]] = reg
        return dict(reg)

    @staticmethod
    def _registering_device(obj, hw_id):
        """The <device> the registration uses: the one with hw id hw_id, else the user's own name."""
        devices = devices_of(obj)
        for wanted in (hw_id, obj["attrs"].get("h323", "")):
            for dev in devices:
                if wanted and index_key("hw", dev["hw"]) == index_key("hw", wanted):
                    return dev
        return None

    def unregister(self, reg_id):
        self.regs.pop(reg_id, None)

    def registrations(self):
        return [dict(reg) for reg in self.regs.values()]

    def registrations_of(self, name):
        """The registrations of one user, found by h323 name, e164 number or cn (case-insensitively)."""
        guids = [self._index[key].get(index_key(key, name)) for key in ("h323", "e164", "cn")]
        obj = next((self.objects[guid] for guid in guids if guid and not is_template(self.objects[guid])), None)
        if obj is None:
            return []
        user = obj["attrs"].get("h323") or obj["attrs"].get("e164")
        return [dict(reg) for reg in self.regs.values() if reg["user"] == user]

    def drop_registrations(self):
        self.regs = {}
