# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Event source innovaphone.pbx.pbx_events: every change on innovaphone PBXs and their Devices apps, as it happens.

Per site it keeps one PbxTableUsers replication open on the PBX's AppWebsocket (reference 6.3) and one Devices app
session with recvUpdates (reference 4). What it saw first is the baseline; each later change of an object becomes
one event. After a reconnect (or a restart, with state_file) it compares a fresh baseline with the state it last
saw and emits only the differences.
"""

import asyncio
import contextlib
import datetime
import hashlib
import hmac
import importlib.util
import itertools
import json
import logging
import os
import pathlib
import random
import ssl
import tempfile
from urllib.parse import urlsplit

import aiohttp

DOCUMENTATION = r"""
---
short_description: React to changes of users, templates and Devices objects on innovaphone PBXs.
description:
  - An event source plugin for ansible-rulebook and the Event-Driven Ansible controller.
  - Per site it replicates the PBX's user table (PbxTableUsers on C(<url>/PBX0/APPS/websocket), users and config
    templates with their hot-desking devices), and opens one Devices app session that asks for updates of the
    devices, the device configurations and the categories of its domain.
  - The table and the Devices objects as first read are the baseline and make no events; after it, every change
    makes one event C({site, kind, type, id, name, changes, time, resync, source}), where C(kind) is one of
    C(user_added), C(user_changed), C(user_deleted), C(template_added), C(template_changed), C(template_deleted),
    C(device_added), C(device_changed), C(device_removed), C(device_config_added), C(device_config_changed),
    C(device_config_deleted), C(category_added), C(category_changed), C(category_deleted), and C(changes) maps
    each changed field to C({old, new}). An added object lists its fields with C(old) null, a deleted one with
    C(new) null.
  - Secrets never leave the source. A password (the C(pwd) column, which the PBX sends encrypted), an expert
    configuration's C(script), and the device configuration fields C(turnPassword) and C(srtpKey) show as the
    word C(changed) instead of C({old, new}); the state file keeps only keyed hashes of them.
  - A lost connection or a PBX reboot is retried with a capped exponential backoff. After the reconnect the
    source reads the table and the Devices objects again and emits only what differs from the state it last saw,
    with C(resync) true. With O(state_file) it does the same after a restart of the source.
  - The PBX's App object needs the API grants C(Admin) and C(TableUsers) (PBX Manager, "Grant access to APIs").
