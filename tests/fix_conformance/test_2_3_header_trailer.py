"""Cases 2 (receive message standard header) and 3 (receive message standard trailer)."""

from __future__ import annotations

import pytest

from tests.fix_conformance.helpers import expect_echo, logged_on_case, order
from tests.fix_conformance.rig import AcceptorRig, Peer, frame


@pytest.mark.parametrize("case_id", ["2a", "2h", "2j", "2l", "2p", "2s", "3a", "3d"])
def test_valid_header_and_trailer_are_accepted(begin: str, case_id: str) -> None:
    """2.a MsgSeqNum as expected, 2.h BeginString, 2.j CompIDs, 2.l BodyLength, 2.p MsgType,
    2.s BeginString, BodyLength and MsgType first, 3.a CheckSum, 3.d CheckSum last with three
    digits: the same stimulus (a valid message) and the same expectation: accepted, the next
    one in sequence too."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, case_id))
        await expect_echo(peer, case_id)
        await peer.send("1", (112, case_id))
        await peer.expect("0", t112=case_id)
        assert rig.session.store.next_target_seq() == 4

    logged_on_case(begin, case)


@pytest.mark.parametrize("checksum", ["0{:03d}", "{:03d}x", " {:03d}"])
def test_3e_checksum_not_three_digits_is_garbled(begin: str, checksum: str) -> None:
    """3.e: a CheckSum that is not three digits (here: the right value written otherwise)
    is garbled: ignored, its sequence number not consumed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        good = peer.build("1", (112, "BAD"), seq=2)
        value = int(good[-4:-1])
        await peer.send("1", (112, "BAD"), seq=2, checksum=checksum.format(value))
        peer.seq = 2
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 3

    logged_on_case(begin, case)


