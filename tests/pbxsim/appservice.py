# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server side of an AppWebsocket service, shared by the Devices app (devices.py) and the PBX's own
AppWebsocket (pbxapps.py): sessions with an ordered outbox, message decoding, faults and holds per message,
dispatch to a handler, errors as an `error` property of the result, events after the answers.

A service subclass gives `handlers()` ({mt: (handler, writes)}), `new_session(ws, request)`, `logged_in(session)`
and may override `on_close(session)`, `lookup(message)` and `without_end(mt, answers)`.
"""

import asyncio
import contextlib
import json
import logging
import struct

from aiohttp import WSMsgType, web

from . import appws, faults, holds

LOGIN_MESSAGES = ("AppChallenge", "AppLogin")   # the only ones a session may send before its login
CLOSE = object()                                 # in an outbox: close the connection once the answers before are out
CLOSE_CODE = 1011                                # RFC 6455 "unexpected condition" (the `ws_close` fault)
ERROR_KEY = "error"                              # every result may carry `error` (reference 3, 4 and 6.1)

log = logging.getLogger(__name__)


def text_frame(payload):
    """A final, unmasked text frame from server to client (RFC 6455 5.2)."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, length)
    else:
        head = struct.pack("!BBQ", 0x81, 127, length)
    return head + payload


class ServiceError(Exception):
    """A refusal: answered as the `error` property of the request's result."""


class Session:
    """One AppWebsocket connection: its challenge and its outbox (services add their own state).

    Every message to the client goes through the outbox, so answers and events keep their order.
    """

    def __init__(self, ws, request=None):
        self.ws = ws
        self.request = request        # the upgrade request (its path and transport, for faults)
        self.closing = False          # a fault closes it: later messages are not answered
        self.challenge = None
        self.outbox = asyncio.Queue()

    def push(self, message):
        self.outbox.put_nowait(message)

    def close_soon(self):
        """Close the connection (a close frame) once the answers already in the outbox are out."""
        self.closing = True
        self.push(CLOSE)

    async def write(self):
        """Send the outbox in order until the connection ends: what is waiting in one write, as a box that
        answers many requests at once does (a socket write per answer cost pbxsim more than making the answer)."""
        while True:
            batch = [await self.outbox.get()]
            while batch[-1] is not CLOSE and not self.outbox.empty():
                batch.append(self.outbox.get_nowait())
            if self.ws.closed:
                continue
            messages = [message for message in batch if message is not CLOSE]
            try:
                self.send_all(messages)
                if batch[-1] is CLOSE:
                    await self.ws.close(code=CLOSE_CODE, message=b"closed by pbxsim (injected ws_close)")
                    return
            except (ConnectionError, RuntimeError):   # the client went away mid-send
                return

    def send_all(self, messages):
        """Text frames of `messages` (RFC 6455 5.2: a server does not mask) in one transport write, after what
        aiohttp has written before on the same transport."""
        transport = self.request.transport if self.request is not None else None
        if transport is None or transport.is_closing():
            raise ConnectionError("the connection is gone")
        transport.write(b"".join(text_frame(json.dumps(message).encode("utf-8")) for message in messages))


