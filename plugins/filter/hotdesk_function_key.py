# -*- coding: utf-8 -*-
# Copyright: innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the update-script line that gives an innovaphone phone a Hot Desking function key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError, check_function_key

# The phone's update script takes the user config as URL-encoded XML: '<' and '>' as lower-case %3c/%3e,
# space as '+'; quotes, '=' and '/' stay literal (as in the how-to's example line).
_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~'=/")


def _url_encode(text):
    out = []
    for char in text:
        if char in _LITERAL:
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.extend("%%%02x" % byte for byte in char.encode("utf-8"))
    return "".join(out)


def _xml_attr(value):
    # Attributes are single-quoted in the phone's user config, so quote characters must be escaped.
    return (value.replace("&", "&amp;").replace("'", "&apos;")
            .replace("<", "&lt;").replace(">", "&gt;"))


def hotdesk_function_key(key_id, label="hot-desking", logout_label="log out", pbx=True, user_config=0):
    """Return the `vars create PHONE/USER-CFG/...` line for one hot-desk function key."""
    try:
        key_id, user_config = check_function_key(key_id, label, logout_label, user_config)
    except ValidationError as exc:
        raise AnsibleFilterError("hotdesk_function_key: %s" % "; ".join(exc.errors))
    try:
        pbx = boolean(pbx)
    except TypeError:
        raise AnsibleFilterError("hotdesk_function_key: pbx must be a boolean")
    xml = "<user><f id='%d' label='%s'><hotdesk label='%s' pbx='%s'/></f></user>" % (
        key_id,
        _xml_attr(label),
        _xml_attr(logout_label),
        "1" if pbx else "0",
    )
    return "vars create PHONE/USER-CFG/%05d p %s" % (user_config, _url_encode(xml))


class FilterModule(object):
    """innovaphone.pbx filters."""

    def filters(self):
        return {"hotdesk_function_key": hotdesk_function_key}
