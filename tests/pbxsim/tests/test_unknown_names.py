# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A PBX silently drops what it does not know: unknown object and child attributes, unknown PBX0 flags.

The default spelling of the wire name table; tests/pbxsim/tests/test_wire_names.py has the respelt ones.
"""

import urllib.parse

import pytest

from pbxsim import cfg, model, soap

PSEUDO = model.element("pseudo", {"type": "config"})
# Every documented <user> attribute with a value it keeps (pwd, pwdx and guid have rules of their own).
SPECIAL = {"cn", "pwd", "pwdx", "guid", "config", "filter", "cd-filter", "e164"}
DOCUMENTED = {name: "x" for name in model.DOCUMENTED_USER_ATTRIBUTES - SPECIAL}
DOCUMENTED.update({"e164": "#10", "filter": "intern", "cd-filter": "normal", "hide": "true"})


@pytest.fixture
def pbx():
    return model.Pbx(cfg.DeviceConfig(), "pbx-pw")


def shown(pbx, cn):
    obj = pbx.show({"cn": cn})[0]
    attrs = dict(obj["attrs"])
    attrs.pop("guid")
    return attrs, obj["children"]


def test_every_documented_user_attribute_is_kept_and_an_unknown_one_dropped(pbx):
    pbx.add(model.element("user", {"cn": "Alice", **DOCUMENTED, "colour": "blue", "store-phone-cfg": "true"}))
    attrs, _children = shown(pbx, "Alice")
    assert attrs == {"cn": "Alice", **DOCUMENTED}


def test_the_template_flags_are_known_in_the_tables_spelling(pbx):
    pbx.add(model.element("user", {"cn": "T", "phone-config": "true", "discard-phone-config": "true",
                                   "store-phone-config": "true", "discard-phone-cfg": "true"}, [PSEUDO]))
    assert shown(pbx, "T")[0] == {"cn": "T", "phone-config": "true", "discard-phone-config": "true"}


def test_child_attributes_the_pbx_does_not_know_are_dropped_other_children_kept(pbx):
    device = {"hw": "h1", "text": "Desk", "app": "phone", "admin": "true", "no-filter": "true", "tls": "true",
              "no-mob": "true", "trusted": "true"}
    cd = model.element("cd", {"type": "cfu", "whatever": "1"}, [model.element("ep", {"e164": "12", "odd": "y"})])
    pbx.add(model.element("user", {"cn": "Bob"}, [
        model.element("device", {**device, "reverse-proxy": "true"}),
        model.element("grp", {"name": "Sales", "mode": "active", "dyn": "in", "colour": "red"}),
        model.element("pseudo", {"type": "executive", "extra": "1"}),
        cd,
    ]))
    assert shown(pbx, "Bob")[1] == [
        model.element("device", device),
        model.element("grp", {"name": "Sales", "mode": "active", "dyn": "in"}),
        model.element("pseudo", {"type": "executive"}),
        cd,
    ]


def test_modify_drops_unknown_attributes_too(pbx):
    pbx.add(model.element("user", {"cn": "Carol", "h323": "carol"}))
    guid = pbx.show({"cn": "Carol"})[0]["attrs"]["guid"]
    pbx.modify(model.element("user", {"guid": guid, "cn": "Carol", "h323": "carol", "dn": "C", "nick": "cc"},
                             [model.element("device", {"hw": "carol", "label": "x"})]))
    assert shown(pbx, "Carol") == ({"cn": "Carol", "h323": "carol", "dn": "C"},
                                   [model.element("device", {"hw": "carol"})])


def test_add_attrib_drops_unknown_child_attributes(pbx):
    pbx.add(model.element("user", {"cn": "Dan", "h323": "dan"}))
    pbx.add_attrib({"cn": "Dan"}, [model.element("device", {"hw": "dan", "tls": "true", "proxy": "true"}),
                                   model.element("presence", {"c": "tel:", "a": "away"})])
    assert shown(pbx, "Dan")[1] == [model.element("device", {"hw": "dan", "tls": "true"}),
                                    model.element("presence", {"c": "tel:", "a": "away"})]


def test_what_show_reports_is_accepted_back_by_modify(pbx):
    pbx.add(model.element("user", {"cn": "T", "phone-config": "true", "filter": "intern"}, [PSEUDO]))
    pbx.add(model.element("user", {"cn": "Eve", **DOCUMENTED, "pwd": "secret", "config": "T"}, [
        model.element("device", {"hw": "eve", "tls": "true", "trusted": "true", "text": "Hotdesking", "app": "phone"}),
        model.element("grp", {"name": "Support", "mode": "active"}),
    ]))
    before = {cn: pbx.show({"cn": cn})[0] for cn in ("T", "Eve")}
    for obj in before.values():
        assert soap.admin(pbx, "<modify>%s</modify>" % soap.to_xml(obj))[0] == "<ok/>"
    assert {cn: pbx.show({"cn": cn})[0] for cn in ("T", "Eve")} == before
    assert pbx.objects[before["Eve"]["attrs"]["guid"]]["attrs"]["pwd"] == "secret"


def test_an_attribute_a_stored_object_already_has_is_accepted_back(pbx):
    """A state file written with another spelling may hold a name pbxsim no longer knows: show reports it,
    so modify keeps it (what the PBX shows it accepts back); a new object does not get it."""
    pbx.load_dict({"pbx_key": "00" * 16, "registrations": [], "objects": [
        model.element("user", {"cn": "Old", "guid": "ab" * 16, "store-phone-cfg": "true"}, [PSEUDO]),
    ]})
    shown_old = pbx.show({"cn": "Old"})[0]
    assert shown_old["attrs"]["store-phone-cfg"] == "true"
    pbx.modify(shown_old)
    assert pbx.show({"cn": "Old"})[0] == shown_old
    pbx.add(model.element("user", {"cn": "New", "store-phone-cfg": "true"}, [PSEUDO]))
    assert "store-phone-cfg" not in pbx.show({"cn": "New"})[0]["attrs"]


def test_soap_answers_ok_for_what_it_drops(sim):
    assert sim.admin('<add><user cn="Frank" h323="frank" shoe-size="44"><device hw="frank" colour="red"/>'
                     '</user></add>').tag == "ok"
    user = sim.admin('<show><user cn="Frank" config="true"/></show>')[0]
    assert "shoe-size" not in user.attrib and user.get("h323") == "frank"
    assert user.find("device").attrib == {"hw": "frank"}
    assert sim.admin('<add-attrib><user cn="Frank"><device hw="frank2" odd="1"/></user></add-attrib>').tag == "ok"
    assert sim.admin('<modify><user guid="%s" cn="Frank" h323="frank" shoe-size="45"/></modify>'
                     % user.get("guid")).tag == "ok"
    user = sim.admin('<show><user cn="Frank" config="true"/></show>')[0]
    assert "shoe-size" not in user.attrib and len(user) == 0


def test_soap_template_flags_default_spelling(sim):
    assert sim.admin('<add><user cn="T1" phone-config="true" store-phone-config="true"><pseudo type="config"/>'
                     '</user></add>').tag == "ok"
    template = sim.admin('<show><user cn="T1" config="true"/></show>')[0]
    assert template.get("phone-config") == "true" and "store-phone-config" not in template.attrib


def test_pbx0_flags_it_does_not_know_are_not_kept(sim):
    def command(line):
        return sim.get("/!" + urllib.parse.quote(line, safe="/,")).text
    assert command("config change PBX0 /no-pwd-regs 0 /reg-no-pwd 2") == "ok"
    assert sim.get("/cfg.txt").text.splitlines()[0] == "config change PBX0 /reg-no-pwd 2"
    assert command("config add PBX0 FILTER /name extra") == "ok"
    assert "config add PBX0 FILTER /name extra" in sim.get("/cfg.txt").text.splitlines()
