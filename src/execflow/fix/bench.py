"""Codec micro-benchmarks: `python -m execflow.fix.bench` prints messages per second.

Not a pass/fail test. Measures one core parsing typical order-routing messages (an
ExecutionReport fill and a NewOrderSingle with a Parties group) from complete frames, with
BodyLength/CheckSum verification and the FIX 4.4 dictionary, as a stream reader would.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from execflow.fix import codec, dictionary
from execflow.fix.message import Message

log = logging.getLogger(__name__)

_T0 = 1_704_110_400_123_456_000  # 2024-01-01T12:00:00.123456Z


def sample_execution_report(seq: int = 1234) -> bytes:
    msg = Message.new("8")
    msg.set(49, "VENUE").set(56, "EXECFLOW").set(34, seq).set_timestamp(52, _T0, 6)
    msg.set(37, "V-000001").set(11, "ORD-000001").set(17, "EXEC-000001").set(150, "F")
    msg.set(39, "1").set(1, "ACC-1").set(55, "AAPL").set(54, "1").set(38, 1000)
    msg.set(40, "2").set(44, Decimal("100.25")).set(59, "0").set(32, 100)
    msg.set(31, Decimal("100.25")).set(151, 900).set(14, 100).set(6, Decimal("100.25"))
    msg.set_timestamp(60, _T0, 6)
    return codec.encode(msg, "FIX.4.4")


def sample_new_order_single(seq: int = 1234) -> bytes:
    msg = Message.new("D")
    msg.set(49, "EXECFLOW").set(56, "VENUE").set(34, seq).set_timestamp(52, _T0, 3)
    msg.set(11, "ORD-000001").set(1, "ACC-1")
    party = msg.add_group(453)
    party.set(448, "TRADER1").set(447, "D").set(452, 11)
    msg.set(55, "AAPL").set(54, "1").set_timestamp(60, _T0, 3).set(38, 1000).set(40, "2")
    msg.set(44, Decimal("100.25")).set(59, "0")
    return codec.encode(msg, "FIX.4.4")


def parse_throughput(
    n: int = 100_000, *, access: bool = False, raw: bytes | None = None, repeat: int = 3
) -> float:
    """Messages parsed per second on this core (alternating ER and NOS unless `raw`), best
    of `repeat` runs. With `access`, also read MsgType, MsgSeqNum and a price as a Decimal
    (what a session and an application do with every message)."""
    return max(_parse_once(n, access, raw) for _ in range(max(1, repeat)))


def _parse_once(n: int, access: bool, raw: bytes | None) -> float:
    dd = dictionary.builtin("FIX44")
    frames = [raw] if raw is not None else [sample_execution_report(), sample_new_order_single()]
    batch = (frames * (n // len(frames) + 1))[:n]
    parse = codec.parse
    start = time.perf_counter()
    if access:
        for data in batch:
            m = parse(data, dd)
            _ = m.msg_type, m.seq_num, m.get_decimal(44)
    else:
        for data in batch:
            parse(data, dd)
    elapsed = time.perf_counter() - start
    return n / elapsed


def encode_throughput(n: int = 100_000) -> float:
    """Messages encoded per second (ExecutionReport built from scratch each time)."""
    start = time.perf_counter()
    for i in range(n):
        sample_execution_report(i)
    return n / (time.perf_counter() - start)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = {
        "parse_msgs_per_s": parse_throughput(),
        "parse_and_access_msgs_per_s": parse_throughput(access=True),
        "parse_er_msgs_per_s": parse_throughput(raw=sample_execution_report()),
        "parse_nos_with_group_msgs_per_s": parse_throughput(raw=sample_new_order_single()),
        "build_and_encode_msgs_per_s": encode_throughput(50_000),
    }
    for key, value in results.items():
        log.info("bench=fix.codec metric=%s value=%.0f", key, value)


if __name__ == "__main__":
    main()
