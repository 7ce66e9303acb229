# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The URL checks before the first request: refusals, the loopback rule of the plain-HTTP warning, hints, TLS
messages; and the redaction of secrets in their encoded forms."""

import ssl
from http.client import RemoteDisconnected

import pytest
import requests
from urllib3.exceptions import MaxRetryError, ProtocolError

from ansible_collections.innovaphone.pbx.plugins.module_utils import endpoint
from ansible_collections.innovaphone.pbx.plugins.module_utils.endpoint import (
    DEVICES_SCHEMES, PBX_SCHEMES, Endpoint, EndpointError)
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER, redact_text

SECRET = "p%41+&w=rd/x"


@pytest.mark.parametrize("url", [
    "http://admin:%s@pbx.example.com" % SECRET,
    "https://admin:%s@pbx.example.com:8443/" % SECRET.replace("%", "%25").replace("/", "%2F"),
    "http://%s@pbx.example.com" % SECRET,           # a token, or a password without a user
    "http://admin:pa@ss/wo@rd@pbx.example.com",     # the last @ ends the credentials
])
def test_credentials_in_a_url_are_refused_without_being_shown(url):
    with pytest.raises(EndpointError) as caught:
        Endpoint("url", url, PBX_SCHEMES)
    message = str(caught.value)
    assert "must not carry credentials" in message and "pbx.example.com" in message
    password = url.split("//", 1)[1].rpartition("@")[0].partition(":")[2] or url.split("//", 1)[1].rpartition("@")[0]
    assert password not in message
    # What the module hides from its result: the password as written and decoded.
    assert password in caught.value.secrets
    assert "admin" not in caught.value.secrets


def test_an_empty_userinfo_is_refused_and_hides_nothing():
    with pytest.raises(EndpointError) as caught:
        Endpoint("devices_url", "ws://@ap.example.com/example.com/devices", DEVICES_SCHEMES)
    assert caught.value.secrets == [] and "devices_password (hotdesking_devices_password" in str(caught.value)


@pytest.mark.parametrize("url, message", [
    ("pbx.example.com", "must start with http:// or https://"),
    ("ftp://pbx.example.com", "must start with http:// or https://"),
    ("http://", "must start with http:// or https:// and name a host"),
    ("http://pbx:port", "has no valid port"),
    ("http://pbx/?password=%s" % SECRET, "must not have a query or fragment"),
    ("http://pbx/#x", "must not have a query or fragment"),
])
def test_a_url_that_is_no_base_url_is_refused_without_its_query(url, message):
    with pytest.raises(EndpointError, match=message) as caught:
        Endpoint("url", url, PBX_SCHEMES)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("host, loopback", [
    ("localhost", True), ("LOCALHOST.", True), ("127.0.0.1", True), ("127.0.0.2", True), ("127.255.1.9", True),
    ("::1", True), ("::ffff:127.0.0.1", True),
    # As written: a name is not resolved, whatever it resolves to here.
    ("vm", False), ("localhost.localdomain", False), ("pbx.localhost.example.com", False), ("10.0.0.1", False),
    ("::ffff:10.0.0.1", False), ("0.0.0.0", False), ("2130706433", False),
])
def test_loopback_is_localhost_127_8_and_1_as_written(host, loopback):
    assert endpoint.is_loopback(host) is loopback


def test_plain_urls_to_another_host_warn():
    assert Endpoint("url", "http://127.0.0.1:8080", PBX_SCHEMES).plain_warning() is None
    assert Endpoint("url", "https://pbx.example.com", PBX_SCHEMES).plain_warning() is None
    assert Endpoint("url", "http://[::1]:80", PBX_SCHEMES).plain_warning() is None
    warning = Endpoint("url", "http://pbx.example.com/", PBX_SCHEMES).plain_warning()
    assert warning.startswith("url (hotdesking_pbx_url in the role) http://pbx.example.com is not encrypted")
    assert "Basic" not in warning and "Use https://" in warning
    assert "the admin password itself" in Endpoint("url", "http://pbx", PBX_SCHEMES).plain_warning(basic=True)
    warning = Endpoint("devices_url", "ws://ap/example.com/devices", DEVICES_SCHEMES).plain_warning()
    assert "the base user's password" in warning and "Use wss://" in warning


def test_a_path_gets_the_base_url_hint():
    assert Endpoint("url", "https://pbx:8443/", PBX_SCHEMES).path_hint() == ""
    hint = Endpoint("url", "https://pbx:8443/PBX0/ADMIN/", PBX_SCHEMES).path_hint()
    assert "url has the path /PBX0/ADMIN" in hint and "such as https://pbx:8443;" in hint


def ssl_error(reason):
    """An SSLError as requests raises it: wrapped by urllib3's MaxRetryError."""
    inner = ssl.SSLCertVerificationError(1, reason) if "verify" in reason else ssl.SSLError(1, reason)
    return requests.exceptions.SSLError(MaxRetryError(None, "/x", reason=inner))


@pytest.mark.parametrize("reason, parts", [
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain "
     "(_ssl.c:1006)", ["its certificate is not trusted (", "self-signed certificate in certificate chain)",
                       "give ca_path (hotdesking_ca_path in the role)",
                       "for a lab only, validate_certs: false (hotdesking_validate_certs: false in the role)"]),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for "
     "'pbx'. (_ssl.c:1006)", ["its certificate is not issued for pbx", "use the name it is issued for in url"]),
    ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", ["pbx:8443 answers without TLS",
                                                                        "use http:// for it"]),
    ("[SSL] record layer failure (_ssl.c:1000)", ["answers without TLS"]),
])
def test_tls_errors_say_what_to_do(reason, parts):
    message = Endpoint("url", "https://pbx:8443", PBX_SCHEMES).tls_error(ssl_error(reason))
    assert message.startswith("TLS error connecting to https://pbx:8443: ") and "_ssl.c" not in message
    for part in parts:
        assert part in message


def test_a_closed_connection_is_found_in_requests_wrapping():
    closed = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("x")))
    assert endpoint.closed_without_answer(closed) == "RemoteDisconnected"
    reset = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104)))
    assert endpoint.closed_without_answer(reset) is None


@pytest.mark.parametrize("form", [SECRET, "p%2541%2B%26w%3Drd%2Fx", "p%2541%2B%26w%3Drd/x", "p%2541+&w=rd/x",
                                  "p%41+&amp;w=rd/x"])
def test_redaction_hides_a_secret_url_encoded_and_xml_escaped(form):
    assert redact_text("answer: <%s>" % form, [SECRET]) == "answer: <%s>" % PLACEHOLDER
