"""Cases 14-21: field validation of received messages (session Reject with the right
SessionRejectReason and RefTagID, sequence number consumed), messages with fields in any
order, data fields, PossResend, simultaneous resend requests, empty repeating groups; and the
reversed routing fields of a Reject."""

from __future__ import annotations

import pytest

from tests.fix_conformance.helpers import expect_echo, logged_on_case, order
from tests.fix_conformance.rig import AcceptorRig, Peer, frame


@pytest.mark.parametrize("tag", ["999", "0", "-1", "5000"])
def test_14a_invalid_tag_number(begin: str, tag: str) -> None:
    """14.a: a tag the specification does not define (user-defined fields not allowed here),
    0 or negative: Reject 373=0 referencing it; the sequence number is consumed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0", (tag, "HI"))
        await peer.expect_reject(2, 0, int(tag), "0")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4
        assert [int(e.reason) for _, e in rig.app.rejected] == [0]

    logged_on_case(begin, case)


def test_14a_user_defined_tag_allowed_when_configured(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), (5000, "HI"))
        await expect_echo(peer)

    logged_on_case(begin, case, validation=_validation(allow_user_defined=True))


def test_14b_required_tag_missing(begin: str) -> None:
    """14.b: Reject 373=1; a missing TargetCompID is a header problem, not a CompID problem:
    the session goes on."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send_raw(frame(begin, [(35, 0), (34, 2), (49, "CLIENT"), (52, peer.now())]))
        peer.seq = 3
        await peer.expect_reject(2, 1, 56, "0")
        body = [f for f in order(peer) if f[0] != 55]
        await peer.send("D", *body)
        await peer.expect_reject(3, 1, 55, "D")
        await peer.barrier()

    logged_on_case(begin, case)


def test_14c_tag_not_defined_for_message_type(begin: str) -> None:
    """14.c: Reject 373=2. On FIXT a session-level message is checked against the transport
    dictionary alone: Symbol (55) is not a field there at all (373=0)."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0", (58, "Text"))
        await peer.expect_reject(2, 2, 58, "0")
        await peer.send("0", (55, "MSFT"))
        await peer.expect_reject(3, 0 if peer.fixt else 2, 55, "0")
        await peer.barrier()

    logged_on_case(begin, case)


def test_14d_tag_specified_without_value(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("0", target="")
        await peer.expect_reject(2, 4, 56, "0")
        await peer.barrier()  # the session goes on

    logged_on_case(begin, case)


def test_14e_incorrect_enum_value(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        body = [(f[0], 4) if f[0] == 21 else f for f in order(peer)]
        await peer.send("D", *body)
        await peer.expect_reject(2, 5, 21, "D")
        await peer.send("D", *order(peer), (167, "BOO"))
        await peer.expect_reject(3, 5, 167, "D")
        await peer.send("D", *order(peer), (167, "CS"))
        await expect_echo(peer, t167="CS")

    logged_on_case(begin, case)


def test_14f_incorrect_data_format(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), (38, "+200.00"))
        await peer.expect_reject(2, 6, 38, "D")
        await peer.barrier()

    logged_on_case(begin, case)


def test_14g_header_body_trailer_out_of_order(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        now = peer.now()
        body = [(11, "id"), (21, 3), (40, 1), (54, 1), (55, "MSFT"), (60, now)]
        head = [(34, 2), (49, "CLIENT"), (52, now), (56, "EXECFLOW")]
        await peer.send_raw(frame(begin, [(35, "D"), *body, *head]))
        await peer.expect_reject(2, 14, 34, "D")
        one_first = [(35, "D"), (55, "MSFT"), (34, 3), (49, "CLIENT"), (52, now)]
        await peer.send_raw(frame(begin, [*one_first, (56, "EXECFLOW"), *body[:5]]))
        await peer.expect_reject(3, 14, 34, "D")
        peer.seq = 4
        await peer.barrier()

    logged_on_case(begin, case)


def test_14h_tag_appears_more_than_once(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), (40, 2), (38, "200"))
        await peer.expect_reject(2, 13, 40, "D")
        await peer.barrier()

    logged_on_case(begin, case)


def test_14i_repeating_group_count_not_equal(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        groups = [(386, 3), (336, "PRE-OPEN"), (336, "AFTER-HOURS")]
        await peer.send("D", *order(peer), (38, "200"), *groups)
        await peer.expect_reject(2, 16, 386, "D")
        await peer.barrier()

    logged_on_case(begin, case)


@pytest.mark.parametrize(
    "group,bad_tag",
    [
        ([(453, 1), (452, 1), (448, "DESK"), (447, "D")], 452),  # entry not led by PartyID
        ([(453, 1), (448, "DESK"), (452, 1), (447, "D")], 447),  # PartyIDSource after PartyRole
    ],
)
def test_14j_repeating_group_fields_out_of_order(
    begin: str, group: list[tuple[int, str | int]], bad_tag: int
) -> None:
    """14.j: the fields of a repeating group entry not in the specification's order: Reject
    373=15 referencing the field; the sequence number is consumed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), (38, "100"), *group)
        await peer.expect_reject(2, 15, bad_tag, "D")
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4
        assert [int(e.reason) for _, e in rig.app.rejected] == [15]
        assert rig.app.app_messages == []

    logged_on_case(begin, case)


