# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract section 7 on the model itself: what the simulated PBX accepts as a registration."""

import xml.etree.ElementTree as ET

import pytest

from pbxsim import cfg, model, soap

PBX_PASSWORD = "pbx-password"
PHONE = "00-90-33-01-02-03"


@pytest.fixture
def pbx():
    config = cfg.DeviceConfig()
    pbx = model.Pbx(config, PBX_PASSWORD)
    pbx.add(model.element("user", {"cn": "Template", "h323": "template"},
                          [model.element("pseudo", {"type": "config"})]))
    pbx.add(model.element("user", {"cn": "Hot Desk Base", "h323": "hot-desk-base", "e164": "#10", "pwd": "base"},
                          [model.element("device", {"hw": PHONE})]))
    pbx.add(model.element("user", {"cn": "Alice", "h323": "alice", "e164": "201", "pwd": "alice-pw"},
                          [model.element("device", {"hw": "alice", "text": "Hotdesking"})]))
    pbx.add(model.element("user", {"cn": "Bob", "h323": "bob", "e164": "202", "pwd": "bob-pw"}))
    return pbx


def activate(pbx, line):
    pbx.config.run(line)
    pbx.config.run("config activate")


def refused(pbx, *args, **kwargs):
    with pytest.raises(model.RegistrationRefused) as info:
        pbx.register(*args, **kwargs)
    return str(info.value)


def test_base_user_registers_with_its_phone_hw_id(pbx):
    reg = pbx.register(PHONE, "hot-desk-base", "base", "10.0.0.5")
    assert {key: reg[key] for key in ("user", "cn", "hw", "addr", "pwd", "hotdesk")} == {
        "user": "hot-desk-base", "cn": "Hot Desk Base", "hw": PHONE, "addr": "10.0.0.5", "pwd": True,
        "hotdesk": False}
    assert pbx.registrations() == [reg]


def test_hotdesk_login_by_name_or_number_needs_a_device_named_like_the_user(pbx):
    assert pbx.register("alice", "alice", "alice-pw", "10.0.0.5", hotdesk=True)["hotdesk"] is True
    assert pbx.register("alice", "201", "alice-pw", "10.0.0.5", hotdesk=True)["user"] == "alice"
    assert len(pbx.registrations()) == 1  # the same hw id as the same user replaces its registration
    assert "has no device" in refused(pbx, "bob", "bob", "bob-pw", "10.0.0.5", hotdesk=True)


def test_unknown_user_template_and_wrong_password_are_refused(pbx):
    assert "unknown user" in refused(pbx, PHONE, "nobody", "x", "10.0.0.5")
    assert "unknown user" in refused(pbx, PHONE, "template", "x", "10.0.0.5")
    assert "wrong password" in refused(pbx, "alice", "alice", "bob-pw", "10.0.0.5")
    assert "has no device" in refused(pbx, "other-phone", "hot-desk-base", "base", "10.0.0.5")
    assert not pbx.registrations()


def test_registrations_without_password_count_against_reg_no_pwd(pbx):
    activate(pbx, "config change PBX0 /reg-no-pwd 1")
    pbx.register(PHONE, "hot-desk-base", "", "10.0.0.5")
    pbx.register(PHONE, "hot-desk-base", "", "10.0.0.5")  # re-registering does not count twice
    assert "without password refused" in refused(pbx, "alice", "alice", "", "10.0.0.5")
    pbx.register("alice", "alice", "alice-pw", "10.0.0.5")  # with the password it is no problem
    activate(pbx, "config change PBX0 /reg-no-pwd 0")
    pbx.unregister(pbx.registrations()[0]["id"])
    assert "without password refused" in refused(pbx, PHONE, "hot-desk-base", "", "10.0.0.5")


def test_ip_filter_applies_unless_the_device_says_no_filter(pbx):
    activate(pbx, "config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/255.0.0.0")
    assert "IP filter" in refused(pbx, "alice", "alice", "alice-pw", "192.168.1.9")
    pbx.register("alice", "alice", "alice-pw", "10.9.9.9")
    pbx.add_attrib({"cn": "Bob"}, [model.element("device", {"hw": "bob", "no-filter": "true"})])
    pbx.register("bob", "bob", "bob-pw", "192.168.1.9")


def set_device(pbx, cn, hw, **flags):
    """Replace the user's <device hw=…> by one with these flags (trusted="true", …)."""
    pbx.del_attrib({"cn": cn}, [model.element("device", {"hw": hw})])
    pbx.add_attrib({"cn": cn}, [model.element("device", dict(hw=hw, **flags))])


def test_a_plain_device_takes_direct_and_tls_registrations_but_no_reverse_proxy(pbx):
    assert pbx.register("alice", "alice", "alice-pw", "10.0.0.5")["via"] == "direct"   # the default
    assert pbx.register("alice", "alice", "alice-pw", "10.0.0.5", via="tls")["via"] == "tls"
    assert refused(pbx, "alice", "alice", "alice-pw", "10.0.0.5", hotdesk=True, via="proxy") == (
        "registration of alice through a reverse proxy refused: device alice is not trusted")
    assert refused(pbx, PHONE, "#10", "base", "10.0.0.5", via="proxy") == (
        "registration of hot-desk-base through a reverse proxy refused: device %s is not trusted" % PHONE)


def test_trusted_lets_a_registration_through_a_reverse_proxy(pbx):
    set_device(pbx, "Alice", "alice", trusted="true")
    assert pbx.register("alice", "alice", "alice-pw", "10.0.0.5", hotdesk=True, via="proxy")["via"] == "proxy"
    pbx.register("alice", "alice", "alice-pw", "10.0.0.5", via="direct")   # trusted restricts nothing


