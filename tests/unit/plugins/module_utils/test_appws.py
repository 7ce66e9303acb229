# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AppWebsocket client: login per reference 3 (with its test vectors), src matching, paging, events, errors."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import json
import socket
import threading
import time

from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import appws
from ansible_collections.innovaphone.pbx.plugins.module_utils.crypto import applogin_digest

VECTOR_CHALLENGE = "0123456789abcdef"
VECTOR_PASSWORD = "pwd"
VECTOR_APP = "pbxadminapi"
SECRET = "s3cret-devices"


def client(fake, url="ws://127.0.0.1:1/example.com/devices", **kwargs):
    kwargs.setdefault("password", SECRET)
    kwargs.setdefault("timeout", 0.5)
    return appws.AppWebsocket(url, domain=kwargs.pop("domain", "example.com"), app=kwargs.pop("app", "devices"),
                              connect=fake.connect, **kwargs)


def test_login_sends_the_reference_digest_for_the_test_vector(app_peer):
    app = app_peer(password=VECTOR_PASSWORD)
    with client(app, password=VECTOR_PASSWORD, domain="", app=VECTOR_APP):
        pass
    challenge, login = app.sent
    assert challenge == {"mt": "AppChallenge", "src": challenge["src"]}
    assert login == {"mt": "AppLogin", "src": login["src"], "app": VECTOR_APP, "domain": "", "sip": "",
                     "guid": "", "dn": "", "digest": "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"}
    assert challenge["src"] != login["src"]
    assert app.closed


@pytest.mark.parametrize("info, digest", [
    (None, "a205299ed2ef2786c311e0be1b14db343f2cadd906a6ae7b564eee34bda5e9a1"),
    ({}, "57b23fe824b9222a7ac879597cb509bcdc865a1bfeb057d9d12118cef0c3ba34"),
    ({"cn": "Test User"}, "96db3c3f657230c2b68194becc6d2a77f05de9f79f01fc81e9ca0fb196b10d9d"),
])
def test_applogin_digest_reference_vectors(info, digest):
    assert applogin_digest(VECTOR_PASSWORD, VECTOR_CHALLENGE, VECTOR_APP, info=info) == digest


def test_login_uses_the_login_domain_and_app(app_peer):
    app = app_peer()
    with client(app, domain="site1.example.com"):
        login = app.sent[1]
    assert (login["app"], login["domain"]) == ("devices", "site1.example.com")


def test_refused_login_is_an_error_without_the_password_and_closes(app_peer):
    app = app_peer(password="another")
    with pytest.raises(appws.AppWsError) as caught:
        client(app).open()
    message = str(caught.value)
    assert "refused: login failed" in message and "example.com" in message
    assert SECRET not in message
    assert app.closed


def test_answers_are_matched_by_src_and_pages_joined_until_last(app_peer):
    def answer(message):
        stray = {"mt": message["mt"] + "Result", "src": "someone-else", "things": ["not ours"]}
        return [stray,
                app_peer.result(message, things=[1, 2], last=False),
                {"mt": "SomethingHappened", "n": 1},
                app_peer.result(message, things=[3], last=False),
                app_peer.result(message, things=[], last=True)]

    app = app_peer(answer=answer)
    with client(app) as ws:
        assert ws.items("GetThings", "things", domainId=4) == [1, 2, 3]
        assert app.sent[-1] == {"mt": "GetThings", "src": app.sent[-1]["src"], "domainId": 4}
        assert ws.wait_for("SomethingHappened", 0.1) == {"mt": "SomethingHappened", "n": 1}


def test_part_messages_of_the_same_src_come_before_their_result(app_peer):
    def answer(message):
        part = dict(message, mt="GetThingValue")
        return [app_peer.result(part, name="script", value="ab"),
                app_peer.result(dict(part, src="someone-else"), name="script", value="not ours"),
                {"mt": "ThingEdited", "id": 1},
                app_peer.result(part, name="script", value="cd"),
                app_peer.result(message, thing={"id": 1})]

    app = app_peer(answer=answer)
    with client(app) as ws:
        answer = ws.request("GetThing", parts=("GetThingValueResult",), id=1)
        assert [(m["mt"], m.get("value")) for m in answer] == [
            ("GetThingValueResult", "ab"), ("GetThingValueResult", "cd"), ("GetThingResult", None)]
        assert ws.wait_for("ThingEdited", 0.1) == {"mt": "ThingEdited", "id": 1}


