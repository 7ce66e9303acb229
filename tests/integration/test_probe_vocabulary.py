# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe reads the Devices app's own vocabulary (the app names a login takes, the message types its UI's scripts
send) and says which PBX APIs a PBX offers and which grants an App object lacks; read-only, against pbxsim."""

import json

import pytest

from simulator import Sim
from role_runs import site_vars
from test_wire_names import probe

DEVICES_WRITES = ("devices.add_category", "devices.update_category", "devices.delete_category",
                  "devices.add_device_config", "devices.update_device_config", "devices.delete_device_config")
APP_PASSWORD = "Probe-App-Pw-42"
# How the Devices instance of the respelt pbxsim names two of its writes (the defaults: AddCategory,
# UpdateDeviceConfig).
RESPELT_WRITES = {"add_category": "CreateCategory", "update_device_config": "EditDeviceConfig"}


@pytest.fixture(scope="module")
def respelt_devices(tmp_path_factory):
    """A pbxsim whose Devices UI sends two writes under other names and whose instance takes only the API app."""
    workdir = tmp_path_factory.mktemp("pbxsim-devices-vocabulary")
    spelling = workdir / "wire-names.json"
    spelling.write_text(json.dumps({"devices": RESPELT_WRITES}))
    sim = Sim(workdir, ["--wire-names", str(spelling), "--devices-app", "innovaphone-devices-api"]).start()
    yield sim
    sim.stop()


def test_a_default_pbx_confirms_the_devices_vocabulary_and_offers_every_api(sim, tmp_path):
    report, rows, _output = probe(tmp_path, site_vars(sim))
    assert sim.stats()["writes"] == 0
    assert [(login["app"], login["accepted"]) for login in report["devices_apps"]] == [
        ("innovaphone-devices", True), ("innovaphone-devices-api", True)]
    assert rows["devices.app"]["status"] == "confirmed"
    ui = report["devices_ui"]
    assert ui["page"] == sim.url + "/example.com/devices/innovaphone-devices"
    assert ui["scripts"] == [sim.url + "/example.com/devices/innovaphone-devices.js"] and ui["problems"] == []
    assert {"GetDeviceConfigs", "GetProvisioningCode", "AddCategory", "DeleteDeviceConfig"} <= set(ui["message_types"])
    for entry in DEVICES_WRITES:
        assert rows[entry]["status"] == "confirmed" and rows[entry]["seen"] == [rows[entry]["value"]], rows[entry]
    # Without App credentials: the PBX's AppWebsocket answers, the grants are not known.
    apis = dict((api["api"], api) for api in report["pbx_apis"])
    assert list(apis) == ["SOAP", "PbxAdminApi", "PbxTableUsers"]
    assert apis["SOAP"]["offered"] is True
    for name in ("PbxAdminApi", "PbxTableUsers"):
        assert apis[name]["offered"] is True and apis[name]["granted"] is None
        assert "answers AppChallenge" in apis[name]["seen"] and "app_name" in apis[name]["seen"]
    assert report["missing_grants"] is None
    markdown = (tmp_path / "reports" / "probe-site1.md").read_text()
    assert "| PbxTableUsers | yes | unknown |" in markdown and "Grants not known" in markdown
    assert "- Login as `innovaphone-devices-api`: accepted" in markdown
    assert "`AddCategory`" in markdown


def test_an_app_object_without_the_table_users_grant_is_named(sim, tmp_path):
    sim.control("POST", "apps", {"name": "automation", "password": APP_PASSWORD, "grants": ["Admin"]})
    variables = site_vars(sim, hotdesking_pbx_app_name="automation", hotdesking_pbx_app_password=APP_PASSWORD)
    report, _rows, output = probe(tmp_path, variables)
    apis = dict((api["api"], api) for api in report["pbx_apis"])
    assert apis["PbxAdminApi"] == {"api": "PbxAdminApi", "offered": True, "granted": True,
                                   "seen": "GetPbxConfig answered"}
    assert apis["PbxTableUsers"]["granted"] is False
    assert apis["PbxTableUsers"]["seen"] == (
        "ReplicateStart refused: App object automation is not enabled for PbxTableUsers")
    assert report["missing_grants"] == ["TableUsers"]
    assert sim.stats()["writes"] == 0
    markdown = (tmp_path / "reports" / "probe-site1.md").read_text()
    assert "The App object lacks the grant(s) TableUsers" in markdown
    for text in (output, markdown, (tmp_path / "reports" / "probe-site1.json").read_text()):
        assert APP_PASSWORD not in text

    # Both grants: none missing.
    sim.control("POST", "apps", {"name": "automation", "password": APP_PASSWORD})
    report, _rows, _output = probe(tmp_path, variables)
    assert report["missing_grants"] == []
    assert [api["granted"] for api in report["pbx_apis"][1:]] == [True, True]


def test_a_page_that_cannot_be_read_leaves_the_devices_writes_unseen_with_the_reason(sim, tmp_path):
    # A reverse proxy answers the UI page with its sign-in page.
    sim.control("POST", "faults", {"kind": "html", "path": "/example.com/devices/innovaphone-devices", "rate": 1})
    report, rows, _output = probe(tmp_path, site_vars(sim))
    assert report["devices_ui"] == {"page": sim.url + "/example.com/devices/innovaphone-devices",
                                    "unreadable": "the page loads no script (a sign-in page or another layout?)"}
    for entry in DEVICES_WRITES:
        assert rows[entry]["status"] == "unseen"
        assert rows[entry]["hint"].startswith("the page loads no script (a sign-in page or another layout?); open the "
                                              "Devices app with the browser's developer tools (F12)")
    # Another layout: the page is not where the App object URL of a default installation puts it.
    report, rows, _output = probe(tmp_path, site_vars(
        sim, hotdesking_devices_page_url=sim.url + "/example.com/devices/ui/index.htm"))
    assert report["devices_ui"]["unreadable"].startswith("the page answered HTTP 404: another layout?")
    assert all(rows[entry]["status"] == "unseen" for entry in DEVICES_WRITES)
    assert rows["devices.app"]["status"] == "confirmed"


def test_a_devices_app_that_speaks_otherwise_is_found_out_and_the_overrides_confirm(respelt_devices, tmp_path):
    respelt_devices.reset()
    report, rows, output = probe(tmp_path, site_vars(respelt_devices))
    assert [(login["app"], login["accepted"]) for login in report["devices_apps"]] == [
        ("innovaphone-devices", False), ("innovaphone-devices-api", True)]
    assert rows["devices.app"]["status"] == "contradicted"
    assert rows["devices.add_category"]["status"] == "contradicted"
    assert rows["devices.add_category"]["seen"] == ["CreateCategory"]
    assert rows["devices.update_device_config"]["seen"] == ["EditDeviceConfig"]
    assert [entry for entry in DEVICES_WRITES if rows[entry]["status"] == "confirmed"] == [
        "devices.update_category", "devices.delete_category", "devices.add_device_config",
        "devices.delete_device_config"]
    assert report["suggested_wire_names"] == {"devices": dict(RESPELT_WRITES, app="innovaphone-devices-api")}
    assert "suggested: hotdesking_wire_names" in output

    fixed = site_vars(respelt_devices, hotdesking_wire_names=report["suggested_wire_names"])
    report, rows, _output = probe(tmp_path, fixed)
    assert report["counts"]["contradicted"] == 0 and report["suggested_wire_names"] == {}
    assert all(rows[entry]["status"] == "confirmed" for entry in DEVICES_WRITES + ("devices.app",))
    assert [(login["app"], login["accepted"]) for login in report["devices_apps"]] == [
        ("innovaphone-devices-api", True), ("innovaphone-devices", False)]
