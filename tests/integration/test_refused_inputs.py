# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inputs that would weaken the site's security or fail half-way are refused before the first request, in the
inventory's words (issue 16, items 1 and 4): the IP filter's forms and its all-zero mask, misspelt hotdesking_*
variables, the expert configuration's update script and every role variable a module would refuse later. And what
is accepted is written in one form and compared by meaning."""

import json
import re

import pytest
import requests
from requests.auth import HTTPDigestAuth

from role_runs import BASE_PASSWORD, changed_tasks, run_playbook, site_vars
from simulator import ADMIN_PASSWORD, Sim

# Refused from the inventory alone: the role's check names the variable and nothing is sent.
REFUSED = {
    "IP filter mask 0": (
        {"hotdesking_ip_filter": [{"address": "10.0.0.0", "mask": "0"}]},
        "hotdesking_ip_filter[0]: mask 0 matches every address, which turns the IP filter off; set "
        "hotdesking_allow_ip_filter_any to true"),
    "IP filter mask 0.0.0.0": (
        {"hotdesking_ip_filter": [{"address": "192.0.2.0", "mask": "255.255.255.0"},
                                  {"address": "10.0.0.0", "mask": "0.0.0.0"}]},
        "hotdesking_ip_filter[1]: mask 0.0.0.0 matches every address"),
    "IP filter CIDR /0": ({"hotdesking_ip_filter": [{"address": "0.0.0.0/0"}]},
                          "hotdesking_ip_filter[0]: 0.0.0.0/0 matches every address"),
    "IP filter empty mask": ({"hotdesking_ip_filter": [{"address": "10.0.0.0", "mask": ""}]},
                             "hotdesking_ip_filter[0]: 10.0.0.0 has no mask"),
    "IP filter without address": ({"hotdesking_ip_filter": [{"mask": "255.0.0.0"}]},
                                  "hotdesking_ip_filter[0]: no address"),
    "IP filter mask twice": ({"hotdesking_ip_filter": [{"address": "10.0.0.0/8", "mask": "255.0.0.0"}]},
                             "hotdesking_ip_filter[0]: 10.0.0.0/8 already has a mask after '/'"),
    "misspelt variable": ({"hotdesking_ip_fliter": [{"address": "192.0.2.0/24"}]},
                          "site1: hotdesking_ip_fliter is not a variable of this role, so it has no effect (did you "
                          "mean hotdesking_ip_filter?); set hotdesking_unknown_vars: warn (or ignore) to run anyway"),
    "unknown script command": ({"hotdesking_expert_extra_lines": ["config add UP1 /poll 1", "confg write"]},
                               "hotdesking_expert_extra_lines[1]: not an update-script command"),
    "unbalanced quote in a script line": ({"hotdesking_expert_extra_lines": ['config add UP1 /url "http://x/']},
                                          "hotdesking_expert_extra_lines[0]: unbalanced double quote"),
    "user config that is no XML": (
        {"hotdesking_expert_extra_lines": ["vars create PHONE/USER-CFG/00001 p %3cuser%3e%3cf+id='1'"]},
        "hotdesking_expert_extra_lines[0]: the value of PHONE/USER-CFG/00001 is not well-formed XML"),
    "blank in the reset serial": ({"hotdesking_reset_serial": "hot desk"},
                                  "hotdesking_reset_serial: mod cmd UP1 check takes one of"),
    "blank in the base user's name": ({"hotdesking_base_user_name": "hot desk"},
                                      "hotdesking_base_user_name: word 7 is neither a /flag nor the value"),
    "double quote in the base password": ({"hotdesking_base_user_password": 'Base-Role-"Pw-271'},
                                          "hotdesking_base_user_password is weak: it has a blank or a double quote"),
    "empty category name": ({"hotdesking_category_name": ""}, "hotdesking_category_name: must not be empty"),
    "empty expert configuration name": ({"hotdesking_expert_config_name": " "},
                                        "hotdesking_expert_config_name: must not be empty"),
    "empty template name": ({"hotdesking_template_name": ""}, "hotdesking_template_name: must not be empty"),
    "negative function key": ({"hotdesking_function_key_id": -3},
                              "hotdesking_function_key_id: must be 0 or more, not -3"),
    "empty key label": ({"hotdesking_function_key_label": ""},
                        "hotdesking_function_key_label: must be a non-empty text"),
    "PBX URL without scheme": ({"hotdesking_pbx_url": "pbx.example.invalid"},
                               "hotdesking_pbx_url must start with http:// or https:// and name a host, got "
                               "'pbx.example.invalid'"),
    "Devices URL with http": ({"hotdesking_devices_url": "http://apps.example.invalid/example.com/devices"},
                              "hotdesking_devices_url must start with ws:// or wss://"),
    "timeout 0": ({"hotdesking_timeout": 0}, "hotdesking_timeout: must be 1 second or more, not 0"),
    "over-long password": ({"hotdesking_base_user_password": "Base-Role-Password-Far-Too-Long-31"},
                           "hotdesking_base_user_password: at most 23 bytes, the PBX's limit"),
}


def one_line(output):
    return " ".join(output.split())


@pytest.mark.parametrize("overrides, message", REFUSED.values(), ids=list(REFUSED))
def test_refused_before_any_request(site, tmp_path, overrides, message):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **overrides))
    assert code != 0
    assert message in one_line(output), output[-3000:]
    assert "Traceback" not in output and "argument_spec_data" not in output
    assert site.stats()["requests"] == 0


def test_an_ip_filter_entry_without_a_mask_is_one_line_not_an_argument_dump(site, tmp_path):
    code, output = run_playbook(tmp_path, "hotdesking",
                                site_vars(site, hotdesking_ip_filter=[{"address": "192.0.2.0"}]))
    assert code != 0
    failure = [line for line in output.splitlines() if line.startswith("fatal:")]
    assert len(failure) == 1 and len(failure[0]) < 600, failure
    assert "hotdesking_ip_filter[0]: 192.0.2.0 has no mask: give one (mask: 255.255.255.0) or write the address as " \
           "CIDR (192.0.2.0/24)" in failure[0]
    assert site.stats()["requests"] == 0


def cfg(sim, layer=None):
    path = "/cfg.txt" + ("?layer=%s" % layer if layer else "")
    return requests.get(sim.url + path, auth=HTTPDigestAuth("admin", ADMIN_PASSWORD), timeout=10).text


def ip_filter(sim, layer=None):
    return re.search(r"/ip-filter (\S+)", cfg(sim, layer)).group(1)


def pbx_command(sim, text):
    answer = requests.get("%s/!%s" % (sim.url, requests.utils.quote(text)), timeout=10,
                          auth=HTTPDigestAuth("admin", ADMIN_PASSWORD)).text
    assert answer == "ok", answer


def test_cidr_and_prefix_masks_are_written_as_address_and_dotted_mask(site, tmp_path):
    entries = [{"address": "10.0.0.0/8"}, {"address": "192.0.2.7", "mask": "24"},
               {"address": "198.51.100.0", "mask": "/25"}, {"address": "127.0.0.0", "mask": "255.0.0.0"}]
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_ip_filter=entries))
    assert code == 0, output[-3000:]
    written = "10.0.0.0/255.0.0.0,192.0.2.0/255.255.255.0,198.51.100.0/255.255.255.128,127.0.0.0/255.0.0.0"
    assert [ip_filter(site, layer) for layer in (None, "written", "active")] == [written] * 3
    assert changed_tasks(run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_ip_filter=entries))[1]) == 0


def test_a_filter_the_pbx_holds_in_another_form_is_no_drift(site, tmp_path):
    variables = site_vars(site, hotdesking_ip_filter=[{"address": "127.0.0.0", "mask": "255.0.0.0"},
                                                      {"address": "192.0.2.0/24"}])
    assert run_playbook(tmp_path, "hotdesking", variables)[0] == 0
    # An admin (or another tool) writes the same networks in prefix form.
    for command in ("config change PBX0 /reg-no-pwd 0 /ip-filter 127.0.0.0/8,192.0.2.0/24", "config write",
                    "config activate"):
        pbx_command(site, command)
    site.control("POST", "stats/reset")
    code, output = run_playbook(tmp_path, "hotdesking", variables, "--check", "--diff")
    assert code == 0, output[-3000:]
    assert changed_tasks(output) == 0
    assert site.stats()["writes"] == 0
    assert ip_filter(site) == "127.0.0.0/8,192.0.2.0/24"


def test_an_all_zero_mask_with_the_opt_in(site, tmp_path):
    variables = site_vars(site, hotdesking_ip_filter=[{"address": "0.0.0.0/0"}], hotdesking_allow_ip_filter_any=True)
    code, output = run_playbook(tmp_path, "hotdesking", variables)
    assert code == 0, output[-3000:]
    assert ip_filter(site) == "0.0.0.0/0.0.0.0"


def test_a_misspelt_variable_only_warns_with_the_opt_out(site, tmp_path):
    variables = site_vars(site, hotdesking_ip_fliter=[{"address": "192.0.2.0", "mask": "255.255.255.0"}],
                          hotdesking_unknown_vars="warn")
    code, output = run_playbook(tmp_path, "hotdesking", variables)
    assert code == 0, output[-3000:]
    assert "site1: hotdesking_ip_fliter is not a variable of this role, so it has no effect (did you mean " \
           "hotdesking_ip_filter?)" in one_line(output)


def test_the_site_lines_go_into_the_expert_configuration(site, tmp_path):
    extra = ["config add UP1 /poll 1", "mod cmd UP1 poll"]
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, hotdesking_expert_extra_lines=extra))
    assert code == 0, output[-3000:]
    expert = [c for c in site.state()["devices"]["configs"] if c.get("desc") == "Hot Desking"]
    lines = expert[0]["script"].splitlines()
    assert lines[2:] == ["mod cmd UP1 check iresetn hot-desk"] + extra + ["config write", "config activate"]


# Refused after the read, in the words of the inventory.
@pytest.mark.parametrize("overrides, names", [
    ({"hotdesking_devices_password": "not-the-devices-password"},
     ["hotdesking_devices_url", "hotdesking_devices_domain", "hotdesking_devices_password"]),
    ({"hotdesking_pbx_password": "not-the-admin-password"}, ["hotdesking_pbx_username", "hotdesking_pbx_password"]),
], ids=["Devices login", "PBX login"])
def test_a_refused_login_names_the_variables(site, tmp_path, overrides, names):
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(site, **overrides))
    assert code != 0
    assert all(name in output for name in names), output[-3000:]
    assert site.stats()["writes"] == 0


@pytest.fixture
def respelt_filter_name(tmp_path):
    spelling = tmp_path / "wire-names.json"
    spelling.write_text(json.dumps({"config": {"filter_name": "filter-name"}}))
    sim = Sim(tmp_path, ["--wire-names", str(spelling)]).start()
    yield sim
    sim.stop()


def test_a_filter_line_without_the_name_flag_is_named_not_a_crash(respelt_filter_name, tmp_path):
    sim = respelt_filter_name
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(sim, hotdesking_users=[]))
    assert code != 0
    assert "cfg.txt has a `config add PBX0 FILTER` line without the filter's name: this PBX may spell wire name " \
           "'name' (config.filter_name) otherwise: see docs/wire-names.md" in one_line(output), output[-3000:]
    assert "TypeError" not in output and "NoneType" not in output
    assert sim.stats()["writes"] == 0
    # Without the preflight, the template step says the same instead of "unexpected TypeError".
    code, output = run_playbook(tmp_path, "hotdesking", site_vars(sim, hotdesking_users=[],
                                                                  hotdesking_preflight=False))
    assert code != 0
    assert "(config.filter_name) otherwise" in one_line(output) and "TypeError" not in output
    assert sim.stats()["writes"] == 0
    assert BASE_PASSWORD not in output