def test_the_domain_the_login_got_is_kept(app_peer):
    app = app_peer()
    app.login_domain = "branch.example.com"
    with client(app, domain="") as ws:
        assert ws.login_domain == "branch.example.com"


def test_an_answer_without_last_is_complete(app_peer):
    app = app_peer(answer=lambda message: [app_peer.result(message, id=7), app_peer.result(message, id=8)])
    with client(app) as ws:
        assert ws.request("AddThing", name="x") == [app_peer.result(app.sent[-1], id=7)]


def test_error_answer_is_a_typed_error_without_secrets(app_peer):
    app = app_peer(answer=lambda message: [app_peer.result(message, error="bad script %s" % SECRET)])
    with client(app) as ws:
        with pytest.raises(appws.AppRequestError) as caught:
            ws.request("AddDeviceConfig", settings={"script": SECRET})
    assert caught.value.mt == "AddDeviceConfig"
    assert caught.value.text == "bad script VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert SECRET not in str(caught.value)
    assert "refused AddDeviceConfig: bad script VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in str(caught.value)


def test_error_text_key_counts_as_a_refusal(app_peer):
    app = app_peer(answer=lambda message: [app_peer.result(message, errorText="no such domain")])
    with client(app) as ws:
        with pytest.raises(appws.AppRequestError, match="no such domain"):
            ws.request("GetDevices")


def test_extra_secrets_are_scrubbed_too(app_peer):
    app = app_peer(answer=lambda message: [app_peer.result(message, error="echo gk-pwd base-pass")])
    with client(app, secrets=["base-pass"]) as ws:
        with pytest.raises(appws.AppRequestError) as caught:
            ws.request("UpdateDeviceConfig")
    assert "base-pass" not in str(caught.value)


def test_no_answer_is_a_timeout_error(app_peer):
    app = app_peer()
    with client(app, timeout=0.2) as ws:
        with pytest.raises(appws.AppWsError, match="did not answer GetDomains within 0.2 seconds"):
            ws.request("GetDomains")


def test_wait_for_returns_a_later_event_or_none(app_peer):
    events = []

    def answer(message):
        return [app_peer.result(message, code="123")] + events

    app = app_peer(answer=answer)
    with client(app) as ws:
        ws.request("GetProvisioningCode")
        assert ws.wait_for("DeviceProvisioned", 0.05) is None
        events.append({"mt": "DeviceProvisioned", "code": "999"})
        events.append({"mt": "DeviceProvisioned", "code": "123", "device": {"hwId": "0090333"}})
        ws.request("GetProvisioningCode")
        event = ws.wait_for("DeviceProvisioned", 0.05, match=lambda m: m["code"] == "123")
        assert event["device"] == {"hwId": "0090333"}
        assert ws.wait_for("DeviceProvisioned", 0.05)["code"] == "999"


def test_requests_need_an_open_connection(app_peer):
    ws = client(app_peer())
    with pytest.raises(appws.AppWsError, match="not open"):
        ws.request("GetDomains")


def test_connect_failure_is_an_error_naming_the_url_without_password():
    ws = appws.AppWebsocket("ws://127.0.0.1:9/example.com/devices", SECRET, "example.com", "devices", timeout=2,
                            sleep=lambda seconds: None)
    with pytest.raises(appws.AppWsError) as caught:
        ws.open()
    assert "cannot open the AppWebsocket ws://127.0.0.1:9/example.com/devices" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_wss_gets_a_tls_context_and_ws_none(app_peer):
    app = app_peer()
    with client(app, url="wss://pbx.example.com/example.com/devices", validate_certs=False):
        context = app.options["sslopt"]["context"]
        assert context.verify_mode == appws.ssl.CERT_NONE and not context.check_hostname
    with client(app):
        assert "sslopt" not in app.options
        assert app.options["timeout"] == 0.5


def test_ssl_context_verifies_by_default():
    context = appws.ssl_context()
    assert context.verify_mode == appws.ssl.CERT_REQUIRED and context.check_hostname


