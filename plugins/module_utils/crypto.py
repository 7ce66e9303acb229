# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The documented innovaphone password scheme (reference 1.3) and the AppLogin digest (reference 3).

pbx_key = RC4(key = PBX password NUL-padded to 16 bytes, data = unhex(`key` of _ADMIN_))
pwdx    = hex(RC4(key = pbx_key, data = user password NUL-padded to 24 bytes))
RC4 is a few lines of Python, so no crypto library is needed where the modules run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import hashlib
import json

PBX_PASSWORD_PAD = 16
USER_PASSWORD_PAD = 24
# One byte of the pad must stay NUL, so the longest user password is 23 characters (reference 1.3a).
MAX_USER_PASSWORD = USER_PASSWORD_PAD - 1


class CryptoError(ValueError):
    """A value that cannot be decrypted with the key given (a wrong PBX password, as a rule)."""


# The key schedule of each key used: every password of a PBX is one RC4 run with the same PBX key.
_SCHEDULES = {}


def _schedule(key):
    if key not in _SCHEDULES:
        state = list(range(256))
        j = 0
        for i in range(256):
            j = (j + state[i] + key[i % len(key)]) % 256
            state[i], state[j] = state[j], state[i]
        if len(_SCHEDULES) > 16:
            _SCHEDULES.clear()
        _SCHEDULES[key] = state
    return _SCHEDULES[key]


def rc4(key, data):
    """Encrypt or decrypt (the same operation) bytes with RC4."""
    state = list(_schedule(bytes(key)))
    out = bytearray()
    i = j = 0
    for byte in bytearray(data):
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _pad(text, size):
    raw = text.encode("utf-8")
    if len(raw) >= size:
        raise CryptoError("a value of %d bytes does not fit the %d-byte field" % (len(raw), size))
    return raw + b"\0" * (size - len(raw))


def pbx_key(admin_key_hex, pbx_password):
    """The PBX key from the `key` attribute of _ADMIN_ and the PBX password."""
    # Device passwords have at most 15 characters (reference 1.3a), so the pad always fits.
    secret = pbx_password.encode("utf-8")[:PBX_PASSWORD_PAD].ljust(PBX_PASSWORD_PAD, b"\0")
    return rc4(secret, binascii.unhexlify(admin_key_hex))


def encrypt_password(key, password):
    """The pwdx value of a user password."""
    return binascii.hexlify(rc4(key, _pad(password, USER_PASSWORD_PAD))).decode("ascii")


def _unpad(key, pwdx):
    """The bytes before the NUL padding of a decrypted pwdx, or None when it is not padded (a wrong key)."""
    try:
        plain = rc4(key, binascii.unhexlify(pwdx))
    except (binascii.Error, TypeError):
        raise CryptoError("pwdx is not hexadecimal")
    text, sep, padding = plain.partition(b"\0")
    return text if sep and not padding.strip(b"\0") else None


def proves_key(key, pwdx):
    """Whether `pwdx` decrypts with `key` to a NUL-padded value, as every password does with the right key; with a
    wrong key the padding comes out as random bytes (reference 1.3)."""
    try:
        return _unpad(key, pwdx) is not None
    except CryptoError:
        return False


def decrypt_password(key, pwdx):
    """The clear user password of a pwdx value; CryptoError when the key does not fit."""
    text = _unpad(key, pwdx)
    if text is None:
        raise CryptoError("pwdx does not decrypt to a padded password")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise CryptoError("pwdx does not decrypt to text")


def applogin_digest(password, challenge, app, domain="", sip="", guid="", dn="", info=None):
    """The AppLogin digest: sha256 of the colon-joined fields (with minified info when given)."""
    fields = [app, domain, sip, guid, dn]
    if info is not None:
        fields.append(json.dumps(info, separators=(",", ":")))
    fields.extend([challenge, password])
    return hashlib.sha256(":".join(fields).encode("utf-8")).hexdigest()


def session_key(password, challenge):
    """The AppWebsocket session key (reference 3)."""
    return hashlib.sha256(("innovaphoneAppSessionKey:%s:%s" % (challenge, password)).encode("utf-8")).hexdigest()
