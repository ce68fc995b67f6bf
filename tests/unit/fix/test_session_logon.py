"""Session: logon variants, logout handshake, schedule."""

from __future__ import annotations

import datetime as dt

from execflow.fix.errors import RejectLogonError
from execflow.fix.message import Message
from execflow.fix.schedule import SessionSchedule
from execflow.fix.session import SessionState
from tests.unit.fix.session_harness import NS, T0, Script, async_test


@async_test
async def test_acceptor_normal_logon() -> None:
    s = Script()
    await s.connect()
    assert s.session.state is SessionState.AWAITING_LOGON
    await s.recv("A", (98, 0), (108, 30))
    reply = s.expect("A", t98=0, t108=30, t34=1, t49="SERVER", t56="CLIENT")
    assert 141 not in reply
    assert s.session.is_logged_on
    assert s.app.events == [("logon", "FIX.4.4:SERVER->CLIENT")]
    assert (s.store.next_sender_seq(), s.store.next_target_seq()) == (2, 2)


@async_test
async def test_initiator_logon_and_logon_timeout() -> None:
    s = Script(initiator=True, heartbeat_interval_s=15)
    await s.connect()
    s.expect("A", t108=15, t34=1, t49="CLIENT", t56="SERVER")
    await s.recv("A", (98, 0), (108, 15))
    assert s.session.is_logged_on
    t = Script(initiator=True, logon_timeout_s=5)
    await t.connect()
    await t.tick(4)
    assert t.session.is_connected
    await t.tick(2)
    assert not t.session.is_connected and t.transport.closed


@async_test
async def test_logon_with_reset_seq_num_flag() -> None:
    s = Script()
    s.store.set_next_sender_seq(50)
    s.store.set_next_target_seq(40)
    s.store.save_sent(49, b"old")
    await s.connect()
    await s.recv("A", (98, 0), (108, 30), (141, "Y"), seq=1)
    s.expect("A", t141="Y", t34=1)
    assert (s.store.next_sender_seq(), s.store.next_target_seq()) == (2, 2)
    assert s.store.get_sent(49, 49) == []


@async_test
async def test_initiator_reset_on_logon() -> None:
    s = Script(initiator=True, reset_on_logon=True)
    s.store.set_next_sender_seq(9)
    await s.connect()
    s.expect("A", t141="Y", t34=1)
    await s.recv("A", (98, 0), (108, 30), (141, "Y"))
    assert s.session.is_logged_on and s.store.next_target_seq() == 2


@async_test
async def test_logon_with_wrong_comp_id_disconnects() -> None:
    s = Script()
    await s.connect()
    await s.recv("A", (98, 0), (108, 30), sender="INTRUDER")
    s.expect_nothing()
    assert not s.session.is_connected and not s.session.is_logged_on


@async_test
async def test_first_message_not_logon_disconnects() -> None:
    s = Script()
    await s.connect()
    await s.recv("D", (11, "X"))
    s.expect_nothing()
    assert not s.session.is_connected
    assert s.store.next_target_seq() == 1


@async_test
async def test_logon_rejected_by_application() -> None:
    s = Script()

    def refuse(message: Message, session_id: object) -> None:
        if message.msg_type == "A":
            raise RejectLogonError("bad password")

    s.app.from_admin = refuse  # type: ignore[method-assign]
    await s.connect()
    await s.recv("A", (98, 0), (108, 30), (554, "nope"))
    s.expect("5", t58="bad password")
    assert not s.session.is_connected and s.app.events == []


@async_test
async def test_logon_with_seq_too_low_logs_out() -> None:
    s = Script()
    s.store.set_next_target_seq(10)
    await s.connect()
    await s.recv("A", (98, 0), (108, 30), seq=5)
    out = s.expect("5")
    assert b"MsgSeqNum too low, expecting 10 but received 5" in out[58]
    assert not s.session.is_connected


@async_test
async def test_logon_with_seq_too_high_asks_for_resend() -> None:
    s = Script()
    await s.connect()
    await s.recv("A", (98, 0), (108, 30), seq=4)
    s.expect("A")
    s.expect("2", t7=1, t16=0)
    assert s.session.is_logged_on
    await s.recv("4", (123, "Y"), (36, 5), seq=1, poss_dup=True)
    assert s.store.next_target_seq() == 5


@async_test
async def test_invalid_logon_is_answered_by_logout() -> None:
    s = Script()
    await s.connect()
    await s.recv("A", (98, 0))  # no HeartBtInt
    assert b"HeartBtInt" in s.expect("5")[58]
    assert not s.session.is_connected


@async_test
async def test_logout_initiated_by_peer() -> None:
    s = Script()
    await s.logon()
    await s.recv("5", (58, "bye"))
    s.expect("5")
    assert not s.session.is_connected
    assert s.app.events[-1][0] == "logout"


@async_test
async def test_logout_initiated_by_us_and_timeout() -> None:
    s = Script()
    await s.logon()
    await s.session.logout("end of day")
    s.expect("5", t58="end of day")
    assert s.session.state is SessionState.LOGOUT_SENT
    await s.recv("5")
    assert not s.session.is_connected
    t = Script(logout_timeout_s=2)
    await t.logon()
    await t.session.logout()
    await t.tick(1)
    assert t.session.is_connected
    await t.tick(2)
    assert not t.session.is_connected and t.app.events[-1][0] == "logout"


@async_test
async def test_reset_on_logout_and_disconnect() -> None:
    s = Script(reset_on_logout=True)
    await s.logon()
    await s.recv("5")
    assert (s.store.next_sender_seq(), s.store.next_target_seq()) == (1, 1)
    t = Script(reset_on_disconnect=True)
    await t.logon()
    await t.session.on_disconnect()
    assert t.store.next_sender_seq() == 1


@async_test
async def test_schedule_logs_out_at_end_and_resets_daily() -> None:
    sched = SessionSchedule(dt.time(8, 0), dt.time(12, 30))
    s = Script(schedule=sched)
    s.store.set_next_sender_seq(7)  # store created yesterday → reset on connect
    s.store.reset(T0 - 86_400 * NS)
    s.store.set_next_sender_seq(7)
    await s.logon()
    assert s.expect_nothing() is None
    assert s.store.next_sender_seq() == 2  # reset, then our Logon took 1
    await s.tick(31 * 60)  # 12:31
    s.expect("5", t58="session time ended")
    assert sched.is_in_session(T0) and not sched.is_in_session(T0 + 31 * 60 * NS)
    overnight = SessionSchedule(dt.time(22, 0), dt.time(6, 0))
    assert overnight.is_in_session(T0 + 11 * 3600 * NS)  # 23:00
    assert overnight.period_start_ns(T0 + 13 * 3600 * NS) == T0 + 10 * 3600 * NS
    assert not overnight.is_in_session(T0)


@async_test
async def test_fixt_logon_carries_default_appl_ver_id() -> None:
    from execflow.fix.application import SessionID

    s = Script(initiator=True, session_id=SessionID("FIXT.1.1", "CLIENT", "SERVER"))
    await s.connect()
    s.expect("A", t1137=9)
