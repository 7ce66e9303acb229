# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make `ansible_collections.innovaphone.pbx` importable: a link to this tree under a temporary root."""

import os
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]


def _collection_root():
    built = REPO / ".build" / "collections"
    if (built / "ansible_collections" / "innovaphone" / "pbx").exists():
        return built
    root = pathlib.Path(tempfile.mkdtemp(prefix="innovaphone-pbx-unit-"))
    (root / "ansible_collections" / "innovaphone").mkdir(parents=True)
    os.symlink(REPO, root / "ansible_collections" / "innovaphone" / "pbx")
    return root


sys.path.insert(0, str(_collection_root()))
