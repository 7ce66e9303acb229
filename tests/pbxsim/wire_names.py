# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every wire name and behaviour pbxsim has to guess, in one table.

The values come from the interface reference (facts marked ASSUMED or INFERRED) and from
docs/design/contract.md. No other pbxsim module spells these; they read them from here, as
`wire_names.NAME` at the moment they use them (never `from .wire_names import NAME`, never a set or dict
built from them at import), so that `--wire-names FILE` (apply_overrides) can respell them at start-up.
Names innovaphone documents (e.g. GetDeviceConfigs, gk1) are not guesses and live where they are used. The
collection keeps the same values in plugins/module_utils/wire_names.py; COLLECTION_KEYS maps its
(section, key) entries to the constants here, and a unit test compares both tables, so an operator with a
real PBX corrects a name in one place on each side.
"""

import json

# --- SOAP Admin() answers (contract 2) ---------------------------------------
SHOW_ROOT = "show"                  # root element of a show answer and of bulk reads
OK_ELEMENT = "ok"                   # success answer of add/modify/del/add-attrib/del-attrib
ERROR_ELEMENT = "error"             # <error>text</error>: refusal, state unchanged
DELETE_COMMAND = "del"              # <del><user cn="X"/></del>
BOOLEAN_TRUE = "true"               # booleans on the wire; absent means false

# --- Config template attributes (reference 1.2, revised) ----------------------
# INFERRED, not shown end to end: the 13r2 PbxAdminApi lists the object properties phone-config and
# discard-phone-config, and XML attributes equal PbxAdminApi properties. Booleans: "false" is not stored.
STORE_PHONE_CONFIG = "phone-config"             # "Store Phone Config"
DISCARD_PHONE_CONFIG = "discard-phone-config"   # "Discard Phone Config"
INHERIT_SEPARATOR = ","             # between the templates a template names in `config` (up to four)

# --- Hot-desking registration device (reference 1.4, contract 2) -------------
HOTDESK_DEVICE_TEXT = "Hotdesking"
HOTDESK_DEVICE_APP = "phone"        # default phone App name of the device entry

# --- Bulk reads (reference 1 revised, contract 3) -----------------------------
# sort-order=up is seen in public scripts; its opposite is a guess.
SORT_ORDER_DOWN = "down"

# --- Bulk registration listing (contract 3) -----------------------------------
REG_ELEMENT = "reg"
REG_USER = "user"
REG_CN = "cn"
REG_HW = "hw"
REG_ADDR = "addr"
REG_PWD = "pwd"
REG_HOTDESK = "hotdesk"

# --- Command interface and cfg.txt (reference 2, contract 2 and 4) -----------
PBX_MODULE = "PBX0"
REG_NO_PWD_FLAG = "reg-no-pwd"
IP_FILTER_FLAG = "ip-filter"
FILTER_KIND = "FILTER"              # config add PBX0 FILTER /name <name>
FILTER_NAME_FLAG = "name"
CFG_LAYER_PARAMETER = "layer"       # GET /cfg.txt?layer=written|active reads that layer (absent: current)
CFG_LAYER_WRITTEN = "written"
CFG_LAYER_ACTIVE = "active"
COMMAND_OK = "ok"                   # body of a successful /!config command
COMMAND_ERROR = "error"             # body "error <text>"

# --- Devices app (reference 3 and 4) ------------------------------------------
# Documented names (GetDeviceConfigs, gk1, script, desc, the event names, …) are written in devices.py;
# only what innovaphone does not document is here.
DEVICES_APP = "innovaphone-devices"  # `app` of AppLogin: the service name (INFERRED, reference 3)
MT_ADD_CATEGORY = "AddCategory"     # ASSUMED: create, change, delete a category
MT_UPDATE_CATEGORY = "UpdateCategory"
MT_DELETE_CATEGORY = "DeleteCategory"
MT_ADD_DEVICE_CONFIG = "AddDeviceConfig"        # ASSUMED: create, change, delete a device configuration;
MT_UPDATE_DEVICE_CONFIG = "UpdateDeviceConfig"  # they carry the documented configuration object
MT_DELETE_DEVICE_CONFIG = "DeleteDeviceConfig"
DEVICES_ERROR_KEY = "error"
# Payload of the documented events DeviceConfigAdded / DeviceConfigEdited ({config: <object without
# values>}) and DeviceConfigDeleted ({id}): the SDK names the events but not their fields (ASSUMED).
DEVICE_CONFIG_EVENT_KEY = "config"
DEVICE_CONFIG_DELETED_KEY = "id"

# --- PbxAdminApi arrays as SOAP children (reference 6.2) -------------------------
# The API's arrays devices and grp are the children <device> and <grp> (DOC); the XML names of the items of
# presence, cds and 13r2 emails are not public (ASSUMED; pbxsim only, the collection does not use them).
PRESENCE_ELEMENT = "presence"
DIVERSION_ELEMENT = "cd"
EMAIL_ELEMENT = "email"

# --- Device passthrough and the simulated phones (reference 4 and 5) ----------
# HTTP status of a passthrough request that cannot reach a device (ASSUMED; the SDK only says the key
# is valid while the AppWebsocket session is open).
PASSTHROUGH_BAD_KEY_STATUS = 403     # unknown key, or its session closed
PASSTHROUGH_NO_DEVICE_STATUS = 404   # hw id not a device in a domain the key's session may see
PASSTHROUGH_OFFLINE_STATUS = 504     # the device is not connected
# A phone's /cfg.txt shows every password-like flag (/gk-pwd, …pwd|pass|secret|key…) as this mask; a
# `config add|change` that gives the mask as such a flag's value keeps the value the line has (ASSUMED,
# after the PBX's rule for pwd="********", reference 1.3).
CFG_PASSWORD_MASK = "********"


def _constants():
    return {name: value for name, value in sorted(globals().items())
            if name.isupper() and isinstance(value, (str, int)) and not isinstance(value, bool)}


# One dict of every name above (lower-cased), for the cross-check with the collection's table; kept in
# step by apply_overrides.
WIRE_NAMES = {name.lower(): value for name, value in _constants().items()}
DEFAULTS = dict(_constants())       # the spelling pbxsim starts with, for reset()

# The collection's table (plugins/module_utils/wire_names.py, WIRE_NAMES[section][key]) -> the constant here
# that holds the same name. Every entry of the collection's table is here (tests/unit/test_wire_names_match.py
# checks it), and these are the keys a --wire-names file may respell.
COLLECTION_KEYS = {
    ("soap", "show_root"): "SHOW_ROOT",
    ("soap", "ok"): "OK_ELEMENT",
    ("soap", "error"): "ERROR_ELEMENT",
    ("soap", "delete"): "DELETE_COMMAND",
    ("template", "store_phone_config"): "STORE_PHONE_CONFIG",
    ("template", "discard_phone_config"): "DISCARD_PHONE_CONFIG",
    ("template", "inherit_separator"): "INHERIT_SEPARATOR",
    ("hotdesk", "device_text"): "HOTDESK_DEVICE_TEXT",
    ("hotdesk", "device_app"): "HOTDESK_DEVICE_APP",
    ("registration", "element"): "REG_ELEMENT",
    ("registration", "user"): "REG_USER",
    ("registration", "long_name"): "REG_CN",
    ("registration", "hw"): "REG_HW",
    ("registration", "address"): "REG_ADDR",
    ("registration", "with_password"): "REG_PWD",
    ("registration", "hotdesk"): "REG_HOTDESK",
    ("config", "registrations_without_password"): "REG_NO_PWD_FLAG",
    ("config", "ip_filter"): "IP_FILTER_FLAG",
    ("config", "filter_object"): "FILTER_KIND",
    ("config", "filter_name"): "FILTER_NAME_FLAG",
    ("config", "layer_parameter"): "CFG_LAYER_PARAMETER",
    ("config", "layer_written"): "CFG_LAYER_WRITTEN",
    ("config", "layer_active"): "CFG_LAYER_ACTIVE",
    ("config", "ok"): "COMMAND_OK",
    ("config", "error"): "COMMAND_ERROR",
    ("devices", "app"): "DEVICES_APP",
    ("devices", "add_category"): "MT_ADD_CATEGORY",
    ("devices", "update_category"): "MT_UPDATE_CATEGORY",
    ("devices", "delete_category"): "MT_DELETE_CATEGORY",
    ("devices", "add_device_config"): "MT_ADD_DEVICE_CONFIG",
    ("devices", "update_device_config"): "MT_UPDATE_DEVICE_CONFIG",
    ("devices", "delete_device_config"): "MT_DELETE_DEVICE_CONFIG",
    ("devices", "config_event"): "DEVICE_CONFIG_EVENT_KEY",
    ("devices", "config_deleted_id"): "DEVICE_CONFIG_DELETED_KEY",
}


class WireNamesError(ValueError):
    """A --wire-names file pbxsim cannot use; the message names the file's offending key."""


