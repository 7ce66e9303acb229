# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection, the simulator and the docs page spell every ASSUMED or INFERRED wire name the same way."""

import importlib.util
import pathlib
import re

from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import WIRE_NAMES

REPO = pathlib.Path(__file__).resolve().parents[2]


def simulator_module():
    """tests/pbxsim/wire_names.py, loaded from its file (pbxsim is no package of the collection)."""
    spec = importlib.util.spec_from_file_location("pbxsim_wire_names", REPO / "tests" / "pbxsim" / "wire_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SIMULATOR = simulator_module()
# collection (section, key) -> the simulator's constant: the simulator's own mapping (its --wire-names keys).
SIMULATOR_NAME = SIMULATOR.COLLECTION_KEYS


def collection_entries():
    return dict(((section, key), value) for section, names in WIRE_NAMES.items() for key, value in names.items())


def test_every_collection_name_is_mapped():
    assert set(collection_entries()) == set(SIMULATOR_NAME)


def test_simulator_mapping_names_simulator_constants():
    missing = sorted(name for name in SIMULATOR_NAME.values() if not isinstance(getattr(SIMULATOR, name, None), str))
    assert missing == []


def test_collection_and_simulator_hold_the_same_values():
    mismatches = dict((entry, (value, getattr(SIMULATOR, SIMULATOR_NAME[entry], None)))
                      for entry, value in collection_entries().items()
                      if getattr(SIMULATOR, SIMULATOR_NAME[entry], None) != value)
    assert mismatches == {}


def test_docs_page_lists_every_name_with_its_value():
    page = (REPO / "docs" / "wire-names.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)\.(\w+)` \| `([^`]*)` \|", page, re.MULTILINE))
    assert rows == set((section, key, value) for (section, key), value in collection_entries().items())
