# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The password scheme of reference 1.3 and the AppLogin digest of reference 3."""

import binascii

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import crypto

# Derived outside Python with OpenSSL's RC4, whose -K key is NUL-padded to 16 bytes like the PBX key:
#   pbx_key: printf 00112233445566778899aabbccddeeff | xxd -r -p |
#            openssl enc -provider legacy -provider default -rc4 -nosalt -K <hex("pbx-secret") + NULs to 16 bytes>
#   pwdx:    <"hot-desk-1" + NULs to 24 bytes> | openssl enc ... -rc4 -nosalt -K <pbx_key>
ADMIN_KEY = "00112233445566778899aabbccddeeff"
PBX_PASSWORD = "pbx-secret"
PBX_KEY = "33bd9fc0394fbf75eb1e65a9ba67464f"
USER_PASSWORD = "hot-desk-1"
PWDX = "4a366be01e43adaffd735982be4c1f00f93103f6bd925ad8"


def test_rc4_published_vector():
    assert binascii.hexlify(crypto.rc4(b"Key", b"Plaintext")) == b"bbf316e8d940af0ad3"


def test_pbx_key_fixed_vector():
    assert binascii.hexlify(crypto.pbx_key(ADMIN_KEY, PBX_PASSWORD)).decode() == PBX_KEY


def test_pwdx_fixed_vector_both_ways():
    key = crypto.pbx_key(ADMIN_KEY, PBX_PASSWORD)
    assert crypto.encrypt_password(key, USER_PASSWORD) == PWDX
    assert crypto.decrypt_password(key, PWDX) == USER_PASSWORD


@pytest.mark.parametrize("password", ["", "a", "ümlaut-pässword", "x" * crypto.MAX_USER_PASSWORD])
def test_pwdx_round_trip(password):
    key = crypto.pbx_key(ADMIN_KEY, "another")
    pwdx = crypto.encrypt_password(key, password)
    assert len(pwdx) == 2 * crypto.USER_PASSWORD_PAD
    assert crypto.decrypt_password(key, pwdx) == password


def test_password_longer_than_23_bytes_is_refused():
    with pytest.raises(crypto.CryptoError):
        crypto.encrypt_password(b"k" * 16, "x" * 24)


def test_wrong_pbx_password_is_detected():
    wrong = crypto.pbx_key(ADMIN_KEY, "not-the-pbx-password")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_password(wrong, PWDX)


def test_sixteen_byte_pwdx_of_old_firmware_decrypts():
    key = crypto.pbx_key(ADMIN_KEY, PBX_PASSWORD)
    short = binascii.hexlify(crypto.rc4(key, b"old-pw".ljust(16, b"\0"))).decode()
    assert crypto.decrypt_password(key, short) == "old-pw"


@pytest.mark.parametrize("info, digest", [
    (None, "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"),
    ({}, "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34"),
    ({"cn": "Test User"}, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"),
])
def test_applogin_digest_documented_vectors(info, digest):
    assert crypto.applogin_digest("pwd", "0123456789abcdef", "pbxadminapi", info=info) == digest
