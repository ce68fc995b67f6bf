"""The optional cases 9 (synchronise sequence numbers), 17 (support encryption) and 18 (support
third-party addressing).

17: execflow implements no FIX message encryption: a Logon with an EncryptMethod (98) other
than 0 is refused the way 17.b prescribes, and encryption is TLS on the transport (stdlib `ssl`;
the test certificate is made here with `cryptography`). On the EncryptMethod 0 session, a
Signature is checked by the session's `signature_verifier` (17.c-e; here HMAC-SHA256 with a
bilateral key) and SecureData, which nothing can decrypt, gets Reject 373=7 (17.h-j, also
14.n); 17.g (a wrong SecureDataLen is garbled) is the data-length rule every data field follows.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
from collections.abc import Callable

import pytest

from execflow.fix.application import SessionID
from execflow.fix.connection import Initiator, server_tls_context
from tests.fix_conformance.helpers import expect_echo, initiator_case, logged_on_case, order, run
from tests.fix_conformance.rig import (
    OURS,
    T0,
    THEIRS,
    AcceptorRig,
    Field,
    Peer,
    acceptor_rig,
)
from tests.tls_certs import client_context, self_signed


# ---------------------------------------------------------------------- 9
def test_9_lost_state_synchronised_by_sequence_reset(begin: str) -> None:
    """9, first way: after a failure that lost our session state, on the new connection our
    next MsgSeqNum jumps far beyond anything sent (SequenceReset-Reset, 123=N), the next one
    we expect is 1, and the counterparty's retransmissions and gap fills are processed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        for cl in ("A2", "A3"):
            await peer.send("D", *order(peer, cl))
            await expect_echo(peer, cl)
        await peer.logout()  # their 1-4, our 1-4
        rig.session.store.reset(T0)  # the failure: our session state is gone
        again = await rig.connect()
        reply = await again.logon(seq=5)
        assert reply.get(34) == b"1"
        await again.expect("2", t34=2, t7=1, t16=0)
        rig.session.synchronise_sequence_numbers(1000)
        await again.expect("4", t34=3, t123="N", t36=1000, absent=(43,))
        dup = [(43, "Y"), (122, again.now(-5))]
        await again.send("4", (123, "Y"), (36, 2), seq=1, header=dup)  # their Logon
        for seq, cl in ((2, "A2"), (3, "A3")):
            await again.send("D", *order(again, cl), seq=seq, header=dup)
            await expect_echo(again, cl, t34=998 + seq)  # processed, numbered from 1000
        await again.send("4", (123, "Y"), (36, 6), seq=4, header=dup)  # Logout, Logon
        again.seq = 6
        await again.barrier()
        assert rig.session.store.next_target_seq() == 7
        assert rig.session.store.next_sender_seq() == 1003
        await again.logout()

    logged_on_case(begin, case, reset_on_logon=False, logout=False)


def test_9_lost_state_synchronised_before_the_logon(begin: str) -> None:
    """9, first way, set before the Logon (the state was lost in a restart): our Logon goes
    out with the large number (MsgSeqNum 1 would be too low for a counterparty that saw 1-4
    from us), their Logon beyond the 1 we expect gets ResendRequest(1, 0), their
    retransmissions are processed, and their ResendRequest for the skipped range gets a gap
    fill up to the first message still stored."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        for cl in ("A2", "A3"):
            await peer.send("D", *order(peer, cl))
            await expect_echo(peer, cl)
        await peer.logout()  # their 1-4, our 1-4
        rig.session.store.reset(T0)  # the failure: our session state is gone
        rig.session.synchronise_sequence_numbers(1000)
        again = await rig.connect()
        reply = await again.logon(seq=5)
        assert reply.get(34) == b"1000"
        await again.expect("2", t34=1001, t7=1, t16=0)
        dup = [(43, "Y"), (122, again.now(-5))]
        await again.send("4", (123, "Y"), (36, 2), seq=1, header=dup)  # their Logon
        for seq, cl in ((2, "A2"), (3, "A3")):
            await again.send("D", *order(again, cl), seq=seq, header=dup)
            await expect_echo(again, cl, t34=1000 + seq)  # processed, numbered from 1002
        await again.send("4", (123, "Y"), (36, 6), seq=4, header=dup)  # Logout, Logon
        again.seq = 6
        await again.send("2", (7, 5), (16, 0))  # they missed 5-999 and say so now
        await again.expect("4", t34=5, t123="Y", t36=1002, t43="Y")  # 5-999 never sent
        for seq, cl in ((1002, "A2"), (1003, "A3")):  # Logon, ResendRequest: admin, filled
            await again.expect("D", t34=seq, t11=cl, t43="Y")
        await again.barrier()
        assert rig.session.store.next_target_seq() == 8
        assert rig.session.store.next_sender_seq() == 1005
        await again.logout()

    logged_on_case(begin, case, reset_on_logon=False, logout=False)


def test_9_lost_state_both_sides_start_again_at_1(begin: str) -> None:
    """9, second way: both sides reset to 1 and start a new FIX session (Logon 141=Y)."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        for _ in range(4):
            await peer.send("0")
        await peer.barrier()
        rig.session.reset_sequence()
        await peer.expect("A", t34=1, t141="Y")
        body = [(98, 0), (108, 30), (141, "Y"), *([(1137, 9)] if peer.fixt else [])]
        await peer.send("A", *body, seq=1)
        peer.seq = 2
        await peer.send("1", (112, "X"))
        await peer.expect("0", t34=2, t112="X")

    logged_on_case(begin, case)


