# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PBX modules over PbxAdminApi/PbxTableUsers where SOAP has no counterpart: a write whose connection broke
is sent again without a duplicate, an App object without a grant is named, pbx_api: pbxadminapi without the App
object's credentials fails before any request."""

import json

from conftest import HERE
from simulator import ADMIN_PASSWORD, APP_NAME, APP_PASSWORD, ansible_playbook

PLAYBOOK = """
- name: Users over PbxAdminApi
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Create two users
      innovaphone.pbx.users:
        url: "{{ pbx_url }}"
        password: "{{ pbx_admin_password }}"
        app_name: "{{ app_name | default(omit) }}"
        app_password: "{{ app_password | default(omit) }}"
        pbx_api: pbxadminapi
        users:
          - {name: desk1, extension: "301"}
          - {name: desk2, extension: "302"}
      register: created
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ created | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


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
