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