# ---------------------------------------------------------------------- 17
@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts for 127.0.0.1 with a self-signed certificate made now."""
    cert_file, key_file = self_signed(tmp_path_factory.mktemp("fix-tls"))
    return server_tls_context(cert_file, key_file), client_context(cert_file)


def test_17a_session_over_tls_with_encrypt_method_none(
    begin: str, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    """17.a: the encryption we support is TLS; the Logon's EncryptMethod 0 is answered with 0
    and the session runs as usual."""

    async def case() -> None:
        async with acceptor_rig(begin, tls=tls) as rig:
            peer = await rig.logged_on()  # asserts 98=0 in the answer
            assert peer.writer.get_extra_info("ssl_object") is not None
            await peer.send("D", *order(peer, "TLS1"))
            await expect_echo(peer, "TLS1")
            await peer.logout()

    run(case)


def test_17a_plaintext_connection_to_tls_acceptor_gets_no_session(
    begin: str, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def case() -> None:
        async with acceptor_rig(begin, tls=tls) as rig:
            rig.client_tls = None
            peer = await rig.connect()
            await peer.send("A", (98, 0), (108, 30), *([(1137, 9)] if peer.fixt else []))
            async with asyncio.timeout(15):
                while await peer.reader.read(65536):
                    pass  # a TLS alert at most, never a FIX message
            assert peer.framer.next_frame() is None
            assert rig.app.events == []

    run(case)


def test_17a_initiator_over_tls(begin: str, tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    async def case(peer: Peer, init: Initiator) -> None:
        assert peer.writer.get_extra_info("ssl_object") is not None
        await peer.expect("A", t34=1, t98=0)
        await peer.send("A", (98, 0), (108, 30), *([(1137, 9)] if peer.fixt else []))
        await peer.barrier()
        assert init.sessions[SessionID(begin, OURS, THEIRS)].is_logged_on

    initiator_case(begin, case, tls=tls)


@pytest.mark.parametrize(
    "method,answer_logout", [("1", True), ("2", False), ("6", True), ("7", False), ("X", True)]
)
def test_17b_unsupported_encrypt_method_is_refused(
    begin: str, method: str, answer_logout: bool
) -> None:
    """17.b: Reject 373=7 (Decryption problem) referencing EncryptMethod, NextNumIn
    incremented, Logout naming the value, wait for the Logout answer (or the logout timeout),
    disconnect; nothing else is processed meanwhile and the application never logs on."""

    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.connect()
            await peer.send("A", (98, method), (108, 30), *([(1137, 9)] if peer.fixt else []))
            await peer.expect_reject(1, 7, 98, "A", t34=1)
            logout = await peer.expect("5", t34=2)
            assert f"EncryptMethod (98) {method}".encode() in (logout.get(58) or b"")
            assert rig.session.store.next_target_seq() == 2
            await peer.send("D", *order(peer, "IGNORED"))  # not logged on: not processed
            if answer_logout:
                await peer.send("5")
            else:
                await rig.advance(3)  # past logout_timeout_s
            await peer.expect_disconnect()
            assert rig.app.events == [] and rig.app.app_messages == []
            assert [int(e.reason) for _, e in rig.app.rejected] == [7]

    run(case)


def test_17g_invalid_secure_data_len_is_garbled(begin: str) -> None:
    async def case() -> None:
        async with acceptor_rig(begin) as rig:
            peer = await rig.logged_on()
            bad = [(90, 40), (91, "not-forty-bytes")]
            await peer.send("1", (112, "SECURE"), header=bad)
            peer.seq = 2  # ignored: its number is not consumed
            await peer.barrier()
            assert rig.session.store.next_target_seq() == 3
            await peer.logout()

    run(case)


# 17.c-f, 17.h-j: SecureData and Signature on a session with EncryptMethod 0
KEY = b"bilateral-key"


def _hmac(data: bytes) -> bytes:
    return hmac.new(KEY, data, hashlib.sha256).hexdigest().encode()


def _verifier(signed: bytes, signature: bytes) -> bool:
    return hmac.compare_digest(_hmac(signed), signature)


def signed(
    peer: Peer, msg_type: str, *body: Field, sign: Callable[[bytes], bytes] = _hmac
) -> bytes:
    """A message whose trailer carries SignatureLength (93) and Signature (89): `sign` of the
    bytes from BeginString up to and including the SOH before SignatureLength."""
    raw = peer.build(msg_type, *body, (93, 64), (89, "0" * 64))  # HMAC-SHA256 hex: 64 bytes
    cut = raw.rindex(b"\x0193=") + 1
    signature = sign(raw[:cut])
    assert len(signature) == 64
    out = raw[:cut] + b"93=64\x0189=" + signature + b"\x01"
    return out + b"10=%03d\x01" % (sum(out) & 0xFF)


def test_17c_valid_signature_is_accepted(begin: str) -> None:
    """17.c: SignatureLength and Signature valid (checked by the session's verifier, here
    HMAC-SHA256 with a bilateral key): the message is accepted, application and admin."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send_raw(signed(peer, "D", *order(peer, "SIGNED")))
        await expect_echo(peer, "SIGNED")
        await peer.send_raw(signed(peer, "1", (112, "SIGNED-TR")))
        await peer.expect("0", t112="SIGNED-TR")
        assert [m.get(89) is not None for m in rig.app.app_messages] == [True]

    logged_on_case(begin, case, signature_verifier=_verifier)


