# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module shares: the connection options of the PBX and of the Devices app, the connection, and
turning errors into failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.innovaphone.pbx.plugins.module_utils import wire_names
from ansible_collections.innovaphone.pbx.plugins.module_utils.appws import (
    HAS_WEBSOCKET, WEBSOCKET_IMPORT_ERROR, AppWebsocket)
from ansible_collections.innovaphone.pbx.plugins.module_utils.devices import Devices
from ansible_collections.innovaphone.pbx.plugins.module_utils.endpoint import URL_OPTIONS, Endpoint, EndpointError
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import NotKept
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbx import Pbx
from ansible_collections.innovaphone.pbx.plugins.module_utils.pbxadmin import PbxAdmin, pbxadminapi_url
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import Scrubber
from ansible_collections.innovaphone.pbx.plugins.module_utils.transport import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, HttpClient, PbxError)
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError, check_connection_options
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import DEVICES


try:
    import jmespath
    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()


# How the PBX objects are spoken to: `auto` is PbxAdminApi when the App object's credentials are given, else SOAP.
PBX_APIS = ("auto", "soap", "pbxadminapi")


def _env(name):
    return (env_fallback, ["INNOVAPHONE_" + name])


CONNECTION_ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True, fallback=_env("URL")),
    username=dict(type="str", default="admin", fallback=_env("USERNAME")),
    password=dict(type="str", required=True, no_log=True, fallback=_env("PASSWORD")),
    validate_certs=dict(type="bool", default=True, fallback=_env("VALIDATE_CERTS")),
    ca_path=dict(type="path", fallback=_env("CA_PATH")),
    timeout=dict(type="int", default=30, fallback=_env("TIMEOUT")),
    allow_basic_auth=dict(type="bool", default=False, fallback=_env("ALLOW_BASIC_AUTH")),
    force_basic_auth=dict(type="bool", default=False, fallback=_env("FORCE_BASIC_AUTH")),
    wire_names=dict(type="dict", fallback=_env("WIRE_NAMES")),
    app_name=dict(type="str", fallback=_env("APP_NAME")),
    app_password=dict(type="str", no_log=True, fallback=_env("APP_PASSWORD")),
    pbx_api=dict(type="str", choices=list(PBX_APIS), default="auto", fallback=_env("PBX_API")),
)


DEVICES_ARGUMENT_SPEC = dict(
    devices_url=dict(type="str", required=True, fallback=_env("DEVICES_URL")),
    devices_password=dict(type="str", required=True, no_log=True, fallback=_env("DEVICES_PASSWORD")),
    devices_domain=dict(type="str", fallback=_env("DEVICES_DOMAIN")),
    domain=dict(type="str"),
)
# TLS and timeout options mean the same for the Devices app as for the PBX, with the same env fallbacks.
DEVICES_ARGUMENT_SPEC.update((name, CONNECTION_ARGUMENT_SPEC[name])
                             for name in ("validate_certs", "ca_path", "timeout", "wire_names"))


# The PBX connection of a Devices module that also reads the PBX, where the PBX is optional.
OPTIONAL_PBX_ARGUMENT_SPEC = dict((name, dict(CONNECTION_ARGUMENT_SPEC[name], required=False))
                                  for name in ("url", "username", "password", "allow_basic_auth", "force_basic_auth",
                                               "app_name", "app_password", "pbx_api"))


# Options of a module that manages a list of objects: what its result lists, and how many writes go at once.
STATE_OPTION = dict(type="str", choices=["present", "absent"], default="present")
LIST_ARGUMENT_SPEC = dict(
    report_unchanged=dict(type="bool", default=False),
    parallel=dict(type="int", default=4),
)
# A list option longer than this is echoed in the result's invocation as its length: Ansible scans every string of
# a result for every secret, so echoing thousands of entries costs more than the run itself.
INVOCATION_ENTRIES = 50


