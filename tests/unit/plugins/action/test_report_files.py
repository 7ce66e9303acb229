# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.innovaphone.pbx.plugins.action.report_files import ActionModule


def test_a_file_is_written_only_when_its_content_differs(tmp_path):
    path = str(tmp_path / "site1.json")
    assert ActionModule.write(path, b"{}\n", 0o640)
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"
    assert not ActionModule.write(path, b"{}\n", 0o640)
    assert ActionModule.write(path, b'{"in_sync": false}\n', 0o640)
    assert (tmp_path / "site1.json").read_bytes() == b'{"in_sync": false}\n'
    assert sorted(os.listdir(str(tmp_path))) == ["site1.json"], "no temporary file is left behind"