options:
  sites:
    description:
      - The sites to watch, each a dict with the per-site options below (V(name), V(url), V(app_name),
        V(app_password), V(devices_url), V(devices_password), V(devices_domain) and, to override the top-level
        ones, V(validate_certs), V(ca_path), V(timeout)).
      - Without O(sites), the top-level per-site options (and their environment variables) describe one site.
    type: list
    elements: dict
  name:
    description:
      - Name of the site as the events carry it in C(site); use the inventory host name of the site, so that a
        rulebook can limit a playbook run to it.
      - Defaults to the host of O(url).
    type: str
  url:
    description:
      - Base URL of the PBX, for example V(https://pbx.example.com). The source connects to
        C(wss://pbx.example.com/PBX0/APPS/websocket) (C(ws://) for V(http://)).
      - If not set, the environment variable E(INNOVAPHONE_URL) is used.
    type: str
    required: true
  app_name:
    description:
      - Name (h323) of the PBX App object the source logs in as; it needs the C(TableUsers) grant.
      - If not set, the environment variable E(INNOVAPHONE_APP_NAME) is used.
    type: str
    required: true
  app_password:
    description:
      - Password of that App object. It never goes over the wire; the login proves it with a digest.
      - If not set, the environment variable E(INNOVAPHONE_APP_PASSWORD) is used.
    type: str
    required: true
  devices_url:
    description:
      - WebSocket URL of the Devices app, for example V(wss://ap.example.com/example.com/devices).
      - Without it the site has no Devices session and makes no device, device configuration or category events.
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_URL) is used.
    type: str
  devices_password:
    description:
      - Password of the Devices app login (the instance password or the password of O(devices_domain)).
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_PASSWORD) is used.
    type: str
  devices_domain:
    description:
      - Domain of the Devices app login; the source watches the domain the login gets.
      - If not set, the environment variable E(INNOVAPHONE_DEVICES_DOMAIN) is used, and without it the first path
        element of O(devices_url).
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of a C(wss://) URL, as the collection's modules do.
      - If not set, the environment variable E(INNOVAPHONE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file, or directory of hashed PEM files, of the certificate authorities to trust instead of the
        system's.
      - If not set, the environment variable E(INNOVAPHONE_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection and for each answer.
      - If not set, the environment variable E(INNOVAPHONE_TIMEOUT) is used.
    type: int
    default: 30
  wire_names:
    description:
      - Names on the wire that innovaphone does not document, as for the modules (C(docs/wire-names.md)).
      - If not set, the environment variable E(INNOVAPHONE_WIRE_NAMES) (JSON) is used.
    type: dict
  state_file:
    description:
      - A JSON file where the source keeps the state it last saw, so that after a restart it emits only the
        changes made while it was not running (with C(resync) true) instead of taking a new baseline.
      - It holds no password and no script, only keyed hashes of them (HMAC-SHA256 with the site's App object or
        Devices password). It is written atomically, readable only by its owner.
    type: path
  reconnect_max_delay:
    description:
      - Longest wait, in seconds, between two attempts to reconnect; the wait starts at one second and doubles.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Watch one site, credentials from the environment (INNOVAPHONE_URL, INNOVAPHONE_APP_NAME, ...)
  hosts: all
  sources:
    - innovaphone.pbx.pbx_events:
        name: site1
  rules:
    - name: Show every change
      condition: event.kind is defined
      action:
        debug:

- name: Watch two sites
  hosts: all
  sources:
    - innovaphone.pbx.pbx_events:
        state_file: /var/lib/eda/innovaphone-state.json
        sites:
          - name: berlin
            url: https://pbx-berlin.example.com
            app_name: eda
            app_password: "{{ berlin_app_password }}"
            devices_url: wss://ap.example.com/berlin.example.com/devices
            devices_password: "{{ berlin_devices_password }}"
          - name: paris
            url: https://pbx-paris.example.com
            app_name: eda
            app_password: "{{ paris_app_password }}"
  rules:
    - name: A hot-desking user lost or got a device
      condition: event.kind == "user_changed" and event.hotdesking == true and event.changes.devices is defined
      action:
        debug:
"""


LOG = logging.getLogger("innovaphone.pbx.pbx_events")

TABLE_USERS = "PbxTableUsers"
# The columns of the users table and the sub-tables of a row (reference 6.3, DOC).
USER_COLUMNS = ("guid", "h323", "pwd", "cn", "dn", "apps-my", "config", "node", "loc", "hide", "e164", "cfpr",
                "t-cfpr", "pseudo", "h323-email", "apps", "fax", "emails", "allows", "t-allows", "grps", "devices",
                "cds", "forks", "wakeups")
# Fields whose values never leave the source: events say "changed", the state keeps a keyed hash.
SECRET_FIELDS = frozenset(("pwd", "script", "turnPassword", "srtpKey"))
CHANGED = "changed"
ENV = "INNOVAPHONE_"
SITE_OPTIONS = ("name", "url", "app_name", "app_password", "devices_url", "devices_password", "devices_domain",
                "validate_certs", "ca_path", "timeout")
COMMON_OPTIONS = ("sites", "wire_names", "state_file", "reconnect_max_delay")
DEFAULTS = {"validate_certs": True, "timeout": 30}
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _wire_names():
    """The collection's one table of guessed wire names (plugins/module_utils/wire_names.py).

    ansible-rulebook runs this file by path, outside Ansible's collection loader, so the table is loaded from the
    collection this file belongs to (four directories up) when the import does not find it.
    """
    try:
        from ansible_collections.innovaphone.pbx.plugins.module_utils import wire_names
        return wire_names
    except ImportError:
        path = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "module_utils" / "wire_names.py"
        spec = importlib.util.spec_from_file_location("innovaphone_pbx_wire_names", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


WIRE = _wire_names()


class SourceError(ValueError):
    """Arguments the source cannot run with; the message names the argument."""


class ConnectionLost(Exception):
    """The WebSocket ended or an answer did not come in time."""


class Refused(Exception):
    """The PBX or the Devices app answered a request with an error (a refused login among them)."""


# --- arguments ----------------------------------------------------------------------------------
def _bool(value, where):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise SourceError("%s must be true or false, not %r" % (where, value))


def _int(value, where, low=1):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SourceError("%s must be a whole number, not %r" % (where, value)) from None
    if isinstance(value, bool) or number < low:
        raise SourceError("%s must be a whole number of at least %d, not %r" % (where, low, value))
    return number


def _url(value, where, schemes):
    if not isinstance(value, str) or not value:
        option = where.split(".")[-1]
        raise SourceError("%s is required (or the environment variable %s%s)" % (where, ENV, option.upper()))
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise SourceError("%s must be a %s URL with a host, not %r" % (where, " or ".join(schemes), value))
    if parts.username or parts.password:
        raise SourceError("%s must not carry credentials; give them in their own options" % where)
    if parts.query or parts.fragment:
        raise SourceError("%s must have no query and no fragment" % where)
    return value.rstrip("/")


def _option(entry, name, single, environ):
    """A site option: the entry's, else (for one site given at the top level) the environment's, else the
    top level's for the common TLS and timeout options."""
    if entry.get(name) is not None:
        return entry[name]
    if single or name in ("validate_certs", "ca_path", "timeout"):
        value = environ.get(ENV + name.upper())
        if value not in (None, ""):
            return value
    return None


def site_settings(args, environ=None):
    """The checked settings of every site, and the common ones: ([site, ...], common). Raises SourceError."""
    environ = os.environ if environ is None else environ
    if not isinstance(args, dict):
        raise SourceError("the arguments must be a mapping")
    unknown = sorted(set(args) - set(SITE_OPTIONS) - set(COMMON_OPTIONS))
    if unknown:
        known = ", ".join(SITE_OPTIONS + COMMON_OPTIONS)
        raise SourceError("unknown argument(s) %s (known: %s)" % (", ".join(unknown), known))
    entries = args.get("sites")
    single = entries is None
    if single:
        entries = [{name: args[name] for name in SITE_OPTIONS if name in args}]
    elif not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise SourceError("sites must be a non-empty list of mappings")
    sites, names = [], set()
    for index, entry in enumerate(entries):
        where = "" if single else "sites[%d]." % index
        unknown = sorted(set(entry) - set(SITE_OPTIONS))
        if unknown:
            raise SourceError("%sunknown option(s) %s" % (where, ", ".join(unknown)))
        merged = {name: args[name] for name in ("validate_certs", "ca_path", "timeout") if args.get(name) is not None}
        merged.update((name, value) for name, value in entry.items() if value is not None)
        site = {name: _option(merged, name, single, environ) for name in SITE_OPTIONS}
        site["url"] = _url(site["url"], where + "url", ("http", "https"))
        for name in ("app_name", "app_password"):
            if not isinstance(site[name], str) or not site[name]:
                raise SourceError("%s%s is required (or the environment variable %s%s)"
                                  % (where, name, ENV, name.upper()))
        if site["devices_url"] is not None:
            site["devices_url"] = _url(site["devices_url"], where + "devices_url", ("ws", "wss"))
            if not isinstance(site["devices_password"], str) or not site["devices_password"]:
                raise SourceError("%sdevices_password is required with devices_url (or the environment variable "
                                  "%sDEVICES_PASSWORD)" % (where, ENV))
            if not site["devices_domain"]:
                site["devices_domain"] = urlsplit(site["devices_url"]).path.strip("/").split("/")[0]
        site["validate_certs"] = _bool(DEFAULTS["validate_certs"] if site["validate_certs"] is None
                                       else site["validate_certs"], where + "validate_certs")
        site["timeout"] = _int(DEFAULTS["timeout"] if site["timeout"] is None else site["timeout"],
                               where + "timeout")
        if site["ca_path"] is not None and not os.path.exists(os.path.expanduser(str(site["ca_path"]))):
            raise SourceError("%sca_path %s does not exist" % (where, site["ca_path"]))
        site["name"] = str(site["name"] or urlsplit(site["url"]).hostname)
        if site["name"].lower() in names:
            raise SourceError("%sname %s is given twice; every site needs its own name" % (where, site["name"]))
        names.add(site["name"].lower())
        sites.append(site)
    wire_names = args.get("wire_names")
    if wire_names is None and environ.get(ENV + "WIRE_NAMES"):
        try:
            wire_names = json.loads(environ[ENV + "WIRE_NAMES"])
        except ValueError:
            raise SourceError("the environment variable %sWIRE_NAMES is not JSON" % ENV) from None
    try:
        WIRE.use(wire_names or {})
    except WIRE.WireNameError as exc:
        raise SourceError(str(exc)) from None
    common = {"state_file": args.get("state_file"),
              "reconnect_max_delay": _int(args.get("reconnect_max_delay", 30), "reconnect_max_delay")}
    return sites, common


def ssl_context(site):
    """TLS as the modules do it: verified against the system's CAs or ca_path, unless validate_certs is false."""
    if not site["validate_certs"]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    ca_path = site["ca_path"] and os.path.expanduser(str(site["ca_path"]))
    if ca_path and os.path.isdir(ca_path):
        return ssl.create_default_context(capath=ca_path)
    return ssl.create_default_context(cafile=ca_path or None)


# --- objects, secrets, differences ----------------------------------------------------------------
def _canonical(value):
    """Sub-table rows in a stable order, so that the same rows in another order are no change."""
    if isinstance(value, list):
        items = [_canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    return value


def normalised(obj, key):
    """An object as the state keeps it: secret fields replaced by an HMAC keyed with `key`."""
    return {name: ("hmac:" + hmac.new(key.encode("utf-8"), json.dumps(value).encode("utf-8"),
                                      hashlib.sha256).hexdigest()) if name in SECRET_FIELDS else _canonical(value)
            for name, value in obj.items()}


def changes(old, new):
    """{field: {old, new}} of every field that differs; a secret field only says that it changed."""
    old, new = old or {}, new or {}
    result = {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            result[name] = CHANGED if name in SECRET_FIELDS else {"old": old.get(name), "new": new.get(name)}
    return result


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Kinds:
    """How one table names its objects and their events."""

    def __init__(self, type_, added, changed, deleted):
        self.type, self.added, self.changed, self.deleted = type_, added, changed, deleted


USER = Kinds("user", "user_added", "user_changed", "user_deleted")
TEMPLATE = Kinds("template", "template_added", "template_changed", "template_deleted")
DEVICE = Kinds("device", "device_added", "device_changed", "device_removed")
DEVICE_CONFIG = Kinds("device_config", "device_config_added", "device_config_changed", "device_config_deleted")
CATEGORY = Kinds("category", "category_added", "category_changed", "category_deleted")


def _is_template(row):
    return 'type="config"' in str(row.get("pseudo") or "").replace("'", '"')


def _has_hotdesk_device(row):
    own = str(row.get("h323") or "").lower()
    return bool(own) and any(str(device.get("hw", "")).lower() == own
                             for device in row.get("devices") or [] if isinstance(device, dict))


def describe(table, obj):
    """(Kinds, name, extra event fields) of an object of a table."""
    if table == "users":
        kinds = TEMPLATE if _is_template(obj) else USER
        return kinds, obj.get("cn") or obj.get("h323") or obj.get("guid"), {"h323": obj.get("h323")}
    if table == "devices":
        return DEVICE, obj.get("name") or obj.get("hwId"), {"hw_id": obj.get("hwId")}
    if table == "configs":
        return DEVICE_CONFIG, obj.get("desc") or "%s %s" % (obj.get("type"), obj.get("id")), \
            {"config_type": obj.get("type")}
    return CATEGORY, obj.get("name"), {}


# --- state ----------------------------------------------------------------------------------------
class State:
    """What the source last saw, per site and table ({id: object}); persisted to state_file after each change."""

    VERSION = 1

    def __init__(self, path=None):
        self.path = path and os.path.expanduser(str(path))
        self.sites = {}
        if self.path and os.path.exists(self.path):
            try:
                with open(self.path, encoding="utf-8") as handle:
                    data = json.load(handle)
            except (OSError, ValueError) as exc:
                raise SourceError("state_file %s cannot be read (%s); remove it to take a new baseline"
                                  % (self.path, exc)) from None
            if not isinstance(data, dict) or data.get("version") != self.VERSION:
                raise SourceError("state_file %s is not a state of this source (version %s); remove it to take a "
                                  "new baseline" % (self.path, self.VERSION))
            self.sites = data.get("sites") or {}

    def table(self, site, table):
        """The objects last seen, or None when this table of this site was never read."""
        return self.sites.get(site, {}).get(table)

    def put(self, site, table, objects):
        self.sites.setdefault(site, {})[table] = objects

    def save(self):
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".pbx_events-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"version": self.VERSION, "sites": self.sites}, out, sort_keys=True)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


# --- AppWebsocket ---------------------------------------------------------------------------------
class AppSocket:
    """One AppWebsocket connection: requests matched to their answers by `src`, everything else an event."""

    _ids = itertools.count(1)

    def __init__(self, ws, timeout, api=None, error_key="error"):
        self.ws = ws
        self.timeout = timeout
        self.api = api
        self.error_key = error_key
        self.pending = {}
        self.events = asyncio.Queue()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self):
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(frame.data)
                except ValueError:
                    LOG.warning("ignored a message that is not JSON")
                    continue
                if not isinstance(message, dict):
                    continue
                answers = self.pending.get(message.get("src"))
                (answers if answers is not None else self.events).put_nowait(message)
        finally:
            for queue in list(self.pending.values()) + [self.events]:
                queue.put_nowait(None)

    async def _next(self, queue):
        try:
            message = await asyncio.wait_for(queue.get(), self.timeout)
        except asyncio.TimeoutError:
            raise ConnectionLost("no answer within %d s" % self.timeout) from None
        if message is None:
            raise ConnectionLost("the connection closed")
        return message

    async def request(self, mt, done=None, **fields):
        """Send a request; its answers until done(answer) (default: the first `<mt>Result`)."""
        src = "eda%d" % next(self._ids)
        message = {"mt": mt, "src": src, **fields}
        if self.api:
            message["api"] = self.api
        done = done or (lambda answer: answer.get("mt") == mt + "Result")
        self.pending[src] = queue = asyncio.Queue()
        try:
            if self.reader.done():
                raise ConnectionLost("the connection closed")
            await self.ws.send_str(json.dumps(message))
            answers = []
            while True:
                answer = await self._next(queue)
                if answer.get(self.error_key):
                    raise Refused("%s: %s" % (mt, answer[self.error_key]))
                answers.append(answer)
                if done(answer):
                    return answers
        finally:
            del self.pending[src]

    async def login(self, app, domain, password):
        challenge = (await self.request("AppChallenge"))[-1].get("challenge") or ""
        digest = hashlib.sha256(":".join((app, domain, "", "", "", challenge, password)).encode("utf-8")).hexdigest()
        answer = (await self.request("AppLogin", app=app, domain=domain, sip="", guid="", dn="", digest=digest))[-1]
        if answer.get("ok") is not True:
            raise Refused("AppLogin as %s refused: %s" % (app, answer.get("errorText") or "ok is not true"))
        return answer

    async def event(self):
        """The next message that answers no request: an event."""
        message = await self.events.get()
        if message is None:
            raise ConnectionLost("the connection closed")
        return message

    async def close(self):
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


def _last_page(answer):
    """A paged answer (GetDomains, GetDevices, GetDeviceConfigs) is through with `last: true`."""
    return answer.get("last") is not False


# --- one stream per interface ---------------------------------------------------------------------
class Stream:
    """One connection of a site: a baseline of its tables, then live changes; reconnects with backoff."""

    tables = ()
    interface = None

    def __init__(self, site, state, queue, max_delay):
        self.site = site
        self.state = state
        self.queue = queue
        self.max_delay = max_delay
        self.objects = {table: state.table(site["name"], table) for table in self.tables}
        self.connected = asyncio.Event()     # tests and benchmarks wait for the first baseline

    # what a stream gives
    url = key = None

    async def open_session(self, ws):
        raise NotImplementedError

    async def baseline(self, socket):
        raise NotImplementedError

    async def on_event(self, socket, message):
        raise NotImplementedError

    # the run
    async def run(self, session):
        delay = 1.0
        while True:
            try:
                ws = await session.ws_connect(self.url, ssl=ssl_context(self.site) if self.url.startswith("wss")
                                              else True, heartbeat=30, max_msg_size=0,
                                              timeout=aiohttp.ClientWSTimeout(ws_close=self.site["timeout"]))
            except (aiohttp.ClientConnectorCertificateError, ssl.SSLError) as exc:
                problem = "%s: %s %s: TLS certificate not trusted (%s); give ca_path, or validate_certs false in a " \
                          "lab" % (self.site["name"], self.interface, self.url, exc)
                if not self.connected.is_set():      # at start-up: say so at once; later: keep trying
                    raise SourceError(problem) from None
                LOG.error("%s; again in %.0f s", problem, delay)
                delay = await self.back_off(delay)
                continue
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                LOG.warning("%s: %s %s unreachable (%s); again in %.0f s", self.site["name"], self.interface,
                            self.url, exc, delay)
                delay = await self.back_off(delay)
                continue
            socket = None
            try:
                socket = await self.open_session(ws)
                await self.reconcile(await self.baseline(socket))
                delay = 1.0
                self.connected.set()
                LOG.info("%s: %s baseline read, following changes", self.site["name"], self.interface)
                while True:
                    await self.on_event(socket, await socket.event())
            except Refused as exc:
                if not self.connected.is_set():      # a wrong password at start-up: say so at once
                    raise SourceError("%s: %s: %s" % (self.site["name"], self.interface, exc)) from None
                LOG.error("%s: %s: %s; again in %.0f s", self.site["name"], self.interface, exc, delay)
            except (ConnectionLost, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                LOG.warning("%s: %s connection lost (%s); again in %.0f s", self.site["name"], self.interface,
                            exc or type(exc).__name__, delay)
            finally:
                if socket is not None:
                    await socket.close()
                elif not ws.closed:
                    await ws.close()
            delay = await self.back_off(delay)

    async def back_off(self, delay):
        """Wait `delay` seconds (and up to a fifth more, so that many sources do not reconnect in step); the next
        delay, doubled up to reconnect_max_delay."""
        await asyncio.sleep(delay * random.uniform(1.0, 1.2))
        return min(delay * 2, self.max_delay)

    async def reconcile(self, fresh):
        """Take a fresh read of every table: the first ever is the baseline (no events); later ones emit what
        differs from the state last seen."""
        for table in self.tables:
            before = self.objects.get(table)
            if before is not None:
                for key in list(before) + [key for key in fresh[table] if key not in before]:
                    await self.emit(table, before.get(key), fresh[table].get(key), resync=True)
            self.objects[table] = fresh[table]
            self.state.put(self.site["name"], table, fresh[table])
        self.state.save()

    async def apply(self, table, key, new):
        """One object as it is now, normalised (None: gone): emit its change, keep it."""
        objects = self.objects[table]
        old = objects.get(key)
        if new is None:
            objects.pop(key, None)
        else:
            objects[key] = new
        if old != new:
            self.state.save()
            await self.emit(table, old, new)

    async def emit(self, table, old, new, resync=False):
        delta = changes(old, new)
        if not delta:
            return
        kinds, name, extra = describe(table, new or old)
        kind = kinds.added if old is None else kinds.deleted if new is None else kinds.changed
        event = {"site": self.site["name"], "kind": kind, "type": kinds.type,
                 "id": (new or old).get("guid" if table == "users" else "id"), "name": name, "changes": delta,
                 "time": _now(), "resync": resync,
                 "source": {"interface": self.interface, "url": self.url}}
        event.update(extra)
        if table == "users":
            event["hotdesking"] = _has_hotdesk_device(old or {}) or _has_hotdesk_device(new or {})
        await self.queue.put(event)


class UsersStream(Stream):
    """The PBX's user table (users and config templates) over PbxTableUsers replication."""

    tables = ("users",)
    interface = TABLE_USERS

    def __init__(self, site, *args):
        super().__init__(site, *args)
        parts = urlsplit(site["url"])
        self.url = "%s://%s/PBX0/APPS/websocket" % ("wss" if parts.scheme == "https" else "ws", parts.netloc)
        self.key = site["app_password"]

    async def open_session(self, ws):
        socket = AppSocket(ws, self.site["timeout"])
        await socket.login(self.site["app_name"], "", self.site["app_password"])
        socket.api = TABLE_USERS
        return socket

    async def baseline(self, socket):
        await socket.request("ReplicateStart", add=True, columns={name: {} for name in USER_COLUMNS},
                             pseudo=["config"], **{"del": True})
        rows = {}
        while True:
            answer = (await socket.request("ReplicateNext"))[-1]
            row = answer.get("columns")
            if not isinstance(row, dict) or not row.get("guid"):
                return {"users": rows}
            rows[row["guid"]] = normalised(row, self.key)

    async def on_event(self, socket, message):
        mt, row = message.get("mt"), message.get("columns")
        if mt not in ("ReplicateAdd", "ReplicateUpdate", "ReplicateDel") or not isinstance(row, dict) \
                or not row.get("guid"):
            return
        # A row comes whole (Replication.htm's ReplicateUpdate example): a column it lacks is empty, e.g. the
        # devices of a user whose last device went.
        await self.apply("users", row["guid"], None if mt == "ReplicateDel" else normalised(row, self.key))


class DevicesStream(Stream):
    """The Devices app: devices, device configurations (with their values) and categories of the login's domain."""

    tables = ("devices", "configs", "categories")
    interface = "Devices"

    def __init__(self, site, *args):
        super().__init__(site, *args)
        self.url = site["devices_url"]
        self.key = site["devices_password"]
        self.domain_name = site["devices_domain"]
        self.domain_id = None

    async def open_session(self, ws):
        socket = AppSocket(ws, self.site["timeout"])
        answer = await socket.login(WIRE.DEVICES["app"], self.site["devices_domain"], self.site["devices_password"])
        self.domain_name = answer.get("domain") or self.site["devices_domain"]
        return socket

    async def config(self, socket, config_id):
        """A device configuration with its values (GetDeviceConfig; long values come in parts)."""
        answers = await socket.request("GetDeviceConfig", done=lambda answer: answer.get("mt") ==
                                       "GetDeviceConfigResult", id=config_id, domainId=self.domain_id)
        config = dict(answers[-1].get("config") or {})
        values = {}
        for answer in answers[:-1]:
            if answer.get("mt") == "GetDeviceConfigValueResult" and isinstance(answer.get("name"), str):
                values[answer["name"]] = values.get(answer["name"], "") + str(answer.get("value") or "")
        config.update(values)
        config["categories"] = sorted(category.get("name") for category in config.get("categories") or []
                                      if isinstance(category, dict))
        return config

    def categories_of(self, domain):
        return {str(category["id"]): normalised(category, self.key) for category in domain.get("categories") or []
                if isinstance(category, dict) and "id" in category}

    async def baseline(self, socket):
        domains = [domain for answer in await socket.request("GetDomains", done=_last_page, recvUpdates=True)
                   for domain in answer.get("domains") or []]
        home = next((d for d in domains if d.get("name") == self.domain_name), None)
        if home is None:
            raise Refused("GetDomains does not list the login's domain %s" % self.domain_name)
        self.domain_id = home["id"]
        devices = [device for answer in await socket.request("GetDevices", done=_last_page, recvUpdates=True,
                                                             domainIds=str(self.domain_id))
                   for device in answer.get("devices") or []]
        configs = [config for answer in await socket.request("GetDeviceConfigs", done=_last_page,
                                                             recvUpdates=True, domainId=self.domain_id)
                   for config in answer.get("configs") or []]
        full = {}
        for config in configs:
            full[str(config["id"])] = normalised(await self.config(socket, config["id"]), self.key)
        return {"devices": {str(d["id"]): normalised(d, self.key) for d in devices if "id" in d},
                "configs": full, "categories": self.categories_of(home)}

    async def on_event(self, socket, message):
        mt = message.get("mt")
        if mt in ("DeviceAdded", "DeviceUpdate", "DeviceRemoved"):
            device = message.get("device")
            if isinstance(device, dict) and "id" in device and device.get("domainId") == self.domain_id:
                await self.apply("devices", str(device["id"]),
                                 None if mt == "DeviceRemoved" else normalised(device, self.key))
        elif mt in ("DeviceConfigAdded", "DeviceConfigEdited"):
            config = message.get(WIRE.DEVICES["config_event"])
            if isinstance(config, dict) and "id" in config and config.get("domainId", self.domain_id) == \
                    self.domain_id:
                try:
                    full = await self.config(socket, config["id"])
                except Refused:          # deleted meanwhile: its DeviceConfigDeleted follows
                    return
                await self.apply("configs", str(config["id"]), normalised(full, self.key))
        elif mt == "DeviceConfigDeleted":
            config_id = message.get(WIRE.DEVICES["config_deleted_id"])
            if config_id is not None:
                await self.apply("configs", str(config_id), None)
        elif mt in ("DomainAdded", "DomainEdited"):
            domain = message.get("domain")
            if isinstance(domain, dict) and domain.get("id") == self.domain_id:
                fresh = self.categories_of(domain)
                for key in sorted(set(self.objects["categories"]) | set(fresh)):
                    await self.apply("categories", key, fresh.get(key))


# --- entry point ----------------------------------------------------------------------------------
async def main(queue, args):
    """ansible-rulebook's entry point: watch every site until cancelled."""
    sites, common = site_settings(args)
    state = State(common["state_file"])
    streams = []
    for site in sites:
        streams.append(UsersStream(site, state, queue, common["reconnect_max_delay"]))
        if site["devices_url"]:
            streams.append(DevicesStream(site, state, queue, common["reconnect_max_delay"]))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_connect=max(s["timeout"] for s in sites))) \
            as session:
        tasks = [asyncio.ensure_future(stream.run(session)) for stream in streams]
        main.streams = streams            # for tests and the benchmark: stream.connected
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    # Print the events of one site given by the environment (INNOVAPHONE_URL, ...), as ansible-rulebook would get.

    class MockQueue(asyncio.Queue):
        async def put(self, item):
            print(json.dumps(item, sort_keys=True), flush=True)

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(MockQueue(), {}))
