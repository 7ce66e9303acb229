# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wire limit of bench.py: plain Python clients, no Ansible, that make the requests the modules make.

- `converge_users` and `converge_registrations` do what the users and hotdesk_registration modules do on the
  wire, decided by themselves from what they read: one bulk read of every object, the `_ADMIN_` show for the
  PBX key when passwords are given (users), one SOAP `add`/`modify` per entry that must change, and one bulk
  re-read after writing; in check mode only the reads. Writes go out on `parallel` keep-alive connections (1:
  one at a time). bench.py checks that pbxsim counts the same requests per interface as for the module.
- `converge_users_api` and `converge_registrations_api` do the same over PbxAdminApi/PbxTableUsers, on one plain
  WebSocket logged in as the App object (AppChallenge/AppLogin, reference 6.1): the users table replicated
  (ReplicateStart, ReplicateNext in a window growing to READS_IN_FLIGHT until one comes back without a
  row), the config templates (GetConfigObjects), MonitorAdminObject for the PBX key (users), GetRPs (registrations), these reads
  sent with the replication's first write as the module asks them ahead, one UpdateObject per entry that must
  change (registrations: GetObject of its devices first), `parallel` requests in flight at once, and the same
  reads again after writing.
- `replay` sends a pbxsim recording (/_sim/record) again, request by request in the recorded order: the HTTP
  requests as they were, the WebSocket messages on as many sessions, to the WebSocket their `path` names (the
  PBX's AppWebsocket or the Devices app), each login done afresh. It times the requests of a whole role run (and
  with threads, of many sites at once).