@pytest.fixture(scope="module")
def wss_server(app_peer):
    """A real wss AppWebsocket peer (aiohttp, certificate from a trustme CA) in a thread: (url, ca file)."""
    trustme = pytest.importorskip("trustme")
    web = pytest.importorskip("aiohttp.web")
    ca = trustme.CA()
    context = appws.ssl.create_default_context(appws.ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    peer = app_peer(answer=lambda message: [app_peer.result(message, pong=message.get("ping"))])

    async def handle(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for frame in ws:
            for answer in peer.reply(json.loads(frame.data)):
                await ws.send_json(answer)
        return ws

    loop = asyncio.new_event_loop()
    application = web.Application()
    application.router.add_get("/example.com/devices", handle)
    runner = web.AppRunner(application)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # pylint: disable=protected-access
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    with ca.cert_pem.tempfile() as ca_file:
        yield "wss://127.0.0.1:%d/example.com/devices" % port, ca_file
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_wss_with_ca_path_logs_in_and_talks(wss_server):
    url, ca_file = wss_server
    with appws.AppWebsocket(url, SECRET, "example.com", "devices", ca_path=ca_file, timeout=5) as ws:
        assert ws.request("Ping", ping=42)[0]["pong"] == 42


def test_wss_with_an_unknown_ca_fails_unless_validate_certs_is_off(wss_server):
    url, _ca_file = wss_server
    with pytest.raises(appws.AppWsError, match="TLS error connecting to wss://127.0.0.1"):
        appws.AppWebsocket(url, SECRET, "example.com", "devices", timeout=5).open()
    with appws.AppWebsocket(url, SECRET, "example.com", "devices", validate_certs=False, timeout=5) as ws:
        assert ws.request("Ping", ping=1)[0]["pong"] == 1


@pytest.mark.parametrize("failure, message", [
    (appws.websocket.WebSocketConnectionClosedException(), "connection to .* lost while waiting for GetDomainsResult: "
                                                           "WebSocketConnectionClosedException"),
    ("", "closed the connection while we waited for GetDomainsResult"),
    ("not json", "sent a message that is not JSON"),
    ("[1, 2]", "sent a message that is not a JSON object"),
])
def test_broken_connections_and_bad_messages_are_errors(app_peer, failure, message):
    peer = app_peer()
    with client(peer) as ws:
        def recv():
            if isinstance(failure, Exception):
                raise failure
            return failure
        peer.recv = recv
        with pytest.raises(appws.AppWsError, match=message):
            ws.request("GetDomains")


# --- issue 12: what is sent again ---------------------------------------------------------------------------------
def closing_once(peer, mt):
    """Make the peer close the connection (once) instead of answering the next `mt`."""
    receive, closed = peer.recv, []

    def recv():
        if not closed and peer.sent[-1]["mt"] == mt:
            closed.append(True)
            peer.inbox.clear()
            return ""
        return receive()

    peer.recv = recv


def test_a_read_whose_connection_closed_is_sent_again_on_a_new_connection(app_peer):
    peer = app_peer(answer=lambda message: [app_peer.result(message, domains=[{"id": 1}], last=True)])
    pauses = []
    with client(peer, sleep=pauses.append) as ws:
        closing_once(peer, "GetDomains")
        assert ws.items("GetDomains", "domains") == [{"id": 1}]
        assert [m["mt"] for m in peer.sent] == ["AppChallenge", "AppLogin", "GetDomains"] * 2
        assert ws.connections == 2 and pauses == [0.5]


def test_a_write_whose_connection_closed_is_not_sent_again(app_peer):
    peer = app_peer(answer=lambda message: [app_peer.result(message, id=7)])
    with client(peer, sleep=lambda seconds: None) as ws:
        closing_once(peer, "AddCategory")
        with pytest.raises(appws.AppWsError) as caught:
            ws.request("AddCategory", name="x")
    assert [m["mt"] for m in peer.sent].count("AddCategory") == 1
    assert str(caught.value) == (
        "the app at ws://127.0.0.1:1/example.com/devices closed the connection while we waited for AddCategoryResult; "
        "it may or may not have carried out AddCategory, so it was not sent again (a re-run reads first and "
        "converges)")


def test_an_idempotent_write_whose_connection_closed_is_sent_again(app_peer):
    peer = app_peer(answer=lambda message: [app_peer.result(message)])
    with client(peer, sleep=lambda seconds: None) as ws:
        closing_once(peer, "UpdateCategory")
        ws.request("UpdateCategory", idempotent=True, id=7, name="x")
    assert [m["mt"] for m in peer.sent].count("UpdateCategory") == 2


def test_an_answer_whose_last_page_never_comes_says_how_much_came(app_peer):
    peer = app_peer(answer=lambda message: [app_peer.result(message, domains=[{"id": 1}], last=False)])
    with client(peer, timeout=0.1) as ws:
        with pytest.raises(appws.AppWsError) as caught:
            ws.items("GetDomains", "domains")
    assert str(caught.value) == ("the app at ws://127.0.0.1:1/example.com/devices sent 1 message of its answer to "
                                 "GetDomains but not the last one (last: true) within 0.1 seconds (2 attempts)")


def test_a_write_without_an_answer_is_not_sent_again(app_peer):
    peer = app_peer()
    with client(peer, timeout=0.1) as ws:
        with pytest.raises(appws.AppWsError, match="did not answer AddCategory within 0.1 seconds; not sent again"):
            ws.request("AddCategory", name="x")
    assert [m["mt"] for m in peer.sent].count("AddCategory") == 1


def test_connecting_is_tried_again_while_refused(app_peer):
    peer, tries, pauses = app_peer(), [], []

    def connect(url, **options):
        tries.append(url)
        if len(tries) < 3:
            raise ConnectionRefusedError(111, "Connection refused")
        return peer.connect(url, **options)

    ws = appws.AppWebsocket("ws://127.0.0.1:1/example.com/devices", SECRET, "example.com", "devices", timeout=1,
                            connect=connect, sleep=pauses.append)
    with ws:
        assert ws.login_domain == "example.com"
    assert len(tries) == 3 and pauses == [0.5, 1.0]


def test_an_html_page_instead_of_the_upgrade_is_named(app_peer):
    def connect(url, **options):
        raise appws.websocket.WebSocketBadStatusException("Handshake status 200 OK", 200, "OK",
                                                          {"content-type": "text/html; charset=utf-8"})

    ws = appws.AppWebsocket("ws://127.0.0.1:1/example.com/devices", SECRET, "example.com", "devices", timeout=1,
                            connect=connect, peer="the Devices app")
    with pytest.raises(appws.AppWsError) as caught:
        ws.open()
    assert str(caught.value) == ("the Devices app at ws://127.0.0.1:1/example.com/devices answered the WebSocket "
                                 "upgrade with an HTML page (HTTP 200): a reverse proxy or a login page?")


# --- issue 18: requests in flight together on the one connection -------------------------------------------------
def reversed_batches(app_peer, size):
    """An answer function that holds answers until `size` requests are in flight, then answers them last first."""
    held = []

    def answer(message):
        held.append(app_peer.result(message, n=message.get("n")))
        if len(held) < size:
            return []
        answers = list(reversed(held))
        del held[:]
        return answers
    return answer


def test_posted_requests_get_their_answers_by_src_whatever_the_order(app_peer):
    peer = app_peer(answer=reversed_batches(app_peer, 3))
    with client(peer) as ws:
        tickets = [ws.post("GetRegs", api="PbxAdminApi", n=n) for n in range(6)]
        assert [ws.collect(ticket)[-1]["n"] for ticket in tickets] == list(range(6))
    assert all(m["api"] == "PbxAdminApi" for m in peer.sent if m["mt"] == "GetRegs")


def test_threads_have_their_requests_in_flight_together_and_each_gets_its_own_answer(app_peer):
    # The peer answers only once 4 requests are out: one request at a time would never be answered.
    peer = app_peer(answer=reversed_batches(app_peer, 4))
    with client(peer, timeout=5) as ws:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda n: ws.shared("GetRegs", n=n)[-1]["n"], range(12)))
    assert answers == list(range(12))
    assert len([m for m in peer.sent if m["mt"] == "GetRegs"]) == 12     # nothing sent twice


