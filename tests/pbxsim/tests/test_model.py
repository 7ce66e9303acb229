# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model without a server: RC4, transactions, JSON encoding, the state file, the wire-name table."""

import json

import pytest

from pbxsim import cfg, crypto, model, persistence, wire_names


@pytest.mark.parametrize("key, plain, cipher", [  # the published RC4 test vectors
    (b"Key", b"Plaintext", "bbf316e8d940af0ad3"),
    (b"Wiki", b"pedia", "1021bf0420"),
    (b"Secret", b"Attack at dawn", "45a01f645fc35b383552544b9bf5"),
])
def test_rc4_vectors(key, plain, cipher):
    assert crypto.rc4(key, plain).hex() == cipher
    assert crypto.rc4(key, bytes.fromhex(cipher)) == plain


def test_pwdx_and_admin_key_follow_the_reference_scheme():
    pbx_key = bytes(range(16))
    admin_key = crypto.admin_key_attribute(pbx_key, "pbx-pw")
    assert crypto.rc4(b"pbx-pw".ljust(16, b"\0"), bytes.fromhex(admin_key)) == pbx_key
    pwdx = crypto.pwdx(pbx_key, "secret")
    assert crypto.rc4(pbx_key, bytes.fromhex(pwdx)) == b"secret".ljust(24, b"\0")


def test_password_from_pwdx_cuts_at_the_first_nul_and_replaces_bad_utf8():
    pbx_key = bytes(range(16))
    assert crypto.password_from_pwdx(pbx_key, crypto.pwdx(pbx_key, "sécret")) == "sécret"
    assert crypto.password_from_pwdx(pbx_key, crypto.rc4(pbx_key, b"ab\0cd\0").hex()) == "ab"
    assert crypto.password_from_pwdx(pbx_key, crypto.rc4(pbx_key, b"a\xffb").hex().upper()) == "a\ufffdb"
    assert crypto.password_from_pwdx(pbx_key, "") == ""
    for bad in ("abc", "zz", "00 ff"):
        with pytest.raises(ValueError, match="is not hex"):
            crypto.password_from_pwdx(pbx_key, bad)


@pytest.fixture
def pbx():
    pbx = model.Pbx(cfg.DeviceConfig(), "pbx-pw")
    for name in ("a", "b", "c"):
        pbx.add(model.element("user", {"cn": name, "h323": name, "pwd": "pw-" + name},
                              [model.element("device", {"hw": "hw-" + name})]))
    return pbx


def test_failed_transaction_restores_objects_indexes_and_order(pbx):
    before = pbx.to_dict()
    with pytest.raises(model.PbxError):
        with pbx.transaction():
            pbx.delete({"cn": "a"})
            pbx.modify(model.element("user", {"cn": "b", "h323": "renamed"}))
            pbx.add(model.element("user", {"cn": "d", "h323": "d"}))
            pbx.add(model.element("user", {"cn": "e", "h323": "c"}))  # refused: h323 c is taken
    assert pbx.to_dict() == before
    assert pbx.find_user("b")["cn"] == "b" and pbx.find_user("renamed") is None and pbx.find_user("d") is None
    with pytest.raises(model.PbxError, match="HW-A already used by a"):
        pbx.add(model.element("user", {"cn": "f"}, [model.element("device", {"hw": "HW-A"})]))


def test_pwdx_made_with_another_key_sets_what_it_decrypts_to(pbx):
    """The PBX cannot tell a wrong key: it stores the garbage, and the intended password no longer works."""
    wrong_key = bytes(16)
    pwdx = crypto.pwdx(wrong_key, "intended")
    pbx.modify(model.element("user", {"cn": "a", "h323": "a", "pwd": "********", "pwdx": pwdx},
                             [model.element("device", {"hw": "hw-a"})]))
    expected = crypto.rc4(pbx.pbx_key, bytes.fromhex(pwdx)).partition(b"\0")[0].decode("utf-8", "replace")
    assert pbx.objects[pbx.find_user("a")["guid"]]["attrs"].get("pwd") == (expected or None)
    with pytest.raises(model.RegistrationRefused, match="wrong password"):
        pbx.register("hw-a", "a", "intended", "127.0.0.1")
    pbx.modify(model.element("user", {"cn": "a", "h323": "a", "pwdx": crypto.pwdx(pbx.pbx_key, "intended")},
                             [model.element("device", {"hw": "hw-a"})]))
    assert pbx.register("hw-a", "a", "intended", "127.0.0.1")["pwd"] is True


def test_pwdx_of_nothing_but_padding_clears_the_password(pbx):
    pbx.modify(model.element("user", {"cn": "a", "h323": "a", "pwd": "********",
                                      "pwdx": crypto.pwdx(pbx.pbx_key, "")}))
    assert "pwd" not in pbx.objects[pbx.find_user("a")["guid"]]["attrs"]
    assert "pwdx" not in pbx.show({"cn": "a"})[0]["attrs"]


def test_to_json_is_to_dict_encoded(pbx):
    pbx.register("hw-a", "a", "pw-a", "127.0.0.1")
    pbx.modify(model.element("user", {"cn": "b", "h323": "b2", "pwd": "********"}))
    pbx.delete({"cn": "c"})
    assert json.loads(pbx.to_json()) == json.loads(json.dumps(pbx.to_dict()))


def test_state_file_round_trip_keeps_key_and_objects(pbx, tmp_path):
    path = tmp_path / "state.json"
    persistence.save(str(path), {"pbx": pbx.to_json()})
    copy = model.Pbx(cfg.DeviceConfig(), "pbx-pw")
    copy.load_dict(persistence.load(str(path))["pbx"])
    assert copy.to_dict() == pbx.to_dict() and copy.show({"cn": "a"}) == pbx.show({"cn": "a"})
    assert [entry.name for entry in tmp_path.iterdir()] == ["state.json"]
    assert persistence.load(str(tmp_path / "missing.json")) is None
    path.write_text('{"format": 99}')
    with pytest.raises(ValueError, match="unknown state format"):
        persistence.load(str(path))


def test_wire_name_table_holds_every_constant():
    constants = {name: value for name, value in vars(wire_names).items()
                 if name.isupper() and isinstance(value, (str, int))}
    assert wire_names.WIRE_NAMES == {name.lower(): value for name, value in constants.items()}
    assert wire_names.WIRE_NAMES["reg_no_pwd_flag"] == "reg-no-pwd"
    assert wire_names.WIRE_NAMES["store_phone_config"] == "phone-config"
    assert wire_names.WIRE_NAMES["discard_phone_config"] == "discard-phone-config"
    assert "store_phone_cfg" not in wire_names.WIRE_NAMES and "discard_phone_cfg" not in wire_names.WIRE_NAMES


@pytest.mark.parametrize("attribute", ["phone-config", "discard-phone-config"])
def test_phone_config_flags_are_booleans_the_pbx_does_not_keep_when_false(attribute):
    pbx = model.Pbx(cfg.DeviceConfig(), "pbx-pw")
    template = [model.element("pseudo", {"type": "config"})]
    pbx.add(model.element("user", {"cn": "on", attribute: "true"}, template))
    pbx.add(model.element("user", {"cn": "off", attribute: "false"}, template))
    assert pbx.show({"cn": "on"})[0]["attrs"][attribute] == "true"
    assert attribute not in pbx.show({"cn": "off"})[0]["attrs"]
