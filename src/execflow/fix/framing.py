"""Split a TCP byte stream into FIX messages.

Feed it whatever `read()` returned; take complete messages out with `next_frame()`. Partial
messages wait for more bytes. Bad input is dropped and reported with a typed error, after which
the framer is ready to go on: bytes before `8=FIX` (FixGarbageError), a missing, malformed or
wrong BodyLength (FixBodyLengthError: the framer re-synchronises on the next `8=FIX`), and a
wrong CheckSum (FixChecksumError: the whole frame is dropped). A session treats all of them as
garbled messages: ignored, no sequence number consumed.
"""

from __future__ import annotations

from typing import Final

from execflow.fix.errors import FixBodyLengthError, FixChecksumError, FixGarbageError

_START: Final = b"8=FIX"
_MAX_BEGIN_STRING: Final = 32
_MAX_LENGTH_DIGITS: Final = 10


class StreamFramer:
    """Incremental framer. Not thread-safe; one per connection."""

    __slots__ = ("_buf", "max_body_length")

    def __init__(self, max_body_length: int = 1 << 20) -> None:
        self._buf = bytearray()
        self.max_body_length = max_body_length

    def __len__(self) -> int:
        """Bytes buffered and not yet framed."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._buf += data

    def frames(self) -> list[bytes]:
        """All complete frames now available, skipping (and not reporting) bad input."""
        out: list[bytes] = []
        while True:
            try:
                frame = self.next_frame()
            except (FixGarbageError, FixBodyLengthError, FixChecksumError):
                continue
            if frame is None:
                return out
            out.append(frame)

    def next_frame(self) -> bytes | None:
        """The next complete message, or None if more bytes are needed."""
        buf = self._buf
        if not buf.startswith(_START):
            start = buf.find(_START)
            if start < 0:
                keep = len(_START) - 1  # a start marker may be split across reads
                if len(buf) <= keep:
                    return None
                garbage = bytes(buf[:-keep])
                del buf[:-keep]
                raise FixGarbageError(f"discarded {len(garbage)} bytes before 8=FIX", garbage)
            garbage = bytes(buf[:start])
            del buf[:start]
            raise FixGarbageError(f"discarded {len(garbage)} bytes before 8=FIX", garbage)

        soh1 = buf.find(b"\x01", 0, _MAX_BEGIN_STRING)
        if soh1 < 0:
            if len(buf) >= _MAX_BEGIN_STRING:
                self._resync("BeginString (8) too long or not terminated")
            return None
        if len(buf) < soh1 + 3:
            return None
        if buf[soh1 + 1 : soh1 + 3] != b"9=":
            self._resync("BodyLength (9) must follow BeginString (8)")
        len_start = soh1 + 3
        soh2 = buf.find(b"\x01", len_start, len_start + _MAX_LENGTH_DIGITS + 1)
        if soh2 < 0:
            if len(buf) > len_start + _MAX_LENGTH_DIGITS:
                self._resync("BodyLength (9) too long or not terminated")
            return None
        length_b = bytes(buf[len_start:soh2])
        if not length_b.isdigit():
            self._resync(f"BodyLength {length_b!r} is not a number")
        body_length = int(length_b)
        if body_length > self.max_body_length:
            self._resync(f"BodyLength {body_length} exceeds {self.max_body_length}")
        end = soh2 + 1 + body_length  # start of "10="
        total = end + 7
        if len(buf) < total:
            return None
        if buf[end : end + 3] != b"10=" or buf[total - 1] != 1:
            self._resync(f"BodyLength {body_length} does not end at CheckSum (10)")
        frame = bytes(buf[:total])
        del buf[:total]
        expected = sum(frame[:end]) & 0xFF
        if frame[end + 3 : end + 6] != b"%03d" % expected:
            raise FixChecksumError(
                f"CheckSum is {frame[end + 3 : end + 6]!r}, expected {expected:03d}", frame
            )
        return frame

    def _resync(self, why: str) -> None:
        """Drop this message start and everything up to the next 8=FIX; always raises."""
        buf = self._buf
        nxt = buf.find(_START, 1)
        cut = nxt if nxt > 0 else max(1, len(buf) - (len(_START) - 1))
        dropped = bytes(buf[:cut])
        del buf[:cut]
        raise FixBodyLengthError(f"{why}; discarded {len(dropped)} bytes", dropped)
