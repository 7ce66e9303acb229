# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Playbook export, round trip: a site configured by hand (SOAP Admin, /!config and Devices messages, as an admin
does it in the UI) and a site the role converged are exported; the role run with the export, its secrets filled
in, changes nothing and compliance finds the site in sync. No secret reaches the export's files or output."""

import base64
import json
import os
import urllib.parse

import requests
import yaml
from requests.auth import HTTPDigestAuth

from pbxsim import appws, wire_names as sim_names
from role_runs import (BASE_PASSWORD, DEVICES_PASSWORD, DOMAIN, SECRETS, TEMP_PASSWORD, changed_tasks, run_playbook,
                       site_vars)
from simulator import ADMIN_PASSWORD, PBX_PASSWORD

HAND_BASE_PASSWORD = "Desk-Base-Pw-4711"
HAND_TEMP_PASSWORD = "Desk-Temp-Pw-0815"
BOB_PASSWORD = "Bob-Hand-Pw-1234"
ALL_SECRETS = SECRETS + (HAND_BASE_PASSWORD, HAND_TEMP_PASSWORD, BOB_PASSWORD)
# The update script as the admin typed it: key 2 labelled "Desk", "Leave desk" while logged in.
HAND_KEY_LINE = ("vars create PHONE/USER-CFG/00000 p %3cuser%3e%3cf+id='2'+label='Desk'%3e"
                 "%3chotdesk+label='Leave+desk'+pbx='1'/%3e%3c/f%3e%3c/user%3e")
HAND_SCRIPT = "\n".join(["config add PHONE SIG /h323 desk-base /gk-pwd " + HAND_BASE_PASSWORD, HAND_KEY_LINE,
                         "mod cmd UP1 check iresetn branch-1", "config write", "config activate"])
# The connection variables: all an inventory needs before the export.
CONNECTION = ("hotdesking_pbx_url", "hotdesking_pbx_password", "hotdesking_pbx_key_password", "hotdesking_devices_url",
              "hotdesking_devices_password", "hotdesking_devices_domain")


def config_command(sim, command):
    """/!<command> as an admin's browser or script sends it (digest auth)."""
    response = requests.get("%s/!%s" % (sim.url, urllib.parse.quote(command)), timeout=10,
                            auth=HTTPDigestAuth("admin", ADMIN_PASSWORD), verify=sim.ca or True)
    assert response.status_code == 200 and response.text.strip() == sim_names.COMMAND_OK, response.text


def configure_by_hand(sim):
    """The how-to done by hand, with names and values of the admin's own choosing (none is a role default)."""
    sim.admin('<add><user cn="Branch Desks" filter="intern" cd-filter="normal" phone-config="true">'
              '<pseudo type="config"/></user></add>')
    sim.admin('<add><user cn="Desk Base" h323="desk-base" e164="#710" pwd="%s" hide="true" config="Branch Desks">'
              '<device hw="desk-base" text="Hotdesking" app="phone" trusted="true"/></user></add>'
              % HAND_BASE_PASSWORD)
    sim.admin('<add><user cn="Desk Temp" h323="desk-temp" e164="#720" pwd="%s" hide="true" config="Branch Desks"/>'
              '</add>' % HAND_TEMP_PASSWORD)
    sim.admin('<add><user cn="Bob" h323="bob" e164="102" pwd="%s">'
              '<device hw="bob" text="Hotdesking" app="phone" trusted="true"/></user></add>' % BOB_PASSWORD)
    sim.admin('<add><user cn="Carol" h323="carol" e164="103"/></add>')
    config_command(sim, "config change PBX0 /reg-no-pwd 0 /ip-filter 127.0.0.0/255.0.0.0")
    config_command(sim, "config write")
    config_command(sim, "config activate")
    with appws.AppClient(sim.devices_url) as client:
        assert client.login(sim_names.DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]
        domain = next(d["id"] for d in client.listing("GetDomains", "domains") if d["name"] == sim.devices_domain)
        category = client.call("AddCategory", domainId=domain, name="Branch Hot Desks", config=True)["id"]
        for fields in ({"type": "PHONE", "desc": "Desk Phones", "gk1": "127.0.0.1", "gkId": "branch-gk"},
                       {"type": "EXPERT", "desc": "Desk Sharing", "script": HAND_SCRIPT}):
            answer = client.call("AddDeviceConfig", domainId=domain, categories=[category], **fields)
            assert "error" not in answer, answer
    sim.control("POST", "stats/reset")


