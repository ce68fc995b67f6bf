"""Test rig of the FIX session conformance suite.

- `Peer`: a scripted counterparty over TCP. It writes raw frames (fields in exactly the order
  and form a case needs, BodyLength and CheckSum computed unless overridden) and reads what the
  engine under test sends, one parsed message at a time, with generous timeouts.
- `acceptor_rig`: execflow's acceptor with an echo application, on a loopback port, with a
  simulated clock shared with the peer (SendingTime checks never depend on machine load;
  heartbeat and TestRequest timing advance the clock, the acceptor's timer ticks see it).
- `ScriptedAcceptor`: a listening socket for the initiator cases: the engine under test is
  execflow's initiator, the test plays the acceptor.

"Nothing was sent" is shown without sleeping: `Peer.barrier()` sends a TestRequest with a fresh
TestReqID and requires the matching Heartbeat to be the very next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from execflow.adapters.clock import SimulatedClock
from execflow.fix import admin, codec
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.connection import Acceptor
from execflow.fix.errors import (
    BusinessRejectReason,
    FixBusinessRejectError,
    FixValidationError,
)
from execflow.fix.framing import StreamFramer
from execflow.fix.message import Message
from execflow.fix.session import Session
from execflow.fix.store import MemoryStoreFactory
from execflow.fix.types import format_utc_timestamp
from execflow.fix.validation import ValidationConfig

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
NS = 1_000_000_000
TIMEOUT_S = 15.0  # real seconds for anything to arrive on a loaded machine
VERSIONS = ("FIX.4.4", "FIXT.1.1")
OURS, THEIRS = "EXECFLOW", "CLIENT"
HEADER_TAGS = frozenset({8, 9, 10, 34, 43, 49, 52, 56, 97, 115, 116, 122, 128, 129, 144, 145})

Field = tuple[int | str, str | int]


def frame(
    begin: str,
    fields: Sequence[Field],
    *,
    body_length: int | None = None,
    checksum: str | None = None,
) -> bytes:
    """8=begin|9=len|<fields in the order given>|10=sum (SOH separated)."""
    body = b"".join(f"{t}={v}".encode("latin-1") + b"\x01" for t, v in fields)
    head = (
        b"8="
        + begin.encode()
        + b"\x019=%d\x01" % (len(body) if body_length is None else body_length)
    )
    msg = head + body
    total = checksum if checksum is not None else f"{sum(msg) & 0xFF:03d}"
    return msg + f"10={total}".encode() + b"\x01"


class Peer:
    """The scripted counterparty of one TCP connection."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        begin: str,
        clock: SimulatedClock,
        *,
        sender: str = THEIRS,
        target: str = OURS,
    ) -> None:
        self.reader, self.writer = reader, writer
        self.begin, self.clock = begin, clock
        self.sender, self.target = sender, target
        self.seq = 1
        self.framer = StreamFramer()
        self.received: list[Message] = []
        self._ids = itertools.count(1)

    @property
    def fixt(self) -> bool:
        return self.begin == "FIXT.1.1"

    def now(self, offset_s: float = 0) -> str:
        return format_utc_timestamp(self.clock.now_ns() + int(offset_s * NS), 3).decode()

    # ------------------------------------------------------------------ sending
    def build(
        self,
        msg_type: str,
        *body: Field,
        seq: int | None = None,
        header: Sequence[Field] = (),
        sending: str | None = None,
        sender: str | None = None,
        target: str | None = None,
        begin: str | None = None,
        body_length: int | None = None,
        checksum: str | None = None,
    ) -> bytes:
        """A message: 35, 34 (next number unless given), 49, 52 (now), 56, extra header
        fields, body. An explicit `seq` does not move the peer's counter."""
        if seq is None:
            seq = self.seq
            self.seq += 1
        fields: list[Field] = [
            (35, msg_type),
            (34, seq),
            (49, self.sender if sender is None else sender),
            (52, self.now() if sending is None else sending),
            (56, self.target if target is None else target),
            *header,
            *body,
        ]
        return frame(
            begin or self.begin,
            [f for f in fields if f[1] is not None],
            body_length=body_length,
            checksum=checksum,
        )

    async def send(self, msg_type: str, *body: Field, **kw: Any) -> None:
        await self.send_raw(self.build(msg_type, *body, **kw))

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def logon(
        self,
        *extra: Field,
        heartbeat: int = 30,
        seq: int | None = None,
        reset: bool = False,
        expect_reset: bool | None = None,
    ) -> Message:
        """Send a Logon and expect the Logon answer (141=Y only when we asked for a reset)."""
        body: list[Field] = [(98, 0), (108, heartbeat)]
        if reset:
            body.append((141, "Y"))
        if self.fixt:
            body.append((1137, 9))
        await self.send("A", *body, *extra, seq=seq)
        if seq is not None:
            self.seq = seq + 1
        want_reset = reset if expect_reset is None else expect_reset
        reply = await self.expect("A", t108=heartbeat, t98=0)
        assert (reply.get(141) == b"Y") is want_reset, reply.to_text()
        if self.fixt:
            assert reply.get(1137) == b"9", reply.to_text()
        return reply

    # ------------------------------------------------------------------ receiving
    async def next(self, timeout_s: float = TIMEOUT_S) -> Message | None:
        """The next message from the engine, or None when it closed the connection."""
        async with asyncio.timeout(timeout_s):
            while True:
                data = self.framer.next_frame()
                if data is not None:
                    msg = codec.parse(data)
                    self.received.append(msg)
                    return msg
                try:
                    chunk = await self.reader.read(65536)
                except ConnectionResetError:  # closed with our bytes unread: a disconnect too
                    return None
                if not chunk:
                    return None
                self.framer.feed(chunk)

    async def expect(
        self, msg_type: str, *, absent: Sequence[int] = (), **tags: str | int
    ) -> Message:
        """The next message is of `msg_type` with these field values (t<tag>=value) and
        without the `absent` tags. Header fields are checked for every message: our CompIDs
        reversed, BeginString, a SendingTime."""
        msg = await self.next()
        assert msg is not None, f"expected 35={msg_type}, the connection was closed"
        assert msg.msg_type == msg_type, f"expected 35={msg_type}, got {msg.to_text()}"
        assert msg.get(8) == self.begin.encode(), msg.to_text()
        assert msg.get(49) == self.target.encode() and msg.get(56) == self.sender.encode()
        assert msg.get(52), msg.to_text()
        for key, value in tags.items():
            tag = int(key.removeprefix("t"))
            assert msg.get(tag) == str(value).encode(), f"tag {tag}: {msg.to_text()}"
        for tag in absent:
            assert tag not in msg, f"tag {tag} present: {msg.to_text()}"
        return msg

    async def expect_reject(
        self, ref_seq: int, reason: int, ref_tag: int | None, ref_msg_type: str, **tags: str | int
    ) -> Message:
        """A session-level Reject (35=3) with RefSeqNum, SessionRejectReason, RefTagID (None:
        not checked) and RefMsgType, and a Text."""
        extra: dict[str, str | int] = {"t45": ref_seq, "t373": reason, "t372": ref_msg_type}
        if ref_tag is not None:
            extra["t371"] = ref_tag
        msg = await self.expect("3", **extra, **tags)
        assert msg.get(58), f"a Reject says why: {msg.to_text()}"
        return msg

    async def expect_disconnect(self) -> None:
        """The engine closes the connection; nothing else arrives first."""
        msg = await self.next()
        assert msg is None, f"expected a disconnect, got {msg.to_text()}"

    async def barrier(self) -> None:
        """Prove that nothing was sent since the last expectation: a TestRequest with a fresh
        id must be answered by the very next message."""
        test_id = f"BARRIER-{next(self._ids)}"
        await self.send("1", (112, test_id))
        await self.expect("0", t112=test_id)

    async def logout(self) -> None:
        """Send a Logout, expect the Logout answer and the disconnect."""
        await self.send("5")
        await self.expect("5")
        await self.expect_disconnect()

    def close(self) -> None:
        self.writer.close()


