# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every PBX module shares: the connection options, the connection, and turning errors into failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Pbx
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, HttpClient, PbxError)
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError


def _env(name):
    return (env_fallback, ["INNOVAPHONE_" + name])


CONNECTION_ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True, fallback=_env("URL")),
    username=dict(type="str", default="admin", fallback=_env("USERNAME")),
    password=dict(type="str", required=True, no_log=True, fallback=_env("PASSWORD")),
    validate_certs=dict(type="bool", default=True, fallback=_env("VALIDATE_CERTS")),
    ca_path=dict(type="path", fallback=_env("CA_PATH")),
    timeout=dict(type="int", default=30, fallback=_env("TIMEOUT")),
    force_basic_auth=dict(type="bool", default=False, fallback=_env("FORCE_BASIC_AUTH")),
)


def pbx_password_option():
    """The PBX password (reference 1.3): the key that decrypts pwdx, never sent to the PBX."""
    return dict(type="str", no_log=True, fallback=_env("PBX_PASSWORD"))


def pbx_module(argument_spec, **kwargs):
    """An AnsibleModule with the connection options added; every PBX module supports check mode."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(argument_spec)
    return AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)


def connect(module):
    """The PBX of the module's connection options, over one HTTP session for the whole run."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    return Pbx(HttpClient(
        params["url"], params["username"], params["password"], validate_certs=params["validate_certs"],
        ca_path=params["ca_path"], timeout=params["timeout"], force_basic_auth=params["force_basic_auth"],
        secrets=module.no_log_values))


def run(module, converge):
    """Exit with what `converge()` returns (its "warnings" as module warnings), or fail with the message
    of a PBX or input error."""
    try:
        result = converge()
    except (PbxError, ValidationError) as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)


def single(result, list_name, name):
    """The result of a one-entry converge with the entry as `name` (and its diff) instead of a list."""
    records = result.pop(list_name)
    result[name] = records[0] if records else {}
    if "diff" in result:
        result["diff"] = dict((side, next(iter(keyed.values()), {})) for side, keyed in result["diff"].items())
    return result
