# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""WebSocket frames (RFC 6455 section 5) on the socket of an open websocket-client connection.

Why not websocket-client's own send() and recv(): a PbxTableUsers replication is one message per row, and
websocket-client reads each frame with three system calls and builds each frame it sends in pure Python; for a table
of thousands of users that cost more than the rest of the module. Here a read takes whatever the socket holds (up to
CHUNK bytes) and every whole message in it is handed out without another system call; the handshake stays
websocket-client's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import struct
import time

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CHUNK = 1 << 16
FIN = 0x80
MASKED = 0x80


class ClosedByPeer(Exception):
    """The peer sent a close frame (answered) or closed the socket."""


def masked(data, mask):
    """`data` XOR the 4-byte `mask` repeated (RFC 6455 5.3), as one big-integer operation."""
    if not data:
        return b""
    length = len(data)
    key = (mask * (length // 4 + 1))[:length]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")


def client_frame(payload, opcode=TEXT, mask=None):
    """One final frame from client to server, masked with a fresh key (`mask`, or 4 random bytes) as RFC 6455 5.1
    requires of a client."""
    if not isinstance(payload, bytes):
        payload = payload.encode("utf-8")
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", FIN | opcode, MASKED | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", FIN | opcode, MASKED | 126, length)
    else:
        head = struct.pack("!BBQ", FIN | opcode, MASKED | 127, length)
    if mask is None:
        mask = os.urandom(4)
    return head + mask + masked(payload, mask)


def client_frames(payloads):
    """client_frame() of each of `payloads`, joined: one call for the random keys of all."""
    keys = os.urandom(4 * len(payloads))
    return b"".join(client_frame(payload, TEXT, keys[4 * index:4 * index + 4])
                    for index, payload in enumerate(payloads))


class FrameReader:
    """The messages arriving on `sock`, whole (fragments joined), pings answered with `send(bytes)`."""

    def __init__(self, sock, send):
        self._sock = sock
        self._send = send
        self._buffer = bytearray()
        self._start = 0         # where the next frame begins in the buffer: taken frames are cut off per read
        self._fragments = []
        self._fragment_opcode = None
        self._closed = False

    def pending(self):
        """Whether bytes of a message wait here (a select() on the socket would not show them)."""
        return len(self._buffer) > self._start

    def buffered(self):
        """The next whole message already received (str for text, bytes for binary), or None: never reads the
        socket. ClosedByPeer for a close frame, and for every call after it."""
        if self._closed:
            raise ClosedByPeer("the peer closed the connection")
        while True:
            frame = self._frame()
            if frame is None:
                return None
            message = self._message(*frame)
            if message is not None:
                return message

    def receive(self, deadline):
        """The next whole message, reading the socket until the time.monotonic() `deadline`; None when it passed
        (what came so far stays buffered). ClosedByPeer when the peer closed; OSError as the socket raises it."""
        while True:
            message = self.buffered()
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._sock.settimeout(remaining)
            try:
                data = self._sock.recv(CHUNK)
            except socket.timeout:
                return None
            if not data:
                raise ClosedByPeer("the connection was closed")
            del self._buffer[:self._start]
            self._start = 0
            self._buffer += data

    def _frame(self):
        """(fin, opcode, payload) of the next whole frame in the buffer, taken out of it; None if none is whole."""
        buffer, begin = self._buffer, self._start
        size = len(buffer) - begin
        if size < 2:
            return None
        first, second = buffer[begin], buffer[begin + 1]
        length, start = second & 0x7F, begin + 2
        if length == 126:
            if size < 4:
                return None
            length, start = struct.unpack_from("!H", buffer, begin + 2)[0], begin + 4
        elif length == 127:
            if size < 10:
                return None
            length, start = struct.unpack_from("!Q", buffer, begin + 2)[0], begin + 10
        mask = None
        if second & MASKED:     # a server does not mask (RFC 6455 5.1), but a masked frame is still readable
            if len(buffer) < start + 4:
                return None
            mask, start = bytes(buffer[start:start + 4]), start + 4
        end = start + length
        if len(buffer) < end:
            return None
        payload = bytes(buffer[start:end])
        self._start = end
        if mask is not None:
            payload = masked(payload, mask)
        return first & FIN, first & 0x0F, payload

    def _message(self, fin, opcode, payload):
        """A whole message once its last fragment came; None for control frames and fragments."""
        if opcode == PING:
            self._send(client_frame(payload, PONG))
            return None
        if opcode == PONG:
            return None
        if opcode == CLOSE:
            self._closed = True
            try:
                self._send(client_frame(payload[:2], CLOSE))
            except OSError:
                pass    # the peer may have gone already: it is closed either way
            raise ClosedByPeer("the peer closed the connection")
        if opcode != CONTINUATION:
            self._fragments, self._fragment_opcode = [], opcode
        self._fragments.append(payload)
        if not fin:
            return None
        data, opcode = b"".join(self._fragments), self._fragment_opcode
        self._fragments, self._fragment_opcode = [], None
        return data.decode("utf-8") if opcode == TEXT else data
