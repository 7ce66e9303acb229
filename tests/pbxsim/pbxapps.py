# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PBX's own AppWebsocket at /PBX0/APPS/websocket (reference 6): App objects, their login, and the APIs
they are granted, PbxAdminApi (this module) and PbxTableUsers (tableusers.py), over the same model the SOAP,
bulk-read and command interfaces use.

An App object has a name, a password and grants (PBX Manager's "Grant access to APIs" check marks: Admin ->
PbxAdminApi, TableUsers -> PbxTableUsers). A client logs in with AppChallenge / AppLogin as the App object
(`app` = its name, the digest with its password, reference 3 and 6.1); every other message names its `api`
and is answered `<mt>Result` with `api` and `src` echoed, a refusal as an `error` property of the result.
"""

import zlib

from aiohttp import web

from . import appservice, appws, crypto, model, soap, tableusers, wire_names as W
from .appservice import ServiceError
from .control import json_body

ADMIN_API = "PbxAdminApi"
TABLE_USERS_API = "PbxTableUsers"
GRANTS = {"Admin": ADMIN_API, "TableUsers": TABLE_USERS_API}   # PBX Manager's check mark -> the API it opens
PATH = "/PBX0/APPS/websocket"
DEFAULT_APP_NAME = "pbxadminapi"        # the App object name of innovaphone's own PHP sample
CONFIG_OBJECTS_LIMIT = 50               # GetConfigObjects: at most 50 templates per answer
SEARCH_USERS_LIMIT = 20                 # SearchUsers: at most 20 users per answer
PORT_LICENSE = "Port"
ENVELOPE = ("api", "mt", "src")
# UpdateObject's instructions and selectors, not object properties.
INSTRUCTIONS = ("guid", "copyPwd", "template", "properties")
# Object properties that are booleans / unsigned numbers (13r1 SDK page, UpdateObject; 13r2: no-dev, h323-email);
# the template flags Store / Discard Phone Config as the wire name table spells them (booleans_of()).
BOOLEAN_PROPERTIES = ("hide", "colr", "uclic", "voicemail", "fax", "mobility", "mypbx", "video", "app-sharing",
                      "reporting", "no-dev", "h323-email")
UNSIGNED_PROPERTIES = ("cfnr",)
SINGLE_CHILDREN = ("pseudo", "phone")
# What `template: "with"` does not take from a template: the object's identity (INFERRED: reference 1.2, "empty
# settings on a user are inherited from its template").
IDENTITY = ("guid", "cn", "dn", "h323", "e164", "pwd", "config", "text", "email")


def arrays():
    """The API's arrays -> the child elements that hold their items: <device>, <grp> (DOC, reference 1.1); the
    others as the wire name table guesses them."""
    return {"devices": "device", "grp": "grp", "presence": W.PRESENCE_ELEMENT, "cds": W.DIVERSION_ELEMENT,
            "emails": W.EMAIL_ELEMENT}


def booleans_of():
    return set(BOOLEAN_PROPERTIES) | model.boolean_attributes()


def to_json_value(name, value, booleans):
    if name in booleans:
        return value == W.BOOLEAN_TRUE
    if name in UNSIGNED_PROPERTIES and value.isdigit():
        return int(value)
    return value


def element_json(elem, booleans):
    """A child element as the API's JSON object: attributes (booleans as JSON booleans), nested children."""
    obj = {name: to_json_value(name, value, booleans) for name, value in elem["attrs"].items()}
    for child in elem["children"]:
        obj.setdefault(child["tag"], []).append(element_json(child, booleans))
    return obj


def json_element(tag, obj, booleans):
    """The API's JSON object as a child element (the reverse of element_json)."""
    attrs, children = {}, []
    for name, value in obj.items():
        if isinstance(value, dict):
            children.append(json_element(name, value, booleans))
        elif isinstance(value, list):
            children += [json_element(name, item, booleans) for item in value if isinstance(item, dict)]
        elif isinstance(value, bool):
            if value:
                attrs[name] = W.BOOLEAN_TRUE
        elif isinstance(value, (int, float)):
            if name not in booleans:             # a boolean sent as a number deletes the setting
                attrs[name] = str(value)
        elif value is not None:
            attrs[name] = str(value)
    return model.element(tag, attrs, children)


