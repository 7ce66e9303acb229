# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A module's main() run in the controller's process: the same validation, secrets and results as a module
process (the action plugins of plugin_utils/in_process.py use it)."""

import json

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import common, wire_names
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER
from ansible_collections.innovaphone.pbx.plugins.modules import pbx_command, users


@pytest.fixture(autouse=True)
def default_wire_names():
    yield
    wire_names.use({})


def run(main, check_mode=False, **args):
    return common.run_in_process(main, args, check_mode, False)


def test_arguments_are_validated_as_for_a_module_process():
    result = run(users.main, url="http://127.0.0.1:1", password="s3cret", users=[{"name": "a", "nope": 1}])
    assert result["failed"] and "nope" in result["msg"]
    assert not common.IN_PROCESS


def test_every_no_log_value_is_scrubbed_from_the_result():
    task = {"args": {"url": "http://pbx", "password": "s3cret-admin", "users": [{"name": "a", "password": "s3cret-user"}]},
            "check_mode": False, "diff": False}
    spec = dict(common.CONNECTION_ARGUMENT_SPEC, users=dict(type="list", elements="dict", options=dict(
        name=dict(type="str"), password=dict(type="str", no_log=True))))
    module = common.ControllerModule(task, spec)
    module.warn("the password s3cret-user went in clear text")
    with pytest.raises(common.InProcessExit) as done:
        module.fail_json(msg="refused s3cret-admin", detail={"nested": ["s3cret-user"]})
    text = json.dumps(done.value.result)
    assert "s3cret" not in text
    assert text.count(PLACEHOLDER) == 1 and text.count("********") == 2  # as AnsibleModule masks them
    assert done.value.result["failed"] is True and done.value.result["changed"] is False


def test_an_unknown_wire_name_fails_before_any_request():
    result = run(users.main, url="http://127.0.0.1:1", password="x", users=[], wire_names={"soap": {"nope": "x"}})
    assert result["failed"] and result["msg"].startswith("wire_names: unknown key soap.nope")


def test_check_mode_reaches_the_module():
    result = run(pbx_command.main, check_mode=True, url="http://127.0.0.1:1", password="x", command="config write")
    assert result == {"changed": True, "output": ""}


def test_a_main_that_never_exits_is_an_error():
    with pytest.raises(RuntimeError, match="returned without exit_json"):
        common.run_in_process(lambda: None, {}, False, False)
    assert not common.IN_PROCESS


def tagged_text(text):
    """`text` as the controller hands it to an action plugin: tagged with its origin on ansible-core 2.19 and later
    (data tagging), an AnsibleUnsafeText from a template before."""
    try:
        from ansible._internal._datatag._tags import Origin
    except ImportError:  # ansible-core 2.16-2.18
        from ansible.utils.unsafe_proxy import AnsibleUnsafeText
        return AnsibleUnsafeText(text)
    return Origin(path="/inventory.yml").tag(text)


def test_arguments_reach_the_module_as_plain_json_values():
    from ansible_collections.innovaphone.pbx.plugins.module_utils.common import as_json_gives

    tagged = tagged_text("alice")
    plain = as_json_gives({"users": [{"name": tagged, "parallel": 4, "report": True}], "parts": ("a",)})
    assert plain == {"users": [{"name": "alice", "parallel": 4, "report": True}], "parts": ["a"]}
    assert plain["users"][0]["name"].__class__ is str and tagged.__class__ is not str


def test_this_ansible_core_has_what_the_in_process_path_uses():
    """Pinned on every ansible-core of the matrix (make test-core-*): a core that drops one of these internals would
    quietly make every task a module process (in_process.missing_core_internals)."""
    from ansible_collections.innovaphone.pbx.plugins.plugin_utils import in_process

    assert in_process.missing_core_internals() == []
    assert in_process.CAN_RUN_IN_PROCESS


def test_a_core_without_an_internal_runs_module_processes(monkeypatch):
    from ansible_collections.innovaphone.pbx.plugins.plugin_utils import in_process

    monkeypatch.setattr(in_process.ActionBase, "_compute_environment_string", None, raising=False)
    monkeypatch.setitem(in_process.CORE_INTERNALS, "broken", lambda: 1 / 0)
    assert in_process.missing_core_internals() == ["ActionBase._compute_environment_string", "broken"]


def test_a_tagged_secret_is_still_scrubbed():
    """A no_log value that reaches the validation tagged (2.19+) or unsafe (2.16-2.18) is masked all the same."""
    task = {"args": {"url": "http://pbx", "password": tagged_text("s3cret-admin")}, "check_mode": False, "diff": False}
    module = common.ControllerModule(task, dict(common.CONNECTION_ARGUMENT_SPEC))
    with pytest.raises(common.InProcessExit) as done:
        module.fail_json(msg="refused s3cret-admin")
    assert "s3cret" not in json.dumps(done.value.result)
    assert common.controller_validation_works()


def test_without_the_internals_every_task_runs_a_module_process(monkeypatch):
    import sys
    import types

    from ansible_collections.innovaphone.pbx.plugins.plugin_utils import in_process

    action = types.SimpleNamespace(_connection=types.SimpleNamespace(transport="local"),
                                   _task=types.SimpleNamespace(async_val=0),
                                   _templar=types.SimpleNamespace(template=lambda value: value))
    task_vars = {"ansible_python_interpreter": sys.executable}
    assert in_process.InProcessAction.in_process(action, task_vars)
    monkeypatch.setattr(in_process, "CAN_RUN_IN_PROCESS", False)
    assert not in_process.InProcessAction.in_process(action, task_vars)