def export(sim, tmp_path, inventory, *args):
    """Run playbook export over `inventory` (site1's connection variables); returns the output and the export
    directory."""
    directory = tmp_path / "export"
    code, output = run_playbook(tmp_path, "export", dict(inventory, hotdesking_export_dir=str(directory)), *args)
    assert code == 0, output[-6000:]
    assert sim.stats()["writes"] == 0
    scan_for_secrets(directory, output)
    return output, directory


def scan_for_secrets(directory, output):
    texts = [output] + [path.read_text() for path in directory.rglob("*") if path.is_file()]
    for secret in ALL_SECRETS:
        forms = (secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
                 base64.b64encode(secret.encode()).decode())
        assert not any(form in text for form in forms for text in texts), "a secret in the export"


def run_exported(tmp_path, playbook, directory, secrets, *args):
    """Run playbooks/<playbook>.yml with an inventory directory as an operator builds it from the export: the
    exported host_vars/ as they are, the vault variables they name (here in clear) in group_vars/all/."""
    inventory = tmp_path / ("inventory-" + playbook)
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"site1": None}}}))
    os.symlink(directory / "host_vars", inventory / "host_vars")
    (inventory / "group_vars" / "all" / "vault.yml").write_text(yaml.safe_dump(secrets))
    code, output = run_playbook(tmp_path, playbook, None, *args, inventory=inventory)
    assert not [s for s in ALL_SECRETS if s in output], "secrets in the output of %s" % playbook
    assert code == 0, output[-6000:]
    return output


def filled_secrets(directory, base, temp):
    """secrets-needed.md's vault variables with the site's passwords, as the operator fills them."""
    table = [line.split("|")[2:4] for line in (directory / "secrets-needed.md").read_text().splitlines()
             if line.startswith("| site1 |")]
    known = {"hotdesking_pbx_password": ADMIN_PASSWORD, "hotdesking_pbx_key_password": PBX_PASSWORD,
             "hotdesking_devices_password": DEVICES_PASSWORD, "hotdesking_base_user_password": base,
             "hotdesking_temp_user_password": temp}
    return dict((vault.strip(), known[variable.strip()]) for variable, vault in table)


def assert_round_trip(sim, tmp_path, directory, base, temp):
    secrets = filled_secrets(directory, base, temp)
    assert len(secrets) == 5
    output = run_exported(tmp_path, "hotdesking", directory, secrets)
    assert changed_tasks(output) == 0
    assert sim.stats()["writes"] == 0
    reports = tmp_path / "reports"
    run_exported(tmp_path, "compliance", directory, dict(secrets, hotdesking_report_dir=str(reports)))
    report = json.loads((reports / "site1.json").read_text())
    assert report["in_sync"] and report["drift"] == {}, report


