# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the ecosystem tests: the collection as users get it (built tarball, installed), pbxsim, the
inventory of one site, Chromium, and the secret check over whole directories."""

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

# pylint: disable=wrong-import-position
from simulator import ADMIN_PASSWORD, CONTROL_TOKEN, PBX_PASSWORD, Sim  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
OUTPUT = REPO / "tests" / "output" / "ecosystem"   # artifacts kept after the run (screenshots)
DEVICES_PASSWORD = "pbxsim-devices"
DOMAIN = "example.com"
BASE_PASSWORD = "Base-Eco-Pw-4711"
TEMP_PASSWORD = "Temp-Eco-Pw-0815"
ALICE_PASSWORD = "Alice-Eco-Pw-42"
SECRETS = (ADMIN_PASSWORD, PBX_PASSWORD, DEVICES_PASSWORD, BASE_PASSWORD, TEMP_PASSWORD, ALICE_PASSWORD,
           CONTROL_TOKEN)


def tool_env(**extra):
    """The environment of a tool run: this venv's programs first, no colours, Ansible's home in the build tree."""
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ.get("PATH", "")), ANSIBLE_NOCOLOR="1",
               NO_COLOR="1", ANSIBLE_HOME=str(REPO / ".build" / "ansible-home"))
    env.update(extra)
    return env


def run(command, **kwargs):
    """Run a command, capture its output, never raise on its exit status."""
    kwargs.setdefault("env", tool_env())
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=900,
                          check=False, **kwargs)


@pytest.fixture(scope="session")
def tarball(tmp_path_factory):
    """The collection tarball `ansible-galaxy collection build` makes of this tree."""
    out = tmp_path_factory.mktemp("build")
    built = run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO])
    assert built.returncode == 0, built.stdout + built.stderr
    found, = out.glob("innovaphone-pbx-*.tar.gz")
    return found


@pytest.fixture(scope="session")
def collections_path(tarball, tmp_path_factory):
    """A collections path holding only the installed tarball (not the work tree)."""
    path = tmp_path_factory.mktemp("collections")
    # Only this path: with the work tree's .build/collections on it, ansible-galaxy finds the collection there
    # and installs nothing.
    installed = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", path, tarball],
                    env=tool_env(ANSIBLE_COLLECTIONS_PATH=str(path)))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (path / "ansible_collections" / "innovaphone" / "pbx" / "MANIFEST.json").exists()
    return path


@pytest.fixture(scope="session")
def pbxsim(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("pbxsim")).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(pbxsim):
    """pbxsim in factory state, with the employee Alice."""
    pbxsim.reset()
    pbxsim.admin('<add><user cn="Alice" h323="alice" e164="101" pwd="%s"/></add>' % ALICE_PASSWORD)
    return pbxsim


def site_vars(sim, secrets=True, **overrides):
    """One site's inventory on `sim`; without `secrets` only what an AWX inventory holds (no passwords)."""
    variables = {
        "hotdesking_pbx_url": sim.url,
        "hotdesking_devices_url": "%s/%s/devices" % (sim.url.replace("http", "ws", 1), DOMAIN),
        "hotdesking_devices_domain": DOMAIN,
        "hotdesking_primary_gatekeeper": "127.0.0.1",
        "hotdesking_users": ["alice"],
    }
    if secrets:
        variables.update({"hotdesking_pbx_password": ADMIN_PASSWORD, "hotdesking_pbx_key_password": PBX_PASSWORD,
                          "hotdesking_devices_password": DEVICES_PASSWORD,
                          "hotdesking_base_user_password": BASE_PASSWORD,
                          "hotdesking_temp_user_password": TEMP_PASSWORD})
    variables.update(overrides)
    return variables


def write_inventory(path, hosts):
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}), encoding="utf-8")
    return path


def secrets_in(directory, secrets=SECRETS):
    """Every (file, secret) where a secret appears in a file under `directory`, binary files included."""
    found = []
    for path in sorted(pathlib.Path(directory).rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [(str(path.relative_to(directory)), secret) for secret in secrets if secret.encode() in data]
    return found


@pytest.fixture(scope="session")
def browser_factory(tmp_path_factory):
    """Headless Debian Chromium through its ChromeDriver (selenium); the flags of this machine's notes."""
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel

    drivers = []

    def start(width=1280, height=1000):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=%d,%d" % (width, height),
                     "--user-data-dir=%s" % tmp_path_factory.mktemp("chromium-profile")):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.quit()


def ansible_playbook(collections_path, playbook, inventory, *args, cwd=None):
    """`ansible-playbook innovaphone.pbx.<playbook>` from the installed collection; output checked for secrets."""
    completed = run([BIN / "ansible-playbook", "innovaphone.pbx.%s" % playbook, "-i", inventory] + list(args),
                    cwd=cwd, env=tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections_path)))
    output = completed.stdout + completed.stderr
    assert [secret for secret in SECRETS if secret in output] == [], "a secret in the output of %s" % playbook
    return completed.returncode, output
