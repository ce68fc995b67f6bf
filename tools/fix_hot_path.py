"""The FIX round trip in one thread, for instruction counts that do not depend on machine load.

A NewOrderSingle frame goes through our acceptor session, the order gateway, the engine and the
paper venue (run inline, no engine thread) and comes back as an ExecutionReport encoded to an
in-memory transport. Compare two trees by instructions per round trip:

    valgrind --tool=callgrind python tools/fix_hot_path.py 0     # set-up only
    valgrind --tool=callgrind python tools/fix_hot_path.py 300   # set-up + 300 round trips
    (difference of the two "Collected" counts) / 300

(PYTHONPATH=<other tree>/src runs another version of execflow with the same script.)
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal
from typing import Any

from execflow.adapters.clock import WallClock
from execflow.adapters.store.memory import MemoryEventStore
from execflow.adapters.venues.paper import PaperVenue
from execflow.application.engine import Engine, Ticket
from execflow.application.instruments import InstrumentCatalog
from execflow.bench.fix import ACME, CLIENT_COMP, SEED, SERVER_COMP
from execflow.domain.commands import Command
from execflow.domain.compliance.events import Origin
from execflow.domain.enums import Side
from execflow.fix import codec
from execflow.fix.application import SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.gateway import AccountPermissions, OrderGateway
from execflow.fix.message import FieldValue, Message
from execflow.fix.session import Session
from execflow.fix.store import MemoryStore


class InlineRunner:
    """The engine run to quiescence inside `send` (venue polls included)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, command: Command, origin: Origin | None = None) -> Ticket:
        ticket = self.engine.send(command, origin)
        for _ in range(4):
            now = self.engine.clock.now_ns()
            for venue in self.engine.venues.values():
                venue.poll(now)
            self.engine.process()
        return ticket


class MemoryTransport:
    def __init__(self) -> None:
        self.out: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.out.append(data)

    def close(self) -> None:
        pass


def _frame(msg_type: str, seq: int, *fields: tuple[int, FieldValue]) -> bytes:
    msg = Message.new(msg_type, *fields)
    msg.set(49, CLIENT_COMP).set(56, SERVER_COMP).set(34, seq).set_timestamp(52, time.time_ns())
    return codec.encode(msg, "FIX.4.4")


async def main(n: int) -> None:
    clock = WallClock()
    catalog = InstrumentCatalog([ACME])
    paper = PaperVenue([ACME], latency_ns=0, clock=clock, seed=SEED, session="B")
    for k in range(1, 4):
        paper.market_place("ACME", Side.BUY, 1_000, 10_000 - k * ACME.tick_size, 0)
        paper.market_place("ACME", Side.SELL, 1_000, 10_000 + k * ACME.tick_size, 0)
    engine = Engine(MemoryEventStore(), clock, catalog, venues=[paper])
    perms = {CLIENT_COMP: AccountPermissions.of("ACC-1")}
    gateway = OrderGateway(InlineRunner(engine), catalog, perms, venue="PAPER")
    sid = SessionID("FIX.4.4", SERVER_COMP, CLIENT_COMP)
    session = Session(SessionConfig(sid, initiator=False), gateway, MemoryStore(0), time.time_ns)

    class Lookup:
        def session(self, session_id: SessionID) -> Session:
            return session

    gateway.bind(Lookup())
    transport = MemoryTransport()
    await session.on_connect(transport)
    await session.on_frame(_frame("A", 1, (98, 0), (108, 30)))
    frames = []
    for i in range(n):
        body: list[tuple[int, Any]] = [(11, f"C{i:07d}"), (1, "ACC-1"), (55, "ACME"), (54, "1")]
        body += [(38, 100), (40, "2"), (44, Decimal("45")), (60, "20260101-00:00:00.000")]
        frames.append(_frame("D", i + 2, *body))
    start = time.perf_counter()
    for data in frames:
        await session.on_frame(data)
        await asyncio.sleep(0)  # the committed events' hop to the loop
    elapsed = time.perf_counter() - start
    reports = sum(1 for x in transport.out if b"\x0135=8\x01" in x)
    print(f"round trips {n}, execution reports {reports}, {elapsed / max(n, 1) * 1e6:.1f} us each")
    gateway.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
