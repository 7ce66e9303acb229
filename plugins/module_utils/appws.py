# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AppWebsocket client (reference 3): one connection per module run.

AppChallenge/AppLogin, then JSON requests whose `<mt>Result` answers are matched by `src`; an answer may come
in several messages until `last: true`, and may be preceded by part messages of another type with the same `src`
(GetDeviceConfigValueResult before GetDeviceConfigResult). Messages that answer nothing we wait for (events such
as DeviceProvisioned) are kept for wait_for(). Every error message is free of secrets.

What is retried (issue 12, as transport.py does for HTTP). Opening the connection is tried ATTEMPTS times with backoff
while it is refused, reset or answered 429/502/503/504 (a PBX rebooting). A request the app may repeat without harm
(`idempotent`: the documented reads, and what the caller says) is sent again on a new connection when the connection
broke, and once more when no (complete) answer came within `timeout`; any other request fails with a message that
says the app may or may not have carried it out. A request whose message never went out is always sent again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import select
import ssl
import threading
import time
import traceback

from ansible_collections.innovaphone.pbx.plugins.module_utils.crypto import applogin_digest
from ansible_collections.innovaphone.pbx.plugins.module_utils.endpoint import DEVICES_SCHEMES, Endpoint, option_named
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import redact_text
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import (
    ATTEMPTS, TIMEOUT_ATTEMPTS, PbxError, backoff_seconds)
from ansible_collections.innovaphone.pbx.plugins.module_utils.wsframes import (
    ClosedByPeer, FrameReader, client_frame, client_frames)

try:
    import websocket
    HAS_WEBSOCKET = True
    WEBSOCKET_IMPORT_ERROR = None
except ImportError:
    HAS_WEBSOCKET = False
    WEBSOCKET_IMPORT_ERROR = traceback.format_exc()

RESULT_SUFFIX = "Result"
# Keys an answer uses for a refusal (reference 3 and 4).
ERROR_KEYS = ("error", "errorText")
# The documented requests that only read (reference 4): sent again when their answer went missing.
READS = frozenset(("GetUserInfo", "GetLoginInfo", "GetDomains", "GetProvisioningCategories", "GetProvisionedDevice",
                   "GetDevices", "GetFilteredDevices", "GetDeviceConfigs", "GetDeviceConfig"))
# Upgrade answers of a server that may come back (a PBX starting, a proxy without it): opening is tried again.
RETRY_UPGRADE_STATUSES = (429, 502, 503, 504)
RERUN = "a re-run reads first and converges"


class AppWsError(PbxError):
    """The app could not be reached, refused the login, or answered badly; the message holds no secret.

    A PbxError, so that modules report it like every other failure of the PBX side. `retry`: trying to connect
    again may help.
    """

    retry = False


class Lost(AppWsError):
    """The connection broke during a request; `sent` says whether the request went out before."""

    def __init__(self, message, sent):
        super(Lost, self).__init__(message)
        self.sent = sent


class NoAnswer(AppWsError):
    """No (complete) answer within the timeout."""


class AppRequestError(AppWsError):
    """The app answered a request with an error; `mt` is the request, `text` the app's reason."""

    def __init__(self, message, mt, text):
        super(AppRequestError, self).__init__(message)
        self.mt = mt
        self.text = text


def ssl_context(validate_certs=True, ca_path=None):
    """The TLS context for wss: the system CAs, or ca_path (a file or a directory), or no checks at all."""
    if not validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_path and os.path.isdir(ca_path):
        return ssl.create_default_context(capath=ca_path)
    return ssl.create_default_context(cafile=ca_path or None)


def error_text(message):
    """The refusal an answer carries, or None."""
    for key in ERROR_KEYS:
        if message.get(key):
            return str(message[key])
    return None


