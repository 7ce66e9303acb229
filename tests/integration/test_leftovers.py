# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 16, "safe defaults and no silent leftovers": hot-desking registrations of users the inventory no longer
names are removed by default and always reported by compliance; templates and categories the role made and no
longer manages are reported, and removed on request (refused while in use); a site the preflight refuses gets a
report that says why. Role and compliance runs against pbxsim."""

import json

import pytest
import requests
from requests.auth import HTTPDigestAuth

from role_runs import ALICE_PASSWORD, changed_tasks, run_playbook, site_vars
from simulator import ADMIN_PASSWORD, Sim

BOB_PHONE = "009033000001"   # Bob's own desk phone: a device by its MAC, not a hot-desking registration


def devices_of(sim, user):
    return sorted(child["attrs"]["hw"] for child in sim.objects()[user]["children"] if child["tag"] == "device")


def report(tmp_path, site="site1"):
    return json.loads((tmp_path / "reports" / (site + ".json")).read_text())


@pytest.fixture
def two_users(site):
    site.admin('<add><user cn="Bob" h323="bob" e164="102"><device hw="%s" text="desk phone" app="phone"/></user>'
               '</add>' % BOB_PHONE)
    return site


def test_a_user_taken_out_of_the_inventory_loses_the_hotdesking_registration_only(two_users, tmp_path):
    site = two_users
    assert run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_users=["alice", "bob"]))[0] == 0
    assert devices_of(site, "bob") == sorted([BOB_PHONE, "bob"])

    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site), "--diff")
    assert code == 0, output[-6000:]
    assert "hotdesk_registration changed" in output
    assert devices_of(site, "bob") == [BOB_PHONE]          # the desk phone stays
    assert devices_of(site, "alice") == ["alice"] and devices_of(site, "hot-desk-base") == ["hot-desk-base"]


@pytest.mark.parametrize("exclusive", [True, False])
def test_compliance_reports_a_registration_the_inventory_does_not_name_whatever_the_setting(
        two_users, tmp_path, exclusive):
    site = two_users
    assert run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_users=["alice", "bob"]))[0] == 0
    variables = site_vars(site, hotdesking_registration_exclusive=exclusive,
                          hotdesking_report_dir=str(tmp_path / "reports"))
    site.control("POST", "stats/reset")
    code, output = run_playbook(tmp_path, "compliance", variables)
    assert code == 0, output[-6000:]
    assert site.stats()["writes"] == 0
    found = report(tmp_path)
    assert found["in_sync"] is False
    if exclusive:
        assert found["changes"]["hotdesk_registration"] == [{"user": "bob", "action": "update",
                                                             "fields": ["registered"]}]
        assert found["leftovers"] == {}
    else:
        assert found["drift"] == {} and found["leftovers"] == {"hotdesk_registration": ["bob"]}
        assert "- hotdesk_registration: bob" in (tmp_path / "reports" / "site1.md").read_text()
        assert "| site1 | DRIFT | leftover hotdesk_registration |" in (
            tmp_path / "reports" / "summary.md").read_text()
        # A real run keeps it, and says so.
        code, output = run_playbook(tmp_path, "hotdesking", variables)
        assert code == 0 and "leftovers kept: hotdesk_registration bob" in output, output[-6000:]
        assert devices_of(site, "bob") == sorted([BOB_PHONE, "bob"])


def test_a_renamed_template_is_reported_then_removed_on_request(site, tmp_path):
    variables = site_vars(site, hotdesking_report_dir=str(tmp_path / "reports"))
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    assert site.objects()["Hot Desking"]["attrs"]["text"] == "Hot desking, managed by innovaphone.pbx.hotdesking"

    renamed = dict(variables, hotdesking_template_name="Hot Desking 2")
    code, output = run_playbook(tmp_path, "hotdesking", renamed)
    assert code == 0, output[-6000:]
    assert "leftovers kept: template Hot Desking" in output
    assert {"Hot Desking", "Hot Desking 2"} <= set(site.objects())
    assert run_playbook(tmp_path, "compliance", renamed)[0] == 0
    assert report(tmp_path)["leftovers"] == {"template": ["Hot Desking"]}
    assert not report(tmp_path)["in_sync"]

    remove = dict(renamed, hotdesking_remove_stale_objects=True)
    code, output = run_playbook(tmp_path, "compliance", remove)
    assert code == 0, output[-6000:]
    assert report(tmp_path)["steps"]["leftovers"] == "drift"
    assert report(tmp_path)["changes"]["leftovers"] == [{"name": "Hot Desking", "action": "delete", "fields": []}]
    code, output = run_playbook(tmp_path, "hotdesking", remove)
    assert code == 0, output[-6000:]
    assert "leftovers changed" in output
    assert "Hot Desking" not in site.objects() and "Hot Desking 2" in site.objects()
    assert changed_tasks(run_playbook(tmp_path, "hotdesking", remove)[1]) == 0


def test_removing_a_template_a_user_still_names_is_refused(site, tmp_path):
    assert run_playbook(tmp_path, "hotdesking", site_vars(site))[0] == 0
    site.admin('<add><user cn="Carol" h323="carol" e164="103" config="Hot Desking"/></add>')
    remove = site_vars(site, hotdesking_template_name="Hot Desking 2", hotdesking_remove_stale_objects=True)
    code, output = run_playbook(tmp_path, "hotdesking", remove)
    assert code != 0
    assert "config template 'Hot Desking' is still the template of user(s) carol; give them another template" in output
    assert "Hot Desking" in site.objects()


def test_a_renamed_category_is_reported_and_removed_on_request(site, tmp_path):
    variables = site_vars(site, hotdesking_report_dir=str(tmp_path / "reports"))
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    renamed = dict(variables, hotdesking_category_name="site1 desks")
    code, output = run_playbook(tmp_path, "hotdesking", renamed)
    assert code == 0, output[-6000:]
    assert "leftovers kept: category site1 Hotdesking" in output
    assert run_playbook(tmp_path, "compliance", renamed)[0] == 0
    assert report(tmp_path)["leftovers"] == {"category": ["site1 Hotdesking"]}

    code, output = run_playbook(tmp_path, "hotdesking", dict(renamed, hotdesking_remove_stale_objects=True))
    assert code == 0, output[-6000:]
    names = [category["name"] for category in site.state()["devices"]["categories"]]
    assert names == ["site1 desks"]


def test_removing_a_category_phones_are_still_in_is_refused(site, tmp_path):
    variables = site_vars(site, hotdesking_issue_provisioning_code=True)
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    code = site.state()["devices"]["codes"][0]["code"]
    site.control("POST", "phones", {"hw_id": "009033000888", "code": code, "address": "127.0.0.1"})
    remove = site_vars(site, hotdesking_category_name="site1 desks", hotdesking_remove_stale_objects=True)
    code, output = run_playbook(tmp_path, "hotdesking", remove)
    assert code != 0
    assert "Devices category 'site1 Hotdesking' still holds 1 device(s) (009033000888)" in output
    assert "site1 Hotdesking" in [category["name"] for category in site.state()["devices"]["categories"]]


def test_compliance_says_why_the_preflight_refused_a_site(site, tmp_path):
    variables = site_vars(site, hotdesking_report_dir=str(tmp_path / "reports"))
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    site.admin('<del><user cn="Alice"/></del>')        # someone deletes a hot-desking user on the PBX
    code, output = run_playbook(tmp_path, "compliance", variables)
    assert code != 0
    why = "hotdesking_users[0]: no user 'alice' on the PBX"
    found = report(tmp_path)
    assert found["checked"] is False and found["in_sync"] is False and why in found["not_checked"]
    assert why in (tmp_path / "reports" / "site1.md").read_text()
    assert "not checked: Check the inventory against what the PBX holds: " + why in (
        tmp_path / "reports" / "summary.md").read_text()
    assert "no user &#39;alice&#39; on the PBX" in (tmp_path / "reports" / "summary.html").read_text()
    assert ALICE_PASSWORD not in json.dumps(found)


# --- The pending state of the security settings in the compliance report -------------------------------------
WANTED, OTHER = "0", "4"
LAYERS = [(current, written, active) for current in (WANTED, OTHER) for written in (WANTED, OTHER)
          for active in (WANTED, OTHER)]


@pytest.fixture
def eight_pbxs(tmp_path):
    sim = Sim(tmp_path / "pbxsim", ["--count", str(len(LAYERS))]).start()
    yield sim
    sim.stop()


def config_command(url, command):
    answer = requests.get("%s/!%s" % (url, command.replace(" ", "%20")), auth=HTTPDigestAuth("admin", ADMIN_PASSWORD),
                          timeout=10)
    assert answer.status_code == 200 and answer.text.strip() == "ok", answer.text


def test_the_report_shows_the_pending_state_of_every_combination_of_the_layers(eight_pbxs, tmp_path):
    """One PBX per combination of what its current, written and active layer hold ("No of Regs w/o Pwd"; the
    inventory wants 0): the report's "PBX now" says what pbx_info says, a layer is pending when it holds another
    value than the current one. The issue's case: `config change` + `config activate` without `config write`."""
    hosts = {}
    for number, (current, written, active) in enumerate(LAYERS):
        pbx = eight_pbxs.ready["pbxs"][number]
        for value, command in ((written, "config write"), (active, "config activate")):
            config_command(pbx["url"], "config change PBX0 /reg-no-pwd " + value)
            config_command(pbx["url"], command)
        config_command(pbx["url"], "config change PBX0 /reg-no-pwd " + current)
        hosts["site%d" % number] = site_vars(eight_pbxs, hotdesking_pbx_url=pbx["url"], hotdesking_users=[],
                                             hotdesking_devices_url=pbx["devices_url"],
                                             hotdesking_devices_domain=pbx["devices_domain"],
                                             hotdesking_report_dir=str(tmp_path / "reports"))
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    code, output = run_playbook(tmp_path, "compliance", hosts["site1"], "-i", str(inventory))
    assert code == 0, output[-6000:]
    pending, statuses = {}, {}
    for number, (current, written, active) in enumerate(LAYERS):
        found = report(tmp_path, "site%d" % number)
        statuses[current, written, active] = found["steps"]["security"]
        for diff in found["drift"].get("security", []):
            assert diff["before"]["registrations_without_password"] == int(current)
            pending[current, written, active] = (diff["before"]["unwritten"], diff["before"]["inactive"])
    assert pending == dict(((c, w, a), (w != c, a != c)) for c, w, a in LAYERS if not c == w == a == WANTED)
    assert statuses == dict(((c, w, a), "ok" if c == w == a == WANTED else "drift") for c, w, a in LAYERS)
    issue_case = LAYERS.index((OTHER, WANTED, OTHER))
    before = report(tmp_path, "site%d" % issue_case)["drift"]["security"][0]["before"]
    assert before["unwritten"] is True and before["inactive"] is False