def test_tls_allows_only_verified_tls_or_a_trusted_reverse_proxy(pbx):
    set_device(pbx, "Alice", "alice", tls="true")
    assert refused(pbx, "alice", "alice", "alice-pw", "10.0.0.5") == (
        "registration of alice without a verified TLS certificate refused: device alice has tls (TLS only)")
    pbx.register("alice", "alice", "alice-pw", "10.0.0.5", via="tls")
    assert "is not trusted" in refused(pbx, "alice", "alice", "alice-pw", "10.0.0.5", via="proxy")
    set_device(pbx, "Alice", "alice", tls="true", trusted="true")
    pbx.register("alice", "alice", "alice-pw", "10.0.0.5", via="proxy")
    assert "without a verified TLS" in refused(pbx, "alice", "alice", "alice-pw", "10.0.0.5", via="direct")


def test_the_flags_of_the_device_the_registration_uses_count(pbx):
    """A hot-desk login presents the user's name as hw id: the hot-desking device's flags count."""
    pbx.add_attrib({"cn": "Alice"}, [model.element("device", {"hw": "alices-phone", "trusted": "true"})])
    pbx.register("alices-phone", "alice", "alice-pw", "10.0.0.5", via="proxy")
    assert "device alice is not trusted" in refused(pbx, "alice", "alice", "alice-pw", "10.0.0.5", via="proxy")


def test_no_filter_does_not_open_a_reverse_proxy_and_via_must_be_known(pbx):
    activate(pbx, "config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/8")
    set_device(pbx, "Alice", "alice", **{"no-filter": "true"})
    pbx.register("alice", "alice", "alice-pw", "192.168.1.9", via="tls")
    assert "is not trusted" in refused(pbx, "alice", "alice", "alice-pw", "192.168.1.9", via="proxy")
    set_device(pbx, "Alice", "alice", trusted="true")
    assert "IP filter" in refused(pbx, "alice", "alice", "alice-pw", "192.168.1.9", via="proxy")
    with pytest.raises(ValueError, match="via must be one of direct, tls, proxy"):
        pbx.register("alice", "alice", "alice-pw", "10.0.0.5", via="carrier-pigeon")


def test_only_the_active_configuration_counts(pbx):
    pbx.config.run("config change PBX0 /reg-no-pwd 0 /ip-filter 10.0.0.0/8")
    pbx.register("alice", "alice", "alice-pw", "192.168.1.9")
    pbx.config.run("config activate")
    assert "IP filter" in refused(pbx, "alice", "alice", "alice-pw", "192.168.1.9")


def test_admin_device_needs_the_pbx_password(pbx):
    pbx.add_attrib({"cn": "Bob"}, [model.element("device", {"hw": "bob", "admin": "true"})])
    assert "wrong password" in refused(pbx, "bob", "bob", "bob-pw", "10.0.0.5")
    assert "without password" in refused(pbx, "bob", "bob", "", "10.0.0.5")
    pbx.register("bob", "bob", PBX_PASSWORD, "10.0.0.5")


def test_deleting_a_user_drops_its_registrations_and_bulk_lists_the_rest(pbx):
    pbx.register(PHONE, "hot-desk-base", "base", "10.0.0.5")
    pbx.register("alice", "alice", "alice-pw", "10.0.0.6", hotdesk=True)
    pbx.delete({"cn": "Hot Desk Base"})
    listing = ET.fromstring(soap.bulk(pbx, {"cmd": "show", "reg": "*"}))
    assert listing.tag == "show"
    assert [reg.attrib for reg in listing] == [{"user": "alice", "cn": "Alice", "hw": "alice", "addr": "10.0.0.6",
                                                "pwd": "true", "hotdesk": "true"}]


def test_bulk_lists_the_registrations_of_one_user_by_name_number_or_cn(pbx):
    pbx.register(PHONE, "hot-desk-base", "base", "10.0.0.5")
    pbx.register("alice", "alice", "alice-pw", "10.0.0.6", hotdesk=True)

    def users(name):
        return [reg.get("user") for reg in ET.fromstring(soap.bulk(pbx, {"cmd": "show", "reg": name}))]
    for name in ("alice", "ALICE", "201", "Alice"):
        assert users(name) == ["alice"]
    assert users("#10") == users("hot desk base") == ["hot-desk-base"]
    assert users("bob") == [] and users("nobody") == [] and users("template") == []
    assert users("*") == ["hot-desk-base", "alice"]


def test_add_device_is_idempotent_and_refuses_a_foreign_hw_id(pbx):
    pbx.add_device("bob", {"hw": "00-90-33-99-99-99", "text": "Devices", "app": "phone"})
    pbx.add_device("bob", {"hw": "00-90-33-99-99-99", "text": "Devices", "app": "phone"})
    assert pbx.find_user("202")["devices"] == [{"hw": "00-90-33-99-99-99", "text": "Devices", "app": "phone"}]
    with pytest.raises(model.PbxError, match="already used"):
        pbx.add_device("bob", {"hw": PHONE})
    with pytest.raises(model.PbxError, match="no such user"):
        pbx.add_device("nobody", {"hw": "x"})


def test_find_user_hides_the_password_and_skips_templates(pbx):
    user = pbx.find_user("#10")
    assert user["cn"] == "Hot Desk Base" and "pwd" not in user and len(user["guid"]) == 32
    assert pbx.find_user("template") is None and pbx.find_user("nobody") is None
