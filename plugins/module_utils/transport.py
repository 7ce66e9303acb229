# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One HTTP session per module run (one per thread of parallel writes): keep-alive, digest auth (HTTP Basic only
when allowed), TLS, timeouts, retries, secret-free errors that say what to do.

What is retried (issue 12). A request the PBX cannot have seen (the connection could not be made, or the PBX answered
429/503, or a stale digest nonce) is sent again, up to ATTEMPTS times with backoff. A request that was sent and got
no answer (the connection was reset or closed, or no answer came within `timeout`, or a proxy answered 502/504) is
sent again only when repeating it does no harm (`idempotent`: reads, and writes that set a whole value); a request
that timed out is tried TIMEOUT_ATTEMPTS times at most. Any other request raises Unanswered, for the caller to find
out whether it was carried out. An answer is checked for being what was asked for: an HTML page (a reverse proxy's
or a captive portal's) is an error, never parsed as the PBX's answer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import re
import threading
import time
import traceback

from ansible_collections.innovaphone.pbx.plugins.module_utils.endpoint import (
    PBX_SCHEMES, Endpoint, closed_without_answer, option_named)
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import redact_text

try:
    import requests
    from requests.auth import HTTPBasicAuth, HTTPDigestAuth
    from urllib3.exceptions import ConnectTimeoutError
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Statuses that say the request was not carried out (too many requests, service unavailable): always retried.
RETRY_STATUSES = (429, 503)
# Statuses of a proxy in front of the PBX that may have passed the request on: retried only when idempotent.
RETRY_IDEMPOTENT_STATUSES = (502, 504)
ATTEMPTS = 5
# How often a request that got no answer within `timeout` is tried (each try waits that long).
TIMEOUT_ATTEMPTS = 2
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# A server asking for a longer pause than this is not waited for beyond it.
RETRY_AFTER_CAP = 60.0


class PbxError(Exception):
    """Anything the PBX refused or could not be reached for; the message never holds a secret."""


class HttpStatusError(PbxError):
    """An answer with an HTTP error status; `status` and `body` (the text) for a caller that reads error bodies
    (a SOAP fault comes with HTTP 500)."""

    def __init__(self, message, status, body):
        super(HttpStatusError, self).__init__(message)
        self.status = status
        self.body = body


class Unanswered(PbxError):
    """A request that is not safe to repeat was sent and got no answer: the PBX may or may not have carried it out.
    `timed_out`: no answer came within the timeout (the PBX may still be at it); else the connection broke."""

    def __init__(self, message, timed_out):
        super(Unanswered, self).__init__(message)
        self.timed_out = timed_out


def never_sent(exc):
    """Whether a requests exception means the request cannot have reached the server (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError (refused, no route) is one too


def connection_failure(exc):
    """What became of a connection, for messages: a short cause, and what the library said."""
    text = str(exc)
    lowered = text.lower()
    if "refused" in lowered:
        short = "connection refused (down or rebooting?)"
    elif "reset" in lowered:
        short = "connection reset without an answer"
    elif "remotedisconnected" in lowered or "without response" in lowered or "incompleteread" in lowered:
        short = "connection closed without a (complete) answer"
    else:
        return text
    return "%s (%s)" % (short, text)


def is_html(response):
    """An HTML page (a reverse proxy's, a captive portal's or a login page) instead of the answer asked for."""
    content_type = (response.headers.get("Content-Type") or "").lower()
    if "html" in content_type:
        return True
    start = (response.text or "")[:200].lstrip().lower()
    return start.startswith("<!doctype html") or start.startswith("<html")


def retry_after_seconds(value, now=None):
    """Seconds asked for by a Retry-After header (delta seconds or an HTTP date), None when unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(attempt, retry_after=None):
    """Capped exponential backoff, or the server's Retry-After (capped too) when it gave one."""
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_CAP)
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** attempt))


def is_stale_nonce(response):
    return response.status_code == 401 and "stale=true" in response.headers.get("WWW-Authenticate", "").lower()


# An authentication scheme in a WWW-Authenticate header (several headers arrive joined by commas): a token at the
# start or after a comma that is followed by a blank and a parameter, or by a comma or the end, not by `=`.
AUTH_SCHEME = re.compile(r'(?:^|,)\s*([A-Za-z][\w!#$%&\'*+.^`|~-]*)(?=\s+[\w!#$%&\'*+.^`|~-]+\s*=|\s*,|\s*$)')