# ---------------------------------------------------------------------- the echo application
class EchoApplication(BaseApplication):
    """The application of the acceptance cases: echoes NewOrderSingle (D) back, ignores a
    PossResend (97=Y) copy of an order it has seen, answers a limit order without a Price with
    BusinessMessageReject 380=5 (conditionally required field missing) and every other
    application MsgType with BusinessMessageReject 380=3 (unsupported). The echo carries the
    routing fields of the order reversed (OnBehalfOf* <-> DeliverTo*)."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.app_messages: list[Message] = []
        self.admin_messages: list[Message] = []
        self.rejected: list[tuple[Message, FixValidationError]] = []
        self.events: list[str] = []
        self.available = True  # False: from_app fails, as an application that is down would
        self._seen_orders: set[bytes] = set()

    def on_logon(self, session_id: SessionID) -> None:
        self.events.append("logon")

    def on_logout(self, session_id: SessionID) -> None:
        self.events.append("logout")

    def from_admin(self, message: Message, session_id: SessionID) -> None:
        self.admin_messages.append(message)

    def on_reject(self, message: Message, error: FixValidationError, session_id: SessionID) -> None:
        self.rejected.append((message, error))

    def from_app(self, message: Message, session_id: SessionID) -> None:
        if not self.available:
            raise ConnectionError("the order engine is not reachable")
        self.app_messages.append(message)
        if message.msg_type != "D":
            raise FixBusinessRejectError(
                BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE, "Unsupported Message Type"
            )
        cl_ord_id = message.get(11) or b""
        if message.get(97) == b"Y" and cl_ord_id in self._seen_orders:
            return  # a possible resend of an order already handled: ignore it
        self._seen_orders.add(cl_ord_id)
        if message.get(40) == b"2" and 44 not in message:
            raise FixBusinessRejectError(
                BusinessRejectReason.CONDITIONALLY_REQUIRED_FIELD_MISSING,
                "Conditionally required field missing: Price (44) of a limit order",
                cl_ord_id.decode("latin-1"),
            )
        echo = message.copy()
        for tag in HEADER_TAGS:
            echo.remove(tag)
        admin.reverse_route(message, echo)  # third-party addressing: the answer goes back
        assert self.session is not None
        self.session.send(echo)


# ---------------------------------------------------------------------- acceptor rig
@dataclass
class AcceptorRig:
    begin: str
    acceptor: Acceptor
    clock: SimulatedClock
    app: EchoApplication
    peers: list[Peer] = field(default_factory=list)
    client_tls: ssl.SSLContext | None = None

    @property
    def session(self) -> Session:
        return self.acceptor.session(SessionID(self.begin, OURS, THEIRS))

    async def connect(self, **kw: Any) -> Peer:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", self.acceptor.port, ssl=self.client_tls
        )
        peer = Peer(reader, writer, self.begin, self.clock, **kw)
        self.peers.append(peer)
        return peer

    async def logged_on(self, **kw: Any) -> Peer:
        """Connect and log on (no reset asked for)."""
        peer = await self.connect()
        await peer.logon(**kw)
        return peer

    async def advance(self, seconds: float) -> None:
        """Move the simulated clock and run the session's timer once at the new time (the
        acceptor's own ticks would see it too, but later and at no known moment)."""
        self.clock.advance(int(seconds * NS))
        await self.session.on_timer()