@pytest.mark.parametrize("length", ["63", "65", "100", "0"])
def test_17d_invalid_signature_length_gets_reject_8(begin: str, length: str) -> None:
    """17.d: a SignatureLength that does not match the Signature is not garbled (BodyLength
    and CheckSum hold): Reject 373=8 referencing SignatureLength, NextNumIn incremented, the
    session goes on."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        good = signed(peer, "D", *order(peer, "BADLEN"))
        bad = good.replace(b"\x0193=64\x01", b"\x0193=" + length.encode() + b"\x01")
        body = bad[bad.index(b"\x0135=") + 1 : bad.rindex(b"\x0110=") + 1]
        head = b"8=" + begin.encode() + b"\x019=%d\x01" % len(body)
        out = head + body
        await peer.send_raw(out + b"10=%03d\x01" % (sum(out) & 0xFF))
        await peer.expect_reject(2, 8, 93, "D")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4
        assert rig.app.app_messages == []
        assert [int(e.reason) for _, e in rig.app.rejected] == [8]

    logged_on_case(begin, case, signature_verifier=_verifier)


def test_17e_invalid_signature_gets_reject_8(begin: str) -> None:
    """17.e: a Signature that does not verify: Reject 373=8 referencing Signature, NextNumIn
    incremented, the session goes on; without a verifier no Signature can be verified, so a
    signed message is refused the same way."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        forged = signed(peer, "D", *order(peer, "FORGED"), sign=lambda b: b"f" * 64)
        await peer.send_raw(forged)
        await peer.expect_reject(2, 8, 89, "D")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4
        assert rig.app.app_messages == []

    logged_on_case(begin, case, signature_verifier=_verifier)

    async def unverifiable(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send_raw(signed(peer, "D", *order(peer, "SIGNED")))
        reject = await peer.expect_reject(2, 8, 89, "D")
        assert b"no signature method" in (reject.get(58) or b"")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4

    logged_on_case(begin, unverifiable)


@pytest.mark.parametrize(
    "data",
    [
        "\x8f\x13" * 8,  # 17.f/h: SecureData that nothing decrypts
        "11=OTHER\x0155=MSFT\x0140=1\x01",  # 14.n: fields differing from the cleartext
        "34=2\x0152=0000",  # 17.i/j: a header field only inside, leftover characters
    ],
)
def test_17fhij_14n_secure_data_gets_reject_7(begin: str, data: str) -> None:
    """17.h (and 17.i, 17.j, 14.n): SecureData that cannot be decrypted into valid cleartext:
    Reject 373=7 (Decryption problem) referencing SecureData, NextNumIn incremented, the
    session goes on. No encryption method is ever agreed (17.b), so no SecureData can be
    decrypted and 17.f's "can be decrypted" does not arise."""

    secure: list[Field] = [(90, len(data)), (91, data)]

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "SECRET"), header=secure)
        await peer.expect_reject(2, 7, 91, "D")
        await peer.send("1", (112, "HI"), header=secure)
        await peer.expect_reject(3, 7, 91, "1")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 5
        assert rig.app.app_messages == []
        assert [int(e.reason) for _, e in rig.app.rejected] == [7, 7]

    logged_on_case(begin, case)


