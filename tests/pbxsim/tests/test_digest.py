# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP digest authentication as the PBX does it: MD5, qop=auth, expiring nonces, stale=true."""

import hashlib
import time

import requests
from requests.utils import parse_dict_header

from .conftest import ADMIN_PASSWORD, PBX_PASSWORD

PATH = "/cfg.txt"
NONCE_TTL = 1.0  # seconds; long enough for a challenge and its answer on a busy machine


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def challenge(sim):
    response = requests.get(sim.url + PATH, timeout=10)
    assert response.status_code == 401
    scheme, params = response.headers["WWW-Authenticate"].partition(" ")[::2]
    assert scheme == "Digest"
    return parse_dict_header(params)


def authorization(params, password, nc="00000001", uri=PATH, username="admin"):
    """An RFC 7616 MD5/qop=auth Authorization header, computed by hand."""
    ha1 = md5("%s:%s:%s" % (username, params["realm"], password))
    ha2 = md5("GET:" + uri)
    response = md5(":".join((ha1, params["nonce"], nc, "0a4f113b", "auth", ha2)))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=%s, '
            'cnonce="0a4f113b", response="%s"' % (username, params["realm"], params["nonce"], uri, nc, response))


def get(sim, header):
    return requests.get(sim.url + PATH, headers={"Authorization": header}, timeout=10)


def test_challenge_offers_md5_qop_auth_and_no_basic(sim):
    response = requests.get(sim.url + PATH, timeout=10)
    assert response.status_code == 401 and "config" not in response.text
    params = challenge(sim)
    assert params["qop"] == "auth" and params["algorithm"] == "MD5" and params["nonce"]
    assert "stale" not in params
    assert "Basic" not in response.headers["WWW-Authenticate"]
    assert requests.get(sim.url + PATH, auth=("admin", ADMIN_PASSWORD), timeout=10).status_code == 401


def test_admin_password_and_pbx_password_are_accepted(sim):
    params = challenge(sim)
    assert get(sim, authorization(params, ADMIN_PASSWORD)).status_code == 200
    assert get(sim, authorization(params, PBX_PASSWORD, nc="00000002")).status_code == 200


def test_wrong_password_user_or_uri_get_401_and_nothing_else(sim):
    params = challenge(sim)
    for header in (authorization(params, "wrong"), authorization(params, ADMIN_PASSWORD, username="root"),
                   authorization(params, ADMIN_PASSWORD, uri="/other")):
        response = get(sim, header)
        assert response.status_code == 401 and "PBX0" not in response.text
        assert "stale" not in parse_dict_header(response.headers["WWW-Authenticate"].partition(" ")[2])


def test_nonce_is_reused_with_growing_nc_and_a_replay_is_stale(sim):
    params = challenge(sim)
    assert get(sim, authorization(params, ADMIN_PASSWORD, nc="00000001")).status_code == 200
    assert get(sim, authorization(params, ADMIN_PASSWORD, nc="00000002")).status_code == 200
    replay = get(sim, authorization(params, ADMIN_PASSWORD, nc="00000002"))
    assert replay.status_code == 401
    assert parse_dict_header(replay.headers["WWW-Authenticate"].partition(" ")[2])["stale"] == "true"


def test_keep_alive_session_authenticates_once(sim):
    session = sim.session()
    sim.control("POST", "stats/reset")
    for _request in range(20):
        assert session.get(sim.url + PATH, timeout=10).status_code == 200
    stats = sim.control("GET", "stats")
    assert stats["requests"] == 21 and stats["unauthorized"] == 1


def test_expired_nonce_answers_stale_and_requests_recovers(pbxsim):
    sim = pbxsim("--nonce-ttl", str(NONCE_TTL))
    params = challenge(sim)
    time.sleep(NONCE_TTL + 0.2)
    stale = get(sim, authorization(params, ADMIN_PASSWORD))
    assert stale.status_code == 401
    assert parse_dict_header(stale.headers["WWW-Authenticate"].partition(" ")[2])["stale"] == "true"
    wrong = get(sim, authorization(params, "wrong"))
    assert "stale" not in parse_dict_header(wrong.headers["WWW-Authenticate"].partition(" ")[2])
    session = sim.session()
    assert session.get(sim.url + PATH, timeout=10).status_code == 200
    time.sleep(NONCE_TTL + 0.2)
    assert session.get(sim.url + PATH, timeout=10).status_code == 200  # requests re-authenticates


def test_basic_only_when_enabled(pbxsim):
    sim = pbxsim("--basic")
    assert "Basic" in requests.get(sim.url + PATH, timeout=10).headers["WWW-Authenticate"]
    assert requests.get(sim.url + PATH, auth=("admin", ADMIN_PASSWORD), timeout=10).status_code == 200
    assert requests.get(sim.url + PATH, auth=("admin", "wrong"), timeout=10).status_code == 401


def test_basic_only_offers_and_accepts_nothing_else(pbxsim):
    sim = pbxsim("--basic-only")
    response = requests.get(sim.url + PATH, timeout=10)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Basic realm="pbxsim"'
    assert requests.get(sim.url + PATH, auth=("admin", ADMIN_PASSWORD), timeout=10).status_code == 200
    assert requests.get(sim.url + PATH, auth=("admin", "wrong"), timeout=10).status_code == 401
    # A digest computed for a challenge of another pbxsim is refused for its scheme alone.
    digest = authorization({"realm": "pbxsim", "nonce": "0" * 60}, ADMIN_PASSWORD)
    assert get(sim, digest).status_code == 401


def test_passwords_come_from_the_environment(pbxsim):
    sim = pbxsim(env={"PBXSIM_ADMIN_PASSWORD": "from-env", "PBXSIM_PBX_PASSWORD": "pbx-env"})
    assert sim.session("from-env").get(sim.url + PATH, timeout=10).status_code == 200
    assert sim.session("pbx-env").get(sim.url + PATH, timeout=10).status_code == 200
    assert sim.session(ADMIN_PASSWORD).get(sim.url + PATH, timeout=10).status_code == 401


def test_stale_nonce_fault_answers_stale_true_to_right_credentials(sim):
    params = challenge(sim)
    sim.control("POST", "faults", {"kind": "stale_nonce"})
    response = get(sim, authorization(params, ADMIN_PASSWORD))
    assert response.status_code == 401
    assert parse_dict_header(response.headers["WWW-Authenticate"].partition(" ")[2])["stale"] == "true"
    assert get(sim, authorization(params, ADMIN_PASSWORD, nc="00000002")).status_code == 200
