# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retries, backoff, Retry-After, stale nonces and secret-free errors of the HTTP client."""

import threading
from http.client import RemoteDisconnected

import pytest
import requests
import urllib3
from urllib3.exceptions import ProtocolError

from ansible_collections.innovaphone.pbx.plugins.module_utils import transport
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER

SECRET = "admin-secret-pw"


class FakeResponse:
    def __init__(self, status, text="", headers=None):
        self.status_code = status
        self.text = text
        self.headers = requests.structures.CaseInsensitiveDict(headers or {})


def client_answering(*answers):
    """A client whose session plays back answers (responses or exceptions); it records the pauses."""
    pauses = []
    client = transport.HttpClient("http://pbx.test/", "admin", SECRET, secrets=["other-secret"], sleep=pauses.append)
    queue = list(answers)
    calls = []

    def request(method, url, **kwargs):
        calls.append((method, url, kwargs["timeout"], client.session.auth, kwargs["verify"]))
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client.session.request = request
    return client, calls, pauses


def test_ok_answer_is_returned_with_the_base_url_joined():
    client, calls, pauses = client_answering(FakeResponse(200, "ok"))
    assert client.get("/cfg.txt") == "ok"
    assert calls[0][:3] == ("GET", "http://pbx.test/cfg.txt", 30) and pauses == []


def test_503_waits_as_long_as_retry_after_says():
    client, calls, pauses = client_answering(FakeResponse(503, headers={"Retry-After": "2"}), FakeResponse(200, "ok"))
    assert client.get("/x") == "ok"
    assert pauses == [2.0] and len(calls) == 2


def test_retry_after_is_capped():
    client, _calls, pauses = client_answering(FakeResponse(429, headers={"Retry-After": "3600"}),
                                              FakeResponse(200, "ok"))
    client.get("/x")
    assert pauses == [transport.RETRY_AFTER_CAP]


def test_connection_errors_back_off_exponentially_then_fail_without_secrets():
    errors = [requests.exceptions.ConnectionError("reset by peer " + SECRET)] * transport.ATTEMPTS
    client, calls, pauses = client_answering(*errors)
    with pytest.raises(transport.PbxError) as info:
        client.get("/x")
    assert len(calls) == transport.ATTEMPTS
    assert pauses == [0.5, 1.0, 2.0, 4.0]
    assert SECRET not in str(info.value) and PLACEHOLDER in str(info.value)


def test_http_500_is_not_retried_and_names_the_status():
    client, calls, _pauses = client_answering(FakeResponse(500, "boom other-secret"))
    with pytest.raises(transport.PbxError, match="HTTP 500") as info:
        client.post("/PBX0/user.soap", b"<x/>", {})
    assert len(calls) == 1 and "other-secret" not in str(info.value)


def test_stale_nonce_starts_a_fresh_digest_handshake():
    stale = FakeResponse(401, headers={"WWW-Authenticate": 'Digest realm="pbx", nonce="n2", stale=true'})
    client, calls, pauses = client_answering(stale, FakeResponse(200, "ok"))
    assert client.get("/x") == "ok"
    assert calls[0][3] is not calls[1][3] and pauses == []


def test_wrong_credentials_fail_at_once():
    client, calls, _pauses = client_answering(FakeResponse(401, headers={"WWW-Authenticate": 'Digest realm="pbx"'}))
    with pytest.raises(transport.PbxError, match="authentication failed") as failed:
        client.get("/x")
    assert len(calls) == 1
    assert str(failed.value).endswith("; check username (hotdesking_pbx_username in the role) and password "
                                      "(hotdesking_pbx_password in the role)")


def test_basic_auth_only_when_asked():
    assert isinstance(transport.HttpClient("http://p", "u", "p").session.auth, requests.auth.HTTPDigestAuth)
    assert isinstance(transport.HttpClient("http://p", "u", "p", force_basic_auth=True).session.auth,
                      requests.auth.HTTPBasicAuth)


def test_tls_options():
    assert transport.HttpClient("https://p", "u", "p").verify is True
    assert transport.HttpClient("https://p", "u", "p", ca_path="/ca.pem").verify == "/ca.pem"
    assert transport.HttpClient("https://p", "u", "p", validate_certs=False, ca_path="/ca.pem").verify is False


def test_verify_goes_with_every_request():
    client, calls, _pauses = client_answering(FakeResponse(200, "ok"))
    client.verify = "/ca.pem"
    client.get("/x")
    assert calls[0][4] == "/ca.pem"


