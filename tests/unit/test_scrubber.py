# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""redact.Scrubber gives what ansible-core's remove_values gives, and keeps every no_log value out.

ansible-core 2.17 and later replace the longer no_log values first; 2.16 replaces them in the order given, so a
shorter value inside a longer one could leave the rest of the longer one. The Scrubber always goes longest first:
the reference here is remove_values given the values in that order, which every core of the matrix then follows."""

import datetime
import random

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import MASK, PLACEHOLDER, Scrubber

SECRETS = {"Pw-0001", "Pw-00012", "w-00", "s3cr*t", "**", "4711", "lo", "Bench-Pw-00042"}


def result_with(secrets):
    return {
        "changed": True,
        "users": [{"name": "u%d" % i, "password": secret, "extension": "100%d" % i} for i, secret in
                  enumerate(sorted(secrets))],
        "changes": [{"name": "a", "action": "update", "fields": ["password", "hello world"]}],
        "msg": "the password Pw-00012 and Pw-0001x and s3cr*t* of xBench-Pw-00042y went in clear",
        "numbers": [4711, 47110, 12, 1.5, True, False, None],
        "tuple": ("Pw-0001", ("nested", ["w-00w-00"])),
        "set": {"Pw-0001", "plain"},
        "bytes": [b"in bytes: Pw-0001", b"Pw-0001", b"plain"],
        "when": datetime.date(2026, 12, 7),
        "keys": {"Pw-0001": "key stays, value Pw-0001 goes"},
        "stars": "a ** b",
        "deep": [[[[{"x": "lo and behold"}]]]],
    }


def reference(value, secrets):
    """What remove_values gives with the longer values first (its own order since ansible-core 2.17)."""
    return remove_values(value, sorted(secrets, key=len, reverse=True))


def test_same_as_remove_values():
    result = result_with(SECRETS)
    assert Scrubber(SECRETS).scrub(result) == reference(result, SECRETS)


def test_same_as_remove_values_on_random_texts():
    rng = random.Random(7)
    alphabet = "ab*-1"
    secrets = set("".join(rng.choice(alphabet) for _char in range(rng.randint(1, 4))) for _secret in range(12))
    texts = ["".join(rng.choice(alphabet) for _char in range(rng.randint(0, 30))) for _text in range(500)]
    scrubber = Scrubber(secrets)
    assert any(scrubber.scrub(text) != text for text in texts)
    for text in texts:
        assert scrubber.scrub(text) == reference(text, secrets), (text, secrets)


def test_no_secret_left():
    secrets = set("Secret-%05d" % i for i in range(2000))
    result = {"users": [{"name": "n%d" % i, "password": "Secret-%05d" % i, "note": "was Secret-%05d!" % i}
                        for i in range(2000)], "msg": "Secret-01999Secret-00000"}
    scrubbed = Scrubber(secrets).scrub(result)
    assert all(user["password"] == PLACEHOLDER and user["note"] == "was %s!" % MASK for user in scrubbed["users"])
    assert scrubbed["msg"] == MASK * 2
    assert "Secret-" not in repr(scrubbed)


def test_a_shorter_value_inside_a_longer_one_leaves_nothing_of_it():
    # Given the shorter first, ansible-core 2.16's remove_values would leave "def" of the longer value.
    assert Scrubber(["abc", "abcdef"]).scrub("xabcdefx") == "x%sx" % MASK
    assert Scrubber(["abc", "abcdef"]).scrub("abcdef") == PLACEHOLDER


def test_empty_and_no_values():
    assert Scrubber(set()).scrub({"a": ["b", 1]}) == {"a": ["b", 1]}
    assert Scrubber({""}).scrub("text") == "text"
