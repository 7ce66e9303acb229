# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module report_files: text files written on the controller, many in one task, without module processes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "files", "mode"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        dest, files = args.get("dest"), args.get("files")
        if not dest or not isinstance(files, list):
            raise AnsibleActionFail("dest (a folder) and files (a list) are required")
        mode = args.get("mode", "0644")
        mode = int(mode, 8) if isinstance(mode, str) else int(mode)
        dest = os.path.expanduser(str(dest))
        entries = []
        for index, entry in enumerate(files):
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name or os.sep in name or name in (".", ".."):
                raise AnsibleActionFail("files[%d].name: a file name without a path is required" % index)
            if not isinstance(entry.get("content"), str):
                raise AnsibleActionFail("files[%d].content: text is required" % index)
            entries.append((name, entry["content"].encode("utf-8")))
        try:
            os.makedirs(dest, mode=0o755, exist_ok=True)
            written = [name for name, content in entries if self.write(os.path.join(dest, name), content, mode)]
        except OSError as exc:
            raise AnsibleActionFail("cannot write the reports in %s: %s" % (dest, exc))
        result.update(changed=bool(written), written=written)
        return result

    @staticmethod
    def write(path, content, mode):
        """Write `content` to `path` unless it holds it already; a reader sees the old file or the new one."""
        try:
            with open(path, "rb") as current:
                if current.read() == content:
                    return False
        except FileNotFoundError:
            pass
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s." % os.path.basename(path))
        try:
            with os.fdopen(handle, "wb") as new:
                new.write(content)
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        return True