@pytest.mark.parametrize("value, seconds", [("5", 5.0), ("Thu, 01 Jan 1970 00:00:10 GMT", 7.0), ("soon", None),
                                            (None, None)])
def test_retry_after_header_forms(value, seconds):
    assert transport.retry_after_seconds(value, now=3.0) == seconds


def test_backoff_is_capped():
    assert transport.backoff_seconds(20) == transport.BACKOFF_CAP


def test_every_thread_has_its_own_keep_alive_session():
    client = transport.HttpClient("http://p", "u", "p")
    sessions = []
    worker = threading.Thread(target=lambda: sessions.append(client.session))
    worker.start()
    worker.join()
    assert client.session is client.session and sessions[0] is not client.session
    assert isinstance(sessions[0].auth, requests.auth.HTTPDigestAuth)


BASIC_ONLY = {"WWW-Authenticate": 'Basic realm="pbx"'}


def test_a_pbx_offering_only_basic_gets_no_password_unless_allowed():
    client, calls, _pauses = client_answering(FakeResponse(401, headers=BASIC_ONLY))
    with pytest.raises(transport.PbxError, match="offers only HTTP Basic authentication") as info:
        client.get("/x")
    assert "allow_basic_auth: true (hotdesking_allow_basic_auth: true in the role)" in str(info.value)
    assert len(calls) == 1 and isinstance(calls[0][3], requests.auth.HTTPDigestAuth)


def test_an_allowed_basic_answers_the_challenge_and_every_later_request():
    pauses = []
    client = transport.HttpClient("http://pbx.test", "admin", SECRET, allow_basic_auth=True, sleep=pauses.append)
    answers = [FakeResponse(401, headers=BASIC_ONLY), FakeResponse(200, "one"), FakeResponse(200, "two")]
    auths = []

    def request(method, url, **kwargs):
        auths.append(client.session.auth)
        return answers.pop(0)

    client.session.request = request
    assert client.get("/x") == "one" and client.get("/y") == "two"
    assert isinstance(auths[0], requests.auth.HTTPDigestAuth)
    assert all(isinstance(auth, requests.auth.HTTPBasicAuth) for auth in auths[1:]) and pauses == []


def test_digest_is_used_when_offered_beside_basic():
    both = {"WWW-Authenticate": 'Digest realm="pbx", nonce="n", Basic realm="pbx"'}
    client, calls, _pauses = client_answering(FakeResponse(401, headers=both))
    with pytest.raises(transport.PbxError, match="authentication failed"):
        client.get("/x")
    assert len(calls) == 1


def test_an_unknown_scheme_is_named():
    client, _calls, _pauses = client_answering(FakeResponse(401, headers={"WWW-Authenticate": "Negotiate"}))
    with pytest.raises(transport.PbxError, match=r"offers no digest \(it offers: negotiate\)"):
        client.get("/x")


@pytest.mark.parametrize("header, schemes", [
    ('Digest realm="a, Basic b", qop="auth", algorithm=MD5, nonce="x"', ["digest"]),
    ('Digest realm="pbx", nonce="x", Basic realm="pbx"', ["digest", "basic"]),
    ('Basic realm="pbx"', ["basic"]),
    ("Negotiate abc==, NTLM", ["negotiate", "ntlm"]),
    ("", []),
])
def test_offered_schemes(header, schemes):
    assert transport.offered_schemes(FakeResponse(401, headers={"WWW-Authenticate": header})) == schemes


def test_forced_basic_refused_names_digest():
    client = transport.HttpClient("http://pbx.test", "admin", SECRET, force_basic_auth=True)
    assert isinstance(client.session.auth, requests.auth.HTTPBasicAuth)
    client.session.request = lambda *args, **kwargs: FakeResponse(401, headers={"WWW-Authenticate": "Digest x=1"})
    with pytest.raises(transport.PbxError, match="the PBX asks for digest, so leave force_basic_auth off"):
        client.get("/x")


def test_plain_http_to_a_tls_port_says_so_at_once(monkeypatch):
    closed = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("closed")))
    monkeypatch.setattr(transport.Endpoint, "speaks_tls", lambda self, timeout: True)
    client, calls, pauses = client_answering(closed)
    with pytest.raises(transport.PbxError, match=r"speaks TLS, so use https://pbx.test for url"):
        client.get("/x")
    assert len(calls) == 1 and pauses == []


