# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No secret anywhere, in any form, after the playbooks run as operators run them.

pbxsim gets passwords and a control token with characters that URL-encoding changes (`%`, `+`, `&`, `=`; the PBX
takes no blanks in them). Then the playbooks run with the usual flags: hotdesking with --check --diff -vvv and with
--diff -vvv, failed runs (a wrong Devices password, an injected fault), compliance (its JSON, Markdown and HTML
reports) and probe (its reports) with -vvv, verify with -vvv, hotdesking as module processes and against a PBX
that offers only HTTP Basic (allowed), and hotdesking through ansible-runner with the secrets as AWX injects them
(extra vars). Every output and every file they write (Ansible's log file, fact cache, local
temp, reports; the runner's whole artifact directory) is searched for every secret as it is, URL-encoded
(quote and quote_plus), HTML/XML-escaped, JSON-escaped, hex, base64 (at every alignment, so inside a longer
base64 text too, as in `Authorization: Basic`) and as a digest HA1 of the admin login; and for any text near
an `Authorization` header, a digest response or a Basic credential.
"""

import base64
import binascii
import hashlib
import html
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
from urllib.parse import quote, quote_plus

import ansible_runner
import pytest
import requests
import yaml
from requests.auth import HTTPDigestAuth

from role_runs import DOMAIN, PLAYBOOKS, REPO
from simulator import SOAP_NS, Sim

# Every secret of a run, with the characters that URL-encoding, HTML and JSON escaping change.
SECRETS = {
    "pbx admin password": "Adm%41+&Pw=9x",
    "pbx key password": "Pbx+%2F&Key=7y",
    "devices password": "Dev&%20+Pw=3z",
    "control token": "tok%25+&en=42q",
    "base user password (the expert script's)": "Base%40+&Pw=8q",
    "temp user password": "Temp+%3D&Pw=5w",
    "temp user password, changed": "Tmp2%26+&Pw=6v",
    "employee password": "Alice%7E+&Pw=4u",
    "wrong devices password": "Wrong%Dev+&Pw1",
    "app password": "App%2B+&Obj=5k",
    "wrong app password": "Wrong%App+&Pw2",
}
APP_NAME = "it-automation"
REALM = "pbxsim"   # pbxsim's digest realm: HA1 = MD5(user:realm:password) opens the admin login like the password


def forms(secret):
    """Every form a secret could leak in: {form name: bytes}."""
    raw = secret.encode()
    found = {
        "raw": raw,
        "quote": quote(secret, safe="").encode(),
        "quote (safe /)": quote(secret).encode(),
        "quote (requests' requote)": quote(secret, safe="/:@!$&'()*+,;=").encode(),
        "quote_plus": quote_plus(secret).encode(),
        "html escape": html.escape(secret).encode(),
        "json escape": json.dumps(secret)[1:-1].encode(),
        "jinja tojson escape": json.dumps(secret)[1:-1].replace("&", "\\u0026").replace("'", "\\u0027").encode(),
        "hex": binascii.hexlify(raw),
        "HEX": binascii.hexlify(raw).upper(),
        "digest HA1": hashlib.md5(("admin:%s:%s" % (REALM, secret)).encode()).hexdigest().encode(),
    }
    for offset in range(3):
        # The base64 characters that only the secret's bits decide, whatever comes before and after it.
        start, end = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
        for name, encode in (("base64", base64.b64encode), ("urlsafe base64", base64.urlsafe_b64encode)):
            found["%s (offset %d)" % (name, offset)] = encode(b"\0" * offset + raw + b"\0\0")[start:end]
    return found


FORMS = [(label, form, value) for label, secret in SECRETS.items() for form, value in forms(secret).items()]
# Credentials as they go on the wire: none may be printed, whatever the password. A digest's response, cnonce and
# the header's own start; a Basic credential is a base64 text that decodes to user:password.
WIRE_CREDENTIALS = re.compile(
    rb"authorization\s*[:=]\s*['\"]?\s*(basic|digest)\b|digest\s+username\s*=|"
    rb"\bresponse\s*=\s*\\?\"?[0-9a-f]{32}|\bcnonce\s*=", re.IGNORECASE)
BASIC_CREDENTIAL = re.compile(rb"\bbasic\s+([a-z0-9+/]{4,}={0,2})", re.IGNORECASE)


def wire_credentials(data):
    found = [match.group(0) for match in WIRE_CREDENTIALS.finditer(data)]
    for match in BASIC_CREDENTIAL.finditer(data):
        try:
            decoded = base64.b64decode(match.group(1), validate=True)
        except ValueError:
            continue
        if b":" in decoded:
            found.append(match.group(0))
    return [text.decode(errors="replace") for text in found]


def leaks_in(data):
    """[(secret, form)] for every form of every secret in `data` (bytes), and [(what, text)] for credentials as
    they go on the wire, and for credentials near an Authorization header."""
    found = [(label, form) for label, form, value in FORMS if value in data]
    found += [("credentials on the wire", text) for text in wire_credentials(data)]
    for match in re.finditer(rb"authorization", data, re.IGNORECASE):
        around = data[max(0, match.start() - 300):match.end() + 300]
        if wire_credentials(around):
            found.append(("credentials near an Authorization header", around.decode(errors="replace")))
    return found


def scan_files(directory, skip=()):
    """{relative path: leaks} of every file under `directory` (binary ones too), except those under `skip`."""
    found = {}
    for path in sorted(pathlib.Path(directory).rglob("*")):
        if path.is_file() and not any(part in skip for part in path.relative_to(directory).parts):
            leaks = leaks_in(path.read_bytes())
            if leaks:
                found[str(path.relative_to(directory))] = leaks
    return found


class SecretSim(Sim):
    """pbxsim with the secrets above."""

    def __init__(self, workdir, args=()):
        super().__init__(workdir, args)
        self.env.update(PBXSIM_ADMIN_PASSWORD=SECRETS["pbx admin password"],
                        PBXSIM_PBX_PASSWORD=SECRETS["pbx key password"],
                        PBXSIM_DEVICES_PASSWORD=SECRETS["devices password"],
                        PBXSIM_CONTROL_TOKEN=SECRETS["control token"],
                        PBXSIM_APP_NAME=APP_NAME, PBXSIM_APP_PASSWORD=SECRETS["app password"])

    def admin(self, xml):
        body = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                '<Admin xmlns="%s"><xml>%s</xml></Admin></s:Body></s:Envelope>'
                % (SOAP_NS, html.escape(xml, quote=False)))
        auth = ("admin", SECRETS["pbx admin password"])
        response = requests.post(self.url + "/PBX0/user.soap", data=body.encode(), timeout=10,
                                 auth=auth if "--basic-only" in self.args else HTTPDigestAuth(*auth),
                                 headers={"Content-Type": "text/xml", "SOAPAction": '"%s/Admin"' % SOAP_NS})
        assert response.status_code == 200 and "&lt;ok/&gt;" in response.text, response.text


@pytest.fixture(scope="module")
def secret_sim(tmp_path_factory):
    sim = SecretSim(tmp_path_factory.mktemp("pbxsim-secrets")).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def basic_secret_sim(tmp_path_factory):
    """The same, offering only HTTP Basic: the one case where the admin password itself goes on the wire."""
    sim = SecretSim(tmp_path_factory.mktemp("pbxsim-secrets-basic"), ["--basic-only"]).start()
    yield sim
    sim.stop()


def inventory_vars(sim, secrets=True, **overrides):
    """One site on `sim`; without `secrets` what an AWX inventory holds (the credentials come as extra vars)."""
    variables = {
        "hotdesking_pbx_url": sim.url,
        "hotdesking_devices_url": "%s/%s/devices" % (sim.url.replace("http", "ws", 1), DOMAIN),
        "hotdesking_devices_domain": DOMAIN,
        "hotdesking_primary_gatekeeper": "127.0.0.1",
        "hotdesking_users": ["alice"],
        "hotdesking_sim_control_url": sim.url + "/_sim",
        "hotdesking_verify_user": "alice",
    }
    variables.update(credentials() if secrets else {})
    variables.update(overrides)
    return variables


def credentials():
    return {
        "hotdesking_pbx_password": SECRETS["pbx admin password"],
        "hotdesking_pbx_key_password": SECRETS["pbx key password"],
        "hotdesking_devices_password": SECRETS["devices password"],
        "hotdesking_base_user_password": SECRETS["base user password (the expert script's)"],
        "hotdesking_temp_user_password": SECRETS["temp user password"],
        "hotdesking_sim_control_token": SECRETS["control token"],
        "hotdesking_verify_password": SECRETS["employee password"],
    }


class Runs:
    """Playbook runs, each in a work directory of its own (its cwd, Ansible's log file, fact cache and local temp,
    reports); the inventories, which hold the secrets by design, are kept apart."""

    def __init__(self, base):
        self.base = base
        self.inputs = base / "inputs"
        self.inputs.mkdir()
        self.outputs = {}       # run -> stdout + stderr
        self.work = {}          # run -> its work directory

    def playbook(self, name, playbook, variables, *args):
        work = self.base / name
        (work / "tmp").mkdir(parents=True)
        (work / "remote-tmp").mkdir()
        inventory = self.inputs / ("%s.yml" % name)
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"site1": variables}}}))
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
                   ANSIBLE_LOG_PATH=str(work / "ansible.log"), ANSIBLE_LOCAL_TEMP=str(work / "tmp"),
                   ANSIBLE_REMOTE_TEMP=str(work / "remote-tmp"),
                   ANSIBLE_CACHE_PLUGIN="jsonfile", ANSIBLE_CACHE_PLUGIN_CONNECTION=str(work / "facts"))
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(PLAYBOOKS / playbook),
                   "-i", str(inventory)] + list(args)
        completed = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, timeout=900,
                                   check=False)
        self.outputs[name] = completed.stdout + completed.stderr
        self.work[name] = work
        return completed.returncode, self.outputs[name]

    def runner(self, name, sim, *cmdline):
        """hotdesking.yml through ansible-runner, the credentials as extra vars (as AWX injects them), with a
        jsonfile fact cache; returns the runner's result."""
        private = self.base / name
        shutil.copytree(PLAYBOOKS, private / "project")
        (private / "inventory").mkdir()
        (private / "inventory" / "hosts.yml").write_text(
            yaml.safe_dump({"all": {"hosts": {"site1": inventory_vars(sim, secrets=False)}}}))
        result = ansible_runner.run(
            private_data_dir=str(private), playbook="hotdesking.yml", cmdline=" ".join(cmdline),
            inventory=str(private / "inventory" / "hosts.yml"), extravars=credentials(), ident="job",
            fact_cache_type="jsonfile", quiet=True,
            envvars={"ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"), "ANSIBLE_NOCOLOR": "1",
                     "PATH": "%s:%s" % (pathlib.Path(sys.executable).parent, os.environ.get("PATH", ""))})
        self.work[name] = private
        return result