def test_an_error_answer_ends_its_own_request_only(app_peer):
    def answer(message):
        if message["n"] == 1:
            return [app_peer.result(message, error="e164 301 already used")]
        return [app_peer.result(message, n=message["n"])]

    with client(app_peer(answer=answer)) as ws:
        tickets = [ws.post("UpdateObject", n=n) for n in range(3)]
        assert ws.collect(tickets[0])[-1]["n"] == 0
        with pytest.raises(appws.AppRequestError, match="refused UpdateObject: e164 301 already used"):
            ws.checked("UpdateObject", ws.collect(tickets[1]))
        assert ws.collect(tickets[2])[-1]["n"] == 2


def test_a_broken_connection_ends_every_request_in_flight_on_it_and_a_write_is_sent_again_only_if_safe(app_peer):
    peer = app_peer(answer=lambda message: [app_peer.result(message, n=message.get("n"))])
    with client(peer, sleep=lambda seconds: None) as ws:
        tickets = [ws.post("GetRegs", n=n) for n in range(3)]
        closing_once(peer, "GetRegs")
        for ticket in tickets:
            with pytest.raises(appws.Lost):
                ws.collect(ticket)
        # UpdateObject with guid "?" may go twice: sent again on a new connection.
        closing_once(peer, "UpdateObject")
        assert ws.shared("UpdateObject", idempotent=True, n=7)[-1]["n"] == 7
        assert ws.connections == 3
        closing_once(peer, "DeleteObject")
        with pytest.raises(appws.AppWsError, match="may or may not have carried out DeleteObject, so it was not sent"):
            ws.shared("DeleteObject", idempotent=False, guid="abc")
    assert len([m for m in peer.sent if m["mt"] == "DeleteObject"]) == 1


