# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wire names from inventory: overrides over one table of defaults, and the errors that name a dropped value."""

import copy

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import cfgtxt, soap, wire_names
from ansible_collections.innovaphone.pbx.plugins.module_utils.engine import Engine, NotKept
from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import (
    DEVICE_CONFIGS, HOTDESK_REGISTRATIONS, PBX_SETTINGS, TEMPLATES)


@pytest.fixture(autouse=True)
def defaults():
    """Every test starts and ends with the default spelling (the table is per module run, global here)."""
    wire_names.use({})
    yield
    wire_names.use({})


def test_an_override_is_read_wherever_the_name_is_used():
    wire_names.use({"config": {"registrations_without_password": "no-pwd-regs"},
                    "template": {"store_phone_config": "store-phone-config", "inherit_separator": ";"},
                    "soap": {"delete": "delete"}})
    assert PBX_SETTINGS.encode({"registrations_without_password": 0}) == {"no-pwd-regs": "0"}
    assert TEMPLATES.decode({"cn": "T", "store-phone-config": "true", "config": "A;B"})["inherit"] == ["A", "B"]
    assert TEMPLATES.decode({"cn": "T", "phone-config": "true"})["store_phone_config"] is False
    assert soap.to_text(soap.delete("X")) == '<delete><user cn="X" /></delete>'
    assert cfgtxt.cfg_path(cfgtxt.WRITTEN) == "/cfg.txt?layer=written"
    wire_names.use({})
    assert PBX_SETTINGS.encode({"registrations_without_password": 0}) == {"reg-no-pwd": "0"}


def test_overrides_that_do_not_fit_the_table_name_every_key_at_fault():
    with pytest.raises(wire_names.WireNameError) as caught:
        wire_names.use({"config": {"reg_no_pwd": "x", "ip_filter": ""}, "nothing": {}, "soap": "del"})
    message = str(caught.value)
    assert "unknown key config.reg_no_pwd (known in config:" in message
    assert "config.ip_filter must be a non-empty string" in message
    assert "unknown section 'nothing'" in message and "soap must be a dict of names" in message
    assert wire_names.WIRE_NAMES == wire_names.DEFAULTS


class Dropping:
    """A backend whose store drops the wire names in `drops` from every write, as a PBX that does not know them."""

    peer = "the PBX"

    def __init__(self, resource, records, drops=(), keeps_deleted=False):
        self.resource = resource
        self.records = copy.deepcopy(records)
        self.drops = drops
        self.keeps_deleted = keeps_deleted
        self.deleted_by = wire_names.WireName("soap", "delete")

    def read_all(self):
        return copy.deepcopy(self.records)

    def stored(self, record):
        wire = dict((k, v) for k, v in self.resource.encode(record).items() if k not in self.drops)
        derived = dict((f.name, record[f.name]) for f in self.resource.fields if f.name in record and not f.readable)
        return dict(self.resource.decode(wire), **derived)

    def create(self, record):
        self.records[record[self.resource.key]] = self.stored(record)

    def update(self, key, changes):
        self.records[key] = self.stored(dict(self.records[key], **changes))

    def delete(self, key):
        if not self.keeps_deleted:
            del self.records[key]


def test_a_value_the_pbx_dropped_fails_with_the_object_the_field_and_the_wire_name():
    backend = Dropping(TEMPLATES, {}, drops=("phone-config",))
    with pytest.raises(NotKept) as caught:
        Engine(TEMPLATES, backend).converge([{"name": "Hot Desking", "store_phone_config": True}])
    assert str(caught.value) == (
        "templates 'Hot Desking', field store_phone_config: wire name 'phone-config' (template.store_phone_config) "
        "was not kept by the PBX: see docs/wire-names.md")


def test_a_documented_name_that_was_dropped_is_named_without_the_docs_page():
    backend = Dropping(TEMPLATES, {}, drops=("filter",))
    with pytest.raises(NotKept, match=r"^templates 'T', field call_filter: wire name 'filter' was not kept by the "
                                      r"PBX$"):
        Engine(TEMPLATES, backend).converge([{"name": "T", "call_filter": "intern"}])


def test_a_group_names_the_wire_names_of_the_suboptions_that_were_dropped():
    phone = DEVICE_CONFIGS["phone"]
    current = {"Phone": phone.decode({"desc": "Phone", "type": "PHONE", "gkId": "PBX1"})}
    backend = Dropping(phone, current, drops=("gk1",))
    backend.peer = "the Devices app"
    gatekeeper = {"id": "PBX1", "primary": "192.0.2.10", "secondary": ""}
    with pytest.raises(NotKept, match=r"field gatekeeper: wire name 'gk1' was not kept by the Devices app$"):
        Engine(phone, backend).converge([{"name": "Phone", "type": "phone", "gatekeeper": gatekeeper}])


def test_a_derived_field_that_did_not_take_says_what_it_means():
    current = {"alice": dict(HOTDESK_REGISTRATIONS.decode({"h323": "alice"}), registered=False)}
    backend = Dropping(HOTDESK_REGISTRATIONS, current)
    backend.stored = lambda record: dict(record, registered=False)
    with pytest.raises(NotKept, match="field registered: the PBX did not keep what was written .the user has its "
                                      "hot-desking <device>.$"):
        Engine(HOTDESK_REGISTRATIONS, backend).converge([{"user": "alice", "registered": True}])


def test_an_object_still_there_after_its_delete_names_the_delete_command():
    backend = Dropping(TEMPLATES, {"T": TEMPLATES.decode({"cn": "T"})}, keeps_deleted=True)
    with pytest.raises(NotKept) as caught:
        Engine(TEMPLATES, backend).converge([{"name": "T", "state": "absent"}])
    assert str(caught.value) == ("templates 'T' is still there after the PBX deleted it with wire name 'del' "
                                 "(soap.delete): see docs/wire-names.md")


def test_check_mode_verifies_nothing_as_it_writes_nothing():
    backend = Dropping(TEMPLATES, {}, drops=("phone-config",))
    result = Engine(TEMPLATES, backend, check_mode=True).converge([{"name": "T", "store_phone_config": True}])
    assert result["changed"] and backend.records == {}