def check_overrides(overrides):
    """{(section, key): value} of a --wire-names document ({section: {key: value}}, the collection's keys).

    Raises WireNamesError naming the first section or key that is unknown, or whose value is not a
    non-empty string.
    """
    if not isinstance(overrides, dict):
        raise WireNamesError("expected a JSON object {section: {key: name}}")
    sections = {section for section, _key in COLLECTION_KEYS}
    checked = {}
    for section, names in overrides.items():
        if section not in sections:
            raise WireNamesError("unknown section %r (known: %s)" % (section, ", ".join(sorted(sections))))
        if not isinstance(names, dict):
            raise WireNamesError("section %r must be an object {key: name}" % section)
        for key, value in names.items():
            if (section, key) not in COLLECTION_KEYS:
                raise WireNamesError("unknown key %s.%s" % (section, key))
            if not isinstance(value, str) or not value:
                raise WireNamesError("%s.%s must be a non-empty string, not %s" % (section, key, json.dumps(value)))
            checked[(section, key)] = value
    return checked


def apply_overrides(overrides):
    """Respell the names a --wire-names document gives (see check_overrides); the others keep their spelling.

    Returns {constant: new value} of what it set. Checks the whole document before it changes anything.
    """
    applied = {COLLECTION_KEYS[entry]: value for entry, value in check_overrides(overrides).items()}
    globals().update(applied)
    WIRE_NAMES.update((name.lower(), value) for name, value in applied.items())
    return applied


def load_overrides(path):
    """apply_overrides() of the JSON file at `path`; WireNamesError if it cannot be read or used."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except (OSError, ValueError) as exc:
        raise WireNamesError("cannot read %s: %s" % (path, exc)) from exc
    return apply_overrides(document)


def reset():
    """Back to the default spelling (in-process tests that respelt names)."""
    globals().update(DEFAULTS)
    WIRE_NAMES.clear()
    WIRE_NAMES.update((name.lower(), value) for name, value in DEFAULTS.items())
