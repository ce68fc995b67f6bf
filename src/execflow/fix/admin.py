"""Builders of the session-level (admin) messages a session sends. Header fields (34, 49, 52,
56) are stamped by the session when it sends them."""

from __future__ import annotations

from typing import Final

from execflow.fix.message import Message

#: Session-level MsgTypes: Heartbeat, TestRequest, ResendRequest, Reject, SequenceReset,
#: Logout, Logon.
ADMIN_MSG_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})


def logon(heartbeat_s: int, reset: bool, default_appl_ver_id: str | None = None) -> Message:
    msg = Message.new("A", (98, 0), (108, heartbeat_s))
    if reset:
        msg.set(141, b"Y")
    if default_appl_ver_id is not None:
        msg.set(1137, default_appl_ver_id)
    return msg


def logout(text: str = "") -> Message:
    msg = Message.new("5")
    if text:
        msg.set(58, text)
    return msg


def heartbeat(test_req_id: bytes | None = None) -> Message:
    msg = Message.new("0")
    if test_req_id is not None:
        msg.set(112, test_req_id)
    return msg


def test_request(test_req_id: str) -> Message:
    return Message.new("1", (112, test_req_id))


def resend_request(begin: int, end: int = 0) -> Message:
    return Message.new("2", (7, begin), (16, end))


#: Routing fields of a received message and where they go in the answer to it
#: (OnBehalfOf* <-> DeliverTo*: CompID, SubID, LocationID).
REVERSE_ROUTE: Final = ((115, 128), (128, 115), (116, 129), (129, 116), (144, 145), (145, 144))


def reverse_route(ref: Message, answer: Message) -> Message:
    """Copy the routing fields of `ref` into `answer`, reversed (empty ones are left out)."""
    for src, dst in REVERSE_ROUTE:
        value = ref.get(src)
        if value:
            answer.set(dst, value)
    return answer


def reject(ref: Message, reason: int, text: str, ref_tag: int | None) -> Message:
    msg = reverse_route(ref, Message.new("3", (45, ref.seq_num or 0)))
    if ref_tag is not None:
        msg.set(371, ref_tag)
    if ref.msg_type:
        msg.set(372, ref.msg_type)
    return msg.set(373, reason).set(58, text)


def business_reject(ref: Message, reason: int, text: str, ref_id: str | None) -> Message:
    msg = reverse_route(ref, Message.new("j", (45, ref.seq_num or 0), (372, ref.msg_type or "?")))
    if ref_id:
        msg.set(379, ref_id)
    return msg.set(380, reason).set(58, text)


def mark_poss_dup(msg: Message, sending_time: bytes) -> Message:
    """Turn a stored message into its resend: PossDupFlag=Y, OrigSendingTime = the original
    SendingTime, SendingTime = now (already formatted)."""
    orig = msg.get(52)
    msg.set(43, b"Y")
    msg.remove(122)
    msg.remove(52)
    msg.set(52, sending_time)
    if orig is not None:
        msg.set(122, orig)
    return msg
