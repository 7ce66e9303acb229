# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One HTTP session per module run (one per thread of parallel writes): keep-alive, digest auth (HTTP Basic only
when allowed), TLS, timeouts, retries, secret-free errors that say what to do."""

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
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

RETRY_STATUSES = (429, 502, 503, 504)
ATTEMPTS = 5
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# A server asking for a longer pause than this is not waited for beyond it.
RETRY_AFTER_CAP = 60.0


class PbxError(Exception):
    """Anything the PBX refused or could not be reached for; the message never holds a secret."""


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
    """HTTP to one device, with the connection options every module shares."""

    def __init__(self, url, username, password, validate_certs=True, ca_path=None, timeout=30,
                 force_basic_auth=False, allow_basic_auth=False, secrets=(), sleep=time.sleep, option="url"):
        self.endpoint = Endpoint(option, url, PBX_SCHEMES)
        self.base_url = self.endpoint.url
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

    def request(self, method, path, body=None, headers=None, shown=None):
        """Send a request and return the response text; PbxError on failure after the retries.

        Errors name the request `shown` (by default the path without its query), so that a path carrying values
        (a `!` command) can be named without them.
        """
        url = self.base_url + path
        shown = shown or path.split("?")[0]
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            try:
                response = self.session.request(method, url, data=body, headers=headers, timeout=self._timeout,
                                                verify=self.verify)
            except requests.exceptions.SSLError as exc:
                # Before anything was sent: the handshake failed.
                raise self.error(self.endpoint.tls_error(exc))
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                closed = closed_without_answer(exc)
                if attempt == 0 and closed and not self.endpoint.encrypted and self.endpoint.speaks_tls(self._timeout):
                    raise self.error(self.endpoint.tls_port_error(closed))
                if last:
                    raise self.error("cannot reach %s after %d attempts: %s" % (
                        self.base_url, ATTEMPTS, str(exc).replace(path, shown)))
                self._sleep(backoff_seconds(attempt))
                continue
            if is_stale_nonce(response) and not last:
                # The server forgot our nonce: start a fresh digest handshake.
                self.session.auth = self._auth()
                continue
            if response.status_code == 401 and not self._basic and self._basic_instead(response) and not last:
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._sleep(backoff_seconds(attempt, retry_after_seconds(response.headers.get("Retry-After"))))
                continue
            return self._checked(method, shown, response)
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

    def _checked(self, method, shown, response):
        if response.status_code == 401:
            hint = ""
            if self._basic and "digest" in offered_schemes(response) and "basic" not in offered_schemes(response):
                hint = "; the PBX asks for digest, so leave force_basic_auth off"
            raise self.error("authentication failed for user %s at %s (HTTP 401)%s" % (
                self._username, self.base_url, hint))
        if response.status_code >= 400:
            text = response.text[:200].strip()
            hint = self.endpoint.path_hint() if self.endpoint.option == "url" else ""
            if (response.status_code == 400 and not self.endpoint.encrypted
                    and re.search(r"https|\btls\b|\bssl\b", text, re.IGNORECASE)):
                hint += " (hint: the port may expect https://)"
            raise self.error("%s %s answered HTTP %d: %s%s" % (method, shown, response.status_code, text, hint))
        return response.text

    def get(self, path, shown=None):
        return self.request("GET", path, shown=shown)

    def post(self, path, body, headers):
        return self.request("POST", path, body=body, headers=headers)
