"""The CLI is a client when a server runs (issue 12): `execflow serve` on a data directory
writes its address there; write commands on that directory go to it over REST (same output,
same exit codes) instead of starting a second engine; reads work next to it; a killed server's
stale address is ignored; a second server is refused."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from execflow.cli.main import app as cli
from tests.timeouts import PROCESS_START_TIMEOUT_S

runner = CliRunner()
EXE = str(Path(sys.executable).with_name("execflow"))


@dataclass
class Served:
    data: Path
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.info["url"], headers={"X-API-Key": self.info["api_key"]}, timeout=30
        )


def serve(data: Path) -> Served:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECFLOW_")}
    data.mkdir(parents=True, exist_ok=True)
    log = (data.parent / f"serve-{time.monotonic_ns()}.log").open("wb")
    proc = subprocess.Popen(
        [EXE, "serve", "--port", "0", "--grpc-port", "-1", "--log-level", "WARNING",
         "-d", str(data)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    log.close()
    address = data / "server.json"
    deadline = time.monotonic() + PROCESS_START_TIMEOUT_S
    while not (address.exists() and json.loads(address.read_text())["pid"] == proc.pid):
        if proc.poll() is not None:
            raise AssertionError(f"execflow serve exited: {Path(log.name).read_text()}")
        assert time.monotonic() < deadline, "execflow serve did not start in time"
        time.sleep(0.05)
    return Served(data, proc, json.loads(address.read_text()))


def stop(s: Served, sig: int = signal.SIGTERM) -> int:
    if s.proc.poll() is None:
        s.proc.send_signal(sig)
    return s.proc.wait(60)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = serve(tmp_path / "data")
    yield s
    stop(s)


def wait_status(http: httpx.Client, cl: str, status: str) -> None:
    deadline = time.monotonic() + 60
    while http.get(f"/v1/orders/{cl}").json()["status"] != status:
        assert time.monotonic() < deadline, f"{cl} not {status} in 60 s"
        time.sleep(0.02)


def cli_run(served: Served, *args: str) -> tuple[int, str]:
    r = runner.invoke(cli, [*args, "--data-dir", str(served.data)], env={"EXECFLOW_URL": ""})
    return r.exit_code, r.output


def test_the_address_file_is_private_and_names_the_lease_holder(served: Served) -> None:
    mode = stat.S_IMODE((served.data / "server.json").stat().st_mode)
    assert mode == 0o600  # it holds the development key
    assert served.info["pid"] == served.proc.pid
    held = json.loads((served.data / "writer.lock").read_text())
    assert held["pid"] == served.proc.pid and held["owner"] == "execflow serve"


def test_orders_submit_goes_to_the_server_which_then_cancels_it(served: Served) -> None:
    code, out = cli_run(served, "orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "10",
                        "-p", "1.00", "--cl-ord-id", "CLI-1")  # fmt: skip
    assert code == 0, out
    assert out.strip() == "CLI-1 ACCEPTED BUY 0/10 AAPL"
    with served.http() as http:
        assert http.get("/v1/orders/CLI-1").json()["status"] == "ACCEPTED"
        assert http.delete("/v1/orders/CLI-1").status_code == 202  # the server knows it
        wait_status(http, "CLI-1", "CANCELED")
    code, out = cli_run(served, "orders", "cancel", "CLI-1")  # already canceled there
    assert code == 2 and "ORDER_NOT_OPEN" in out, out
    code, out = cli_run(served, "orders", "cancel", "NO-SUCH")
    assert code == 3 and "no order 'NO-SUCH'" in out, out
    code, out = cli_run(served, "orders", "submit", "-i", "NOPE", "-s", "buy", "-q", "1")
    assert code == 2 and "UNKNOWN_INSTRUMENT" in out, out


def test_risk_kill_from_the_cli_stops_the_server_accepting_orders(served: Served) -> None:
    code, out = cli_run(served, "risk", "kill", "--all", "--who", "ops", "--why", "test")
    assert code == 0 and "Kill switch engaged for all accounts by ops (test)" in out, out
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "10", "price": "1.00",
            "account": "DEFAULT"}  # fmt: skip
    with served.http() as http:
        r = http.post("/v1/orders", json={**body, "cl_ord_id": "AFTER-KILL"})
        assert r.status_code == 409 and r.json()["code"] == "KILL_SWITCH"
    code, out = cli_run(served, "orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "1")
    assert code == 2 and "KILL_SWITCH" in out
    code, out = cli_run(served, "risk", "reset", "--all", "--who", "ops", "--why", "done")
    assert code == 0 and "Kill switch released for all accounts by ops (done)" in out, out
    code, out = cli_run(served, "risk", "reset", "--all", "--who", "ops", "--why", "again")
    assert code == 1 and "was not engaged" in out
    with served.http() as http:
        r = http.post("/v1/orders", json={**body, "cl_ord_id": "AFTER-RESET"})
        assert r.status_code == 201, r.text


def test_groups_parents_replace_and_settlement_go_to_the_server(served: Served) -> None:
    code, out = cli_run(served, "orders", "bracket", "-i", "AAPL", "-s", "buy", "-q", "10",
                        "-p", "1.00", "--take-profit", "2.00", "--stop-loss", "0.50",
                        "--group-id", "GB")  # fmt: skip
    assert code == 0, out
    assert out.splitlines() == [
        "group GB ACCEPTED", "GB-E ACCEPTED BUY 0/10 AAPL", "GB-TP HELD SELL 0/10 AAPL",
        "GB-SL HELD SELL 0/10 AAPL",
    ]  # fmt: skip
    code, out = cli_run(served, "orders", "replace", "GB-E", "-p", "1.01")
    assert code == 0 and out.strip() == "GB-E ACCEPTED BUY 0/10 AAPL", out
    code, out = cli_run(served, "orders", "cancel-group", "GB")
    assert code == 0 and "GB-E CANCELED" in out, out
    code, out = cli_run(served, "orders", "parent", "-i", "AAPL", "-s", "buy", "-q", "100",
                        "--cl-ord-id", "PAR")  # fmt: skip
    assert code == 0 and out.strip() == "PAR ACCEPTED BUY 0/100 AAPL", out
    code, out = cli_run(served, "orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "10",
                        "--cl-ord-id", "MKT")  # fmt: skip
    assert code == 0 and out.startswith("MKT FILLED BUY 10/10 AAPL avg "), out
    code, out = cli_run(served, "settlement", "run")
    assert code == 0 and out.startswith("custodian ran "), out
    with served.http() as http:
        for cl in ("GB-E", "PAR", "MKT"):
            assert http.get(f"/v1/orders/{cl}").status_code == 200


def test_reads_work_next_to_the_server(served: Served) -> None:
    for args in (["orders", "list", "--status", "all"], ["events", "tail", "-n", "3"],
                 ["risk", "utilisation"], ["settlement", "status"]):  # fmt: skip
        code, out = cli_run(served, *args)
        assert code == 0, (args, out)


def test_url_points_the_cli_at_a_server(served: Served, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    r = runner.invoke(
        cli,
        ["orders", "submit", "-i", "AAPL", "-s", "sell", "-q", "1", "-p", "900",
         "--cl-ord-id", "VIA-URL", "-d", str(other)],
        env={"EXECFLOW_URL": served.info["url"], "EXECFLOW_API_KEY": served.info["api_key"]},
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert not other.exists()  # nothing local was opened
    with served.http() as http:
        assert http.get("/v1/orders/VIA-URL").status_code == 200


def test_a_second_server_is_refused_and_a_stale_address_is_ignored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = serve(data)
    try:
        second = subprocess.run(
            [EXE, "serve", "--port", "0", "--grpc-port", "-1", "-d", str(data)],
            check=False, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 1
        err = second.stderr.strip().splitlines()
        assert len(err) == 1 and f"pid {first.proc.pid}" in err[0], second.stderr
        assert "(execflow serve) since" in err[0]
    finally:
        assert stop(first, signal.SIGKILL) != 0  # killed: no clean-up
    assert (data / "server.json").exists()  # stale: the lease it names is free
    r = runner.invoke(
        cli, ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "1", "-p", "1.00",
              "--cl-ord-id", "LOCAL", "-d", str(data)], env={"EXECFLOW_URL": ""},
    )  # fmt: skip
    assert r.exit_code == 0, r.output  # ran here, with the lease
    assert r.output.strip() == "LOCAL ACCEPTED BUY 0/1 AAPL"
    again = serve(data)  # a new server replaces the stale address
    try:
        assert again.info["pid"] == again.proc.pid
    finally:
        assert stop(again) == 0
    assert not (data / "server.json").exists()  # removed on a clean shutdown


def test_limit_changes_go_to_the_server(served: Served) -> None:
    code, out = cli_run(served, "risk", "set-limit", "max_order_qty", "1000", "--who", "o",
                        "--why", "w")  # fmt: skip
    assert code == 0 and out.strip() == "max_order_qty: 1000000 -> 1000 (account=*, instrument=*)"
    code, out = cli_run(served, "risk", "set-limit", "max_order_qty", "none", "--who", "o",
                        "--why", "w")  # fmt: skip
    assert code == 0 and out.strip() == "max_order_qty: 1000 -> None (account=*, instrument=*)"
