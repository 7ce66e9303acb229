# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The diff engine: compare only given keys, write only on change, nothing in check mode, secrets masked."""

import copy
import threading
import time
import json

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import UNKNOWN, Engine
from ansible_collections.innovaphone.pbx.plugins.module_utils.redact import PLACEHOLDER
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import USERS
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError


def user(name, **fields):
    record = {"name": name, "long_name": name, "display_name": "", "extension": "", "password": "",
              "hide_from_ldap": False, "template": ""}
    record.update(fields)
    return record


class MemoryBackend:
    """Records in a dict; counts reads and logs writes."""

    def __init__(self, records):
        self.records = dict((r["name"], copy.deepcopy(r)) for r in records)
        self.reads = 0
        self.writes = []

    def read_all(self):
        self.reads += 1
        return copy.deepcopy(self.records)

    def create(self, record):
        self.writes.append(("create", record["name"]))
        self.records[record["name"]] = user(**record)

    def update(self, key, changes):
        self.writes.append(("update", key, sorted(changes)))
        self.records[key].update(changes)

    def delete(self, key):
        self.writes.append(("delete", key))
        del self.records[key]


def entry(name, state="present", **fields):
    base = dict((f.name, None) for f in USERS.fields)
    base.update(fields, name=name, state=state)
    return base


@pytest.fixture
def backend():
    return MemoryBackend([user("alice", extension="10", password="alice-pw"), user("bob", display_name="Bob")])


def test_compares_only_the_fields_given(backend):
    result = Engine(USERS, backend).converge([entry("alice", extension="10"), entry("bob")])
    assert not result["changed"] and backend.writes == [] and backend.reads == 1


def test_one_write_per_changed_object_then_one_reread(backend):
    result = Engine(USERS, backend).converge([
        entry("alice", extension="11", display_name=""),
        entry("bob", display_name="Bob"),
        entry("carol", extension="12", password="carol-pw"),
        entry("dave", state="absent"),
    ])
    assert result["changed"]
    assert backend.writes == [("update", "alice", ["extension"]), ("create", "carol")]
    assert backend.reads == 2
    assert [u["name"] for u in result["users"]] == ["alice", "bob", "carol"]
    assert result["changes"] == [{"name": "alice", "action": "update", "fields": ["extension"]},
                                 {"name": "carol", "action": "create", "fields": ["extension", "name", "password"]}]


def test_delete(backend):
    result = Engine(USERS, backend).converge([entry("bob", state="absent")])
    assert backend.writes == [("delete", "bob")] and result["users"] == []


def test_check_mode_writes_nothing_and_predicts_the_end_state(backend):
    result = Engine(USERS, backend, check_mode=True).converge([entry("alice", extension="11"), entry("carol")])
    assert result["changed"] and backend.writes == [] and backend.reads == 1
    assert result["users"][0]["extension"] == "11"
    assert result["users"][1]["name"] == "carol"


def test_diff_only_in_diff_mode(backend):
    assert "diff" not in Engine(USERS, backend).converge([entry("alice", extension="12")])
    result = Engine(USERS, backend, diff_mode=True).converge([entry("alice", extension="13"), entry("eve")])
    assert result["diff"]["before"]["alice"]["extension"] == "12"
    assert result["diff"]["after"]["alice"]["extension"] == "13"
    assert "eve" not in result["diff"]["before"] and result["diff"]["after"]["eve"]["name"] == "eve"


def test_secrets_are_masked_in_results_and_diffs(backend):
    result = Engine(USERS, backend, diff_mode=True).converge([entry("alice", password="new-secret-pw")])
    assert backend.writes == [("update", "alice", ["password"])]
    text = json.dumps(result)
    assert "new-secret-pw" not in text and "alice-pw" not in text
    assert result["users"][0]["password"] == PLACEHOLDER
    assert result["diff"]["before"]["alice"]["password"] == PLACEHOLDER


def test_an_equal_password_is_no_change(backend):
    assert not Engine(USERS, backend).converge([entry("alice", password="alice-pw")])["changed"]


def test_an_unreadable_password_is_written_with_a_warning(backend):
    backend.records["alice"]["password"] = UNKNOWN
    result = Engine(USERS, backend, unreadable_hint=" (hint)").converge([entry("alice", password="alice-pw")])
    assert result["changed"] and backend.writes == [("update", "alice", ["password"])]
    assert result["warnings"] == ["the current password of 1 users cannot be read, so it is written on every "
                                  "run (hint): alice"]
    assert result["users"][0]["password"] == PLACEHOLDER


