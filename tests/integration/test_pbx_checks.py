# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What only the documented API can check, checked before the first write (issue 18 item 3), against pbxsim: a
free port license for the Hot Desk Base user (GetPbxLicenses), the template's call filters (GetFilters), reverse
proxies (GetRPs) and hot-desking registrations without trusted; over SOAP, a note that these need the App object."""

import json

import requests
import yaml
from requests.auth import HTTPDigestAuth

from role_runs import PBXADMINAPI_VARS, changed_tasks, run_playbook, site_vars
from simulator import ADMIN_PASSWORD, APP_NAME, APP_PASSWORD, ansible_playbook, respelt_sim

NO_LICENSE = ("hotdesking_base_user_name: the Hot Desk Base user hot-desk-base does not exist yet and needs a free "
              "port license (the how-to: it \"requires one port license\"), but the PBX has 0 port licenses and 0 "
              "are used")
SOAP_NOTE = ("not checked over SOAP (it needs the App object, hotdesking_pbx_app_name and hotdesking_pbx_app_password): "
             "a free port license for the Hot Desk Base user, and the PBX's reverse proxies against "
             "hotdesking_registration_trusted")
UNTRUSTED = ("trusted (hotdesking_registration_trusted in the role) is false, but the PBX has reverse proxies "
             "(192.0.2.10): a hot-desk login through one fails without the flag trusted (the how-to: \"or the "
             "registration will fail\")")


def one_line(output):
    return " ".join(output.split())


def pbx_command(sim, text):
    answer = requests.get("%s/!%s" % (sim.url, requests.utils.quote(text)), timeout=10,
                          auth=HTTPDigestAuth("admin", ADMIN_PASSWORD)).text
    assert answer == "ok", answer


def api_vars(site, **overrides):
    return site_vars(site, **dict(PBXADMINAPI_VARS, **overrides))


def test_no_free_port_license_for_the_base_user_fails_before_any_write(site, tmp_path):
    site.control("POST", "licenses", {"port": 0})
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site))
    assert code != 0
    assert NO_LICENSE in one_line(output), output[-3000:]
    assert site.stats()["writes"] == 0
    assert "hot-desk-base" not in site.objects()


def test_an_existing_base_user_needs_no_license(site, tmp_path):
    assert run_playbook(tmp_path, "hotdesking", api_vars(site))[0] == 0
    site.control("POST", "licenses", {"port": 0})
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site))
    assert code == 0, output[-3000:]
    assert changed_tasks(output) == 0
    assert "port license" not in output


def test_a_pbx_in_test_mode_is_said_not_refused(site, tmp_path):
    site.control("POST", "licenses", {"port": None})
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site))
    assert code == 0, output[-3000:]
    assert "the PBX lists no licenses (test mode, or none installed), so a free port license for the Hot Desk Base " \
           "user was not checked" in one_line(output)
    assert "hot-desk-base" in site.objects()


def test_a_missing_call_filter_is_named_from_getfilters(site, tmp_path):
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site, hotdesking_template_call_filter="hotdesk"))
    assert code != 0
    assert "hotdesking_template_call_filter: no filter 'hotdesk' on the PBX (known: intern, normal, " \
           "international)" in one_line(output), output[-3000:]
    assert site.stats()["writes"] == 0
    # Added through the command interface, GetFilters lists it and the run goes through.
    for command in ("config add PBX0 FILTER /name hotdesk", "config activate"):
        pbx_command(site, command)
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site, hotdesking_template_call_filter="hotdesk"))
    assert code == 0, output[-3000:]


def test_over_pbxadminapi_the_filters_are_not_read_from_cfg_txt(tmp_path):
    """A PBX whose cfg.txt spells the filter's name flag otherwise: SOAP cannot tell its filters (test_refused_inputs),
    GetFilters can, so the preflight and the template step go through."""
    sim = respelt_sim(tmp_path, {"config": {"filter_name": "filter-name"}})
    try:
        code, output = run_playbook(tmp_path, "hotdesking", api_vars(sim, hotdesking_users=[]))
        assert code == 0, output[-3000:]
        assert "config.filter_name" not in output
        template = sim.objects()["Hot Desking"]["attrs"]
        assert (template["filter"], template["cd-filter"]) == ("intern", "intern")
    finally:
        sim.stop()


def test_reverse_proxies_without_trusted_warn_naming_the_variable(site, tmp_path):
    site.control("POST", "rps", {"rp": [{"addr": "192.0.2.10", "cert": "009033000010"}]})
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site))
    assert code == 0, output[-3000:]
    assert UNTRUSTED in one_line(output), output[-3000:]
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site, hotdesking_registration_trusted=True))
    assert code == 0, output[-3000:]
    assert "reverse proxies" not in output
    # Not given, the module keeps the flag as the PBX has it: set now, no warning; a new registration gets none.
    site.admin('<add><user cn="Bob" h323="bob" e164="102"/></add>')
    assert "reverse proxies" not in registration(site, tmp_path, ["hot-desk-base", "alice"])
    assert "trusted (hotdesking_registration_trusted in the role) is not set, but the PBX has reverse proxies " \
           "(192.0.2.10)" in one_line(registration(site, tmp_path, ["hot-desk-base", "alice", "bob"]))


def registration(sim, tmp_path, users):
    """The output of module hotdesk_registration for `users`, trusted not given."""
    return run_module(sim, tmp_path, "hotdesk_registration", {"pbx_api": "pbxadminapi", "users": users})[0]


def test_without_reverse_proxies_an_untrusted_registration_is_no_warning(site, tmp_path):
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site))
    assert code == 0, output[-3000:]
    assert "hotdesking_registration_trusted" not in output


def test_over_soap_the_summary_says_what_needs_the_app_object_and_nothing_fails(site, tmp_path):
    site.control("POST", "licenses", {"port": 0})
    site.control("POST", "rps", {"rp": [{"addr": "192.0.2.10"}]})
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_pbx_api="soap"))
    assert code == 0, output[-3000:]
    assert one_line(output).count(SOAP_NOTE) == 1, output[-3000:]
    assert "hotdesking_registration_trusted in the role" not in output and "port licenses" not in output
    assert site.stats()["interfaces"]["pbxapi"] == {"reads": 0, "writes": 0}


PLAYBOOK = """
- name: One module against pbxsim
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Run the module
      innovaphone.pbx.%s: "{{ {'url': pbx_url, 'password': pbx_admin_password, 'app_name': app_name,
                              'app_password': app_password} | combine(options) }}"
      register: outcome
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ outcome | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def run_module(sim, tmp_path, module, options):
    """(output, result) of one run of `module` with the connection options and `options`."""
    playbook = tmp_path / (module + ".yml")
    playbook.write_text(PLAYBOOK % module)
    result_file = tmp_path / (module + ".json")
    completed = ansible_playbook(playbook, {"pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD,
                                            "app_name": APP_NAME, "app_password": APP_PASSWORD, "options": options,
                                            "result_file": str(result_file)})
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    return output, json.loads(result_file.read_text())


