# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pbxsim fixtures, and running the integration targets against them with ansible-playbook."""

import os
import pathlib
import sys

import pytest

import simulator
from role_runs import ALICE_PASSWORD
# Not `from simulator import ansible_playbook`: tests/ecosystem's conftest has a function of that name too, and
# pylint of ansible-core 2.16 (ansible-test sanity) takes either conftest for `from conftest import ...`, in an order
# that varies from run to run.
from simulator import ADMIN_PASSWORD, APP_NAME, APP_PASSWORD, CONTROL_TOKEN, PBX_PASSWORD, Sim

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def pbxsim(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("pbxsim")).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def pbxsim_tls(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("pbxsim-tls"), ["--tls"]).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def module_process(tmp_path_factory):
    """Extra vars that make the modules run as module processes instead of in the controller's process: an
    interpreter that is a wrapper around this Python, so not the controller's own (plugin_utils/in_process.py)."""
    wrapper = tmp_path_factory.mktemp("interpreter") / "python"
    wrapper.write_text('#!/bin/sh\nexec "%s" "$@"\n' % sys.executable)
    wrapper.chmod(0o755)
    return {"ansible_python_interpreter": str(wrapper)}


@pytest.fixture
def sim(pbxsim):
    """The session's pbxsim, reset to factory state with zeroed stats and no faults."""
    pbxsim.reset()
    return pbxsim


# The connection options that choose the API for the PBX objects, as the environment sets them for every module.
PBX_APIS = {
    "soap": {"INNOVAPHONE_PBX_API": "soap"},
    "pbxadminapi": {"INNOVAPHONE_PBX_API": "pbxadminapi", "INNOVAPHONE_APP_NAME": APP_NAME,
                    "INNOVAPHONE_APP_PASSWORD": APP_PASSWORD},
}


@pytest.fixture(params=sorted(PBX_APIS))
def pbx_api(request, monkeypatch):
    """Each test that takes it runs twice: its modules speak SOAP, then PbxAdminApi/PbxTableUsers (through the
    environment variables of the connection options, which every ansible-playbook run inherits)."""
    for name, value in PBX_APIS[request.param].items():
        monkeypatch.setenv(name, value)
    return request.param


@pytest.fixture
def site(sim):
    """pbxsim with the employee the how-to's hot-desking users stand for (a site of the role's tests)."""
    sim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % ALICE_PASSWORD)
    return sim


def run_target(sim, target, *args, extra_vars=None):
    """Run one target (tests/integration/targets/<target>/tasks/main.yml); return the CompletedProcess."""
    variables = {"pbx_url": sim.url, "pbx_admin_password": ADMIN_PASSWORD, "pbx_password": PBX_PASSWORD,
                 "sim_token": CONTROL_TOKEN, "sim_ca": sim.ca or "", "target": target,
                 "pbx_api": os.environ.get("INNOVAPHONE_PBX_API", "soap")}
    variables.update(extra_vars or {})
    return simulator.ansible_playbook(HERE / "target.yml", variables, *args, ANSIBLE_ROLES_PATH=str(HERE / "targets"))


def assert_passed(completed):
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-3000:]
