"""Small helpers shared by the conformance cases."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from execflow.adapters.clock import SimulatedClock
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.connection import Initiator, new_event_loop
from execflow.fix.store import MemoryStoreFactory
from tests.fix_conformance.rig import (
    OURS,
    T0,
    THEIRS,
    AcceptorRig,
    Field,
    Peer,
    ScriptedAcceptor,
    acceptor_rig,
)


def run(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run one case in a fresh event loop, bounded (the machine may be loaded)."""

    async def bounded() -> None:
        async with asyncio.timeout(120):
            await coro_fn()

    # the sessions' event loop: uvloop when installed, asyncio's with EXECFLOW_UVLOOP=0
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(bounded())


def order(peer: Peer, cl_ord_id: str = "ID", *extra: Field, symbol: str = "INTC") -> list[Field]:
    """The body of a valid NewOrderSingle (the echo application sends it back)."""
    return [
        (11, cl_ord_id),
        (21, 3),
        (40, 1),
        (54, 1),
        (55, symbol),
        (60, peer.now()),
        *extra,
    ]


async def expect_echo(peer: Peer, cl_ord_id: str = "ID", **tags: str | int) -> None:
    await peer.expect("D", t11=cl_ord_id, absent=(43, 122), **tags)


def logged_on_case(
    begin: str,
    body: Callable[[AcceptorRig, Peer], Coroutine[Any, Any, None]],
    *,
    logout: bool = True,
    **overrides: Any,
) -> None:
    """The shape of most cases: our acceptor (with `overrides` of its SessionConfig), a peer
    logged on, the case's `body`, then (unless the body ended the session) the logout
    handshake."""

    async def case() -> None:
        async with acceptor_rig(begin, **overrides) as rig:
            peer = await rig.logged_on()
            await body(rig, peer)
            if logout:
                await peer.logout()

    run(case)


def initiator_case(
    begin: str,
    body: Callable[[Peer, Initiator], Coroutine[Any, Any, None]],
    *,
    tls: tuple[ssl.SSLContext, ssl.SSLContext] | None = None,
    **overrides: Any,
) -> None:
    """The test plays the acceptor for our initiator (SessionConfig `overrides`; `tls`:
    (server, client) contexts): `body` gets the peer of the initiator's connection and the
    initiator, after which both sides stop."""

    async def case() -> None:
        clock = SimulatedClock(T0)
        side = ScriptedAcceptor(begin, clock, tls=tls[0] if tls else None)
        await side.start()
        config = SessionConfig(SessionID(begin, OURS, THEIRS), initiator=True)
        init = Initiator(
            BaseApplication(),
            [replace(config, **overrides)],
            MemoryStoreFactory(),
            "127.0.0.1",
            side.port,
            now_ns=clock.now_ns,
            tick_s=0.02,
            reconnect_interval_s=3600.0,  # one connection per case
            ssl_context=tls[1] if tls else None,
        )
        await init.start()
        try:
            await body(await side.accept(), init)
        finally:
            await side.stop()
            await init.stop(timeout_s=0.5)

    run(case)
