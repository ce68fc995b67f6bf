"""The stream transport: what a turn of the event loop sends goes out in one socket write;
closing writes what is pending first. `new_event_loop` picks uvloop when asked and present."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from execflow.fix.connection import StreamTransport, new_event_loop


class _Writer:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_messages_of_one_loop_turn_go_out_in_one_write() -> None:
    async def case() -> None:
        writer = _Writer()
        transport = StreamTransport(writer)  # type: ignore[arg-type]
        transport.send(b"one")
        transport.send(b"two")
        assert writer.writes == []  # not yet: at the end of this turn
        await asyncio.sleep(0)
        assert writer.writes == [b"onetwo"]
        transport.send(b"three")
        await asyncio.sleep(0)
        transport.send(b"last")
        transport.close()  # pending bytes first, then the close
        assert writer.writes == [b"onetwo", b"three", b"last"] and writer.closed
        transport.send(b"after")
        await asyncio.sleep(0)
        assert writer.writes[-1] == b"last"

    asyncio.run(case())


def test_new_event_loop_uses_uvloop_only_when_wanted_and_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXECFLOW_UVLOOP", "0")
    loop = new_event_loop()
    assert type(loop).__module__.startswith("asyncio")
    loop.close()
    monkeypatch.delenv("EXECFLOW_UVLOOP")
    loop = new_event_loop()
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert type(loop).__module__.startswith(expected)
    loop.close()
