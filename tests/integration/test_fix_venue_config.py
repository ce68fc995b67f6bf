"""A FIX initiator venue declared in a settings file: ``bootstrap.build`` builds it, logs it on
to a counterparty (here `execflow fix serve`, the sell side, in a child process) and the engine
routes an order to it and gets its fills back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from execflow.bootstrap import build
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType
from execflow.settings import FixVenueSpec, Settings
from tests.timeouts import CLIENT_TIMEOUT_S


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_fix_venue_from_the_config_file_routes_and_fills(tmp_path: Path) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "execflow.cli.main", "fix", "serve", "--client", "BUYSIDE=ACC1",
           "--comp-id", "BROKER", "--port", str(port), "--heartbeat", "5",
           "--data-dir", str(tmp_path / "sell")]  # fmt: skip
    env = {**os.environ, "EXECFLOW_STORE": "sqlite", "EXECFLOW_SYNC": "NORMAL"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "FIX acceptor on" in line:
                break
        assert proc.poll() is None, "the acceptor exited"
        cfg = tmp_path / "buy.toml"
        cfg.write_text(
            f'[engine]\nstore = "memory"\ndata_dir = "{tmp_path / "buy"}"\n\n'
            f'[[venues]]\ntype = "fix"\nvenue_id = "BROKER"\nport = {port}\n'
            f'sender_comp_id = "BUYSIDE"\ntarget_comp_id = "BROKER"\nheartbeat_s = 5\n'
            f"logon_timeout_s = {CLIENT_TIMEOUT_S}\n",
            encoding="utf-8",
        )
        settings = Settings.load(cfg, environ={})
        assert isinstance(settings.venues[0], FixVenueSpec)
        with build(settings, settlement=False) as app:
            assert list(app.venues) == ["BROKER"]
            engine = app.engine
            result = engine.execute(
                SubmitOrder(cl_ord_id="B1", account="ACC1", instrument="AAPL", side=1,
                            order_type=OrderType.MARKET, quantity=30, venue="BROKER")
            )  # fmt: skip
            assert result.ok, result
            deadline = time.monotonic() + CLIENT_TIMEOUT_S
            while engine.orders["B1"].status is not OrderStatus.FILLED:
                assert time.monotonic() < deadline, engine.orders["B1"]
                engine.run_until_idle()
            order = engine.orders["B1"]
            assert (order.venue, order.cum_qty) == ("BROKER", 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=CLIENT_TIMEOUT_S)
