"""Cases 1S (session acceptor) and 1B (session initiator): logon and session initiation."""

from __future__ import annotations

import pytest

from execflow.fix.application import SessionID
from execflow.fix.connection import Initiator
from tests.fix_conformance.helpers import initiator_case, run
from tests.fix_conformance.rig import (
    OURS,
    THEIRS,
    Peer,
    acceptor_rig,
    frame,
)


# ---------------------------------------------------------------------- 1S: we accept
def test_1s_a_valid_logon_is_answered_without_reset_flag(begin: str) -> None:
    """1S.a: a valid Logon is answered by a Logon; ResetSeqNumFlag only when asked for (we
    reset our own numbers on logon, which is no reason to ask the counterparty to reset)."""

    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            reply = await peer.logon(heartbeat=30, expect_reset=False)
            assert reply.get(34) == b"1"
            await peer.barrier()
            assert rig.app.events == ["logon"]
            await peer.logout()

    run(case)


def test_1s_a_logon_asking_for_reset_is_answered_with_reset_flag(begin: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin, reset_on_logon=False) as rig:
            rig.session.store.set_next_sender_seq(40)
            rig.session.store.set_next_target_seq(30)
            peer = await rig.connect()
            reply = await peer.logon(reset=True, seq=1)
            assert reply.get(34) == b"1"
            await peer.barrier()
            await peer.logout()

    run(case)


def test_1s_a_logon_with_seq_num_too_high_is_answered_then_resend_requested(begin: str) -> None:
    """1S.a.2: Logon answered, then ResendRequest from the expected number (the Logon itself
    counts as received when the gap is filled)."""

    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            await peer.logon(seq=5)
            await peer.expect("2", t7=1, t16=0)
            await peer.send("4", (123, "Y"), (36, 5), seq=1, header=[(43, "Y"), (122, peer.now())])
            await peer.barrier()  # TestRequest 6: no second ResendRequest, answered in sequence
            assert rig.session.store.next_target_seq() == 7
            await peer.logout()

    run(case)


def test_1s_b_duplicate_identity_is_disconnected_without_a_message(begin: str) -> None:
    """1S.b: a second connection for a logged-on session: disconnect, send nothing (a message
    would consume a sequence number); the first session goes on."""

    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            first = await rig.logged_on()
            second = await rig.connect()
            await second.send("A", (98, 0), (108, 30), *([(1137, 9)] if second.fixt else []))
            await second.expect_disconnect()
            await first.barrier()
            await first.logout()

    run(case)