def test_an_answer_that_stays_away_is_asked_again_on_the_same_connection_and_a_late_one_is_dropped(app_peer):
    asked = []

    def answer(message):
        asked.append(message["n"])
        if asked.count(1) == 1 and message["n"] == 1:
            return []          # the first UpdateObject of n=1 is never answered
        return [app_peer.result(message, n=message["n"])]

    peer = app_peer(answer=answer)
    with client(peer, timeout=0.2) as ws:
        assert ws.shared("UpdateObject", idempotent=True, n=1)[-1]["n"] == 1
        assert ws.connections == 1 and asked == [1, 1]
        first_src = [m["src"] for m in peer.sent if m["mt"] == "UpdateObject"][0]
        peer.inbox.append(app_peer.result({"mt": "UpdateObject", "src": first_src}, n=1))   # it comes, late
        assert ws.shared("UpdateObject", idempotent=True, n=2)[-1]["n"] == 2
        assert ws.shared_wait_for("UpdateObjectResult", 0.1) is None    # dropped, not kept as an event


class SocketConnection:
    """What appws uses of a websocket-client connection that has a socket: `sock` and its send `lock`."""

    def __init__(self, sock):
        self.sock = sock
        self.lock = threading.Lock()

    def close(self):
        self.sock.close()


def test_a_batch_larger_than_the_socket_buffers_goes_out_whatever_timeout_a_read_left():
    ours, peer = socket.socketpair()
    ws = appws.AppWebsocket("ws://127.0.0.1:1/PBX0/APPS/websocket", "pw", "", "app", timeout=5)
    ws._use(SocketConnection(ours))  # pylint: disable=protected-access
    assert ws._receive(time.monotonic() + 0.01, "nothing") is None    # leaves the socket a 10 ms timeout
    messages = [{"mt": "ReplicateNext", "api": "PbxTableUsers", "pad": "x" * 1000} for _count in range(4000)]
    received = []

    def slow_reader():
        time.sleep(0.3)     # the batch fills the buffers and waits for the peer longer than that timeout
        peer.settimeout(10)
        while True:
            chunk = peer.recv(1 << 20)
            if not chunk:   # the end of what was sent
                return
            received.append(chunk)
    reader = threading.Thread(target=slow_reader)
    reader.start()
    try:
        ws._send_all(messages)  # pylint: disable=protected-access
        ours.shutdown(socket.SHUT_WR)
    finally:
        reader.join(15)
        ours.close()
        peer.close()
    assert sum(len(chunk) for chunk in received) > len(messages) * 1000


def test_a_ping_is_answered_on_the_connection_while_a_message_is_read():
    ours, peer = socket.socketpair()
    ws = appws.AppWebsocket("ws://127.0.0.1:1/PBX0/APPS/websocket", "pw", "", "app", timeout=5)
    ws._use(SocketConnection(ours))  # pylint: disable=protected-access
    text = json.dumps({"mt": "GetDomainsResult", "src": "1"}).encode()
    peer.sendall(b"\x89\x02hi" + b"\x81" + bytes([len(text)]) + text)     # a ping, then a text frame (RFC 6455 5.5.2)
    try:
        assert ws._receive(time.monotonic() + 2, "GetDomainsResult") == {"mt": "GetDomainsResult", "src": "1"}
        peer.settimeout(2)
        pong = peer.recv(100)
    finally:
        ours.close()
        peer.close()
    assert pong[0] == 0x8A and pong[1] == 0x82     # a final pong, masked as a client's frame is, 2 bytes
    assert bytes(b ^ pong[2 + i % 4] for i, b in enumerate(pong[6:8])) == b"hi"
