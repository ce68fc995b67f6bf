"""Small helpers shared by the conformance cases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from tests.fix_conformance.rig import Field, Peer


def run(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run one case in a fresh event loop, bounded (the machine may be loaded)."""

    async def bounded() -> None:
        async with asyncio.timeout(120):
            await coro_fn()

    asyncio.run(bounded())


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
