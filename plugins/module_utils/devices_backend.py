# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Devices app (reference 4, contract 5) for the Devices modules: connection options, the engine
backends for categories and device configurations, and provisioning codes.

The modules are argument specs over these functions; every message goes over one AppWebsocket per run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.innovaphone.pbx.plugins.module_utils import common
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import (
    HAS_WEBSOCKET, WEBSOCKET_IMPORT_ERROR, AppWebsocket)
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import Codec, Field, Resource
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import Errors
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import DEVICES


def _env(name):
    return (env_fallback, ["INNOVAPHONE_DEVICES_" + name])


DEVICES_ARGUMENT_SPEC = dict(
    devices_url=dict(type="str", required=True, fallback=_env("URL")),
    devices_password=dict(type="str", required=True, no_log=True, fallback=_env("PASSWORD")),
    devices_domain=dict(type="str", fallback=_env("DOMAIN")),
    domain=dict(type="str"),
)
# TLS and timeout options mean the same for the Devices app as for the PBX, with the same env fallbacks.
DEVICES_ARGUMENT_SPEC.update((name, common.CONNECTION_ARGUMENT_SPEC[name])
                             for name in ("validate_certs", "ca_path", "timeout"))

PHONE = "phone"
EXPERT = "expert"
WIRE_TYPES = {PHONE: DEVICES["type_phone"], EXPERT: DEVICES["type_expert"]}
# The gatekeeper suboptions of a phone configuration and their settings keys.
GATEKEEPER_SETTINGS = (("id", DEVICES["setting_gk_id"]), ("primary", DEVICES["setting_primary_gk"]),
                       ("secondary", DEVICES["setting_secondary_gk"]))
SCRIPT = DEVICES["setting_script"]
# How often wait_for_device asks GetProvisionedDevice, in case the DeviceProvisioned event is lost.
POLL_SECONDS = 2.0
# A flag of an update-script line whose value is a secret (/gk-pwd, /pwd, /password, /pass, /secret, /key), the
# blanks after it and its value: one word, or a double-quoted one that may hold blanks.
SECRET_VALUE = re.compile(r'(?<!\S)(/[\w-]*(?:pwd|pass|secret|key)[\w-]*[ \t]+)("[^"\n]*"?\S*|\S+)', re.IGNORECASE)

JSON_BOOL = Codec(bool, bool)
CATEGORIES = Resource("categories", "name", [
    Field("name", "name"),
    Field("provisioning", "config", JSON_BOOL),
])
# Records of device configurations are built by ConfigBackend, so the fields name no wire keys.
DEVICE_CONFIGS = Resource("device_configs", "name", [
    Field("name", None),
    Field("type", None),
    Field("categories", None),
    Field("gatekeeper", None),
    Field("script", None),
])


def devices_module(argument_spec, **kwargs):
    """An AnsibleModule with the Devices connection options added; every Devices module supports check mode."""
    spec = dict(DEVICES_ARGUMENT_SPEC)
    spec.update(argument_spec)
    return AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)


def login_domain(params):
    """devices_domain, or the first path element of devices_url (contract 1: ws(s)://host/<domain>/devices)."""
    if params["devices_domain"]:
        return params["devices_domain"]
    return urlparse(params["devices_url"]).path.strip("/").split("/")[0]


def connect(module):
    """The Devices app of the module's connection options, over one AppWebsocket (opened by run())."""
    if not HAS_WEBSOCKET:
        module.fail_json(msg=missing_required_lib("websocket-client"), exception=WEBSOCKET_IMPORT_ERROR)
    params = module.params
    domain = login_domain(params)
    if not domain:
        module.fail_json(msg="devices_domain is not set and devices_url has no /<domain>/ path to take it from")
    ws = AppWebsocket(params["devices_url"], params["devices_password"], domain, DEVICES["app"],
                      validate_certs=params["validate_certs"], ca_path=params["ca_path"], timeout=params["timeout"],
                      secrets=module.no_log_values)
    return Devices(ws, params["domain"] or domain)


class DeviceWaitTimeout(Exception):
    """wait_for_device ran out; `result` still tells the code, which stays valid."""

    def __init__(self, message, result):
        super(DeviceWaitTimeout, self).__init__(message)
        self.result = result


def run(module, work):
    """Connect, exit with what `work(devices)` returns (or fail with its error), and always disconnect."""
    devices = connect(module)
    try:
        common.run(module, lambda: work(devices.open()))
    except DeviceWaitTimeout as exc:
        module.fail_json(msg=str(exc), **exc.result)
    finally:
        devices.close()