class AppObject:
    """A PBX App object as far as the AppWebsocket needs it: name, password, the APIs it may use."""

    def __init__(self, name, password, grants):
        self.name = name
        self.password = password
        self.grants = tuple(grants)

    def apis(self):
        return {GRANTS[grant] for grant in self.grants}

    def describe(self):
        return {"name": self.name, "password": "********", "grants": list(self.grants)}


class Session(appservice.Session):
    def __init__(self, ws, request=None):
        super().__init__(ws, request)
        self.app = None                # the App object it logged in as
        self.admin_monitor = False     # MonitorAdminObject
        self.config_monitor = False    # MonitorConfig
        self.replication = None        # tableusers.Replication after ReplicateStart


def app_object(spec):
    """An AppObject from a control API body {name, password, grants}; ValueError names what is wrong."""
    name, password, grants = spec.get("name"), spec.get("password"), spec.get("grants", list(GRANTS))
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if not isinstance(password, str) or not password:
        raise ValueError("password must be a non-empty string")
    if not isinstance(grants, list) or any(grant not in GRANTS for grant in grants):
        raise ValueError("grants must be a list of %s" % ", ".join(GRANTS))
    return AppObject(name, password, grants)


class PbxApps(appservice.AppService):
    """The AppWebsocket endpoint of one simulated PBX."""

    interface = "pbxapi"

    def __init__(self, instance, app_name, app_password, port_licenses=None, reverse_proxies=()):
        super().__init__(instance)
        self.defaults = (app_name, app_password, port_licenses, list(reverse_proxies))
        self.apps = {}
        self.port_licenses = port_licenses
        self.reverse_proxies = []
        self.table = tableusers.TableUsers(self)
        instance.pbx.watch(self.on_change)
        self.reset()

    def reset(self):
        """The App object of the command line with both grants; licenses and reverse proxies as configured."""
        name, password, self.port_licenses, proxies = self.defaults
        self.apps = {name: AppObject(name, password, list(GRANTS))}
        self.reverse_proxies = [dict(rp) for rp in proxies]

    # --- appservice.AppService ------------------------------------------------------------------
    def new_session(self, ws, request):
        return Session(ws, request)

    def logged_in(self, session):
        return session.app is not None

    def lookup(self, message):
        mt = message.get("mt")
        if mt in appservice.LOGIN_MESSAGES:
            return {"AppChallenge": (PbxApps.app_challenge, False), "AppLogin": (PbxApps.app_login, False)}[mt]
        handlers = {ADMIN_API: ADMIN_HANDLERS, TABLE_USERS_API: tableusers.HANDLERS}.get(message.get("api"))
        if handlers is None:
            return PbxApps.unknown_api, False
        return handlers.get(mt, (None, False))

    @staticmethod
    def answer(message, fields):
        answer = appws.result(message, **fields)
        if "api" in message:
            answer["api"] = message["api"]
        return answer

    def on_close(self, session):
        session.app = session.replication = None

    # --- login ----------------------------------------------------------------------------------
    def app_challenge(self, session, _message):
        session.challenge = appws.new_challenge()
        return {"challenge": session.challenge}

    def app_login(self, session, message):
        challenge, session.challenge = session.challenge, None   # one try per challenge
        self.on_close(session)
        session.admin_monitor = session.config_monitor = False
        app = self.apps.get(message.get("app"))
        if app is None or appws.check_login(message, challenge, [(app.password, app.name)]) is None:
            return {"ok": False, "error": "login failed"}
        session.app = app
        return {"ok": True}

    def unknown_api(self, _session, message):
        raise ServiceError("unknown api %s" % message.get("api"))

    def granted(self, session, api):
        if api not in session.app.apis():
            raise ServiceError("App object %s is not enabled for %s" % (session.app.name, api))

    # --- changes from any interface -------------------------------------------------------------
    def on_change(self, changes, reset):
        self.table.on_change(changes)
        if reset:
            for session in list(self.sessions):
                if session.admin_monitor:
                    self.emit(session, self.admin_info())

    def admin_info(self):
        """MonitorAdminObjectInfo: `key` the PBX key encrypted with the PBX password (the SOAP _ADMIN_ key of
        reference 1.3), `pwd` the PBX password NUL-padded to 16 bytes encrypted with the PBX key (reference 6.2)."""
        pbx = self.instance.pbx
        return {"api": ADMIN_API, "mt": "MonitorAdminObjectInfo",
                "key": crypto.admin_key_attribute(pbx.pbx_key, pbx.pbx_password),
                "pwd": crypto.rc4(pbx.pbx_key, crypto.pad(pbx.pbx_password, crypto.ADMIN_KEY_PAD)).hex()}

    # --- objects as the API shows them ----------------------------------------------------------
    def object_json(self, obj, template=False):
        """GetObjectResult's properties of a stored object; `pwd` encrypted with the PBX key (the SOAP pwdx)."""
        booleans = booleans_of()
        attrs = dict(obj["attrs"])
        if template:
            for name, value in self.inherited(obj).items():
                attrs.setdefault(name, value)
        result = {}
        for name, value in attrs.items():
            if name == "pwd":
                result["pwd"] = crypto.pwdx(self.instance.pbx.pbx_key, value)
            else:
                result[name] = to_json_value(name, value, booleans)
        for child in obj["children"]:
            tag = child["tag"]
            array = next((key for key, child_tag in arrays().items() if child_tag == tag), None)
            if array is not None:
                result.setdefault(array, []).append(element_json(child, booleans))
            else:
                result[tag] = element_json(child, booleans)
        return result

    def inherited(self, obj):
        """The settings the templates of `obj` give it, the first template (depth first) winning."""
        found, seen, pending = {}, set(), list(model.inherited(obj))
        while pending:
            name = pending.pop(0)
            template = self.instance.pbx.by_cn(name)
            if template is None or name.casefold() in seen:
                continue
            seen.add(name.casefold())
            for key, value in template["attrs"].items():
                if key not in IDENTITY:
                    found.setdefault(key, value)
            pending = model.inherited(template) + pending
        return found

    def stored(self, message, selectors=("guid", "cn", "h323")):
        """The stored object a request names by the first of `selectors` it gives."""
        pbx = self.instance.pbx
        for key in selectors:
            value = message.get(key)
            if isinstance(value, str) and value:
                obj = pbx.find({key: value})
                if obj is None:
                    raise ServiceError("no object with %s %s" % (key, value))
                return obj
        raise ServiceError("one of %s is required" % ", ".join(selectors))

    # --- PbxAdminApi ----------------------------------------------------------------------------
    def get_object(self, session, message):
        self.granted(session, ADMIN_API)
        template = message.get("template", "without")
        if template not in ("with", "without"):
            raise ServiceError('template must be "with" or "without"')
        result = self.object_json(self.stored(message), template == "with")
        properties = message.get("properties")
        if properties is not None:
            if not isinstance(properties, list):
                raise ServiceError("properties must be a list of property names")
            result = {name: value for name, value in result.items() if name in properties or name == "guid"}
        return result

    def update_object(self, session, message):
        self.granted(session, ADMIN_API)
        pbx = self.instance.pbx
        guid = message.get("guid")
        if guid is not None and not isinstance(guid, str):
            raise ServiceError("guid must be a string")
        old = None
        if guid in ("*", "?"):
            if not message.get("cn"):
                raise ServiceError('guid "%s" needs a cn' % guid)
            old = pbx.by_cn(message["cn"])
            if old is None and guid == "*":
                raise ServiceError("no object with cn %s" % message["cn"])
        elif guid:
            old = self.stored({"guid": guid}, ("guid",))
        new = self.updated(old, message)
        if isinstance(message.get("pwd"), str) and message["pwd"] not in ("", model.HIDDEN_PASSWORD):
            self.instance.stats.passwords[soap.CLEAR_PASSWORDS] += 1     # counted as it arrives, as on SOAP
        try:
            if old is None:
                pbx.add(new)
                return {"guid": pbx.by_cn(new["attrs"]["cn"])["attrs"]["guid"]}
            pbx.modify(new)
        except model.PbxError as exc:
            raise ServiceError(str(exc)) from exc
        return {"guid": old["attrs"]["guid"]}

    def updated(self, old, message):
        """The object after UpdateObject: every property present changes it, the absent ones stay."""
        booleans = booleans_of()
        attrs = dict(old["attrs"]) if old is not None else {}
        children = list(old["children"]) if old is not None else []
        for name, value in message.items():
            if name in ENVELOPE or name in INSTRUCTIONS:
                continue
            if name in arrays() or name in SINGLE_CHILDREN:
                tag = arrays().get(name, name)
                items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
                children = [child for child in children if child["tag"] != tag] + [
                    json_element(tag, item, booleans) for item in items if isinstance(item, dict)]
            elif isinstance(value, bool):
                attrs[name] = W.BOOLEAN_TRUE if value else "false"
            elif isinstance(value, (int, float)) and name in booleans:
                attrs.pop(name, None)            # "deleted": the template's value counts again
            elif isinstance(value, (str, int, float)):
                attrs[name] = str(value)
            elif value is None:
                attrs.pop(name, None)
            else:
                raise ServiceError("%s: unsupported value" % name)
        if old is not None:
            attrs["guid"] = old["attrs"]["guid"]
        else:
            attrs.pop("guid", None)
        new = model.element("user", attrs, children)
        source = message.get("copyPwd")
        if source is not None:
            self.copy_password(new, source)
        return new

    def copy_password(self, new, source):
        """copyPwd: the password of the object whose h323 is `source`; not for users (objects without pseudo)."""
        if not any(child["tag"] == "pseudo" for child in new["children"]):
            raise ServiceError("copyPwd cannot be used for an object of type user")
        other = self.instance.pbx.find({"h323": str(source)})
        if other is None:
            raise ServiceError("copyPwd: no object with h323 %s" % source)
        new["attrs"].pop("pwd", None)
        if "pwd" in other["attrs"]:
            new["attrs"]["pwd"] = other["attrs"]["pwd"]

    def delete_object(self, session, message):
        self.granted(session, ADMIN_API)
        obj = self.stored(message, ("guid",))
        try:
            self.instance.pbx.delete({"guid": obj["attrs"]["guid"]})
        except model.PbxError as exc:
            raise ServiceError(str(exc)) from exc
        return {}

    @staticmethod
    def limit(message, highest):
        value = message.get("limit", highest)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ServiceError("limit must be a number from 1")
        return min(value, highest)

    def templates(self):
        return sorted((obj for obj in self.instance.pbx.objects.values() if model.is_template(obj)),
                      key=lambda obj: obj["attrs"]["cn"].casefold())

    def get_config_objects(self, session, message):
        """Every config template with the templates it names, in pages of `limit` (at most 50) sorted by cn; an
        answer with `more` has more to come: the next request sends that `more` back."""
        self.granted(session, ADMIN_API)
        limit = self.limit(message, CONFIG_OBJECTS_LIMIT)
        after = message.get("more")
        objects = [obj for obj in self.templates()
                   if not isinstance(after, str) or obj["attrs"]["cn"].casefold() > after.casefold()]
        page = objects[:limit]
        answer = {"objects": [{"cn": obj["attrs"]["cn"], "config": model.inherited(obj)} for obj in page]}
        if len(objects) > limit:
            answer["more"] = page[-1]["attrs"]["cn"]
        return answer

    def get_configs(self, session, _message):
        self.granted(session, ADMIN_API)
        return {"configs": [obj["attrs"]["cn"] for obj in self.templates()]}

    def search_users(self, session, message):
        """Up to `limit` (at most 20) users (objects of the type user or executive, DOC) sorted by cn, from the one
        after `cn` (with includeMatch: from `cn`)."""
        self.granted(session, ADMIN_API)
        limit = self.limit(message, SEARCH_USERS_LIMIT)
        start = message.get("cn", "")
        if not isinstance(start, str):
            raise ServiceError("cn must be a string")
        start = start.casefold()
        include = message.get("includeMatch") is True
        users = sorted((obj for obj in self.instance.pbx.objects.values()
                        if tableusers.pseudo_type(obj) in (None, "executive")),
                       key=lambda obj: obj["attrs"]["cn"].casefold())
        found = [obj for obj in users
                 if obj["attrs"]["cn"].casefold() > start or (include and obj["attrs"]["cn"].casefold() == start)]
        return {"user": [self.user_id(obj) for obj in found[:limit]]}

    @staticmethod
    def user_id(obj):
        attrs = obj["attrs"]
        user = {key: attrs[key] for key in ("cn", "dn", "guid", "h323") if key in attrs}
        emails = [attrs["email"]] if attrs.get("email") else []
        emails += [child["attrs"]["email"] for child in obj["children"]
                   if child["tag"] == W.EMAIL_ELEMENT and "email" in child["attrs"]]
        if emails:
            user["emails"] = [{"email": email} for email in emails]
        return user

    def get_regs(self, session, message):
        """The registrations of one object now; a hot-desk login is the one whose hw is the user's name (6.4)."""
        self.granted(session, ADMIN_API)
        obj = self.stored(message, ("guid", "cn"))
        user = obj["attrs"].get("h323") or obj["attrs"].get("e164")
        regs = [{"hw": reg["hw"], "addr": reg["addr"]} for reg in self.instance.pbx.registrations()
                if user and reg["user"] == user]
        return {"regs": regs, "cn": obj["attrs"]["cn"]}

    def get_filters(self, session, _message):
        self.granted(session, ADMIN_API)
        return {"filter": self.instance.config.active_filters()}

    def licenses_used(self):
        """Port licenses in use: one per user object with a registration (the seed: the Hot Desk Base user,
        registered from every hot-desk phone, "requires one port license")."""
        return len({reg["user"] for reg in self.instance.pbx.registrations()})

    def get_pbx_licenses(self, session, _message):
        """Without licenses (port_licenses None) the PBX is in test mode: no `lic` (seen in innovaphone's sample)."""
        self.granted(session, ADMIN_API)
        if self.port_licenses is None:
            return {}
        return {"lic": [{"name": PORT_LICENSE, "count": str(self.port_licenses), "local": str(self.port_licenses),
                         "slaves": "0", "used": str(self.licenses_used()), "version": "13"}]}

    def local_address(self, session):
        host = session.request.host if session.request is not None else "127.0.0.1"
        return host.rsplit(":", 1)[0].strip("[]")

    def mac(self):
        """The PBX's hardware id: an innovaphone-like MAC, fixed per PBX name."""
        return "009033%06x" % (zlib.crc32(self.instance.name.encode("utf-8")) & 0xffffff)

    def get_rps(self, session, _message):
        self.granted(session, ADMIN_API)
        address = self.local_address(session)
        return {"addr": address, "hw": self.mac(), "dns": address,
                "rp": [dict(rp) for rp in self.reverse_proxies]}

    def monitor_admin_object(self, session, _message):
        self.granted(session, ADMIN_API)
        session.admin_monitor = True
        self.emit(session, self.admin_info())
        return {}

    def monitor_config(self, session, message):
        self.granted(session, ADMIN_API)
        if message.get("stop") is True:
            session.config_monitor = False
            return {}
        session.config_monitor = True
        address = self.local_address(session)
        self.emit(session, {"api": ADMIN_API, "mt": "MonitorConfigInfo", "domain": self.instance.domain,
                            "pbx": self.instance.name, "dns": address, "ip4": address})
        return {}

    def get_pbx_config(self, session, _message):
        self.granted(session, ADMIN_API)
        return {"loc": self.instance.name}

    def get_phone_config(self, session, message):
        self.granted(session, ADMIN_API)
        obj = self.stored(message, ("guid", "cn"))
        phone = next((child for child in obj["children"] if child["tag"] == "phone"), None)
        return {} if phone is None else {"phone": element_json(phone, booleans_of())}

    # --- control API ----------------------------------------------------------------------------
    def routes(self, prefix):
        return [
            web.get(prefix + "apps", self.list_apps),
            web.post(prefix + "apps", self.add_app),
            web.delete(prefix + "apps/{name}", self.delete_app),
            web.get(prefix + "licenses", self.licenses),
            web.post(prefix + "licenses", self.set_licenses),
            web.get(prefix + "rps", self.rps),
            web.post(prefix + "rps", self.set_rps),
        ]

    async def list_apps(self, _request):
        return web.json_response([app.describe() for app in self.apps.values()])

    async def add_app(self, request):
        try:
            app = app_object(await json_body(request))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        self.apps[app.name] = app
        return web.json_response(app.describe())

    async def delete_app(self, request):
        if self.apps.pop(request.match_info["name"], None) is None:
            return web.json_response({"error": "no App object %s" % request.match_info["name"]}, status=404)
        return web.json_response({"ok": True})

    async def licenses(self, _request):
        return web.json_response({"port": self.port_licenses, "used": self.licenses_used()})

    async def set_licenses(self, request):
        body = await json_body(request)
        port = body.get("port")
        if "port" not in body or port is not None and (isinstance(port, bool) or not isinstance(port, int) or port < 0):
            return web.json_response({"error": "port must be a number from 0, or null (none: test mode)"},
                                     status=400)
        self.port_licenses = port
        return await self.licenses(request)

    async def rps(self, _request):
        return web.json_response({"rp": self.reverse_proxies})

    async def set_rps(self, request):
        rps = (await json_body(request)).get("rp")
        if not isinstance(rps, list) or not all(
                isinstance(rp, dict) and isinstance(rp.get("addr"), str) and rp["addr"]
                and all(isinstance(value, str) for value in rp.values()) for rp in rps):
            return web.json_response({"error": "rp must be a list of {addr, cert?, cert2?} strings"}, status=400)
        self.reverse_proxies = [{key: rp[key] for key in ("addr", "cert", "cert2") if key in rp} for rp in rps]
        return await self.rps(request)


