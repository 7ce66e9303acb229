# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cfg.txt lines <-> flag dicts, and the `!` command URLs of the device command interface (reference 2)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex
from urllib.parse import quote

from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import PbxError
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import CONFIG, WireName, named, see_docs

CFG_PATH = "/cfg.txt"
# The layers behind the current configuration that cfg.txt can show (contract 4).
WRITTEN = "written"
ACTIVE = "active"


class CommandError(Exception):
    """A command the device answered with `error <text>`."""


class MissingFlag(PbxError):
    """A cfg.txt line without a flag the collection needs: most likely its wire name is spelt otherwise."""


def split(line):
    """Words of a config line; double quotes group a value with blanks (or an empty one)."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.quotes = '"'
    lexer.escape = ""
    try:
        return list(lexer)
    except ValueError:
        return line.split()


def quoted(value):
    return '"%s"' % value if not value or any(c.isspace() for c in value) else value


def parse_flags(tokens):
    """`/flag value /switch` tokens -> {flag: value}, with True for a flag without a value."""
    flags = {}
    name = None
    for token in tokens:
        if token.startswith("/"):
            name = token[1:]
            flags[name] = True
        elif name is not None and flags[name] is True:
            flags[name] = token
    return flags


def format_flags(flags):
    parts = []
    for name, value in flags.items():
        if value is True:
            parts.append("/" + name)
        elif value not in (None, False, ""):
            parts.append("/%s %s" % (name, quoted(value)))
    return " ".join(parts)


class CfgText:
    """The parts of cfg.txt the modules use: `config change` lines and `config add` objects."""

    def __init__(self, text):
        self.modules = {}
        self.objects = []
        for line in text.splitlines():
            words = split(line)
            if len(words) < 3 or words[0] != "config":
                continue
            if words[1] == "change":
                self.modules[words[2]] = parse_flags(words[3:])
            elif words[1] == "add" and len(words) > 3 and not words[3].startswith("/"):
                self.objects.append((words[2], words[3], parse_flags(words[4:])))

    def flags(self, module):
        return dict(self.modules.get(module, {}))

    def filters(self):
        """Names of the call filters the PBX knows; MissingFlag for a filter line without its name."""
        names = [flags.get(CONFIG["filter_name"]) for module, kind, flags in self.objects
                 if module == "PBX0" and kind == CONFIG["filter_object"]]
        if any(not isinstance(name, str) or not name for name in names):
            name = WireName("config", "filter_name")
            raise MissingFlag("cfg.txt has a `config add PBX0 %s` line without the filter's name: this PBX may spell "
                              "%s otherwise%s" % (CONFIG["filter_object"], named(name), see_docs(name)))
        return names


def cfg_path(layer=None):
    """The URL path of cfg.txt: the current configuration, or the WRITTEN or ACTIVE one."""
    if layer is None:
        return CFG_PATH
    return "%s?%s=%s" % (CFG_PATH, CONFIG["layer_parameter"], CONFIG["layer_" + layer])


def change_command(module, flags):
    """The `config change` command that replaces a module's whole line."""
    return ("config change %s %s" % (module, format_flags(flags))).strip()


def command_name(command):
    """A command without its flags, whose values may be secrets: how messages name it."""
    return command.split(" /", 1)[0]


def command_path(command):
    """The URL path that runs a command: `/!` and the command URL-encoded."""
    return "/!" + quote(command, safe="/")


def command_result(body):
    """The text of a command answer; CommandError for `error <text>`."""
    text = body.strip()
    if text.split(" ", 1)[0] == CONFIG["error"]:
        raise CommandError(text[len(CONFIG["error"]):].strip() or "error")
    return text
