# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every PBX rule refuses bad input with an <error> and leaves the whole state unchanged."""

import pytest

SETUP = [
    '<add><user cn="Template" filter="intern"><pseudo type="config"/></user></add>',
    '<add><user cn="Hot Desk Base" h323="hot-desk-base" e164="#10" pwd="secret" config="Template">'
    '<device hw="hot-desk-base" text="Hotdesking" app="phone"/></user></add>',
    '<add><user cn="Alice" h323="alice" e164="201" config="Template"><device hw="00-90-33-aa-bb-cc"/></user></add>',
]

REFUSED = {  # rule: (command, part of the error text)
    "cn is required": ('<add><user h323="nobody"/></add>', "cn is required"),
    "cn is unique (case-insensitive)": ('<add><user cn="ALICE" h323="alice2"/></add>', "cn ALICE already used"),
    "h323 is unique (case-insensitive)": ('<add><user cn="Alice 2" h323="Alice"/></add>', "h323 Alice already used"),
    "e164 is unique": ('<add><user cn="Alice 2" h323="alice2" e164="201"/></add>', "e164 201 already used"),
    "e164 is a number": ('<add><user cn="Alice 2" h323="alice2" e164="20x"/></add>', "not a number"),
    "_ADMIN_ is reserved": ('<add><user cn="_ADMIN_" h323="admin"/></add>', "reserved"),
    "hw id belongs to one user (add)":
        ('<add><user cn="Bob" h323="bob"><device hw="hot-desk-base"/></user></add>', "hardware id hot-desk-base"),
    "hw id belongs to one user (add-attrib)":
        ('<add-attrib><user cn="Alice"><device hw="hot-desk-base"/></user></add-attrib>', "already used by Hot"),
    "hw id is case-insensitive":
        ('<add><user cn="Bob" h323="bob"><device hw="00-90-33-AA-BB-CC"/></user></add>', "already used by Alice"),
    "device needs a hw id": ('<add><user cn="Bob" h323="bob"><device text="no hw"/></user></add>', "without hw"),
    "template must exist": ('<add><user cn="Bob" h323="bob" config="Missing"/></add>', "Missing does not exist"),
    "template must be a template":
        ('<add><user cn="Bob" h323="bob" config="Alice"/></add>', "Alice is not a config template"),
    "template cannot inherit from itself":
        ('<modify><user cn="Template" config="Template"><pseudo type="config"/></user></modify>', "itself"),
    "filter must exist": ('<add><user cn="Bob" h323="bob" filter="nowhere"/></add>', "filter nowhere does not"),
    "cd-filter must exist": ('<add><user cn="Bob" h323="bob" cd-filter="nowhere"/></add>', "cd-filter nowhere"),
    "modify keeps uniqueness": ('<modify><user cn="Alice" h323="hot-desk-base"/></modify>', "h323 hot-desk-base"),
    "modify keeps the template reference valid":
        ('<modify><user cn="Alice" h323="alice" config="Missing"/></modify>', "Missing does not exist"),
    "template in use cannot be deleted":
        ('<del><user cn="Template"/></del>', "config template Template is used by Hot Desk Base, Alice and cannot be"),
    "template in use cannot stop being one": ('<modify><user cn="Template"/></modify>', "is used by"),
    "all objects of a command or none":
        ('<add><user cn="Carol" h323="carol"/><user cn="Dave" h323="carol"/></add>', "h323 carol already used"),
    "only user objects": ('<add><user cn="G" h323="g"/><group cn="x"/></add>', "<user> elements"),
}


def snapshot(sim):
    return sim.get("/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*").text, sim.state()["pbx"]


@pytest.mark.parametrize("command, error", list(REFUSED.values()), ids=list(REFUSED))
def test_rule_refuses_and_changes_nothing(sim, command, error):
    for setup in SETUP:
        assert sim.admin(setup).tag == "ok"
    before = snapshot(sim)
    answer = sim.admin(command)
    assert answer.tag == "error" and error in answer.text
    assert snapshot(sim) == before


def test_renaming_a_template_in_use_is_refused_but_an_unused_one_may_change(sim):
    for setup in SETUP:
        sim.admin(setup)
    guid = sim.admin('<show><user cn="Template"/></show>')[0].get("guid")
    renamed = '<modify><user guid="%s" cn="Renamed"><pseudo type="config"/></user></modify>' % guid
    assert sim.admin(renamed).tag == "error"
    sim.admin('<modify><user cn="Hot Desk Base" h323="hot-desk-base" pwd="********"/></modify>')
    sim.admin('<modify><user cn="Alice" h323="alice"/></modify>')
    assert sim.admin(renamed).tag == "ok"


def test_a_filter_added_and_activated_becomes_usable(sim):
    user = '<add><user cn="Bob" h323="bob" filter="emergency"/></add>'
    assert sim.admin(user).tag == "error"
    assert sim.get("/!config%20add%20PBX0%20FILTER%20/name%20emergency").text == "ok"
    assert sim.admin(user).tag == "error"  # the PBX checks the active configuration
    assert sim.get("/!config%20activate").text == "ok"
    assert sim.admin(user).tag == "ok"


def test_the_same_user_may_list_its_hw_id_twice_and_other_names_are_free(sim):
    for setup in SETUP:
        sim.admin(setup)
    assert sim.admin('<add-attrib><user cn="Alice"><device hw="00-90-33-aa-bb-cc"/></user></add-attrib>').tag == "ok"
    assert sim.admin('<add><user cn="Bob" h323="bob" e164="202"><device hw="bob"/></user></add>').tag == "ok"


def test_a_template_inherits_from_up_to_four_templates_without_cycles(sim):
    for name in "ABCDE":
        assert sim.admin('<add><user cn="%s"><pseudo type="config"/></user></add>' % name).tag == "ok"
    assert sim.admin('<add><user cn="T" config="A,B,C,D"><pseudo type="config"/></user></add>').tag == "ok"
    before = snapshot(sim)
    for command, error in (
            ('<add><user cn="U" config="A,B,C,D,E"><pseudo type="config"/></user></add>', "at most 4"),
            ('<add><user cn="U" config="A,Missing"><pseudo type="config"/></user></add>', "Missing does not exist"),
            ('<add><user cn="U" h323="u" config="A,B"/></add>', "A,B does not exist"),  # a user names one
            ('<modify><user cn="A" config="T"><pseudo type="config"/></user></modify>', "inherit from itself"),
            ('<del><user cn="C"/></del>', "used by T")):
        answer = sim.admin(command)
        assert answer.tag == "error" and error in answer.text
    assert snapshot(sim) == before
