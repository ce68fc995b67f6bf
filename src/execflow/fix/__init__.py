"""execflow's FIX engine, in pure Python.

- `dictionary`: data dictionaries (our FIX44, FIXT11, FIX50SP2 in spec/, or any XML file).
- `codec` / `message` / `framing`: tag=value parse and encode, typed field access, a stream
  framer for TCP.
- `validation`: dictionary validation mapped to SessionRejectReason.
- `session` / `connection` / `store`: the FIX session protocol over asyncio, with an
  `Application` interface for gateways and venue adapters, and durable message stores.
"""

from execflow.fix.application import Application, BaseApplication, SessionID
from execflow.fix.codec import encode, parse
from execflow.fix.config import SessionConfig, SessionState
from execflow.fix.connection import Acceptor, Initiator
from execflow.fix.dictionary import DataDictionary, builtin, for_begin_string
from execflow.fix.errors import (
    BusinessRejectReason,
    DoNotSendError,
    FixBusinessRejectError,
    FixError,
    FixParseError,
    FixValidationError,
    RejectLogonError,
    SessionRejectReason,
)
from execflow.fix.framing import StreamFramer
from execflow.fix.message import FieldMap, Message
from execflow.fix.schedule import SessionSchedule
from execflow.fix.session import Session
from execflow.fix.store import (
    MemoryStoreFactory,
    MessageStore,
    MessageStoreFactory,
    SqliteStoreFactory,
)
from execflow.fix.validation import ValidationConfig, Validator

__all__ = [
    "Acceptor",
    "Application",
    "BaseApplication",
    "BusinessRejectReason",
    "DataDictionary",
    "DoNotSendError",
    "FieldMap",
    "FixBusinessRejectError",
    "FixError",
    "FixParseError",
    "FixValidationError",
    "Initiator",
    "MemoryStoreFactory",
    "Message",
    "MessageStore",
    "MessageStoreFactory",
    "RejectLogonError",
    "Session",
    "SessionConfig",
    "SessionID",
    "SessionRejectReason",
    "SessionSchedule",
    "SessionState",
    "SqliteStoreFactory",
    "StreamFramer",
    "ValidationConfig",
    "Validator",
    "builtin",
    "encode",
    "for_begin_string",
    "parse",
]
