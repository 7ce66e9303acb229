# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Devices app of pbxsim: one Devices instance with its domains, spoken to over AppWebsocket.

Reference section 4 and contract section 5. The instance password with the instance domain logs in as
admin over every domain; a domain password logs in to that domain only. List answers come in pages
until `last`. Phones (phones.py) redeem provisioning codes here and fetch their device configurations.
"""

import asyncio
import copy
import logging
import re
import secrets
import time

from aiohttp import WSMsgType, web

from . import appws, crypto, wire_names as W
from .model import ADMIN_CN, PbxError

PAGE_SIZE = 2                       # small on purpose: every client must follow `last`
CODE_VALIDITY = 15 * 60             # seconds, reference 4
ROLLOUT_CODE_VALIDITY = 7 * 24 * 3600
PHONE_SETTINGS = (W.SETTING_GK_ID, W.SETTING_PRIMARY_GK, W.SETTING_SECONDARY_GK)
# The value after a secret flag of an update script, e.g. /gk-pwd <secret> (the flags of contract 9).
SCRIPT_SECRET = re.compile(r"(/[\w-]*(?:pwd|pass|secret|key)[\w-]*)\s+\S+", re.IGNORECASE)
CONFIG_SETTINGS = {W.CONFIG_TYPE_PHONE: PHONE_SETTINGS, W.CONFIG_TYPE_EXPERT: (W.SETTING_SCRIPT,)}

LOGIN_MESSAGES = ("AppChallenge", "AppLogin")   # the only ones a session may send before its login

log = logging.getLogger(__name__)


class DevicesError(Exception):
    """A request the Devices app refuses; the text goes into the result's error key."""


class Session:
    """One AppWebsocket connection: its current challenge and, after AppLogin, what it may see."""

    def __init__(self, ws):
        self.ws = ws
        self.challenge = None
        self.key = None               # session key of the login
        self.admin = False
        self.home_domain = None       # domain id of the login; None until logged in

    @property
    def logged_in(self):
        return self.home_domain is not None