# ---------------------------------------------------------------------- 18
PROFILE = {
    "on_behalf_of_comp_ids": frozenset({"JCD", "WT"}),
    "deliver_to_comp_ids": frozenset({"DLSI"}),
}


def test_18a_third_party_addressing_is_accepted_and_reversed_in_the_answer(begin: str) -> None:
    """18.a: OnBehalfOf*/DeliverTo* as the profile expects: accepted; the answer goes back
    with the routing reversed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        routed = [(115, "JCD"), (116, "DESK1"), (144, "LDN")]
        await peer.send("D", *order(peer, "R1"), header=routed)
        await expect_echo(peer, "R1", t128="JCD", t129="DESK1", t145="LDN")
        assert all(t not in peer.received[-1] for t in (115, 116, 144))
        await peer.send("D", *order(peer, "R2"), header=[(128, "DLSI"), (129, "OPS")])
        await expect_echo(peer, "R2", t115="DLSI", t116="OPS")
        await peer.send("1", (112, "HI"), header=[(115, "WT")])  # admin messages too
        await peer.expect("0", t112="HI")
        assert [m.get(115) for m in rig.app.app_messages] == [b"JCD", None]

    logged_on_case(begin, case, **PROFILE)


@pytest.mark.parametrize(
    "routing,bad_tag",
    [
        ([(115, "NOBODY")], 115),  # not in the profile
        ([(128, "NOBODY")], 128),
        ([(116, "DESK1")], 116),  # a SubID / LocationID without its CompID
        ([(144, "LDN")], 144),
        ([(129, "OPS")], 129),
        ([(145, "NY")], 145),
        ([(115, "CLIENT")], 115),  # on behalf of the sender itself
        ([(128, "EXECFLOW")], 128),  # to be delivered to its own target
    ],
)
def test_18b_wrong_third_party_addressing_gets_reject_9(
    begin: str, routing: list[tuple[int, str]], bad_tag: int
) -> None:
    """18.b: Reject 373=9 (CompID problem) with RefTagID naming the field; NextNumIn
    incremented; the session goes on (no Logout)."""

    async def case() -> None:
        async with acceptor_rig(
            begin,
            on_behalf_of_comp_ids=frozenset({"JCD", "CLIENT"}),
            deliver_to_comp_ids=frozenset({"DLSI", "EXECFLOW"}),
        ) as rig:
            peer = await rig.logged_on()
            await peer.send("D", *order(peer), header=routing)
            await peer.expect_reject(2, 9, bad_tag, "D")
            await peer.barrier()
            assert rig.session.store.next_target_seq() == 4
            assert rig.app.app_messages == []
            await peer.logout()

    run(case)
