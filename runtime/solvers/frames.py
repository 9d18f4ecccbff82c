"""Length-prefixed frames on the solver pool's pipes.

A frame is a 4-byte big-endian signed length and that many bytes: the format
``multiprocessing.connection.Connection`` uses for messages under 2 GiB, so either end may
still use ``Connection.send`` / ``recv`` (the start-up handshake does). The pool reads whatever
a pipe holds in one ``os.read`` and splits it here, instead of ``Connection.recv``'s two reads
and two buffer copies per message; with prefetch, one read often holds several answers.
"""

from __future__ import annotations

import os
import struct

HEADER = struct.Struct("!i")
READ_SIZE = 64 * 1024


def frame(payload: bytes) -> bytes:
    """``payload`` with its length in front."""
    return HEADER.pack(len(payload)) + payload


class FrameReader:
    """Splits a byte stream into frames; bytes of an incomplete frame wait for the next feed."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def pending(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """The frames completed by ``data`` (in order). Raises ValueError on a negative length
        (the stream is not frames, or lost its framing)."""
        if not self._buffer:  # the common case: whole frames only, no copy into the buffer
            frames, used = _split(data)
            if used < len(data):
                self._buffer += memoryview(data)[used:]
            return frames
        self._buffer += data
        frames, used = _split(self._buffer)
        del self._buffer[:used]
        return frames


def _split(data: bytes | bytearray) -> tuple[list[bytes], int]:
    frames: list[bytes] = []
    position, end = 0, len(data)
    while end - position >= HEADER.size:
        (size,) = HEADER.unpack_from(data, position)
        if size < 0:
            raise ValueError(f"a frame cannot have a negative length ({size})")
        stop = position + HEADER.size + size
        if stop > end:
            break
        frames.append(bytes(data[position + HEADER.size : stop]))
        position = stop
    return frames, position


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a blocking file descriptor."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
