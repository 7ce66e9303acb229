# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job templates of docs/awx/ through ansible-runner, the engine AWX runs on its execution nodes, against
pbxsim, with the credentials injected as AWX injects those of the credential types in docs/awx/credential-types/:
the injectors rendered in a Jinja2 sandbox with the credential's inputs (a string input left empty is ""), the
result written to the job's env/extravars with every string tagged !unsafe. Checked: status, stats and set_stats
of every job, and that no secret appears anywhere in the runner's artifact directory, nor in the reports."""

import importlib.util
import os
import pathlib
import shutil
import stat
import tempfile
from types import SimpleNamespace

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from conftest import (ALICE_PASSWORD, BASE_PASSWORD, BIN, DEVICES_PASSWORD, PBX_PASSWORD, REPO, SECRETS,
                      TEMP_PASSWORD, secrets_in, site_vars, tool_env, write_inventory)
from simulator import Sim
from test_secrets_everywhere import forms

AWX = REPO / "docs" / "awx"
SITE_SECRETS_LOOKUP = REPO / "plugins" / "lookup" / "site_secrets.py"
ROLE_OPTIONS = yaml.safe_load((REPO / "roles" / "hotdesking" / "meta" / "argument_specs.yml").read_text())[
    "argument_specs"]["main"]["options"]


def credential_type(name):
    return yaml.safe_load((AWX / "credential-types" / name).read_text())


def job_templates():
    return yaml.safe_load((AWX / "job-templates.yml").read_text())


