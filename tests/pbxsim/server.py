# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pbxsim server: one aiohttp application per simulated PBX, each on its own port.

aiohttp serves HTTP and WebSocket from one port and one event loop, as a PBX box does; one
loop also makes every model change atomic without locks (handlers never await mid-change).
"""

import asyncio
import hmac
import json
import logging
import os
import signal
import ssl
import tempfile
import urllib.parse

from aiohttp import web

from . import cfg
from . import control
from . import devices
from . import digest
from . import faults
from . import holds
from . import model
from . import pbxapps
from . import persistence
from . import phones
from . import soap
from . import wire_names as wn

LOG = logging.getLogger("pbxsim")
INTERFACES = ("soap", "bulk", "config", "cfgtxt", "devices", "passthrough", "pbxapi")
HTTP_USER = "admin"
REALM = "pbxsim"
CONTROL_PREFIX = "/_sim/"
RECORDED_HEADERS = ("Content-Type", "SOAPAction")   # what a replay of a recorded request sends again
FIRMWARE = "13r3 (pbxsim)"
SOAP_PATH = "/PBX0/user.soap"
BULK_PATH = "/PBX0/ADMIN/mod_cmd_login.xml"
XML_PATHS = (SOAP_PATH, BULK_PATH)      # what truncated_xml cuts: the answers that are XML
SILENT_HOLD = 600.0                     # seconds a `silent` fault holds a request at most
POLL = 0.05                             # seconds between looks at a held connection
# What a reverse proxy or a captive portal answers instead of the PBX (the `html` fault).
HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Sign in</h1>"
             "<form method=\"post\" action=\"/login\"><input name=\"user\"><input name=\"password\" "
             "type=\"password\"><button>Sign in</button></form></body></html>\n")


def cfg_layer(value):
    """/cfg.txt?layer=<value> -> configuration layer (contract 4); no parameter shows the current one, an
    unknown value None."""
    return {None: "current", wn.CFG_LAYER_WRITTEN: "written", wn.CFG_LAYER_ACTIVE: "active"}.get(value)


class Stats:
    """Requests per interface, split into reads and writes (contract 6), and the passwords that arrive."""

    def __init__(self):
        self.requests = 0
        self.unauthorized = 0
        self.interfaces = {}
        self.passwords = {}
        self.reset()

    def reset(self):
        self.requests = 0
        self.unauthorized = 0
        self.interfaces = {name: {"reads": 0, "writes": 0} for name in INTERFACES}
        # add/modify objects arriving with a clear-text password / with a pwdx that sets it (soap.count_passwords)
        self.passwords = {soap.CLEAR_PASSWORDS: 0, soap.PWDX_PASSWORDS: 0}

    def request(self):
        self.requests += 1

    def count(self, interface, write):
        self.interfaces[interface]["writes" if write else "reads"] += 1

    def to_dict(self):
        return {
            "interfaces": {name: dict(counts) for name, counts in self.interfaces.items()},
            "reads": sum(counts["reads"] for counts in self.interfaces.values()),
            "writes": sum(counts["writes"] for counts in self.interfaces.values()),
            "requests": self.requests,
            "unauthorized": self.unauthorized,
            **self.passwords,
        }


class PbxInstance:
    """One simulated PBX: its objects, device configuration, Devices app, phones and counters."""

    def __init__(self, name, domain, options, state_path=None):
        self.name = name
        self.domain = domain
        self.latency_ms = options.latency_ms
        self.state_path = state_path
        self.config = cfg.DeviceConfig()
        self.pbx = model.Pbx(self.config, options.pbx_password)
        self.stats = Stats()
        self.faults = faults.Faults()
        self.auth = digest.DigestAuth(REALM, {HTTP_USER: [options.admin_password, options.pbx_password]},
                                      nonce_ttl=options.nonce_ttl, allow_basic=options.basic,
                                      basic_only=options.basic_only)
        self.devices = devices.DevicesApp(self, domain, options.devices_password, dict(options.domain_password),
                                          options.devices_app)
        self.phones = phones.PhoneFleet(self)
        self.pbxapps = pbxapps.PbxApps(self, options.app_name, options.app_password, options.port_licenses,
                                       options.reverse_proxy)
        self.identity = {"GatekeeperID": name, "Location": name, "FirmwareVersion": FIRMWARE,
                         "SerialNumber": "pbxsim-" + name}
        self.recording = None         # a list while /_sim/record is on (benchmark replays)
        self._ws_sessions = {}        # Devices session -> its number in the recording (held while recording)
        self.listener = None          # the Listener serving this PBX (set by serve()), closed while it reboots
        self.boots = 0                # how often the PBX rebooted (a request of an earlier boot is dropped)
        self.down = None              # while rebooting: "refuse" or "reset", what new connections get
        self._tasks = set()           # reboots under way
        self.load()

    def record(self, entry):
        """Keep one request of the recording (when on), as it arrived."""
        if self.recording is not None:
            self.recording.append(entry)

    def record_message(self, session, text):
        """Keep one Devices WebSocket message, with the number of the session that sent it."""
        if self.recording is not None:
            number = self._ws_sessions.setdefault(session, len(self._ws_sessions) + 1)
            self.record({"kind": "ws", "session": number, "text": text,
                         "path": session.request.path if session.request is not None else None})

    def start_recording(self):
        self.recording = []
        self._ws_sessions = {}

    def stop_recording(self):
        recording, self.recording, self._ws_sessions = self.recording, None, {}
        return recording or []

    async def latency(self):
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000.0)

    def save(self):
        if self.state_path:
            persistence.save(self.state_path, {
                "pbx": self.pbx.to_json(), "config": model.compact(self.config.to_dict()),
                "devices": model.compact(self.devices.to_dict()), "phones": model.compact(self.phones.to_dict()),
            })

    def load(self):
        state = persistence.load(self.state_path) if self.state_path else None
        if state is None:
            self.save()
            return
        self.pbx.load_dict(state["pbx"])
        self.config.load_dict(state["config"])
        self.devices.load_dict(state["devices"])
        self.phones.load_dict(state["phones"])

    def reset(self):
        """Factory state; faults and counters are cleared too."""
        self.config.reset()
        self.pbx.reset()
        self.devices.reset()
        self.phones.reset()
        self.pbxapps.reset()
        self.faults.clear()
        self.stats.reset()
        self.save()

    def reboot(self):
        """The PBX restarts: unwritten config and all registrations are lost, phones register again."""
        self.config.reboot()
        self.pbx.drop_registrations()
        self.phones.on_pbx_reboot()
        self.save()

    async def full_reboot(self, down_ms, mode, keep=None):
        """A reboot as a client sees it: every connection (keep-alive, WebSocket) dropped, digest nonces and
        Devices sessions forgotten, unwritten configuration lost (reboot()); for down_ms the PBX refuses
        connections (mode "refuse": nothing listens) or resets every request (mode "reset"), then it answers
        again. `keep` is a transport that stays open (the control call that asked for the reboot)."""
        self.boots += 1
        boot = self.boots
        self.down = mode
        self.auth.restart()
        self.devices.drop_sessions()
        self.pbxapps.drop_sessions()
        self.reboot()
        if self.listener is not None:
            if mode == "refuse":
                await self.listener.stop()
            self.listener.drop_connections(keep)
        await asyncio.sleep(down_ms / 1000.0)
        if boot != self.boots:
            return                    # another reboot began meanwhile: it brings the PBX back
        if self.listener is not None and mode == "refuse":
            await self.listener.start()
        self.down = None
        LOG.info("%s: up again after a reboot of %d ms", self.name, down_ms)

    def start_reboot(self, down_ms, mode, keep=None):
        task = asyncio.get_running_loop().create_task(self.full_reboot(down_ms, mode, keep))
        self._tasks.add(task)          # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)


def reset_connection(request):
    """Close the client's connection with a TCP RST, as a crashing box would."""
    if request.transport is not None:
        faults.abort(request.transport)


