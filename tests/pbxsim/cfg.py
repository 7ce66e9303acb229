# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device configuration behind /!config commands and /cfg.txt (reference 2, contract 4).

Three layers: `current` is what `config change` edits and /cfg.txt shows, `written` is what
`config write` stored to flash (survives a reboot), `active` is what `config activate` applied
and what the PBX enforces. A reboot sets current and active to written.
"""

import copy
import ipaddress

from . import wire_names as wn

LAYERS = ("current", "written", "active")
FACTORY_REG_NO_PWD = "4"  # not 0, so that the seed's "set it to 0" is a visible change
FACTORY_FILTERS = ("intern", "normal", "international")
# A real PBX0 line has more flags than the two the collection manages (reference 2: a client must repeat the
# flags it keeps); their names are not public. pbxsim knows these two stand-ins for them, so that a test can
# give the line flags a client does not manage and check that they survive (tests/integration/targets/
# pbx_settings does); pbxsim gives them no meaning. Every other flag of the PBX0 line is dropped.
PBX0_STAND_IN_FLAGS = ("name", "trace")


class ConfigError(Exception):
    """A command the device refuses; the configuration is unchanged."""


def factory_layer():
    return {
        "modules": {wn.PBX_MODULE: {wn.REG_NO_PWD_FLAG: FACTORY_REG_NO_PWD}},
        "filters": list(FACTORY_FILTERS),
    }


def tokenize(line):
    """Split a config line on blanks; double quotes group a value that contains blanks."""
    tokens, current, quoted, started = [], [], False, False
    for char in line:
        if char == '"':
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                tokens.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if quoted:
        raise ConfigError("unbalanced quote")
    if started:
        tokens.append("".join(current))
    return tokens


def parse_flags(tokens):
    """["/a", "1", "/b"] -> {"a": "1", "b": None}; None marks a flag without a value."""
    flags, name = {}, None
    for token in tokens:
        if token.startswith("/") and len(token) > 1:
            name = token[1:]
            flags[name] = None
        elif name is None or flags[name] is not None:
            raise ConfigError("value without a flag: %s" % token)
        else:
            flags[name] = token
    return flags


def format_flags(flags):
    parts = []
    for name, value in flags.items():
        parts.append("/" + name)
        if value is not None:
            parts.append('"%s"' % value if value == "" or any(c.isspace() for c in value) else value)
    return " ".join(parts)


def parse_ip_filter(value):
    """'addr/mask,addr/mask' -> list of networks; empty or absent = no filter."""
    networks = []
    for item in (value or "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ConfigError("bad ip filter %s: %s" % (item.strip(), exc)) from exc
    return networks


def address_allowed(address, ip_filter):
    networks = parse_ip_filter(ip_filter)
    return not networks or any(ipaddress.ip_address(address) in net for net in networks)


def known_pbx_flags():
    """The flags of the PBX0 line pbxsim's PBX knows: the security settings, as the wire name table spells them,
    and the stand-ins for the flags the collection does not manage."""
    return (wn.REG_NO_PWD_FLAG, wn.IP_FILTER_FLAG) + PBX0_STAND_IN_FLAGS


def check_pbx_flags(flags):
    reg_no_pwd = flags.get(wn.REG_NO_PWD_FLAG)
    if reg_no_pwd is not None and not reg_no_pwd.isdigit():
        raise ConfigError("/%s must be a number >= 0" % wn.REG_NO_PWD_FLAG)
    parse_ip_filter(flags.get(wn.IP_FILTER_FLAG))


class DeviceConfig:
    """cfg.txt modules with current/written/active layers."""

    def __init__(self):
        self.layers = {}
        self.reset()

    def reset(self):
        self.layers = {layer: factory_layer() for layer in LAYERS}

    def to_dict(self):
        return copy.deepcopy(self.layers)

    def load_dict(self, data):
        self.layers = {layer: copy.deepcopy(data[layer]) for layer in LAYERS}

    def text(self, layer="current"):
        """The configuration as /cfg.txt shows it: one line per module, then one per filter."""
        config = self.layers[layer]
        lines = [" ".join(["config change", module] + ([format_flags(flags)] if flags else []))
                 for module, flags in config["modules"].items()]
        lines += ["config add %s %s /%s %s" % (wn.PBX_MODULE, wn.FILTER_KIND, wn.FILTER_NAME_FLAG, name)
                  for name in config["filters"]]
        return "\n".join(lines) + "\n"

    def active_flags(self, module):
        return dict(self.layers["active"]["modules"].get(module, {}))

    def active_filters(self):
        return list(self.layers["active"]["filters"])

    def run(self, command):
        """Execute one `config …` command line; raises ConfigError and changes nothing on refusal."""
        tokens = tokenize(command)
        if len(tokens) < 2 or tokens[0] != "config":
            raise ConfigError("unknown command")
        verb, args = tokens[1], tokens[2:]
        if verb == "write" and not args:
            self.layers["written"] = copy.deepcopy(self.layers["current"])
        elif verb == "activate" and not args:
            self.layers["active"] = copy.deepcopy(self.layers["current"])
        elif verb == "change" and args:
            self._change(args[0], parse_flags(args[1:]))
        elif verb == "add" and len(args) >= 2:
            self._add(args[0], args[1], parse_flags(args[2:]))
        else:
            raise ConfigError("unknown command")

    def reboot(self):
        """What was not written is lost; the written configuration becomes active."""
        self.layers["current"] = copy.deepcopy(self.layers["written"])
        self.layers["active"] = copy.deepcopy(self.layers["written"])

    def _change(self, module, flags):
        modules = self.layers["current"]["modules"]
        if module not in modules:
            raise ConfigError("unknown module %s" % module)
        if module == wn.PBX_MODULE:
            # A device silently drops a flag it does not know (the command still answers ok): only what
            # /cfg.txt shows afterwards tells. Other modules' lines keep every flag.
            known = known_pbx_flags()
            flags = {name: value for name, value in flags.items() if name in known}
            check_pbx_flags(flags)
        modules[module] = flags  # replaces the whole line (reference 2)

    def _add(self, module, kind, flags):
        name = flags.get(wn.FILTER_NAME_FLAG)
        if module != wn.PBX_MODULE or kind != wn.FILTER_KIND or not name or len(flags) != 1:
            raise ConfigError("unknown command")
        filters = self.layers["current"]["filters"]
        if name not in filters:
            filters.append(name)
