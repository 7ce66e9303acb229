# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event source innovaphone.pbx.pbx_events against pbxsim as a real server: every event kind, the baseline
(no events), the reconnect after a PBX reboot, the resume from a state file, no secret in any event, and its
argument checks."""

import asyncio
import json

import pytest

from eventsource import (APP_PASSWORD, DEVICES_PASSWORD, SECRET_FIELDS, Devices, Running, Sim, load_source,
                         site_args)

ALICE_PASSWORD = "Alice-Eda-Pw-77"
BOB_PASSWORD = "Bob-Eda-Pw-88"
BOB_NEW_PASSWORD = "Bob-Eda-Pw-99"
SCRIPT_PASSWORD = "Script-Eda-Pw-55"
SECRETS = (ALICE_PASSWORD, BOB_PASSWORD, BOB_NEW_PASSWORD, SCRIPT_PASSWORD, APP_PASSWORD, DEVICES_PASSWORD)
SCRIPT = "config change PHONE /gk-pwd %s\nconfig write\n" % SCRIPT_PASSWORD


@pytest.fixture(scope="module")
def pbxsim(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("pbxsim")).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(pbxsim):
    pbxsim.reset()
    pbxsim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"><device hw="alice" text="Hotdesking" '
                 'app="phone"/></user></add>' % ALICE_PASSWORD)
    pbxsim.admin('<add><user cn="temp" h323="temp" e164="#20"/></add>')
    return pbxsim


def run(scenario):
    asyncio.run(asyncio.wait_for(scenario, 120))


def by_kind(events):
    return {(event["kind"], event["name"]): event for event in events}


def test_user_and_template_kinds(sim):
    async def scenario():
        async with Running(site_args(sim, devices_url=None), SECRETS) as source:
            await source.quiet(0.5)                               # the baseline makes no event
            sim.admin('<add><user cn="Bob" h323="bob" pwd="%s"/></add>' % BOB_PASSWORD)
            added, = await source.events(1)
            assert added["kind"] == "user_added" and added["name"] == "Bob" and added["h323"] == "bob"
            assert added["changes"]["h323"] == {"old": None, "new": "bob"}
            assert added["changes"]["pwd"] == "changed" and added["hotdesking"] is False
            assert added["site"] == "site1" and added["resync"] is False and added["type"] == "user"
            assert added["source"]["interface"] == "PbxTableUsers" and added["id"]

            sim.admin('<modify><user cn="Bob" h323="bob" dn="Bob B" pwd="%s"/></modify>' % BOB_NEW_PASSWORD)
            changed, = await source.events(1)
            assert changed["kind"] == "user_changed" and changed["id"] == added["id"]
            assert changed["changes"] == {"dn": {"old": None, "new": "Bob B"}, "pwd": "changed"}

            sim.admin('<del-attrib><user cn="Alice"><device hw="alice"/></user></del-attrib>')
            lost, = await source.events(1)
            assert lost["kind"] == "user_changed" and lost["name"] == "Alice" and lost["hotdesking"] is True
            assert lost["changes"]["devices"]["old"][0]["hw"] == "alice" and lost["changes"]["devices"]["new"] is None

            sim.admin('<del><user cn="Bob"/></del>')
            deleted, = await source.events(1)
            assert deleted["kind"] == "user_deleted" and deleted["name"] == "Bob"
            assert deleted["changes"]["h323"] == {"old": "bob", "new": None}

            sim.admin('<add><user cn="Hot Desking" filter="intern"><pseudo type="config"/></user></add>')
            # The template's filters are no column of the users table (PbxTableUsers.htm): its dn is.
            sim.admin('<modify><user cn="Hot Desking" dn="Hot Desking Template" filter="normal"><pseudo type="config"/>'
                      '</user></modify>')
            sim.admin('<del><user cn="Hot Desking"/></del>')
            events = await source.events(3)
            assert [event["kind"] for event in events] == ["template_added", "template_changed", "template_deleted"]
            assert events[1]["changes"] == {"dn": {"old": None, "new": "Hot Desking Template"}}
            assert {event["type"] for event in events} == {"template"}
            await source.quiet(0.5)
    run(scenario())


def test_devices_kinds_and_no_script(sim):
    async def scenario():
        async with Running(site_args(sim), SECRETS) as source:
            devices = Devices(sim)
            try:
                category = devices.call("AddCategory", domainId=devices.domain_id, name="site1 Hotdesking",
                                        config=True)["id"]
                added, = await source.events(1)
                assert added["kind"] == "category_added" and added["name"] == "site1 Hotdesking"
                devices.call("UpdateCategory", id=category, name="site1 Hot Desking", config=True)
                renamed, = await source.events(1)
                assert renamed["kind"] == "category_changed"
                assert renamed["changes"] == {"name": {"old": "site1 Hotdesking", "new": "site1 Hot Desking"}}

                expert = devices.call("AddDeviceConfig", domainId=devices.domain_id, type="EXPERT", desc="Hot Desking",
                                      categories=[category], script=SCRIPT)["id"]
                config_added, = await source.events(1)
                assert config_added["kind"] == "device_config_added" and config_added["name"] == "Hot Desking"
                assert config_added["changes"]["script"] == "changed" and config_added["config_type"] == "EXPERT"
                assert config_added["changes"]["categories"] == {"old": None, "new": ["site1 Hot Desking"]}
                devices.call("UpdateDeviceConfig", id=expert, domainId=devices.domain_id, type="EXPERT",
                             desc="Hot Desking", categories=[category], script=SCRIPT + "config activate\n")
                script_changed, = await source.events(1)
                assert script_changed["kind"] == "device_config_changed"
                assert script_changed["changes"] == {"script": "changed"}

                phone = devices.call("AddDeviceConfig", domainId=devices.domain_id, type="PHONE", desc="Phone",
                                     categories=[category], gk1="127.0.0.1")["id"]
                await source.events(1)
                devices.call("UpdateDeviceConfig", id=phone, domainId=devices.domain_id, type="PHONE", desc="Phone",
                             categories=[category], gk1="127.0.0.2")
                gk_changed, = await source.events(1)
                assert gk_changed["changes"] == {"gk1": {"old": "127.0.0.1", "new": "127.0.0.2"}}

                code = devices.call("GetProvisioningCode", category="site1 Hot Desking", sip="temp")["code"]
                sim.control("POST", "phones", {"hw_id": "009033000001", "code": code, "address": "127.0.0.1"})
                # The Devices app puts the phone's hw id on the user of the code (temp): a user_changed too.
                kinds = by_kind(await source.events(2))
                assert kinds[("device_added", "009033000001")]["hw_id"] == "009033000001"
                assert kinds[("user_changed", "temp")]["changes"]["devices"]["new"][0]["hw"] == "009033000001"
                await asyncio.sleep(0.3)
                while not source.queue.empty():          # the phone's boot may update the device once more
                    assert source.queue.get_nowait()["kind"] == "device_changed"
                sim.control("POST", "phones/009033000001/offline")
                offline, = await source.events(1)
                assert offline["kind"] == "device_changed"
                assert offline["changes"]["online"] == {"old": True, "new": False}

                sim.control("DELETE", "phones/009033000001")
                removed, = await source.events(1)
                assert removed["kind"] == "device_removed" and removed["name"] == "009033000001"
                assert removed["changes"]["hwId"] == {"old": "009033000001", "new": None}

                devices.call("DeleteDeviceConfig", id=expert)
                config_deleted, = await source.events(1)
                assert config_deleted["kind"] == "device_config_deleted" and config_deleted["name"] == "Hot Desking"
                assert config_deleted["changes"]["script"] == "changed"
                await source.quiet(0.5)
            finally:
                devices.close()
    run(scenario())


def test_reconnect_after_reboot_emits_only_differences(sim):
    async def scenario():
        sim.admin('<add><user cn="Bob" h323="bob"/></add>')
        async with Running(site_args(sim), SECRETS) as source:
            # The source's next baseline waits (held) until the test has changed the PBX behind its back.
            sim.control("POST", "faults", {"kind": "hold", "mt": "ReplicateStart"})
            sim.control("POST", "reboot", {"down_ms": 300, "mode": "reset"})
            await asyncio.to_thread(sim.control, "POST", "holds/wait", {"timeout": 60})
            sim.admin('<modify><user cn="Bob" h323="bob" dn="Bobby"/></modify>')
            await asyncio.to_thread(sim.control, "POST", "holds/release", {})
            resynced, = await source.events(1, timeout=60)
            assert resynced["kind"] == "user_changed" and resynced["resync"] is True
            assert resynced["changes"] == {"dn": {"old": None, "new": "Bobby"}}
            await source.ready()
            await source.quiet(1.0)                               # nothing for the unchanged objects
            sim.admin('<modify><user cn="Bob" h323="bob" dn="Bob"/></modify>')
            live, = await source.events(1)                        # and it follows live changes again
            assert live["resync"] is False and live["changes"] == {"dn": {"old": "Bobby", "new": "Bob"}}
    run(scenario())


def test_resume_from_state_file(sim, tmp_path):
    state_file = tmp_path / "state.json"

    async def scenario():
        devices = Devices(sim)
        try:
            category = devices.call("AddCategory", domainId=devices.domain_id, name="cat", config=True)["id"]
            devices.call("AddDeviceConfig", domainId=devices.domain_id, type="EXPERT", desc="Hot Desking",
                         categories=[category], script=SCRIPT)
            code = devices.call("GetProvisioningCode", category="cat", sip="temp")["code"]
            sim.control("POST", "phones", {"hw_id": "009033000002", "code": code, "address": "127.0.0.1"})
        finally:
            devices.close()
        args = site_args(sim, state_file=str(state_file))
        async with Running(args, SECRETS) as source:
            await source.quiet(0.5)
        stored = state_file.read_text()
        assert [secret for secret in SECRETS if secret in stored] == []
        assert "gk-pwd" not in stored and state_file.stat().st_mode & 0o077 == 0
        tables = json.loads(stored)["sites"]["site1"]
        secrets = [row[name] for table in tables.values() for row in table.values() for name in SECRET_FIELDS
                   if name in row]
        assert secrets and all(value.startswith("hmac:") and len(value) == 69 for value in secrets)

        # Changed while the source was not running: the restart reports exactly that.
        sim.admin('<add><user cn="Carol" h323="carol"/></add>')
        async with Running(args, SECRETS) as source:
            added, = await source.events(1)
            assert added["kind"] == "user_added" and added["name"] == "Carol" and added["resync"] is True
            await source.quiet(0.5)
        # A PBX and Devices app back at factory state: every object it knew is gone.
        sim.control("POST", "reset")
        async with Running(args, SECRETS) as source:
            await asyncio.sleep(0.5)
            events = []
            while not source.queue.empty():
                events.append(source.queue.get_nowait())
            kinds = sorted((event["kind"], event["name"]) for event in events)
            assert kinds == [("category_deleted", "cat"), ("device_config_deleted", "Hot Desking"),
                             ("device_removed", kinds[2][1]), ("user_deleted", "Alice"), ("user_deleted", "Carol"),
                             ("user_deleted", "temp")]
            assert all(event["resync"] for event in events)
        # Without a state file, a start is a new baseline.
        sim.admin('<add><user cn="Dave" h323="dave"/></add>')
        async with Running(site_args(sim), SECRETS) as source:
            await source.quiet(0.5)
    run(scenario())


def test_wrong_app_password_fails_at_start(sim):
    async def scenario():
        module = load_source()
        with pytest.raises(ValueError, match="AppLogin"):
            await module["main"](asyncio.Queue(), site_args(sim, app_password="wrong-Pw-1", devices_url=None))
    run(scenario())


@pytest.mark.parametrize("args, message", [
    ({"app_name": "a", "app_password": "p"}, "url is required"),
    ({"url": "ftp://pbx", "app_name": "a", "app_password": "p"}, "url must be a http or https URL"),
    ({"url": "https://u:secret@pbx", "app_name": "a", "app_password": "p"}, "url must not carry credentials"),
    ({"url": "https://pbx", "app_password": "p"}, "app_name is required"),
    ({"url": "https://pbx", "app_name": "a", "app_password": "p", "devices_url": "wss://ap/d/devices"},
     "devices_password is required"),
    ({"url": "https://pbx", "app_name": "a", "app_password": "p", "timeout": 0}, "timeout must be"),
    ({"url": "https://pbx", "app_name": "a", "app_password": "p", "colour": 1}, "unknown argument"),
    ({"sites": [{"url": "https://pbx", "app_name": "a", "app_password": "p"}] * 2}, "given twice"),
    ({"sites": [{"url": "https://pbx", "app_name": "a", "app_password": "p", "pwd": 1}]}, r"sites\[0\]\.unknown"),
    ({"url": "https://pbx", "app_name": "a", "app_password": "p", "wire_names": {"devices": {"x": "y"}}},
     "unknown key devices.x"),
])
def test_argument_checks(args, message):
    module = load_source()
    with pytest.raises(ValueError, match=message) as error:
        module["site_settings"](args, environ={})
    assert "secret" not in str(error.value)


def test_environment_fallbacks():
    module = load_source()
    sites, common = module["site_settings"]({}, environ={
        "INNOVAPHONE_URL": "https://pbx.example.com", "INNOVAPHONE_APP_NAME": "eda",
        "INNOVAPHONE_APP_PASSWORD": "p", "INNOVAPHONE_DEVICES_URL": "wss://ap.example.com/example.com/devices",
        "INNOVAPHONE_DEVICES_PASSWORD": "d", "INNOVAPHONE_VALIDATE_CERTS": "false", "INNOVAPHONE_TIMEOUT": "7"})
    site, = sites
    assert (site["name"], site["devices_domain"], site["validate_certs"], site["timeout"]) == \
        ("pbx.example.com", "example.com", False, 7)
    assert common == {"state_file": None, "reconnect_max_delay": 30}


def test_tls_rules_as_the_modules(tmp_path):
    """wss:// is verified: pbxsim's own CA unknown -> the source fails at start with what to do; with ca_path it
    runs."""
    (tmp_path / "pbxsim").mkdir()
    sim = Sim(tmp_path / "pbxsim", ["--tls"]).start()
    try:
        async def scenario():
            module = load_source()
            with pytest.raises(ValueError, match="TLS certificate not trusted.*ca_path"):
                await module["main"](asyncio.Queue(), site_args(sim, devices_url=None))
            async with Running(site_args(sim, ca_path=sim.ca), SECRETS) as source:
                sim.admin('<add><user cn="Bob" h323="bob"/></add>')
                added, = await source.events(1)
                assert added["source"]["url"].startswith("wss://")
            async with Running(site_args(sim, validate_certs=False, devices_url=None), SECRETS):
                pass
        run(scenario())
    finally:
        sim.stop()