def test_on_create_never_compares_the_password_of_an_existing_user(backend):
    engine = Engine(USERS, backend, update_secrets="on_create")
    assert not engine.converge([entry("alice", password="other-pw")])["changed"]
    engine.converge([entry("zoe", password="zoe-pw")])
    assert backend.records["zoe"]["password"] == "zoe-pw"


def test_validation_runs_after_the_read_and_before_any_write(backend):
    def refuse(entries, current):
        assert set(current) == {"alice", "bob"} and len(entries) == 1
        raise ValueError("refused")

    with pytest.raises(ValueError):
        Engine(USERS, backend).converge([entry("alice", extension="99")], validate=refuse)
    assert backend.writes == []


def test_warnings_of_the_validation_come_first_in_the_result(backend):
    backend.records["alice"]["password"] = UNKNOWN
    result = Engine(USERS, backend, check_mode=True).converge(
        [entry("alice", password="pw"), entry("new", template="Later")],
        validate=lambda entries, current: ["users[1].template: missing"])
    assert result["warnings"][0] == "users[1].template: missing"
    assert result["warnings"][1].startswith("the current password of 1 users")
    assert result["changes"][1] == {"name": "new", "action": "create", "fields": ["name", "template"]}
    assert backend.writes == []


def test_a_list_module_may_report_only_what_changed(backend):
    entries = [entry("alice", extension="11"), entry("bob")]
    result = Engine(USERS, backend, report_unchanged=False).converge(entries)
    assert [u["name"] for u in result["users"]] == ["alice"]
    assert Engine(USERS, backend, report_unchanged=False).converge(entries)["users"] == []


class SlowBackend(MemoryBackend):
    """Writes that take a while and note how many run at once."""

    def __init__(self, records):
        super(SlowBackend, self).__init__(records)
        self.running = self.most = 0
        self.lock = threading.Lock()

    def update(self, key, changes):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        if key == "bad":
            raise ValueError("bad refused")
        super(SlowBackend, self).update(key, changes)


def test_parallel_writes_go_at_once_and_an_error_still_surfaces_after_the_others():
    backend = SlowBackend([user("u%d" % i) for i in range(8)] + [user("bad")])
    entries = [entry("u%d" % i, extension=str(i)) for i in range(8)] + [entry("bad", extension="9")]
    with pytest.raises(ValueError, match="bad refused"):
        Engine(USERS, backend, parallel=4).converge(entries)
    assert backend.most == 4
    assert all(backend.records["u%d" % i]["extension"] == str(i) for i in range(8))


def test_a_block_of_extensions_shifted_by_one_is_written_so_each_value_is_freed_before_it_is_taken():
    backend = MemoryBackend([user("u%d" % i, extension=str(100 + i)) for i in range(4)])
    entries = [entry("u%d" % i, extension=str(101 + i)) for i in range(4)]  # each takes the next one's
    Engine(USERS, backend, parallel=4).converge(entries)
    assert [w[1] for w in backend.writes] == ["u3", "u2", "u1", "u0"]
    assert dict((k, r["extension"]) for k, r in backend.records.items()) == dict(
        ("u%d" % i, str(101 + i)) for i in range(4))


def test_a_swap_first_lets_one_extension_go():
    backend = MemoryBackend([user("a", extension="10"), user("b", extension="20")])
    Engine(USERS, backend).converge([entry("a", extension="20"), entry("b", extension="10")])
    assert backend.writes == [("update", "b", ["extension"]), ("update", "a", ["extension"]),
                              ("update", "b", ["extension"])]
    assert (backend.records["a"]["extension"], backend.records["b"]["extension"]) == ("20", "10")


def test_long_names_that_swap_cannot_go_empty_so_nothing_is_written():
    backend = MemoryBackend([user("a", long_name="A"), user("b", long_name="B")])
    with pytest.raises(ValidationError, match="users 'b': long_name cannot be passed around in a cycle"):
        Engine(USERS, backend).converge([entry("a", long_name="b"), entry("b", long_name="a")])
    assert backend.writes == []


def test_a_password_change_alone_shows_in_the_diff(backend):
    result = Engine(USERS, backend, diff_mode=True).converge([entry("alice", password="new-secret-pw")])
    assert result["diff"]["after"]["alice"]["password"] == "changed"
    assert result["diff"]["before"]["alice"] != result["diff"]["after"]["alice"]
    assert "new-secret-pw" not in json.dumps(result)
