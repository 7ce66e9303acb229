# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control and observation API under /_sim/ (contract 6): JSON in and out.

server.py guards it (--control and the X-Sim-Token header); control calls are not counted in
stats and suffer neither latency nor faults.
"""

import json
import re

from aiohttp import web

from . import faults
from . import holds
from . import model
from . import phones

REDACTED = "********"
SECRET_KEY = re.compile(r"^(pwd|gk-pwd|pbx_key)$|password|secret", re.IGNORECASE)


def redact(value):
    """value with every string under a secret-looking key replaced by ********."""
    if isinstance(value, dict):
        return {key: REDACTED if isinstance(item, str) and SECRET_KEY.search(key) else redact(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


async def json_body(request):
    """The request's JSON object ({} for an empty body); HTTP 400 otherwise."""
    text = await request.text()
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise web.HTTPBadRequest(text="body is not JSON: %s" % exc) from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def phone_call(method):
    """Wrap a PhoneFleet call: PhoneError -> HTTP 409 {"error": text}."""
    async def handler(self, request):
        try:
            return web.json_response(await method(self, request))
        except phones.PhoneError as exc:
            return web.json_response({"error": str(exc)}, status=409)
    return handler


class Control:
    def __init__(self, instance):
        self.instance = instance

    def routes(self, prefix):
        return [
            web.get(prefix + "state", self.state),
            web.get(prefix + "stats", self.stats),
            web.post(prefix + "stats/reset", self.stats_reset),
            web.post(prefix + "reset", self.reset),
            web.post(prefix + "reboot", self.reboot),
            web.get(prefix + "record", self.recorded),
            web.post(prefix + "record", self.start_recording),
            web.delete(prefix + "record", self.stop_recording),
            web.get(prefix + "faults", self.faults),
            web.post(prefix + "faults", self.add_fault),
            web.delete(prefix + "faults", self.clear_faults),
            web.get(prefix + "holds", self.held),
            web.post(prefix + "holds/wait", self.wait_held),
            web.post(prefix + "holds/release", self.release_held),
            web.get(prefix + "phones", self.list_phones),
            web.post(prefix + "phones", self.provision),
            web.get(prefix + "phones/{hw}", self.get_phone),
            web.delete(prefix + "phones/{hw}", self.remove_phone),
            web.post(prefix + "phones/{hw}/hotdesk", self.hotdesk),
            web.post(prefix + "phones/{hw}/logout", self.logout),
            web.post(prefix + "phones/{hw}/reboot", self.reboot_phone),
            web.post(prefix + "phones/{hw}/via", self.phone_via),
            web.post(prefix + "phones/{hw}/offline", self.phone_offline),
            web.post(prefix + "phones/{hw}/online", self.phone_online),
            *self.instance.pbxapps.routes(prefix),
        ]

    async def state(self, _request):
        instance = self.instance
        return web.json_response(redact({
            "name": instance.name, "pbx": instance.pbx.to_dict(), "config": instance.config.to_dict(),
            "devices": instance.devices.redacted_dict(), "phones": instance.phones.to_dict(),
        }))

    async def stats(self, _request):
        return web.json_response(self.instance.stats.to_dict())

    async def stats_reset(self, _request):
        self.instance.stats.reset()
        return web.json_response(self.instance.stats.to_dict())

    async def reset(self, _request):
        self.instance.reset()
        return web.json_response({"ok": True})

    async def reboot(self, request):
        """Without a body the model reboots (unwritten configuration and registrations lost); with {"down_ms": D,
        "mode": "refuse"|"reset"} the whole PBX does, as the `reboot` fault (connections, nonces and Devices sessions
        dropped, D ms down), right after this answer."""
        body = await json_body(request)
        if not body:
            self.instance.reboot()
            return web.json_response({"ok": True})
        try:
            down_ms = faults.number(body, "down_ms", *faults.NUMBERS["down_ms"][1:])
            mode = faults.choice(body, "mode", faults.REBOOT_MODES)
        except faults.FaultError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        down_ms = faults.NUMBERS["down_ms"][0] if down_ms is None else down_ms
        self.instance.start_reboot(down_ms, mode, keep=request.transport)
        return web.json_response({"ok": True, "down_ms": down_ms, "mode": mode})

    async def recorded(self, _request):
        recording = self.instance.recording
        return web.json_response({"recording": recording is not None, "requests": recording or []})

    async def start_recording(self, _request):
        self.instance.start_recording()
        return web.json_response({"recording": True, "requests": []})

    async def stop_recording(self, _request):
        return web.json_response({"recording": False, "requests": self.instance.stop_recording()})

    async def faults(self, _request):
        return web.json_response(self.instance.faults.describe())

    async def add_fault(self, request):
        try:
            return web.json_response(self.instance.faults.add(await json_body(request)))
        except faults.FaultError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc

    async def clear_faults(self, _request):
        self.instance.faults.clear()
        return web.json_response([])

    async def held(self, _request):
        return web.json_response(self.instance.faults.holds.list())

    async def wait_held(self, request):
        """{"count": N, "timeout": S}: the held requests once N are held; 408 {"error", "held"} after S seconds."""
        body = await json_body(request)
        count, timeout = body.get("count", 1), body.get("timeout", 30)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise web.HTTPBadRequest(text="count must be a whole number from 1")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 600:
            raise web.HTTPBadRequest(text="timeout must be a number of seconds from 0 to 600")
        holding = self.instance.faults.holds
        held = await holding.wait(count, timeout)
        if held is None:
            return web.json_response({"error": "%d of %d requests held after %s s" % (
                len(holding.held), count, timeout), "held": holding.list()}, status=408)
        return web.json_response(held)

    async def release_held(self, request):
        """{"ids": [...], "drop": bool}: release those held requests (all without ids) once each is handled."""
        body = await json_body(request)
        ids, drop = body.get("ids"), body.get("drop", False)
        if ids is not None and not (isinstance(ids, list) and all(
                isinstance(number, int) and not isinstance(number, bool) for number in ids)):
            raise web.HTTPBadRequest(text="ids must be a list of held request ids")
        if not isinstance(drop, bool):
            raise web.HTTPBadRequest(text="drop must be true or false")
        try:
            return web.json_response(await self.instance.faults.holds.release(ids, drop))
        except holds.HoldError as exc:
            return web.json_response({"error": str(exc)}, status=409)

    @phone_call
    async def list_phones(self, _request):
        return self.instance.phones.list()

    @phone_call
    async def provision(self, request):
        body = await json_body(request)
        return self.instance.phones.provision(str(body.get("hw_id", "")), str(body.get("code", "")),
                                              str(body.get("address", "127.0.0.1")),
                                              str(body.get("via", model.VIA_TLS)))

    @phone_call
    async def get_phone(self, request):
        return self.instance.phones.get(request.match_info["hw"])

    @phone_call
    async def hotdesk(self, request):
        body = await json_body(request)
        return self.instance.phones.hotdesk_login(request.match_info["hw"], str(body.get("user", "")),
                                                  str(body.get("password", "")))

    @phone_call
    async def logout(self, request):
        return self.instance.phones.hotdesk_logout(request.match_info["hw"])

    @phone_call
    async def reboot_phone(self, request):
        return self.instance.phones.reboot_phone(request.match_info["hw"])

    @phone_call
    async def phone_via(self, request):
        body = await json_body(request)
        return self.instance.phones.set_via(request.match_info["hw"], str(body.get("via", "")))

    @phone_call
    async def remove_phone(self, request):
        return self.instance.phones.remove(request.match_info["hw"])

    @phone_call
    async def phone_offline(self, request):
        return self.instance.phones.set_online(request.match_info["hw"], False)

    @phone_call
    async def phone_online(self, request):
        return self.instance.phones.set_online(request.match_info["hw"], True)