class AppWebsocket:
    """A logged-in AppWebsocket connection to one app (the Devices app, for this collection).

    Use as a context manager, or call open() and close(). `connect` replaces websocket.create_connection
    (tests hand in a fake).
    """

    def __init__(self, url, password, domain, app, validate_certs=True, ca_path=None, timeout=30,
                 connect=None, secrets=(), sleep=time.sleep, peer="the app", option="devices_url"):
        self.endpoint = Endpoint(option, url, DEVICES_SCHEMES)
        self.url = url
        self.where = "%s at %s" % (peer, url)   # how messages name the app: "the Devices app at wss://…"
        self.domain = domain
        self.app = app
        self.timeout = timeout
        self._password = password
        self._validate_certs = validate_certs
        self._ca_path = ca_path
        self._connect = connect
        self._secrets = [password] + [s for s in secrets if s]
        self._conn = None
        self._reader = None     # the frames of _conn's socket (wsframes); None for a connection without one
        self._sleep = sleep
        self.login_domain = None
        self.connections = 0          # logins so far: a new one means a new session (and passthrough key)
        self._src = 0
        self._unanswered = []
        # Requests of several threads in flight at once (post/collect): their answers go to them by `src`.
        self._state = threading.Condition()
        self._io = threading.Lock()         # one send or receive at a time: a TLS socket takes no more
        self._slots = {}                    # src -> {"mt", "parts", "messages", "done"}
        self._abandoned = set()             # srcs given up after a timeout: their late answers are dropped
        self._receiving = False             # one thread receives for all
        self._generation = 0                # logins so far: a request of an older one has lost its connection

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()

    def error(self, message):
        """An AppWsError whose message holds none of the secrets this client knows."""
        return AppWsError(redact_text(message, self._secrets))

    # --- connection ------------------------------------------------------------------------------
    def open(self):
        """Connect and log in; AppWsError when either fails (after the retries, module docstring)."""
        attempt = 0
        while self._conn is None:
            try:
                self._use(self._open_socket())
                self._login()
                self.connections += 1
                self._generation += 1
            except AppWsError as exc:
                self.close()
                attempt += 1
                if not exc.retry:
                    raise
                if attempt >= ATTEMPTS:
                    raise self.error("%s (%d attempts)" % (exc, attempt))
                self._sleep(backoff_seconds(attempt - 1))
        return self

    def _open_socket(self):
        connect = self._connect or websocket.create_connection
        # Text frames are decoded as UTF-8 (strictly) by recv() anyway; websocket-client's own check before that is
        # pure Python and cost more than the rest of reading a large table.
        options = {"timeout": self.timeout, "skip_utf8_validation": True}
        if self.endpoint.encrypted:
            options["sslopt"] = {"context": ssl_context(self._validate_certs, self._ca_path)}
        try:
            return connect(self.url, **options)
        except ssl.SSLError as exc:
            # Before anything was sent: the handshake failed.
            raise self.error(self.endpoint.tls_error(exc))
        except Exception as exc:  # websocket-client raises its own types as well as OSError
            raise self._open_error(exc)

    def _use(self, conn):
        """Send and receive on `conn`: our own frames on its socket (wsframes), its send/recv when it has none (a
        test's fake)."""
        self._conn = conn
        sock = getattr(conn, "sock", None)
        # The reader's own frames (a pong, the answer to a close) go out as ours do: under the lock, within timeout.
        self._reader = FrameReader(sock, lambda data: self._write(conn, data)) if sock is not None else None

    def _open_error(self, exc):
        """The error of a failed connect, marked `retry` when trying again may help."""
        status = getattr(exc, "status_code", None)
        headers = dict((str(k).lower(), str(v)) for k, v in (getattr(exc, "resp_headers", None) or {}).items())
        reason = "HTTP %s" % status if status else str(exc) or type(exc).__name__
        closed = HAS_WEBSOCKET and isinstance(exc, websocket.WebSocketConnectionClosedException)
        if (closed or status == 400) and not self.endpoint.encrypted and self.endpoint.speaks_tls(self.timeout):
            return self.error(self.endpoint.tls_port_error(reason))
        if status and status < 300 and "html" in headers.get("content-type", ""):
            error = self.error("%s answered the WebSocket upgrade with an HTML page (HTTP %s): a reverse proxy or "
                               "a login page?" % (self.where, status))
        elif status:
            error = self.error("cannot open the AppWebsocket %s: HTTP %s" % (self.url, status))
            error.retry = status in RETRY_UPGRADE_STATUSES
        else:
            error = self.error("cannot open the AppWebsocket %s: %s" % (self.url, reason))
            error.retry = isinstance(exc, (OSError, websocket.WebSocketException)) if HAS_WEBSOCKET else True
        return error

    def answers_challenge(self):
        """Whether an AppWebsocket answers here: an AppChallenge without a login, then the connection closes.
        AppWsError when the connection cannot be opened."""
        self._use(self._open_socket())
        try:
            return bool(self._exchange("AppChallenge", {})[0].get("challenge"))
        except (Lost, NoAnswer) as exc:
            raise self.error("%s did not answer AppChallenge: %s" % (self.where, exc))
        finally:
            self.close()

    def reconnect(self):
        """A new connection and login, after the old one broke (the app's session is a new one)."""
        self.close()
        self.open()

    def close(self):
        conn, self._conn, self._reader = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-except
                pass  # closing a broken connection has nothing left to report

    def _login(self):
        try:
            challenge = self._exchange("AppChallenge", {})[0].get("challenge")
            if not challenge:
                raise self.error("%s sent no AppChallenge challenge" % self.where)
            login = {"app": self.app, "domain": self.domain, "sip": "", "guid": "", "dn": ""}
            login["digest"] = applogin_digest(self._password, challenge, **login)
            answer = self._exchange("AppLogin", login)[0]
        except (Lost, NoAnswer) as exc:
            raise self.error("logging in to %s failed: %s" % (self.url, exc))
        if answer.get("ok") is not True:
            raise self.error("AppLogin as app %s in domain %s at %s refused: %s; check %s" % (
                self.app, self.domain, self.url, error_text(answer) or "wrong password or domain",
                ", ".join(option_named(option) for option in ("devices_url", "devices_domain", "devices_password"))))
        # The domain the login got (reference 3): the instance password logs in whatever domain was sent.
        self.login_domain = answer.get("domain") or None

    # --- messages --------------------------------------------------------------------------------
    def _connection(self):
        if self._conn is None:
            raise AppWsError("the AppWebsocket to %s is not open" % self.url)
        return self._conn

    def _send(self, message):
        conn = self._connection()
        try:
            if self._reader is None:
                conn.send(json.dumps(message))
            else:
                self._write(conn, client_frame(json.dumps(message)))
        except Exception as exc:  # websocket-client and socket errors alike
            raise Lost(redact_text("sending %s to %s failed: %s" % (message.get("mt"), self.url, exc),
                                   self._secrets), sent=False)

    def _write(self, conn, data):
        """Frames onto the socket, within `timeout`: a read before may have left the socket a shorter one."""
        with conn.lock:     # websocket-client's own, as its send() takes it
            conn.sock.settimeout(self.timeout)
            conn.sock.sendall(data)

    def _send_all(self, messages):
        """_send() of every message, in one write when the connection has a socket: a system call (and a wake-up
        of the peer) per message cost more than building the messages."""
        conn = self._connection()
        if len(messages) == 1 or self._reader is None:
            for message in messages:
                self._send(message)
            return
        frames = client_frames([json.dumps(message) for message in messages])
        try:
            self._write(conn, frames)
        except Exception as exc:  # socket and TLS errors alike
            # Some of them may have gone out: every one is marked sent, as the caller cannot tell which.
            raise Lost(redact_text("sending %d requests (%s) to %s failed: %s" % (
                len(messages), ", ".join(sorted(set(m.get("mt") for m in messages))), self.url, exc),
                self._secrets), sent=True)

    def _receive(self, deadline, waiting_for):
        """The next message, or None once the deadline has passed."""
        conn = self._connection()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            if self._reader is not None:
                text = self._reader.receive(deadline)
                if text is None:
                    return None
            else:
                conn.settimeout(remaining)
                text = conn.recv()
        except ClosedByPeer:
            text = ""
        except Exception as exc:  # pylint: disable=broad-except
            if HAS_WEBSOCKET and isinstance(exc, websocket.WebSocketTimeoutException):
                return None
            raise Lost(redact_text("the connection to %s was lost while waiting for %s: %s" % (
                self.where, waiting_for, str(exc) or type(exc).__name__), self._secrets), sent=True)
        return self._decoded(text, waiting_for)

    def _decoded(self, text, waiting_for):
        """The JSON object of a message's text; Lost for the empty text of a closed connection."""
        if not text:
            # A close frame (answered) gives an empty string, from wsframes and websocket-client alike.
            raise Lost(redact_text("%s closed the connection while we waited for %s" % (self.where, waiting_for),
                                   self._secrets), sent=True)
        try:
            message = json.loads(text)
        except ValueError:
            raise self.error("%s sent a message that is not JSON" % self.where)
        if not isinstance(message, dict):
            raise self.error("%s sent a message that is not a JSON object" % self.where)
        return message

    def _exchange(self, mt, fields, parts=()):
        """Send one request and return every message of its answer (one, or pages until `last`), with the part
        messages (of a type in `parts`) that came before it."""
        self._src += 1
        src = str(self._src)
        self._send(dict(fields, mt=mt, src=src))
        deadline = time.monotonic() + self.timeout
        answer = []
        while True:
            message = self._receive(deadline, "%s%s" % (mt, RESULT_SUFFIX))
            if message is None:
                if answer:
                    raise NoAnswer(redact_text(
                        "%s sent %d message%s of its answer to %s but not the last one (last: true) within %s "
                        "seconds" % (self.where, len(answer), "" if len(answer) == 1 else "s", mt, self.timeout),
                        self._secrets))
                raise NoAnswer(redact_text("%s did not answer %s within %s seconds" % (self.where, mt, self.timeout),
                                           self._secrets))
            kind = message.get("mt")
            if message.get("src") != src or (kind != mt + RESULT_SUFFIX and kind not in parts):
                self._unanswered.append(message)
                continue
            answer.append(message)
            if kind == mt + RESULT_SUFFIX and message.get("last", True) is not False:
                return answer

    def _exchange_again(self, mt, fields, parts, idempotent):
        """_exchange, on a new connection after one broke when that is safe, once more after a timeout if
        `idempotent` (module docstring)."""
        def again(failure):
            try:
                self.reconnect()
            except AppWsError as exc:
                raise self.error("%s; connecting again failed: %s" % (failure, exc))
        return self._retried(mt, idempotent, lambda: self._exchange(mt, fields, parts), again)

    def _retried(self, mt, idempotent, send, again):
        """send() until it returns: after a broken connection when that is safe, after a timeout once more if
        `idempotent`; again(failure) prepares the next attempt (after a backoff when the connection broke)."""
        timeouts = 0
        for attempt in range(ATTEMPTS):
            try:
                return send()
            except Lost as exc:
                if exc.sent and not idempotent:
                    raise self.error("%s; it may or may not have carried out %s, so it was not sent again (%s)" % (
                        exc, mt, RERUN))
                if attempt == ATTEMPTS - 1:
                    raise self.error("%s (%d attempts)" % (exc, ATTEMPTS))
                self._sleep(backoff_seconds(attempt))
                again(exc)
            except NoAnswer as exc:
                if not idempotent:
                    raise self.error("%s; not sent again, since the app may still carry it out (%s)" % (exc, RERUN))
                timeouts += 1
                if timeouts >= TIMEOUT_ATTEMPTS:
                    raise self.error("%s (%d attempts)" % (exc, timeouts))
                again(exc)
        raise self.error("%s did not answer %s" % (self.where, mt))  # not reached: the last attempt raises

    def request(self, mt, parts=(), idempotent=None, **fields):
        """Send a request; return the messages of its answer (part messages first); AppRequestError when the
        app refuses it. `idempotent` (default: the documented reads are) says whether it may be sent twice."""
        idempotent = mt in READS if idempotent is None else idempotent
        return self.checked(mt, self._exchange_again(mt, fields, parts, idempotent))

    # --- requests of several threads on the one connection ------------------------------------------
    def post(self, mt, parts=(), **fields):
        """Send a request without waiting for its answer; the ticket collect() takes. Thread-safe: every thread
        may have requests in flight at once, each answer goes to its request by `src` (reference 3)."""
        return self.post_all([(mt, fields)], parts)[0]

    def post_all(self, requests, parts=()):
        """post() of every request (mt, fields) of `requests`, sent at once; their tickets in that order."""
        with self._state:
            self.open()
            generation = self._generation
            deadline = time.monotonic() + self.timeout
            messages = []
            for mt, fields in requests:
                self._src += 1
                src = str(self._src)
                self._slots[src] = {"mt": mt, "parts": tuple(parts), "messages": [], "done": False}
                messages.append(dict(fields, mt=mt, src=src))
            try:
                with self._io:
                    self._send_all(messages)
            except Lost:
                for message in messages:
                    del self._slots[message["src"]]
                self._broken(generation)
                raise
        return [(message["src"], generation, message["mt"], deadline) for message in messages]

    def collect(self, ticket):
        """The messages of a posted request's answer (part messages first). Lost when the connection broke
        before the answer came, NoAnswer when it did not come within `timeout`; one waiting thread receives
        for all, the others wait for it to hand them their answers."""
        src, generation, mt, deadline = ticket
        with self._state:
            while True:
                slot = self._slots.get(src)
                if slot is not None and slot["done"]:
                    del self._slots[src]
                    return slot["messages"]
                if slot is None or self._conn is None or self._generation != generation:
                    self._slots.pop(src, None)
                    raise Lost(redact_text("the connection to %s was lost while waiting for %s%s" % (
                        self.where, mt, RESULT_SUFFIX), self._secrets), sent=True)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    del self._slots[src]
                    self._abandoned.add(src)
                    raise NoAnswer(redact_text("%s did not answer %s within %s seconds" % (
                        self.where, mt, self.timeout), self._secrets))
                if self._receiving:
                    self._state.wait(remaining)
                    continue
                self._receive_for_all(generation, remaining, mt)

    def _receive_for_all(self, generation, remaining, mt):
        """One message received (called and returning with the state held), handed to the request it answers;
        waits for at most `remaining` seconds. A broken connection ends every request in flight on it."""
        self._receiving = True
        conn = self._conn
        self._state.release()
        messages, lost = [], None
        try:
            if self._readable(conn, remaining):
                with self._io:
                    message = self._receive(time.monotonic() + remaining, mt + RESULT_SUFFIX)
                    if message is not None:
                        messages = [message] + self._received(mt + RESULT_SUFFIX)
        except Lost as exc:
            lost = exc
        except AppWsError as exc:       # closed under us by a thread whose send failed
            if isinstance(exc, (NoAnswer, AppRequestError)) or self._conn is conn:
                raise
            lost = Lost(str(exc), sent=True)
        finally:
            self._state.acquire()
            self._receiving = False
            self._state.notify_all()
        if lost is not None:
            self._broken(generation)
            raise lost
        for message in messages:
            self._dispatch(message)

    def _received(self, waiting_for):
        """The messages that have come whole already, handed out together: a replication's rows arrive many to a
        read. A close among them is left for the next _receive() to report."""
        messages = []
        while self._reader is not None:
            try:
                text = self._reader.buffered()
            except ClosedByPeer:
                break
            if text is None:
                break
            messages.append(self._decoded(text, waiting_for))
        return messages

    def _readable(self, conn, timeout):
        """Whether a message has begun to arrive, waiting up to `timeout` without holding the connection (so
        that other threads send meanwhile); a connection without a socket to poll (a test's fake): True."""
        sock = getattr(conn, "sock", None)
        if sock is None or (self._reader is not None and self._reader.pending()):
            return True
        pending = getattr(sock, "pending", None)
        if pending is not None and pending():
            return True   # TLS: decrypted bytes wait in the SSL object, which select() does not see
        try:
            return bool(select.select([sock], [], [], max(0.0, timeout))[0])
        except (OSError, ValueError):
            return True    # closed meanwhile: receiving says so

    def _dispatch(self, message):
        src = message.get("src")
        slot = self._slots.get(src)
        if slot is None:
            if src not in self._abandoned:
                self._unanswered.append(message)   # an event, or an answer to a request of request()
            return
        kind = message.get("mt")
        if kind != slot["mt"] + RESULT_SUFFIX and kind not in slot["parts"]:
            self._unanswered.append(message)
            return
        slot["messages"].append(message)
        if kind == slot["mt"] + RESULT_SUFFIX and message.get("last", True) is not False:
            slot["done"] = True
            self._state.notify_all()

    def _broken(self, generation):
        """The connection of login `generation` broke: closed, so that the next post() logs in again."""
        if self._generation == generation and self._conn is not None:
            self.close()
        self._state.notify_all()

    def shared(self, mt, idempotent=None, parts=(), **fields):
        """request() for several threads at once on the one connection, each request sent as soon as it is made
        (post/collect). Retries as request(), but after a timeout on the same connection (the other threads'
        requests are still in flight on it); after a broken one, post() logs in again."""
        idempotent = mt in READS if idempotent is None else idempotent
        return self.checked(mt, self._retried(mt, idempotent, lambda: self.collect(self.post(mt, parts, **fields)),
                                              lambda failure: None))

    def checked(self, mt, answer):
        """The messages of an answer; AppRequestError when one of them carries a refusal."""
        for message in answer:
            text = error_text(message)
            if text is not None:
                text = redact_text(text, self._secrets)
                raise AppRequestError("%s refused %s: %s" % (self.where, mt, text), mt, text)
        return answer

    def shared_wait_for(self, mt, seconds):
        """wait_for() among threads that have requests in flight: the first event `mt` within `seconds`."""
        deadline = time.monotonic() + seconds
        with self._state:
            while True:
                for message in self._unanswered:
                    if message.get("mt") == mt:
                        self._unanswered.remove(message)
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._conn is None:
                    return None
                if self._receiving:
                    self._state.wait(remaining)
                else:
                    self._receive_for_all(self._generation, remaining, mt)

    def items(self, mt, key, **fields):
        """The list `key` of a (possibly paged) answer, every page joined."""
        joined = []
        for message in self.request(mt, **fields):
            joined.extend(message.get(key) or [])
        return joined

    def wait_for(self, mt, seconds, match=None):
        """The first message `mt` (an event) that `match` accepts, within `seconds`; None if none came."""
        def wanted(message):
            return message.get("mt") == mt and (match is None or match(message))

        for message in self._unanswered:
            if wanted(message):
                self._unanswered.remove(message)
                return message
        deadline = time.monotonic() + seconds
        while True:
            message = self._receive(deadline, mt)
            if message is None:
                return None
            if wanted(message):
                return message
            self._unanswered.append(message)
