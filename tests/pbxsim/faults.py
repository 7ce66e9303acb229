# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults injected into PBX requests through the control API (contract 6).

A fault fires for the next `count` requests, or for a `rate` fraction of them, or both (a
rate until count firings). Rates are deterministic: rate 0.25 fires on every fourth request,
so a test can count on it. `stale_nonce` only counts requests that carry digest credentials; a fault
with a `path` only counts requests whose (decoded) path starts with it, such as "/!config write".
`hold` keeps a request waiting until a control call releases it; its rules live in holds.py.
"""

from . import holds

KINDS = ("http500", "http503", "reset", "delay", "stale_nonce", "hold")
DEFAULTS = {"retry_after": 1, "delay_ms": 1000}


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
        rule = {"kind": spec["kind"], "count": number(spec, "count", 1), "rate": number(spec, "rate", 0, 1, False)}
        if rule["count"] is None and rule["rate"] is None:
            rule["count"] = 1
        for key, default in DEFAULTS.items():
            value = number(spec, key, 0)
            rule[key] = default if value is None else value
        path = spec.get("path")
        if path is not None and not (isinstance(path, str) and path.startswith("/")):
            raise FaultError("path must be a string starting with /")
        rule["path"] = path
        rule["credit"] = 0.0
        self.rules.append(rule)
        return self.describe()[-1]

    def clear(self):
        self.rules = []
        self.holds.clear()

    def describe(self):
        return [{key: value for key, value in rule.items() if key != "credit"} for rule in self.rules] + \
            self.holds.describe()

    def fire(self, has_digest, path):
        """The rules that fire for this request (each counted down), in the order they were added."""
        fired = []
        for rule in self.rules:
            if rule["kind"] == "stale_nonce" and not has_digest:
                continue
            if rule["path"] is not None and not path.startswith(rule["path"]):
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