class DevicesApp:
    def __init__(self, instance, domain, instance_password, domain_passwords=None):
        self.instance = instance
        self.instance_password = instance_password
        # Domain ids are fixed by configuration: the instance domain is 1, the others follow by name.
        others = sorted(name for name in (domain_passwords or {}) if name != domain)
        self.domains = [
            {"id": number, "name": name, "isInstanceDomain": name == domain}
            for number, name in enumerate([domain] + others, start=1)
        ]
        self.domain_passwords = dict(domain_passwords or {})
        self.clock = time.time
        self.code_requesters = {}      # code -> (session, src) awaiting DeviceProvisioned; not persisted
        self.background = set()        # event sends in flight, referenced until done
        self.reset()

    # --- state ----------------------------------------------------------------------------------
    def reset(self):
        self.categories = {}
        self.configs = {}
        self.devices = {}
        self.codes = {}
        self.next_id = 1
        self.code_requesters.clear()

    def to_dict(self):
        return copy.deepcopy({
            "categories": list(self.categories.values()),
            "configs": list(self.configs.values()),
            "devices": list(self.devices.values()),
            "codes": list(self.codes.values()),
            "next_id": self.next_id,
        })

    def load_dict(self, data):
        self.reset()
        data = copy.deepcopy(data)
        self.categories = {item["id"]: item for item in data.get("categories", [])}
        self.configs = {item["id"]: item for item in data.get("configs", [])}
        self.devices = {item["id"]: item for item in data.get("devices", [])}
        self.codes = {item["code"]: item for item in data.get("codes", [])}
        self.next_id = data.get("next_id", 1)

    def redacted_dict(self):
        """to_dict() for /_sim/state: the password flags inside expert scripts are hidden."""
        data = self.to_dict()
        for config in data["configs"]:
            settings = config[W.SETTINGS_KEY]
            if W.SETTING_SCRIPT in settings:
                settings[W.SETTING_SCRIPT] = SCRIPT_SECRET.sub(r"\1 ********", settings[W.SETTING_SCRIPT])
        return data

    def _new_id(self):
        self.next_id += 1
        return self.next_id - 1

    # --- websocket ------------------------------------------------------------------------------
    async def handle_websocket(self, request):
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        session = Session(ws)
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    await self._receive(session, frame.data)
                elif frame.type == WSMsgType.BINARY:     # AppWebsocket is JSON text only
                    await self._receive(session, "")
        finally:
            for code in [code for code, (owner, _src) in self.code_requesters.items() if owner is session]:
                del self.code_requesters[code]
        return ws

    async def _receive(self, session, text):
        await self.instance.latency()
        message, problem = appws.decode(text)
        handler, writes = self.HANDLERS.get(message.get("mt"), (None, False))
        self.instance.stats.count("devices", write=writes)
        try:
            if problem:
                raise DevicesError(problem)
            if handler is None:
                raise DevicesError(f"unknown message type {message['mt']}")
            if not session.logged_in and message["mt"] not in LOGIN_MESSAGES:
                raise DevicesError("not logged in")
            answers = handler(self, session, message)
        except DevicesError as exc:
            answers = [{W.DEVICES_ERROR_KEY: str(exc)}]
        except Exception:  # pylint: disable=broad-exception-caught
            # A simulator bug must show in the log and as an error answer, never as a dropped connection.
            log.exception("devices: %s failed", message.get("mt"))
            answers = [{W.DEVICES_ERROR_KEY: "internal error"}]
        else:
            if writes:
                self.instance.save()
        for fields in answers if isinstance(answers, list) else [answers]:
            if session.ws.closed:
                return                 # the client left; what it asked for is done all the same
            await session.ws.send_json(appws.result(message, **fields))

    # --- access ---------------------------------------------------------------------------------
    def _domain(self, session, domain_id):
        """The domain a request names (default: the login's), if the session may use it."""
        if domain_id is None:
            domain_id = session.home_domain
        domain = next((d for d in self.domains if d["id"] == domain_id), None)
        if domain is None or not (session.admin or domain_id == session.home_domain):
            raise DevicesError(f"no access to domain {domain_id}")
        return domain

    def _visible_domains(self, session, domain_id=None):
        if domain_id is not None:
            return [self._domain(session, domain_id)]
        return [d for d in self.domains if session.admin or d["id"] == session.home_domain]

    def _owned(self, session, table, message, what):
        """The object `message["id"]` names in `table`, if it lies in a domain the session may use."""
        item = table.get(message.get("id"))
        if item is None or not (session.admin or item["domainId"] == session.home_domain):
            raise DevicesError(f"{what} {message.get('id')} not found")
        return item

    # --- login ----------------------------------------------------------------------------------
    def _app_challenge(self, session, _message):
        session.challenge = appws.new_challenge()
        return {"challenge": session.challenge}

    def _app_login(self, session, message):
        challenge, session.challenge = session.challenge, None   # one try per challenge
        name = message.get("domain")
        domain = next((d for d in self.domains if d["name"] == name), None)
        candidates = []
        if domain is not None and domain["isInstanceDomain"]:
            candidates.append((self.instance_password, (domain["id"], True)))
        if domain is not None and name in self.domain_passwords:
            candidates.append((self.domain_passwords[name], (domain["id"], False)))
        match = appws.check_login(message, challenge, candidates) if message.get("app") == W.DEVICES_APP else None
        if match is None:
            session.home_domain, session.admin, session.key = None, False, None
            return {"ok": False, "error": "login failed"}
        password, (session.home_domain, session.admin) = match
        session.key = appws.session_key(challenge, password)
        return {"ok": True}

    def _get_login_info(self, session, _message):
        return {"key": session.key, "admin": session.admin}

    # --- reads ----------------------------------------------------------------------------------
    @staticmethod
    def _pages(key, items):
        """Split a list answer into result messages of PAGE_SIZE items, the last one marked."""
        chunks = [items[start:start + PAGE_SIZE] for start in range(0, len(items), PAGE_SIZE)] or [[]]
        return [{key: chunk, "last": number == len(chunks) - 1} for number, chunk in enumerate(chunks)]

    def _categories_in(self, domain_ids):
        return [dict(c) for c in self.categories.values() if c["domainId"] in domain_ids]

    def _get_domains(self, session, _message):
        domains = [
            {**domain, "categories": [
                {key: c[key] for key in ("id", "name", "config")} for c in self._categories_in({domain["id"]})]}
            for domain in self._visible_domains(session)
        ]
        return self._pages("domains", domains)

    def _get_provisioning_categories(self, session, message):
        ids = {d["id"] for d in self._visible_domains(session, message.get("domainId"))}
        return self._pages("categories", self._categories_in(ids))

    def _get_device_configs(self, session, message):
        ids = {d["id"] for d in self._visible_domains(session, message.get("domainId"))}
        configs = [dict(c) for c in self.configs.values() if c["domainId"] in ids]
        return self._pages(W.DEVICE_CONFIGS_KEY, configs)

    def _get_devices(self, session, message):
        wanted = message.get("domainIds")
        if wanted:
            try:
                ids = {int(part) for part in str(wanted).split(",")}
            except ValueError as exc:
                raise DevicesError("domainIds must be a comma separated list of ids") from exc
            domains = [self._domain(session, domain_id) for domain_id in sorted(ids)]
        else:
            domains = self._visible_domains(session)
        ids = {d["id"] for d in domains}
        return self._pages("devices", [dict(d) for d in self.devices.values() if d["domainId"] in ids])

    def _get_provisioned_device(self, session, message):
        code = self.codes.get(str(message.get("code")))
        if code is None or not (session.admin or code["domainId"] == session.home_domain):
            raise DevicesError(f"unknown provisioning code {message.get('code')}")
        answer = {"code": code["code"]}
        if code.get("deviceId") in self.devices:
            answer["device"] = dict(self.devices[code["deviceId"]])
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
        if device is None:
            device = {"id": self._new_id(), "hwId": hw_id, "name": "", "product": "IP232",
                      "version": "13r3 pbxsim", "type": "PHONE", "pbxActive": False}
            self.devices[device["id"]] = device
        device.update(domainId=grant["domainId"], online=True, uri=f"http://{address}/")
        grant["deviceId"] = device["id"]
        self._notify_provisioned(grant["code"], device)
        self.instance.save()
        return {"device": dict(device), "domainId": grant["domainId"], "categoryId": grant["categoryId"],
                "sip": grant["sip"], "password": self._user_password(grant["sip"]) if grant["sip"] else None}

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
        if session is None or session.ws.closed:
            return
        event = {"mt": "DeviceProvisioned", "code": code, "device": dict(device)}
        if src is not None:
            event["src"] = src
        task = asyncio.get_running_loop().create_task(session.ws.send_json(event))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

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
        return {"id": category["id"]}

    def _update_category(self, session, message):
        category = self._owned(session, self.categories, message, "category")
        name = self._text(message, "name", category["name"])
        config = self._flag(message, "config", category["config"])
        self._check_category_name(category["domainId"], name, category["id"])
        category.update(name=name, config=config)
        return {}

    def _delete_category(self, session, message):
        category = self._owned(session, self.categories, message, "category")
        del self.categories[category["id"]]
        for config in self.configs.values():
            if category["id"] in config[W.CATEGORY_IDS_KEY]:
                config[W.CATEGORY_IDS_KEY].remove(category["id"])
        return {}

    # --- device configurations ------------------------------------------------------------------
    def _checked_config(self, domain_id, message, current):
        """The complete device configuration `message` asks for, validated; `current` supplies omissions."""
        kind = message.get("type", current.get("type"))
        if kind not in CONFIG_SETTINGS:
            raise DevicesError(f"type must be {W.CONFIG_TYPE_PHONE} or {W.CONFIG_TYPE_EXPERT}")
        name = self._text(message, "name", current.get("name"))
        category_ids = message.get(W.CATEGORY_IDS_KEY, current.get(W.CATEGORY_IDS_KEY, []))
        if not isinstance(category_ids, list) or not all(isinstance(i, int) for i in category_ids):
            raise DevicesError(f"{W.CATEGORY_IDS_KEY} must be a list of category ids")
        for category_id in category_ids:
            category = self.categories.get(category_id)
            if category is None or category["domainId"] != domain_id:
                raise DevicesError(f"no category {category_id} in domain {domain_id}")
        settings = message.get(W.SETTINGS_KEY, current.get(W.SETTINGS_KEY))
        allowed = CONFIG_SETTINGS[kind]
        if not isinstance(settings, dict):
            raise DevicesError(f"{W.SETTINGS_KEY} must be an object")
        unknown = sorted(set(settings) - set(allowed))
        if unknown:
            raise DevicesError(f"{kind} settings take only {', '.join(allowed)}, not {', '.join(unknown)}")
        if not all(isinstance(value, str) for value in settings.values()):
            raise DevicesError(f"{kind} settings must be strings")
        if kind == W.CONFIG_TYPE_EXPERT and W.SETTING_SCRIPT not in settings:
            raise DevicesError(f"{W.CONFIG_TYPE_EXPERT} settings need {W.SETTING_SCRIPT}")
        return {"domainId": domain_id, "type": kind, "name": name,
                W.CATEGORY_IDS_KEY: sorted(set(category_ids)), W.SETTINGS_KEY: dict(settings)}

    def _add_device_config(self, session, message):
        if "domainId" not in message:
            raise DevicesError("domainId missing")
        domain = self._domain(session, message["domainId"])
        config = {"id": self._new_id(), **self._checked_config(domain["id"], message, {})}
        self.configs[config["id"]] = config
        self._push_configs(config[W.CATEGORY_IDS_KEY])
        return {"id": config["id"]}

    def _update_device_config(self, session, message):
        config = self._owned(session, self.configs, message, "device configuration")
        before = set(config[W.CATEGORY_IDS_KEY])
        config.update(self._checked_config(config["domainId"], message, config))
        self._push_configs(before | set(config[W.CATEGORY_IDS_KEY]))
        return {}

    def _delete_device_config(self, session, message):
        config = self._owned(session, self.configs, message, "device configuration")
        del self.configs[config["id"]]
        return {}

    def configs_for(self, category_id):
        """Device configurations a device of `category_id` receives, oldest first."""
        return [dict(c) for c in sorted(self.configs.values(), key=lambda c: c["id"])
                if category_id in c[W.CATEGORY_IDS_KEY]]

    def category_name(self, category_id):
        category = self.categories.get(category_id)
        return None if category is None else category["name"]

    def _push_configs(self, category_ids):
        """Devices hands changed device configurations to the online devices of those categories."""
        self.instance.phones.on_device_configs_changed(set(category_ids))

    HANDLERS = {
        "AppChallenge": (_app_challenge, False),
        "AppLogin": (_app_login, False),
        "GetLoginInfo": (_get_login_info, False),
        "GetDomains": (_get_domains, False),
        "GetProvisioningCategories": (_get_provisioning_categories, False),
        "GetProvisioningCode": (_get_provisioning_code, True),
        "GetProvisionedDevice": (_get_provisioned_device, False),
        "GetDevices": (_get_devices, False),
        W.MT_GET_DEVICE_CONFIGS: (_get_device_configs, False),
        W.MT_ADD_CATEGORY: (_add_category, True),
        W.MT_UPDATE_CATEGORY: (_update_category, True),
        W.MT_DELETE_CATEGORY: (_delete_category, True),
        W.MT_ADD_DEVICE_CONFIG: (_add_device_config, True),
        W.MT_UPDATE_DEVICE_CONFIG: (_update_device_config, True),
        W.MT_DELETE_DEVICE_CONFIG: (_delete_device_config, True),
    }