class Devices:
    """One Devices app, and the domain (by name) the module works in."""

    def __init__(self, ws, domain):
        self.ws = ws
        self.domain = domain
        self._domain_id = None

    def open(self):
        self.ws.open()
        return self

    def close(self):
        self.ws.close()

    def error(self, message):
        return self.ws.error(message)

    def request(self, mt, **fields):
        """The (single) answer message of a request."""
        return self.ws.request(mt, **fields)[0]

    @property
    def domain_id(self):
        """The id of the module's domain, from the domains this login may see."""
        if self._domain_id is None:
            domains = self.ws.items("GetDomains", "domains", recvUpdates=False)
            found = [d["id"] for d in domains if d.get("name") == self.domain]
            if not found:
                raise self.error("the Devices login does not see domain %s (it sees: %s)" % (
                    self.domain, ", ".join(sorted(str(d.get("name")) for d in domains)) or "none"))
            self._domain_id = found[0]
        return self._domain_id

    def categories(self):
        """The categories of the domain, by name."""
        categories = self.ws.items("GetProvisioningCategories", "categories", domainId=self.domain_id)
        return self._by_name("categories", categories)

    def configs(self, kind):
        """The device configurations of one type (phone or expert) in the domain, by name."""
        configs = self.ws.items(DEVICES["get_device_configs"], DEVICES["configs_key"], domainId=self.domain_id)
        return self._by_name("%s configurations" % kind, [c for c in configs if c.get("type") == WIRE_TYPES[kind]])

    def _by_name(self, what, items):
        named = {}
        for item in items:
            if item.get("name") in named:
                raise self.error("domain %s has two %s named %r; rename one in the Devices app" % (
                    self.domain, what, item.get("name")))
            named[item.get("name")] = item
        return named

    def provisioning_code(self, category, sip=None, rollout=False):
        """A new provisioning code {code, validUntil} for a category (and a PBX user)."""
        fields = dict(domainId=self.domain_id, category=category)
        if sip:
            fields["sip"] = sip
        if rollout:
            fields["rollout"] = True
        return self.request("GetProvisioningCode", **fields)

    def provisioned_device(self, code, seconds):
        """The device provisioned with `code` within `seconds` (DeviceProvisioned, or polling), else None."""
        deadline = time.monotonic() + seconds
        while True:
            wait = max(0.0, min(POLL_SECONDS, deadline - time.monotonic()))
            event = self.ws.wait_for("DeviceProvisioned", wait, match=lambda message: message.get("code") == code)
            device = (event or self.request("GetProvisionedDevice", domainId=self.domain_id, code=code)).get("device")
            if device or time.monotonic() >= deadline:
                return device or None


class DevicesEngine(Engine):
    """The engine, showing update scripts with their secret values masked instead of not at all."""

    def public(self, record):
        shown = super(DevicesEngine, self).public(record)
        if shown.get("script"):
            shown["script"] = masked_script(shown["script"])
        return shown


def masked_script(script):
    """An update script with the value after every secret flag (such as /gk-pwd) replaced by the placeholder."""
    return SECRET_VALUE.sub(lambda match: match.group(1) + PLACEHOLDER, script)


def normalised_script(script):
    """One command per line, LF line ends, no trailing blank lines: how a script is compared and written."""
    return "\n".join(line.rstrip() for line in script.replace("\r\n", "\n").split("\n")).strip("\n")


# --- categories -----------------------------------------------------------------------------------------
class CategoryBackend:
    resource = CATEGORIES

    def __init__(self, devices):
        self.devices = devices
        self.current = {}

    def read_all(self):
        self.current = self.devices.categories()
        return dict((name, self.resource.decode(item)) for name, item in self.current.items())

    def create(self, record):
        self.devices.request(DEVICES["add_category"], domainId=self.devices.domain_id, **self.resource.encode(record))

    def update(self, key, changes):
        fields = self.resource.encode(dict(self.resource.decode(self.current[key]), **changes))
        self.devices.request(DEVICES["update_category"], id=self.current[key]["id"], **fields)

    def delete(self, key):
        self.devices.request(DEVICES["delete_category"], id=self.current[key]["id"])


def converge_category(devices, params, check_mode=False, diff_mode=False):
    entry = {"name": params["name"], "provisioning": params["provisioning"], "state": params["state"]}
    return Engine(CATEGORIES, CategoryBackend(devices), check_mode, diff_mode).converge([entry])


