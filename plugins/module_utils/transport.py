# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One HTTP session per module run (one per thread of parallel writes): keep-alive, digest auth, TLS, timeouts,
retries, secret-free errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import threading
import time
import traceback

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


class HttpClient:
    """HTTP to one device, with the connection options every module shares."""

    def __init__(self, url, username, password, validate_certs=True, ca_path=None, timeout=30,
                 force_basic_auth=False, secrets=(), sleep=time.sleep):
        self.base_url = url.rstrip("/")
        self._username = username
        self._password = password
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
                raise self.error("TLS error talking to %s: %s" % (self.base_url, str(exc).replace(path, shown)))
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if last:
                    raise self.error("cannot reach %s after %d attempts: %s" % (
                        self.base_url, ATTEMPTS, str(exc).replace(path, shown)))
                self._sleep(backoff_seconds(attempt))
                continue
            if is_stale_nonce(response) and not last:
                # The server forgot our nonce: start a fresh digest handshake.
                self.session.auth = self._auth()
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._sleep(backoff_seconds(attempt, retry_after_seconds(response.headers.get("Retry-After"))))
                continue
            return self._checked(method, shown, response)
        raise self.error("no answer from %s" % self.base_url)  # not reached: the last attempt returns or raises

    def _checked(self, method, shown, response):
        if response.status_code == 401:
            raise self.error("authentication failed for user %s at %s (HTTP 401)" % (self._username, self.base_url))
        if response.status_code >= 400:
            raise self.error("%s %s answered HTTP %d: %s" % (
                method, shown, response.status_code, response.text[:200].strip()))
        return response.text

    def get(self, path, shown=None):
        return self.request("GET", path, shown=shown)

    def post(self, path, body, headers):
        return self.request("POST", path, body=body, headers=headers)