def session_config(begin: str, **overrides: Any) -> SessionConfig:
    """Our side of the acceptance cases: CompIDs fixed, reset on logon, user-defined fields
    not allowed (tag 5000 is an invalid tag number), everything else per the specification."""
    base = SessionConfig(
        SessionID(begin, OURS, THEIRS),
        initiator=False,
        reset_on_logon=True,
        validation=ValidationConfig(allow_user_defined_fields=False),
        logout_timeout_s=2.0,
    )
    return replace(base, **overrides)


@contextlib.asynccontextmanager
async def acceptor_rig(
    begin: str, *, tls: tuple[ssl.SSLContext, ssl.SSLContext] | None = None, **overrides: Any
) -> AsyncIterator[AcceptorRig]:
    """`tls`: (server context, client context): the acceptor listens with TLS and the peers
    connect with it."""
    clock = SimulatedClock(T0)
    app = EchoApplication()
    acceptor = Acceptor(
        app,
        [session_config(begin, **overrides)],
        MemoryStoreFactory(),
        port=0,
        now_ns=clock.now_ns,
        tick_s=0.02,
        logon_timeout_s=3600.0,  # "at once" must not mean "at the logon timeout"
        ssl_context=tls[0] if tls else None,
    )
    rig = AcceptorRig(begin, acceptor, clock, app, client_tls=tls[1] if tls else None)
    app.session = rig.session
    await acceptor.start()
    try:
        yield rig
    finally:
        for peer in rig.peers:
            peer.close()
        await acceptor.stop(timeout_s=0.5)


# ---------------------------------------------------------------------- initiator cases
class ScriptedAcceptor:
    """A listening socket on loopback; `accept()` returns the Peer of the next connection
    (the test plays the acceptor: our initiator's CompIDs are the peer's target)."""

    def __init__(
        self, begin: str, clock: SimulatedClock, tls: ssl.SSLContext | None = None
    ) -> None:
        self.begin, self.clock, self.tls = begin, clock, tls
        self._conns: asyncio.Queue[Peer] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self.port = 0
        self.peers: list[Peer] = []

    async def start(self) -> None:
        async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            peer = Peer(r, w, self.begin, self.clock, sender=THEIRS, target=OURS)
            self.peers.append(peer)
            await self._conns.put(peer)

        self._server = await asyncio.start_server(on_conn, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def accept(self) -> Peer:
        async with asyncio.timeout(TIMEOUT_S):
            return await self._conns.get()

    async def stop(self) -> None:
        for peer in self.peers:
            peer.close()
        if self._server is not None:
            self._server.close()