def test_no_secret_in_any_output_or_file_of_any_run(secret_sim, basic_secret_sim, tmp_path, module_process):
    sim = secret_sim
    sim.control("DELETE", "faults")
    sim.control("POST", "reset")
    alice = html.escape(SECRETS["employee password"])
    sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % alice)
    runs = Runs(tmp_path)
    site = inventory_vars(sim)
    reports = {"hotdesking_report_dir": str(tmp_path / "reports")}

    code, output = runs.playbook("check", "hotdesking.yml", site, "--check", "--diff", "-vvv")
    assert code == 0, output[-6000:]
    code, output = runs.playbook("converge", "hotdesking.yml", site, "--diff", "-vvv")
    assert code == 0, output[-6000:]
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output

    # The PBX objects over PbxAdminApi/PbxTableUsers: the App object's password, and a wrong one.
    api = dict(site, hotdesking_pbx_app_name=APP_NAME, hotdesking_pbx_app_password=SECRETS["app password"])
    code, output = runs.playbook("pbxadminapi", "hotdesking.yml", api, "--diff", "-vvv")
    assert code == 0, output[-6000:]
    code, output = runs.playbook("wrong_app_password", "hotdesking.yml",
                                 dict(api, hotdesking_pbx_app_password=SECRETS["wrong app password"]), "-vvv")
    assert code != 0 and "AppLogin as app %s" % APP_NAME in output, output[-6000:]

    # Failed runs: a wrong Devices password, a PBX that fails a request.
    code, output = runs.playbook("wrong_devices_password", "hotdesking.yml",
                                 dict(site, hotdesking_devices_password=SECRETS["wrong devices password"]),
                                 "--diff", "-vvv")
    assert code != 0 and "AppLogin" in output, output[-6000:]
    sim.control("POST", "faults", {"kind": "http500", "path": "/PBX0"})
    code, output = runs.playbook("fault", "hotdesking.yml", site, "--diff", "-vvv")
    assert code != 0 and "HTTP 500" in output, output[-6000:]
    sim.control("DELETE", "faults")

    # Compliance with a temp password the PBX does not hold: the users step drifts on a password.
    code, output = runs.playbook("compliance", "compliance.yml",
                                 dict(site, hotdesking_temp_user_password=SECRETS["temp user password, changed"],
                                      **reports), "-vvv")
    assert code == 0, output[-6000:]
    report = json.loads((tmp_path / "reports" / "site1.json").read_text())
    assert report["changes"]["users"] == [{"name": "temp", "action": "update", "fields": ["password"]}]
    written = {path.name for path in (tmp_path / "reports").iterdir()}
    assert {"site1.json", "site1.md", "summary.md", "summary.html"} <= written

    code, output = runs.playbook("probe", "probe.yml", dict(site, **reports), "-vvv")
    assert code == 0, output[-6000:]
    assert (tmp_path / "reports" / "probe-site1.json").exists()

    code, output = runs.playbook("verify", "verify.yml", site, "-vvv")
    assert code == 0, output[-6000:]
    assert "hot-desk login as alice ok; wrong password refused" in output

    # Modules as module processes (another interpreter): Ansible echoes their arguments in every result, and
    # their payloads go through its temp directories. The temp user gets another password, so users shows a diff.
    changed = dict(site, hotdesking_temp_user_password=SECRETS["temp user password, changed"])
    code, output = runs.playbook("module_processes", "hotdesking.yml", changed, "--diff", "-vvv",
                                 "-e", json.dumps(module_process))
    assert code == 0, output[-6000:]
    assert "AnsiballZ_users.py" in output and "users changed" in output

    # HTTP Basic, allowed: the admin password goes with every request, and still shows nowhere.
    basic_sim = basic_secret_sim
    basic_sim.control("POST", "reset")
    basic_sim.admin('<add><user cn="Alice" h323="alice" e164="101"/></add>')
    code, output = runs.playbook("basic", "hotdesking.yml",
                                 dict(inventory_vars(basic_sim), hotdesking_allow_basic_auth=True), "--diff", "-vvv")
    assert code == 0, output[-6000:]
    assert basic_sim.stats()["writes"] > 0

    # The runner's job puts the inventory's temp user password back.
    result = runs.runner("runner", sim, "--diff", "-vvv")
    assert (result.status, result.rc) == ("successful", 0), result.stdout.read()[-6000:]
    artifacts = pathlib.Path(result.config.artifact_dir)
    assert {"stdout", "job_events", "command"} <= {path.name for path in artifacts.iterdir()}
    assert any((artifacts / "job_events").iterdir())
    # The fact cache is searched too; it stays empty (the playbooks gather no facts and cache none they set).
    assert (artifacts / "fact_cache").is_dir()
    summary = [event for event in result.events if event["event"] == "playbook_on_stats"][0]
    assert summary["event_data"]["artifact_data"]["hotdesking_summary"]["site1"]["users"] == "changed"

    leaks = {"output of %s" % run: leaks_in(text.encode()) for run, text in runs.outputs.items()}
    for run, work in runs.work.items():
        # The runner's private data directory holds the credentials it was given (env/extravars) and the
        # inventory; everything else, its artifacts included, is searched.
        leaks.update(("%s: %s" % (run, path), found)
                     for path, found in scan_files(work, skip=("env", "inventory")).items())
    leaks.update(("report %s" % path, found) for path, found in scan_files(tmp_path / "reports").items())
    leaks = dict((where, found) for where, found in leaks.items() if found)
    assert leaks == {}, "\n".join("%s: %s" % (where, found) for where, found in sorted(leaks.items()))
    # The search saw what it should: Ansible's log of every playbook run, and the runner's artifacts.
    assert all((runs.work[run] / "ansible.log").stat().st_size for run in runs.outputs)


def test_the_scan_finds_each_form():
    """The search would find a secret in each form: the test above proves something."""
    secret = SECRETS["pbx admin password"]
    basic = b"Authorization: Basic " + base64.b64encode(("admin:" + secret).encode())
    assert ("pbx admin password", "base64 (offset 0)") in leaks_in(base64.b64encode(b"admin:" + secret.encode())) \
        or any(form.startswith("base64") for _label, form in leaks_in(basic))
    assert any(label == "credentials near an Authorization header" for label, _form in leaks_in(basic))
    for text, form in ((quote_plus(secret), "quote_plus"), (html.escape(secret), "html escape"),
                       (json.dumps({"x": secret}), "json escape"), (quote(secret, safe=""), "quote")):
        assert ("pbx admin password", form) in leaks_in(text.encode()), form
    digest = b'Authorization: Digest username="admin", response="%s"' % (b"0" * 32)
    assert leaks_in(digest)
