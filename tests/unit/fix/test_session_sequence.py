"""Session: heartbeats, TestRequest, gaps and resends, PossDup, garbled, seq too low,
SequenceReset, validation rejects."""

from __future__ import annotations

from decimal import Decimal

from execflow.fix import codec
from execflow.fix.errors import BusinessRejectReason, DoNotSendError, FixBusinessRejectError
from execflow.fix.message import Message
from tests.unit.fix.session_harness import NS, T0, Script, async_test

NOS = [(11, "C1"), (55, "AAPL"), (54, "1"), (60, "20240101-12:00:00"), (38, 100), (40, "1")]


def order(cl_ord_id: str) -> Message:
    msg = Message.new("D", (11, cl_ord_id), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"))
    return msg.set(44, Decimal("10.5")).set_timestamp(60, T0)


@async_test
async def test_heartbeat_sent_after_interval_of_our_silence() -> None:
    s = Script()
    await s.logon()
    await s.recv("0")
    await s.tick(29)
    s.expect_nothing()
    await s.tick(1)
    s.expect("0")


@async_test
async def test_test_request_on_peer_silence_then_timeout() -> None:
    s = Script(heartbeat_interval_s=10)
    await s.logon()
    await s.tick(10)
    s.expect("0")
    await s.tick(2)  # 12 s = 1.2 x interval without a message from the peer
    test_req = s.expect("1")
    await s.recv("0", (112, test_req.get_str(112)))
    assert s.session._test_request_id is None
    await s.tick(11)
    s.outgoing()
    await s.tick(2)  # 13 s silence: another TestRequest
    s.expect("1")
    await s.tick(11)  # waiting for the answer: no Heartbeat although we were silent 11 s
    s.expect_nothing()
    assert s.session.is_connected
    await s.tick(1)  # 12 s = 1.2 x interval after the TestRequest: give up
    assert not s.session.is_connected


@async_test
async def test_test_request_is_answered_with_heartbeat() -> None:
    s = Script()
    await s.logon()
    await s.recv("1", (112, "PING-1"))
    s.expect("0", t112="PING-1")


@async_test
async def test_gap_triggers_resend_request_and_queued_messages_are_replayed() -> None:
    s = Script()
    await s.logon()  # peer seq 1
    await s.recv("D", *NOS, seq=4)
    s.expect("2", t7=2, t16=0)
    assert s.app.app_messages == []
    await s.recv("D", *NOS, seq=5)
    s.expect_nothing()  # no second request while one is outstanding
    await s.recv("D", (11, "R2"), *NOS[1:], seq=2, poss_dup=True, orig_sending_ns=T0 - NS)
    await s.recv("4", (123, "Y"), (36, 4), seq=3, poss_dup=True)
    assert [m.get_str(11) for m in s.app.app_messages] == ["R2", "C1", "C1"]
    assert s.store.next_target_seq() == 6
    assert s.session._resend_until is None
    await s.recv("D", *NOS, seq=4, poss_dup=True, orig_sending_ns=T0)  # late resend: dup
    assert len(s.app.app_messages) == 3


@async_test
async def test_resend_request_answered_with_gap_fills_and_poss_dup_resends() -> None:
    s = Script()
    await s.logon()  # our seq 1 = Logon
    assert s.session.send(order("O2"))  # 2
    await s.tick(30)  # 3 = Heartbeat
    assert s.session.send(order("O4"))  # 4
    s.outgoing()
    s.clock.advance(5 * NS)
    await s.recv("2", (7, 1), (16, 0))
    gap1 = s.expect("4", t34=1, t36=2, t123="Y", t43="Y")
    assert 122 in gap1
    r2 = s.expect("D", t34=2, t43="Y", t11="O2")
    assert r2.get_timestamp(122) == T0 and r2.get_timestamp(52) == T0 + 35 * NS
    s.expect("4", t34=3, t36=4, t123="Y")
    s.expect("D", t34=4, t43="Y", t11="O4")
    s.expect_nothing()
    assert s.store.next_sender_seq() == 5  # resends do not consume numbers


@async_test
async def test_resend_can_be_vetoed_by_application() -> None:
    s = Script()
    await s.logon()
    s.session.send(order("O2"))
    s.outgoing()

    def veto(message: Message, session_id: object) -> None:
        if message.get(43) == b"Y":
            raise DoNotSendError("stale")

    s.app.to_app = veto  # type: ignore[method-assign]
    await s.recv("2", (7, 2), (16, 2))
    s.expect("4", t34=2, t36=3)


@async_test
async def test_resend_request_with_seq_too_high_is_answered_first() -> None:
    s = Script()
    await s.logon()
    s.session.send(order("O2"))
    s.outgoing()
    await s.recv("2", (7, 2), (16, 0), seq=5)
    s.expect("2", t7=2, t16=0)
    s.expect("D", t34=2, t43="Y")
    await s.recv("4", (123, "Y"), (36, 6), seq=2, poss_dup=True)
    assert s.store.next_target_seq() == 6


@async_test
async def test_message_sent_while_disconnected_goes_out_on_resend() -> None:
    s = Script()
    await s.logon()
    await s.session.on_disconnect()
    assert not s.session.send(order("OFFLINE"))  # stored as seq 2
    s.transport = type(s.transport)()
    s._read = 0
    await s.connect()
    await s.recv("A", (98, 0), (108, 30))
    s.expect("A", t34=3)
    await s.recv("2", (7, 2), (16, 2))
    s.expect("D", t34=2, t43="Y", t11="OFFLINE")


@async_test
async def test_poss_dup_with_orig_sending_time_after_sending_time_is_rejected() -> None:
    s = Script()
    await s.logon()
    await s.recv("D", *NOS, poss_dup=True)  # OrigSendingTime missing
    s.expect("3", t45=2, t373=1, t371=122)
    assert s.session.is_logged_on and s.store.next_target_seq() == 3
    await s.recv("D", *NOS, poss_dup=True, orig_sending_ns=T0 + 10 * NS)
    s.expect("3", t45=3, t373=10, t371=122)
    s.expect("5")
    assert s.app.app_messages == [] and s.store.next_target_seq() == 4


@async_test
async def test_poss_dup_below_expected_is_ignored() -> None:
    s = Script()
    await s.logon()
    await s.recv("D", *NOS)
    await s.recv("D", *NOS, seq=2, poss_dup=True, orig_sending_ns=T0)
    s.expect_nothing()
    assert len(s.app.app_messages) == 1 and s.session.is_logged_on


@async_test
async def test_seq_too_low_without_poss_dup_logs_out() -> None:
    s = Script()
    await s.logon()
    await s.recv("D", *NOS)
    await s.recv("D", *NOS, seq=2)
    out = s.expect("5")
    assert out.get_str(58) == "MsgSeqNum too low, expecting 3 but received 2"
    assert not s.session.is_connected


@async_test
async def test_garbled_message_is_ignored_without_consuming_a_seq_num() -> None:
    s = Script()
    await s.logon()
    good = s.frame("D", *NOS)
    bad = good[:-4] + b"%03d\x01" % ((int(good[-4:-1]) + 1) % 256)
    await s.session.on_frame(bad)
    await s.session.on_frame(b"8=FIX.4.4\x019=5\x01garbage")
    s.expect_nothing()
    assert s.store.next_target_seq() == 2 and s.session.is_logged_on
    await s.session.on_frame(good)
    assert len(s.app.app_messages) == 1 and s.store.next_target_seq() == 3


@async_test
async def test_sequence_reset_modes() -> None:
    s = Script()
    await s.logon()
    await s.recv("4", (36, 20), seq=999)  # Reset: MsgSeqNum ignored
    assert s.store.next_target_seq() == 20
    await s.recv("4", (36, 10), seq=20)
    s.expect("3", t373=5, t371=36)
    assert s.store.next_target_seq() == 20
    s.peer_seq = 20
    await s.recv("4", (123, "Y"), (36, 25))
    assert s.store.next_target_seq() == 25


@async_test
async def test_comp_id_problem_rejects_and_logs_out() -> None:
    s = Script()
    await s.logon()
    await s.recv("D", *NOS, sender="SOMEONE")
    s.expect("3", t373=9)
    s.expect("5")
    assert s.session.is_connected  # waits for the Logout answer (or logout_timeout_s)
    await s.recv("5", sender="SOMEONE")  # the answer may repeat the wrong CompID
    assert not s.session.is_connected


@async_test
async def test_sending_time_accuracy() -> None:
    s = Script(max_latency_s=120)
    await s.logon()
    await s.recv("0", sending_ns=T0 - 100 * NS)
    s.expect_nothing()
    await s.recv("0", sending_ns=T0 - 121 * NS)
    s.expect("3", t373=10, t371=52)
    s.expect("5")
    await s.tick(3)  # no Logout answer within logout_timeout_s
    assert not s.session.is_connected


@async_test
async def test_invalid_messages_are_rejected_and_consume_a_seq_num() -> None:
    s = Script()
    await s.logon()
    await s.recv("D", *NOS[1:])  # no ClOrdID
    s.expect("3", t45=2, t373=1, t371=11, t372="D")
    await s.recv("D", *NOS, (54, "Z"))
    s.expect("3", t45=3, t373=5, t371=54)
    await s.recv("ZZ", (11, "x"))  # not a MsgType of FIX 4.4
    s.expect("3", t45=4, t373=11, t372="ZZ")
    assert s.store.next_target_seq() == 5 and s.app.app_messages == []
    await s.recv("D", *NOS)
    assert len(s.app.app_messages) == 1


@async_test
async def test_business_reject_and_failing_application() -> None:
    s = Script()
    await s.logon()

    def refuse(message: Message) -> None:
        if message.get(11) == b"BAD":
            raise FixBusinessRejectError(BusinessRejectReason.UNKNOWN_SECURITY, "no such", "BAD")
        if message.get(11) == b"BUG":
            raise RuntimeError("boom")

    s.app.on_from_app = refuse
    await s.recv("D", (11, "BAD"), *NOS[1:])
    s.expect("j", t380=2, t379="BAD", t58="no such")
    await s.recv("D", (11, "BUG"), *NOS[1:])
    s.expect("j", t380=4)
    assert s.session.is_logged_on and s.store.next_target_seq() == 4


@async_test
async def test_outgoing_messages_are_stamped_and_stored() -> None:
    s = Script()
    await s.logon()
    assert s.session.send(order("O1"))
    out = s.expect("D", t34=2, t49="SERVER", t56="CLIENT", t11="O1")
    assert out.get_timestamp(52) == T0
    ((seq, raw),) = s.store.get_sent(2, 2)
    assert codec.parse(raw).get_str(11) == "O1" and seq == 2


@async_test
async def test_send_treats_the_message_as_new_not_as_a_resend() -> None:
    s = Script()
    await s.logon()
    msg = Message.new("D", *NOS)
    msg.set(43, True).set_timestamp(122, T0 - 60 * NS)  # e.g. a message received and forwarded
    assert s.session.send(msg)
    out = s.expect("D", t34=2)
    assert 43 not in out and 122 not in out


@async_test
async def test_rejected_messages_reach_on_reject_and_nothing_else() -> None:
    seen: list[tuple[str, int]] = []
    s = Script()
    s.app.on_reject = lambda m, e, sid: seen.append((m.msg_type, int(e.reason)))  # type: ignore[method-assign]
    await s.logon()
    await s.recv("D", *NOS[1:])
    s.expect("3", t373=1)
    assert seen == [("D", 1)] and s.app.app_messages == []
