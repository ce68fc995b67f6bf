"""Typed errors of the FIX engine. Every one is an ExecflowError with a code and a sentence."""

from __future__ import annotations

from enum import IntEnum

from execflow.domain.errors import ExecflowError, RejectCode


class SessionRejectReason(IntEnum):
    """SessionRejectReason (373) values of FIX 4.4."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_MESSAGE_TYPE = 2
    UNDEFINED_TAG = 3
    TAG_SPECIFIED_WITHOUT_VALUE = 4
    VALUE_IS_INCORRECT = 5
    INCORRECT_DATA_FORMAT = 6
    DECRYPTION_PROBLEM = 7
    SIGNATURE_PROBLEM = 8
    COMPID_PROBLEM = 9
    SENDING_TIME_ACCURACY_PROBLEM = 10
    INVALID_MSG_TYPE = 11
    XML_VALIDATION_ERROR = 12
    TAG_APPEARS_MORE_THAN_ONCE = 13
    TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER = 14
    REPEATING_GROUP_FIELDS_OUT_OF_ORDER = 15
    INCORRECT_NUM_IN_GROUP_COUNT = 16
    NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER = 17
    OTHER = 99


class BusinessRejectReason(IntEnum):
    """BusinessRejectReason (380) values."""

    OTHER = 0
    UNKNOWN_ID = 1
    UNKNOWN_SECURITY = 2
    UNSUPPORTED_MESSAGE_TYPE = 3
    APPLICATION_NOT_AVAILABLE = 4
    CONDITIONALLY_REQUIRED_FIELD_MISSING = 5
    NOT_AUTHORIZED = 6
    DELIVER_TO_FIRM_NOT_AVAILABLE = 7


class FixError(ExecflowError):
    """Base of every error raised by execflow.fix."""

    code = "FIX_ERROR"


class FixDictionaryError(FixError):
    """A data dictionary that cannot be loaded (bad XML, unknown field or component)."""

    code = "FIX_DICTIONARY"


class FixParseError(FixError, ValueError):
    """Bytes that are not a well-formed FIX message (garbled): the session ignores them."""

    code = "FIX_PARSE"


class FixFramingError(FixParseError):
    """The stream framer found bytes it could not frame; they have been skipped."""

    code = "FIX_FRAMING"

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


class FixGarbageError(FixFramingError):
    """Bytes before the start of a message (before 8=FIX) were discarded."""

    code = "FIX_GARBAGE"


class FixBodyLengthError(FixFramingError):
    """BodyLength (9) is missing, malformed, too large, or does not end at CheckSum (10)."""

    code = "FIX_BODY_LENGTH"


class FixChecksumError(FixFramingError):
    """CheckSum (10) does not match the message bytes."""

    code = "FIX_CHECKSUM"


class FixFieldError(FixError, KeyError, ValueError):
    """A field is missing, or its value cannot be converted to the asked type."""

    code = "FIX_FIELD"

    def __init__(self, message: str, tag: int) -> None:
        super().__init__(message)
        self.tag = tag

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return f"[{self.code}] {self.message}"


class FixValidationError(FixError):
    """A message that breaks its data dictionary; maps to a session-level Reject (35=3)."""

    code = "FIX_INVALID"

    def __init__(
        self,
        reason: SessionRejectReason,
        text: str,
        ref_tag: int | None = None,
        msg_type: str | None = None,
    ) -> None:
        super().__init__(text, code=f"FIX_REJECT_{int(reason)}")
        self.reason = reason
        self.ref_tag = ref_tag
        self.msg_type = msg_type


class FixUnsupportedMessageTypeError(FixValidationError):
    """A MsgType the dictionary does not define: session Reject 373=11 (Invalid MsgType). A
    defined MsgType the application does not handle is the application's business: it raises
    FixBusinessRejectError(UNSUPPORTED_MESSAGE_TYPE), answered by BusinessMessageReject 380=3."""

    def __init__(self, msg_type: str) -> None:
        super().__init__(
            SessionRejectReason.INVALID_MSG_TYPE,
            f"Invalid MsgType {msg_type!r}",
            ref_tag=None,
            msg_type=msg_type,
        )


class FixBusinessRejectError(FixError):
    """Raised by an application's from_app to answer with a BusinessMessageReject (35=j)."""

    code = "FIX_BUSINESS_REJECT"

    def __init__(
        self,
        reason: BusinessRejectReason,
        text: str,
        ref_id: str | None = None,
    ) -> None:
        super().__init__(text)
        self.reason = reason
        self.ref_id = ref_id


class RejectLogonError(FixError):
    """Raised by an application's from_admin on a Logon to refuse it (Logout with text)."""

    code = "FIX_LOGON_REJECTED"


class DoNotSendError(FixError):
    """Raised by an application's to_app to drop an outgoing (or resent) message."""

    code = "FIX_DO_NOT_SEND"


class FixSessionError(FixError):
    """Misuse of a session: unknown session, not logged on, bad configuration."""

    code = "FIX_SESSION"


class FixStoreError(FixError):
    """The FIX message store could not read or write (I/O, schema, connection)."""

    code = str(RejectCode.STORE_UNAVAILABLE)
