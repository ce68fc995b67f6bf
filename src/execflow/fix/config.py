"""Session configuration, state and the transport port."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from execflow.fix.application import SessionID
from execflow.fix.dictionary import DataDictionary
from execflow.fix.schedule import SessionSchedule
from execflow.fix.validation import ValidationConfig


class Transport(Protocol):
    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SessionState(enum.Enum):
    DISCONNECTED = "disconnected"
    AWAITING_LOGON = "awaiting_logon"  # connected; Logon sent (initiator) or expected
    ACTIVE = "active"
    LOGOUT_SENT = "logout_sent"


@dataclass(frozen=True, slots=True)
class SessionConfig:
    session_id: SessionID
    initiator: bool
    heartbeat_interval_s: int = 30
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    check_comp_id: bool = True
    check_latency: bool = True
    max_latency_s: float = 120.0
    logon_timeout_s: float = 10.0
    logout_timeout_s: float = 2.0
    validate: bool = True
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    dictionary: DataDictionary | None = None  # default: built-in for the BeginString
    timestamp_precision: int = 3
    default_appl_ver_id: str = "9"  # FIXT: FIX.5.0SP2
    schedule: SessionSchedule | None = None
    max_queued: int = 10_000
    #: TestReqID (112) of the TestRequests this side sends: a template with {n} (1, 2, ... per
    #: connection), {ns} (nanoseconds since the epoch) and {time} (UTC timestamp).
    test_request_id: str = "TEST-{ns}"
    #: How long to wait for any message after sending a TestRequest before disconnecting
    #: (None: 1.2 x HeartBtInt). No Heartbeat is sent while the TestRequest is outstanding.
    test_request_grace_s: float | None = None

    def __post_init__(self) -> None:
        try:
            self.test_request_id.format(n=1, ns=0, time="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"test_request_id {self.test_request_id!r}: use only {{n}}, {{ns}} and {{time}}"
            ) from exc
