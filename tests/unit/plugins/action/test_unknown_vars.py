# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from types import SimpleNamespace

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task
from ansible_collections.innovaphone.pbx.plugins.action.unknown_vars import ActionModule

SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "hotdesking", "meta",
                    "argument_specs.yml")
HOST_VARS = {"hotdesking_pbx_url": "https://pbx.example.com", "hotdesking_ip_fliter": [],
             "hotdesking_result_users": {}, "other_var": 1}


def run(**args):
    task = Task()
    task.args = dict(dict(prefix="hotdesking_", argument_spec=SPEC, known=["hotdesking_result_*"]), **args)
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="/nonexistent"))  # a controller-only action: unused
    action = ActionModule(task, connection, None, None, None, None)
    return action.run(task_vars={"inventory_hostname": "site1", "hostvars": {"site1": HOST_VARS}})


def test_an_unknown_variable_is_an_error_naming_host_variable_and_nearest_name():
    with pytest.raises(AnsibleActionFail) as failed:
        run(on_unknown="error", opt_out="hotdesking_unknown_vars: warn")
    assert str(failed.value) == ("site1: hotdesking_ip_fliter is not a variable of this role, so it has no effect "
                                 "(did you mean hotdesking_ip_filter?); set hotdesking_unknown_vars: warn to run anyway")


def test_warn_and_ignore():
    warned = run(on_unknown="warn")
    assert warned["unknown"] == ["hotdesking_ip_fliter"] and len(warned["warnings"]) == 1
    assert warned["warnings"][0].startswith("site1: hotdesking_ip_fliter is not a variable")
    ignored = run(on_unknown="ignore")
    assert ignored["unknown"] == ["hotdesking_ip_fliter"] and ignored["warnings"] == []
    with pytest.raises(AnsibleActionFail, match="on_unknown: one of error, warn, ignore"):
        run(on_unknown="fail")