# --- device configurations ------------------------------------------------------------------------------
class ConfigBackend:
    """Device configurations of one type; categories are names in records and ids on the wire."""

    resource = DEVICE_CONFIGS

    def __init__(self, devices, kind):
        self.devices = devices
        self.kind = kind
        self.current = {}
        self.category_ids = {}

    def read_all(self):
        self.category_ids = dict((name, item["id"]) for name, item in self.devices.categories().items())
        self.current = self.devices.configs(self.kind)
        return dict((name, self.record(item)) for name, item in self.current.items())

    def record(self, item):
        names = dict((category_id, name) for name, category_id in self.category_ids.items())
        for category_id in item.get(DEVICES["category_ids_key"]) or []:
            if category_id not in names:
                # An id without a category (a stale assignment) keeps a name, so it can be kept or removed.
                names[category_id] = "#%s" % category_id
                self.category_ids[names[category_id]] = category_id
        settings = item.get(DEVICES["settings_key"]) or {}
        record = {
            "name": item["name"],
            "type": self.kind,
            "categories": sorted(names[i] for i in item.get(DEVICES["category_ids_key"]) or []),
        }
        if self.kind == PHONE:
            record["gatekeeper"] = dict((option, settings.get(key) or "") for option, key in GATEKEEPER_SETTINGS)
        else:
            record["script"] = normalised_script(settings.get(SCRIPT) or "")
        return record

    def wire(self, record, settings):
        """The message fields of a complete record; `settings` are the current ones our keys are laid over."""
        settings = dict(settings)
        if self.kind == PHONE:
            gatekeeper = record.get("gatekeeper") or {}
            # An empty value clears a setting that is there, and adds none that is not.
            settings.update((key, gatekeeper[option]) for option, key in GATEKEEPER_SETTINGS
                            if gatekeeper.get(option) or key in settings)
        else:
            settings[SCRIPT] = record.get("script", "")
        return {
            "type": WIRE_TYPES[self.kind],
            "name": record["name"],
            DEVICES["category_ids_key"]: sorted(self.category_ids[name] for name in record.get("categories", [])),
            DEVICES["settings_key"]: settings,
        }

    def create(self, record):
        self.devices.request(DEVICES["add_device_config"], domainId=self.devices.domain_id, **self.wire(record, {}))

    def update(self, key, changes):
        item = self.current[key]
        fields = self.wire(dict(self.record(item), **changes), item.get(DEVICES["settings_key"]) or {})
        self.devices.request(DEVICES["update_device_config"], id=item["id"], **fields)

    def delete(self, key):
        self.devices.request(DEVICES["delete_device_config"], id=self.current[key]["id"])


def wanted_categories(have, given, categories_state):
    """The category names a configuration should end with: at least (present), none of (absent), exactly (exact)."""
    if categories_state == "exact":
        return sorted(set(given))
    if categories_state == "absent":
        return sorted(set(have) - set(given))
    return sorted(set(have) | set(given))


def config_entry(params, have):
    """The engine entry of a device configuration; categories and gatekeeper completed from `have`."""
    kind = params["type"]
    entry = {"name": params["name"], "type": kind, "state": params["state"]}
    if params["state"] == "absent":
        return entry
    have = have or {}
    if params["categories"] is not None:
        entry["categories"] = wanted_categories(have.get("categories", []), params["categories"],
                                                params["categories_state"])
    if kind == PHONE and params["gatekeeper"]:
        gatekeeper = dict(have.get("gatekeeper") or dict((option, "") for option, _key in GATEKEEPER_SETTINGS))
        gatekeeper.update((k, v) for k, v in params["gatekeeper"].items() if v is not None)
        entry["gatekeeper"] = gatekeeper
    if kind == EXPERT and params["script"] is not None:
        entry["script"] = normalised_script(params["script"])
    return entry


def check_config_options(params):
    """Options that do not fit the type, before anything is read."""
    errors = Errors()
    if params["type"] != PHONE and params["gatekeeper"]:
        errors.add("gatekeeper", "only a phone configuration has gatekeeper settings")
    if params["type"] != EXPERT and params["script"] is not None:
        errors.add("script", "only an expert configuration has an update script")
    errors.check()


def converge_device_config(devices, params, check_mode=False, diff_mode=False):
    check_config_options(params)
    backend = ConfigBackend(devices, params["type"])
    engine = DevicesEngine(DEVICE_CONFIGS, backend, check_mode, diff_mode)
    current = engine.read()
    entry = config_entry(params, current.get(params["name"]))
    missing = sorted(set(entry.get("categories", [])) - set(backend.category_ids))

    def validate(entries, current):
        errors = Errors(check_mode)
        if entry["state"] == "present" and entry["name"] not in current and params["type"] == EXPERT \
                and not entry.get("script"):
            errors.add("script", "a new expert configuration needs an update script")
        if missing:
            errors.missing("categories", "no category %s in domain %s" % (", ".join(missing), devices.domain))
        return errors.check()

    return engine.converge([entry], current, validate)


# --- provisioning codes ---------------------------------------------------------------------------------
def provisioning_code(devices, params):
    """A new code for the category (and user); with wait_for_device, also the device that used it."""
    answer = devices.provisioning_code(params["category"], params["sip"], params["rollout"])
    result = {"changed": True, "code": answer.get("code"), "valid_until": answer.get("validUntil"),
              "domain": devices.domain, "category": params["category"], "sip": params["sip"]}
    if not result["code"]:
        raise devices.error("GetProvisioningCode answered without a code")
    if params["wait_for_device"]:
        result["device"] = devices.provisioned_device(result["code"], params["wait_for_device"])
        if result["device"] is None:
            raise DeviceWaitTimeout("no device was provisioned with the code within %d seconds" % (
                params["wait_for_device"]), result)
    return result