def test_14k_non_data_value_with_soh_is_garbled(begin: str) -> None:
    """14.k, its second way: a non-data value with an embedded SOH ("55=IB<SOH>M") is garbled:
    ignored, no Reject, the sequence number is not consumed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, symbol="IB\x01M"))
        peer.seq = 2  # not consumed
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 3
        assert rig.app.app_messages == [] and rig.app.rejected == []

    logged_on_case(begin, case)


def test_14l_application_not_available_gets_business_reject_4(begin: str) -> None:
    """14.l (optional): the application layer cannot process the message (here it fails):
    BusinessMessageReject 380=4 (Application not available), the sequence number consumed;
    the session goes on and takes the next message once the application is back."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        rig.app.available = False
        await peer.send("D", *order(peer, "DOWN"), (38, "100"))
        await peer.expect("j", t45=2, t372="D", t380=4)
        await peer.barrier()
        assert rig.session.store.next_target_seq() == 4
        rig.app.available = True
        await peer.send("D", *order(peer, "UP"))
        await expect_echo(peer, "UP")

    logged_on_case(begin, case)


def test_14m_conditionally_required_field_missing(begin: str) -> None:
    """14.m: the application finds a conditionally required field missing (a limit order
    without Price): BusinessMessageReject 380=5; the sequence number is consumed."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        body = [(f[0], 2) if f[0] == 40 else f for f in order(peer, "LIM")]
        await peer.send("D", *body, (38, "100"))
        await peer.expect("j", t45=2, t372="D", t380=5, t379="LIM")
        await peer.barrier()

    logged_on_case(begin, case)


def test_14_data_field_with_soh_is_accepted_and_a_wrong_length_is_garbled(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("1", (112, "DATA"), header=[(212, 5), (213, "a\x01b=c")])
        await peer.expect("0", t112="DATA")
        await peer.send("1", (112, "BAD"), header=[(212, 3), (213, "a\x01b=c")])
        peer.seq = 3  # the garbled message did not consume 3
        await peer.barrier()

    logged_on_case(begin, case)


def test_15_header_and_body_fields_in_any_order_are_accepted(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "id", symbol="MSFT"))
        await expect_echo(peer, "id")
        now = peer.now()
        fields = [(35, "D"), (49, "CLIENT"), (34, 3), (56, "EXECFLOW"), (52, now)]
        body = [(40, 1), (55, "MSFT"), (60, now), (54, 1), (21, 3), (11, "id2")]
        await peer.send_raw(frame(begin, [*fields, *body]))
        await expect_echo(peer, "id2", t55="MSFT")
        peer.seq = 4
        await peer.barrier()

    logged_on_case(begin, case)


def test_19a_poss_resend_already_seen_is_left_to_the_application(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "id"))
        await expect_echo(peer, "id")
        await peer.send("D", *order(peer, "id"), header=[(97, "Y")])
        await peer.barrier()  # the application ignored it; the session consumed it
        assert [m.get(97) for m in rig.app.app_messages] == [None, b"Y"]

    logged_on_case(begin, case)


def test_19b_poss_resend_not_seen_is_processed(begin: str) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "id"), header=[(97, "Y")])
        await expect_echo(peer, "id")

    logged_on_case(begin, case)


def test_20_simultaneous_resend_requests(begin: str) -> None:
    """20: we ask for a resend and they ask for one at the same time: answer theirs at once
    (their ResendRequest is beyond our gap), then take their resends; their request counts as
    received when the gap is filled."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer, "A2"))
        await expect_echo(peer, "A2")
        await peer.send("D", *order(peer, "A3"))
        await expect_echo(peer, "A3")
        await peer.send("0", seq=7)
        await peer.expect("2", t34=4, t7=4, t16=0)
        await peer.send("2", (7, 2), (16, 3), seq=8)
        await peer.expect("D", t34=2, t11="A2", t43="Y")
        await peer.expect("D", t34=3, t11="A3", t43="Y")
        for seq in (4, 5, 6):
            await peer.send("0", seq=seq, header=[(43, "Y"), (122, peer.now())])
        peer.seq = 9
        await peer.barrier()  # 7 (queued) and 8 (answered) are consumed: 9 is in sequence
        await peer.send("5")
        await peer.expect("5", t34=6)
        await peer.expect_disconnect()

    logged_on_case(begin, case, logout=False)