def test_an_error_answer_of_a_url_with_a_path_hints_at_the_base_url():
    client = transport.HttpClient("http://pbx.test/PBX0/ADMIN/", "admin", SECRET)
    client.session.request = lambda *args, **kwargs: FakeResponse(404, "Not Found")
    with pytest.raises(transport.PbxError, match="hint: url has the path /PBX0/ADMIN, but it is the PBX's base URL"):
        client.get("/x")


def test_an_echoed_secret_is_hidden_in_its_escaped_and_encoded_forms():
    secret = "a&b%c+d"
    client = transport.HttpClient("http://pbx.test", "admin", secret)
    client.session.request = lambda *args, **kwargs: FakeResponse(500, 'pwd="a&amp;b%c+d" a%26b%25c%2Bd')
    with pytest.raises(transport.PbxError) as info:
        client.get("/x")
    assert "&amp;b" not in str(info.value) and "%26b" not in str(info.value)


# --- issue 12: what is sent again, and what an answer must be -------------------------------------------------------
def refused():
    """The exception requests raises when nothing listens (the request cannot have reached the PBX)."""
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: Connection refused")
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))


RESET = requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset'))")


def test_a_write_that_was_never_sent_is_sent_again():
    client, calls, pauses = client_answering(refused(), refused(), FakeResponse(200, "ok"))
    assert client.post("/PBX0/user.soap", b"<x/>", {}) == "ok"
    assert len(calls) == 3 and pauses == [0.5, 1.0]


@pytest.mark.parametrize("failure, timed_out", [(RESET, False), (requests.exceptions.ReadTimeout("read timeout"), True)])
def test_a_write_that_got_no_answer_is_not_sent_again(failure, timed_out):
    client, calls, _pauses = client_answering(failure, FakeResponse(200, "ok"))
    with pytest.raises(transport.Unanswered) as caught:
        client.post("/PBX0/user.soap", b"<x/>", {})
    assert len(calls) == 1 and caught.value.timed_out is timed_out
    assert str(caught.value).startswith("the PBX at http://pbx.test did not answer POST /PBX0/user.soap")


def test_an_idempotent_write_that_got_no_answer_is_sent_again():
    client, calls, _pauses = client_answering(RESET, FakeResponse(200, "ok"))
    assert client.post("/PBX0/user.soap", b"<x/>", {}, idempotent=True) == "ok"
    assert len(calls) == 2


def test_a_read_that_timed_out_is_tried_twice_without_a_pause():
    timeout = requests.exceptions.ReadTimeout("read timeout")
    client, calls, pauses = client_answering(timeout, timeout, FakeResponse(200, "ok"))
    with pytest.raises(transport.PbxError) as caught:
        client.get("/cfg.txt")
    assert str(caught.value) == "the PBX at http://pbx.test did not answer GET /cfg.txt within 30 seconds (2 attempts)"
    assert len(calls) == transport.TIMEOUT_ATTEMPTS and pauses == []


def test_a_proxy_that_gave_up_on_a_write_is_not_asked_again():
    client, calls, _pauses = client_answering(FakeResponse(504, "gateway timeout"), FakeResponse(200, "ok"))
    with pytest.raises(transport.Unanswered, match="answered HTTP 504 to POST /PBX0/user.soap"):
        client.post("/PBX0/user.soap", b"<x/>", {})
    assert len(calls) == 1
    client, calls, _pauses = client_answering(FakeResponse(504, "gateway timeout"), FakeResponse(200, "ok"))
    assert client.get("/cfg.txt") == "ok" and len(calls) == 2


@pytest.mark.parametrize("answer", [
    FakeResponse(200, "<html><body>Sign in</body></html>"),
    FakeResponse(200, "\n<!DOCTYPE html><html></html>", {"Content-Type": "text/plain"}),
    FakeResponse(200, "whatever", {"Content-Type": "text/html; charset=utf-8"}),
])
def test_an_html_page_is_no_answer(answer):
    client, _calls, _pauses = client_answering(answer)
    with pytest.raises(transport.PbxError) as caught:
        client.get("/cfg.txt", expect="the configuration text")
    assert str(caught.value) == ("the PBX at http://pbx.test answered GET /cfg.txt with an HTML page instead of the "
                                 "configuration text (a reverse proxy or a login page?)")


def test_an_error_status_keeps_its_body_for_the_caller():
    client, _calls, _pauses = client_answering(FakeResponse(500, "<Envelope>fault</Envelope>"))
    with pytest.raises(transport.HttpStatusError) as caught:
        client.post("/PBX0/user.soap", b"<x/>", {})
    assert (caught.value.status, caught.value.body) == (500, "<Envelope>fault</Envelope>")
