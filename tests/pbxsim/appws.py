# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""innovaphone's AppWebsocket protocol (reference section 3): what the server needs, and a test client.

JSON messages carry `mt`; the answer to a request is `<mt>Result` with the request's `src` echoed.
Login: AppChallenge hands out a fresh challenge, AppLogin proves the password with
sha256("app:domain:sip:guid:dn[:info]:challenge:password").
"""

import hashlib
import hmac
import json
import secrets

import websocket


def minified(info):
    """The `info` object as the digest covers it: minified JSON, keys in the order sent."""
    return json.dumps(info, separators=(",", ":"), ensure_ascii=False)


def login_digest(app, domain, sip, guid, dn, challenge, password, info=None):
    """Hex sha256 an AppLogin must carry; `info` is None when the login sends no info object."""
    parts = [app, domain, sip, guid, dn]
    if info is not None:
        parts.append(minified(info))
    parts += [challenge, password]
    return hashlib.sha256(":".join(parts).encode("utf-8")).hexdigest()


def session_key(challenge, password):
    """Key for encrypted fields, derived from the login (the passthrough key is another: a GUID)."""
    return hashlib.sha256(f"innovaphoneAppSessionKey:{challenge}:{password}".encode("utf-8")).hexdigest()


def new_challenge():
    """At most 16 characters, and innovaphone sends digits (reference 3): 16 decimal digits."""
    return f"{secrets.randbelow(10 ** 16):016d}"


def result(request, **fields):
    """The `<mt>Result` answer to `request`, `src` echoed when the request had one."""
    mt = request.get("mt")
    answer = {"mt": f"{mt if isinstance(mt, str) else ''}Result", **fields}
    if "src" in request:
        answer["src"] = request["src"]
    return answer


def check_login(login, challenge, candidates):
    """The first (password, scope) candidate whose digest the AppLogin message `login` carries, else None.

    Every candidate is compared in constant time so that timing tells nothing about which one matched.
    """
    if not challenge:
        return None
    fields = [str(login.get(name) or "") for name in ("app", "domain", "sip", "guid", "dn")]
    info = login.get("info")
    sent = str(login.get("digest") or "").lower().encode("utf-8")
    found = None
    for password, scope in candidates:
        expected = login_digest(*fields, challenge, password, info).encode("utf-8")
        if hmac.compare_digest(expected, sent) and found is None:
            found = (password, scope)
    return found


def decode(text):
    """Parse one text frame; returns (message, problem): a message is a JSON object with a string `mt`."""
    try:
        message = json.loads(text)
    except ValueError:
        return {}, "message is not JSON"
    if not isinstance(message, dict):
        return {}, "message is not a JSON object"
    if not isinstance(message.get("mt"), str) or not message["mt"]:
        return message, "message has no mt"
    return message, None


class AppError(Exception):
    """An answer that carries `error`."""


class AppClient:
    """A small synchronous AppWebsocket client for pbxsim's tests and tools (not used by the server).

    Requests get a fresh `src`; answers to other requests and events wait in `pending` until asked for.
    """

    def __init__(self, url, timeout=10.0, sslopt=None):
        self.ws = websocket.create_connection(url, timeout=timeout, sslopt=sslopt)
        self.pending = []
        self.sources = 0

    def close(self):
        self.ws.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def send(self, message):
        """Send a message as it is (a dict is sent as JSON, a str as it is); returns it."""
        self.ws.send(message if isinstance(message, str) else json.dumps(message))
        return message

    def receive(self, match):
        """The next message for which match(message) is true, keeping the others pending."""
        for number, message in enumerate(self.pending):
            if match(message):
                return self.pending.pop(number)
        while True:
            message = json.loads(self.ws.recv())
            if match(message):
                return message
            self.pending.append(message)

    def answers(self, mt, **fields):
        """Send request `mt` and return every answer message up to the one with `last` (or the only one)."""
        self.sources += 1
        src = f"r{self.sources}"
        self.send({"mt": mt, **fields, "src": src})
        messages = [self.receive(lambda m: m.get("src") == src and m.get("mt") == mt + "Result")]
        while "last" in messages[-1] and not messages[-1]["last"]:
            messages.append(self.receive(lambda m: m.get("src") == src and m.get("mt") == mt + "Result"))
        return messages

    def call(self, mt, **fields):
        """Send request `mt`; its single answer."""
        return self.answers(mt, **fields)[-1]

    def listing(self, mt, key, **fields):
        """All items of a paged list answer, joined."""
        return [item for message in self.answers(mt, **fields) for item in message.get(key, [])]

    def device_config_messages(self, config_id, **fields):
        """GetDeviceConfig: every GetDeviceConfigValueResult, then the GetDeviceConfigResult."""
        self.sources += 1
        src = f"r{self.sources}"
        self.send({"mt": "GetDeviceConfig", "id": config_id, **fields, "src": src})
        messages = []
        while not messages or messages[-1]["mt"] != "GetDeviceConfigResult":
            messages.append(self.receive(lambda m: m.get("src") == src and m.get("mt") in (
                "GetDeviceConfigValueResult", "GetDeviceConfigResult")))
        return messages

    def device_config(self, config_id, **fields):
        """The device configuration object with all its values: the values of the
        GetDeviceConfigValueResult messages concatenated per name (the SDK's rule) and merged in."""
        messages = self.device_config_messages(config_id, **fields)
        if "error" in messages[-1]:
            raise AppError(messages[-1]["error"])
        values = {}
        for message in messages[:-1]:
            values[message["name"]] = values.get(message["name"], "") + message["value"]
        return {**messages[-1]["config"], **values}

    def login(self, app, domain, password, sip="", guid="", dn="", info=None):
        """AppChallenge + AppLogin; returns the AppLoginResult."""
        challenge = self.call("AppChallenge")["challenge"]
        login = {"app": app, "domain": domain, "sip": sip, "guid": guid, "dn": dn,
                 "digest": login_digest(app, domain, sip, guid, dn, challenge, password, info)}
        if info is not None:
            login["info"] = info
        return self.call("AppLogin", **login)
