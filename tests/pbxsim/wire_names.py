# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every ASSUMED wire name pbxsim speaks, in one table.

The values come from the interface reference (sections marked ASSUMED) and from
docs/design/contract.md. No other pbxsim module spells these strings; they import
them from here. The collection keeps the same values in
plugins/module_utils/wire_names.py and a unit test compares both tables, so an
operator with a real PBX corrects a name in one place on each side.
"""

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

# --- Devices app (reference 4, contract 5) -----------------------------------
DEVICES_APP = "devices"             # `app` of AppLogin
MT_ADD_CATEGORY = "AddCategory"
MT_UPDATE_CATEGORY = "UpdateCategory"
MT_DELETE_CATEGORY = "DeleteCategory"
MT_GET_DEVICE_CONFIGS = "GetDeviceConfigs"
MT_ADD_DEVICE_CONFIG = "AddDeviceConfig"
MT_UPDATE_DEVICE_CONFIG = "UpdateDeviceConfig"
MT_DELETE_DEVICE_CONFIG = "DeleteDeviceConfig"
DEVICE_CONFIGS_KEY = "configs"
CONFIG_TYPE_PHONE = "PHONE"
CONFIG_TYPE_EXPERT = "EXPERT"
CATEGORY_IDS_KEY = "categoryIds"
SETTINGS_KEY = "settings"
SETTING_GK_ID = "gkId"
SETTING_PRIMARY_GK = "primaryGk"
SETTING_SECONDARY_GK = "secondaryGk"
SETTING_SCRIPT = "script"
DEVICES_ERROR_KEY = "error"

# One dict of every name above, for the cross-check with the collection's table.
WIRE_NAMES = {
    name.lower(): value for name, value in sorted(globals().items())
    if name.isupper() and isinstance(value, str)
}
