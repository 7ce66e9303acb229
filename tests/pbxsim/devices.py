# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Devices app of pbxsim: one Devices instance with its domains, spoken to over AppWebsocket.

Reference sections 3 and 4, which follow innovaphone's SDK page doc/service/Devices.htm (13r2). The
instance password logs in as admin over every domain (whatever `domain` the login names); a domain
password logs in to that domain only. List answers come in pages until `last`. Device configurations
are the documented objects: common fields plus flat fields per type; GetDeviceConfig sends the EXPERT
script in GetDeviceConfigValueResult chunks. GetUserInfo's key opens the device passthrough (HTTP to
a phone through Devices). Phones (phones.py) redeem provisioning codes here and fetch their device
configurations.
"""

import copy
import ipaddress
import logging
import re
import secrets
import time
import urllib.parse
import uuid

from aiohttp import web

from . import appservice, appws, crypto, wire_names as W
from .model import ADMIN_CN, PbxError

PAGE_SIZE = 2                       # small on purpose: every client must follow `last`
VALUE_CHUNK = 200                   # characters per GetDeviceConfigValueResult: every client must concatenate
CODE_VALIDITY = 15 * 60             # seconds, reference 4
ROLLOUT_CODE_VALIDITY = 7 * 24 * 3600
STATE_FORMAT = 2                    # devices part of the state file; older parts are dropped on load

# --- documented names (SDK doc/service/Devices.htm) --------------------------------------------
MT_GET_DEVICE_CONFIGS = "GetDeviceConfigs"
MT_GET_DEVICE_CONFIG = "GetDeviceConfig"
MT_DEVICE_CONFIG_VALUE = "GetDeviceConfigValueResult"
CONFIGS_KEY = "configs"
CATEGORIES_KEY = "categories"
DESC = "desc"
TYPE_ALARM_SERVER = "ALARM_SERVER"
TYPE_EXPERT = "EXPERT"
TYPE_FXS_PHONE = "FXS_PHONE"
TYPE_MEDIA = "MEDIA"
TYPE_NTP = "NTP"
TYPE_PHONE = "PHONE"
TYPE_TLS_PROFILE = "TLS_PROFILE"
GK1 = "gk1"                         # PHONE / FXS_PHONE: primary gatekeeper
GK2 = "gk2"                         # secondary gatekeeper
GK_ID = "gkId"                      # gatekeeper identifier
SCRIPT = "script"                   # EXPERT: the update script
DEVICE_TYPES = ("VA", "GW", "PHONE", "DECT", "APP_PLATFORM")
EV_DEVICE_CONFIG_ADDED = "DeviceConfigAdded"
EV_DEVICE_CONFIG_EDITED = "DeviceConfigEdited"
EV_DEVICE_CONFIG_DELETED = "DeviceConfigDeleted"
EV_DEVICE_ADDED = "DeviceAdded"
EV_DEVICE_UPDATE = "DeviceUpdate"
EV_DEVICE_REMOVED = "DeviceRemoved"
EV_DOMAIN_EDITED = "DomainEdited"
EV_DEVICE_PROVISIONED = "DeviceProvisioned"
PASSTHROUGH = "passthrough"         # <Devices URL>/passthrough/<hwId>/<key>/<path>
# The two apps of the Devices service (wiki "Concept App Service Devices", reference 4 revised turn 3): the admin UI
# and the hidden API app. A direct login names one of them; which one a real instance takes is not documented, so
# pbxsim takes both by default (the UI's name as the wire-name table spells it) and --devices-app narrows it.
UI_APP = "innovaphone-devices"
API_APP = "innovaphone-devices-api"
# The UI page the App Platform serves at the App object URL (the instance URL plus the HTML file's name, reference 8)
# and the one script it loads, relative to the page.
UI_SCRIPT = UI_APP + ".js"
UI_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Devices</title>
<script type="text/javascript" src="%s"></script></head>
<body></body></html>
""" % UI_SCRIPT

# A password-like flag name (contract 9) and, in an update script, such a flag with its value.
SECRET_FLAG = re.compile(r"pwd|pass|secret|key", re.IGNORECASE)
SCRIPT_SECRET = re.compile(r"(/[\w-]*(?:pwd|pass|secret|key)[\w-]*)\s+\S+", re.IGNORECASE)

# Messages answered in several messages: pages until `last`, or value parts before the result (the `no_last` fault).
MULTIPART_MESSAGES = ("GetDomains", "GetProvisioningCategories", "GetDevices", "GetFilteredDevices",
                      MT_GET_DEVICE_CONFIGS, MT_GET_DEVICE_CONFIG)
ENVELOPE = ("mt", "src", "api")                  # message keys that are no configuration field
COMMON_FIELDS = ("id", "domainId", DESC, "type", CATEGORIES_KEY)

log = logging.getLogger(__name__)


class DevicesError(appservice.ServiceError):
    """A request the Devices app refuses; the text goes into the result's error key."""


# --- the device configuration object --------------------------------------------------------------
class Field:
    """One flat field of a device configuration type: its JSON type and what values it takes."""

    def __init__(self, json_type, describe, test=None):
        self.json_type = json_type
        self.describe = describe
        self.test = test

    def check(self, name, value):
        exact = isinstance(value, self.json_type) and not (self.json_type is int and isinstance(value, bool))
        if not exact or (self.test is not None and not self.test(value)):
            raise DevicesError(f"{name} must be {self.describe}")


