"""Our initiator against our acceptor over real loopback TCP sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from execflow.fix.application import SessionID
from execflow.fix.connection import Acceptor, Initiator
from execflow.fix.message import Message
from execflow.fix.session import Session, SessionConfig
from execflow.fix.store import MemoryStoreFactory, MessageStoreFactory, SqliteStoreFactory
from tests.unit.fix.session_harness import RecordingApp, async_test

SERVER = SessionID("FIX.4.4", "VENUE", "EXECFLOW")
CLIENT = SessionID("FIX.4.4", "EXECFLOW", "VENUE")


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def order(cl_ord_id: str) -> Message:
    msg = Message.new("D", (11, cl_ord_id), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"))
    return msg.set(44, Decimal("10.25")).set_timestamp(60, time.time_ns())


class Pair:
    def __init__(
        self,
        server_store: MessageStoreFactory | None = None,
        client_store: MessageStoreFactory | None = None,
        client_id: SessionID = CLIENT,
        heartbeat_s: int = 1,
    ) -> None:
        self.server_app = RecordingApp()
        self.client_app = RecordingApp()
        self.acceptor = Acceptor(
            self.server_app,
            [SessionConfig(SERVER, initiator=False)],
            server_store or MemoryStoreFactory(),
            tick_s=0.05,
            logon_timeout_s=2,
        )
        self.client_id = client_id
        self.client_store = client_store or MemoryStoreFactory()
        self.heartbeat_s = heartbeat_s
        self.initiator: Initiator | None = None

    async def start(self) -> None:
        await self.acceptor.start()
        self.initiator = self.new_initiator()
        await self.initiator.start()

    def new_initiator(self) -> Initiator:
        return Initiator(
            self.client_app,
            [SessionConfig(self.client_id, initiator=True, heartbeat_interval_s=self.heartbeat_s)],
            self.client_store,
            "127.0.0.1",
            self.acceptor.port,
            tick_s=0.05,
            reconnect_interval_s=0.05,
        )

    @property
    def server(self) -> Session:
        return self.acceptor.session(SERVER)

    @property
    def client(self) -> Session:
        assert self.initiator is not None
        return self.initiator.session(self.client_id)

    async def stop(self) -> None:
        if self.initiator is not None:
            await self.initiator.stop()
        await self.acceptor.stop()


@async_test
async def test_logon_orders_heartbeats_and_logout_over_tcp() -> None:
    p = Pair()
    await p.start()
    try:
        await until(lambda: p.server.is_logged_on and p.client.is_logged_on)
        assert p.client.send(order("C1"))
        await until(lambda: len(p.server_app.app_messages) == 1)
        received = p.server_app.app_messages[0]
        assert received.get_str(11) == "C1" and received.get_decimal(44) == Decimal("10.25")
        er = Message.new("8", (37, "V1"), (17, "E1"), (150, "0"), (39, "0"), (55, "AAPL"))
        er.set(11, "C1").set(54, "1").set(151, 100).set(14, 0).set(6, 0)
        assert p.server.send(er)
        await until(lambda: len(p.client_app.app_messages) == 1)
        # heartbeats flow on a 1 s interval without anyone disconnecting
        await asyncio.sleep(1.3)
        assert any(m.msg_type == "0" for m in p.server_app.admin_messages)
        assert p.server.is_logged_on and p.client.is_logged_on
    finally:
        await p.stop()
    await until(lambda: not p.server.is_connected)
    assert ("logout", str(SERVER)) in p.server_app.events
    assert ("logout", str(CLIENT)) in p.client_app.events


@async_test
async def test_unknown_comp_id_is_refused() -> None:
    p = Pair(client_id=SessionID("FIX.4.4", "STRANGER", "VENUE"))
    await p.start()
    try:
        await asyncio.sleep(0.3)
        assert not p.client.is_logged_on and not p.server.is_connected
    finally:
        await p.stop()


@async_test
async def test_reconnect_resumes_sequence_numbers_and_resends_from_sqlite() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        server_db = SqliteStoreFactory(Path(tmp) / "server.db")
        client_db = SqliteStoreFactory(Path(tmp) / "client.db")
        p = Pair(server_store=server_db, client_store=client_db)
        await p.start()
        try:
            await until(lambda: p.server.is_logged_on and p.client.is_logged_on)
            p.client.send(order("A1"))
            await until(lambda: len(p.server_app.app_messages) == 1)
            # the venue drops the connection; the initiator reconnects by itself
            await p.server.disconnect("test drop")
            await until(lambda: not p.client.is_logged_on)
            assert not p.client.send(order("WHILE-DOWN"))  # stored, sent on resend
            await until(lambda: p.server.is_logged_on and p.client.is_logged_on)
            await until(lambda: len(p.server_app.app_messages) == 2)
            resent = p.server_app.app_messages[1]
            assert resent.get_str(11) == "WHILE-DOWN" and resent.get(43) == b"Y"
        finally:
            await p.stop()
        # a full restart from the database: numbers continue
        sender_seq = p.client.store.next_sender_seq()
        p2 = Pair(server_store=server_db, client_store=SqliteStoreFactory(Path(tmp) / "client.db"))
        await p2.start()
        try:
            await until(lambda: p2.server.is_logged_on and p2.client.is_logged_on)
            assert p2.client.store.next_sender_seq() == sender_seq + 1
            p2.client.send(order("AFTER-RESTART"))
            await until(lambda: len(p2.server_app.app_messages) == 1)
        finally:
            await p2.stop()


@async_test
async def test_initiator_retries_until_acceptor_is_up() -> None:
    p = Pair()
    await p.acceptor.start()
    port = p.acceptor.port
    await p.acceptor.stop()
    p.initiator = p.new_initiator()
    p.initiator.port = port
    await p.initiator.start()
    await asyncio.sleep(0.2)
    assert not p.client.is_logged_on
    p.acceptor = Acceptor(
        p.server_app,
        [SessionConfig(SERVER, initiator=False)],
        MemoryStoreFactory(),
        port=port,
        tick_s=0.05,
    )
    await p.acceptor.start()
    try:
        await until(lambda: p.client.is_logged_on, timeout=10)
    finally:
        await p.stop()
