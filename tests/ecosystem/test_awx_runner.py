# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job templates of docs/awx/ through ansible-runner, the engine AWX runs on its execution nodes, against
pbxsim, with the credentials injected as AWX injects those of the credential types in docs/awx/credential-types/:
the injectors rendered in a Jinja2 sandbox with the credential's inputs (a string input left empty is ""), the
result written to the job's env/extravars with every string tagged !unsafe. Checked: status, stats and set_stats
of every job, and that no secret appears anywhere in the runner's artifact directory, nor in the reports."""

import pathlib
import shutil

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from conftest import (BASE_PASSWORD, BIN, DEVICES_PASSWORD, PBX_PASSWORD, REPO, TEMP_PASSWORD, secrets_in, site_vars, tool_env,
                      write_inventory)

AWX = REPO / "docs" / "awx"
ROLE_OPTIONS = yaml.safe_load((REPO / "roles" / "hotdesking" / "meta" / "argument_specs.yml").read_text())[
    "argument_specs"]["main"]["options"]


def credential_type(name):
    return yaml.safe_load((AWX / "credential-types" / name).read_text())


def job_templates():
    return yaml.safe_load((AWX / "job-templates.yml").read_text())


class Unsafe(str):
    """A credential's extra var: AWX writes it as !unsafe, so Ansible never templates it."""


yaml.SafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


def inject(ctype, inputs):
    """The extra vars a credential of `ctype` with `inputs` gives a job."""
    injectors = ctype["injectors"]
    assert set(injectors) == {"extra_vars"}, "secrets go in extra vars only: the runner copies env into artifacts"
    fields = ctype["inputs"]["fields"]
    assert set(ctype["inputs"]["required"]) <= {field["id"] for field in fields}
    namespace = {field["id"]: field.get("default", "") for field in fields}
    namespace.update(inputs)
    sandbox = ImmutableSandboxedEnvironment()
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in injectors["extra_vars"].items()}


def test_credential_types_are_well_formed():
    for name in ("innovaphone-pbx.yml", "innovaphone-devices.yml"):
        ctype = credential_type(name)
        assert ctype["kind"] == "cloud"
        for field in ctype["inputs"]["fields"]:
            assert field["type"] == "string"
            assert field.get("secret", False) == ("password" in field["id"]), field
        # Every injected variable is one the role checks (argument_specs), and secret ones are no_log there.
        for variable in ctype["injectors"]["extra_vars"]:
            assert not variable.upper().startswith("ANSIBLE_")
            assert variable in ROLE_OPTIONS, variable
            assert ROLE_OPTIONS[variable].get("no_log", False) == variable.endswith("password"), variable


class AwxJob:
    """One private data directory per job, as AWX prepares it for ansible-runner."""

    def __init__(self, base, sim, collections_path, extra_credentials):
        self.base, self.sim, self.collections_path = base, sim, collections_path
        self.credentials = extra_credentials
        self.runs = 0

    def launch(self, template, **launch_vars):
        """Run `template` as AWX would, with `launch_vars` as the extra vars given at launch (they win)."""
        self.runs += 1
        private = self.base / ("job%d" % self.runs)
        shutil.copytree(AWX / "project", private / "project")
        (private / "inventory").mkdir(parents=True)
        write_inventory(private / "inventory" / "hosts.yml", {"site1": site_vars(self.sim, secrets=False)})
        (private / "env").mkdir()
        # The template's own extra vars may be templated; the credentials' may not (!unsafe).
        document = yaml.safe_dump(dict(template["extra_vars"], awx_job_id=self.runs,
                                       awx_job_template_name=template["name"], **launch_vars))
        document += yaml.safe_dump({name: Unsafe(value) for name, value in self.credentials.items()})
        (private / "env" / "extravars").write_text(document)
        cmdline = ["--forks", str(template["forks"])]
        cmdline += ["--check"] if template["job_type"] == "check" else []
        cmdline += ["--diff"] if template["diff_mode"] else []
        result = ansible_runner.run(
            private_data_dir=str(private), playbook=template["playbook"], cmdline=" ".join(cmdline),
            inventory=str(private / "inventory" / "hosts.yml"), ident=template["playbook"].split(".")[0],
            fact_cache_type="jsonfile" if template["use_fact_cache"] else None, quiet=True,
            envvars={"ANSIBLE_COLLECTIONS_PATH": str(self.collections_path), "ANSIBLE_NOCOLOR": "1",
                     "ANSIBLE_PYTHON_INTERPRETER": str(BIN / "python"), "PATH": tool_env()["PATH"]})
        artifacts = pathlib.Path(result.config.artifact_dir)
        # The scan finds what is there: the job's private extra vars do hold the credentials (AWX deletes them).
        assert {found[1] for found in secrets_in(private / "env")} >= set(self.credentials.values()) - {"", "admin"}
        leaked = secrets_in(artifacts) + secrets_in(private / "project")
        assert leaked == [], "secrets in the artifacts of %s: %s" % (template["name"], leaked)
        assert (artifacts / "job_events").is_dir() and any((artifacts / "job_events").iterdir())
        assert (artifacts / "command").exists() and (artifacts / "stdout").exists()
        return result, private

    @staticmethod
    def artifact_data(result):
        """The set_stats data of a run (the job's artifacts in AWX)."""
        stats, = [event for event in result.events if event["event"] == "playbook_on_stats"]
        return stats["event_data"].get("artifact_data", {})


@pytest.fixture
def awx(sim, collections_path, tmp_path):
    credentials = {}
    # The PBX password as connection password, the key left empty: the users step proves the key from it.
    credentials.update(inject(credential_type("innovaphone-pbx.yml"), {
        "password": PBX_PASSWORD, "base_user_password": BASE_PASSWORD, "temp_user_password": TEMP_PASSWORD}))
    credentials.update(inject(credential_type("innovaphone-devices.yml"), {"password": DEVICES_PASSWORD}))
    assert credentials["hotdesking_pbx_key_password"] == "" and credentials["hotdesking_pbx_username"] == "admin"
    return AwxJob(tmp_path, sim, collections_path, credentials)


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