def pbx_info(sim, tmp_path, api):
    return run_module(sim, tmp_path, "pbx_info", {"pbx_api": api})[1]


def test_pbx_info_gives_licenses_and_reverse_proxies_over_pbxadminapi_and_null_over_soap(sim, tmp_path):
    sim.control("POST", "licenses", {"port": 5})
    sim.control("POST", "rps", {"rp": [{"addr": "192.0.2.10", "cert": "009033000010"}]})
    info = pbx_info(sim, tmp_path, "pbxadminapi")
    assert info["pbx_api"] == "pbxadminapi"
    assert info["licenses"] == {"test_mode": False, "items": [
        {"name": "Port", "count": 5, "local": 5, "slaves": 0, "used": 0, "version": "13"}]}
    assert info["reverse_proxies"] == [{"addr": "192.0.2.10", "cert": "009033000010"}]
    assert info["filters"] == ["intern", "normal", "international"]
    assert "notes" not in info
    sim.control("POST", "licenses", {"port": None})
    assert pbx_info(sim, tmp_path, "pbxadminapi")["licenses"] == {"test_mode": True, "items": []}
    info = pbx_info(sim, tmp_path, "soap")
    assert info["pbx_api"] == "soap" and info["licenses"] is None and info["reverse_proxies"] is None
    assert info["filters"] == ["intern", "normal", "international"]
    assert info["notes"] == ["licenses, reverse_proxies: not readable over SOAP (no documented read); set app_name "
                             "and app_password to read them over PbxAdminApi (docs/guide.md)"]


def test_registration_flags_given_as_null_keep_what_the_pbx_has(site, tmp_path):
    """The role's argument spec documents null for the three flags ("leaves the flag as the PBX has it"): it is taken,
    not refused as a bool that cannot be None, and nothing is written."""
    assert run_playbook(tmp_path, "hotdesking", api_vars(site, hotdesking_registration_trusted=True))[0] == 0
    flags = ("hotdesking_registration_trusted", "hotdesking_registration_tls", "hotdesking_registration_no_filter")
    inventory = tmp_path / "null-flags.yml"   # site_vars leaves out a None, so the inventory is written here
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"site1": dict(api_vars(site), **dict.fromkeys(flags))}}}))
    code, output = run_playbook(tmp_path, "hotdesking", {}, inventory=inventory)
    assert code == 0, output[-3000:]
    assert changed_tasks(output) == 0
    # The null run kept trusted: taking it away now is a change.
    code, output = run_playbook(tmp_path, "hotdesking", api_vars(site, hotdesking_registration_trusted=False))
    assert code == 0 and changed_tasks(output) > 0, output[-3000:]
