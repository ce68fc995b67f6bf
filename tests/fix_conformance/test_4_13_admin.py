"""Cases 4-13 and 16: heartbeats, TestRequest, Reject, ResendRequest, SequenceReset (gap fill
and reset), logout, messages queued while disconnected; plus the sequence reset by Logon 141=Y
during a session."""

from __future__ import annotations

from execflow.fix.message import Message
from tests.fix_conformance.helpers import expect_echo, logged_on_case, order, run
from tests.fix_conformance.rig import AcceptorRig, Peer, acceptor_rig


def test_4a_heartbeat_after_heart_bt_int_without_data(begin: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.logged_on(heartbeat=3)
            await rig.advance(3)
            await peer.expect("0", absent=(112,))
            await peer.send("0")
            await peer.barrier()  # their Heartbeat has been processed (and answered)
            await rig.advance(3)
            await peer.expect("0", absent=(112,))
            await peer.send("0")
            await peer.logout()

    run(case)


def test_4b_test_request_is_answered_with_its_test_req_id(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("1", (112, "HELLO"))
        await peer.expect("0", t112="HELLO")

    logged_on_case(begin, case)


def test_5_heartbeat_is_accepted(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4

    logged_on_case(begin, case)


def test_6_test_request_then_wait_for_the_answer_then_disconnect(begin: str) -> None:
    """6: no message for HeartBtInt + 20 %: TestRequest (TestReqID as configured). Answered:
    the session goes on. Not answered: no Heartbeat while waiting, disconnect after the grace
    period."""

    async def case() -> None:
        async with acceptor_rig(begin, test_request_id="TEST-{n}") as rig:
            peer = await rig.logged_on(heartbeat=10)
            await rig.advance(10)
            await peer.expect("0")  # we were silent for HeartBtInt
            await rig.advance(2)  # they were silent for 12 s
            test_req = await peer.expect("1", t112="TEST-1")
            await peer.send("0", (112, test_req.get_str(112)))
            await peer.barrier()
            await rig.advance(10)
            await peer.expect("0")
            await rig.advance(2)
            await peer.expect("1", t112="TEST-2")
            await rig.advance(11)  # waiting for the answer: no Heartbeat
            await rig.advance(1)  # 1.2 x HeartBtInt after the TestRequest
            await peer.expect_disconnect()
            assert rig.app.events == ["logon", "logout"]

    run(case)


def test_7_reject_is_accepted_and_consumes_its_seq_num(begin: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.logged_on()
            await peer.send("3", (45, 1), (58, "your logon was odd"))
            await peer.barrier()
            assert rig.session.store.next_target_seq() == 4
            await peer.logout()

    run(case)


def test_8_resend_request_admin_and_application_messages(begin: str) -> None:
    """8: application messages are resent (PossDupFlag=Y, OrigSendingTime), runs of admin
    messages gap-filled (SequenceReset 123=Y with PossDupFlag=Y); 16=0 means 'to the end';
    resends do not consume sequence numbers."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        for _ in range(3):  # our 2, 3, 4: Heartbeats
            await peer.send("1", (112, "HELLO"))
            await peer.expect("0", t112="HELLO")
        await peer.send("D", *order(peer, "A5"))
        await expect_echo(peer, "A5")
        await peer.send("D", *order(peer, "A6"))
        await expect_echo(peer, "A6")
        for _ in range(2):  # 7, 8
            await peer.send("1", (112, "HELLO"))
            await peer.expect("0", t112="HELLO")
        await peer.send("D", *order(peer, "A9"))
        await expect_echo(peer, "A9")

        async def gap_fill(seq: int, new_seq: int) -> None:
            gf = await peer.expect("4", t34=seq, t36=new_seq, t123="Y", t43="Y")
            assert gf.get(122)

        async def resent(seq: int, cl_ord_id: str) -> None:
            msg = await peer.expect("D", t34=seq, t11=cl_ord_id, t43="Y")
            assert msg.get(122)

        await peer.send("2", (7, 2), (16, 4))
        await gap_fill(2, 5)
        await peer.send("2", (7, 2), (16, 6))
        await gap_fill(2, 5)
        await resent(5, "A5")
        await resent(6, "A6")
        await peer.send("2", (7, 2), (16, 8))
        await gap_fill(2, 5)
        await resent(5, "A5")
        await resent(6, "A6")
        await gap_fill(7, 9)
        await peer.send("2", (7, 2), (16, 0))
        await gap_fill(2, 5)
        await resent(5, "A5")
        await resent(6, "A6")
        await gap_fill(7, 9)
        await resent(9, "A9")
        await peer.send("1", (112, "HELLO"))
        await peer.expect("0", t34=10, t112="HELLO")

    logged_on_case(begin, case)


def test_10a_gap_fill_with_seq_num_too_high_asks_for_resend(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("4", (36, 20), (123, "Y"), seq=10)
        await peer.expect("2", t7=2, t16=0)
        await peer.send("4", (36, 10), (123, "Y"), seq=2, header=[(43, "Y"), (122, peer.now())])
        peer.seq = 20
        await peer.barrier()  # the queued gap fill moved us to 20

    logged_on_case(begin, case)


def test_10b_gap_fill_in_sequence_moves_the_expected_number(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("4", (36, 20), (123, "Y"))
        peer.seq = 20
        await peer.barrier()

    logged_on_case(begin, case)


def test_10c_gap_fill_with_seq_num_too_low(begin: str) -> None:
    """10.c: PossDupFlag=Y: ignored; without it: Logout 'MsgSeqNum too low', disconnect."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("4", (36, 20), (123, "Y"), seq=1, header=[(43, "Y"), (122, peer.now(-1))])
        await peer.barrier()
        await peer.send("4", (36, 20), (123, "Y"), seq=1)
        logout = await peer.expect("5")
        assert logout.get(58) == b"MsgSeqNum too low, expecting 3 but received 1"
        await peer.expect_disconnect()

    logged_on_case(begin, case, logout=False)


def test_10d_gap_fill_lowering_the_expected_number_is_rejected(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0")  # 2
        await peer.send("4", (36, 2), (123, "Y"))  # 3, NewSeqNo 2
        await peer.expect_reject(3, 5, 36, "4")
        await peer.barrier()  # 4

    logged_on_case(begin, case)


def test_11a_sequence_reset_greater(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("4", (36, 25), seq=0)
        peer.seq = 25
        await peer.barrier()
        await peer.send("4", (36, 50), (123, "N"), seq=0)
        peer.seq = 50
        await peer.barrier()

    logged_on_case(begin, case)


def test_11b_sequence_reset_equal(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("4", (36, 2), seq=0)
        await peer.barrier()
        await peer.send("4", (36, 3), (123, "N"), seq=0)
        await peer.barrier()

    logged_on_case(begin, case)


def test_11c_sequence_reset_lower_is_rejected(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("4", (36, 1), seq=0)
        await peer.expect_reject(0, 5, None, "4")
        await peer.barrier()
        await peer.send("4", (36, 1), (123, "N"), seq=0)
        await peer.expect_reject(0, 5, None, "4")
        await peer.barrier()

    logged_on_case(begin, case)


def test_12_initiate_logout_answered(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await rig.session.logout("end of day")
        await peer.expect("5", t58="end of day")
        await peer.send("5")
        await peer.expect_disconnect()
        assert rig.app.events == ["logon", "logout"]

    logged_on_case(begin, case, logout=False)


def test_12_initiate_logout_not_answered(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await rig.session.logout()
        await peer.expect("5")
        await rig.advance(1)
        await peer.send("1", (112, "STILL-HERE"))  # messages are still processed
        await peer.expect("0", t112="STILL-HERE")
        await rig.advance(2)  # past logout_timeout_s
        await peer.expect_disconnect()

    logged_on_case(begin, case, logout=False)


def test_13a_logout_answer_to_ours_disconnects(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await rig.session.logout()
        await peer.expect("5")
        await peer.send("5")
        await peer.expect_disconnect()
        logouts = [m for m in rig.app.admin_messages if m.msg_type == "5"]
        assert len(logouts) == 1  # from_admin once per Logout

    logged_on_case(begin, case, logout=False)


def test_13b_unsolicited_logout_is_answered(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("5", (58, "bye"))
        await peer.expect("5")
        await peer.expect_disconnect()
        logouts = [m for m in rig.app.admin_messages if m.msg_type == "5"]
        assert len(logouts) == 1  # from_admin once per Logout
        assert rig.app.events == ["logon", "logout"]

    logged_on_case(begin, case, logout=False)


def test_reset_seq_num_flag_during_session_resets_both_numbers(begin: str) -> None:
    """Logon 141=Y during a session (MsgSeqNum 1): both sequence numbers start again at 1
    and the answer is a Logon 141=Y."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        for _ in range(8):
            await peer.send("0")
        await peer.send("1", (112, "1"))
        await peer.expect("0", t34=2, t112="1")
        reply = await peer.logon(reset=True, seq=1)
        assert reply.get(34) == b"1"
        await peer.send("1", (112, "2"))
        await peer.expect("0", t34=2, t112="2")

    logged_on_case(begin, case)


def test_16_messages_sent_while_disconnected_are_recovered_by_resend(begin: str) -> None:
    """16 (optional): a message the application sends while the counterparty is away keeps
    its sequence number; after the next Logon the counterparty sees the gap, asks, and gets it
    resent (PossDupFlag=Y); admin messages in the range are gap-filled."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.logout()  # our 1 Logon, 2 Logout; their 1, 2
        assert not rig.session.send(Message.new("D", *order(peer, "WHILE-AWAY")))
        again = await rig.connect()
        again.seq = 3
        reply = await again.logon(seq=3)
        assert reply.get(34) == b"4"  # 3 went to the store
        await again.send("2", (7, 3), (16, 0))
        resent = await again.expect("D", t34=3, t11="WHILE-AWAY", t43="Y")
        assert resent.get(122)
        await again.expect("4", t34=4, t36=5, t123="Y", t43="Y")  # our Logon: gap-filled
        await again.barrier()
        await again.logout()

    logged_on_case(begin, case, reset_on_logon=False, logout=False)
