# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keeping secrets out of everything a module returns."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from html import escape

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