def pbx_password_option():
    """The PBX password (reference 1.3): the key that decrypts pwdx, never sent to the PBX."""
    return dict(type="str", no_log=True, fallback=_env("PBX_PASSWORD"))


class Module(AnsibleModule):
    """An AnsibleModule that logs and echoes a long list option as its length (INVOCATION_ENTRIES)."""

    def _log_invocation(self):
        # The syslog line of the invocation: Ansible sanitises it against every secret, which for thousands of
        # entries takes longer than the run.
        params, self.params = self.params, dict(self.params, **slimmed(self.params))
        try:
            super(Module, self)._log_invocation()
        finally:
            self.params = params


def slimmed(params):
    """{option: text} for every list option longer than INVOCATION_ENTRIES."""
    return dict((name, "%d entries (not echoed; the result's changes name those that changed)" % len(value))
                for name, value in params.items() if isinstance(value, list) and len(value) > INVOCATION_ENTRIES)


def as_json_gives(value):
    """The task's arguments as a module process gets them, through JSON: plain dicts, lists, strings and numbers.
    The controller's own values carry tags (their origin) that make every copy, as the argument validation
    makes one, many times slower."""
    if isinstance(value, dict):
        return dict((as_json_gives(key), as_json_gives(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set)):
        return [as_json_gives(item) for item in value]
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


class InProcessExit(BaseException):
    """How exit_json and fail_json of a ControllerModule end the module's main(); a BaseException, as SystemExit
    is, so that no `except Exception` of the module's code stops it."""

    def __init__(self, result):
        super(InProcessExit, self).__init__()
        self.result = result


class ControllerModule:
    """What the modules use of an AnsibleModule, for running a module's main() inside the controller's worker
    process (run_in_process): the same argument validation, no_log values and scrubbed results, without starting
    a Python for the module."""

    def __init__(self, task, argument_spec, supports_check_mode=True, **kwargs):
        validation = ArgumentSpecValidator(argument_spec, **kwargs).validate(as_json_gives(task["args"]))
        self.params = validation.validated_parameters
        self.no_log_values = set(validation._no_log_values)
        self.check_mode = task["check_mode"]
        self._diff = task["diff"]
        self._warnings = []
        if validation.error_messages:
            self.fail_json(msg=validation.errors.msg)

    def warn(self, warning):
        self._warnings.append(warning)

    def exit_json(self, **result):
        result.pop("invocation", None)  # only a module process echoes its arguments
        result.setdefault("changed", False)
        if self._warnings:
            result["warnings"] = self._warnings
        # What remove_values(result, self.no_log_values) gives, without its time per string x no_log value
        # (redact.Scrubber): thousands of users' passwords against a result that lists them.
        raise InProcessExit(Scrubber(self.no_log_values).scrub(result))

    def fail_json(self, msg, **result):
        self.exit_json(**dict(result, msg=msg, failed=True))


def controller_validation_works():
    """Whether ArgumentSpecValidator gives what ControllerModule reads of its result: the no_log values, which
    ansible-core 2.16 to 2.21 keep in ValidationResult._no_log_values (not public API; a core without it makes the
    action plugins run module processes, plugin_utils/in_process.py)."""
    spec = dict(secret=dict(type="str", no_log=True))
    return getattr(ArgumentSpecValidator(spec).validate({"secret": "x"}), "_no_log_values", None) == set(["x"])


# The task a module's main() serves in the controller (run_in_process): {"args", "check_mode", "diff"}.
IN_PROCESS = []


def run_in_process(main, args, check_mode, diff):
    """The result of a module's main() run in this process for a task with `args`."""
    IN_PROCESS.append({"args": args, "check_mode": check_mode, "diff": diff})
    try:
        main()
    except InProcessExit as done:
        return done.result
    finally:
        IN_PROCESS.pop()
    raise RuntimeError("%s returned without exit_json or fail_json" % main.__module__)


def module_with(connection_spec, argument_spec, **kwargs):
    """An AnsibleModule with connection options added, in check mode too, speaking the operator's wire names (in the
    controller's process, a ControllerModule)."""
    spec = dict(connection_spec)
    spec.update(argument_spec)
    if IN_PROCESS:
        module = ControllerModule(IN_PROCESS[-1], spec, **kwargs)
    else:
        module = Module(argument_spec=spec, supports_check_mode=True, **kwargs)
    check_urls(module)
    try:
        check_connection_options(module.params)
        wire_names.use(module.params["wire_names"])
    except (ValidationError, wire_names.WireNameError) as exc:
        module.fail_json(msg=str(exc))
    return module


def pbx_module(argument_spec, **kwargs):
    """An AnsibleModule with the PBX connection options added."""
    return module_with(CONNECTION_ARGUMENT_SPEC, argument_spec, **kwargs)


def check_urls(module):
    """Check the URL options given, before anything else of the module runs: a refused URL fails the module with its
    credentials kept out of the result (the invocation echoes the option), an unencrypted one to another machine
    warns."""
    for option, schemes in URL_OPTIONS:
        if not module.params.get(option):
            continue
        try:
            endpoint = Endpoint(option, module.params[option], schemes)
        except EndpointError as exc:
            module.no_log_values.update(exc.secrets)
            module.fail_json(msg=str(exc))
        warning = endpoint.plain_warning(basic=module.params.get("allow_basic_auth"))
        if warning:
            module.warn(warning)


def connect(module):
    """The PBX of the module's connection options, over one HTTP session for the whole run."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    if params["force_basic_auth"] and not params["allow_basic_auth"]:
        module.fail_json(msg="force_basic_auth sends the password with HTTP Basic, readable, with every request: set "
                             "allow_basic_auth: true as well to allow that (nothing was sent)")
    client = HttpClient(
        params["url"], params["username"], params["password"], validate_certs=params["validate_certs"],
        ca_path=params["ca_path"], timeout=params["timeout"], force_basic_auth=params["force_basic_auth"],
        allow_basic_auth=params["allow_basic_auth"], secrets=module.no_log_values)
    if not uses_pbxadminapi(module):
        return Pbx(client)
    if not HAS_WEBSOCKET:
        module.fail_json(msg=missing_required_lib("websocket-client"), exception=WEBSOCKET_IMPORT_ERROR)
    pbx = PbxAdmin(client, AppWebsocket(
        pbxadminapi_url(params["url"]), params["app_password"], "", params["app_name"],
        validate_certs=params["validate_certs"], ca_path=params["ca_path"], timeout=params["timeout"],
        secrets=module.no_log_values, peer="the PBX's PbxAdminApi", option="url"))
    OPEN.append(pbx)
    return pbx


# The PBX connections a module opened (one AppWebsocket each), closed when run() ends.
OPEN = []


def uses_pbxadminapi(module):
    """Whether the module speaks PbxAdminApi/PbxTableUsers for PBX objects (option pbx_api); fails the module when
    pbx_api: pbxadminapi lacks the App object's credentials."""
    params = module.params
    given = [name for name in ("app_name", "app_password") if params.get(name)]
    if params["pbx_api"] == "soap":
        return False
    if params["pbx_api"] == "auto":
        return len(given) == 2
    if len(given) < 2:
        missing = [name for name in ("app_name", "app_password") if name not in given]
        module.fail_json(msg="pbx_api: pbxadminapi logs in as the PBX's App object for automation: %s %s not set "
                             "(hotdesking_pbx_%s in the role; docs/guide.md says how to create the App object); "
                             "nothing was sent" % (" and ".join(missing), "is" if len(missing) == 1 else "are",
                                                   " and hotdesking_pbx_".join(missing)))
    return True


def devices_module(argument_spec, **kwargs):
    """An AnsibleModule with the Devices connection options added."""
    return module_with(DEVICES_ARGUMENT_SPEC, argument_spec, **kwargs)


def login_domain(params):
    """devices_domain, or the first path element of devices_url (contract 1: ws(s)://host/<domain>/devices)."""
    if params["devices_domain"]:
        return params["devices_domain"]
    return urlparse(params["devices_url"]).path.strip("/").split("/")[0]


def devices_websocket(module, app):
    """The AppWebsocket of the module's Devices connection options, logging in as `app` (not opened yet)."""
    params = module.params
    return AppWebsocket(params["devices_url"], params["devices_password"], login_domain(params), app,
                        validate_certs=params["validate_certs"], ca_path=params["ca_path"], timeout=params["timeout"],
                        secrets=module.no_log_values, peer="the Devices app")


def connect_devices(module):
    """The Devices app of the module's connection options over one AppWebsocket, opened by the first request.
    The module works in `domain`, else in devices_domain, else in the domain the login gets."""
    if not HAS_WEBSOCKET:
        module.fail_json(msg=missing_required_lib("websocket-client"), exception=WEBSOCKET_IMPORT_ERROR)
    params = module.params
    ws = devices_websocket(module, DEVICES["app"])
    http = None
    if HAS_REQUESTS:
        # Device passthrough: the Devices URL over http(s) (reference 4, INFERRED); the session key authenticates.
        base = re.sub(r"^ws", "http", params["devices_url"].rstrip("/"), flags=re.IGNORECASE)
        http = HttpClient(base, "", "", validate_certs=params["validate_certs"], ca_path=params["ca_path"],
                          timeout=params["timeout"], secrets=module.no_log_values, option="devices_url",
                          peer="the Devices app")
    return Devices(ws, params["domain"] or params["devices_domain"], http)


def connect_optional_pbx(module):
    """The PBX of OPTIONAL_PBX_ARGUMENT_SPEC, or None when no url is given."""
    if not module.params["url"]:
        return None
    if not module.params["password"]:
        module.fail_json(msg="password: needed with url")
    return connect(module)


def queried(module, info):
    """An _info module's result: `info`, and with the option `query` its JMESPath value as query_result."""
    if module.params["query"]:
        if not HAS_JMESPATH:
            module.fail_json(msg=missing_required_lib("jmespath"), exception=JMESPATH_IMPORT_ERROR)
        try:
            info["query_result"] = jmespath.search(module.params["query"], info)
        except jmespath.exceptions.JMESPathError as exc:
            module.fail_json(msg="query: %s" % exc)
    return dict(info, changed=False)


def run(module, converge):
    """Exit with what `converge()` returns (its "warnings" as module warnings), or fail with the message
    of a PBX or input error (and the partial result the error carries, if any)."""
    try:
        result = converge()
    except (PbxError, ValidationError, NotKept) as exc:
        close_open()
        module.fail_json(msg=str(exc), **dict(getattr(exc, "result", {}), **invocation(module)))
    except Exception as exc:  # pylint: disable=broad-except
        # An answer of a shape no check foresaw: a clear message (the traceback only at -vvv), never a crash.
        close_open()
        module.fail_json(msg="unexpected %s while talking to the PBX or the Devices app: %s" % (
            type(exc).__name__, exc), exception=traceback.format_exc(), **invocation(module))
    close_open()
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**dict(result, **invocation(module)))


def close_open():
    while OPEN:
        OPEN.pop().close()


def invocation(module):
    """The invocation Ansible would add, with every list longer than INVOCATION_ENTRIES given as its length."""
    long_lists = slimmed(module.params)
    return {"invocation": {"module_args": dict(module.params, **long_lists)}} if long_lists else {}


def run_devices(module, work):
    """Connect to the Devices app, exit with what `work(devices)` returns (as run() does), always disconnect."""
    devices = connect_devices(module)
    try:
        run(module, lambda: work(devices))
    finally:
        devices.close()


def single(result, list_name, name):
    """The result of a one-entry converge with the entry as `name` (and its diff) instead of a list."""
    records = result.pop(list_name)
    result[name] = records[0] if records else {}
    if "diff" in result:
        result["diff"] = dict((side, next(iter(keyed.values()), {})) for side, keyed in result["diff"].items())
    return result
