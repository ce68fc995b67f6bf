"""A logged-on session fed arbitrary (correctly framed) junk never raises and stays sane."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.fix.session_harness import Script

FIELDS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                7,
                16,
                34,
                35,
                36,
                43,
                45,
                49,
                52,
                56,
                58,
                108,
                112,
                122,
                123,
                141,
                11,
                54,
                453,
                448,
                95,
                96,
                9999,
            ]
        ),
        st.sampled_from(
            [
                "",
                "0",
                "1",
                "2",
                "5",
                "A",
                "D",
                "Y",
                "N",
                "x",
                "-1",
                "99999999",
                "20240101-12:00:00",
                "CLIENT",
                "SERVER",
            ]
        ),
    ),
    max_size=12,
)


def frame(fields: list[tuple[int, str]]) -> bytes:
    body = b"".join(b"%d=%s\x01" % (t, v.encode()) for t, v in fields) or b"35=0\x01"
    head = b"8=FIX.4.4\x019=%d\x01" % len(body)
    return head + body + b"10=%03d\x01" % (sum(head + body) & 0xFF)


@settings(max_examples=200, deadline=None)
@given(st.lists(FIELDS, min_size=1, max_size=5), st.booleans())
def test_session_survives_junk(messages: list[list[tuple[int, str]]], validate: bool) -> None:
    async def scenario() -> None:
        s = Script(validate=validate)
        await s.logon()
        for fields in messages:
            await s.session.on_frame(frame(fields))
            await s.tick(1)
        assert s.store.next_target_seq() >= 2
        for raw in s.transport.sent:
            assert raw.startswith(b"8=FIX.4.4\x01")

    asyncio.run(scenario())