class AppService:
    """Sessions of one AppWebsocket endpoint of a PbxInstance; `interface` names its counters in stats."""

    interface = None
    error_key = ERROR_KEY
    multipart = ()                   # message types answered in several messages (the `no_last` fault)

    def __init__(self, instance):
        self.instance = instance
        self.sessions = set()          # open sessions; not persisted
        self.handling = False          # inside a message handler: events wait for its answers
        self.events = []               # (session, event) to push once the answers are out

    # --- what a service gives -------------------------------------------------------------------
    def handlers(self):
        raise NotImplementedError

    def new_session(self, ws, request):
        return Session(ws, request)

    def logged_in(self, session):
        raise NotImplementedError

    def on_close(self, session):
        """The connection of `session` ended."""

    def lookup(self, message):
        """(handler, writes) for a message, (None, False) for an unknown one."""
        return self.handlers().get(message.get("mt"), (None, False))

    def without_end(self, mt, answers):
        """The `no_last` fault: the answers of a multipart message without what tells that they are complete."""
        return answers

    # --- websocket ------------------------------------------------------------------------------
    async def handle_websocket(self, request):
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        session = self.new_session(ws, request)
        self.sessions.add(session)
        loop = asyncio.get_running_loop()
        writer = loop.create_task(session.write())
        # --latency-ms is the network's: each message is handled that long after it arrived, in the order they
        # arrived, while the next ones arrive meanwhile (a client with several requests in flight waits one
        # latency for all of them, not one each).
        inbox = asyncio.Queue()
        worker = loop.create_task(self.work(session, inbox))
        latency = self.instance.latency_ms / 1000.0
        try:
            async for frame in ws:
                if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):     # AppWebsocket is JSON text only
                    inbox.put_nowait((loop.time() + latency, frame.data if frame.type == WSMsgType.TEXT else ""))
        finally:
            inbox.put_nowait(None)      # what arrived before the connection ended is still handled
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            self.sessions.discard(session)
            self.on_close(session)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def work(self, session, inbox):
        """Handle the messages of a session in their order, each once its latency has passed."""
        loop = asyncio.get_running_loop()
        while True:
            item = await inbox.get()
            if item is None:
                return
            due, text = item
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            await self.receive(session, text)

    def drop_sessions(self):
        """A reboot: no session answers again (the connections go too)."""
        for session in self.sessions:
            session.closing = True

    async def _faults(self, session, message):
        """Apply the faults that fire for this message; (go on, withhold the end of the answer)."""
        instance = self.instance
        mt = message.get("mt")
        withhold = False
        for rule in instance.faults.fire(faults.WS, session.request.path if session.request is not None else "",
                                         mt=mt, multipart=mt in self.multipart):
            kind = rule["kind"]
            if kind == "delay":
                await asyncio.sleep(rule["delay_ms"] / 1000.0)
            elif kind == "no_last":
                withhold = True
            elif kind == "silent":
                return False, False
            elif kind == "ws_close":
                session.close_soon()
                return False, False
            else:                                   # reset, reboot: the connection drops (a TCP RST)
                session.closing = True
                if kind == "reboot":
                    instance.start_reboot(rule["down_ms"], rule["mode"])
                if session.request is not None and session.request.transport is not None:
                    faults.abort(session.request.transport)
                return False, False
        return not session.closing, withhold

    async def receive(self, session, text):
        if session.closing:
            return
        self.instance.record_message(session, text)
        message, problem = appws.decode(text)
        if not self.instance.faults.holds.rules:     # nothing can be held: skip the context (one per row read)
            await self.handle(session, message, problem)
            return
        async with self.instance.faults.holds.message(message.get("mt")) as verdict:
            if verdict != holds.DROP:
                await self.handle(session, message, problem)

    async def handle(self, session, message, problem):
        handler, writes = self.lookup(message)
        self.instance.stats.count(self.interface, write=writes)
        boot = self.instance.boots
        go_on, withhold = await self._faults(session, message)
        if not go_on or boot != self.instance.boots:
            return
        self.handling = True
        try:
            if problem:
                raise ServiceError(problem)
            if handler is None:
                raise ServiceError(f"unknown message type {message['mt']}")
            if not self.logged_in(session) and message["mt"] not in LOGIN_MESSAGES:
                raise ServiceError("not logged in")
            answers = handler(self, session, message)
        except ServiceError as exc:
            answers = [{self.error_key: str(exc)}]
        except Exception:  # pylint: disable=broad-exception-caught
            # A simulator bug must show in the log and as an error answer, never as a dropped connection.
            log.exception("%s: %s failed", self.interface, message.get("mt"))
            answers = [{self.error_key: "internal error"}]
        else:
            if writes:
                self.instance.save()
        finally:
            self.handling = False
        answers = answers if isinstance(answers, list) else [answers]
        if withhold:
            answers = self.without_end(message.get("mt"), answers)
        for fields in answers:
            session.push(self.answer(message, fields))
        self.flush_events()

    @staticmethod
    def answer(message, fields):
        """The result message for one answer of a handler."""
        return appws.result(message, **fields)

    # --- events ---------------------------------------------------------------------------------
    def emit(self, session, event):
        """Send an event to a session, after the answers of the message being handled."""
        self.events.append((session, dict(event)))
        if not self.handling:
            self.flush_events()

    def flush_events(self):
        events, self.events = self.events, []
        for session, event in events:
            session.push(event)
