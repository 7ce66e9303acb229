# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hotdesking role through its playbooks against a fresh pbxsim: bad inventory, check mode, idempotence,
compliance drift, each with the PBX objects over SOAP and over PbxAdminApi/PbxTableUsers, and a site converged over
one API unchanged over the other. Every run is also checked for leaked secrets."""

import concurrent.futures
import json
import time

import pytest

from pbxsim import wire_names as sim_names
from role_runs import ALICE_PASSWORD, BASE_PASSWORD, PBXADMINAPI_VARS, changed_tasks, run_playbook, site_vars


@pytest.fixture(params=["soap", "pbxadminapi"])
def site(site, request):
    """conftest's site, with site_vars() giving the App object's variables in the pbxadminapi runs."""
    site.pbx_api = request.param
    yield site
    site.pbx_api = None


@pytest.mark.parametrize("overrides, message", [
    ({"hotdesking_base_user_password": "Short-1"}, "hotdesking_base_user_password is weak: it needs at least 12 characters"),
    ({"hotdesking_base_user_password": "hot-desk-base"}, "hotdesking_base_user_password is weak: it is the user name hot-desk-base"),
    ({"hotdesking_temp_user_password": "123456789012"}, "hotdesking_temp_user_password is weak: it is a known default password"),
    ({"hotdesking_temp_user_password": "Temp Role Pw 314"}, "hotdesking_temp_user_password is weak: it has a blank"),
    ({"hotdesking_temp_user_password": BASE_PASSWORD}, "need their own name, extension and password"),
    # The PBX compares names and long names case-insensitively (contract 2).
    ({"hotdesking_temp_user_name": "HOT-DESK-BASE"}, "need their own name, extension and password"),
    ({"hotdesking_temp_user_long_name": "hot desk base"}, "need their own name, extension and password"),
    # 22 characters, but 31 bytes: more than the PBX keeps (reference 1.3a).
    ({"hotdesking_base_user_password": "Äöü-Äöü-Äöü-Basis-2718"}, "hotdesking_base_user_password: at most 23 bytes, the PBX's limit"),
    ({"hotdesking_registrations_without_password": "none"}, "hotdesking_registrations_without_password"),
    ({"hotdesking_temp_user_state": "gone"}, "hotdesking_temp_user_state"),
    ({"hotdesking_devices_url": None}, "hotdesking_devices_url"),
    ({"hotdesking_temp_user_state": "absent", "hotdesking_issue_provisioning_code": True},
     "set hotdesking_provisioning_wait"),
])
def test_bad_inventory_is_rejected_before_any_request(site, tmp_path, overrides, message):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **overrides))
    assert code != 0
    assert message in output
    assert site.stats()["requests"] == 0


def test_check_mode_writes_nothing_and_reports_every_step(site, tmp_path):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site), "--check", "--diff", "-vvv")
    assert code == 0, output[-6000:]
    assert site.stats()["writes"] == 0
    # In check mode nothing changes: a step that differs from the inventory is drift (issue 16).
    assert ("template drift, users drift, hotdesk_registration drift, category drift, "
            "phone_config drift, expert_config drift, security drift, provisioning_code skipped") in output
    assert " changed," not in output.split("Show the run per step")[-1]
    # The role passes its real values in check mode too: the modules only warn about what is missing yet.
    assert "users[0].template: no config template 'Hot Desking' on the PBX now" in output
    assert "users[0]: no user 'hot-desk-base' on the PBX now" in output


def test_second_run_changes_nothing(site, tmp_path):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site))
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 7
    site.control("POST", "stats/reset")
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site))
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 0
    assert site.stats()["writes"] == 0


def test_tags_run_one_step(site, tmp_path):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site), "--tags", "template")
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 1
    assert "template changed, users not run" in output
    assert [o["attrs"]["cn"] for o in site.state()["pbx"]["objects"]] == ["Alice", "Hot Desking"]


def test_compliance_reports_drift_after_a_manual_change(site, tmp_path):
    variables = site_vars(site, hotdesking_fail_on_drift=True, hotdesking_report_dir=str(tmp_path / "reports"))
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    code, output = run_playbook(tmp_path, "compliance", variables)
    assert code == 0, output[-6000:]
    report = json.loads((tmp_path / "reports" / "site1.json").read_text())
    assert report["in_sync"] and report["drift"] == {}

    # Someone removes Alice's hot-desking registration by hand.
    site.admin('<del-attrib><user cn="Alice"><device hw="alice"/></user></del-attrib>')
    code, output = run_playbook(tmp_path, "compliance", variables)
    assert code != 0
    assert "site1 differs from the inventory in hotdesk_registration" in output
    assert site.stats()["writes"] == 0
    report = json.loads((tmp_path / "reports" / "site1.json").read_text())
    assert not report["in_sync"]
    assert list(report["drift"]) == ["hotdesk_registration"]
    assert report["steps"]["users"] == "ok" and report["steps"]["hotdesk_registration"] == "drift"
    assert "## Drift in hotdesk_registration" in (tmp_path / "reports" / "site1.md").read_text()
    assert "| site1 | DRIFT | hotdesk_registration |" in (tmp_path / "reports" / "summary.md").read_text()


def test_verify_runs_the_phone_flow(site, tmp_path):
    assert run_playbook(tmp_path, "hotdesking", site_vars(site))[0] == 0
    code, output = run_playbook(tmp_path, "verify", site_vars(site), "-vvv")
    assert code == 0, output[-6000:]
    assert "hot-desk login as alice ok; wrong password refused" in output
    phone, = site.control("GET", "phones")
    assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]


def test_verify_names_why_the_phone_flow_failed(site, tmp_path):
    assert run_playbook(tmp_path, "hotdesking", site_vars(site))[0] == 0
    code, output = run_playbook(tmp_path, "verify", site_vars(site, hotdesking_verify_phone_address="no-address"))
    assert code != 0
    assert "The phone flow failed: address must be an IP address, not 'no-address'" in output


def temp_user_exists(sim):
    return any(o["attrs"].get("h323") == "temp" for o in sim.state()["pbx"]["objects"])


def test_locked_temp_user_gets_a_new_password_after_provisioning(site, tmp_path):
    locked = site_vars(site, hotdesking_temp_user_state="locked")
    assert changed_tasks(run_playbook(tmp_path, "hotdesking", locked)[1]) == 7
    code, output = run_playbook(tmp_path, "hotdesking", locked, "-e", "hotdesking_issue_provisioning_code=true")
    assert code == 0, output[-6000:]
    assert "provisioning_code changed, temp_user_state changed" in output
    assert temp_user_exists(site)
    assert changed_tasks(run_playbook(tmp_path, "hotdesking", locked)[1]) == 0
    # Against the inventory password the temp user now drifts: its password is no longer the known one.
    present = site_vars(site, hotdesking_report_dir=str(tmp_path / "reports"))
    run_playbook(tmp_path, "compliance", present)
    report = json.loads((tmp_path / "reports" / "site1.json").read_text())
    assert list(report["drift"]) == ["users"]
    # Only the temp user drifts: the report holds its diff, not an empty one of the base user.
    assert [sorted(diff["after"]) for diff in report["drift"]["users"]] == [["temp"]]
    # Its masked diff does not show what differs; its changes do.
    assert report["changes"] == {"users": [{"name": "temp", "action": "update", "fields": ["password"]}]}
    assert "- password" in (tmp_path / "reports" / "site1.md").read_text()


def test_absent_temp_user_lives_only_while_its_code_is_used(site, tmp_path):
    absent = site_vars(site, hotdesking_temp_user_state="absent")
    assert run_playbook(tmp_path, "hotdesking", absent)[0] == 0
    assert not temp_user_exists(site)

    # The role waits for a phone to use the code: a phone is provisioned with it as soon as it exists.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        run = pool.submit(run_playbook, tmp_path, "hotdesking", absent, "-e", "hotdesking_issue_provisioning_code=true",
                          "-e", "hotdesking_provisioning_wait=60")
        deadline = time.monotonic() + 60
        while not site.state()["devices"]["codes"] and time.monotonic() < deadline and not run.done():
            time.sleep(0.1)
        codes = site.state()["devices"]["codes"]
        assert codes, "the role issued no provisioning code: %s" % (run.result()[1][-3000:] if run.done() else "")
        assert temp_user_exists(site)
        phone = site.control("POST", "phones", {"hw_id": "009033000777", "code": codes[0]["code"],
                                                "address": "127.0.0.1"})
        assert phone["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}]
        code, output = run.result(timeout=120)
    assert code == 0, output[-6000:]
    assert not temp_user_exists(site)
    assert changed_tasks(run_playbook(tmp_path, "hotdesking", absent)[1]) == 0


def test_users_of_a_pbx_group_get_the_hotdesking_registration(site, tmp_path):
    site.admin('<add><user cn="Bob" h323="bob" e164="102"><grp name="desk-sharing" mode="static"/></user>'
               '<user cn="Carol" h323="carol" e164="103"><grp name="sales" mode="static"/></user></add>')
    site.admin('<add-attrib><user cn="Alice"><grp name="desk-sharing" mode="static"/></user></add-attrib>')
    variables = site_vars(site, hotdesking_users=[], hotdesking_users_group="desk-sharing")
    code, output = run_playbook(tmp_path, "hotdesking", variables)
    assert code == 0, output[-6000:]
    hotdesk_names = sorted(
        name for name, obj in site.objects().items()
        if any(child["tag"] == "device" and child["attrs"].get("hw") == name for child in obj["children"]))
    assert hotdesk_names == ["alice", "bob", "hot-desk-base"]


def test_a_phone_behind_a_reverse_proxy_needs_trusted_hotdesking_registrations(site, tmp_path):
    """The how-to: "if the registration needs to pass a reverse proxy, you will need to activate the corresponding
    flag or the registration will fail" (the <device> flag trusted, reference 1.4)."""
    untrusted = site_vars(site, hotdesking_issue_provisioning_code=True)
    assert run_playbook(tmp_path, "hotdesking", untrusted)[0] == 0
    code = site.state()["devices"]["codes"][0]["code"]
    hw_id = "009033000888"
    site.control("POST", "phones", {"hw_id": hw_id, "code": code, "address": "127.0.0.1", "via": "proxy"})
    login = {"user": "alice", "password": ALICE_PASSWORD}
    refused = site.control("POST", "phones/%s/hotdesk" % hw_id, login)
    assert not refused["ok"]
    assert all(reg["user"] != "alice" for reg in refused["registrations"])

    trusted = site_vars(site, hotdesking_registration_trusted=True)
    code, output = run_playbook(tmp_path, "hotdesking", trusted)
    assert code == 0, output[-6000:]
    assert "hotdesk_registration changed" in output
    assert all(child["attrs"].get("trusted") == "true" for name, obj in site.objects().items()
               if name in ("alice", "hot-desk-base") for child in obj["children"] if child["attrs"]["hw"] == name)
    site.control("POST", "phones/%s/reboot" % hw_id)
    accepted = site.control("POST", "phones/%s/hotdesk" % hw_id, login)
    assert accepted["ok"], accepted
    assert accepted["registrations"] == [{"user": "hot-desk-base", "hotdesk": False}, {"user": "alice", "hotdesk": True}]
    assert changed_tasks(run_playbook(tmp_path, "hotdesking", trusted)[1]) == 0