def test_2b_msg_seq_num_too_high_asks_for_resend_and_queues(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        for _ in range(3):
            await peer.send("0")  # 2, 3, 4
        await peer.send("D", *order(peer, "LATE"), seq=10)
        await peer.expect("2", t7=5, t16=0)
        for seq in range(5, 10):
            await peer.send("0", seq=seq, header=[(43, "Y"), (122, peer.now())])
        await expect_echo(peer, "LATE")  # the queued message, processed in order
        peer.seq = 11
        await peer.barrier()

    logged_on_case(begin, case)


def test_2c_msg_seq_num_too_low_logs_out(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        for _ in range(3):
            await peer.send("0")
        await peer.send("0", seq=2)
        logout = await peer.expect("5")
        assert logout.get(58) == b"MsgSeqNum too low, expecting 5 but received 2"
        await peer.expect_disconnect()

    logged_on_case(begin, case, logout=False)


def test_2d_garbled_message_is_ignored(begin: str) -> None:
    """2.d: garbled messages (BodyLength wrong, a tag that is not a number) are ignored: no
    Reject, no sequence number consumed; the gap is then seen and resent."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        now = peer.now()
        await peer.send_raw(
            frame(begin, [(35, 0), (34, 2), ("4garbled9", "CLIENT"), (52, now), (56, "X")])
        )
        await peer.send("0", seq=2)
        await peer.send_raw(
            frame(begin, [(35, "D"), (34, 3), ("49garbled", "CLIENT"), (52, now), (56, "X")])
        )
        peer.seq = 4
        await peer.send("0")  # 4: 3 is missing
        await peer.expect("2", t7=3, t16=0)
        await peer.send("D", *order(peer), seq=3, header=[(43, "Y"), (122, peer.now())])
        await expect_echo(peer)
        await peer.barrier()

    logged_on_case(begin, case)


def test_2e_poss_dup_already_received_is_ignored_not_received_is_processed(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "A1"))  # 2
        await expect_echo(peer, "A1")
        await peer.send("D", *order(peer, "A1"), seq=2, header=[(43, "Y"), (122, peer.now())])
        await peer.barrier()  # 3: nothing for the duplicate
        await peer.send("D", *order(peer, "A2"), header=[(43, "Y"), (122, peer.now())])
        await expect_echo(peer, "A2")  # 4: possible duplicate, not seen: processed
        assert [m.get(11) for m in rig.app.app_messages] == [b"A1", b"A2"]

    logged_on_case(begin, case)


def test_2f_poss_dup_orig_sending_time_later_than_sending_time(begin: str) -> None:
    """2.f: Reject 373=10 (SendingTime accuracy problem) and Logout, also when the MsgSeqNum
    is lower than expected (a possible duplicate is checked before it is dropped)."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "A1"))  # 2
        await expect_echo(peer, "A1")
        await peer.send("D", *order(peer, "A2"))  # 3
        await expect_echo(peer, "A2")
        later = peer.now(10)
        await peer.send("D", *order(peer, "A1"), seq=2, header=[(43, "Y"), (122, later)])
        await peer.expect_reject(2, 10, None, "D")
        await peer.expect("5")
        await peer.send("5")  # our answer to their Logout: they disconnect
        await peer.expect_disconnect()
        assert len(rig.app.rejected) == 1

    logged_on_case(begin, case, logout=False)


def test_2f_in_sequence_poss_dup_orig_sending_time_later(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), header=[(43, "Y"), (122, peer.now(10))])
        await peer.expect_reject(2, 10, None, "D")
        await peer.expect("5")
        await rig.advance(3)  # no Logout answer: disconnect after the logout timeout
        await peer.expect_disconnect()

    logged_on_case(begin, case, logout=False)


def test_2g_poss_dup_without_orig_sending_time(begin: str) -> None:
    """2.g: Reject 373=1 RefTagID 122; a lower MsgSeqNum is not consumed (again)."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "A1"))
        await expect_echo(peer, "A1")
        await peer.send("D", *order(peer, "A2"))
        await expect_echo(peer, "A2")
        await peer.send("D", *order(peer, "A1"), seq=2, header=[(43, "Y")])
        await peer.expect_reject(2, 1, 122, "D")
        await peer.barrier()  # 4: the sequence number was not consumed
        # in sequence: rejected and consumed
        await peer.send("D", *order(peer, "A3"), header=[(43, "Y")])
        await peer.expect_reject(5, 1, 122, "D")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 7

    logged_on_case(begin, case)


@pytest.mark.parametrize("answer_logout", [True, False])
def test_2i_unexpected_begin_string_logs_out(begin: str, answer_logout: bool) -> None:
    """2.i: Logout naming the BeginString (readable text, not a bytes repr), then disconnect
    on the Logout answer or after the logout timeout."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("1", (112, "id"), begin="FIX.4.1")
        logout = await peer.expect("5")
        assert logout.get(58) == b"Incorrect BeginString FIX.4.1"
        if answer_logout:
            await peer.send("5")
        else:
            await rig.advance(3)
        await peer.expect_disconnect()

    logged_on_case(begin, case, logout=False)


@pytest.mark.parametrize("sender,target", [("WT", "EXECFLOW"), ("CLIENT", "DLSI"), ("WT", "DLSI")])
def test_2k_comp_id_not_matching_profile(begin: str, sender: str, target: str) -> None:
    """2.k: Reject 373=9, Logout, wait for the Logout answer (which will likely carry the same
    wrong CompIDs), disconnect."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), sender=sender, target=target)
        await peer.expect_reject(2, 9, None, "D")
        await peer.expect("5")
        await peer.send("5", sender=sender, target=target)
        await peer.expect_disconnect()
        assert rig.app.app_messages == []

    logged_on_case(begin, case, logout=False)


def test_2m_body_length_wrong_is_ignored(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), seq=2, body_length=30)  # too short
        await peer.send("D", *order(peer, "B"), seq=3)
        await peer.expect("2", t7=2, t16=0)
        await peer.send("D", *order(peer, "A"), seq=2, header=[(43, "Y"), (122, peer.now())])
        await expect_echo(peer, "A")
        await expect_echo(peer, "B")
        good = peer.build("D", *order(peer, "C"), seq=4)
        length = int(good.split(b"\x01")[1][2:])
        too_long = peer.build("D", *order(peer, "C"), seq=4, body_length=length + 10)
        await peer.send_raw(too_long)  # dropped up to the next message start
        await peer.send("D", *order(peer, "D"), seq=5)
        await peer.expect("2", t7=4, t16=0)
        await peer.send("D", *order(peer, "C"), seq=4, header=[(43, "Y"), (122, peer.now())])
        await expect_echo(peer, "C")
        await expect_echo(peer, "D")
        peer.seq = 6
        await peer.barrier()

    logged_on_case(begin, case)


def test_2n_sending_time_within_two_minutes_is_accepted(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0", sending=peer.now(-110))
        await peer.send("0", sending=peer.now(110))
        await peer.barrier()

    logged_on_case(begin, case)


@pytest.mark.parametrize("offset_s", [-121, 121])
def test_2o_sending_time_out_of_range(begin: str, offset_s: int) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0", sending=peer.now(offset_s))
        await peer.expect_reject(2, 10, None, "0")
        await peer.expect("5")
        await peer.send("5", sending=peer.now(offset_s))
        await peer.expect_disconnect()

    logged_on_case(begin, case, logout=False)


@pytest.mark.parametrize("msg_type", ["*", "ZZ"])
def test_2q_msg_type_not_valid_gets_session_reject_11(begin: str, msg_type: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send(msg_type)
        await peer.expect_reject(2, 11, None, msg_type)
        await peer.barrier()  # consumed
        assert rig.session.store.next_target_seq() == 4

    logged_on_case(begin, case)


def test_2r_valid_but_unsupported_msg_type_gets_business_reject(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        body = [(37, "id"), (17, "id"), (150, 0), (39, 0), (55, "WLRI"), (54, 1)]
        await peer.send("8", *body, (151, 100), (14, 0), (6, "0.0"))
        await peer.expect("j", t45=2, t372="8", t380=3)
        await peer.send("B", (58, "news"))  # a FIX MsgType our dictionary does not describe
        await peer.expect("j", t45=3, t372="B", t380=3)
        await peer.barrier()

    logged_on_case(begin, case)


def test_2t_first_three_fields_out_of_order_is_garbled(begin: str) -> None:
    """2.t: MsgType not the third field: garbled, ignored, sequence number not consumed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        now = peer.now()
        # MsgType before BeginString: garbage before 8=FIX, then a frame without 35
        await peer.send_raw(b"35=0\x01" + frame(begin, [(34, 2), (49, "CLIENT"), (52, now)]))
        await peer.send("1", (112, "HELLO"), seq=2)
        await peer.expect("0", t112="HELLO")
        # MsgSeqNum third, MsgType fourth
        await peer.send_raw(frame(begin, [(34, 3), (35, 0), (49, "CLIENT"), (52, now)]))
        await peer.send("1", (112, "HELLO"), seq=3)
        await peer.expect("0", t112="HELLO")
        peer.seq = 4
        await peer.barrier()
        assert rig.app.rejected == []

    logged_on_case(begin, case)


def test_3b_invalid_checksum_is_ignored(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0", seq=2, checksum="256")
        await peer.send("0", seq=2)
        await peer.send("D", *order(peer), seq=3, checksum="256")
        await peer.send("0", seq=4)
        await peer.expect("2", t7=3, t16=0)
        await peer.send("D", *order(peer), seq=3, header=[(43, "Y"), (122, peer.now())])
        await expect_echo(peer)
        peer.seq = 5
        await peer.barrier()

    logged_on_case(begin, case)


def test_3c_garbled_message_is_ignored(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        data = peer.build("0", seq=2).replace(b"\x0149=", b"\x0149garbled=")
        await peer.send_raw(data)
        await peer.send("0", seq=2)
        peer.seq = 3
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4

    logged_on_case(begin, case)