Requests keep-alive sessions with digest authentication, like the collection's transport.
"""

import json
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

import requests
import websocket
from requests.auth import HTTPDigestAuth

SOAP_PATH = "/PBX0/user.soap"
BULK_USERS = "/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://innovaphone.com/pbx/Admin"'}
ENVELOPE = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<Admin xmlns="http://innovaphone.com/pbx"><xml>%s</xml></Admin></soap:Body></soap:Envelope>')
RETURN = "{http://innovaphone.com/pbx}return"
HIDDEN = "********"
KEY_PAD, PASSWORD_PAD = 16, 24
KEY_PROOFS = 8
HOTDESK_APP, HOTDESK_TEXT = "phone", "Hotdesking"
APPS_PATH = "/PBX0/APPS/websocket"
READS_FIRST, READS_IN_FLIGHT = 128, 512      # the read window, as plugins/module_utils/pbxadmin.py
USER_COLUMNS = ("guid", "h323", "pwd", "cn", "dn", "config", "node", "loc", "hide", "e164", "pseudo", "devices",
                "grps")


class WireError(Exception):
    """The PBX refused a request of the wire client."""


# --- RC4 and the PBX key (reference 1.3) ------------------------------------------------------------
def keystream(key, length):
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for _position in range(length):
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(state[(state[i] + state[j]) % 256])
    return bytes(out)


class Key:
    """The PBX key with its keystream for user passwords computed once."""

    def __init__(self, admin_key_hex, pbx_password):
        encrypted = bytes.fromhex(admin_key_hex)
        unlock = keystream(pbx_password.encode("utf-8")[:KEY_PAD].ljust(KEY_PAD, b"\0"), len(encrypted))
        self.key = bytes(a ^ b for a, b in zip(encrypted, unlock))
        self.stream = keystream(self.key, PASSWORD_PAD)

    def decrypt(self, pwdx):
        """The password a pwdx holds, None when it does not end in NUL padding (another key)."""
        try:
            data = bytes(a ^ b for a, b in zip(bytes.fromhex(pwdx), self.stream))
        except ValueError:
            return None
        text, _sep, padding = data.partition(b"\0")
        if padding.strip(b"\0") or len(data) != PASSWORD_PAD:
            return None
        return text.decode("utf-8", errors="replace")

    def encrypt(self, password):
        data = password.encode("utf-8")[:PASSWORD_PAD].ljust(PASSWORD_PAD, b"\0")
        return bytes(a ^ b for a, b in zip(data, self.stream)).hex()


# --- HTTP -----------------------------------------------------------------------------------------
def session(password, username="admin", verify=True):
    http = requests.Session()
    http.auth = HTTPDigestAuth(username, password)
    http.trust_env = False
    http.verify = verify
    return http


class Pbx:
    """One PBX for the wire client: one keep-alive session per thread (the first request of each does the
    digest handshake, as each connection of a module's pool does)."""

    def __init__(self, url, password, verify=True):
        self.url = url.rstrip("/")
        self.password = password
        self.verify = verify
        self._local = threading.local()

    @property
    def http(self):
        if not hasattr(self._local, "http"):
            self._local.http = session(self.password, verify=self.verify)
        return self._local.http

    def objects(self):
        response = self.http.get(self.url + BULK_USERS, timeout=120)
        response.raise_for_status()
        return list(ET.fromstring(response.content))

    def admin(self, command):
        """One Admin() command (an Element); the answer element, WireError on <error>."""
        inner = ET.tostring(command, encoding="unicode")
        response = self.http.post(self.url + SOAP_PATH, data=(ENVELOPE % escape(inner)).encode("utf-8"),
                                  headers=SOAP_HEADERS, timeout=120)
        response.raise_for_status()
        answer = ET.fromstring(ET.fromstring(response.content).find(".//" + RETURN).text)
        if answer.tag == "error":
            raise WireError("%s %s: %s" % (command.tag, command[0].get("h323") or command[0].get("cn"), answer.text))
        return answer


def users_by_name(elements):
    """The users (not config templates) of a bulk read, by username folded to lower case."""
    return {e.get("h323").lower(): e for e in elements
            if e.get("h323") and not any(c.tag == "pseudo" and c.get("type") == "config" for c in e)}


def command(tag, element):
    wrapper = ET.Element(tag)
    wrapper.append(element)
    return wrapper


def write_all(pbx, commands, parallel):
    """Send the commands, `parallel` at a time; the first refusal is raised once all are done."""
    if parallel <= 1 or len(commands) <= 1:
        for item in commands:
            pbx.admin(item)
        return
    with ThreadPoolExecutor(parallel) as pool:
        for future in [pool.submit(pbx.admin, item) for item in commands]:
            future.result()


# --- the users module's requests --------------------------------------------------------------------
def proven_key(pbx, pbx_password, elements):
    """The PBX key from _ADMIN_ (one SOAP show) and whether the users' pwdx prove it (None: no proof)."""
    answer = pbx.admin(command("show", ET.Element("user", {"cn": "_ADMIN_"})))
    key = Key(answer[0].get("key"), pbx_password)
    proofs = [e.get("pwdx") for e in elements if len(e.get("pwdx") or "") == 2 * PASSWORD_PAD][:KEY_PROOFS]
    return key, bool(proofs) and all(key.decrypt(pwdx) is not None for pwdx in proofs)


def user_attributes(entry):
    attributes = {"cn": entry.get("long_name") or entry["name"], "h323": entry["name"]}
    if entry.get("extension") is not None:
        attributes["e164"] = entry["extension"]
    if entry.get("hide_from_ldap"):
        attributes["hide"] = "true"
    return attributes


def set_password(attributes, password, key, proven):
    if proven:
        attributes.update(pwd=HIDDEN, pwdx=key.encrypt(password))
    else:
        attributes["pwd"] = password


def user_change(entry, current, key, proven):
    """The SOAP command that brings one user to `entry` (fields: name, long_name, extension, password,
    hide_from_ldap), None when it has them already."""
    if current is None:
        attributes = user_attributes(entry)
        if entry.get("password"):
            set_password(attributes, entry["password"], key, proven)
        return command("add", ET.Element("user", attributes))
    edited = ET.fromstring(ET.tostring(current))
    changed = False
    for field, attribute in (("long_name", "cn"), ("extension", "e164")):
        if entry.get(field) is not None and edited.get(attribute, "") != entry[field]:
            edited.set(attribute, entry[field])
            changed = True
    if entry.get("hide_from_ldap") is not None and (edited.get("hide") == "true") != entry["hide_from_ldap"]:
        if entry["hide_from_ldap"]:
            edited.set("hide", "true")
        else:
            del edited.attrib["hide"]
        changed = True
    if entry.get("password") is not None:
        have = key.decrypt(current.get("pwdx")) if key is not None and current.get("pwdx") else ""
        if have != entry["password"]:
            attributes = {}
            set_password(attributes, entry["password"], key, proven)
            edited.attrib.pop("pwdx", None)
            edited.attrib.update(attributes)
            changed = True
    return command("modify", edited) if changed else None


def converge_users(url, password, pbx_password, entries, check_mode=False, parallel=1):
    """The users module's requests for `entries`; returns the number of users that change (would, in check
    mode)."""
    pbx = Pbx(url, password)
    elements = pbx.objects()
    key, proven = (None, False)
    if any(entry.get("password") is not None for entry in entries):
        key, proven = proven_key(pbx, pbx_password, elements)
    current = users_by_name(elements)
    changes = [c for c in (user_change(e, current.get(e["name"].lower()), key, proven) for e in entries) if c]
    if changes and not check_mode:
        write_all(pbx, changes, parallel)
        pbx.objects()
    return len(changes)


# --- the hotdesk_registration module's requests -----------------------------------------------------
def registration_change(name, current):
    """The SOAP modify that gives user `name` its hot-desking <device> (hw = its name, the phone app), None when
    it has it."""
    if current is None:
        raise WireError("user %s does not exist" % name)
    device = next((d for d in current.findall("device") if d.get("hw", "").lower() == name.lower()), None)
    if device is not None and device.get("app") == HOTDESK_APP and device.get("text") == HOTDESK_TEXT:
        return None
    edited = ET.fromstring(ET.tostring(current))
    device = next((d for d in edited.findall("device") if d.get("hw", "").lower() == name.lower()), None)
    if device is None:
        device = ET.SubElement(edited, "device", {"hw": name})
    device.set("app", HOTDESK_APP)
    device.set("text", HOTDESK_TEXT)
    return command("modify", edited)


def converge_registrations(url, password, names, check_mode=False, parallel=1):
    """The hotdesk_registration module's requests for `names`; returns the number of users that change."""
    pbx = Pbx(url, password)
    current = users_by_name(pbx.objects())
    changes = [c for c in (registration_change(name, current.get(name.lower())) for name in names) if c]
    if changes and not check_mode:
        write_all(pbx, changes, parallel)
        pbx.objects()
    return len(changes)


# --- the same over PbxAdminApi ------------------------------------------------------------------------
def apps_url(url, path=APPS_PATH):
    scheme, _sep, rest = url.rstrip("/").partition("://")
    return "%s://%s%s" % ({"http": "ws", "https": "wss"}[scheme], rest, path)


class Apps:
    """One AppWebsocket to the PBX, logged in as the App object; requests matched to their answers by `src`."""

    def __init__(self, url, app_name, app_password):
        self.ws = websocket.create_connection(apps_url(url), timeout=120, skip_utf8_validation=True)  # as appws
        self.sources = 0
        self.events = []
        challenge = self.call({"mt": "AppChallenge"})["challenge"]
        login = {"app": app_name, "domain": "", "sip": "", "guid": "", "dn": ""}
        if not self.call(dict(login, mt="AppLogin", digest=login_digest(login, challenge, app_password))).get("ok"):
            raise WireError("AppLogin as %s refused" % app_name)

    def close(self):
        self.ws.close()

    def send(self, message):
        self.sources += 1
        src = "w%d" % self.sources
        self.ws.send(json.dumps(dict(message, src=src)))
        return src

    def send_all(self, messages):
        """send() of every message in one write (as appws post_all); their srcs."""
        srcs, frames = [], []
        for message in messages:
            self.sources += 1
            srcs.append("w%d" % self.sources)
            frame = websocket.ABNF.create_frame(json.dumps(dict(message, src=srcs[-1])), websocket.ABNF.OPCODE_TEXT)
            frames.append(frame.format())
        self.ws.sock.sendall(b"".join(frames))
        return srcs

    def answer(self, src):
        """The answer to the request `src` sent earlier (kept among the events if it came already)."""
        for event in self.events:
            if event.get("src") == src and event.get("mt", "").endswith("Result"):
                self.events.remove(event)
                return event
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("src") == src and answer.get("mt", "").endswith("Result"):
                return answer
            self.events.append(answer)

    def call(self, message):
        return self.pipeline([message], 1)[0]

    def pipeline(self, messages, window):
        """The answers to `messages` (an iterable; a generator may stop once it has what it needs), in their
        order, with up to `window` in flight."""
        answers, in_flight, order = {}, {}, []
        messages = iter(messages)
        more = True
        while more or in_flight:
            while more and len(in_flight) < window:
                message = next(messages, None)
                if message is None:
                    more = False
                    break
                src = self.send(message)
                in_flight[src] = message["mt"] + "Result"
                order.append(src)
            if not in_flight:
                break
            answer = json.loads(self.ws.recv())
            if in_flight.get(answer.get("src")) != answer.get("mt"):
                self.events.append(answer)
                continue
            del in_flight[answer["src"]]
            if answer.get("error"):
                raise WireError("%s: %s" % (answer["mt"], answer["error"]))
            answers[answer["src"]] = answer
        return [answers[src] for src in order]

    def jobs(self, jobs, window):
        """Run generators that each yield requests one after another (and get each answer back), `window` of them
        at once, each with one request in flight: the engine's writer threads."""
        jobs, active = iter(jobs), {}
        while True:
            while len(active) < window:
                job = next(jobs, None)
                if job is None:
                    break
                self.advance(active, job, None)
            if not active:
                return
            answer = json.loads(self.ws.recv())
            job = active.pop(answer.get("src"), None)
            if job is None:
                self.events.append(answer)
                continue
            if answer.get("error"):
                raise WireError("%s: %s" % (answer["mt"], answer["error"]))
            self.advance(active, job, answer)

    def advance(self, active, job, answer):
        try:
            message = job.send(answer)
        except StopIteration:
            return
        active[self.send(message)] = job

    def users(self, ahead=()):
        """The users table by username, replicated with a window of ReplicateNext in flight (the module's way:
        ReplicateStart and the first READS_FIRST ReplicateNext in one write after the `ahead` requests, the window
        doubled up to READS_IN_FLIGHT and filled in one write when half of it is answered; answers come in order,
        the first without a row ends the table). The srcs of `ahead`."""
        following = {"api": "PbxTableUsers", "mt": "ReplicateNext"}
        srcs = self.send_all(list(ahead) + [{"api": "PbxTableUsers", "mt": "ReplicateStart",
                                             "columns": {name: {} for name in USER_COLUMNS}}]
                             + [following] * READS_FIRST)
        ahead_srcs, in_flight = srcs[:len(ahead)], srcs[len(ahead) + 1:]
        self.answer(srcs[len(ahead)])
        rows, ended, window = [], False, READS_FIRST
        while True:
            if not ended and len(in_flight) <= window // 2:
                window = min(2 * window, READS_IN_FLIGHT)
                in_flight.extend(self.send_all([following] * (window - len(in_flight))))
            if not in_flight:
                return {row["h323"].lower(): row for row in rows if row.get("h323")}, ahead_srcs
            answer = json.loads(self.ws.recv())
            if answer.get("src") != in_flight[0]:
                self.events.append(answer)
                continue
            in_flight.pop(0)
            if answer.get("columns"):
                rows.append(answer["columns"])
            else:
                ended = True

    def templates(self, first):
        """The templates, the first page of GetConfigObjects asked for already (its src `first`)."""
        listed, more = [], None
        while True:
            answer = self.answer(first) if more is None else self.call(
                {"api": "PbxAdminApi", "mt": "GetConfigObjects", "limit": 50, "more": more})
            listed.extend(answer.get("objects") or [])
            if not answer.get("more") or answer.get("more") == more:
                break
            more = answer["more"]
        return self.pipeline(({"api": "PbxAdminApi", "mt": "GetObject", "cn": item.get("cn"), "template": "without"}
                              for item in listed), READS_IN_FLIGHT)

    def objects(self, key=False, rps=False):
        """The users (and the templates); MonitorAdminObject for `key` and GetRPs for `rps` sent with them (as the
        module asks ahead); the reverse proxies kept in `rps`."""
        ahead = [{"api": "PbxAdminApi", "mt": mt} for mt, wanted in (("MonitorAdminObject", key), ("GetRPs", rps))
                 if wanted]
        users, srcs = self.users(ahead + [{"api": "PbxAdminApi", "mt": "GetConfigObjects", "limit": 50}])
        answers = [self.answer(src) for src in srcs[:-1]]
        if rps:
            self.rps = answers[-1].get("rp") or []
        self.templates(srcs[-1])
        return users

    def key(self, pbx_password):
        """The PBX key, MonitorAdminObject sent with objects(key=True)."""
        while not any(event.get("mt") == "MonitorAdminObjectInfo" for event in self.events):
            self.events.append(json.loads(self.ws.recv()))
        info = next(event for event in self.events if event.get("mt") == "MonitorAdminObjectInfo")
        return Key(info["key"], pbx_password)


def user_update(entry, row, key):
    """The UpdateObject properties that bring one user to `entry`, None when it has them already."""
    if row is None:
        update = {"guid": "?", "cn": entry.get("long_name") or entry["name"], "h323": entry["name"]}
        if entry.get("extension") is not None:
            update["e164"] = entry["extension"]
        if entry.get("hide_from_ldap"):
            update["hide"] = True
        if entry.get("password"):
            update["pwd"] = entry["password"]
        return update
    update = {}
    for field, name in (("long_name", "cn"), ("extension", "e164")):
        if entry.get(field) is not None and (row.get(name) or "") != entry[field]:
            update[name] = entry[field]
    if entry.get("hide_from_ldap") is not None and bool(row.get("hide")) != entry["hide_from_ldap"]:
        update["hide"] = True if entry["hide_from_ldap"] else -1
    if entry.get("password") is not None:
        have = key.decrypt(row["pwd"]) if key is not None and row.get("pwd") else ""
        if have != entry["password"]:
            update["pwd"] = entry["password"]
    return dict(update, guid=row["guid"]) if update else None


def converge_users_api(url, app_name, app_password, pbx_password, entries, check_mode=False, parallel=1):
    """The users module's requests over PbxAdminApi; returns the number of users that change."""
    apps = Apps(url, app_name, app_password)
    try:
        passwords = any(entry.get("password") is not None for entry in entries)
        current = apps.objects(key=passwords)
        key = apps.key(pbx_password) if passwords else None
        updates = [u for u in (user_update(e, current.get(e["name"].lower()), key) for e in entries) if u]
        if updates and not check_mode:
            apps.pipeline((dict(update, api="PbxAdminApi", mt="UpdateObject") for update in updates), parallel)
            apps.objects()
        return len(updates)
    finally:
        apps.close()


def hotdesk_job(row, name):
    """GetObject of the user's devices, then UpdateObject with the hot-desking device in place (put_device)."""
    answer = yield {"api": "PbxAdminApi", "mt": "GetObject", "guid": row["guid"], "properties": ["devices"]}
    devices = [d for d in answer.get("devices") or [] if (d.get("hw") or "").lower() != name.lower()]
    devices.append({"hw": name, "text": HOTDESK_TEXT, "app": HOTDESK_APP})
    yield {"api": "PbxAdminApi", "mt": "UpdateObject", "guid": row["guid"], "devices": devices}


def has_hotdesk(row, name):
    return any((d.get("hw") or "").lower() == name.lower() and d.get("app") == HOTDESK_APP
               and d.get("text") == HOTDESK_TEXT for d in row.get("devices") or [])


def converge_registrations_api(url, app_name, app_password, names, check_mode=False, parallel=1):
    """The hotdesk_registration module's requests over PbxAdminApi; returns the number of users that change."""
    apps = Apps(url, app_name, app_password)
    try:
        current = apps.objects(rps=True)    # the module's reverse-proxy warning (trusted not given)
        missing = [name for name in names if name.lower() not in current]
        if missing:
            raise WireError("users %s do not exist" % ", ".join(missing[:3]))
        changing = [name for name in names if not has_hotdesk(current[name.lower()], name)]
        if changing and not check_mode:
            apps.jobs((hotdesk_job(current[name.lower()], name) for name in changing), parallel)
            apps.objects()
        return len(changing)
    finally:
        apps.close()


# --- replay of a pbxsim recording ---------------------------------------------------------------------
def login_digest(fields, challenge, password):
    import hashlib  # pylint: disable=import-outside-toplevel

    parts = [str(fields.get(name) or "") for name in ("app", "domain", "sip", "guid", "dn")]
    if "info" in fields:
        parts.append(json.dumps(fields["info"], separators=(",", ":"), ensure_ascii=False))
    parts += [challenge, password]
    return hashlib.sha256(":".join(parts).encode("utf-8")).hexdigest()


class AppSession:
    """One Devices WebSocket session of a replay: requests answered by `<mt>Result` with their `src`."""

    def __init__(self, url, password):
        self.ws = websocket.create_connection(url, timeout=60)
        self.password = password
        self.sources = 0
        self.errors = 0

    def call(self, message):
        """Send one request (a fresh src) and wait for its last answer; returns it."""
        self.sources += 1
        src = "replay%d" % self.sources
        self.ws.send(json.dumps(dict(message, src=src)))
        final = message["mt"] + "Result"
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("src") == src and answer.get("mt") == final and answer.get("last", True):
                if "error" in answer:
                    self.errors += 1
                return answer

    def send(self, text):
        message = json.loads(text)
        if message.get("mt") == "AppChallenge":
            return None  # asked again by the AppLogin below, with the challenge it needs
        if message.get("mt") == "AppLogin":
            challenge = self.call({"mt": "AppChallenge"})["challenge"]
            fields = {name: value for name, value in message.items() if name not in ("mt", "src", "digest")}
            return self.call(dict(fields, mt="AppLogin", digest=login_digest(fields, challenge, self.password)))
        return self.call({name: value for name, value in message.items() if name != "src"})

    def close(self):
        self.ws.close()


def replay(recording, url, password, devices_url, devices_password, app_password=None):
    """Send the recorded requests again in their order; returns {"http": n, "ws": n, "errors": n}. A WebSocket
    message goes to the WebSocket of its `path`: the PBX's AppWebsocket (logged in with `app_password`) or the
    Devices app."""
    http = session(password)
    sessions = {}
    counts = {"http": 0, "ws": 0, "errors": 0}
    try:
        for entry in recording:
            if entry["kind"] == "http":
                response = http.request(entry["method"], url.rstrip("/") + entry["path"], headers=entry["headers"],
                                        data=entry["body"].encode("utf-8") if entry["body"] else None, timeout=120)
                counts["http"] += 1
                counts["errors"] += response.status_code >= 400
            else:
                if entry["session"] not in sessions:
                    if (entry.get("path") or "").endswith("/APPS/websocket"):
                        sessions[entry["session"]] = AppSession(apps_url(url, entry["path"]), app_password)
                    else:
                        sessions[entry["session"]] = AppSession(devices_url, devices_password)
                sessions[entry["session"]].send(entry["text"])
                counts["ws"] += 1
    finally:
        for app in sessions.values():
            counts["errors"] += app.errors
            app.close()
    return counts


def replay_many(jobs, threads):
    """replay() of several PBXs at once, `threads` at a time (an Ansible run with as many forks); `jobs`: a list
    of replay() argument tuples. Returns the counts added up."""
    total = {"http": 0, "ws": 0, "errors": 0}
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for counts in pool.map(lambda job: replay(*job), jobs):
            for name, value in counts.items():
                total[name] += value
    return total
