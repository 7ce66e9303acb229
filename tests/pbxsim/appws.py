# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Server side of innovaphone's AppWebsocket protocol (reference section 3).

JSON messages carry `mt`; the answer to a request is `<mt>Result` with the request's `src` echoed.
Login: AppChallenge hands out a fresh challenge, AppLogin proves the password with
sha256("app:domain:sip:guid:dn[:info]:challenge:password").
"""

import hashlib
import hmac
import json
import secrets


def minified(info):
    """The `info` object as the digest covers it: minified JSON, keys in the order sent."""
    return json.dumps(info, separators=(",", ":"), ensure_ascii=False)


def login_digest(app, domain, sip, guid, dn, challenge, password, info=None):
    """Hex sha256 an AppLogin must carry; `info` is None when the login sends no info object."""
    parts = [app, domain, sip, guid, dn]
    if info is not None:
        parts.append(minified(info))
    parts += [challenge, password]
    return hashlib.sha256(":".join(parts).encode("utf-8")).hexdigest()


def session_key(challenge, password):
    """Key for encrypted fields and device passthrough, derived from the login."""
    return hashlib.sha256(f"innovaphoneAppSessionKey:{challenge}:{password}".encode("utf-8")).hexdigest()


def new_challenge():
    return secrets.token_hex(8)


def result(request, **fields):
    """The `<mt>Result` answer to `request`, `src` echoed when the request had one."""
    answer = {"mt": f"{request.get('mt', '')}Result", **fields}
    if "src" in request:
        answer["src"] = request["src"]
    return answer


def error_result(request, text, error_key="error"):
    return result(request, **{error_key: text})


def check_login(login, challenge, candidates):
    """The first (password, scope) candidate whose digest the AppLogin message `login` carries, else None.

    Every candidate is compared in constant time so that timing tells nothing about which one matched.
    """
    if not challenge:
        return None
    fields = [str(login.get(name) or "") for name in ("app", "domain", "sip", "guid", "dn")]
    info = login.get("info")
    sent = str(login.get("digest") or "").lower().encode("utf-8")
    found = None
    for password, scope in candidates:
        expected = login_digest(*fields, challenge, password, info).encode("utf-8")
        if hmac.compare_digest(expected, sent) and found is None:
            found = (password, scope)
    return found


def decode(text):
    """Parse one text frame; returns (message, problem): a message is a JSON object with a string `mt`."""
    try:
        message = json.loads(text)
    except ValueError:
        return {}, "message is not JSON"
    if not isinstance(message, dict):
        return {}, "message is not a JSON object"
    if not isinstance(message.get("mt"), str) or not message["mt"]:
        return message, "message has no mt"
    return message, None