def test_a_converged_pbx_is_hardened(site, tmp_path):
    """The how-to's security step from the defaults: no registration without password (pbxsim's factory
    configuration allows 4), and the IP filter from inventory, written and active (what survives a reboot)."""
    ip_filter = [{"address": "192.0.2.0", "mask": "255.255.255.0"}]
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_ip_filter=ip_filter))
    assert code == 0, output[-6000:]
    config = site.state()["config"]
    for layer in ("current", "written", "active"):
        flags = config[layer]["modules"][sim_names.PBX_MODULE]
        assert flags.get(sim_names.REG_NO_PWD_FLAG, "0") == "0", (layer, flags)
        assert "192.0.2.0" in flags[sim_names.IP_FILTER_FLAG] and "255.255.255.0" in flags[sim_names.IP_FILTER_FLAG]


@pytest.mark.parametrize("first, second", [("soap", "pbxadminapi"), ("pbxadminapi", "soap")])
def test_a_site_converged_over_one_api_is_unchanged_over_the_other(sim, tmp_path, first, second):
    """Both APIs read the same PBX objects the same way: what one wrote, the other finds in the wanted state (the
    passwords compared through the PBX key on both)."""
    apis = {"soap": {"hotdesking_pbx_api": "soap"}, "pbxadminapi": PBXADMINAPI_VARS}
    sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % ALICE_PASSWORD)
    site = sim
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **apis[first]))
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 7
    site.control("POST", "stats/reset")
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **apis[second]), "--check", "--diff")
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 0
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **apis[second]))
    assert code == 0, output[-6000:]
    assert changed_tasks(output) == 0
    stats = site.stats()
    assert stats["writes"] == 0
    used = "pbxapi" if second == "pbxadminapi" else "soap"
    assert stats["interfaces"][used]["reads"] > 0
    unused = "soap" if second == "pbxadminapi" else "pbxapi"
    assert stats["interfaces"].get(unused, {}).get("reads", 0) == 0