def offered_schemes(response):
    """The authentication schemes a 401 answer offers, lower case, in its order."""
    header = re.sub(r'"(?:[^"\\]|\\.)*"', '""', response.headers.get("WWW-Authenticate", ""))
    return [scheme.lower() for scheme in AUTH_SCHEME.findall(header)]


class HttpClient:
    """HTTP to one device, with the connection options every module shares. `peer` names it in messages."""

    def __init__(self, url, username, password, validate_certs=True, ca_path=None, timeout=30,
                 force_basic_auth=False, allow_basic_auth=False, secrets=(), sleep=time.sleep, option="url",
                 peer="the PBX"):
        self.endpoint = Endpoint(option, url, PBX_SCHEMES)
        self.base_url = self.endpoint.url
        self.peer = peer
        self._username = username
        self._password = password
        # Basic sends the password itself with every request: only when allowed, and then only when the PBX
        # offers nothing better (or force_basic_auth asks for it from the first request).
        self._allow_basic = allow_basic_auth or force_basic_auth
        self._basic = force_basic_auth
        self._timeout = timeout
        self._secrets = [password] + [s for s in secrets if s]
        self._sleep = sleep
        # Given with every request: a Session's own `verify` loses to REQUESTS_CA_BUNDLE in the environment.
        self.verify = (ca_path or True) if validate_certs else False
        self._local = threading.local()
        # Connections that failed and digest nonces the server forgot, so far: what a PBX that rebooted leaves.
        self.interruptions = 0

    @property
    def where(self):
        """How messages name the device: "the PBX at https://pbx.example.com"."""
        return "%s at %s" % (self.peer, self.base_url)

    @property
    def session(self):
        """The keep-alive session of this thread (a requests.Session and its digest state are not shared)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.auth = self._auth()
        return session

    def _auth(self):
        if self._basic:
            return HTTPBasicAuth(self._username, self._password)
        return HTTPDigestAuth(self._username, self._password)

    def add_secret(self, secret):
        """Also keep this value out of every error message."""
        if secret:
            self._secrets.append(secret)

    def error(self, message):
        return PbxError(redact_text(message, self._secrets))

    def request(self, method, path, body=None, headers=None, shown=None, idempotent=None, expect="its answer"):
        """Send a request and return the response text; PbxError on failure after the retries (module docstring).

        `idempotent` (default: GET is) says whether sending it twice does no more than once. Errors name the request
        `shown` (by default the path without its query), so that a path carrying values (a `!` command) can be
        named without them; `expect` says what the answer should be ("SOAP XML"), for an HTML answer's message.
        """
        url = self.base_url + path
        shown = shown or path.split("?")[0]
        asked = "%s %s" % (method, shown)
        idempotent = method == "GET" if idempotent is None else idempotent
        timeouts = 0
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            try:
                response = self.session.request(method, url, data=body, headers=headers, timeout=self._timeout,
                                                verify=self.verify)
            except requests.exceptions.SSLError as exc:
                # Before anything was sent: the handshake failed.
                raise self.error(self.endpoint.tls_error(exc))
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                self.interruptions += 1
                closed = closed_without_answer(exc)
                if attempt == 0 and closed and not self.endpoint.encrypted and self.endpoint.speaks_tls(self._timeout):
                    raise self.error(self.endpoint.tls_port_error(closed))
                timed_out = isinstance(exc, requests.exceptions.ReadTimeout)
                cause = connection_failure(exc).replace(path, shown)
                if not never_sent(exc):
                    timeouts += 1 if timed_out else 0
                    self._unanswered(asked, cause, timed_out, idempotent, timeouts, last)
                if last:
                    raise self.error("cannot reach %s after %d attempts (%s): %s" % (
                        self.where, ATTEMPTS, asked, cause))
                if not timed_out:
                    self._sleep(backoff_seconds(attempt))
                continue
            if is_stale_nonce(response) and not last:
                # The server forgot our nonce: start a fresh digest handshake.
                self.interruptions += 1
                self.session.auth = self._auth()
                continue
            if response.status_code == 401 and not self._basic and self._basic_instead(response) and not last:
                continue
            status = response.status_code
            if not last and (status in RETRY_STATUSES or (idempotent and status in RETRY_IDEMPOTENT_STATUSES)):
                self._sleep(backoff_seconds(attempt, retry_after_seconds(response.headers.get("Retry-After"))))
                continue
            if status in RETRY_IDEMPOTENT_STATUSES and not idempotent:
                raise Unanswered(redact_text(
                    "%s answered HTTP %d to %s (a proxy in front of it gave up): the PBX may still carry it out" % (
                        self.where, status, asked), self._secrets), True)
            return self._checked(asked, response, expect)
        raise self.error("no answer from %s" % self.base_url)  # not reached: the last attempt returns or raises

    def _basic_instead(self, response):
        """For a 401 that offers other schemes than digest: True to answer it with Basic (allowed and offered), else
        PbxError. False when digest (or nothing) is offered: a refused digest is a wrong password."""
        offered = offered_schemes(response)
        if "digest" in offered or not offered:
            return False
        if "basic" not in offered:
            raise self.error("%s asks for authentication but offers no digest (it offers: %s); the collection "
                             "authenticates with digest, or with HTTP Basic when allowed" % (
                                 self.base_url, ", ".join(offered) or "nothing"))
        if not self._allow_basic:
            raise self.error(
                "%s offers only HTTP Basic authentication, which sends the password of %s readable (base64) with "
                "every request; nothing with it was sent. Turn on digest authentication on the PBX, or allow Basic "
                "with %s, over https:// only, as anyone on the way reads the password otherwise" % (
                    self.base_url, self._username, option_named("allow_basic_auth", "true")))
        self._basic = True
        self.session.auth = self._auth()
        return True

    def _unanswered(self, asked, cause, timed_out, idempotent, timeouts, last):
        """A request sent without an answer: raise unless it may be sent again."""
        if timed_out:
            message = "%s did not answer %s within %s seconds" % (self.where, asked, self._timeout)
        else:
            message = "%s did not answer %s: %s" % (self.where, asked, cause)
        if not idempotent:
            raise Unanswered(redact_text(message, self._secrets), timed_out)
        if timed_out and timeouts >= TIMEOUT_ATTEMPTS:
            raise self.error("%s (%d attempts)" % (message, timeouts))
        if last:
            raise self.error("%s (%d attempts)" % (message, ATTEMPTS))

    def _checked(self, asked, response, expect):
        status = response.status_code
        if status == 401:
            hint = ""
            if self._basic and "digest" in offered_schemes(response) and "basic" not in offered_schemes(response):
                hint = "; the PBX asks for digest, so leave force_basic_auth off"
            options = ("username", "password") if self.endpoint.option == "url" else (self.endpoint.option,)
            raise self.error("authentication failed for user %s at %s (HTTP 401)%s; check %s" % (
                self._username, self.base_url, hint, " and ".join(option_named(option) for option in options)))
        html = is_html(response)
        if status >= 400:
            text = "an HTML page (a reverse proxy?)" if html else response.text[:200].strip()
            hint = self.endpoint.path_hint() if self.endpoint.option == "url" else ""
            if (status == 400 and not self.endpoint.encrypted
                    and re.search(r"https|\btls\b|\bssl\b", response.text[:200], re.IGNORECASE)):
                hint += " (hint: the port may expect https://)"
            raise HttpStatusError(redact_text("%s answered HTTP %d to %s: %s%s" % (
                self.where, status, asked, text, hint), self._secrets), status, response.text)
        if html:
            raise self.error("%s answered %s with an HTML page instead of %s (a reverse proxy or a login page?)%s" % (
                self.where, asked, expect, self.endpoint.path_hint() if self.endpoint.option == "url" else ""))
        return response.text

    def get(self, path, shown=None, idempotent=None, expect="its answer"):
        return self.request("GET", path, shown=shown, idempotent=idempotent, expect=expect)

    def post(self, path, body, headers, idempotent=False, expect="its answer"):
        return self.request("POST", path, body=body, headers=headers, idempotent=idempotent, expect=expect)

    def page(self, path):
        """One GET of a web page or script, as it comes (HTML is what is asked for): (HTTP status, text). PbxError
        only when nothing answered."""
        try:
            response = self.session.get(self.base_url + path, timeout=self._timeout, verify=self.verify)
        except requests.exceptions.SSLError as exc:
            raise self.error(self.endpoint.tls_error(exc))
        except requests.exceptions.RequestException as exc:
            raise self.error("%s did not answer GET %s: %s" % (self.where, path, connection_failure(exc)))
        return response.status_code, response.text