@pytest.mark.parametrize("which", ["sender", "target"])
def test_1s_c_logon_with_unknown_comp_id_is_disconnected(begin: str, which: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            kw = {"sender": "WT"} if which == "sender" else {"target": "DLSI"}
            await peer.send("A", (98, 0), (108, 30), *([(1137, 9)] if peer.fixt else []), **kw)
            await peer.expect_disconnect()
            assert rig.app.events == []

    run(case)


def test_1s_d_logon_with_bad_sending_time_gets_logout_and_disconnect(begin: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            body = [(98, 0), (108, 30), *([(1137, 9)] if peer.fixt else [])]
            await peer.send("A", *body, sending="20010101-00:00:00")
            logout = await peer.expect("5")
            assert b"SendingTime" in (logout.get(58) or b"")
            await peer.expect_disconnect()
            assert rig.app.events == []

    run(case)


def test_1s_d_logon_with_bad_body_length_disconnects_at_once(begin: str) -> None:
    """1S.d: an invalid first message (BodyLength wrong) ends the connection at once, not at
    the logon timeout (the rig's is an hour)."""

    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            data = peer.build("A", (98, 0), (108, 30), body_length=40)
            await peer.send_raw(data)
            await peer.expect_disconnect()

    run(case)


def test_1s_d_logon_with_wrong_begin_string_is_disconnected(begin: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            await peer.send("A", (98, 0), (108, 30), begin="FIX.3.9")
            await peer.expect_disconnect()

    run(case)


def test_1s_d_invalid_logon_gets_logout_and_disconnect(begin: str) -> None:
    """1S.d: a Logon that breaks the dictionary (FIXT: no DefaultApplVerID; FIX.4.4: no
    HeartBtInt): Logout naming the problem, disconnect; no logon reaches the application."""

    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            body = [(98, 0)] if not peer.fixt else [(98, 0), (108, 30)]
            await peer.send("A", *body)
            logout = await peer.expect("5")
            assert b"required" in (logout.get(58) or b"").lower(), logout.to_text()
            await peer.expect_disconnect()
            assert rig.app.events == [] and len(rig.app.rejected) == 1

    run(case)


def test_1s_e_first_message_not_a_logon_disconnects_at_once(begin: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            await peer.send("0")
            await peer.expect_disconnect()
            # and with unknown CompIDs as well
            other = await rig.connect()
            await other.send("0", target="DLSI")
            await other.expect_disconnect()

    run(case)


# ---------------------------------------------------------------------- 1B: we initiate
def test_1b_a_b_c_initiator_connects_logs_on_and_accepts_valid_logon(begin: str) -> None:
    """1B.a-c: connect, send a Logon (no reset flag unless configured), a valid Logon answer
    with MsgSeqNum too high makes us ask for a resend."""

    async def case(peer: Peer, init: Initiator) -> None:
        logon = await peer.expect("A", t34=1, t98=0, t108=30, absent=(141,))
        if peer.fixt:
            assert logon.get(1137) == b"9"
        await peer.send("A", (98, 0), (108, 30), *([(1137, 9)] if peer.fixt else []), seq=3)
        peer.seq = 4
        await peer.expect("2", t7=1, t16=0)
        await peer.send("4", (123, "Y"), (36, 3), seq=1, header=[(43, "Y"), (122, peer.now())])
        await peer.barrier()
        assert init.sessions[SessionID(begin, OURS, THEIRS)].is_logged_on

    initiator_case(begin, case, heartbeat_interval_s=30)


def test_1b_b_initiator_with_reset_on_logon_sends_reset_flag(begin: str) -> None:
    async def case(peer: Peer, init: Initiator) -> None:
        await peer.expect("A", t34=1, t141="Y")
        body = [(98, 0), (108, 30), (141, "Y"), *([(1137, 9)] if peer.fixt else [])]
        await peer.send("A", *body)
        await peer.barrier()

    initiator_case(begin, case, reset_on_logon=True)


@pytest.mark.parametrize("problem", ["sending_time", "comp_id", "missing_heartbeat"])
def test_1b_d_invalid_logon_answer_gets_logout_and_disconnect(begin: str, problem: str) -> None:
    async def case(peer: Peer, init: Initiator) -> None:
        await peer.expect("A")
        appl = [(1137, 9)] if peer.fixt else []
        if problem == "sending_time":
            await peer.send("A", (98, 0), (108, 30), *appl, sending="20010101-00:00:00")
        elif problem == "comp_id":
            await peer.send("A", (98, 0), (108, 30), *appl, sender="WT")
        else:
            await peer.send("A", (98, 0), *appl)
        await peer.expect("5")
        await peer.expect_disconnect()

    initiator_case(begin, case)


def test_1b_e_first_message_not_a_logon_gets_logout_and_disconnect(begin: str) -> None:
    async def case(peer: Peer, init: Initiator) -> None:
        await peer.expect("A")
        await peer.send("0")
        logout = await peer.expect("5")
        assert b"Logon" in (logout.get(58) or b"")
        await peer.expect_disconnect()

    initiator_case(begin, case)


def test_1b_garbled_logon_answer_disconnects(begin: str) -> None:
    async def case(peer: Peer, init: Initiator) -> None:
        await peer.expect("A")
        await peer.send_raw(frame(begin, [(35, "A"), (34, 1)], checksum="999"))
        await peer.expect_disconnect()

    initiator_case(begin, case)
