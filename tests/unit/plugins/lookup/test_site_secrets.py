# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site_secrets lookup: the entry of one site, and errors that name the site, the file and the variable but
never a value nor a line of the file."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

SECRET = "Sec{{ret}}+&%41=x"
FILE = """\
berlin:
  hotdesking_pbx_password: "%s"
  hotdesking_devices_password: "berlin-devices"
munich: {hotdesking_pbx_password: "munich-admin"}
""" % SECRET


def lookup(path, site="berlin", variables=None, **options):
    variables = dict(variables or {}, inventory_hostname=site)
    # Through the plugin loader, which gives the lookup its options' documentation (defaults, env).
    plugin = lookup_loader.get("innovaphone.pbx.site_secrets")
    return plugin.run([], variables, file=str(path) if path else "", **options)[0]


@pytest.fixture
def secrets_file(tmp_path):
    path = tmp_path / "secrets.yml"
    path.write_text(FILE)
    return path


def test_the_entry_of_the_site_and_no_other(secrets_file):
    assert lookup(secrets_file) == {"hotdesking_pbx_password": SECRET, "hotdesking_devices_password": "berlin-devices"}
    assert lookup(secrets_file, site="munich") == {"hotdesking_pbx_password": "munich-admin"}
    assert lookup(secrets_file, names_only=True) == ["hotdesking_devices_password", "hotdesking_pbx_password"]
    assert lookup(secrets_file, site="hamburg") == {}
    assert lookup(None) == {}


def test_a_required_variable_may_come_from_the_file_or_from_elsewhere(secrets_file):
    required = ["hotdesking_pbx_password", "hotdesking_base_user_password"]
    with pytest.raises(AnsibleLookupError) as error:
        lookup(secrets_file, site="munich", required=required)
    message = str(error.value)
    assert message.startswith("site munich: hotdesking_base_user_password is not set (in its entry of the site "
                              "secrets file %s, in the inventory" % secrets_file)
    assert "munich-admin" not in message
    assert lookup(secrets_file, site="munich", required=required,
                  variables={"hotdesking_base_user_password": "from-a-credential"}) == {
        "hotdesking_pbx_password": "munich-admin"}
    with pytest.raises(AnsibleLookupError, match=r"^site hamburg: hotdesking_pbx_password, "
                                                 r"hotdesking_base_user_password are not set"):
        lookup(secrets_file, site="hamburg", required=required)
    with pytest.raises(AnsibleLookupError, match=r"^site berlin: hotdesking_pbx_password is not set \(in the inv"):
        lookup(None, required=["hotdesking_pbx_password"])


@pytest.mark.parametrize("content, expected", [
    ('berlin:\n  hotdesking_pbx_pasword: "%s"\n' % SECRET,
     "site berlin: the site secrets file {path} sets hotdesking_pbx_pasword, which is not one of"),
    ("berlin:\n  hotdesking_pbx_password: 123456789012\n",
     "site berlin: hotdesking_pbx_password in the site secrets file {path} must be a string (quote it)"),
    ('berlin:\n  hotdesking_pbx_password: "%s\n  other: [\n' % SECRET,
     "the site secrets file {path} is not valid YAML (line "),
    ("- %s\n" % SECRET, "the site secrets file {path} must map each site to its variables"),
    ("berlin: %s\n" % SECRET, "the site secrets file {path} must map each site to its variables"),
])
def test_errors_name_the_problem_but_never_quote_the_file(tmp_path, content, expected):
    path = tmp_path / "secrets.yml"
    path.write_text(content)
    with pytest.raises(AnsibleLookupError) as error:
        lookup(path)
    assert str(error.value).startswith(expected.format(path=path))
    assert SECRET not in str(error.value) and "123456789012" not in str(error.value)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(AnsibleLookupError, match="cannot read the site secrets file .*missing.yml"):
        lookup(tmp_path / "missing.yml")
