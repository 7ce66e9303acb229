# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulated innovaphone desk phones, so that the seed's Verification can really run.

A factory-reset phone enters a provisioning code: Devices makes it a device of the code's category and
puts its hardware id on the code's user, whom the phone registers as. At every boot the phone applies
the device configurations valid for it: PHONE gives the gatekeeper (gk1), EXPERT is an update script run
line by line (reference section 5). The script's function keys offer hot desking: an additional
registration as another user, which the PBX accepts or refuses (contract section 7) and which a reboot
of the phone loses. Through the Devices passthrough a phone serves /cfg.txt and runs /!<command>.
"""

import copy
import ipaddress
import re
import urllib.parse
import xml.etree.ElementTree as ET

from . import cfg, wire_names as W
from .devices import GK1, GK2, GK_ID, SCRIPT, SECRET_FLAG, TYPE_EXPERT, TYPE_PHONE, DevicesError
from .model import VIA_TLS, VIAS, PbxError

SIG = "PHONE SIG"                  # config module line holding the phone's own registration
USER_CFG_VAR = re.compile(r"^PHONE/USER-CFG/\d+$")
# Reset commands (reference 5): `reset` now, `ireset` when idle (a pbxsim phone always is), the -n forms only
# if a reset is required. Standalone lines or the final command of `mod cmd UP1 check`; "ser" is a no-op there.
RESETTING = {"reset", "ireset", "resetn", "iresetn"}
ALWAYS_RESETTING = {"reset", "ireset"}
GATEKEEPER_FIELDS = (GK1, GK2, GK_ID)   # what a phone takes from a PHONE device configuration
LOG_LENGTH = 100
MAX_RESETS_PER_EVENT = 3           # a script whose check serials alternate would reset forever


class PhoneError(Exception):
    """A phone control call that cannot be done (HTTP 409 on the control API)."""


def factory_phone(hw_id, address, via=VIA_TLS):
    return {
        "hw_id": hw_id, "address": address, "domain_id": None, "category_id": None, "device_id": None,
        "via": via,                # how the phone reaches the PBX (model.VIAS); Devices provisions it for TLS
        # config module lines ("PHONE SIG" -> {flag: value}): changed -> written (flash) -> active
        "config": {"current": {}, "written": {}, "active": {}},
        "vars": {},                # persistent variables (vars create), e.g. PHONE/USER-CFG/00000
        "var_flags": {},           # the flags each variable was created with (e.g. "p")
        "online": True,            # connected to Devices; offline it keeps its state but is unreachable
        "update_check": "",        # UPDATE/CHECK: serial of the last completed `check`
        "gatekeeper": None,        # gk1/gk2/gkId of the PHONE device configuration
        "primary": None,           # {"id", "user"} of the registration at the PBX
        "hotdesk": None,           # {"id", "user"} of the hot-desk login
        "resets": 0,
        "log": [],
    }


def parse_function_keys(user_cfg):
    """Function keys of a PHONE/USER-CFG value: URL-encoded <user><f id label><hotdesk …/></f></user>."""
    root = ET.fromstring(urllib.parse.unquote_plus(user_cfg))
    if root.tag != "user":
        raise ValueError(f"user config root is <{root.tag}>, not <user>")
    keys = []
    for key in root.iter("f"):
        hotdesk = key.find("hotdesk")
        keys.append({
            "id": key.get("id"), "label": key.get("label", ""),
            "hotdesk": None if hotdesk is None else {
                "label": hotdesk.get("label", ""), "pbx": hotdesk.get("pbx") == "1"},
        })
    return keys


def function_keys(phone):
    keys = []
    for name in sorted(phone["vars"]):
        if USER_CFG_VAR.match(name):
            try:
                keys += parse_function_keys(phone["vars"][name])
            except (ET.ParseError, ValueError):
                pass               # logged when the script stored it
    return keys


def command_flags(words):
    """`/flag value` pairs of a config line, in order; raises ValueError for a flag without value."""
    if len(words) % 2:
        raise ValueError("every /flag needs a value")
    flags = {}
    for flag, value in zip(words[::2], words[1::2]):
        if not flag.startswith("/"):
            raise ValueError(f"{flag!r} is not a /flag")
        flags[flag[1:]] = value
    return flags


def check_via(via):
    if via not in VIAS:
        raise PhoneError(f"via must be one of {', '.join(VIAS)}, not {via!r}")


def config_words(line):
    """The words of a command line; double quotes group a value with blanks (as /cfg.txt writes it)."""
    try:
        return cfg.tokenize(line)
    except cfg.ConfigError as exc:
        raise ValueError(str(exc)) from exc


def cfg_text(phone):
    """The phone's /cfg.txt: one `config change` line per config line of the current configuration,
    every password-like flag masked, then one `vars create` line per variable."""
    lines = []
    for line, flags in phone["config"]["current"].items():
        shown = {flag: W.CFG_PASSWORD_MASK if SECRET_FLAG.search(flag) else value for flag, value in flags.items()}
        lines.append(f"config change {line} {cfg.format_flags(shown)}".rstrip())
    for name in sorted(phone["vars"]):
        lines.append(f"vars create {name} {phone['var_flags'].get(name, 'p')} {phone['vars'][name]}")
    return "".join(line + "\n" for line in lines)


class PhoneFleet:
    def __init__(self, instance):
        self.instance = instance
        self.phones = {}

    # --- state ----------------------------------------------------------------------------------
    def reset(self):
        self.phones = {}

    def to_dict(self):
        return {"phones": copy.deepcopy(list(self.phones.values()))}

    def load_dict(self, data):
        self.phones = {phone["hw_id"]: phone for phone in copy.deepcopy(data.get("phones", []))}
        for phone in self.phones.values():     # state of an older pbxsim
            phone.setdefault("via", VIA_TLS)
            phone.setdefault("online", True)
            phone.setdefault("var_flags", {})

    def _phone(self, hw_id):
        phone = self.phones.get(hw_id)
        if phone is None:
            raise PhoneError(f"no phone {hw_id}")
        return phone

    def _state(self, phone):
        """Contract section 6: what an observer sees of the phone."""
        live = {reg["id"] for reg in self.instance.pbx.registrations()}
        registrations = [
            {"user": reg["user"], "hotdesk": kind == "hotdesk"}
            for kind in ("primary", "hotdesk")
            for reg in [phone[kind]] if reg is not None and reg["id"] in live
        ]
        return {
            "hw_id": phone["hw_id"], "address": phone["address"], "via": phone["via"],
            "category": self.instance.devices.category_name(phone["category_id"]),
            "device_id": phone["device_id"], "online": phone["online"], "gatekeeper": phone["gatekeeper"],
            "registrations": registrations, "function_keys": function_keys(phone),
            "resets": phone["resets"], "update_check": phone["update_check"], "log": list(phone["log"]),
        }

    def get(self, hw_id):
        return self._state(self._phone(hw_id))

    def list(self):
        return [self._state(phone) for _hw, phone in sorted(self.phones.items())]

    @staticmethod
    def _log(phone, text):
        phone["log"] = (phone["log"] + [text])[-LOG_LENGTH:]

    # --- control calls --------------------------------------------------------------------------
    def provision(self, hw_id, code, address, via=VIA_TLS):
        if not isinstance(hw_id, str) or not hw_id.strip():
            raise PhoneError("hw_id must be a non-empty string")
        check_via(via)
        try:
            ipaddress.ip_address(address)
        except (TypeError, ValueError) as exc:
            raise PhoneError(f"address must be an IP address, not {address!r}") from exc
        try:
            grant = self.instance.devices.redeem_code(str(code), hw_id, address)
        except DevicesError as exc:
            raise PhoneError(str(exc)) from exc
        if hw_id in self.phones:     # the phone was factory reset: its registrations go
            self._drop_registrations(self.phones[hw_id])
        phone = self.phones[hw_id] = factory_phone(hw_id, address, via)
        phone.update(domain_id=grant["domainId"], category_id=grant["categoryId"],
                     device_id=grant["device"]["id"])
        self._log(phone, f"provisioned with code {code}")
        if grant["sip"] is not None:
            line = {"h323": grant["sip"], "gk-pwd": grant["password"]}
            for layer in phone["config"].values():
                layer[SIG] = dict(line)
        self._boot(phone)
        self.instance.save()
        return self._state(phone)

    def hotdesk_login(self, hw_id, user, password):
        phone = self._phone(hw_id)
        refusal = self._hotdesk_refusal(phone, user, password)
        if refusal:
            self._log(phone, f"hot-desk login as {user} failed: {refusal}")
            self.instance.save()
            return {"ok": False, "error": refusal, **self._state(phone)}
        self._log(phone, f"hot-desk login as {phone['hotdesk']['user']}")
        self.instance.save()
        return {"ok": True, **self._state(phone)}

    def _hotdesk_refusal(self, phone, user, password):
        """Try the hot-desk login; the reason it failed, or None once registered."""
        if not any(key["hotdesk"] for key in function_keys(phone)):
            return "the phone has no hot-desking function key"
        if not self._alive(phone, "primary"):
            return "hot desking works only on the primary registration, which is not registered"
        if self._alive(phone, "hotdesk"):
            return f"already logged in as {phone['hotdesk']['user']}; log out first"
        found = self.instance.pbx.find_user(str(user))
        if found is None:
            return f"registration refused: unknown user {user}"
        # Contract section 7: a hot-desk registration presents the user's own name as hardware id.
        registration = self._register(phone, found.get("h323", ""), str(user), password or None, hotdesk=True)
        if isinstance(registration, str):
            return registration
        phone["hotdesk"] = {"id": registration["id"], "user": registration["user"]}
        return None

    def hotdesk_logout(self, hw_id):
        phone = self._phone(hw_id)
        if not self._alive(phone, "hotdesk"):
            phone["hotdesk"] = None
            return {"ok": False, "error": "no hot-desk login to log out", **self._state(phone)}
        self._log(phone, f"hot-desk logout of {phone['hotdesk']['user']}")
        self._drop(phone, "hotdesk")
        self.instance.save()
        return {"ok": True, **self._state(phone)}

    def set_via(self, hw_id, via):
        """The phone reaches the PBX another way: it registers its primary user again that way.

        A hot-desk login is lost, as after a PBX restart: the phone would need the user's password again.
        """
        phone = self._phone(hw_id)
        check_via(via)
        phone["via"] = via
        self._log(phone, f"reaches the PBX via {via}")
        if self._alive(phone, "hotdesk"):
            self._log(phone, f"hotdesk registration as {phone['hotdesk']['user']} lost: registering again")
        self._drop(phone, "hotdesk")
        self._register_primary(phone)
        self.instance.save()
        return self._state(phone)

    def reboot_phone(self, hw_id):
        phone = self._phone(hw_id)
        self._log(phone, "reboot")
        self._boot(phone)
        self.instance.save()
        return self._state(phone)

    def on_pbx_reboot(self):
        """The PBX dropped every registration: phones register their primary user again.

        A hot-desk login is not restored, as the phone would need the user's password again.
        """
        for phone in self.phones.values():
            for kind in ("primary", "hotdesk"):
                if phone[kind] is not None and not self._alive(phone, kind):
                    self._log(phone, f"{kind} registration as {phone[kind]['user']} lost: PBX restarted")
                    phone[kind] = None
            self._register_primary(phone)
        self.instance.save()

    def remove(self, hw_id):
        """The phone is deleted in the Devices app: its registrations end and Devices forgets the device."""
        phone = self._phone(hw_id)
        self._drop_registrations(phone)
        del self.phones[hw_id]
        self.instance.devices.remove_device(phone["device_id"])
        self.instance.save()
        return {"hw_id": hw_id, "removed": True}

    def set_online(self, hw_id, online):
        """The phone loses or regains its connection to Devices. Offline it keeps its state (and its
        registrations) but cannot be reached; back online it applies its device configurations."""
        phone = self._phone(hw_id)
        if phone["online"] != online:
            phone["online"] = online
            self._log(phone, "online" if online else "offline")
            self.instance.devices.set_online(phone["device_id"], online)
            if online:
                self._apply_device_configs(phone, resets_left=MAX_RESETS_PER_EVENT)
            self.instance.save()
        return self._state(phone)

    def on_device_configs_changed(self, domain_id, category_ids):
        """Devices pushed changed device configurations: the online phones of those categories (None: of
        every category) of that domain apply them."""
        for phone in self.phones.values():
            if phone["online"] and phone["domain_id"] == domain_id and (
                    category_ids is None or phone["category_id"] in category_ids):
                self._log(phone, "device configurations changed")
                self._apply_device_configs(phone, resets_left=MAX_RESETS_PER_EVENT)

    # --- HTTP through the Devices passthrough ---------------------------------------------------
    def exists(self, hw_id):
        return hw_id in self.phones

    def is_online(self, hw_id):
        return self._phone(hw_id)["online"]

    def cfg_text(self, hw_id):
        return cfg_text(self._phone(hw_id))

    def http_command(self, hw_id, command):
        """GET /!<command>: the answer body, `ok` or `error <text>`."""
        phone = self._phone(hw_id)
        words = command.split()
        self._log(phone, f"http command {self._redacted(command)}")
        try:
            if len(words) == 1 and words[0] in RESETTING:
                self._http_reset(phone, words[0])
            elif words[:4] == ["mod", "cmd", "UP1", "check"] and len(words) == 6:
                if words[5] != phone["update_check"]:
                    phone["update_check"] = words[5]
                    if words[4] in RESETTING:
                        self._http_reset(phone, words[4])
            else:
                self._script_command(phone, words, command)
        except ValueError as exc:
            return f"{W.COMMAND_ERROR} {exc}"
        return W.COMMAND_OK

    @staticmethod
    def _redacted(command):
        words = command.split()
        return " ".join(W.CFG_PASSWORD_MASK if index and words[index - 1].startswith("/")
                        and SECRET_FLAG.search(words[index - 1]) else word for index, word in enumerate(words))

    def _http_reset(self, phone, command):
        """A reset command over HTTP: the -n forms only if a reset is required (flash differs from what
        is active)."""
        layers = phone["config"]
        if command in ALWAYS_RESETTING or layers["written"] != layers["active"]:
            phone["resets"] += 1
            self._log(phone, f"reset ({command})")
            self._boot(phone)
        else:
            self._log(phone, f"{command}: no reset required")

    # --- registrations --------------------------------------------------------------------------
    def _alive(self, phone, kind):
        reg = phone[kind]
        return reg is not None and any(r["id"] == reg["id"] for r in self.instance.pbx.registrations())

    def _drop(self, phone, kind):
        if self._alive(phone, kind):
            self.instance.pbx.unregister(phone[kind]["id"])
        phone[kind] = None

    def _drop_registrations(self, phone):
        self._drop(phone, "hotdesk")
        self._drop(phone, "primary")

    def _register(self, phone, hw_id, user, password, hotdesk=False):
        """Register at the PBX: the registration dict, or the refusal reason as a string."""
        try:
            return self.instance.pbx.register(hw_id, user, password, phone["address"], hotdesk=hotdesk,
                                              via=phone["via"])
        except PbxError as exc:  # RegistrationRefused and every other refusal carry the reason
            return f"registration refused: {exc}"

    def _register_primary(self, phone):
        """(Re-)register the user of the active PHONE SIG line, replacing the primary registration."""
        sig = phone["config"]["active"].get(SIG, {})
        self._drop(phone, "primary")
        if not sig.get("h323"):
            self._log(phone, "no user configured: not registered")
            return
        if not (phone["gatekeeper"] or {}).get(GK1):
            self._log(phone, f"cannot register as {sig['h323']}: no gatekeeper configured")
            return
        registration = self._register(phone, phone["hw_id"], sig["h323"], sig.get("gk-pwd") or None)
        if isinstance(registration, str):
            self._log(phone, f"{registration} (as {sig['h323']})")
            return
        phone["primary"] = {"id": registration["id"], "user": registration["user"]}
        self._log(phone, f"registered as {registration['user']}")

    # --- boot and update script -----------------------------------------------------------------
    def _boot(self, phone, resets_left=MAX_RESETS_PER_EVENT):
        """Start the phone: what is in flash becomes active, the hot-desk login is gone."""
        self._drop(phone, "hotdesk")
        layers = phone["config"]
        layers["current"] = copy.deepcopy(layers["written"])
        layers["active"] = copy.deepcopy(layers["written"])
        self._apply_device_configs(phone, resets_left, booting=True)

    def _apply_device_configs(self, phone, resets_left, booting=False):
        """PHONE configurations first (gatekeeper, then the phone registers), then EXPERT scripts."""
        configs = self.instance.devices.configs_for(phone["domain_id"], phone["category_id"])
        gatekeeper = phone["gatekeeper"]
        for config in configs:
            if config["type"] == TYPE_PHONE:
                gatekeeper = {name: config[name] for name in GATEKEEPER_FIELDS if name in config}
        changed = gatekeeper != phone["gatekeeper"]
        if changed:
            phone["gatekeeper"] = gatekeeper
            self._log(phone, "gatekeeper from the PHONE device configuration")
        if booting or changed:
            self._register_primary(phone)
        for config in configs:
            if config["type"] != TYPE_EXPERT:
                continue
            final = self._run_script(phone, config.get("desc") or f"configuration {config['id']}", config[SCRIPT])
            if final and resets_left <= 0:
                self._log(phone, "reset skipped: the update script keeps asking for resets")
            elif final:
                phone["resets"] += 1
                self._log(phone, f"reset ({final})")
                self._boot(phone, resets_left - 1)
                return

    def _run_script(self, phone, name, script):
        """Execute an update script line by line; returns the reset command when it asks for a reset.

        A reset is done after the script: `reset`/`ireset` always, `resetn`/`iresetn` only if the script
        changed the flash configuration or a variable. They come as standalone lines or as the final
        command of `mod cmd UP1 check <final> <serial>`, which also skips the rest of the script once
        <serial> is done.
        """
        before = copy.deepcopy((phone["config"]["written"], phone["vars"]))
        check, resets = None, []
        for number, line in enumerate(script.splitlines(), start=1):
            words = line.split()
            if not words:
                continue
            if words[:4] == ["mod", "cmd", "UP1", "check"] and len(words) == 6:
                if words[5] == phone["update_check"]:
                    break          # serial done already: the rest of the script is skipped
                check = (words[4], words[5])
                continue
            if len(words) == 1 and words[0] in RESETTING:
                resets.append(words[0])
                continue
            try:
                self._script_command(phone, words, line)
            except ValueError as exc:
                self._log(phone, f"script error in {name!r} line {number}: {exc}")
        if check is not None:
            final, phone["update_check"] = check
            resets.append(final)
        changed = before != (phone["config"]["written"], phone["vars"])
        return next((final for final in resets if final in ALWAYS_RESETTING), None) or next(
            (final for final in resets if final in RESETTING and changed), None)

    def _script_command(self, phone, words, line):
        """One command of an update script or of /!<command> (reset commands aside); ValueError if refused."""
        layers = phone["config"]
        if words[:2] in (["config", "add"], ["config", "change"]) and len(words) > 2:
            rest = config_words(line)[2:]
            first_flag = next((i for i, word in enumerate(rest) if word.startswith("/")), len(rest))
            name, flags = " ".join(rest[:first_flag]), command_flags(rest[first_flag:])
            if not name:
                raise ValueError("config line name missing")
            current = layers["current"].get(name, {})
            for flag, value in flags.items():
                if value == W.CFG_PASSWORD_MASK and SECRET_FLAG.search(flag):
                    if flag not in current:
                        raise ValueError(f"/{flag} {value} keeps a value, but {name} has none")
                    flags[flag] = current[flag]      # the mask /cfg.txt shows keeps the value
            layers["current"][name] = {**current, **flags} if words[1] == "add" else flags
        elif words == ["config", "write"]:
            layers["written"] = copy.deepcopy(layers["current"])
        elif words == ["config", "activate"]:
            changed = layers["active"].get(SIG) != layers["current"].get(SIG)
            layers["active"] = copy.deepcopy(layers["current"])
            if changed:
                self._register_primary(phone)
        elif words[:2] == ["vars", "create"] and len(words) == 5:
            if USER_CFG_VAR.match(words[2]):
                try:
                    parse_function_keys(words[4])
                except ET.ParseError as exc:
                    raise ValueError(f"{words[2]} is not valid XML: {exc}") from exc
            phone["vars"][words[2]] = words[4]
            phone["var_flags"][words[2]] = words[3]
        elif words == ["mod", "cmd", "UP1", "poll"]:
            pass                   # poll the update server now: pbxsim's phones have none to poll
        else:
            raise ValueError(f"unknown command {' '.join(words[:4])}")