@pytest.mark.parametrize("count_tag", [386, 454])
def test_21_repeating_group_with_count_zero_is_processed(begin: str, count_tag: int) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), (count_tag, 0))
        await expect_echo(peer)

    logged_on_case(begin, case)


@pytest.mark.parametrize(
    "routing,reversed_",
    [
        ([(115, "JCD")], {"t128": "JCD"}),
        ([(128, "JCD")], {"t115": "JCD"}),
        ([(115, "JCD"), (116, "CS")], {"t128": "JCD", "t129": "CS"}),
        ([(128, "JCD"), (129, "CS")], {"t115": "JCD", "t116": "CS"}),
        ([(115, "JCD"), (116, "CS"), (144, "CHI")], {"t128": "JCD", "t129": "CS", "t145": "CHI"}),
        ([(128, "JCD"), (129, "CS"), (145, "CHI")], {"t115": "JCD", "t116": "CS", "t144": "CHI"}),
    ],
)
def test_reject_reverses_routing_fields(
    begin: str, routing: list[tuple[int, str]], reversed_: dict[str, str]
) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        body = [(f[0], "w") if f[0] == 40 else f for f in order(peer)]
        await peer.send("D", *body, header=routing)
        sent = {t for t, _ in routing}
        await peer.expect_reject(2, 5, 40, "D", absent=sent, **reversed_)

    logged_on_case(begin, case)


@pytest.mark.parametrize(
    "routing,empty,reversed_",
    [
        ([(115, "")], 115, {}),
        ([(128, "")], 128, {}),
        ([(115, "JCD"), (116, "")], 116, {"t128": "JCD"}),
        ([(128, "JCD"), (129, "")], 129, {"t115": "JCD"}),
        ([(115, "JCD"), (116, "CS"), (144, "")], 144, {"t128": "JCD", "t129": "CS"}),
        ([(128, "JCD"), (129, "CS"), (145, "")], 145, {"t115": "JCD", "t116": "CS"}),
    ],
)
def test_reject_reverse_route_leaves_out_empty_routing_fields(
    begin: str, routing: list[tuple[int, str]], empty: int, reversed_: dict[str, str]
) -> None:
    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("D", *order(peer), header=routing)
        counterpart = {115: 128, 128: 115, 116: 129, 129: 116, 144: 145, 145: 144}[empty]
        msg = await peer.expect_reject(2, 4, empty, "D", **reversed_)
        assert counterpart not in msg

    logged_on_case(begin, case)


def _validation(*, allow_user_defined: bool) -> object:
    from execflow.fix.validation import ValidationConfig

    return ValidationConfig(allow_user_defined_fields=allow_user_defined)


def test_14_resent_message_failing_validation_is_rejected_and_the_queue_goes_on(
    begin: str,
) -> None:
    """A resent (PossDupFlag=Y) message that fills a gap and breaks the dictionary gets its
    Reject; the queued messages behind it are then processed in order."""

    async def case(rig: AcceptorRig, peer: Peer) -> None:
        await peer.send("1", (112, "HELLO1"), seq=3)
        await peer.expect("2", t7=2, t16=0)
        bad = [*order(peer), (126, "20040415")]  # ExpireTime is a UTCTimestamp
        await peer.send("D", *bad, seq=2, header=[(43, "Y"), (122, peer.now())])
        await peer.expect_reject(2, 6, 126, "D")
        await peer.expect("0", t112="HELLO1")  # the queued TestRequest, in order
        peer.seq = 4
        await peer.send("1", (112, "HELLO2"))
        await peer.expect("0", t112="HELLO2")

    logged_on_case(begin, case)