class Unsafe(str):
    """A credential's extra var: AWX writes it as !unsafe, so Ansible never templates it."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


def inject(ctype, inputs, private_data_dir):
    """(extra vars, environment) a credential of `ctype` with `inputs` gives a job, as AWX's
    CredentialType.inject_credential makes them: each file template rendered into a file of the job's
    private_data_dir/env (mode 0600) whose path the other injectors read as tower.filename (awx.filename), then
    the environment and the extra vars."""
    injectors = ctype["injectors"]
    assert set(injectors) <= {"extra_vars", "env", "file"}, injectors
    fields = ctype["inputs"]["fields"]
    assert set(ctype["inputs"]["required"]) <= {field["id"] for field in fields}
    namespace = {field["id"]: field.get("default", "") for field in fields}
    namespace.update(inputs)
    sandbox = ImmutableSandboxedEnvironment()
    filenames = {}
    for label, template in injectors.get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=private_data_dir / "env")
        with os.fdopen(handle, "w") as written:
            written.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        filenames[label] = path
    if "template" in filenames:
        namespace["tower"] = namespace["awx"] = SimpleNamespace(filename=filenames["template"])
    elif filenames:
        files = SimpleNamespace(**{label.split(".", 1)[1]: path for label, path in filenames.items()})
        namespace["tower"] = namespace["awx"] = SimpleNamespace(filename=files)
    environment = {name: sandbox.from_string(template).render(**namespace)
                   for name, template in injectors.get("env", {}).items()}
    extra_vars = {name: sandbox.from_string(template).render(**namespace)
                  for name, template in injectors.get("extra_vars", {}).items()}
    return extra_vars, environment


def test_credential_types_are_well_formed():
    for name in ("innovaphone-pbx.yml", "innovaphone-devices.yml"):
        ctype = credential_type(name)
        assert ctype["kind"] == "cloud"
        # Secrets go in extra vars only: the runner copies the environment into the artifacts.
        assert set(ctype["injectors"]) == {"extra_vars"}
        for field in ctype["inputs"]["fields"]:
            assert field["type"] == "string"
            assert field.get("secret", False) == ("password" in field["id"]), field
        # Every injected variable is one the role checks (argument_specs), and secret ones are no_log there.
        for variable in ctype["injectors"]["extra_vars"]:
            assert not variable.upper().startswith("ANSIBLE_")
            assert variable in ROLE_OPTIONS, variable
            assert ROLE_OPTIONS[variable].get("no_log", False) == variable.endswith("password"), variable


def test_the_site_secrets_credential_type_injects_a_file_and_its_path_only():
    ctype = credential_type("innovaphone-site-secrets.yml")
    assert ctype["kind"] == "cloud"
    field, = ctype["inputs"]["fields"]
    assert (field["type"], field["secret"], field["multiline"]) == ("string", True, True)
    # The secrets go into the file; the environment holds only its path, the extra vars nothing.
    assert ctype["injectors"] == {"file": {"template": "{{ %s }}" % field["id"]},
                                  "env": {"INNOVAPHONE_SITE_SECRETS_FILE": "{{ tower.filename }}"}}
    # Every variable the file may set is one of the role's options, no_log but the user name (the lookup refuses
    # any other name).
    spec = importlib.util.spec_from_file_location("site_secrets_lookup", SITE_SECRETS_LOOKUP)
    lookup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lookup)
    assert set(lookup.SECRET_VARIABLES) <= set(ROLE_OPTIONS)
    assert [name for name in lookup.SECRET_VARIABLES if not ROLE_OPTIONS[name].get("no_log")] == [
        "hotdesking_pbx_username"]


class AwxJob:
    """One private data directory per job, as AWX prepares it for ansible-runner."""

    def __init__(self, base, hosts, collections_path, credentials, secrets=SECRETS):
        self.base, self.hosts, self.collections_path = base, hosts, collections_path
        self.credentials = credentials  # [(credential type, inputs)]
        self.secrets = [secret for secret in secrets if secret not in ("", "admin")]
        self.runs = 0

    def launch(self, template, **launch_vars):
        """Run `template` as AWX would, with `launch_vars` as the extra vars given at launch (they win)."""
        self.runs += 1
        private = self.base / ("job%d" % self.runs)
        shutil.copytree(AWX / "project", private / "project")
        (private / "inventory").mkdir(parents=True)
        write_inventory(private / "inventory" / "hosts.yml", self.hosts)
        (private / "env").mkdir()
        credential_vars, credential_env = {}, {}
        for ctype, inputs in self.credentials:
            extra_vars, environment = inject(ctype, inputs, private)
            credential_vars.update(extra_vars)
            credential_env.update(environment)
        # The template's own extra vars may be templated; the credentials' may not (!unsafe).
        document = yaml.safe_dump(dict(template["extra_vars"], awx_job_id=self.runs,
                                       awx_job_template_name=template["name"], **launch_vars))
        if credential_vars:
            document += yaml.safe_dump({name: Unsafe(value) for name, value in credential_vars.items()})
        (private / "env" / "extravars").write_text(document)
        cmdline = ["--forks", str(template["forks"])]
        cmdline += ["--check"] if template["job_type"] == "check" else []
        cmdline += ["--diff"] if template["diff_mode"] else []
        result = ansible_runner.run(
            private_data_dir=str(private), playbook=template["playbook"], cmdline=" ".join(cmdline),
            inventory=str(private / "inventory" / "hosts.yml"), ident=template["playbook"].split(".")[0],
            fact_cache_type="jsonfile" if template["use_fact_cache"] else None, quiet=True,
            envvars=dict(credential_env, ANSIBLE_COLLECTIONS_PATH=str(self.collections_path), ANSIBLE_NOCOLOR="1",
                         ANSIBLE_PYTHON_INTERPRETER=str(BIN / "python"), PATH=tool_env()["PATH"]))
        artifacts = pathlib.Path(result.config.artifact_dir)
        # The scan finds what is there: the job's private env/ does hold the credentials (AWX deletes it).
        injected = {inputs[field["id"]] for ctype, inputs in self.credentials for field in ctype["inputs"]["fields"]
                    if field.get("secret") and inputs.get(field["id"])}
        assert {found[1] for found in secrets_in(private / "env", injected)} == injected
        leaked = leaks(artifacts, self.secrets) + leaks(private / "project", self.secrets)
        assert leaked == [], "secrets in the artifacts of %s: %s" % (template["name"], leaked)
        assert (artifacts / "job_events").is_dir() and any((artifacts / "job_events").iterdir())
        assert (artifacts / "command").exists() and (artifacts / "stdout").exists()
        return result, private

    @staticmethod
    def artifact_data(result):
        """The set_stats data of a run (the job's artifacts in AWX)."""
        stats, = [event for event in result.events if event["event"] == "playbook_on_stats"]
        return stats["event_data"].get("artifact_data", {})


def leaks(directory, secrets):
    """[(file, form of a secret)] for every secret under `directory` as it is, URL-encoded, base64, hex, ..."""
    found = []
    for path in sorted(pathlib.Path(directory).rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [(str(path.relative_to(directory)), secret, form) for secret in secrets
                      for form, value in forms(secret).items() if value in data]
    return found


@pytest.fixture
def awx(sim, collections_path, tmp_path):
    # The PBX password as connection password, the key left empty: the users step proves the key from it.
    pbx = (credential_type("innovaphone-pbx.yml"),
           {"password": PBX_PASSWORD, "base_user_password": BASE_PASSWORD, "temp_user_password": TEMP_PASSWORD})
    devices = (credential_type("innovaphone-devices.yml"), {"password": DEVICES_PASSWORD})
    extra_vars = inject(*pbx, tmp_path)[0]
    assert extra_vars["hotdesking_pbx_key_password"] == "" and extra_vars["hotdesking_pbx_username"] == "admin"
    return AwxJob(tmp_path, {"site1": site_vars(sim, secrets=False)}, collections_path, [pbx, devices])


def template_for(playbook):
    template, = [jt for jt in job_templates()["job_templates"] if jt["playbook"] == playbook]
    return template


def test_every_job_template_has_its_playbook():
    templates = job_templates()
    missing = [jt["playbook"] for jt in templates["job_templates"] if not (AWX / "project" / jt["playbook"]).exists()]
    assert missing == []
    names = {jt["name"] for jt in templates["job_templates"]}
    assert {schedule["unified_job_template"] for schedule in templates["schedules"]} <= names
    assert all(schedule["rrule"].startswith("DTSTART;TZID=") for schedule in templates["schedules"])
    compliance = template_for("compliance.yml")
    assert compliance["job_type"] == "check" and compliance["extra_vars"]["hotdesking_fail_on_drift"] is True


def test_converge_compliance_and_probe_as_awx_runs_them(awx, sim):
    converge, compliance, probe = (template_for(name) for name in ("hotdesking.yml", "compliance.yml", "probe.yml"))

    result = awx.launch(converge)[0]
    assert (result.status, result.rc) == ("successful", 0), result.stdout.read()[-4000:]
    assert result.stats["changed"]["site1"] >= 7 and not result.stats["failures"]
    assert awx.artifact_data(result)["hotdesking_summary"]["site1"]["template"] == "changed"

    result = awx.launch(converge)[0]
    assert result.status == "successful"
    assert result.stats["changed"].get("site1", 0) == 0, "the second converge changed something"

    sim.control("POST", "stats/reset")
    reports_dir = {"hotdesking_report_dir": str(awx.base / "reports" / "{{ awx_job_id }}")}
    result, private = awx.launch(compliance, **reports_dir)
    assert result.status == "successful", result.stdout.read()[-4000:]
    assert awx.artifact_data(result)["hotdesking_in_sync"] == {"site1": True}
    assert sim.stats()["writes"] == 0
    reports = awx.base / "reports" / str(awx.runs)
    assert {"site1.json", "site1.md", "summary.md", "summary.html"} <= {path.name for path in reports.iterdir()}

    # Someone removes Alice's hot-desking registration by hand: the scheduled compliance job goes red.
    sim.admin('<del-attrib><user cn="Alice"><device hw="alice"/></user></del-attrib>')
    result, private = awx.launch(compliance, **reports_dir)
    assert (result.status, result.rc) == ("failed", 2)
    assert result.stats["failures"] == {"site1": 1}
    assert awx.artifact_data(result)["hotdesking_in_sync"] == {"site1": False}
    assert sim.stats()["writes"] == 0
    assert "DRIFT" in (awx.base / "reports" / str(awx.runs) / "summary.md").read_text()
    assert secrets_in(awx.base / "reports") == []

    result = awx.launch(probe, **reports_dir)[0]
    assert result.status == "successful", result.stdout.read()[-4000:]
    counts = awx.artifact_data(result)["hotdesking_probe"]["site1"]
    assert counts["contradicted"] == 0 and counts["confirmed"] > 0

    # The nightly logout: nobody is logged in on a simulated phone, so it changes nothing.
    result = awx.launch(template_for("logout.yml"))[0]
    assert result.status == "successful", result.stdout.read()[-4000:]
    assert awx.artifact_data(result)["hotdesking_logout"] == {"site1": []}
    assert result.stats["changed"].get("site1", 0) == 0


# Three sites with passwords of their own, with characters that URL-encoding changes (and a "{{" that must not be
# templated): site2 logs in with its PBX password (no key), the others as admin with the PBX password as key.
SITE_PASSWORDS = {
    "site1": {"admin": "S1-Adm%41+&Pw=9", "pbx": "S1-Pbx+%2F&Key=7", "devices": "S1-Dev&%20+Pw=3",
              "base": "S1-Base%40+&Pw=8", "temp": "S1-Temp+%3D&Pw=5"},
    "site2": {"admin": "S2-Adm=%25+Pw&1", "pbx": "S2-Pbx&%3F+Key=2", "devices": "S2-Dev+%26=Pw&4",
              "base": "S2-Base&+%2B=Pw6", "temp": "S2-Temp%2F+&=Pw7"},
    "site3": {"admin": "S3-Adm+&%3APw=5", "pbx": "S3-Pbx%23+&Key=8", "devices": "S3-Dev%3B&+Pw=9",
              "base": "S3-Base+=%24&Pw2", "temp": "S3-Tmp{{x}}+&Pw=3"},
}
SITE_SECRETS = [secret for passwords in SITE_PASSWORDS.values() for secret in passwords.values()]


def site_entry(site):
    """The site's entry of the site secrets credential, keyed by the role's variables."""
    passwords = SITE_PASSWORDS[site]
    entry = {"hotdesking_devices_password": passwords["devices"],
             "hotdesking_base_user_password": passwords["base"], "hotdesking_temp_user_password": passwords["temp"]}
    if site == "site2":
        entry["hotdesking_pbx_password"] = passwords["pbx"]
    else:
        entry.update(hotdesking_pbx_password=passwords["admin"], hotdesking_pbx_key_password=passwords["pbx"])
    return entry


@pytest.fixture(scope="module")
def site_sims(tmp_path_factory):
    sims = {}
    try:
        for site, passwords in SITE_PASSWORDS.items():
            sims[site] = Sim(tmp_path_factory.mktemp("pbxsim-" + site), admin_password=passwords["admin"],
                             pbx_password=passwords["pbx"], devices_password=passwords["devices"]).start()
        yield sims
    finally:
        for sim in sims.values():
            sim.stop()


def site_secrets_job(sims, collections_path, base, entries):
    credential = (credential_type("innovaphone-site-secrets.yml"), {"sites": yaml.safe_dump(entries)})
    hosts = {site: site_vars(sim, secrets=False) for site, sim in sims.items()}
    return AwxJob(base, hosts, collections_path, [credential], secrets=SITE_SECRETS + list(SECRETS))


def test_one_job_template_over_three_sites_with_their_own_secrets(site_sims, collections_path, tmp_path):
    for sim in site_sims.values():
        sim.reset()
        sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % ALICE_PASSWORD)
    sites = sorted(site_sims)
    awx = site_secrets_job(site_sims, collections_path, tmp_path, {site: site_entry(site) for site in sites})
    converge, compliance, probe, logout = (template_for(name) for name in (
        "hotdesking.yml", "compliance.yml", "probe.yml", "logout.yml"))

    result, private = awx.launch(converge)
    assert (result.status, result.rc) == ("successful", 0), result.stdout.read()[-4000:]
    assert not result.stats["failures"] and all(result.stats["changed"][site] >= 7 for site in sites)
    # Only the path of the secrets file reaches the job's environment (which the runner copies to the artifacts).
    secrets_file, = (private / "env").glob("tmp*")
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert str(secrets_file) in (pathlib.Path(result.config.artifact_dir) / "command").read_text()

    result = awx.launch(converge)[0]
    assert result.status == "successful", result.stdout.read()[-4000:]
    assert {site: result.stats["changed"].get(site, 0) for site in sites} == dict.fromkeys(sites, 0)

    for sim in site_sims.values():
        sim.control("POST", "stats/reset")
    result = awx.launch(compliance, hotdesking_report_dir=str(tmp_path / "reports"))[0]
    assert result.status == "successful", result.stdout.read()[-4000:]
    assert awx.artifact_data(result)["hotdesking_in_sync"] == dict.fromkeys(sites, True)
    assert [sim.stats()["writes"] for sim in site_sims.values()] == [0, 0, 0]
    assert leaks(tmp_path / "reports", awx.secrets) == []

    result = awx.launch(probe, hotdesking_report_dir=str(tmp_path / "reports"))[0]
    assert result.status == "successful", result.stdout.read()[-4000:]
    assert all(counts["contradicted"] == 0 for counts in awx.artifact_data(result)["hotdesking_probe"].values())
    result = awx.launch(logout)[0]
    assert result.status == "successful", result.stdout.read()[-4000:]
    assert awx.artifact_data(result)["hotdesking_logout"] == {site: [] for site in sites}


def test_a_site_without_its_secret_fails_before_any_request_and_the_others_go_on(
        site_sims, collections_path, tmp_path):
    for sim in site_sims.values():
        sim.reset()
        sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % ALICE_PASSWORD)
    entries = {site: site_entry(site) for site in site_sims}
    del entries["site2"]["hotdesking_base_user_password"]
    awx = site_secrets_job(site_sims, collections_path, tmp_path, entries)
    result = awx.launch(template_for("hotdesking.yml"))[0]
    assert result.status == "failed"
    assert result.stats["failures"] == {"site2": 1}
    assert result.stats["changed"]["site1"] >= 7 and result.stats["changed"]["site3"] >= 7
    failed, = [event["event_data"] for event in result.events if event["event"] == "runner_on_failed"]
    assert failed["host"] == "site2"
    assert ("site site2: hotdesking_base_user_password is not set (in its entry of the site secrets file"
            in failed["res"]["msg"]), failed["res"]
    assert site_sims["site2"].stats()["requests"] == 0
