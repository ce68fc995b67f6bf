"""Session-layer test cases the independent C++ engine (Debian's libquickfix-dev) can play
the other side of, FIX.4.4 and FIXT.1.1: logon with and without ResetSeqNumFlag (1S.a, 1B.a-c),
heartbeats both ways (4.a, 5), TestRequest answered with its TestReqID (4.b, 6), a sequence
reset during the session (Logon 141=Y), logout both ways (12, 13.a-b), case 9 (our state
lost in a failure, resynchronised) and 17.b (a Logon asking for encryption refused); case
18 is in test_cpp_counterparty.py. The garbled and invalid cases need a scripted
counterparty: tests/fix_conformance.

Their engine validates what we send against our shipped dictionaries; it prints one line per
admin message it receives ("FROM_ADMIN A seq=1 reset=Y test=").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from execflow.bench.counterparty import CounterpartyProcess, CounterpartySession, free_port
from execflow.fix import admin
from execflow.fix.application import BaseApplication, SessionID
from execflow.fix.config import counterparty_config
from execflow.fix.connection import Acceptor, Initiator
from execflow.fix.message import Message
from execflow.fix.store import MemoryStoreFactory

VERSIONS = ["FIX.4.4", "FIXT.1.1"]
WAIT_S = 30.0  # generous: the machine may be loaded


class _Recorder(BaseApplication):
    def __init__(self) -> None:
        self.admin: list[Message] = []
        self.events: list[str] = []

    def on_logon(self, session_id: SessionID) -> None:
        self.events.append("logon")

    def on_logout(self, session_id: SessionID) -> None:
        self.events.append("logout")

    def from_admin(self, message: Message, session_id: SessionID) -> None:
        self.admin.append(message)

    def count(self, msg_type: str, **tags: str) -> int:
        return sum(
            1
            for m in self.admin
            if m.msg_type == msg_type
            and all(m.get(int(k[1:])) == v.encode() for k, v in tags.items())
        )


async def _until(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def _line(cp: CounterpartyProcess, prefix: str, count: int = 1) -> str:
    assert await asyncio.to_thread(cp.wait_for, prefix, WAIT_S, count), (prefix, cp.lines)
    return [line for line in cp.lines if line.startswith(prefix)][count - 1]


@pytest.mark.parametrize("begin", VERSIONS)
@pytest.mark.parametrize("their_reset", [False, True])
def test_their_initiator_logon_heartbeats_test_request_logout(
    cpp_counterparty: Path, tmp_path: Path, begin: str, their_reset: bool
) -> None:
    """Our acceptor: the Logon answer carries 141=Y exactly when they asked for it (their
    engine refuses an unasked reset); heartbeats flow at HeartBtInt 1; our TestRequest comes
    back as a Heartbeat with its TestReqID; their Logout is answered (from_admin once)."""

    async def case() -> None:
        app = _Recorder()
        sid = SessionID(begin, "EXECFLOW", "CPPCLIENT")
        config = counterparty_config(sid, reset=("logon",))  # we reset; we do not ask them to
        acceptor = Acceptor(app, [config], MemoryStoreFactory(), port=0, tick_s=0.05)
        await acceptor.start()
        settings = CounterpartySession(
            begin, "CPPCLIENT", "EXECFLOW", acceptor.port, acceptor=False, heartbeat_s=1,
            reset_on_logon=their_reset,
        ).write(tmp_path / "client")  # fmt: skip
        cp = CounterpartyProcess(cpp_counterparty, "idle", settings, "4")
        try:
            await _line(cp, "LOGON")
            answer = await _line(cp, "FROM_ADMIN A")
            assert f"reset={'Y' if their_reset else 'N'}" in answer, answer
            session = acceptor.session(sid)
            session.send(admin.test_request("PING-1"))
            await _until(lambda: app.count("0", t112="PING-1") == 1, "their Heartbeat 112=PING-1")
            await _line(cp, "FROM_ADMIN 0", count=2)  # our heartbeats
            await _until(lambda: app.count("0") >= 2, "their heartbeats")
            assert await asyncio.to_thread(cp.wait, WAIT_S) == 0, cp.lines
            assert "OK idle" in cp.lines
            await _line(cp, "FROM_ADMIN 5")  # our answer to their Logout
            await _until(lambda: not session.is_connected, "the disconnect")
            assert app.count("5") == 1 and app.events == ["logon", "logout"]
            assert cp.count("FROM_ADMIN 3") == 0, cp.lines  # they rejected nothing of ours
        finally:
            cp.stop()
            await acceptor.stop(timeout_s=1.0)

    asyncio.run(case())


@pytest.mark.parametrize("begin", VERSIONS)
def test_our_initiator_reset_logon_reset_during_session_and_logout(
    cpp_counterparty: Path, tmp_path: Path, begin: str
) -> None:
    """Our initiator with reset on logon: Logon 141=Y, their answer 141=Y; a reset in the
    middle of the session (Logon 141=Y, MsgSeqNum 1) is answered by their Logon 141=Y and both
    sides go on from 2; our TestRequest is answered; our Logout is answered."""

    async def case() -> None:
        port = free_port()
        settings = CounterpartySession(
            begin, "CPPVENUE", "EXECFLOW", port, acceptor=True, heartbeat_s=30
        ).write(tmp_path / "venue")
        cp = CounterpartyProcess(cpp_counterparty, "acceptor", settings)
        app = _Recorder()
        sid = SessionID(begin, "EXECFLOW", "CPPVENUE")
        config = counterparty_config(sid, initiator=True, reset=("logon",))
        init = Initiator(
            app, [config], MemoryStoreFactory(), "127.0.0.1", port, tick_s=0.05,
            reconnect_interval_s=0.2,
        )  # fmt: skip
        try:
            assert await asyncio.to_thread(cp.wait_for, "READY", WAIT_S), cp.lines
            await init.start()
            session = init.sessions[sid]
            await _until(lambda: session.is_logged_on, "logon")
            assert "reset=Y" in await _line(cp, "FROM_ADMIN A")
            assert app.count("A", t141="Y") == 1
            session.send(admin.test_request("PING-1"))
            await _until(lambda: app.count("0", t112="PING-1") == 1, "Heartbeat PING-1")

            session.reset_sequence()
            assert "seq=1 reset=Y" in await _line(cp, "FROM_ADMIN A", count=2)
            await _until(lambda: app.count("A", t141="Y") == 2, "their reset answer")
            session.send(admin.test_request("PING-2"))
            await _until(lambda: app.count("0", t112="PING-2") == 1, "Heartbeat PING-2")
            assert "seq=2" in await _line(cp, "FROM_ADMIN 1", count=2)
            assert session.store.next_target_seq() == 3

            await session.logout("done")
            await _line(cp, "FROM_ADMIN 5")
            await _until(lambda: not session.is_connected, "the disconnect")
            assert app.count("5") == 1
            assert cp.count("FROM_ADMIN 3") == 0, cp.lines
        finally:
            await init.stop(timeout_s=1.0)
            cp.stop()

    asyncio.run(case())


@pytest.mark.parametrize("begin", VERSIONS)
@pytest.mark.parametrize("synchronise", [True, False])
def test_our_acceptor_loses_its_state_and_synchronises(
    cpp_counterparty: Path, tmp_path: Path, begin: str, synchronise: bool
) -> None:
    """Case 9, first way, against their engine: our acceptor loses its session state (store
    reset) and the connection; with `synchronise_sequence_numbers(1000)` before they log on
    again, our Logon answer carries 1000, which they accept (a gap: their ResendRequest gets
    our gap fill), their Logon beyond our 1 gets our ResendRequest(1, 0) and their gap fill,
    and the session runs on after one reconnect. Without it our Logon answer carries 1, too
    low for them: they log out (they reconnect until our numbers, consumed by each refused
    Logon, reach what they expect)."""

    async def case() -> None:
        app = _Recorder()
        sid = SessionID(begin, "EXECFLOW", "CPPCLIENT")
        acceptor = Acceptor(app, [counterparty_config(sid)], MemoryStoreFactory(), port=0)
        await acceptor.start()
        settings = CounterpartySession(
            begin, "CPPCLIENT", "EXECFLOW", acceptor.port, acceptor=False, heartbeat_s=1
        ).write(tmp_path / "client")
        cp = CounterpartyProcess(cpp_counterparty, "idle", settings, "8")
        try:
            await _line(cp, "LOGON")
            session = acceptor.session(sid)
            await _until(lambda: app.count("0") >= 2, "their heartbeats")
            session.store.reset(time.time_ns())  # the failure: our session state is gone
            await session.disconnect("simulated failure")
            if synchronise:
                session.synchronise_sequence_numbers(1000)
            await _line(cp, "LOGON", count=2)
            await _until(lambda: session.is_logged_on, "our logon")
            assert await asyncio.to_thread(cp.wait, WAIT_S) == 0, cp.lines
            assert "OK idle" in cp.lines
            refused = cp.count("TO_ADMIN 5") - 1  # their Logouts before the final one
            if synchronise:
                assert refused == 0, cp.lines
                assert any(x.startswith("FROM_ADMIN A seq=1000 ") for x in cp.lines), cp.lines
                assert cp.count("TO_ADMIN 2") == 1, cp.lines  # their ResendRequest for 5-999
                assert session.store.next_sender_seq() > 1000
            else:
                assert refused >= 1, cp.lines  # "MsgSeqNum too low" at our Logon answer
            assert cp.count("FROM_ADMIN 3") == 0, cp.lines
        finally:
            cp.stop()
            await acceptor.stop(timeout_s=1.0)

    asyncio.run(case())


@pytest.mark.parametrize("begin", VERSIONS)
def test_their_logon_asking_for_encryption_is_refused(
    cpp_counterparty: Path, tmp_path: Path, begin: str
) -> None:
    """Case 17.b against their engine: their Logon asks for EncryptMethod 2 (DES), which we do
    not support: they get Reject 373=7 (Decryption problem) referencing EncryptMethod (98) and
    our Logout, answer it, and are never logged on (nor is our application)."""

    async def case() -> None:
        app = _Recorder()
        sid = SessionID(begin, "EXECFLOW", "CPPCLIENT")
        acceptor = Acceptor(app, [counterparty_config(sid)], MemoryStoreFactory(), port=0)
        await acceptor.start()
        settings = CounterpartySession(
            begin, "CPPCLIENT", "EXECFLOW", acceptor.port, acceptor=False, heartbeat_s=1
        ).write(tmp_path / "client")
        cp = CounterpartyProcess(cpp_counterparty, "encrypt", settings, "2", "5")
        try:
            assert await asyncio.to_thread(cp.wait, WAIT_S) == 0, cp.lines
            assert "OK encrypt refused" in cp.lines and "LOGON" not in cp.lines
            rejects = [x for x in cp.lines if x.startswith("REJECT ")]
            assert rejects and all("reason=7 tag=98" in x for x in rejects), cp.lines
            # each Reject comes with our Logout (the last one may be cut off by their stop)
            assert cp.count("FROM_ADMIN 5") >= max(1, len(rejects) - 1), cp.lines
            assert app.events == []
        finally:
            cp.stop()
            await acceptor.stop(timeout_s=1.0)

    asyncio.run(case())