def text_response(text, status=200, content_type="text/plain", headers=None):
    return web.Response(text=text, status=status, content_type=content_type, charset="utf-8", headers=headers)


def connection_closed(request):
    transport = request.transport
    return transport is None or transport.is_closing()


def truncated(response):
    """An XML answer cut in the middle (its HTTP framing intact); any other answer as it is."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or "xml" not in (response.content_type or ""):
        return response
    return web.Response(body=body[:len(body) // 2], status=response.status, content_type=response.content_type,
                        charset=response.charset or "utf-8")


class Listener:
    """The listening socket of one PBX, which a reboot closes and opens again on the same port."""

    def __init__(self, runner, host, port, ssl_context):
        self.runner = runner
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.site = None

    async def start(self):
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            site = web.TCPSite(self.runner, self.host, self.port, ssl_context=self.ssl_context)
            try:
                await site.start()
            except OSError:
                # Only on a reboot: some socket took the port meanwhile; try again for a while.
                if not self.port or asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(POLL)
                continue
            self.site = site
            self.port = self.runner.addresses[-1][1]
            return

    async def stop(self):
        if self.site is not None:
            site, self.site = self.site, None
            await site.stop()

    def drop_connections(self, keep=None):
        """Reset every open connection (HTTP keep-alive and WebSocket alike) but `keep`."""
        for handler in list(self.runner.server.connections):
            transport = handler.transport
            if transport is not None and transport is not keep:
                faults.abort(transport)


class PbxHttp:
    """The HTTP side of one PbxInstance: middleware, authentication and the PBX routes."""

    def __init__(self, instance, control_token):
        self.instance = instance
        self.control_token = control_token

    def application(self):
        app = web.Application(middlewares=[self.middleware], client_max_size=16 * 1024 * 1024)
        app.router.add_post("/PBX0/user.soap", self.authenticated(self.soap))
        app.router.add_get("/PBX0/ADMIN/mod_cmd_login.xml", self.authenticated(self.bulk))
        app.router.add_get("/cfg.txt", self.authenticated(self.cfg_txt))
        app.router.add_get("/{command:!.*}", self.authenticated(self.command))
        app.router.add_get("/%s/devices" % self.instance.domain, self.instance.devices.handle_websocket)
        # The PBX's AppWebsocket: no digest auth, the App object's AppLogin authenticates.
        app.router.add_get(pbxapps.PATH, self.instance.pbxapps.handle_websocket)
        # Device passthrough: no digest auth, the session key in the path authenticates.
        app.router.add_get(self.instance.devices.passthrough_prefix() + "{rest:.*}",
                           self.instance.devices.handle_passthrough)
        # The Devices UI page and its script: no digest auth (the App Platform's files of an app).
        app.router.add_get(self.instance.devices.ui_prefix() + "{file:%s|%s}" % (devices.UI_APP, devices.UI_SCRIPT),
                           self.instance.devices.handle_ui)
        app.router.add_routes(control.Control(self.instance).routes(CONTROL_PREFIX))
        return app

    @web.middleware
    async def middleware(self, request, handler):
        if request.path.startswith(CONTROL_PREFIX):
            token = request.headers.get("X-Sim-Token", "")
            if self.control_token is None:
                raise web.HTTPNotFound(text="control API disabled (start with --control)")
            if not hmac.compare_digest(token, self.control_token):
                raise web.HTTPForbidden(text="wrong or missing X-Sim-Token")
            return await handler(request)
        instance = self.instance
        if instance.down is not None:            # rebooting: nothing answers yet
            reset_connection(request)
            return web.Response(status=500)      # never reaches the client
        boot = instance.boots
        instance.stats.request()
        await instance.latency()
        has_digest = request.headers.get("Authorization", "").lower().startswith("digest ")
        cut = False
        for rule in instance.faults.fire(faults.HTTP, request.path, digest=has_digest,
                                         soap=has_digest and request.path == SOAP_PATH,
                                         xml=has_digest and request.path in XML_PATHS):
            kind = rule["kind"]
            if kind == "delay":
                await request.read()         # the PBX has the request: it carries it out even if the client gives up
                await asyncio.sleep(rule["delay_ms"] / 1000.0)
            elif kind == "stale_nonce":
                request["force_stale"] = True
            elif kind == "truncated_xml":
                cut = True
            elif kind == "silent":
                return await self.hold(request)
            elif kind in ("reset", "reboot"):
                if kind == "reboot":
                    instance.start_reboot(rule["down_ms"], rule["mode"])
                reset_connection(request)
                return web.Response(status=500)  # never reaches the client
            elif kind == "http503":
                return text_response("service unavailable (injected)", 503,
                                     headers={"Retry-After": str(rule["retry_after"])})
            elif kind == "html":
                return text_response(HTML_PAGE, content_type="text/html")
            elif kind == "soap_fault":
                return web.Response(status=rule["status"], content_type="text/xml", charset="utf-8",
                                    body=soap.fault("soap:Server", "internal error (injected)"))
            else:
                return text_response("internal server error (injected)", 500)
        if boot != instance.boots:               # the PBX rebooted while this request waited
            reset_connection(request)
            return web.Response(status=500)
        response = await handler(request)
        return truncated(response) if cut else response

    async def hold(self, request):
        """Read the request and never answer it: hold the connection until the client gives up (or the PBX
        reboots, or SILENT_HOLD passed)."""
        await request.read()
        boot, loop = self.instance.boots, asyncio.get_running_loop()
        deadline = loop.time() + SILENT_HOLD
        while not connection_closed(request) and boot == self.instance.boots and loop.time() < deadline:
            await asyncio.sleep(POLL)
        reset_connection(request)
        return web.Response(status=500)          # never reaches the client

    def authenticated(self, handler):
        async def check(request):
            auth = self.instance.auth
            verdict = auth.check(request.method, request.raw_path, request.headers.get("Authorization"),
                                 force_stale=request.get("force_stale", False))
            if verdict != digest.OK:
                self.instance.stats.unauthorized += 1
                response = text_response("401 Unauthorized", 401)
                for value in auth.challenge(stale=verdict == digest.STALE):
                    response.headers.add("WWW-Authenticate", value)
                return response
            if self.instance.recording is not None:
                self.instance.record({
                    "kind": "http", "method": request.method, "path": request.raw_path,
                    "headers": {name: request.headers[name] for name in RECORDED_HEADERS if name in request.headers},
                    "body": (await request.read()).decode("utf-8", errors="replace")})
            async with self.instance.faults.holds.http(request) as verdict:
                if verdict == holds.DROP:
                    reset_connection(request)
                    return web.Response(status=500)  # never reaches the client
                return await handler(request)
        return check

    async def soap(self, request):
        instance = self.instance
        try:
            operation, args = soap.parse_call(await request.read())
            answer, write = soap.call(instance.pbx, instance.identity, operation, args, instance.stats.passwords)
        except soap.SoapFault as exc:
            instance.stats.count("soap", False)
            return web.Response(status=500, body=soap.fault(exc.code, str(exc)), content_type="text/xml",
                                charset="utf-8")
        instance.stats.count("soap", write)
        if write:
            instance.save()
        return web.Response(body=answer, content_type="text/xml", charset="utf-8")

    async def bulk(self, request):
        self.instance.stats.count("bulk", False)
        try:
            answer = soap.bulk(self.instance.pbx, request.query)
        except soap.BulkQueryError as exc:
            return text_response(soap.error_answer(str(exc)), 400, "text/xml")
        return text_response(answer, content_type="text/xml")

    async def cfg_txt(self, request):
        layer = cfg_layer(request.query.get(wn.CFG_LAYER_PARAMETER))
        if layer is None:
            return text_response("unknown layer", 400)
        self.instance.stats.count("cfgtxt", False)
        return text_response(self.instance.config.text(layer))

    async def command(self, request):
        self.instance.stats.count("config", True)
        command = urllib.parse.unquote(request.raw_path.partition("?")[0][len("/!"):])
        try:
            self.instance.config.run(command)
        except cfg.ConfigError as exc:
            return text_response("%s %s" % (wn.COMMAND_ERROR, exc))
        self.instance.save()
        return text_response(wn.COMMAND_OK)


def tls_context(ca_file):
    """A server context with a certificate for 127.0.0.1/localhost from a throwaway CA written to ca_file."""
    import trustme  # pylint: disable=import-outside-toplevel  # only needed with --tls

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    authority.cert_pem.write_to_path(ca_file)
    return context


def write_ready(path, info):
    line = json.dumps(info)
    print(line, flush=True)
    if path:
        temp = path + ".tmp"
        with open(temp, "w", encoding="utf-8") as stream:
            stream.write(line + "\n")
        os.replace(temp, path)


def state_path(options, name):
    """One state file per PBX: the --state file itself, or <dir>/<name>.json with --count > 1."""
    if not options.state:
        return None
    if options.count == 1:
        return options.state
    os.makedirs(options.state, exist_ok=True)
    return os.path.join(options.state, name + ".json")


def domain_of(options, number):
    if options.domain:
        return options.domain if options.count == 1 else "site%d.%s" % (number, options.domain)
    return "example.com" if options.count == 1 else "site%d.example.com" % number


async def serve(options):
    """Start every PBX, write the ready line, serve until SIGTERM or SIGINT."""
    scheme, context, ca_file, temp_dir = "http", None, None, None
    if options.tls:
        ca_file = options.ca_file
        if not ca_file:
            temp_dir = tempfile.mkdtemp(prefix="pbxsim-ca-")
            ca_file = os.path.join(temp_dir, "ca.pem")
        context = tls_context(ca_file)
        scheme = "https"
    runners, pbxs = [], []
    try:
        for number in range(1, options.count + 1):
            name = "pbx%d" % number
            instance = PbxInstance(name, domain_of(options, number), options, state_path(options, name))
            runner = web.AppRunner(PbxHttp(instance, options.control_token).application(), access_log=None)
            await runner.setup()
            runners.append(runner)
            instance.listener = Listener(runner, options.host, options.port + number - 1 if options.port else 0,
                                         context)
            await instance.listener.start()
            port = instance.listener.port
            url = "%s://%s:%d" % (scheme, options.host, port)
            pbxs.append({
                "name": name, "url": url, "devices_url": "ws%s/%s/devices" % (url[len("http"):], instance.domain),
                "devices_domain": instance.domain, "ca": ca_file, "control_token": options.control_token,
                "apps_url": "ws%s%s" % (url[len("http"):], pbxapps.PATH), "app_name": options.app_name,
            })
        write_ready(options.ready_file, dict(pbxs[0], pbxs=pbxs))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        for runner in runners:
            await runner.cleanup()
        if temp_dir:
            os.unlink(ca_file)
            os.rmdir(temp_dir)
