# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PBX password scheme of the reference (section 1.3): RC4, the _ADMIN_ key and pwdx."""

import functools
import re

HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")
ADMIN_KEY_PAD = 16      # the PBX password is NUL-padded to 16 bytes to unlock the PBX key
PWDX_PAD = 24           # user passwords are NUL-padded to 24 bytes before encryption
USER_PASSWORD_MAX = PWDX_PAD - 1


@functools.lru_cache(maxsize=64)
def keystream(key, length):
    """The first `length` bytes of the RC4 keystream for `key` (cached: the PBX key is fixed)."""
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for _position in range(length):
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(state[(state[i] + state[j]) % 256])
    return bytes(out)


def rc4(key, data):
    """RC4 (symmetric: the same call encrypts and decrypts)."""
    return bytes(a ^ b for a, b in zip(data, keystream(bytes(key), len(data))))


def pad(text, size):
    """UTF-8 bytes of text, NUL-padded (or cut) to exactly size bytes."""
    return text.encode("utf-8")[:size].ljust(size, b"\0")


def admin_key_attribute(pbx_key, pbx_password):
    """The hex `key` attribute of _ADMIN_: the PBX key encrypted with the PBX password."""
    return rc4(pad(pbx_password, ADMIN_KEY_PAD), pbx_key).hex()


@functools.lru_cache(maxsize=1 << 16)
def pwdx(pbx_key, password):
    """The hex `pwdx` attribute: the user password encrypted with the PBX key (remembered: a replication of
    thousands of users would otherwise run RC4 in Python once per row and read)."""
    return rc4(pbx_key, pad(password, PWDX_PAD)).hex()


def password_from_pwdx(pbx_key, pwdx_hex):
    """The password a written `pwdx` sets (reference 1.3 revised, soapphp5 "method b").

    RC4-decrypted with the PBX key and cut at the first NUL (the padding); bytes that are not UTF-8 become
    U+FFFD. A pwdx made with another key decrypts to garbage, which is what the PBX then stores: it cannot tell.
    Raises ValueError if pwdx_hex is not hex digits in pairs.
    """
    if not HEX.match(pwdx_hex):
        raise ValueError("%r is not hex" % pwdx_hex)
    return rc4(pbx_key, bytes.fromhex(pwdx_hex)).partition(b"\0")[0].decode("utf-8", "replace")


def truncate_user_password(password):
    """What the PBX keeps of a user password: at most 23 bytes (room for the NUL of pwdx)."""
    return password.encode("utf-8")[:USER_PASSWORD_MAX].decode("utf-8", "ignore")
