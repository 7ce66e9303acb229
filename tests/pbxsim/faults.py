# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults injected into PBX requests and Devices WebSocket messages through the control API (contract 6).

A fault fires for the next `count` requests, or for a `rate` fraction of them, or both (a rate until count
firings); with `after` K it first lets K requests it would count pass. Rates are deterministic: rate 0.25 fires
on every fourth request, so a test can count on it. A fault counts only the requests it can hit: those of its
`channel` (`http`: HTTP requests, the WebSocket upgrade included; `ws`: Devices WebSocket messages), with a
`path` only those whose (decoded) path starts with it (for a message: the WebSocket's path), with an `mt` only
messages of that type, and each kind only what it needs (`stale_nonce` requests with digest credentials,
`soap_fault` SOAP requests, `truncated_xml` requests answered with XML, `no_last` messages answered in parts).
`hold` keeps a request waiting until a control call releases it; its rules live in holds.py.
"""

import socket
import struct

from . import holds

# Kinds by the channel they act on; `reset`, `delay`, `silent` and `reboot` act on both.
HTTP_KINDS = ("http500", "http503", "stale_nonce", "html", "truncated_xml", "soap_fault")
WS_KINDS = ("ws_close", "no_last")
BOTH_KINDS = ("reset", "delay", "silent", "reboot")
KINDS = HTTP_KINDS + WS_KINDS + BOTH_KINDS + ("hold",)
HTTP, WS = "http", "ws"
CHANNELS = (HTTP, WS)
REBOOT_MODES = ("refuse", "reset")
SOAP_FAULT_STATUSES = (500, 200)
# What a request must be for a kind to count it (a key of the facts the server hands to fire()).
NEEDS = {"stale_nonce": "digest", "soap_fault": "soap", "truncated_xml": "xml", "no_last": "multipart"}
# Numbers every fault carries: key -> (default, lowest value, highest value or None).
NUMBERS = {
    "after": (0, 0, None),
    "retry_after": (1, 0, None),        # http503: the Retry-After header, seconds
    "delay_ms": (1000, 0, None),        # delay
    "down_ms": (2000, 0, 600000),       # reboot: how long the PBX is down
}


class FaultError(ValueError):
    """An unusable fault description."""


def number(spec, key, low, high=None, integer=True):
    value = spec.get(key)
    if value is None:
        return None
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value < low or (high is not None and value > high):
        raise FaultError("%s must be a number from %s%s" % (key, low, " to %s" % high if high is not None else ""))
    return value


def text(spec, key):
    value = spec.get(key)
    if value is not None and not (isinstance(value, str) and value):
        raise FaultError("%s must be a non-empty string" % key)
    return value


def choice(spec, key, choices):
    value = spec.get(key, choices[0])
    if value not in choices:
        raise FaultError("%s must be one of %s" % (key, ", ".join(str(c) for c in choices)))
    return value


def channel_of(spec, kind):
    """The channel a fault acts on: given, or ws for a WebSocket kind or a fault naming an mt, else http."""
    channel = spec.get("channel")
    if channel is None:
        channel = WS if kind in WS_KINDS or spec.get("mt") is not None else HTTP
    if channel not in CHANNELS:
        raise FaultError("channel must be one of %s" % ", ".join(CHANNELS))
    if channel == WS and kind in HTTP_KINDS:
        raise FaultError("%s is a fault of HTTP requests (channel http)" % kind)
    if channel == HTTP and kind in WS_KINDS:
        raise FaultError("%s is a fault of Devices WebSocket messages (channel ws)" % kind)
    if channel == HTTP and spec.get("mt") is not None:
        raise FaultError("mt names a WebSocket message type: only with channel ws")
    return channel


class Faults:
    def __init__(self):
        self.rules = []
        self.holds = holds.Holds()    # kind hold: its own rules and the requests it holds

    def add(self, spec):
        """Validate and queue a fault; returns its description."""
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise FaultError("kind must be one of %s" % ", ".join(KINDS))
        if spec["kind"] == "hold":
            try:
                return self.holds.add(spec)
            except holds.HoldError as exc:
                raise FaultError(str(exc)) from exc
        kind = spec["kind"]
        rule = {"kind": kind, "channel": channel_of(spec, kind), "count": number(spec, "count", 1),
                "rate": number(spec, "rate", 0, 1, False)}
        if rule["count"] is None and rule["rate"] is None:
            rule["count"] = 1
        for key, (default, low, high) in NUMBERS.items():
            value = number(spec, key, low, high)
            rule[key] = default if value is None else value
        path = spec.get("path")
        if path is not None and not (isinstance(path, str) and path.startswith("/")):
            raise FaultError("path must be a string starting with /")
        rule["path"] = path
        rule["mt"] = text(spec, "mt")
        rule["mode"] = choice(spec, "mode", REBOOT_MODES)
        rule["status"] = choice(spec, "status", SOAP_FAULT_STATUSES)
        rule["credit"] = 0.0
        self.rules.append(rule)
        return self.describe()[-1]

    def clear(self):
        self.rules = []
        self.holds.clear()

    def describe(self):
        return [{key: value for key, value in rule.items() if key != "credit"} for rule in self.rules] + \
            self.holds.describe()

    def fire(self, channel, path, **facts):
        """The rules that fire for this request (each counted down), in the order they were added.

        `facts` say what the request is: `digest` (carries digest credentials), `soap` (a SOAP request with them),
        `xml` (answered with XML when authenticated), `mt` (a message's type), `multipart` (a message answered in
        several messages)."""
        if not self.rules:
            return []
        fired = []
        for rule in self.rules:
            if rule["channel"] != channel or (rule["kind"] in NEEDS and not facts.get(NEEDS[rule["kind"]])):
                continue
            if rule["path"] is not None and not path.startswith(rule["path"]):
                continue
            if rule["mt"] is not None and facts.get("mt") != rule["mt"]:
                continue
            if rule["after"]:
                rule["after"] -= 1
                continue
            if rule["rate"] is not None:
                rule["credit"] += rule["rate"]
                if rule["credit"] < 1 - 1e-9:
                    continue
                rule["credit"] -= 1
            if rule["count"] is not None:
                rule["count"] -= 1
            fired.append(rule)
        self.rules = [rule for rule in self.rules if rule["count"] is None or rule["count"] > 0]
        return fired


def abort(transport):
    """Close a connection with a TCP RST, as a crashing box would."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()