TEXT = Field(str, "a string")
BOOLEAN = Field(bool, "true or false")


def number(low, high):
    return Field(int, f"a number from {low} to {high}", lambda value: low <= value <= high)


def one_of(*choices):
    return Field(str, "one of " + " | ".join(choices), lambda value: value in choices)


def numeric_string(low, high):
    return Field(str, f"a string holding a number from {low} to {high}",
                 lambda value: re.fullmatch(r"[0-9]+", value) is not None and low <= int(value) <= high)


HEX_BYTE = Field(str, "a string holding a hex value from 0x00 to 0xff",
                 lambda value: re.fullmatch(r"(0[xX])?[0-9a-fA-F]{1,2}", value) is not None)
PHONE_FIELDS = {                    # FXS_PHONE and PHONE
    GK1: TEXT, GK2: TEXT, GK_ID: TEXT,
    "coder": one_of("G711A", "G711u", "G722", "OPUS-NB", "OPUS-WB"),
    "frameSize": number(20, 80),
    "exclusive": BOOLEAN, "setRecordingUrl": BOOLEAN, "silenceComp": BOOLEAN, "noDtmfDetect": BOOLEAN,
    "noPhysicalLocation": BOOLEAN,
    "srtpKey": numeric_string(0, 4), "srtpCipher": numeric_string(0, 5),
    "recordingUrl": TEXT,
    "dialTone": number(0, 26),
}
JUST_PHONE_FIELDS = {name: BOOLEAN for name in (
    "audioOnly", "noCtHookOn", "protectCfg", "allowUserCfg", "hideCompleteCfg", "hideAdminCfg")}
CONFIG_FIELDS = {
    TYPE_ALARM_SERVER: {"url": TEXT, "logUrl": TEXT, "logUser": TEXT, "logPassword": TEXT, "setLogUrl": BOOLEAN},
    TYPE_EXPERT: {SCRIPT: TEXT},
    TYPE_FXS_PHONE: {**PHONE_FIELDS, "fax": BOOLEAN},
    TYPE_MEDIA: {
        "stunServer": TEXT, "turnServer": TEXT, "turnUser": TEXT, "turnPassword": TEXT,
        "tosRtp": HEX_BYTE, "tosSig": HEX_BYTE,
        "setRtpPorts": BOOLEAN, "rtpFirst": number(2052, 65534), "rtpNum": number(128, 16384),
        "setNatPorts": BOOLEAN, "natFirst": number(2052, 65534), "natNum": number(0, 65535),
    },
    TYPE_NTP: {"ntp1": TEXT, "ntp2": TEXT, "tz": TEXT},
    TYPE_PHONE: {**PHONE_FIELDS, **JUST_PHONE_FIELDS},
    TYPE_TLS_PROFILE: {"profile": one_of("normal", "fast", "secure", "strict")},
}
REQUIRED_FIELDS = {TYPE_EXPERT: (SCRIPT,), TYPE_TLS_PROFILE: ("profile",)}
# Fields whose value travels only in GetDeviceConfigValueResult messages ("can exceed 64kb").
VALUE_FIELDS = {TYPE_EXPERT: (SCRIPT,)}


def redact_script(script):
    return SCRIPT_SECRET.sub(r"\1 " + W.CFG_PASSWORD_MASK.replace("\\", "\\\\"), script)


