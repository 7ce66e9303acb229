# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What only PbxAdminApi tells (issue 18 item 3): its call filters, licenses and reverse proxies as the documented
answers give them (reference 6.2), an answer of another shape named, and the rules the role checks with them."""

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Pbx
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbxadmin import PbxAdmin
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import HttpClient
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import (
    check_port_license, port_licenses, untrusted_registration_warning)


class Ws:
    """An AppWebsocket that answers each mt from a table and keeps what it was sent."""

    app = "automation"
    where = "the PBX"

    def __init__(self, answers):
        self.answers = answers
        self.sent = []

    def open(self):
        return self

    def request(self, mt, idempotent=None, **fields):
        self.sent.append(mt)
        return [dict(self.answers[mt], mt=mt + "Result")]

    shared = request    # what PbxAdmin.call uses: request() among the engine's writer threads

    def error(self, message):
        return RuntimeError(message)


def admin(**answers):
    return PbxAdmin(HttpClient("http://pbx.test", "admin", "pw"), Ws(answers))


PORTS = {"name": "Port", "count": "20", "local": "20", "slaves": "0", "used": "2", "version": "13"}


def test_the_three_reads_are_one_request_each_in_the_documented_shapes():
    pbx = admin(GetFilters={"filter": ["intern", "normal"]},
                GetPbxLicenses={"lic": [PORTS, {"name": "Video", "count": "4", "used": "0"}]},
                GetRPs={"addr": "192.0.2.1", "hw": "009033000001", "dns": "pbx", "rp": [{"addr": "192.0.2.10"}]})
    assert pbx.filters() == ["intern", "normal"]
    licenses = pbx.licenses()
    assert licenses == {"test_mode": False, "items": [
        {"name": "Port", "count": 20, "local": 20, "slaves": 0, "used": 2, "version": "13"},
        {"name": "Video", "count": 4, "used": 0}]}
    assert pbx.reverse_proxies() == [{"addr": "192.0.2.10"}]
    assert pbx.ws.sent == ["GetFilters", "GetPbxLicenses", "GetRPs"]


def test_a_result_without_lic_is_the_test_mode_not_zero_licenses():
    # innovaphone's license example: without `lic` "the PBX is in the Test Mode or has no licenses installed".
    assert admin(GetPbxLicenses={}).licenses() == {"test_mode": True, "items": []}
    assert admin(GetPbxLicenses={"lic": []}).licenses() == {"test_mode": False, "items": []}


@pytest.mark.parametrize("mt, answer, expected", [
    ("GetFilters", {}, "without its list of filter names"),
    ("GetFilters", {"filter": "intern"}, "without its list of filter names"),
    ("GetFilters", {"filters": ["intern"]}, r"\{filter: \[names\]\}"),
    ("GetPbxLicenses", {"lic": {"Port": 20}}, "lic that is not a list"),
    ("GetPbxLicenses", {"lic": [{"count": "20", "used": "1"}]}, "lic that is not a list"),
    ("GetPbxLicenses", {"lic": [{"name": "Port", "count": "20"}]}, "used None of license Port"),
    ("GetPbxLicenses", {"lic": [{"name": "Port", "count": "many", "used": "1"}]}, "count 'many' of license Port"),
    ("GetRPs", {"addr": "192.0.2.1"}, "without its list of reverse proxies"),
    ("GetRPs", {"rp": [{"cert": "x"}]}, r"\{rp: \[\{addr, cert, cert2\}\]\}"),
])
def test_an_answer_of_another_shape_is_named_never_read_as_nothing(mt, answer, expected):
    pbx = admin(**{mt: answer})
    read = {"GetFilters": pbx.filters, "GetPbxLicenses": pbx.licenses, "GetRPs": pbx.reverse_proxies}[mt]
    with pytest.raises(RuntimeError, match=expected) as error:
        read()
    assert "answered %s" % mt in str(error.value) and "reference 6.2" in str(error.value)


def test_soap_has_no_read_of_licenses_and_reverse_proxies_and_says_none():
    pbx = Pbx(HttpClient("http://pbx.test", "admin", "pw"))
    assert pbx.licenses() is None and pbx.reverse_proxies() is None


def licenses(count, used, test_mode=False):
    return {"test_mode": test_mode, "items": [{"name": "Port", "count": count, "used": used},
                                              {"name": "Video", "count": 9, "used": 0}]}


def test_port_licenses_count_only_ports_and_are_none_when_unknown():
    assert port_licenses(licenses(20, 2)) == (20, 2)
    assert port_licenses({"test_mode": False, "items": [{"name": "Video", "count": 9, "used": 0}]}) == (0, 0)
    assert port_licenses({"test_mode": True, "items": []}) is None
    assert port_licenses(None) is None


def test_a_base_user_to_create_needs_a_free_port_license():
    error = check_port_license(licenses(2, 2), "hot-desk-base", False, "hotdesking_base_user_name")
    assert error.startswith("hotdesking_base_user_name: the Hot Desk Base user hot-desk-base does not exist yet and "
                            "needs a free port license")
    assert error.endswith("the PBX has 2 port licenses and 2 are used; free one or install more, then run again")
    assert "0 port licenses and 0 are used" in check_port_license(
        {"test_mode": False, "items": []}, "b", False, "hotdesking_base_user_name")
    assert check_port_license(licenses(3, 2), "hot-desk-base", False, "v") is None
    assert "2 port licenses and 3 are used" in check_port_license(licenses(2, 3), "b", False, "v")


def test_an_existing_user_or_uncountable_licenses_are_no_error():
    assert check_port_license(licenses(2, 2), "hot-desk-base", True, "v") is None
    assert check_port_license({"test_mode": True, "items": []}, "hot-desk-base", False, "v") is None
    assert check_port_license(None, "hot-desk-base", False, "v") is None


def test_reverse_proxies_and_registrations_without_trusted_warn_naming_the_variable():
    rps = [{"addr": "192.0.2.10", "cert": "c"}, {"addr": "192.0.2.11"}]
    warning = untrusted_registration_warning(rps, False, "hotdesking_registration_trusted")
    assert warning.startswith("hotdesking_registration_trusted is false, but the PBX has reverse proxies "
                              "(192.0.2.10, 192.0.2.11)")
    assert "or the registration will fail" in warning
    assert untrusted_registration_warning(rps, None, "trusted").startswith("trusted is not set, but")
    assert untrusted_registration_warning(rps, True, "trusted") is None
    assert untrusted_registration_warning(rps, None, "trusted", all_trusted_now=True) is None
    assert untrusted_registration_warning(rps, False, "trusted", all_trusted_now=True) is not None
    assert untrusted_registration_warning([], False, "trusted") is None
    assert untrusted_registration_warning(None, False, "trusted") is None
