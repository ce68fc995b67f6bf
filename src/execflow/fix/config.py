"""Session configuration, state and the transport port."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from execflow.fix.application import SessionID
from execflow.fix.dictionary import DataDictionary
from execflow.fix.schedule import SessionSchedule
from execflow.fix.security import SignatureVerifier
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
    #: Third-party addressing: the OnBehalfOfCompID (115) values the counterparty may send on
    #: behalf of and the DeliverToCompID (128) values it may address (None: any). Others get
    #: Reject 373=9 referencing the field; the session goes on.
    on_behalf_of_comp_ids: frozenset[str] | None = None
    deliver_to_comp_ids: frozenset[str] | None = None
    #: Checks the Signature (89) of received messages (test case 17): called with the signed
    #: bytes (BeginString up to and including the SOH before SignatureLength (93)) and the
    #: Signature; False gets Reject 373=8. None: no signature method is agreed, and every
    #: signed message gets Reject 373=8. See execflow.fix.security.
    signature_verifier: SignatureVerifier | None = None

    def __post_init__(self) -> None:
        try:
            self.test_request_id.format(n=1, ns=0, time="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"test_request_id {self.test_request_id!r}: use only {{n}}, {{ns}} and {{time}}"
            ) from exc


#: What `reset` of `counterparty_config` accepts: when both sequence numbers start again at 1.
RESET_POLICIES = ("logon", "logout", "disconnect")
#: How strictly received messages are checked against the data dictionary:
#: strict (the FIX specification), lenient (unknown fields, fields of other messages and field
#: order accepted; required fields and values still checked), off (session-level checks only).
VALIDATION_LEVELS = ("strict", "lenient", "off")


def counterparty_config(
    session_id: SessionID,
    *,
    initiator: bool = False,
    heartbeat_interval_s: int = 30,
    reset: tuple[str, ...] = (),
    user_defined_fields: bool = True,
    validation: str = "strict",
    test_request_id: str = "TEST-{ns}",
    on_behalf_of: tuple[str, ...] | None = None,
    deliver_to: tuple[str, ...] | None = None,
) -> SessionConfig:
    """A SessionConfig from the settings counterparties differ on (what `execflow fix serve`
    exposes). Raises ValueError naming a bad setting."""
    unknown = sorted(set(reset) - set(RESET_POLICIES))
    if unknown:
        raise ValueError(f"reset {', '.join(unknown)}: choose from {', '.join(RESET_POLICIES)}")
    if validation not in VALIDATION_LEVELS:
        raise ValueError(f"validation {validation!r}: choose from {', '.join(VALIDATION_LEVELS)}")
    if validation == "lenient":
        rules = ValidationConfig(
            check_fields_out_of_order=False,
            check_group_field_order=False,
            allow_unknown_fields=True,
            allow_fields_not_in_message=True,
            allow_user_defined_fields=True,
        )
    else:
        rules = ValidationConfig(allow_user_defined_fields=user_defined_fields)
    return SessionConfig(
        session_id,
        initiator=initiator,
        heartbeat_interval_s=heartbeat_interval_s,
        reset_on_logon="logon" in reset,
        reset_on_logout="logout" in reset,
        reset_on_disconnect="disconnect" in reset,
        validate=validation != "off",
        validation=rules,
        test_request_id=test_request_id,
        on_behalf_of_comp_ids=frozenset(on_behalf_of) if on_behalf_of is not None else None,
        deliver_to_comp_ids=frozenset(deliver_to) if deliver_to is not None else None,
    )
