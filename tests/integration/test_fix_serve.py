"""`execflow fix serve` end to end: the CLI's acceptor in its own process, our FIX initiator
venue adapter as the client, over loopback TCP; the order lands in the server's log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from execflow.adapters.reference import default_instruments
from execflow.adapters.store.sqlite import SqliteEventStore
from execflow.domain.enums import OrderType, TimeInForce
from execflow.domain.events import OrderFilled, OrderInitialized
from execflow.domain.reports import Ack, Fill, VenueOrder, VenueReport
from execflow.fix.application import SessionID
from execflow.fix.config import SessionConfig
from execflow.fix.message import Message
from execflow.fix.venue import FixVenue
from tests.timeouts import CLIENT_TIMEOUT_S, PROCESS_START_TIMEOUT_S


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_fix_serve_accepts_an_order_and_reports_fills(tmp_path: Path) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "execflow.cli.main", "fix", "serve", "--client", "OMS=ACC1",
           "--port", str(port), "--heartbeat", "5", "--data-dir", str(tmp_path)]  # fmt: skip
    env = {**os.environ, "EXECFLOW_STORE": "sqlite", "EXECFLOW_SYNC": "NORMAL"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + PROCESS_START_TIMEOUT_S
        for line in proc.stdout:
            if "FIX acceptor on" in line or time.monotonic() > deadline:
                break
        assert proc.poll() is None, "server exited"
        reports: list[VenueReport] = []
        venue = FixVenue(
            SessionConfig(SessionID("FIX.4.4", "OMS", "EXECFLOW"), initiator=True),
            "127.0.0.1", port, default_instruments(), poll_wait_s=3.0, quiet_s=0.2,
            tick_s=0.05, reconnect_interval_s=0.1,
        )  # fmt: skip
        venue.connect(reports.append)
        venue.start(logon_timeout_s=10)
        try:
            venue.submit(
                VenueOrder(cl_ord_id="F1", account="ACC1", instrument="AAPL", side=1,
                           order_type=OrderType.MARKET, quantity=30, tif=TimeInForce.DAY)
            )  # fmt: skip
            for _ in range(10):
                venue.poll(time.time_ns())
                if sum(r.last_qty for r in reports if isinstance(r, Fill)) >= 30:
                    break
        finally:
            venue.stop()
        assert any(isinstance(r, Ack) for r in reports), reports
        assert sum(r.last_qty for r in reports if isinstance(r, Fill)) == 30
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    store = SqliteEventStore(tmp_path / "events.db")
    events = [r.event for r in store.read_all()]
    store.close()
    init = [e for e in events if isinstance(e, OrderInitialized)]
    assert [(e.cl_ord_id, e.account) for e in init] == [("OMS:F1", "ACC1")]
    assert sum(e.last_qty for e in events if isinstance(e, OrderFilled)) == 30


def test_fix_serve_over_tls(tmp_path: Path) -> None:
    """--tls-cert/--tls-key: the acceptor speaks FIX inside TLS; a Logon over a TLS connection
    that trusts the certificate is answered."""
    from execflow.fix import codec
    from execflow.fix.framing import StreamFramer
    from tests.tls_certs import client_context, self_signed

    cert_file, key_file = self_signed(tmp_path)
    port = _free_port()
    cmd = [sys.executable, "-m", "execflow.cli.main", "fix", "serve", "--client", "OMS=ACC1",
           "--port", str(port), "--data-dir", str(tmp_path), "--tls-cert", str(cert_file),
           "--tls-key", str(key_file)]  # fmt: skip
    env = {**os.environ, "EXECFLOW_STORE": "sqlite", "EXECFLOW_SYNC": "NORMAL"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "FIX acceptor on" in line:
                assert "TLS" in line
                break
        assert proc.poll() is None, "server exited"
        logon = Message.new("A", (98, 0), (108, 30), (141, "Y"))
        logon.set(49, "OMS").set(56, "EXECFLOW").set(34, 1).set_timestamp(52, time.time_ns())
        raw = codec.encode(logon, b"FIX.4.4")
        with (
            socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_S) as sock,
            client_context(cert_file).wrap_socket(sock, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(raw)
            framer = StreamFramer()
            frame = None
            while frame is None:
                chunk = tls.recv(65536)
                assert chunk, "the server closed the connection"
                framer.feed(chunk)
                frame = framer.next_frame()
        answer = codec.parse(frame)
        assert (answer.msg_type, answer.get(98), answer.get(141)) == ("A", b"0", b"Y")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def test_fix_serve_next_seq_after_lost_state(tmp_path: Path) -> None:
    """--next-seq (session case 9 after a failure that lost the session store): the Logon
    answer carries the given MsgSeqNum, and the client's Logon, beyond the 1 we expect, is
    followed by our ResendRequest from 1."""
    from execflow.fix import codec
    from execflow.fix.framing import StreamFramer

    port = _free_port()
    cmd = [sys.executable, "-m", "execflow.cli.main", "fix", "serve", "--client", "OMS=ACC1",
           "--port", str(port), "--data-dir", str(tmp_path), "--next-seq", "500"]  # fmt: skip
    env = {**os.environ, "EXECFLOW_STORE": "sqlite", "EXECFLOW_SYNC": "NORMAL"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "FIX acceptor on" in line:
                break
        assert proc.poll() is None, "server exited"
        logon = Message.new("A", (98, 0), (108, 30))
        logon.set(49, "OMS").set(56, "EXECFLOW").set(34, 7).set_timestamp(52, time.time_ns())
        answers: list[Message] = []
        with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_S) as sock:
            sock.sendall(codec.encode(logon, b"FIX.4.4"))
            framer = StreamFramer()
            while len(answers) < 2:
                chunk = sock.recv(65536)
                assert chunk, "the server closed the connection"
                framer.feed(chunk)
                answers += [codec.parse(f) for f in framer.frames()]
        first, second = answers[:2]
        assert (first.msg_type, first.get(34), first.get(141)) == ("A", b"500", None)
        assert (second.msg_type, second.get(34), second.get(7), second.get(16)) == (
            "2", b"501", b"1", b"0",
        )  # fmt: skip
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
