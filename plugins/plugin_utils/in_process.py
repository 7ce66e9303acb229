# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a module of this collection in the controller's process when it would run there anyway.

Every module of the collection only talks HTTP and WebSocket to a PBX and its Devices app. With a local connection
and the controller's own Python (as the collection's playbooks run them), starting a new Python for each task costs
far more CPU than the task's work; so the module's own main() runs in the worker process, with the same argument
validation, no_log values and scrubbed result (module_utils.common.ControllerModule). Anything else (another
connection or interpreter, delegation to another host, async) runs the module as usual.

The in-process path leans on parts of ansible-core that are not public API (CORE_INTERNALS). Each is checked once;
on an ansible-core that lacks one, every module runs as a module process instead, which is slower but the same.
The unit tests (tests/unit/test_in_process.py) pin that every ansible-core the collection supports has them all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import os
import sys

from ansible.plugins.action import ActionBase

from ansible_collections.innovaphone.pbx.plugins.module_utils.common import controller_validation_works, run_in_process

COLLECTION = "innovaphone.pbx."
MODULES = "ansible_collections.innovaphone.pbx.plugins.modules."

# What the in-process path uses of ansible-core beyond what a module process needs: the task's environment
# (ActionBase._compute_environment_string) and the no_log values of ArgumentSpecValidator's result
# (ValidationResult._no_log_values, module_utils.common.ControllerModule).
CORE_INTERNALS = {
    "ActionBase._compute_environment_string": lambda: callable(getattr(ActionBase, "_compute_environment_string",
                                                                       None)),
    "ValidationResult._no_log_values": controller_validation_works,
}


def missing_core_internals():
    """The names of CORE_INTERNALS this ansible-core lacks (none on 2.16 to 2.21)."""
    missing = []
    for name, present in sorted(CORE_INTERNALS.items()):
        try:
            if not present():
                missing.append(name)
        except Exception:  # pylint: disable=broad-except
            missing.append(name)
    return missing


# Checked once per worker process: the answer cannot change while Ansible runs.
CAN_RUN_IN_PROCESS = not missing_core_internals()


class InProcessAction(ActionBase):
    """The action of every module of the collection."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(InProcessAction, self).run(tmp, task_vars)
        # ansible-core 2.16 leaves resolved_action unset for an ad hoc task (`ansible -m innovaphone.pbx.pbx_info`);
        # this action serves only the collection's own modules, so the name alone says which.
        name = (self._task.resolved_action or self._task.action).rsplit(".", 1)[-1]
        if not self.in_process(task_vars):
            result.update(self._execute_module(module_name=COLLECTION + name, module_args=self._task.args,
                                               task_vars=task_vars, wrap_async=self._task.async_val))
            return result
        module = importlib.import_module(MODULES + name)
        with self.task_environment():
            result.update(run_in_process(module.main, self._task.args, self._task.check_mode, self._task.diff))
        return result

    @contextlib.contextmanager
    def task_environment(self):
        """The task's `environment` in os.environ while the module runs, as a module process gets it."""
        environment = {}
        self._compute_environment_string(environment)
        saved = dict((name, os.environ.get(name)) for name in environment)
        os.environ.update((name, str(value)) for name, value in environment.items())
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def in_process(self, task_vars):
        """A local connection with this very Python, no async, on an ansible-core that has what the in-process path
        uses: where the module process would run the same."""
        if not CAN_RUN_IN_PROCESS or self._connection.transport != "local" or self._task.async_val:
            return False
        interpreter = self._templar.template(task_vars.get("ansible_python_interpreter"))
        return bool(interpreter) and os.path.realpath(str(interpreter)) == os.path.realpath(sys.executable)
