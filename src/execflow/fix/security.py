"""Message-level security of the FIX session layer: SecureData and Signature (test case 17).

execflow agrees no FIX message encryption: a Logon asking for an EncryptMethod (98) other than
0 is refused (17.b, in the session), and confidentiality is TLS on the transport. On a session
with EncryptMethod 0 ("None / other"):

* SecureDataLen (90) / SecureData (91) can never be decrypted: Reject 373=7 (Decryption
  problem) referencing SecureData, the sequence number consumed, the session goes on. This is
  what 17.h prescribes for SecureData that cannot be decrypted, and it also answers 17.i, 17.j
  and 14.n (their SecureData cannot be decrypted either). A SecureDataLen that does not match
  its data is garbled (17.g), like every data field.
* SignatureLength (93) / Signature (89) are checked with the session's `signature_verifier`
  (a bilateral "other" method: a callable taking the signed bytes, the message from BeginString
  up to and including the SOH before SignatureLength, and the Signature value). A signature
  that verifies is accepted (17.c); a SignatureLength that does not match its Signature (17.d),
  a Signature that does not verify (17.e) or any Signature without a verifier (nothing can be
  verified) gets Reject 373=8 (Signature problem), the sequence number consumed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from execflow.fix import codec
from execflow.fix.dictionary import DataDictionary
from execflow.fix.errors import FixParseError, FixValidationError
from execflow.fix.errors import SessionRejectReason as R
from execflow.fix.message import Message

#: (signed bytes, Signature (89) value) -> whether the signature is valid.
SignatureVerifier = Callable[[bytes, bytes], bool]

_TRAILER_END: Final = [93, 89, 10]


def parse_with_bad_signature_length(frame: bytes, dictionary: DataDictionary) -> Message | None:
    """A frame the codec refused only because SignatureLength (93) does not match its
    Signature (89), read again with the Signature up to the next SOH (test case 17.d: a
    Signature problem the session answers, not a garbled message). None when that is not what
    is wrong with it."""
    if b"\x0193=" not in frame:
        return None
    try:
        msg = codec.parse(frame, dictionary, unsized_data=(93,))
    except FixParseError:
        return None
    tags = msg.wire_fields[0]
    length, signature = msg.get(93), msg.get(89)
    if len(tags) < 3 or tags[2] != 35 or tags[-3:] != _TRAILER_END or signature is None:
        return None
    if length is not None and length.isdigit() and int(length) == len(signature):
        return None  # the length was right: something else is garbled
    return msg


def security_problem(msg: Message, verifier: SignatureVerifier | None) -> FixValidationError | None:
    """The Reject a received message's SecureData or Signature calls for, or None."""
    fields = msg._fields  # on every message: plain dict look-ups
    if 91 not in fields and 90 not in fields and 89 not in fields and 93 not in fields:
        return None
    if 91 in fields or 90 in fields:
        text = (
            "Decryption problem: SecureData cannot be decrypted, "
            "no encryption method is agreed on this session (EncryptMethod 0)"
        )
        return FixValidationError(R.DECRYPTION_PROBLEM, text, 91, msg_type=msg.msg_type)
    return _signature_problem(msg, verifier)


def _signature_problem(
    msg: Message, verifier: SignatureVerifier | None
) -> FixValidationError | None:
    def problem(text: str, tag: int) -> FixValidationError:
        return FixValidationError(R.SIGNATURE_PROBLEM, text, tag, msg_type=msg.msg_type)

    length, signature = msg.get(93), msg.get(89)
    if signature is None:
        return problem("Signature problem: SignatureLength (93) without Signature (89)", 93)
    if length is None or not length.isdigit() or int(length) != len(signature):
        shown = (length or b"").decode("latin-1")[:20]
        return problem(
            f"Signature problem: SignatureLength (93) {shown!r} does not match the "
            f"{len(signature)}-byte Signature (89)",
            93,
        )
    raw = msg.raw
    if raw is None or msg.wire_fields[0][-3:] != _TRAILER_END:
        return problem(
            "Signature problem: SignatureLength (93) and Signature (89) must come last, "
            "before CheckSum (10)",
            89,
        )
    if verifier is None:
        return problem(
            "Signature problem: no signature method is agreed on this session, "
            "the Signature cannot be verified",
            89,
        )
    # raw ends with 93=<length> SOH 89=<signature> SOH 10=nnn SOH
    cut = len(raw) - 7 - (len(signature) + 4) - (len(length) + 4)
    if raw[cut - 1 : cut + 3] != b"\x0193=" or not verifier(raw[:cut], signature):
        return problem("Signature problem: the Signature does not verify", 89)
    return None  # 17.c: a valid signature is accepted
