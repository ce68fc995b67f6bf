"""What a FIX session talks to: session identity and the Application interface.

The session layer knows nothing of orders. The order gateway (acceptor side), a venue adapter
(initiator side), test harnesses and users' own code all implement `Application`:

- on_create(session_id): once, when the session object is created.
- on_logon / on_logout(session_id): the session became (or stopped being) logged on.
- to_admin(message, session_id): an outgoing admin message is about to be sent; may add fields
  (e.g. Username/Password on the Logon).
- from_admin(message, session_id): an admin message was received; raise RejectLogonError on a
  Logon to refuse it.
- to_app(message, session_id): an outgoing application message (or a resend of one, with
  PossDupFlag=Y) is about to be sent; raise DoNotSendError to drop it (a resend becomes a gap
  fill).
- from_app(message, session_id): an application message was received, in sequence, exactly
  once; raise FixBusinessRejectError to answer with a BusinessMessageReject, or
  FixValidationError to answer with a session Reject.
- on_reject(message, error, session_id): a received message was refused by the session layer
  (failed validation, CompID, SendingTime or OrigSendingTime checks) and answered with a
  session-level Reject (or Logout); it never reaches from_admin/from_app.

from_admin, from_app, on_logon and on_logout may be coroutines (they are awaited, so the next
message is processed only after they finish); to_admin, to_app and on_reject must be plain
functions.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import NamedTuple, Protocol

from execflow.fix.errors import FixValidationError
from execflow.fix.message import Message


class SessionID(NamedTuple):
    """A session is identified by BeginString and both CompIDs, seen from our side."""

    begin_string: str
    sender_comp_id: str
    target_comp_id: str

    def __str__(self) -> str:
        return f"{self.begin_string}:{self.sender_comp_id}->{self.target_comp_id}"

    @property
    def key(self) -> str:
        """A stable string key (for message stores)."""
        return str(self)


class Application(Protocol):
    def on_create(self, session_id: SessionID) -> None: ...

    def on_logon(self, session_id: SessionID) -> Awaitable[None] | None: ...

    def on_logout(self, session_id: SessionID) -> Awaitable[None] | None: ...

    def to_admin(self, message: Message, session_id: SessionID) -> None: ...

    def from_admin(self, message: Message, session_id: SessionID) -> Awaitable[None] | None: ...

    def to_app(self, message: Message, session_id: SessionID) -> None: ...

    def from_app(self, message: Message, session_id: SessionID) -> Awaitable[None] | None: ...

    def on_reject(
        self, message: Message, error: FixValidationError, session_id: SessionID
    ) -> None: ...


class BaseApplication:
    """An Application that does nothing; subclass and override what you need."""

    def on_create(self, session_id: SessionID) -> None:
        return None

    def on_logon(self, session_id: SessionID) -> Awaitable[None] | None:
        return None

    def on_logout(self, session_id: SessionID) -> Awaitable[None] | None:
        return None

    def to_admin(self, message: Message, session_id: SessionID) -> None:
        return None

    def from_admin(self, message: Message, session_id: SessionID) -> Awaitable[None] | None:
        return None

    def to_app(self, message: Message, session_id: SessionID) -> None:
        return None

    def from_app(self, message: Message, session_id: SessionID) -> Awaitable[None] | None:
        return None

    def on_reject(self, message: Message, error: FixValidationError, session_id: SessionID) -> None:
        return None
