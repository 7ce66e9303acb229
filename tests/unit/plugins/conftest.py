# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""In-memory AppWebsocket peers for the unit tests: the connection object websocket.create_connection returns."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import websocket

from ansible_collections.innovaphone.pbx.plugins.module_utils.crypto import applogin_digest

DEVICES_PASSWORD = "s3cret-devices"
VECTOR_CHALLENGE = "0123456789abcdef"


def result(message, **fields):
    """The `<mt>Result` answer to a request, src echoed."""
    return dict(fields, mt=message["mt"] + "Result", src=message["src"])


class AppPeer:
    """Answers AppChallenge/AppLogin itself and every other request with `answer(message)` (a list)."""

    result = staticmethod(result)

    def __init__(self, password=DEVICES_PASSWORD, challenge=VECTOR_CHALLENGE, answer=None):
        self.password = password
        self.challenge = challenge
        self.answer = answer or (lambda message: [])
        self.sent = []
        self.inbox = []
        self.inbox_log = []
        self.closed = False
        self.url = self.options = None

    def connect(self, url, **options):
        self.url, self.options, self.closed = url, options, False
        return self

    def send(self, text):
        message = json.loads(text)
        self.sent.append(message)
        answers = self.reply(message)
        self.inbox.extend(answers)
        self.inbox_log.extend(answers)

    def recv(self):
        if not self.inbox:
            raise websocket.WebSocketTimeoutException("timed out")
        return json.dumps(self.inbox.pop(0))

    def settimeout(self, seconds):
        pass

    def close(self):
        self.closed = True

    def reply(self, message):
        if message["mt"] == "AppChallenge":
            return [result(message, challenge=self.challenge)]
        if message["mt"] == "AppLogin":
            fields = [message[k] for k in ("app", "domain", "sip", "guid", "dn")]
            if message["digest"] == applogin_digest(self.password, self.challenge, *fields):
                # The instance password logs in whatever domain was sent, and the answer names the domain.
                return [result(message, ok=True, domain=self.login_domain)]
            return [result(message, ok=False, error="login failed")]
        return self.answer(message)

    login_domain = "example.com"


class DevicesPeer(AppPeer):
    """A Devices app as the 13r2 SDK documents it (reference 4): domains, categories, device configurations whose
    list comes without values and whose values come in parts (VALUE_PART characters each), codes; lists one item
    a page. The messages that change things are the project's wire names."""

    VALUE_PART = 10

    def __init__(self, domains=("example.com", "other.example.com"), **kwargs):
        super(DevicesPeer, self).__init__(answer=self.devices_answer, **kwargs)
        self.domains = [{"id": i, "name": name} for i, name in enumerate(domains, start=1)]
        self.categories = {}
        self.configs = {}
        self.codes = {}
        self.writes = 0
        self.next_id = 100
        # The phone that enters the next code at once; `announce` sends DeviceProvisioned, else only polls see it.
        self.phone = None
        self.announce = True

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def add_category(self, name, config=False, domain_id=1):
        category = {"id": self.new_id(), "domainId": domain_id, "name": name, "config": config}
        self.categories[category["id"]] = category
        return category["id"]

    def add_config(self, kind, desc, category_ids=(), values=None, domain_id=1):
        config = dict(values or {}, id=self.new_id(), domainId=domain_id, type=kind, desc=desc,
                      categories=list(category_ids))
        self.configs[config["id"]] = config
        return config["id"]

    def category_names(self, config_id):
        return sorted(self.categories[i]["name"] for i in self.configs[config_id]["categories"])

    def config_object(self, config, values=True):
        """A configuration as the app sends it: categories as objects, values only if asked for."""
        shown = dict((k, v) for k, v in config.items() if values or k in ("id", "domainId", "desc", "type"))
        shown["categories"] = [dict((k, self.categories[i][k]) for k in ("id", "name", "config"))
                               for i in config["categories"]]
        return shown

    @staticmethod
    def pages(message, key, items):
        items = list(items)
        pages = [result(message, **{key: [item], "last": False}) for item in items]
        return pages + [result(message, **{key: [], "last": True})]

    def stored(self, fields, current):
        """A configuration from a create or change message: omitted fields kept, categories by id."""
        config = dict(current, **fields)
        config["categories"] = [ref["id"] if isinstance(ref, dict) else ref for ref in config.get("categories", [])]
        return config

    def devices_answer(self, message):
        mt, domain_id = message["mt"], message.get("domainId")
        if mt == "GetDomains":
            return self.pages(message, "domains", self.domains)
        if mt == "GetProvisioningCategories":
            return self.pages(message, "categories", (c for c in self.categories.values() if c["domainId"] == domain_id))
        if mt == "GetDeviceConfigs":
            return self.pages(message, "configs", (self.config_object(c, values=False)
                                                   for c in self.configs.values() if c["domainId"] == domain_id))
        if mt == "GetDeviceConfig":
            config = self.config_object(self.configs[message["id"]])
            script = config.pop("script", "")
            parts = [result(dict(message, mt="GetDeviceConfigValue"), name="script", value=script[i:i + self.VALUE_PART])
                     for i in range(0, len(script), self.VALUE_PART)]
            return parts + [result(message, config=config)]
        if mt == "GetProvisionedDevice":
            return [result(message, code=message["code"], **self.codes[message["code"]])]
        self.writes += 1
        fields = dict((k, v) for k, v in message.items() if k not in ("mt", "src"))
        if mt == "AddCategory":
            fields["id"] = self.new_id()
            self.categories[fields["id"]] = fields
            return [result(message, id=fields["id"])]
        if mt == "AddDeviceConfig":
            config = self.stored(fields, {"id": self.new_id()})
            self.configs[config["id"]] = config
            return [result(message, id=config["id"])]
        if mt == "UpdateCategory":
            self.categories[message["id"]].update(fields)
            return [result(message)]
        if mt == "UpdateDeviceConfig":
            self.configs[message["id"]] = self.stored(fields, self.configs[message["id"]])
            return [result(message)]
        if mt in ("DeleteCategory", "DeleteDeviceConfig"):
            table = self.categories if mt == "DeleteCategory" else self.configs
            del table[message["id"]]
            return [result(message)]
        if mt == "GetProvisioningCode":
            if message["category"] not in [c["name"] for c in self.categories.values()]:
                return [result(message, error="no category %s" % message["category"])]
            code = str(4711000000 + len(self.codes))
            self.codes[code] = {"device": self.phone} if self.phone else {}
            valid = 7 * 86400 if message.get("rollout") else 900
            answer = [result(message, code=code, validUntil=1767225600 + valid)]
            if self.phone and self.announce:
                answer.append({"mt": "DeviceProvisioned", "code": code, "device": self.phone})
            return answer
        return [result(message, error="unknown message %s" % mt)]


@pytest.fixture(scope="session")
def app_peer():
    return AppPeer


@pytest.fixture
def devices_peer():
    return DevicesPeer()
