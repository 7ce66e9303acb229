# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keeping secrets out of everything a module returns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import deque
from html import escape

from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.module_utils.six.moves.collections_abc import Mapping, Sequence, Set
from ansible.module_utils.six.moves.urllib.parse import quote, quote_plus

# The placeholder Ansible itself uses for no_log values (contract section 8).
PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def secret_forms(secret):
    """A secret as it may show in a text: as it is, URL-encoded as a path or a form encodes it, and escaped as an
    XML attribute (a SOAP request carries it so, and a PBX may quote the request in its error)."""
    return set([secret, quote(secret, safe=""), quote(secret), quote(secret, safe="/:@!$&'()*+,;="),
                quote_plus(secret, safe=""), escape(secret), escape(secret, quote=False)])


def redact_text(text, secrets):
    """Return text with every non-empty secret, as it is or URL-encoded, replaced by the placeholder, longest
    first."""
    forms = set()
    for secret in secrets:
        if secret:
            forms |= secret_forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, PLACEHOLDER)
    return text


# The name of a value that is a secret: a password, a key (a flag of cfg.txt, a field of a device configuration).
SECRET_NAME = re.compile(r"pwd|pass|secret|key", re.IGNORECASE)

# A flag of an update-script line whose value is a secret (/gk-pwd, /pwd, /password, /pass, /secret, /key), the
# blanks after it and its value: one word, or a double-quoted one that may hold blanks.
SCRIPT_SECRET = re.compile(r'(?<!\S)(/[\w-]*(?:pwd|pass|secret|key)[\w-]*[ \t]+)("[^"\n]*"?\S*|\S+)', re.IGNORECASE)


def masked_script(script):
    """An update script with the value after every secret flag (such as /gk-pwd) replaced by the placeholder."""
    return SCRIPT_SECRET.sub(lambda match: match.group(1) + PLACEHOLDER, script)


# What Ansible's remove_values puts in place of a no_log value inside a longer text.
MASK = "*" * 8


class Scrubber:
    """ansible-core's remove_values(value, no_log_values), in time linear in the size of the result.

    remove_values tries every no_log value on every string of the result, a replace() each: a result that lists
    thousands of users, with thousands of passwords no_log, took longer than the whole run. Here each string is
    looked up once per position among the values that begin with the characters there; only the values found in
    it are replaced, in remove_values' order, so the string comes out as remove_values gives it:
    whole no_log values as PLACEHOLDER, any occurrence inside a text as MASK, in strings and numbers of dicts,
    lists, tuples and sets at any depth (keys stay as they are, as there). A value that holds MASK's `*` could match
    only after another was masked: those are tried on every string, as remove_values tries all.
    """

    def __init__(self, no_log_values):
        # remove_values' order: longest first, values of one length as the set gives them (they may overlap)
        order = sorted([to_native(value, errors="surrogate_or_strict") for value in no_log_values], key=len,
                       reverse=True)
        self.rank = dict((value, rank) for rank, value in enumerate(order) if value)
        self.values = frozenset(self.rank)
        self.width = min([len(value) for value in self.values] or [1])
        self.starts = {}
        for value in self.values:
            self.starts.setdefault(value[:self.width], []).append(value)
        self.starred = [value for value in self.values if "*" in value]

    def found(self, text):
        """The no_log values in `text` (with those that hold `*`), in remove_values' order."""
        width, starts = self.width, self.starts
        found = set(self.starred)
        for index in range(len(text) - width + 1):
            for value in starts.get(text[index:index + width], ()):
                if text.startswith(value, index):
                    found.add(value)
        return sorted(found, key=self.rank.get)

    def text(self, text):
        if text in self.values:
            return PLACEHOLDER
        for value in self.found(text):
            text = text.replace(value, MASK)
        return text

    def scalar(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            text = to_text(value, errors="surrogate_or_strict")
            if text in self.values:
                return PLACEHOLDER
            return to_bytes(self.text(text), errors="surrogate_then_replace")
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            number = to_native(value)
            return PLACEHOLDER if any(found in number for found in self.found(number)) else value
        return remove_values(value, self.values)   # dates and what else remove_values knows: as it does

    def scrub(self, value):
        """A copy of `value` with every no_log value removed, as remove_values(value, no_log_values) gives it."""
        pending = deque()

        def copy(item):
            if isinstance(item, (str, bytes)):
                return self.scalar(item)
            for kind, empty in ((Sequence, list), (Set, set), (Mapping, dict)):
                if isinstance(item, kind):
                    new = empty()
                    pending.append((item, new))
                    return new
            return self.scalar(item)

        result = copy(value)
        while pending:   # not recursive: no depth limit, as remove_values
            old, new = pending.popleft()
            if isinstance(new, dict):
                for key, item in old.items():
                    new[key] = copy(item)
            elif isinstance(new, set):
                new.update(copy(item) for item in old)
            else:
                new.extend(copy(item) for item in old)
        return result
