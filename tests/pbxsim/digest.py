# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP digest authentication (RFC 7616 with MD5 and qop=auth), basic only when enabled; or basic alone, as a PBX
with digest turned off.

Nonces are stateless (a timestamp signed with a per-process secret) and expire after a TTL.
Like real servers, a nonce may be reused with a growing nonce count, so a keep-alive client
authenticates each request without a new challenge; a nonce count seen before is a replay.
A request whose digest is right but whose nonce is expired, unknown or replayed is answered
with stale=true, so the client retries with the fresh nonce without asking for a password.
"""

import base64
import hashlib
import hmac
import os
import re
import secrets
import time

OK, STALE, DENIED = "ok", "stale", "denied"
RANDOM = 8          # random bytes in a nonce
SIGNATURE = 32      # hex digits of the nonce signature
PARAM = re.compile(r'([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def md5_hex(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def parse_params(text):
    return {key.lower(): quoted if quoted or not bare else bare for key, quoted, bare in PARAM.findall(text)}


class DigestAuth:
    """Checks Authorization headers for a set of users, each with one or more accepted passwords."""

    def __init__(self, realm, users, nonce_ttl=300.0, allow_basic=False, basic_only=False):
        self.realm = realm
        self.users = users
        self.nonce_ttl = nonce_ttl
        self.allow_basic = allow_basic or basic_only
        self.basic_only = basic_only
        self._secret = os.urandom(16)
        self._seen = {}  # nonce -> nonce counts already used
        self.restart()

    def restart(self):
        """Forget every nonce handed out (a PBX reboot): each one answers stale=true from now on."""
        self._secret = os.urandom(16)
        self._seen = {}

    def _sign(self, text):
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[:SIGNATURE]

    def new_nonce(self):
        """Issue time in ms (hex), random bytes (two clients never share a nonce), signature."""
        now = time.time()
        self._seen = {nonce: counts for nonce, counts in self._seen.items() if not self._expired(nonce, now)}
        unsigned = "%x" % int(now * 1000) + secrets.token_hex(RANDOM)
        return unsigned + self._sign(unsigned)

    def _expired(self, nonce, now):
        unsigned = nonce[:-SIGNATURE]
        try:
            issued = int(unsigned[:-2 * RANDOM], 16) / 1000.0
        except ValueError:
            return True
        return not hmac.compare_digest(self._sign(unsigned), nonce[-SIGNATURE:]) or now - issued > self.nonce_ttl

    def challenge(self, stale=False):
        """The WWW-Authenticate header values of a 401 answer."""
        if self.basic_only:
            return ['Basic realm="%s"' % self.realm]
        digest = 'Digest realm="%s", qop="auth", algorithm=MD5, nonce="%s"' % (self.realm, self.new_nonce())
        headers = [digest + (", stale=true" if stale else "")]
        if self.allow_basic:
            headers.append('Basic realm="%s"' % self.realm)
        return headers

    def check(self, method, uri, authorization, force_stale=False):
        """OK, STALE (right credentials, nonce not acceptable) or DENIED."""
        scheme, rest = (authorization or "").partition(" ")[::2]
        if scheme.lower() == "basic" and self.allow_basic:
            return self._check_basic(rest)
        if scheme.lower() != "digest" or self.basic_only:
            return DENIED
        params = parse_params(rest)
        if (params.get("realm") != self.realm or params.get("uri") != uri or params.get("qop") != "auth"
                or params.get("algorithm", "MD5").upper() != "MD5" or not params.get("cnonce")):
            return DENIED
        if not self._response_matches(method, params):
            return DENIED
        nonce, count = params.get("nonce", ""), params.get("nc", "")
        counts = self._seen.setdefault(nonce, set())
        if force_stale or self._expired(nonce, time.time()) or count in counts:
            return STALE
        counts.add(count)
        return OK

    def _response_matches(self, method, params):
        ha2 = md5_hex("%s:%s" % (method, params["uri"]))
        tail = ":".join((params.get("nonce", ""), params.get("nc", ""), params["cnonce"], "auth", ha2))
        for password in self.users.get(params.get("username"), ()):
            ha1 = md5_hex("%s:%s:%s" % (params["username"], self.realm, password))
            if hmac.compare_digest(md5_hex(ha1 + ":" + tail), params.get("response", "")):
                return True
        return False

    def _check_basic(self, token):
        try:
            username, password = base64.b64decode(token).decode("utf-8").partition(":")[::2]
        except ValueError:
            return DENIED
        return OK if password and password in self.users.get(username, ()) else DENIED