def reverse_proxy(text):
    """--reverse-proxy ADDR[,CERT[,CERT2]] -> an rp object of GetRPs."""
    parts = text.split(",")
    if not parts[0] or len(parts) > 3:
        raise ValueError("expected ADDR[,CERT[,CERT2]]")
    return dict(zip(("addr", "cert", "cert2"), parts))


# PbxAdminApi operations (reference 6.2) -> (handler, whether it changes state).
ADMIN_HANDLERS = {
    "GetObject": (PbxApps.get_object, False),
    "UpdateObject": (PbxApps.update_object, True),
    "DeleteObject": (PbxApps.delete_object, True),
    "GetConfigObjects": (PbxApps.get_config_objects, False),
    "GetConfigs": (PbxApps.get_configs, False),
    "SearchUsers": (PbxApps.search_users, False),
    "GetRegs": (PbxApps.get_regs, False),
    "GetFilters": (PbxApps.get_filters, False),
    "GetPbxLicenses": (PbxApps.get_pbx_licenses, False),
    "GetRPs": (PbxApps.get_rps, False),
    "MonitorAdminObject": (PbxApps.monitor_admin_object, False),
    "GetPhoneConfig": (PbxApps.get_phone_config, False),
    "MonitorConfig": (PbxApps.monitor_config, False),
    "GetPbxConfig": (PbxApps.get_pbx_config, False),
    "GetPBXConfig": (PbxApps.get_pbx_config, False),     # the spelling of the 13r1 page's example
}