def is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def name_list(value, what):
    """A comma separated list of names ("a,b"); None when not given or empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DevicesError(f"{what} must be a comma separated string")
    names = [part.strip() for part in value.split(",") if part.strip()]
    return names or None


class Session(appservice.Session):
    """One Devices AppWebsocket connection: its login, its subscriptions (and the base's challenge and outbox)."""

    def __init__(self, ws, base_url, request=None):
        super().__init__(ws, request)
        self.base_url = base_url      # the Devices URL over http(s), for passthrough URIs
        self.key = None               # passthrough key (GetUserInfo), valid while the session is open
        self.admin = False
        self.home_domain = None       # domain id of the login; None until logged in
        self.config_updates = False   # GetDeviceConfigs{recvUpdates: true}
        self.domain_updates = False   # GetDomains{recvUpdates: true}
        self.device_filter = None     # GetDevices{recvUpdates: true}: which devices it wants events for

    @property
    def logged_in(self):
        return self.home_domain is not None


class DevicesApp(appservice.AppService):
    interface = "devices"
    multipart = MULTIPART_MESSAGES

    def __init__(self, instance, domain, instance_password, domain_passwords=None, app_names=None):
        super().__init__(instance)
        self.instance_password = instance_password
        self.app_names = list(app_names or [])  # --devices-app: the only `app` names a login may give
        # Domain ids are fixed by configuration: the instance domain is 1, the others follow by name.
        others = sorted(name for name in (domain_passwords or {}) if name != domain)
        self.domains = [
            {"id": number_, "name": name, "hasRentalProducts": False, "deployAdminPasswords": False,
             "isInstanceDomain": name == domain}
            for number_, name in enumerate([domain] + others, start=1)
        ]
        self.domain_passwords = dict(domain_passwords or {})
        self.clock = time.time
        self.keys = {}                 # passthrough key -> session
        self.code_requesters = {}      # code -> (session, src) awaiting DeviceProvisioned; not persisted
        self.reset()

    # --- state ----------------------------------------------------------------------------------
    def reset(self):
        self.categories = {}
        self.configs = {}              # id -> {id, domainId, desc?, type, categories: [ids], <fields>}
        self.devices = {}              # id -> the documented device object, nothing else
        self.device_categories = {}    # device id -> category id (pbxsim's own, beside the object)
        self.codes = {}
        self.next_id = 1
        self.code_requesters.clear()

    def to_dict(self):
        return copy.deepcopy({
            "format": STATE_FORMAT,
            "categories": list(self.categories.values()),
            "configs": list(self.configs.values()),
            "devices": list(self.devices.values()),
            "device_categories": [{"id": i, "categoryId": c} for i, c in self.device_categories.items()],
            "codes": list(self.codes.values()),
            "next_id": self.next_id,
        })

    def load_dict(self, data):
        self.reset()
        if data.get("format") != STATE_FORMAT:
            log.warning("devices: state of an older pbxsim dropped (format %r)", data.get("format"))
            return
        data = copy.deepcopy(data)
        self.categories = {item["id"]: item for item in data["categories"]}
        self.configs = {item["id"]: item for item in data["configs"]}
        self.devices = {item["id"]: item for item in data["devices"]}
        self.device_categories = {item["id"]: item["categoryId"] for item in data["device_categories"]}
        self.codes = {item["code"]: item for item in data["codes"]}
        self.next_id = data["next_id"]

    def redacted_dict(self):
        """to_dict() for /_sim/state: the password flags inside expert scripts are hidden."""
        data = self.to_dict()
        for config in data["configs"]:
            if isinstance(config.get(SCRIPT), str):
                config[SCRIPT] = redact_script(config[SCRIPT])
        return data

    def _new_id(self):
        self.next_id += 1
        return self.next_id - 1

    # --- websocket (appservice.AppService) ----------------------------------------------------------
    @property
    def error_key(self):
        return W.DEVICES_ERROR_KEY

    def new_session(self, ws, request):
        return Session(ws, f"{request.scheme}://{request.host}/{self.instance.domain}/devices", request)

    def logged_in(self, session):
        return session.logged_in

    def on_close(self, session):
        self._logout(session)
        for code in [code for code, (owner, _src) in self.code_requesters.items() if owner is session]:
            del self.code_requesters[code]

    def drop_sessions(self):
        """A reboot: no session answers again and no passthrough key is valid (the connections go too)."""
        super().drop_sessions()
        self.keys.clear()
        self.code_requesters.clear()

    def without_end(self, mt, answers):
        """The `no_last` fault: a paged answer whose final page says `last: false`, or GetDeviceConfig's value parts
        without the closing GetDeviceConfigResult; either way nothing tells the client that the answer is complete.
        A refusal comes as it is."""
        if any(W.DEVICES_ERROR_KEY in fields for fields in answers):
            return answers
        if mt == MT_GET_DEVICE_CONFIG:
            return answers[:-1]
        return [dict(fields, last=False) for fields in answers]

    # --- events ---------------------------------------------------------------------------------
    def _emit(self, wants, domain_id, event):
        """Send event to every logged-in session for which wants(session) and that may see domain_id."""
        for session in list(self.sessions):
            if session.logged_in and self._sees(session, domain_id) and wants(session):
                self.emit(session, event)

    def _config_event(self, mt, config):
        if mt == EV_DEVICE_CONFIG_DELETED:
            event = {"mt": mt, W.DEVICE_CONFIG_DELETED_KEY: config["id"]}
        else:
            event = {"mt": mt, W.DEVICE_CONFIG_EVENT_KEY: self._config_object(config)}
        self._emit(lambda session: session.config_updates, config["domainId"], event)

    def _domain_event(self, domain_id):
        domain = next(d for d in self.domains if d["id"] == domain_id)
        self._emit(lambda session: session.domain_updates, domain_id,
                   {"mt": EV_DOMAIN_EDITED, "domain": self._domain_object(domain)})

    def _device_event(self, mt, device):
        def wants(session):
            return session.device_filter is not None and session.device_filter(device)
        self._emit(wants, device["domainId"], {"mt": mt, "device": dict(device)})

    # --- access ---------------------------------------------------------------------------------
    @staticmethod
    def _sees(session, domain_id):
        return session.admin or (domain_id is not None and domain_id == session.home_domain)

    def _domain(self, session, domain_id):
        """The domain a request names (default: the login's), if the session may use it."""
        if domain_id is None:
            domain_id = session.home_domain
        domain = next((d for d in self.domains if is_id(domain_id) and d["id"] == domain_id), None)
        if domain is None or not self._sees(session, domain_id):
            raise DevicesError(f"no access to domain {domain_id}")
        return domain

    def _visible_domains(self, session):
        return [d for d in self.domains if self._sees(session, d["id"])]

    def _owned(self, session, table, message, what):
        """The object `message["id"]` names in `table`, if it lies in a domain the session may use
        (and in the message's domainId, when it gives one)."""
        key = message.get("id")
        item = table.get(key) if is_id(key) else None
        if item is None or not self._sees(session, item["domainId"]) or (
                message.get("domainId") is not None and message["domainId"] != item["domainId"]):
            raise DevicesError(f"{what} {key} not found")
        return item

    # --- login ----------------------------------------------------------------------------------
    def _app_challenge(self, session, _message):
        session.challenge = appws.new_challenge()
        return {"challenge": session.challenge}

    def _logout(self, session):
        if session.key is not None:
            self.keys.pop(session.key, None)
        session.key, session.home_domain, session.admin = None, None, False
        session.config_updates = session.domain_updates = False
        session.device_filter = None

    def _app_login(self, session, message):
        challenge, session.challenge = session.challenge, None   # one try per challenge
        self._logout(session)
        # The instance password first, whatever `domain` says; then the named domain's password.
        candidates = [(self.instance_password, (self.domains[0]["id"], True))]
        name = message.get("domain")
        named = next((d for d in self.domains if d["name"] == name), None)
        if named is not None and name in self.domain_passwords:
            candidates.append((self.domain_passwords[name], (named["id"], False)))
        match = appws.check_login(message, challenge, candidates) if message.get("app") in self.apps() else None
        if match is None:
            return {"ok": False, "error": "login failed"}
        _password, (session.home_domain, session.admin) = match
        session.key = str(uuid.uuid4())
        self.keys[session.key] = session
        home = next(d for d in self.domains if d["id"] == session.home_domain)
        return {"ok": True, "domain": home["name"]}

    def apps(self):
        """The `app` names a login may give: --devices-app, else the UI's (as the table spells it) and the API's."""
        return self.app_names or [W.DEVICES_APP, API_APP]

    def _get_user_info(self, session, _message):
        return {"key": session.key, "admin": session.admin}

    # --- objects as sent ------------------------------------------------------------------------
    @staticmethod
    def _pages(key, items):
        """Split a list answer into result messages of PAGE_SIZE items, the last one marked."""
        chunks = [items[start:start + PAGE_SIZE] for start in range(0, len(items), PAGE_SIZE)] or [[]]
        return [{key: chunk, "last": number_ == len(chunks) - 1} for number_, chunk in enumerate(chunks)]

    def _categories_in(self, domain_id):
        return [dict(c) for c in self.categories.values() if c["domainId"] == domain_id]

    def _short_category(self, category):
        return {key: category[key] for key in ("id", "name", "config")}

    def _domain_object(self, domain):
        return {**domain, CATEGORIES_KEY: [self._short_category(c) for c in self._categories_in(domain["id"])]}

    def _config_object(self, config, values=False):
        """The documented configuration object; with `values`, its flat fields other than VALUE_FIELDS."""
        obj = {"id": config["id"], "domainId": config["domainId"]}
        if DESC in config:
            obj[DESC] = config[DESC]
        obj["type"] = config["type"]
        obj[CATEGORIES_KEY] = [self._short_category(self.categories[cid])
                               for cid in config[CATEGORIES_KEY] if cid in self.categories]
        if values:
            hidden = VALUE_FIELDS.get(config["type"], ())
            obj.update((name, value) for name, value in config.items()
                       if name in CONFIG_FIELDS[config["type"]] and name not in hidden)
        return obj

    def _uri(self, session, device):
        """The URI under which the device is reachable during this session: its passthrough URL."""
        return f"{session.base_url}/{PASSTHROUGH}/{device['hwId']}/{session.key}/"

    # --- reads ----------------------------------------------------------------------------------
    def _get_domains(self, session, message):
        if message.get("recvUpdates") is True:
            session.domain_updates = True
        return self._pages("domains", [self._domain_object(d) for d in self._visible_domains(session)])

    def _get_provisioning_categories(self, session, message):
        domain = self._domain(session, message.get("domainId"))
        kind = message.get("type")
        if kind is not None and kind not in DEVICE_TYPES:
            raise DevicesError("type must be one of " + " | ".join(DEVICE_TYPES))
        categories = self._categories_in(domain["id"])
        if kind == "PHONE":
            # "suitable for phones (device configurations Phone/Analog Phone exist)"; a configuration
            # without categories is valid for all devices, so it makes every category suitable.
            phone_configs = [c for c in self.configs.values()
                             if c["domainId"] == domain["id"] and c["type"] in (TYPE_PHONE, TYPE_FXS_PHONE)]
            if not any(not c[CATEGORIES_KEY] for c in phone_configs):
                assigned = {cid for c in phone_configs for cid in c[CATEGORIES_KEY]}
                categories = [c for c in categories if c["id"] in assigned]
        return self._pages(CATEGORIES_KEY, categories)

    def _get_device_configs(self, session, message):
        domain = self._domain(session, message.get("domainId"))
        if message.get("recvUpdates") is True:
            session.config_updates = True
        configs = [self._config_object(c) for c in self.configs.values() if c["domainId"] == domain["id"]]
        return self._pages(CONFIGS_KEY, configs)

    def _get_device_config(self, session, message):
        domain = self._domain(session, message.get("domainId"))
        key = message.get("id")
        config = self.configs.get(key) if is_id(key) else None
        if config is None or config["domainId"] != domain["id"]:
            raise DevicesError(f"device configuration {key} not found")
        answers = []
        for name in VALUE_FIELDS.get(config["type"], ()):
            value = config.get(name, "")
            answers += [{"mt": MT_DEVICE_CONFIG_VALUE, "name": name, "value": value[start:start + VALUE_CHUNK]}
                        for start in range(0, len(value), VALUE_CHUNK)]
        return answers + [{"config": self._config_object(config, values=True)}]

    def _device_matcher(self, session, message):
        """GetDevices' filters (see the SDK's Note) as a test of one device object."""
        wanted = name_list(message.get("domainIds"), "domainIds")
        domain_ids = None
        if wanted is not None:
            try:
                domain_ids = {int(part) for part in wanted}
            except ValueError as exc:
                raise DevicesError("domainIds must be a comma separated list of ids") from exc
            for domain_id in sorted(domain_ids):
                self._domain(session, domain_id)
        categories = name_list(message.get("categories"), "categories")
        subcategories = name_list(message.get("subcategories"), "subcategories")
        unassigned = message.get("unassigned") is True

        def matches(device):
            domain_id = device["domainId"]
            if domain_id is None:        # not assigned to a domain (pbxsim makes none, but filters them)
                return session.admin and (unassigned or (domain_ids is None and categories is None
                                                         and subcategories is None))
            if not self._sees(session, domain_id):
                return False
            if domain_ids is not None and domain_id not in domain_ids:
                return False
            if domain_ids is None and unassigned:
                return False             # "if you just set unassigned, you will just get unassigned"
            if categories is not None and self.category_name(self.device_categories.get(device["id"])) \
                    not in categories:
                return False
            return subcategories is None  # pbxsim's devices have no subcategories
        return matches

    def _get_devices(self, session, message):
        matches = self._device_matcher(session, message)
        if message.get("recvUpdates") is True:
            session.device_filter = matches
        return self._pages("devices", [dict(d) for d in self.devices.values() if matches(d)])

    def _get_filtered_devices(self, session, message):
        domain = self._domain(session, message.get("domainId"))
        just_fxs = message.get("justFxs", False)
        if not isinstance(just_fxs, bool):
            raise DevicesError("justFxs must be true or false")
        types = message.get("types")
        if types is not None and not (isinstance(types, list) and all(t in DEVICE_TYPES for t in types)):
            raise DevicesError("types must be a list of " + " | ".join(DEVICE_TYPES))
        hw_ids = name_list(message.get("hwIds"), "hwIds")
        hw_ids = None if hw_ids is None else {hw.lower() for hw in hw_ids}
        devices = [
            dict(d) for d in self.devices.values()
            if d["domainId"] == domain["id"]
            and not just_fxs             # pbxsim's phones have no FXS interface
            and (not types or d["type"] in types)
            and (hw_ids is None or d["hwId"].lower() in hw_ids)
        ]
        return self._pages("devices", devices)

    def _get_provisioned_device(self, session, message):
        domain = self._domain(session, message.get("domainId"))
        code = self.codes.get(str(message.get("code")))
        if code is None or code["domainId"] != domain["id"]:
            raise DevicesError(f"unknown provisioning code {message.get('code')}")
        answer = {"code": code["code"]}
        if code.get("deviceId") in self.devices:
            device = self.devices[code["deviceId"]]
            answer["device"] = {**device, "uri": self._uri(session, device)}
        return answer

    # --- provisioning codes ---------------------------------------------------------------------
    def _get_provisioning_code(self, session, message):
        domain = self._domain(session, message.get("domainId"))
        category = self._category_named(domain["id"], message.get("category"))
        sip = message.get("sip") or None
        if sip is not None:
            user = self.instance.pbx.find_user(str(sip))
            if user is None:
                raise DevicesError(f"no PBX user {sip}")
            if not user.get("h323"):      # the phone registers with the user's name (reference 4: sip)
                raise DevicesError(f"PBX user {sip} has no name")
            sip = user["h323"]
        code = None
        while code is None or code in self.codes:
            code = f"{secrets.randbelow(10 ** 10):010d}"
        validity = ROLLOUT_CODE_VALIDITY if message.get("rollout") else CODE_VALIDITY
        self.codes[code] = {
            "code": code, "domainId": domain["id"], "categoryId": category["id"], "sip": sip,
            "validUntil": int(self.clock()) + validity, "deviceId": None,
        }
        self.code_requesters[code] = (session, message.get("src"))
        return {"code": code, "validUntil": self.codes[code]["validUntil"]}

    def _category_named(self, domain_id, name):
        for category in self.categories.values():
            if category["domainId"] == domain_id and category["name"] == name:
                return category
        raise DevicesError(f"no category {name!r} in domain {domain_id}")

    def redeem_code(self, code, hw_id, address):
        """A phone with `hw_id` enters `code`: it becomes a device of the code's domain and category.

        Returns {"device", "domainId", "categoryId", "sip", "password"}: Devices configures the phone to
        register as the code's user (h323 `sip`) with that user's password. Raises DevicesError when the code is unknown,
        expired or used, or when the PBX refuses the hw id on the code's user (then nothing changes).
        """
        grant = self.codes.get(str(code))
        if grant is None:
            raise DevicesError("unknown provisioning code")
        if grant["deviceId"] is not None:
            raise DevicesError("provisioning code already used")
        if self.clock() > grant["validUntil"]:
            raise DevicesError("provisioning code expired")
        if grant["categoryId"] not in self.categories:
            raise DevicesError("the category of this provisioning code was deleted")
        if grant["sip"] is not None:
            self._put_hw_on_user(grant["sip"], hw_id)
        device = next((d for d in self.devices.values() if d["hwId"] == hw_id), None)
        event = EV_DEVICE_UPDATE
        if device is None:
            event = EV_DEVICE_ADDED
            device = {"id": self._new_id(), "hwId": hw_id, "domainId": None, "product": "IP232",
                      "version": "13r3 pbxsim [13.0/pbxsim/0]", "type": "PHONE", "pbxActive": False,
                      "online": True, "hasLeaseLicenses": False, "other": False, "ethIfs": []}
            self.devices[device["id"]] = device
        family = "ipv6" if ipaddress.ip_address(address).version == 6 else "ipv4"
        device.update(domainId=grant["domainId"], online=True, ethIfs=[{"if": "ETH0", family: address}])
        self.device_categories[device["id"]] = grant["categoryId"]
        grant["deviceId"] = device["id"]
        self._notify_provisioned(grant["code"], device)
        self._device_event(event, device)
        self.instance.save()
        return {"device": dict(device), "domainId": grant["domainId"], "categoryId": grant["categoryId"],
                "sip": grant["sip"], "password": self._user_password(grant["sip"]) if grant["sip"] else None}

    def set_online(self, device_id, online):
        """A device connected to or left Devices."""
        device = self.devices.get(device_id)
        if device is not None and device["online"] != online:
            device["online"] = online
            self._device_event(EV_DEVICE_UPDATE, device)

    def remove_device(self, device_id):
        """An administrator deleted the device in the Devices app: the sessions that asked get DeviceRemoved."""
        device = self.devices.get(device_id)
        if device is not None:
            self._device_event(EV_DEVICE_REMOVED, device)   # while the sessions' filters still see its category
            del self.devices[device_id]
            self.device_categories.pop(device_id, None)

    def _put_hw_on_user(self, h323, hw_id):
        # Users Admin sets "TLS only" and "Reverse Proxy" on the devices it creates for provisioning
        # (13r2 Provisioning API tutorial): tls and trusted (reference 1.4 revised).
        device = {"hw": hw_id, "text": "Devices", "app": W.HOTDESK_DEVICE_APP,
                  "tls": W.BOOLEAN_TRUE, "trusted": W.BOOLEAN_TRUE}
        try:
            self.instance.pbx.add_device(h323, device)
        except PbxError as exc:        # e.g. the hw id belongs to another user: the code stays unused
            raise DevicesError(f"PBX refused hardware id {hw_id} on {h323}: {exc}") from exc

    def _user_password(self, h323):
        """The user's clear password, read as an app with PBX admin rights can (reference 1.3):
        the PBX key from _ADMIN_ unlocked with the PBX password, then pwdx decrypted with it."""
        pbx = self.instance.pbx
        admin = pbx.show({"cn": ADMIN_CN})[0]["attrs"]
        pbx_key = crypto.rc4(crypto.pad(pbx.pbx_password, crypto.ADMIN_KEY_PAD), bytes.fromhex(admin["key"]))
        found = pbx.show({"h323": h323})
        pwdx = found[0]["attrs"].get("pwdx") if found else None
        if not pwdx:
            return ""
        return crypto.rc4(pbx_key, bytes.fromhex(pwdx)).rstrip(b"\0").decode("utf-8", "ignore")

    def _notify_provisioned(self, code, device):
        session, src = self.code_requesters.pop(code, (None, None))
        if session is None or session not in self.sessions:
            return
        event = {"mt": EV_DEVICE_PROVISIONED, "code": code, "device": {**device, "uri": self._uri(session, device)}}
        if src is not None:
            event["src"] = src
        self.emit(session, event)

    # --- categories -----------------------------------------------------------------------------
    @staticmethod
    def _text(message, key, current=None):
        value = message.get(key, current)
        if not isinstance(value, str) or not value.strip():
            raise DevicesError(f"{key} must be a non-empty string")
        return value

    @staticmethod
    def _flag(message, key, current=False):
        value = message.get(key, current)
        if not isinstance(value, bool):
            raise DevicesError(f"{key} must be true or false")
        return value

    def _check_category_name(self, domain_id, name, own_id=None):
        if any(c["domainId"] == domain_id and c["name"] == name and c["id"] != own_id
               for c in self.categories.values()):
            raise DevicesError(f"a category named {name!r} exists already in domain {domain_id}")

    def _add_category(self, session, message):
        if "domainId" not in message:
            raise DevicesError("domainId missing")
        domain = self._domain(session, message["domainId"])
        name = self._text(message, "name")
        config = self._flag(message, "config")
        self._check_category_name(domain["id"], name)
        category = {"id": self._new_id(), "domainId": domain["id"], "name": name, "config": config}
        self.categories[category["id"]] = category
        self._domain_event(domain["id"])
        return {"id": category["id"]}

    def _update_category(self, session, message):
        category = self._owned(session, self.categories, message, "category")
        name = self._text(message, "name", category["name"])
        config = self._flag(message, "config", category["config"])
        self._check_category_name(category["domainId"], name, category["id"])
        changed = (name, config) != (category["name"], category["config"])
        category.update(name=name, config=config)
        if changed:
            self._domain_event(category["domainId"])
            for device_config in self._configs_with(category["id"]):
                self._config_event(EV_DEVICE_CONFIG_EDITED, device_config)
        return {}

    def _delete_category(self, session, message):
        category = self._owned(session, self.categories, message, "category")
        del self.categories[category["id"]]
        self._domain_event(category["domainId"])
        for config in self._configs_with(category["id"]):
            config[CATEGORIES_KEY].remove(category["id"])
            self._config_event(EV_DEVICE_CONFIG_EDITED, config)
        return {}

    def _configs_with(self, category_id):
        return [c for c in self.configs.values() if category_id in c[CATEGORIES_KEY]]

    # --- device configurations ------------------------------------------------------------------
    def _category_ids(self, domain_id, value):
        """`categories` of a message: category objects ({id, …}) or bare ids, each of the domain."""
        if not isinstance(value, list):
            raise DevicesError("categories must be a list of category objects or ids")
        ids = []
        for item in value:
            category_id = item.get("id") if isinstance(item, dict) else item
            if not is_id(category_id):
                raise DevicesError("categories must be a list of category objects or ids")
            category = self.categories.get(category_id)
            if category is None or category["domainId"] != domain_id:
                raise DevicesError(f"no category {category_id} in domain {domain_id}")
            ids.append(category_id)
        return sorted(set(ids))

    @staticmethod
    def _field_changes(kind, message):
        """The flat fields a message gives, checked: {name: value}, None meaning "remove the field"."""
        fields = {name: value for name, value in message.items() if name not in ENVELOPE + COMMON_FIELDS}
        allowed = CONFIG_FIELDS[kind]
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            raise DevicesError(f"{kind} configurations have no field {', '.join(unknown)}")
        changes = {}
        for name, value in fields.items():
            if value is None or (value == "" and allowed[name].json_type is str):
                changes[name] = None
            else:
                allowed[name].check(name, value)
                changes[name] = value
        return changes

    @staticmethod
    def _desc(message, current=None):
        if DESC not in message:
            return current
        value = message[DESC]
        if value is not None and not isinstance(value, str):
            raise DevicesError(f"{DESC} must be a string")
        return value or None

    @staticmethod
    def _check_whole(config):
        kind = config["type"]
        missing = [name for name in REQUIRED_FIELDS.get(kind, ()) if name not in config]
        if missing:
            raise DevicesError(f"{kind} configurations need {', '.join(missing)}")
        if kind == TYPE_MEDIA and all(name in config for name in ("rtpFirst", "rtpNum", "natFirst", "natNum")):
            rtp = range(config["rtpFirst"], config["rtpFirst"] + config["rtpNum"])
            nat = range(config["natFirst"], config["natFirst"] + config["natNum"])
            if rtp and nat and rtp.start < nat.stop and nat.start < rtp.stop:
                raise DevicesError("the RTP and NAT port ranges overlap")

    @staticmethod
    def _assemble(config_id, domain_id, desc, kind, category_ids, fields):
        """A stored configuration: the common fields in the documented order, then the flat ones."""
        config = {"id": config_id, "domainId": domain_id}
        if desc is not None:
            config[DESC] = desc
        config.update({"type": kind, CATEGORIES_KEY: category_ids})
        config.update(fields)
        return config

    def _add_device_config(self, session, message):
        if "domainId" not in message:
            raise DevicesError("domainId missing")
        if "id" in message:
            raise DevicesError("id is given by Devices, not by AddDeviceConfig")
        domain = self._domain(session, message["domainId"])
        kind = message.get("type")
        if kind not in CONFIG_FIELDS:
            raise DevicesError("type must be one of " + " | ".join(sorted(CONFIG_FIELDS)))
        if CATEGORIES_KEY not in message:
            raise DevicesError("categories missing (an empty list means all devices)")
        category_ids = self._category_ids(domain["id"], message[CATEGORIES_KEY])
        fields = {name: value for name, value in self._field_changes(kind, message).items() if value is not None}
        config = self._assemble(None, domain["id"], self._desc(message), kind, category_ids, fields)
        self._check_whole(config)
        config["id"] = self._new_id()
        self.configs[config["id"]] = config
        self._config_event(EV_DEVICE_CONFIG_ADDED, config)
        self._push_configs(config["domainId"], config[CATEGORIES_KEY])
        return {"id": config["id"]}

    def _update_device_config(self, session, message):
        """Fields omitted are kept, fields given as null (or "" for a string) are removed."""
        config = self._owned(session, self.configs, message, "device configuration")
        kind = config["type"]
        if "type" in message and message["type"] != kind:
            raise DevicesError("the type of a device configuration cannot change")
        category_ids = config[CATEGORIES_KEY]
        if CATEGORIES_KEY in message:
            category_ids = self._category_ids(config["domainId"], message[CATEGORIES_KEY])
        fields = {name: value for name, value in config.items() if name not in COMMON_FIELDS}
        for name, value in self._field_changes(kind, message).items():
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value
        new = self._assemble(config["id"], config["domainId"], self._desc(message, config.get(DESC)), kind,
                             category_ids, fields)
        self._check_whole(new)
        before = config[CATEGORIES_KEY]
        self.configs[config["id"]] = new
        self._config_event(EV_DEVICE_CONFIG_EDITED, new)
        self._push_configs(new["domainId"], before, new[CATEGORIES_KEY])
        return {}

    def _delete_device_config(self, session, message):
        config = self._owned(session, self.configs, message, "device configuration")
        del self.configs[config["id"]]
        self._config_event(EV_DEVICE_CONFIG_DELETED, config)
        return {}

    def configs_for(self, domain_id, category_id):
        """Device configurations a device of `category_id` in `domain_id` receives, oldest first:
        those of its category and those without categories ("valid for all devices")."""
        return [copy.deepcopy(c) for c in sorted(self.configs.values(), key=lambda c: c["id"])
                if c["domainId"] == domain_id and (not c[CATEGORIES_KEY] or category_id in c[CATEGORIES_KEY])]

    def category_name(self, category_id):
        category = self.categories.get(category_id)
        return None if category is None else category["name"]

    def _push_configs(self, domain_id, *category_lists):
        """Devices hands changed device configurations to the online devices they are valid for."""
        every = any(not ids for ids in category_lists)
        self.instance.phones.on_device_configs_changed(
            domain_id, None if every else {cid for ids in category_lists for cid in ids})

    # --- device passthrough (SDK "Communication with connected Sysclients") ------------------------
    def passthrough_prefix(self):
        return f"/{self.instance.domain}/devices/{PASSTHROUGH}/"

    async def handle_passthrough(self, request):
        """GET <Devices URL>/passthrough/<hwId>/<key>/<path>: the request goes to the device as /<path>."""
        raw = request.raw_path.partition("?")[0][len(self.passthrough_prefix()):]
        parts = raw.split("/", 2)
        if len(parts) < 3:
            return web.Response(status=W.PASSTHROUGH_NO_DEVICE_STATUS, text="no such device")
        hw_id, key, path = (urllib.parse.unquote(part) for part in parts)
        session = self.keys.get(key)
        if session is None or session not in self.sessions:
            self.instance.stats.unauthorized += 1
            return web.Response(status=W.PASSTHROUGH_BAD_KEY_STATUS, text="unknown or expired session key")
        device = next((d for d in self.devices.values() if d["hwId"].lower() == hw_id.lower()), None)
        phones = self.instance.phones
        if device is None or not self._sees(session, device["domainId"]) or not phones.exists(device["hwId"]):
            return web.Response(status=W.PASSTHROUGH_NO_DEVICE_STATUS, text=f"no device {hw_id}")
        if not phones.is_online(device["hwId"]):
            return web.Response(status=W.PASSTHROUGH_OFFLINE_STATUS, text=f"device {hw_id} is offline")
        if path.startswith("!"):
            self.instance.stats.count("passthrough", True)
            answer = phones.http_command(device["hwId"], path[1:])
            self.instance.save()
            return web.Response(text=answer, content_type="text/plain", charset="utf-8")
        self.instance.stats.count("passthrough", False)
        if path == "cfg.txt":
            return web.Response(text=phones.cfg_text(device["hwId"]), content_type="text/plain", charset="utf-8")
        return web.Response(status=404, text=f"the device has no page /{path}")

    # --- the UI page and its script -----------------------------------------------------------------
    def ui_prefix(self):
        return f"/{self.instance.domain}/devices/"

    def ui_script(self):
        """The script of the UI page: one function per message the UI sends, each `mt` a string literal, the
        ASSUMED writes as the wire-name table spells them now (pbxsim's own stand-in, not innovaphone's code)."""
        sent = [mt for mt in self.handlers() if mt not in appservice.LOGIN_MESSAGES]
        lines = ["// pbxsim: the messages the Devices UI sends to its service", "var devicesUi = {"]
        lines += [f"    {mt[0].lower() + mt[1:]}: function (app, args) {{ app.send(Object.assign({{ mt: \"{mt}\" }}, "
                  "args)); }," for mt in sent]
        lines.append("};")
        return "\n".join(lines) + "\n"

    async def handle_ui(self, request):
        """GET <Devices URL>/innovaphone-devices and its script: served without authentication, as the App
        Platform serves an app's files (the app logs in over its AppWebsocket)."""
        name = request.match_info["file"]
        if name == UI_APP:
            return web.Response(text=UI_PAGE, content_type="text/html", charset="utf-8")
        if name == UI_SCRIPT:
            return web.Response(text=self.ui_script(), content_type="application/javascript", charset="utf-8")
        return web.Response(status=404, text=f"no file {name}")

    # Documented message types (SDK doc/service/Devices.htm) -> (handler, whether it changes state).
    DOCUMENTED_HANDLERS = {
        "AppChallenge": (_app_challenge, False),
        "AppLogin": (_app_login, False),
        "GetUserInfo": (_get_user_info, False),
        "GetLoginInfo": (_get_user_info, False),     # the 13r1 name
        "GetDomains": (_get_domains, False),
        "GetProvisioningCategories": (_get_provisioning_categories, False),
        "GetProvisioningCode": (_get_provisioning_code, True),
        "GetProvisionedDevice": (_get_provisioned_device, False),
        "GetDevices": (_get_devices, False),
        "GetFilteredDevices": (_get_filtered_devices, False),
        MT_GET_DEVICE_CONFIGS: (_get_device_configs, False),
        MT_GET_DEVICE_CONFIG: (_get_device_config, False),
    }

    @classmethod
    def handlers(cls):
        """Every message type pbxsim answers: the documented ones and the ASSUMED ones as the wire name table
        spells them now (built per message, so a respelt name is unknown under its old one)."""
        return {
            **cls.DOCUMENTED_HANDLERS,
            W.MT_ADD_CATEGORY: (cls._add_category, True),
            W.MT_UPDATE_CATEGORY: (cls._update_category, True),
            W.MT_DELETE_CATEGORY: (cls._delete_category, True),
            W.MT_ADD_DEVICE_CONFIG: (cls._add_device_config, True),
            W.MT_UPDATE_DEVICE_CONFIG: (cls._update_device_config, True),
            W.MT_DELETE_DEVICE_CONFIG: (cls._delete_device_config, True),
        }

    @classmethod
    def check_message_names(cls):
        """Raise ValueError if two message types share a name (a --wire-names respelling onto another one)."""
        assumed = [W.MT_ADD_CATEGORY, W.MT_UPDATE_CATEGORY, W.MT_DELETE_CATEGORY, W.MT_ADD_DEVICE_CONFIG,
                   W.MT_UPDATE_DEVICE_CONFIG, W.MT_DELETE_DEVICE_CONFIG]
        names = list(cls.DOCUMENTED_HANDLERS) + assumed
        clashes = sorted({name for name in assumed if names.count(name) > 1})
        if clashes:
            raise ValueError("Devices message type %s would name two messages" % ", ".join(clashes))
