# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault kind `hold`: a request that arrives is kept waiting until a control call releases it.

A test uses it to stop a client at a chosen point (the client sent a request and waits for its answer) and do
something there: kill the client, change the PBX by hand, let another client run. A hold rule is

    {"kind": "hold", "path": P, "body": B, "mt": M, "after": A, "count": N}

- without `mt` it counts authenticated HTTP requests to the PBX (never a 401 handshake) whose decoded path
  starts with P and whose body (as sent: a SOAP Admin command is escaped inside its envelope) contains B;
- with `mt` (no `path` or `body` then) it counts Devices WebSocket messages of that `mt`;
- it lets the first A matching requests through (default 0), then holds the next N (default 1).

A released request goes on as if it had arrived just then ("apply": handled, its answer sent if the client is
still there), or is lost ("drop": an HTTP connection is reset without an answer, a WebSocket message is ignored;
the PBX changes nothing). Clearing the faults (`DELETE /_sim/faults`, `/_sim/reset`) drops every held request.
Everything runs on the server's one event loop, so a hold decides and counts without locks.
"""

import asyncio
import contextlib
import itertools
import time

APPLY = "apply"
DROP = "drop"
POLL_SECONDS = 0.01


class HoldError(ValueError):
    """An unusable hold rule or control call."""


def _count(spec, key, low, default):
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise HoldError("%s must be a whole number from %d" % (key, low))
    return value


def _text(spec, key):
    value = spec.get(key)
    if value is not None and not (isinstance(value, str) and value):
        raise HoldError("%s must be a non-empty string" % key)
    return value


class Held:
    """One request being held: its description, the verdict it waits for and whether it is done."""

    def __init__(self, number, description):
        self.number = number
        self.description = dict(description, id=number, since=time.time())
        loop = asyncio.get_running_loop()
        self.verdict = loop.create_future()
        self.finished = loop.create_future()

    def decide(self, verdict):
        if not self.verdict.done():
            self.verdict.set_result(verdict)

    def finish(self):
        if not self.finished.done():
            self.finished.set_result(True)


class Holds:
    def __init__(self):
        self.rules = []
        self.held = {}                # id -> Held, in arrival order
        self.numbers = itertools.count(1)

    # --- rules ----------------------------------------------------------------------------------
    def add(self, spec):
        """Validate and queue a hold rule; returns its description."""
        rule = {"kind": "hold", "path": _text(spec, "path"), "body": _text(spec, "body"), "mt": _text(spec, "mt"),
                "after": _count(spec, "after", 0, 0), "count": _count(spec, "count", 1, 1)}
        if rule["path"] is not None and not rule["path"].startswith("/"):
            raise HoldError("path must be a string starting with /")
        if rule["mt"] is not None and (rule["path"] is not None or rule["body"] is not None):
            raise HoldError("a hold with mt holds WebSocket messages: give no path or body with it")
        if spec.get("rate") is not None:
            raise HoldError("a hold takes after and count, not rate")
        self.rules.append(rule)
        return dict(rule)

    def describe(self):
        return [dict(rule) for rule in self.rules]

    def clear(self):
        """Forget every rule and drop every held request."""
        self.rules = []
        for held in list(self.held.values()):
            held.decide(DROP)

    def _match(self, matches):
        """The rule that holds this request (counted down), or None."""
        for rule in self.rules:
            if not matches(rule):
                continue
            if rule["after"]:
                rule["after"] -= 1
                continue
            rule["count"] -= 1
            if rule["count"] == 0:
                self.rules.remove(rule)
            return rule
        return None

    # --- holding --------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _hold(self, rule, description):
        """Wait for the verdict; the request counts as finished when the caller's block ends."""
        if rule is None:
            yield None
            return
        held = Held(next(self.numbers), dict(description, rule=rule_as_given(rule)))
        self.held[held.number] = held
        try:
            verdict = await held.verdict
            del self.held[held.number]
            yield verdict
        finally:
            self.held.pop(held.number, None)
            held.finish()

    @contextlib.asynccontextmanager
    async def http(self, request):
        """`async with holds.http(request) as verdict`: None (not held), APPLY or DROP once released."""
        http_rules = [rule for rule in self.rules if rule["mt"] is None]
        if not http_rules:
            yield None
            return
        body = ""
        if any(rule["body"] is not None for rule in http_rules):
            body = (await request.read()).decode("utf-8", errors="replace")
        path = request.path
        rule = self._match(lambda r: r["mt"] is None and (r["path"] is None or path.startswith(r["path"]))
                           and (r["body"] is None or r["body"] in body))
        async with self._hold(rule, {"kind": "http", "method": request.method, "path": path}) as verdict:
            yield verdict

    @contextlib.asynccontextmanager
    async def message(self, mt):
        """The same for one Devices WebSocket message of type `mt`."""
        rule = self._match(lambda r: r["mt"] is not None and r["mt"] == mt)
        async with self._hold(rule, {"kind": "ws", "mt": mt}) as verdict:
            yield verdict

    # --- control calls --------------------------------------------------------------------------
    def list(self):
        return [held.description for held in self.held.values()]

    async def wait(self, count, timeout):
        """The held requests once at least `count` are held; None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.held) < count:
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(POLL_SECONDS)
        return self.list()

    async def release(self, ids=None, drop=False, timeout=30.0):
        """Release the held requests `ids` (all if None) and wait until each is handled (or dropped)."""
        if ids is None:
            ids = list(self.held)
        unknown = [number for number in ids if number not in self.held]
        if unknown:
            raise HoldError("no held request with id %s" % ", ".join(str(number) for number in unknown))
        released = [self.held[number] for number in ids]
        for held in released:
            held.decide(DROP if drop else APPLY)
        if released:
            await asyncio.wait([held.finished for held in released], timeout=timeout)
        return [held.description for held in released]


def rule_as_given(rule):
    """A rule's matching keys, for the description of what it holds."""
    return dict((key, rule[key]) for key in ("path", "body", "mt") if rule[key] is not None)
