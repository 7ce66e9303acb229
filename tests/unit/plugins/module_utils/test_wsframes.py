# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""WebSocket frames on a socket (RFC 6455 section 5): what the AppWebsocket client sends and how it reads."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import struct
import time

import pytest

from ansible_collections.innovaphone.pbx.plugins.module_utils import wsframes


def server_frame(payload, opcode=wsframes.TEXT, fin=True, mask=None):
    """A frame as a server sends it (unmasked unless `mask` is given)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    flag = 0x80 if mask else 0
    if length < 126:
        head = struct.pack("!BB", first, flag | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, flag | 126, length)
    else:
        head = struct.pack("!BBQ", first, flag | 127, length)
    if mask:
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


def read_client_frame(data):
    """(opcode, payload, the rest) of a client frame: checks that it is final and masked (RFC 6455 5.1)."""
    first, second = data[0], data[1]
    assert first & 0x80 and second & 0x80
    length, start = second & 0x7F, 2
    if length == 126:
        length, start = struct.unpack_from("!H", data, 2)[0], 4
    elif length == 127:
        length, start = struct.unpack_from("!Q", data, 2)[0], 10
    mask = data[start:start + 4]
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[start + 4:start + 4 + length]))
    return first & 0x0F, payload, data[start + 4 + length:]


@pytest.fixture
def pair():
    ours, peer = socket.socketpair()
    yield ours, peer
    ours.close()
    peer.close()


def soon(seconds=2.0):
    return time.monotonic() + seconds


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 70000])
def test_a_client_frame_is_masked_and_carries_its_payload_whatever_its_length(size):
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    opcode, carried, rest = read_client_frame(wsframes.client_frame(payload))
    assert (opcode, carried, rest) == (wsframes.TEXT, payload, b"")


def test_client_frames_each_get_their_own_mask():
    texts = [json.dumps({"mt": "ReplicateNext", "src": str(n)}) for n in range(50)]
    data, masks, read = wsframes.client_frames(texts), set(), []
    while data:
        masks.add(data[2:6])
        opcode, payload, data = read_client_frame(data)
        read.append(payload.decode())
    assert read == texts and len(masks) > 45    # 4 random bytes each: a repeat among 50 is rare


@pytest.mark.parametrize("size", [3, 126, 70000])
def test_messages_that_arrive_a_few_bytes_at_a_time_are_read_whole(pair, size):
    ours, peer = pair
    text = "x" * size
    reader = wsframes.FrameReader(ours, ours.sendall)
    data = server_frame(text) + server_frame("second")
    peer.sendall(data[:1])
    assert reader.receive(time.monotonic() + 0.05) is None    # a timeout keeps what came
    peer.sendall(data[1:])
    assert reader.receive(soon()) == text
    assert reader.buffered() == "second"
    assert reader.buffered() is None and not reader.pending()


def test_many_messages_in_one_read_are_handed_out_without_reading_again(pair):
    ours, peer = pair
    reader = wsframes.FrameReader(ours, ours.sendall)
    peer.sendall(b"".join(server_frame(json.dumps({"n": n})) for n in range(100)))
    first = reader.receive(soon())
    rest = []
    while reader.pending() and len(rest) < 200:
        rest.append(reader.buffered())
    assert [json.loads(text)["n"] for text in [first] + rest] == list(range(100))


def test_fragments_are_joined_and_a_ping_between_them_is_answered(pair):
    ours, peer = pair
    reader = wsframes.FrameReader(ours, ours.sendall)
    peer.sendall(server_frame("Repl", fin=False) + server_frame(b"ping!", wsframes.PING)
                 + server_frame("icate", wsframes.CONTINUATION, fin=False)
                 + server_frame("Next", wsframes.CONTINUATION))
    assert reader.receive(soon()) == "ReplicateNext"
    opcode, payload, rest = read_client_frame(peer.recv(100))
    assert (opcode, payload, rest) == (wsframes.PONG, b"ping!", b"")


def test_a_masked_frame_from_the_peer_is_still_read(pair):
    ours, peer = pair
    reader = wsframes.FrameReader(ours, ours.sendall)
    peer.sendall(server_frame("masked text", mask=b"\x01\x02\x03\x04"))
    assert reader.receive(soon()) == "masked text"


def test_a_binary_message_is_bytes_and_a_pong_is_ignored(pair):
    ours, peer = pair
    reader = wsframes.FrameReader(ours, ours.sendall)
    peer.sendall(server_frame(b"", wsframes.PONG) + server_frame(b"\x00\xff", wsframes.BINARY))
    assert reader.receive(soon()) == b"\x00\xff"


def test_a_close_frame_is_answered_and_ends_every_later_read(pair):
    ours, peer = pair
    reader = wsframes.FrameReader(ours, ours.sendall)
    peer.sendall(server_frame("last") + server_frame(struct.pack("!H", 1000) + b"bye", wsframes.CLOSE))
    assert reader.receive(soon()) == "last"
    with pytest.raises(wsframes.ClosedByPeer):
        reader.buffered()
    with pytest.raises(wsframes.ClosedByPeer):
        reader.receive(soon())
    opcode, payload, rest = read_client_frame(peer.recv(100))
    assert (opcode, payload, rest) == (wsframes.CLOSE, struct.pack("!H", 1000), b"")


def test_a_socket_closed_by_the_peer_is_closed_by_peer(pair):
    ours, peer = pair
    reader = wsframes.FrameReader(ours, ours.sendall)
    peer.sendall(server_frame("whole") + server_frame("cut off")[:4])
    peer.close()
    assert reader.receive(soon()) == "whole"
    with pytest.raises(wsframes.ClosedByPeer):
        reader.receive(soon())


def test_a_deadline_that_passed_returns_none_without_reading(pair):
    ours, _peer = pair
    reader = wsframes.FrameReader(ours, ours.sendall)
    assert reader.receive(time.monotonic() - 1) is None
