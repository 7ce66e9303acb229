# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PBX modules over PbxAdminApi/PbxTableUsers where SOAP has no counterpart: a write whose connection broke
is sent again without a duplicate, an App object without a grant is named, pbx_api: pbxadminapi without the App
object's credentials fails before any request; writes pipelined on the one WebSocket (`parallel` in flight): a
broken connection or an answer that stays away mid-pipeline costs no duplicate, a refusal names its entry."""

import json
import threading

from conftest import HERE
from simulator import ADMIN_PASSWORD, APP_NAME, APP_PASSWORD, ansible_playbook

PLAYBOOK = """
- name: Users over PbxAdminApi
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    two_desks: [{name: desk1, extension: "301"}, {name: desk2, extension: "302"}]
  tasks:
    - name: Create the users (two unless desk_users says)
      innovaphone.pbx.users:
        url: "{{ pbx_url }}"
        password: "{{ pbx_admin_password }}"
        app_name: "{{ app_name | default(omit) }}"
        app_password: "{{ app_password | default(omit) }}"
        pbx_api: pbxadminapi
        timeout: "{{ pbx_timeout | default(omit) }}"
        parallel: "{{ writes_in_flight | default(omit) }}"
        users: "{{ desk_users | default(two_desks) }}"
      register: created
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ created | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""
DESKS = ["desk%d" % number for number in range(1, 9)]


def run(sim, tmp_path, **variables):
    playbook = tmp_path / "users.yml"
    playbook.write_text(PLAYBOOK)
    result_file = tmp_path / "result.json"
    values = {"pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD, "app_name": APP_NAME,
              "app_password": APP_PASSWORD, "result_file": str(result_file)}
    values.update(variables)
    completed = ansible_playbook(playbook, values, ANSIBLE_ROLES_PATH=str(HERE / "targets"))
    output = completed.stdout + completed.stderr
    assert APP_PASSWORD not in output and ADMIN_PASSWORD not in output
    return completed.returncode, output, json.loads(result_file.read_text()) if result_file.exists() else None


def desks(sim):
    return sorted(name for name in sim.objects() if name.startswith("desk"))


def test_a_create_whose_connection_broke_is_sent_again_once(sim, tmp_path):
    sim.control("POST", "faults", {"kind": "ws_close", "mt": "UpdateObject", "path": "/PBX0/APPS/websocket"})
    code, output, result = run(sim, tmp_path)
    assert code == 0, output[-6000:]
    assert result["changed"] and [c["name"] for c in result["changes"]] == ["desk1", "desk2"]
    assert desks(sim) == ["desk1", "desk2"]
    assert sim.stats()["interfaces"]["soap"] == {"reads": 0, "writes": 0}


def test_an_app_object_without_the_tableusers_grant_is_named(sim, tmp_path):
    sim.control("POST", "apps", {"name": "admin-only", "password": "admin-only-Pw4", "grants": ["Admin"]})
    code, output, _result = run(sim, tmp_path, app_name="admin-only", app_password="admin-only-Pw4")
    assert code != 0
    assert "is the App object admin-only granted TableUsers?" in output
    assert "admin-only-Pw4" not in output
    assert desks(sim) == [] and sim.stats()["writes"] == 0


def test_pbxadminapi_without_the_app_password_fails_before_any_request(sim, tmp_path):
    code, output, _result = run(sim, tmp_path, app_password=None)
    assert code != 0
    assert "app_password is not set" in output
    assert sim.stats()["requests"] == 0


def run_pipelined(sim, tmp_path, **variables):
    users = [{"name": name, "extension": str(300 + number)} for number, name in enumerate(DESKS, 1)]
    return run(sim, tmp_path, desk_users=users, writes_in_flight=4, **variables)


def test_pipelined_creates_whose_connection_broke_mid_pipeline_are_each_made_once(sim, tmp_path):
    # The 4th UpdateObject closes the WebSocket while others are in flight: each is sent again (guid "?" finds
    # by cn what a first send created) on a new connection.
    sim.control("POST", "faults", {"kind": "ws_close", "mt": "UpdateObject", "after": 3})
    code, output, result = run_pipelined(sim, tmp_path)
    assert code == 0, output[-6000:]
    assert result["changed"] and sorted(c["name"] for c in result["changes"]) == DESKS
    assert desks(sim) == DESKS
    assert sorted(o["attrs"]["e164"] for o in sim.objects().values() if o["attrs"].get("h323") in DESKS) == [
        str(300 + number) for number in range(1, 9)]
    assert sim.stats()["interfaces"]["pbxapi"]["writes"] > len(DESKS)   # some went twice, none twice created


def test_answers_that_stay_away_mid_pipeline_are_asked_again_without_a_duplicate(sim, tmp_path):
    # The 3rd UpdateObject is carried out 1.5 s late (and the connection's later messages with it): the answers in
    # flight time out after 1 s, are sent again on the same connection and answered; the late ones are dropped.
    sim.control("POST", "faults", {"kind": "delay", "mt": "UpdateObject", "after": 2, "delay_ms": 1500})
    code, output, result = run_pipelined(sim, tmp_path, pbx_timeout=1)
    assert code == 0, output[-6000:]
    assert sorted(c["name"] for c in result["changes"]) == DESKS
    assert desks(sim) == DESKS
    code, output, result = run_pipelined(sim, tmp_path)
    assert code == 0 and not result["changed"], output[-6000:]


def test_a_refusal_among_pipelined_writes_names_its_entry_and_the_others_are_written(sim, tmp_path):
    # Validation refuses an extension another object holds, so the PBX must learn it later: the first
    # UpdateObject is held (desk1 to desk4 are in flight, desk8 not yet sent) while someone else takes desk8's
    # extension; then the PBX refuses desk8 alone.
    sim.control("POST", "faults", {"kind": "hold", "mt": "UpdateObject"})
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(run_pipelined(sim, tmp_path)))
    runner.start()
    sim.control("POST", "holds/wait", {"timeout": 60})
    sim.admin('<add><user cn="Other" h323="other" e164="308"/></add>')
    sim.control("POST", "holds/release", {})
    runner.join(120)
    code, output, _result = outcome[0]
    assert code != 0
    assert "UpdateObject 'desk8'" in output and "308" in output, output[-3000:]
    # PbxAdminApi has answered the module's reads, so the refusal is about desk8, not the App object's grant.
    assert "granted" not in output, output[-3000:]
    assert desks(sim) == DESKS[:-1]
