# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event source innovaphone.pbx.pbx_events run as ansible-rulebook runs it (its file by path, main(queue,
args)) against pbxsim, for the tests in this directory and the benchmark (tests/benchmarks/eda_latency.py)."""

import asyncio
import contextlib
import json
import pathlib
import runpy
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO / "tests"))

from pbxsim import appws  # noqa: E402  pylint: disable=wrong-import-position
from simulator import APP_PASSWORD, Sim  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

SOURCE_FILE = REPO / "extensions" / "eda" / "plugins" / "event_source" / "pbx_events.py"
DEVICES_PASSWORD = "pbxsim-devices"
SECRET_FIELDS = ("pwd", "script", "turnPassword", "srtpKey")


def load_source():
    """The source's globals, as ansible-rulebook gets them (runpy.run_path)."""
    return runpy.run_path(str(SOURCE_FILE))


def site_args(sim, **overrides):
    args = {"name": "site1", "url": sim.url, "app_name": sim.ready["app_name"], "app_password": APP_PASSWORD,
            "devices_url": sim.devices_url, "devices_password": DEVICES_PASSWORD}
    args.update(overrides)
    return {key: value for key, value in args.items() if value is not None}


def assert_no_secret(event, secrets):
    """No secret text anywhere in the event, and every secret field says only "changed"."""
    text = json.dumps(event)
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], "secrets in event %s" % event["kind"]
    for name in SECRET_FIELDS:
        assert event["changes"].get(name, "changed") == "changed", event


class Running:
    """The source running in this event loop, with the queue ansible-rulebook would give it."""

    def __init__(self, args, secrets=()):
        self.module = load_source()
        self.args = args
        self.secrets = tuple(secrets)
        self.queue = asyncio.Queue()
        self.task = None

    async def __aenter__(self):
        self.task = asyncio.ensure_future(self.module["main"](self.queue, self.args))
        await self.ready()
        return self

    async def ready(self, timeout=30):
        """Until every stream has read its baseline (main.streams is set by main for this)."""
        async def connected():
            while not getattr(self.module["main"], "streams", None):
                if self.task.done():
                    self.task.result()
                await asyncio.sleep(0.02)
            for stream in self.module["main"].streams:
                await stream.connected.wait()
        await asyncio.wait_for(connected(), timeout)

    async def __aexit__(self, *exc_info):
        await self.stop()

    async def stop(self):
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.module["main"].streams = None

    async def events(self, count, timeout=20):
        """The next `count` events, each checked for secrets."""
        got = []
        for _number in range(count):
            got.append(await asyncio.wait_for(self.queue.get(), timeout))
            assert_no_secret(got[-1], self.secrets)
        return got

    async def quiet(self, seconds=1.0):
        """Assert that nothing more arrives within `seconds`."""
        await asyncio.sleep(seconds)
        extra = []
        while not self.queue.empty():
            extra.append(self.queue.get_nowait())
        assert extra == [], [(event["kind"], event["name"], event["changes"]) for event in extra]


class Devices:
    """The Devices app as another admin's tool would change it (the ASSUMED write messages of pbxsim)."""

    def __init__(self, sim):
        self.client = appws.AppClient(sim.devices_url)
        assert self.client.login("innovaphone-devices", sim.devices_domain, DEVICES_PASSWORD)["ok"]
        self.domain_id = self.client.listing("GetDomains", "domains")[0]["id"]

    def call(self, mt, **fields):
        answer = self.client.call(mt, **fields)
        assert "error" not in answer, answer
        return answer

    def close(self):
        self.client.close()