def test_a_site_configured_by_hand_exports_to_an_inventory_the_role_keeps(sim, tmp_path):
    configure_by_hand(sim)
    inventory = dict((name, value) for name, value in site_vars(sim).items() if name in CONNECTION)
    output, directory = export(sim, tmp_path, inventory)
    exported = yaml.safe_load((directory / "host_vars" / "site1.yml").read_text())
    assert exported == {
        "hotdesking_pbx_url": sim.url,
        "hotdesking_pbx_password": "{{ vault_site1_pbx_password }}",
        "hotdesking_pbx_key_password": "{{ vault_site1_pbx_key_password }}",
        "hotdesking_devices_url": inventory["hotdesking_devices_url"],
        "hotdesking_devices_password": "{{ vault_site1_devices_password }}",
        "hotdesking_devices_domain": DOMAIN,
        "hotdesking_template_name": "Branch Desks",
        "hotdesking_template_call_filter": "intern",
        "hotdesking_template_call_forward_filter": "normal",
        "hotdesking_template_store_phone_config": True,
        "hotdesking_base_user_name": "desk-base",
        "hotdesking_base_user_long_name": "Desk Base",
        "hotdesking_base_user_extension": "#710",
        "hotdesking_base_user_password": "{{ vault_site1_base_user_password }}",
        "hotdesking_temp_user_name": "desk-temp",
        "hotdesking_temp_user_long_name": "Desk Temp",
        "hotdesking_temp_user_extension": "#720",
        "hotdesking_temp_user_password": "{{ vault_site1_temp_user_password }}",
        "hotdesking_hide_from_ldap": True,
        "hotdesking_users": ["bob"],
        "hotdesking_phone_app": "phone",
        "hotdesking_registration_trusted": True,
        "hotdesking_registration_tls": False,
        "hotdesking_registration_no_filter": False,
        "hotdesking_category_name": "Branch Hot Desks",
        "hotdesking_phone_config_name": "Desk Phones",
        "hotdesking_gatekeeper_id": "branch-gk",
        "hotdesking_primary_gatekeeper": "127.0.0.1",
        "hotdesking_expert_config_name": "Desk Sharing",
        "hotdesking_function_key_id": 2,
        "hotdesking_function_key_label": "Desk",
        "hotdesking_function_key_logout_label": "Leave desk",
        "hotdesking_reset_serial": "branch-1",
        "hotdesking_registrations_without_password": 0,
        "hotdesking_ip_filter": [{"address": "127.0.0.0", "mask": "255.0.0.0"}],
    }
    assert "mapped everything" in (directory / "notes" / "site1.md").read_text()
    assert "vault_site1_base_user_password" in output
    assert_round_trip(sim, tmp_path, directory, HAND_BASE_PASSWORD, HAND_TEMP_PASSWORD)


def test_what_the_role_would_not_write_goes_into_the_notes(sim, tmp_path):
    configure_by_hand(sim)
    sim.admin('<add><user cn="Spare Temp" h323="spare-temp" e164="#730" config="Branch Desks"/></add>')
    with appws.AppClient(sim.devices_url) as client:
        assert client.login(sim_names.DEVICES_APP, sim.devices_domain, DEVICES_PASSWORD)["ok"]
        config = next(c for c in client.listing("GetDeviceConfigs", "configs", domainId=1) if c["type"] == "EXPERT")
        answer = client.call("UpdateDeviceConfig", id=config["id"], script=HAND_SCRIPT + "\nconfig change FOO /x 1")
        assert "error" not in answer, answer
    sim.control("POST", "stats/reset")
    inventory = dict((name, value) for name, value in site_vars(sim).items() if name in CONNECTION)
    _output, directory = export(sim, tmp_path, inventory)
    exported = yaml.safe_load((directory / "host_vars" / "site1.yml").read_text())
    assert "hotdesking_temp_user_name" not in exported
    assert exported["hotdesking_function_key_label"] == "Desk"
    note = (directory / "notes" / "site1.md").read_text()
    assert "candidates: `desk-temp`, `spare-temp`" in note
    assert "config change FOO /x 1" in note
    assert "# hotdesking_temp_user_name: not exported" in (directory / "host_vars" / "site1.yml").read_text()


def test_a_site_the_role_converged_exports_to_its_own_inventory(site, tmp_path):
    variables = site_vars(site)
    code, output = run_playbook(tmp_path, "hotdesking", variables)
    assert code == 0, output[-6000:]
    site.control("POST", "stats/reset")
    # In check mode too: the export's files are its output, the PBX and the Devices app are only read.
    output, directory = export(site, tmp_path, dict((k, v) for k, v in variables.items() if k in CONNECTION),
                               "--check")
    exported = yaml.safe_load((directory / "host_vars" / "site1.yml").read_text())
    for name in ("hotdesking_users", "hotdesking_primary_gatekeeper"):
        assert exported[name] == variables[name]
    assert exported["hotdesking_category_name"] == "site1 Hotdesking"
    assert exported["hotdesking_function_key_label"] == "hot-desking"
    assert "mapped everything" in (directory / "notes" / "site1.md").read_text()
    assert_round_trip(site, tmp_path, directory, BASE_PASSWORD, TEMP_PASSWORD)
