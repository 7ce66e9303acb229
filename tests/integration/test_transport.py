# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport security through ansible-playbook against pbxsim: certificates are verified by default (modules and
role, PBX and Devices app) and an untrusted one is refused with what to do; a PBX offering only HTTP Basic gets no
password unless allow_basic_auth; credentials in a URL are refused before any request and never echoed; plain
http:// and ws:// to a host that is not loopback as written warn; a base URL with a path, and a scheme that does not
match the port, get a hint."""

import ipaddress
import json
import socket
from urllib.parse import quote

import pytest
import yaml

from conftest import ADMIN_PASSWORD
from role_runs import DEVICES_PASSWORD, DOMAIN, run_playbook, site_vars
from simulator import Sim, ansible_playbook

NOT_ENCRYPTED = "is not encrypted: everything between this host and"


def devices_url(url):
    return "%s/%s/devices" % (url.replace("http", "ws", 1), DOMAIN)


def run_tasks(tmp_path, tasks, variables=None, *args):
    """Run `tasks` ({name: task}) in one play on localhost, each registered and allowed to fail; return their
    results ({name: result}) and the whole output."""
    play_tasks = []
    for name, task in tasks.items():
        play_tasks.append(dict(task, name=name, register="result_" + name, ignore_errors=True))
    results = tmp_path / "results.json"
    content = "{{ %s | to_json }}" % ("{%s}" % ", ".join("%r: result_%s" % (name, name) for name in tasks))
    keep = {"content": content, "dest": str(results), "mode": "0600"}
    play_tasks.append({"name": "Keep the results", "ansible.builtin.copy": keep})
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Transport", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": play_tasks}]))
    completed = ansible_playbook(playbook, variables or {}, *args)
    output = completed.stdout + completed.stderr
    assert results.exists(), output[-6000:]
    return json.loads(results.read_text()), output


def pbx_info(url, **options):
    return {"innovaphone.pbx.pbx_info": dict({"url": url, "password": ADMIN_PASSWORD}, **options)}


def devices_category(url, **options):
    return {"innovaphone.pbx.devices_category": dict(
        {"name": "Transport", "devices_url": url, "devices_password": DEVICES_PASSWORD}, **options)}


def failed_cleanly(result, *parts):
    """The task failed with a message holding every part, without a traceback."""
    assert result.get("failed"), result
    # ansible-core 2.19 gives every failure an `exception`: "(traceback unavailable)" when the module gave none.
    assert "Traceback" not in result.get("exception", "") + result["msg"], result
    for part in parts:
        assert part in result["msg"], result["msg"]
    return result["msg"]


@pytest.fixture(scope="module")
def basic_only_sim(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("pbxsim-basic-only"), ["--basic-only"]).start()
    yield sim
    sim.stop()


# --- certificates ----------------------------------------------------------------------------------------------
UNTRUSTED = ("its certificate is not trusted", "give ca_path (hotdesking_ca_path in the role)",
             "for a lab only, validate_certs: false (hotdesking_validate_certs: false in the role) skips the check")


def test_an_untrusted_certificate_is_refused_with_what_to_do_and_ca_path_is_trusted(pbxsim_tls, tmp_path):
    sim = pbxsim_tls
    sim.reset()
    results, _output = run_tasks(tmp_path, {
        "pbx_default": pbx_info(sim.url),
        "devices_default": devices_category(devices_url(sim.url)),
        "pbx_ca": pbx_info(sim.url, ca_path=sim.ca),
        "devices_ca": devices_category(devices_url(sim.url), ca_path=sim.ca),
    })
    failed_cleanly(results["pbx_default"], "TLS error connecting to %s" % sim.url, *UNTRUSTED)
    failed_cleanly(results["devices_default"], "TLS error connecting to %s" % devices_url(sim.url), *UNTRUSTED)
    assert not results["pbx_ca"].get("failed") and not results["devices_ca"].get("failed")
    assert results["devices_ca"]["changed"]


def test_the_role_verifies_certificates_by_default(pbxsim_tls, tmp_path):
    sim = pbxsim_tls
    sim.reset()
    variables = site_vars(sim, hotdesking_users=[])
    code, output = run_playbook(tmp_path, "hotdesking", variables, "--tags", "template,category")
    assert code != 0
    assert "TLS error connecting to %s" % sim.url in output and UNTRUSTED[1] in output
    assert "Traceback" not in output and sim.stats()["writes"] == 0

    code, output = run_playbook(tmp_path, "hotdesking", dict(variables, hotdesking_ca_path=sim.ca),
                                "--tags", "template,category")
    assert code == 0, output[-6000:]
    assert "template changed" in output and "category changed" in output


# --- HTTP Basic ------------------------------------------------------------------------------------------------
BASIC_ONLY = ("offers only HTTP Basic authentication", "nothing with it was sent",
              "allow_basic_auth: true (hotdesking_allow_basic_auth: true in the role)")


def test_no_password_goes_out_with_basic_unless_allowed(basic_only_sim, tmp_path):
    sim = basic_only_sim
    sim.reset()
    results, _output = run_tasks(tmp_path, {"digest_only": pbx_info(sim.url)})
    failed_cleanly(results["digest_only"], *BASIC_ONLY)
    # The one request went without credentials: the PBX's 401 offered Basic, and nothing followed.
    stats = sim.stats()
    assert (stats["requests"], stats["unauthorized"], stats["reads"]) == (1, 1, 0)

    sim.control("POST", "stats/reset")
    results, _output = run_tasks(tmp_path, {
        "forced_alone": pbx_info(sim.url, force_basic_auth=True),
        "allowed": pbx_info(sim.url, allow_basic_auth=True),
        "forced": pbx_info(sim.url, allow_basic_auth=True, force_basic_auth=True),
    })
    failed_cleanly(results["forced_alone"], "set allow_basic_auth: true as well")
    assert not results["allowed"].get("failed") and not results["forced"].get("failed")
    # allowed: a 401 then Basic; forced: Basic from the first request.
    stats = sim.stats()
    assert (stats["requests"], stats["unauthorized"]) == (stats["reads"] + 1, 1)


def test_the_role_sends_basic_only_with_hotdesking_allow_basic_auth(basic_only_sim, tmp_path):
    sim = basic_only_sim
    sim.reset()
    variables = site_vars(sim, hotdesking_users=[])
    code, output = run_playbook(tmp_path, "hotdesking", variables, "--tags", "template")
    assert code != 0 and all(part in output for part in BASIC_ONLY), output[-6000:]
    assert sim.stats()["reads"] == 0

    allowed = dict(variables, hotdesking_allow_basic_auth=True, hotdesking_report_dir=str(tmp_path / "reports"))
    code, output = run_playbook(tmp_path, "hotdesking", allowed, "--tags", "template")
    assert code == 0, output[-6000:]
    assert "template changed" in output
    # The probe playbook passes it too.
    code, output = run_playbook(tmp_path, "probe", allowed)
    assert code == 0, output[-6000:]
    assert (tmp_path / "reports" / "probe-site1.json").exists()


# --- credentials in URLs ---------------------------------------------------------------------------------------
URL_PASSWORD = "Url%Pw+&=Secret7"


@pytest.mark.parametrize("as_module_process", [False, True], ids=["in-process", "module-process"])
def test_credentials_in_a_url_are_refused_before_any_request_and_never_shown(sim, tmp_path, module_process,
                                                                             as_module_process):
    host = sim.url.split("//", 1)[1]
    forms = (URL_PASSWORD, quote(URL_PASSWORD, safe=""))
    results, output = run_tasks(tmp_path, {
        "raw": pbx_info("http://admin:%s@%s" % (URL_PASSWORD, host)),
        "encoded": pbx_info("http://admin:%s@%s/" % (forms[1], host)),
        "devices": devices_category("ws://devices:%s@%s/%s/devices" % (forms[1], host, DOMAIN)),
    }, module_process if as_module_process else None, "-vvv")
    failed_cleanly(results["raw"], "url (hotdesking_pbx_url in the role) must not carry credentials",
                   "the password in password (hotdesking_pbx_password in the role)", "nothing was sent")
    failed_cleanly(results["encoded"], "must not carry credentials")
    failed_cleanly(results["devices"], "devices_url (hotdesking_devices_url in the role) must not carry credentials",
                   "devices_password")
    assert [form for form in forms if form in output + json.dumps(results)] == []
    assert sim.stats()["requests"] == 0


# --- plain http and ws -----------------------------------------------------------------------------------------
def loopback_name():
    """A name for this machine that is not loopback as written, and the loopback address it resolves to."""
    for name in (socket.gethostname(), socket.getfqdn(), "localhost.localdomain"):
        try:
            address = socket.gethostbyname(name)
        except OSError:
            continue
        if name.lower().rstrip(".") != "localhost" and ipaddress.ip_address(address).is_loopback:
            return name, address
    return None, None


@pytest.fixture(scope="module")
def sim_by_name(pbxsim, tmp_path_factory):
    """(name, pbxsim listening on the loopback address the name resolves to): a URL by that name is plain HTTP to
    a host that is not loopback as written, and still reaches pbxsim on loopback."""
    name, address = loopback_name()
    if name is None:
        pytest.skip("no name of this machine resolves to a loopback address (pbxsim listens on loopback only)")
    if address == "127.0.0.1":
        yield name, pbxsim
        return
    sim = Sim(tmp_path_factory.mktemp("pbxsim-by-name"), ["--host", address]).start()
    yield name, sim
    sim.stop()


def test_plain_http_and_ws_warn_unless_the_host_is_loopback_as_written(sim_by_name, tmp_path, module_process):
    name, sim = sim_by_name
    sim.reset()
    port = sim.url.rsplit(":", 1)[1]
    by_name = "http://%s:%s" % (name, port)
    results, output = run_tasks(tmp_path, {
        "loopback": pbx_info(sim.url),
        "localhost": pbx_info("http://localhost:%s" % port),
        "by_name": pbx_info(by_name),
        "devices_loopback": devices_category(devices_url(sim.url)),
        "devices_by_name": devices_category(devices_url(by_name)),
    })
    for task in ("loopback", "localhost", "by_name", "devices_loopback", "devices_by_name"):
        assert not results[task].get("failed"), results[task]
    for task in ("loopback", "localhost", "devices_loopback"):
        assert not any(NOT_ENCRYPTED in warning for warning in results[task].get("warnings", [])), results[task]
    warning, = results["by_name"]["warnings"]
    assert warning.startswith("url (hotdesking_pbx_url in the role) %s is not encrypted" % by_name)
    assert "the admin requests and the PBX's answers" in warning and "the user passwords the modules write" in warning
    assert "Use https://" in warning
    warning, = results["devices_by_name"]["warnings"]
    assert "devices_url (hotdesking_devices_url in the role) %s is not encrypted" % devices_url(by_name) in warning
    assert "the expert configuration's update script with the base user's password" in warning
    assert output.count(NOT_ENCRYPTED) == 2, output[-6000:]

    # A module process warns alike.
    results, output = run_tasks(tmp_path, {"by_name": pbx_info(by_name, allow_basic_auth=True)}, module_process)
    warning, = results["by_name"]["warnings"]
    assert NOT_ENCRYPTED in warning and "with HTTP Basic the admin password itself" in warning


# --- hints -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/PBX0/ADMIN/", "/admin.xml"])
def test_a_url_with_a_path_hints_at_the_base_url(sim, tmp_path, path):
    results, _output = run_tasks(tmp_path, {"with_path": pbx_info(sim.url + path)})
    failed_cleanly(results["with_path"], "HTTP 404", "(hint: url has the path %s, but it is the PBX's base URL, "
                   "scheme, host and port such as %s" % (path.rstrip("/"), sim.url))


def test_a_scheme_that_does_not_match_the_port_hints_at_the_other(sim, pbxsim_tls, tmp_path):
    plain, tls = (server.url.split("//", 1)[1] for server in (sim, pbxsim_tls))
    results, _output = run_tasks(tmp_path, {
        "https_to_plain": pbx_info("https://" + plain),
        "http_to_tls": pbx_info("http://" + tls),
        "wss_to_plain": devices_category(devices_url("https://" + plain)),
        "ws_to_tls": devices_category(devices_url("http://" + tls)),
    })
    failed_cleanly(results["https_to_plain"], "answers without TLS", "use http:// for it, or enable TLS on the PBX")
    failed_cleanly(results["http_to_tls"], "speaks TLS, so use https://%s for url" % tls)
    failed_cleanly(results["wss_to_plain"], "answers without TLS", "use ws:// for it")
    failed_cleanly(results["ws_to_tls"], "speaks TLS, so use wss://%s/%s/devices for devices_url" % (tls, DOMAIN))
