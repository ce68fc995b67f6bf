"""Stream framer: partial reads, garbage, bad checksum, bad body length."""

from __future__ import annotations

import pytest

from execflow.fix.errors import FixBodyLengthError, FixChecksumError, FixGarbageError
from execflow.fix.framing import StreamFramer
from tests.unit.fix.helpers import wire

M1 = wire("8=FIX.4.4|35=0|49=A|56=B|34=1|52=20240101-00:00:00")
M2 = wire("8=FIX.4.4|35=1|49=A|56=B|34=2|52=20240101-00:00:01|112=T")


def test_byte_by_byte_feeding() -> None:
    framer = StreamFramer()
    out = []
    for b in M1 + M2:
        framer.feed(bytes([b]))
        frame = framer.next_frame()
        if frame is not None:
            out.append(frame)
    assert out == [M1, M2]
    assert len(framer) == 0


def test_many_messages_in_one_read() -> None:
    framer = StreamFramer()
    framer.feed(M1 + M2 + M1[:10])
    assert framer.frames() == [M1, M2]
    framer.feed(M1[10:])
    assert framer.next_frame() == M1


def test_garbage_before_message_is_reported_and_skipped() -> None:
    framer = StreamFramer()
    framer.feed(b"junk\x01junk" + M1)
    with pytest.raises(FixGarbageError) as info:
        framer.next_frame()
    assert info.value.data == b"junk\x01junk"
    assert framer.next_frame() == M1


def test_garbage_without_start_keeps_possible_partial_marker() -> None:
    framer = StreamFramer()
    framer.feed(b"xxxxxxxx8=F")
    with pytest.raises(FixGarbageError):
        framer.next_frame()
    framer.feed(M1[3:])
    assert framer.frames() == [M1]


def test_bad_checksum_drops_the_frame() -> None:
    bad = M1[:-4] + b"%03d\x01" % ((int(M1[-4:-1]) + 1) % 256)
    framer = StreamFramer()
    framer.feed(bad + M2)
    with pytest.raises(FixChecksumError) as info:
        framer.next_frame()
    assert info.value.data == bad
    assert framer.next_frame() == M2


@pytest.mark.parametrize(
    "bad",
    [
        M1.replace(b"\x019=", b"\x019=x", 1),
        M1.replace(b"\x019=", b"\x0135=0\x019=", 1),
        b"8=FIX.4.4\x019=99999999999\x01",
    ],
)
def test_bad_body_length_resyncs_on_next_message(bad: bytes) -> None:
    framer = StreamFramer(max_body_length=4096)
    framer.feed(bad + M2)
    with pytest.raises(FixBodyLengthError):
        while framer.next_frame() is not None:
            pass
    assert framer.frames() == [M2]


def test_too_short_body_length() -> None:
    bad = M1.replace(b"9=%d" % (len(M1) - M1.index(b"35=") - 7), b"9=10", 1)
    framer = StreamFramer()
    framer.feed(bad + M2)
    assert framer.frames() == [M2]


def test_too_long_body_length_resyncs_once_enough_bytes_arrived() -> None:
    bad = M1.replace(b"9=", b"9=1", 1)  # ~1100 bytes: swallows what follows
    framer = StreamFramer()
    framer.feed(bad + M2)
    assert framer.next_frame() is None  # cannot know yet
    framer.feed(M2 * 20)
    with pytest.raises(FixBodyLengthError):
        framer.next_frame()
    assert framer.frames() == [M2] * 21
