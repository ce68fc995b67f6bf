"""Script-driven harness for FIX sessions: feed the counterparty's messages, expect ours.

Deterministic: an in-memory transport and a simulated clock; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from execflow.adapters.clock import SimulatedClock
from execflow.fix import codec
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.message import FieldValue, Message
from execflow.fix.session import Session, SessionConfig
from execflow.fix.store import MemoryStore

T0 = 1_704_110_400_000_000_000  # 2024-01-01T12:00:00Z
NS = 1_000_000_000


def async_test(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    @functools.wraps(fn)
    def run() -> None:
        asyncio.run(fn())

    return run


class MemoryTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True


class RecordingApp(BaseApplication):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.app_messages: list[Message] = []
        self.admin_messages: list[Message] = []
        self.on_from_app: Callable[[Message], None] | None = None

    def on_logon(self, session_id: SessionID) -> None:
        self.events.append(("logon", str(session_id)))

    def on_logout(self, session_id: SessionID) -> None:
        self.events.append(("logout", str(session_id)))

    async def from_app(self, message: Message, session_id: SessionID) -> None:
        await asyncio.sleep(0)  # async callbacks are awaited
        if self.on_from_app is not None:
            self.on_from_app(message)
        self.app_messages.append(message)

    def from_admin(self, message: Message, session_id: SessionID) -> None:
        self.admin_messages.append(message)


class Script:
    """One session (ours: SERVER, or CLIENT when initiator) and a scripted counterparty."""

    def __init__(self, *, initiator: bool = False, **overrides: Any) -> None:
        ours, theirs = ("CLIENT", "SERVER") if initiator else ("SERVER", "CLIENT")
        self.ours, self.theirs = ours, theirs
        self.clock = SimulatedClock(T0)
        self.app = RecordingApp()
        self.store = MemoryStore(T0)
        config = SessionConfig(SessionID("FIX.4.4", ours, theirs), initiator=initiator)
        self.config = replace(config, **overrides)
        self.session = Session(self.config, self.app, self.store, self.clock.now_ns)
        self.transport = MemoryTransport()
        self.peer_seq = 1
        self._read = 0

    # -- counterparty side
    def frame(
        self,
        msg_type: str,
        *fields: tuple[int, FieldValue],
        seq: int | None = None,
        sending_ns: int | None = None,
        sender: str | None = None,
        target: str | None = None,
        poss_dup: bool = False,
        orig_sending_ns: int | None = None,
    ) -> bytes:
        if seq is None:
            seq = self.peer_seq
            self.peer_seq += 1
        msg = Message.new(msg_type)
        msg.set(49, sender or self.theirs).set(56, target or self.ours).set(34, seq)
        msg.set_timestamp(52, self.clock.now_ns() if sending_ns is None else sending_ns)
        if poss_dup:
            msg.set(43, True)
            if orig_sending_ns is not None:
                msg.set_timestamp(122, orig_sending_ns)
        for tag, value in fields:
            msg.set(tag, value)
        return codec.encode(msg, "FIX.4.4")

    async def recv(self, msg_type: str, *fields: tuple[int, FieldValue], **kw: Any) -> None:
        await self.session.on_frame(self.frame(msg_type, *fields, **kw))

    async def connect(self) -> None:
        await self.session.on_connect(self.transport)

    async def logon(self) -> None:
        """Connect and complete a normal logon."""
        await self.connect()
        hb = self.config.heartbeat_interval_s
        if self.config.initiator:
            self.expect("A")
            await self.recv("A", (98, 0), (108, hb))
        else:
            await self.recv("A", (98, 0), (108, hb))
            self.expect("A")
        assert self.session.is_logged_on

    async def tick(self, seconds: float) -> None:
        self.clock.advance(int(seconds * NS))
        await self.session.on_timer()

    # -- our side
    def outgoing(self) -> list[Message]:
        new = self.transport.sent[self._read :]
        self._read = len(self.transport.sent)
        return [codec.parse(raw) for raw in new]

    def expect(self, msg_type: str, **fields: str | int) -> Message:
        out = self.outgoing()
        assert out, f"expected 35={msg_type}, nothing was sent"
        msg, rest = out[0], out[1:]
        self._read -= len(rest)
        assert msg.msg_type == msg_type, f"expected 35={msg_type}, got {msg.to_text()}"
        for key, value in fields.items():
            tag = int(key.removeprefix("t"))
            assert msg.get(tag) == str(value).encode(), f"tag {tag}: {msg.to_text()}"
        return msg

    def expect_nothing(self) -> None:
        out = self.outgoing()
        assert not out, f"unexpected: {[m.to_text() for m in out]}"
