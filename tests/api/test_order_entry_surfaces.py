"""One order entry: the same bad order through REST, gRPC, the CLI and FIX is refused with the
same code and the same sentence (REST problem ``detail``, gRPC status message ``CODE: sentence``,
CLI ``rejected <id> CODE: sentence``, FIX Text (58) ``CODE: sentence``).

Refusals of order entry itself (unknown instrument, a value the instrument cannot represent)
and of the engine's validation (zero quantity, a stop-limit without its limit, GTD without an
expire time) are both covered: the engine's sentences reach every surface unchanged too.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from typer.testing import CliRunner

from execflow.adapters.reference import default_instruments
from execflow.cli.orders import app as orders_cli
from execflow.fix.message import Message
from tests.api.conftest import H_A, Server
from tests.api.grpcclient import error_code, md, stub
from tests.interop.sellside import SellSide
from tests.timeouts import CLIENT_TIMEOUT_S
from tests.unit.fix.test_gateway import Client

# (case, order fields, expected code): sentences are compared across surfaces, not spelled here
CASES: list[tuple[str, dict[str, str], str]] = [
    ("unknown-instrument", {"instrument": "NOPE", "price": "1.00"}, "UNKNOWN_INSTRUMENT"),
    ("off-tick", {"instrument": "VOD.L", "price": "72.13"}, "PRICE_OFF_TICK"),
    ("price-decimals", {"price": "190.001"}, "TOO_MANY_DECIMALS"),
    ("quantity-decimals", {"quantity": "1.5", "price": "190.00"}, "TOO_MANY_DECIMALS"),
    ("zero-quantity", {"quantity": "0", "price": "190.00"}, "NON_POSITIVE_QUANTITY"),
    ("stop-limit-no-limit", {"order_type": "STOP_LIMIT", "stop_price": "250.00"},
     "LIMIT_PRICE_MISSING"),
    ("gtd-no-expiry", {"price": "1.00", "time_in_force": "GTD"}, "EXPIRE_TIME_MISSING"),
]  # fmt: skip
BASE = {"instrument": "AAPL", "side": "BUY", "quantity": "10"}
FIX_ORD_TYPE = {"MARKET": "1", "LIMIT": "2", "STOP": "3", "STOP_LIMIT": "4"}
FIX_TIF = {"DAY": "0", "GTD": "6"}


def order(fields: dict[str, str]) -> dict[str, str]:
    return {**BASE, **fields}


def split(text: str) -> tuple[str, str]:
    code, _, sentence = text.partition(": ")
    return code, sentence


def via_rest(client: httpx.Client, fields: dict[str, str]) -> tuple[str, str]:
    r = client.post("/v1/orders", json={**order(fields), "cl_ord_id": uid()}, headers=H_A)
    assert r.status_code == 409, r.text  # well formed, refused under an order-entry rule
    return r.json()["code"], r.json()["detail"]


def via_grpc(s: Any, pb2: Any, fields: dict[str, str]) -> tuple[str, str]:
    with pytest.raises(grpc.RpcError) as ei:
        s.Submit(pb2.SubmitRequest(**order(fields), cl_ord_id=uid()), metadata=md("key-a"),
                 timeout=CLIENT_TIMEOUT_S)  # fmt: skip
    code, sentence = split(ei.value.details())
    assert code == error_code(ei.value)
    return code, sentence


def via_cli(fields: dict[str, str]) -> tuple[str, str]:
    o = order(fields)
    args = ["submit", "-i", o["instrument"], "-s", o["side"], "-q", o["quantity"]]
    for key, option in (("price", "-p"), ("order_type", "--type"),
                        ("stop_price", "--stop-price"), ("time_in_force", "--tif")):  # fmt: skip
        if key in o:
            args += [option, o[key]]
    cl = uid()
    r = CliRunner().invoke(orders_cli, [*args, "--cl-ord-id", cl])
    assert r.exit_code == 2, r.output
    m = re.search(rf"rejected {cl} ([A-Z_]+): (.*)", r.output)
    assert m is not None, r.output
    return m[1], m[2].strip()


def fix_order(cl: str, fields: dict[str, str]) -> Message:
    o = order(fields)
    msg = Message.new("D", (11, cl), (55, o["instrument"]), (54, "1"))
    msg.set_timestamp(60, time.time_ns()).set(38, Decimal(o["quantity"]))
    msg.set(40, FIX_ORD_TYPE[o.get("order_type", "LIMIT" if "price" in o else "MARKET")])
    msg.set(59, FIX_TIF[o.get("time_in_force", "DAY")])
    if "price" in o:
        msg.set(44, Decimal(o["price"]))
    if "stop_price" in o:
        msg.set(99, Decimal(o["stop_price"]))
    return msg


def via_fix(begin: str = "FIXT.1.1") -> dict[str, tuple[str, str]]:
    """Every case through one FIX session: the Text (58) of each Rejected report."""
    out: dict[str, tuple[str, str]] = {}
    reasons: dict[str, int] = {}

    async def go() -> None:
        client = Client(begin)
        side = SellSide([client.sid], instruments=default_instruments())
        await side.start()
        try:
            await client.connect(side.port)
            for name, fields, _ in CASES:
                client.send(fix_order(name, fields))
            for name, _, _ in CASES:
                (er,) = await client.wait(1, name)
                assert (er.get_str(150), er.get_str(39)) == ("8", "8"), er
                out[name] = split(er.get_str(58))
                reasons[name] = er.get_int(103)
        finally:
            await client.close()
            await side.stop()

    asyncio.run(go())
    # OrdRejReason: a price with too many decimals is an invalid price increment (18), as an
    # off-tick price is; the code in Text tells them apart
    assert reasons["price-decimals"] == reasons["off-tick"] == 18, reasons
    assert reasons["unknown-instrument"] == 1 and reasons["zero-quantity"] == 13, reasons
    return out


def uid() -> str:
    return f"oe-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cli_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("EXECFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EXECFLOW_SYNC", "NORMAL")
    monkeypatch.delenv("EXECFLOW_URL", raising=False)
    yield tmp_path


def test_the_same_bad_order_gets_the_same_answer_everywhere(
    server: Server, client: httpx.Client, cli_data: Path
) -> None:
    fix = via_fix()
    s, pb2, channel = stub(server.grpc)
    try:
        for name, fields, code in CASES:
            answers = {
                "rest": via_rest(client, fields),
                "grpc": via_grpc(s, pb2, fields),
                "cli": via_cli(fields),
                "fix": fix[name],
            }
            assert set(answers.values()) == {answers["rest"]}, (name, answers)
            got_code, sentence = answers["rest"]
            assert got_code == code and sentence and sentence != code, (name, answers)
    finally:
        channel.close()
