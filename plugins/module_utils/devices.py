# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the modules ask of the Devices app (reference 4: the 13r2 SDK page of com.innovaphone.devices) and the
engine backends built on it: categories and device configurations.

The read messages and their fields are documented and spelt here; the messages that create, change and delete
are not, and come from wire_names.py. Every message goes over one AppWebsocket per module run (appws.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import CATEGORIES, CONFIG_TYPES, DEVICE_CONFIGS
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import PbxError
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import AppWsError, Lost
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import WireName, named, see_docs

# GetDeviceConfig answers its long values (an expert script) in parts before GetDeviceConfigResult.
CONFIG_VALUE_PART = "GetDeviceConfigValueResult"
# How often wait_for_device asks GetProvisionedDevice, in case the DeviceProvisioned event is lost.
POLL_SECONDS = 2.0
# The writes of the wire-name table that send a whole object (the same result however often they arrive).
IDEMPOTENT_WRITES = ("update_category", "update_device_config")


class DeviceWaitTimeout(PbxError):
    """wait_for_device ran out; `result` still tells the code, which stays valid."""

    def __init__(self, message, result):
        super(DeviceWaitTimeout, self).__init__(message)
        self.result = result


class Devices:
    """One Devices app over a logged-in AppWebsocket, and the domain (by name) the module works in: the one
    given, else the domain the login got."""

    def __init__(self, ws, domain=None, http=None):
        self.ws = ws
        self._domain = domain
        self._domain_id = None
        self.http = http            # an HttpClient for the Devices URL over http(s), for device passthrough
        self._key = None
        self._key_connection = None  # the connection (AppWebsocket.connections) the key belongs to

    def app(self):
        """The AppWebsocket, connected and logged in at the first request (so that input checks come first)."""
        return self.ws.open()

    def close(self):
        self.ws.close()

    def error(self, message):
        return self.ws.error(message)

    @property
    def domain(self):
        return self._domain or self.ws.login_domain or self.ws.domain

    def request(self, mt, idempotent=None, **fields):
        """The (single) answer message of a request."""
        return self.app().request(mt, idempotent=idempotent, **fields)[-1]

    def write(self, key, **fields):
        """The answer to a message of the wire-name table (one that creates, changes or deletes): not documented,
        so a refusal or silence names the wire name it used. An update sends the whole object, so it may be sent
        again when its answer went missing; an add or a delete may not."""
        mt = WireName("devices", key)
        try:
            return self.request(mt.value, idempotent=key in IDEMPOTENT_WRITES, **fields)
        except AppWsError as exc:
            raise self.error("%s (the message is %s%s)" % (exc, named(mt), see_docs(mt)))

    @property
    def domain_id(self):
        """The id of the module's domain, from the domains this login may see."""
        if self._domain_id is None:
            domains = self.app().items("GetDomains", "domains", recvUpdates=False)
            found = [d["id"] for d in domains if d.get("name") == self.domain]
            if not found:
                raise self.error("the Devices login does not see domain %s (it sees: %s)" % (
                    self.domain, ", ".join(sorted(str(d.get("name")) for d in domains)) or "none"))
            self._domain_id = found[0]
        return self._domain_id

    def categories(self):
        """The categories of the domain, {name: category object}."""
        categories = self.app().items("GetProvisioningCategories", "categories", domainId=self.domain_id)
        return self.named("categories", categories, "name")

    def configs(self, wire_type):
        """The device configurations of one type in the domain, without their values."""
        configs = self.app().items("GetDeviceConfigs", "configs", domainId=self.domain_id)
        return [c for c in configs if c.get("type") == wire_type]

    def config(self, config_id):
        """A device configuration with its values; a value sent in parts is joined (reference 4)."""
        answer = self.app().request("GetDeviceConfig", parts=(CONFIG_VALUE_PART,), domainId=self.domain_id,
                                    id=config_id)
        config = dict(answer[-1].get("config") or {})
        values = {}
        for part in answer[:-1]:
            values[part.get("name")] = values.get(part.get("name"), "") + (part.get("value") or "")
        config.update(values)
        return config

    def named(self, what, items, key, wanted=None):
        """{name: item}; two items of a `wanted` name (all names, if None) are an error, never a guess."""
        named = {}
        for item in items:
            name = item.get(key)
            if name in named and (wanted is None or name in wanted):
                raise self.error("domain %s has two %s named %r; rename one in the Devices app" % (
                    self.domain, what, name))
            named.setdefault(name, item)
        return named

    def devices(self, categories=None, hw_ids=None):
        """The devices of the domain (device objects, reference 4), of any of `categories` if given, and of `hw_ids`
        if given (hardware ids compare ignoring case)."""
        fields = {"domainIds": str(self.domain_id)}
        if categories:
            fields["categories"] = ",".join(categories)
        devices = self.app().items("GetDevices", "devices", **fields)
        if hw_ids:
            wanted = set(hw.lower() for hw in hw_ids)
            devices = [d for d in devices if str(d.get("hwId", "")).lower() in wanted]
        return devices

    def passthrough(self, hw_id, path):
        """GET `path` of a device through the Devices app (reference 4: <Devices URL>/passthrough/<hwId>/<key>/<path>,
        `key` the session's GUID from GetUserInfo); the answer text. The key never shows in an error."""
        if self._key is None or self._key_connection != self.app().connections:
            # A key is valid while its session lasts: a new connection (after one broke) needs its own.
            self._key = self.request("GetUserInfo").get("key")
            if not self._key:
                raise self.error("GetUserInfo answered without a key")
            self._key_connection = self.ws.connections
            self.http.add_secret(self._key)
        # A read may be sent again when its answer went missing; a command (a reset) may not.
        return self.http.get("/passthrough/%s/%s/%s" % (quote(hw_id, safe=""), quote(self._key, safe=""), path),
                             shown="/passthrough/%s/<key>/%s" % (hw_id, path.split(" ", 1)[0]),
                             idempotent=not path.startswith("!"))

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
            try:
                event = self.app().wait_for("DeviceProvisioned", wait,
                                            match=lambda message: message.get("code") == code)
            except Lost:
                # The event went to the session that asked for the code; a new session can only poll.
                self.ws.reconnect()
                event = None
            device = (event or self.request("GetProvisionedDevice", domainId=self.domain_id, code=code)).get("device")
            if device or time.monotonic() >= deadline:
                return device or None


class CategoryBackend:
    resource = CATEGORIES
    peer = "the Devices app"

    deleted_by = WireName("devices", "delete_category")

    def __init__(self, devices):
        self.devices = devices
        self.current = {}

    def read_all(self):
        self.current = self.devices.categories()
        return dict((name, self.resource.decode(item)) for name, item in self.current.items())

    def create(self, record):
        self.devices.write("add_category", domainId=self.devices.domain_id, **self.resource.encode(record))

    def update(self, key, changes):
        # The complete object: the app need not keep what a message leaves out.
        fields = self.resource.encode(dict(self.resource.decode(self.current[key]), **changes))
        self.devices.write("update_category", id=self.current[key]["id"], **fields)

    def delete(self, key):
        self.devices.write("delete_category", id=self.current[key]["id"])


class ConfigBackend:
    """The device configurations of one type named `names` (by `desc`), with their values; the list is one
    read, the values one more per named configuration. Categories are names in records and category objects
    on the wire."""

    # Fields of a configuration object that no message of ours sends back.
    READ_ONLY = ("id", "domainId")
    peer = "the Devices app"

    deleted_by = WireName("devices", "delete_device_config")

    def __init__(self, devices, kind, names):
        self.devices = devices
        self.kind = kind
        self.names = frozenset(names)
        self.resource = DEVICE_CONFIGS[kind]
        self.categories = {}
        self.current = {}

    def read_all(self):
        self.categories = self.devices.categories()
        listed = self.devices.named("%s configurations" % self.kind, self.devices.configs(CONFIG_TYPES[self.kind]),
                                    "desc", self.names)
        self.current = dict((name, self.devices.config(listed[name]["id"])) for name in self.names if name in listed)
        return dict((name, self.resource.decode(item)) for name, item in self.current.items())

    def message(self, fields):
        """Encoded fields with the category names completed to the documented category objects."""
        if "categories" in fields:
            fields["categories"] = [dict((k, self.categories[ref["name"]].get(k)) for k in ("id", "name", "config"))
                                    for ref in fields["categories"]]
        return fields

    def create(self, record):
        self.devices.write("add_device_config", domainId=self.devices.domain_id,
                           **self.message(self.resource.encode(record)))

    def update(self, key, changes):
        # The complete object, values the module does not manage included, with the changes laid over.
        item = self.current[key]
        fields = dict((k, v) for k, v in item.items() if k not in self.READ_ONLY)
        fields.update(self.message(self.resource.encode(changes)))
        self.devices.write("update_device_config", id=item["id"], **fields)

    def delete(self, key):
        self.devices.write("delete_device_config", id=self.current[key]["id"])
