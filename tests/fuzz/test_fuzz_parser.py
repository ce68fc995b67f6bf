"""The fuzz target under Hypothesis: random bytes and mutations of valid messages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from execflow.fix import bench
from tests.fuzz.fuzz_parser import test_one_input as fuzz_one

SEEDS = [bench.sample_execution_report(), bench.sample_new_order_single()]
TOKENS = [
    b"\x01",
    b"=",
    b"8=FIX.4.4\x01",
    b"9=",
    b"10=",
    b"35=",
    b"453=",
    b"95=3\x0196=",
    b"0",
    b"-",
    b"999999999999",
    b"\xff",
    b"\x01\x01",
    b"9=0\x01",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 30))]
    return bytes(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_typed_errors(data: bytes) -> None:
    fuzz_one(data)


@settings(max_examples=600, deadline=None)
@given(mutated())
def test_mutated_messages_raise_only_typed_errors(data: bytes) -> None:
    fuzz_one(data)


@settings(max_examples=200, deadline=None)
@given(mutated())
def test_mutations_with_fixed_checksum(data: bytes) -> None:
    """Re-frame mutated bodies so they get past CheckSum/BodyLength into parse and validate."""
    body_start = data.find(b"35=")
    if body_start < 0:
        return
    body = data[body_start:]
    end = body.rfind(b"10=")
    if end > 0:
        body = body[:end]
    if not body.endswith(b"\x01"):
        body += b"\x01"
    frame = b"8=FIX.4.4\x019=%d\x01" % len(body) + body
    fuzz_one(frame + b"10=%03d\x01" % (sum(frame) & 0xFF))
