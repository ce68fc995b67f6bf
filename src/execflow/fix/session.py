"""The FIX session protocol, independent of sockets.

A `Session` is fed frames (`on_frame`), connection events (`on_connect`, `on_disconnect`) and
timer ticks (`on_timer`); it writes through a `Transport` and keeps its sequence numbers and
sent messages in a `MessageStore`. Time comes from an injected `now_ns()` callable, so tests
drive it deterministically. `connection.py` runs sessions over asyncio TCP streams (initiator
and acceptor).

Covered (the FIX Session Layer Test Cases, tests/fix_conformance): Logon/Logout handshakes
(ResetSeqNumFlag only when asked for; Logon 141=Y during a session resets both numbers),
Heartbeat and TestRequest on silence (no Heartbeats while a TestRequest is outstanding, then
disconnect), incoming/outgoing sequence numbers, gap detection with ResendRequest and queueing
of early messages, answering ResendRequest with resends (PossDupFlag=Y, OrigSendingTime) and
SequenceReset-GapFill for admin messages, SequenceReset-Reset, MsgSeqNum too low (logout unless
PossDup; a PossDup's OrigSendingTime is checked first), CompID, SendingTime and BeginString
problems (Reject and/or Logout, then wait for the answer), dictionary validation (session
Reject with the reason and tag, routing fields reversed; the application's BusinessMessageReject),
garbled messages (ignored; a garbled first message disconnects), the session schedule
(logout outside the window, daily sequence reset), and the optional cases: resynchronising
after lost state (SequenceReset-Reset), EncryptMethod other than 0 refused (encryption is TLS
on the transport), SecureData and Signature checked (security.py), third-party addressing
checked (Reject 373=9).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from execflow.fix import admin, codec
from execflow.fix.application import Application
from execflow.fix.config import SessionConfig, SessionState, Transport
from execflow.fix.dictionary import builtin, for_begin_string
from execflow.fix.errors import (
    DoNotSendError,
    FixBusinessRejectError,
    FixFieldError,
    FixParseError,
    FixSessionError,
    FixValidationError,
    RejectLogonError,
)
from execflow.fix.errors import SessionRejectReason as R
from execflow.fix.message import Message
from execflow.fix.security import parse_with_bad_signature_length, security_problem
from execflow.fix.store import MessageStore
from execflow.fix.types import format_utc_timestamp
from execflow.fix.validation import Validator

__all__ = ["Session", "SessionConfig", "SessionState", "Transport"]

log = logging.getLogger(__name__)

NS = 1_000_000_000
ADMIN = admin.ADMIN_MSG_TYPES


class Session:
    def __init__(
        self,
        config: SessionConfig,
        app: Application,
        store: MessageStore,
        now_ns: Callable[[], int],
    ) -> None:
        self.config = config
        self.session_id = config.session_id
        self.app = app
        self.store = store
        self.now_ns = now_ns
        self.dictionary = config.dictionary or for_begin_string(config.session_id.begin_string)
        self.validator = Validator(self.dictionary, config.validation)
        # FIXT: session-level messages are validated against the transport dictionary alone
        transport = (
            builtin("FIXT11")
            if config.dictionary is None and config.session_id.begin_string == "FIXT.1.1"
            else self.dictionary
        )
        self._admin_validator = Validator(transport, config.validation)
        self.state = SessionState.DISCONNECTED
        self.heartbeat_interval_s = config.heartbeat_interval_s
        self._transport: Transport | None = None
        self._state_since = 0
        self._last_sent = 0
        self._last_received = 0
        self._test_request_id: str | None = None
        self._test_request_count = 0
        self._test_request_sent = 0
        self._reset_sent = False
        self._app_logged_on = False  # on_logon called for this connection
        self._answered: set[int] = set()  # queued seqs already acted on (Logon, ResendRequest)
        self._resend_until: int | None = None  # highest seq we asked to be resent (0 = open)
        self._queue: dict[int, Message] = {}
        self._sid_bytes = (
            config.session_id.sender_comp_id.encode(),
            config.session_id.target_comp_id.encode(),
        )
        self._begin = config.session_id.begin_string.encode()
        app.on_create(self.session_id)

    # ------------------------------------------------------------------ properties
    @property
    def is_connected(self) -> bool:
        return self._transport is not None

    @property
    def is_logged_on(self) -> bool:
        return self.state is SessionState.ACTIVE

    def _log(self, event: str, level: int = logging.INFO, **kv: object) -> None:
        if log.isEnabledFor(level):
            extra = " ".join(f"{k}={v!r}" for k, v in kv.items())
            log.log(level, "fix_session=%s event=%s %s", self.session_id, event, extra)

    # ------------------------------------------------------------------ connection events
    async def on_connect(self, transport: Transport) -> None:
        now = self.now_ns()
        self._transport = transport
        self._state_since = self._last_received = self._last_sent = now
        self._queue.clear()
        self._answered.clear()
        self._resend_until = None
        self._test_request_id = None
        self._test_request_count = 0
        self._check_daily_reset(now)
        self.state = SessionState.AWAITING_LOGON
        self._log("connected", initiator=self.config.initiator)
        if self.config.initiator:
            reset = self.config.reset_on_logon
            if reset:
                self.store.reset(now)
            self._send_logon(reset)

    async def on_disconnect(self) -> None:
        """The transport went away (or we closed it)."""
        if self._transport is None and self.state is SessionState.DISCONNECTED:
            return
        was_logged_on = self._app_logged_on
        self._app_logged_on = False
        transport, self._transport = self._transport, None
        self.state = SessionState.DISCONNECTED
        if transport is not None:
            transport.close()
        self._queue.clear()
        self._log("disconnected")
        if self.config.reset_on_disconnect:
            self.store.reset(self.now_ns())
        if was_logged_on:
            await _maybe_await(self.app.on_logout(self.session_id))

    async def disconnect(self, reason: str) -> None:
        self._log("disconnect", logging.WARNING, reason=reason)
        await self.on_disconnect()

    # ------------------------------------------------------------------ public API
    def send(self, msg: Message) -> bool:
        """Send an application (or admin) message. Returns False if it was not transmitted
        now (to_app raised DoNotSendError, or not logged on: it is stored with its sequence
        number and goes out when the counterparty asks for a resend). A message handed in is a
        new message: PossDupFlag (43) and OrigSendingTime (122) it carries are removed (resends
        are the session's business)."""
        msg.remove(43)
        msg.remove(122)
        return self._send(msg)

    async def logout(self, text: str = "") -> None:
        """Start the logout handshake; disconnects on the reply or after logout_timeout_s."""
        if self.state is SessionState.ACTIVE:
            self._send_logout(text)
            self.state = SessionState.LOGOUT_SENT
            self._state_since = self.now_ns()
        elif self.is_connected and self.state is not SessionState.LOGOUT_SENT:
            await self.disconnect(text or "logout before logon")

    def reset_sequence(self) -> None:
        """Reset both sequence numbers of a logged-on session: send Logon 141=Y with
        MsgSeqNum 1; the counterparty answers with Logon 141=Y."""
        if self.state is not SessionState.ACTIVE:
            raise FixSessionError(f"{self.session_id}: not logged on, cannot reset")
        self.store.reset(self.now_ns())
        self._send_logon(True)

    def synchronise_sequence_numbers(self, new_seq: int) -> None:
        """Recover from a failure that lost the session state (test case 9, first way): on
        the new connection, once logged on, our next MsgSeqNum jumps to `new_seq` (choose it
        beyond the last number the counterparty may have seen from us), announced by a
        SequenceReset-Reset (123=N, NewSeqNo=new_seq); the next MsgSeqNum we expect is 1, so
        the counterparty's next message shows the gap and ResendRequest(1, 0) brings its
        retransmissions and gap fills, which are processed as usual. (The second way, both
        sides at 1 again, is `reset_sequence()`.)

        Not logged on (the usual moment: the state was lost in a restart), the numbers are set
        for the next Logon: it goes out with `new_seq`, which a counterparty that saw higher
        numbers from us accepts (MsgSeqNum 1 would be "too low" and end the session); its
        ResendRequest for the skipped range gets a gap fill, and its Logon, beyond the 1 we
        expect, our ResendRequest(1, 0)."""
        if self.state is SessionState.DISCONNECTED:
            self.store.set_next_sender_seq(new_seq)
            self.store.set_next_target_seq(1)
            self._log("sequence numbers set for the next logon", next_sender=new_seq)
            return
        if self.state is not SessionState.ACTIVE:
            raise FixSessionError(f"{self.session_id}: not logged on, cannot synchronise")
        if new_seq <= self.store.next_sender_seq():
            raise FixSessionError(
                f"{self.session_id}: NewSeqNo {new_seq} must be above our next MsgSeqNum "
                f"{self.store.next_sender_seq()}"
            )
        msg = Message.new("4", (123, b"N"), (36, new_seq))
        self._send(msg)
        self.store.set_next_sender_seq(new_seq)
        if self.store.next_target_seq() != 1:
            self.store.set_next_target_seq(1)
            self._queue.clear()
            self._answered.clear()
            self._resend_until = None
        self._log("sequence numbers synchronised", next_sender=new_seq)

    async def on_timer(self) -> None:
        """Call about once a second (more often is fine)."""
        if self._transport is None:
            return
        now = self.now_ns()
        sched = self.config.schedule
        if sched is not None and not sched.is_in_session(now):
            if self.state is SessionState.ACTIVE:
                await self.logout("session time ended")
            elif self.state is not SessionState.LOGOUT_SENT:
                await self.disconnect("outside session time")
        if self.state is SessionState.AWAITING_LOGON:
            if now - self._state_since > self.config.logon_timeout_s * NS:
                await self.disconnect("logon timeout")
        elif self.state is SessionState.LOGOUT_SENT:
            if now - self._state_since > self.config.logout_timeout_s * NS:
                await self.disconnect("logout timeout")
        elif (
            self.state is SessionState.ACTIVE
            and sched is not None
            and sched.needs_reset(self.store.creation_time_ns(), now)
        ):
            await self.logout("daily session reset")
        elif self.state is SessionState.ACTIVE and self.heartbeat_interval_s > 0:
            await self._keep_alive(now)

    async def _keep_alive(self, now: int) -> None:
        """Heartbeat when we have been silent for HeartBtInt; TestRequest when they have been
        silent for 1.2 x HeartBtInt; then wait for an answer (no Heartbeats meanwhile) and
        disconnect when none comes within the grace period."""
        hb = self.heartbeat_interval_s * NS
        if self._test_request_id is not None:
            grace = self.config.test_request_grace_s
            grace_ns = int(grace * NS) if grace is not None else hb * 12 // 10
            if now - self._test_request_sent >= grace_ns:
                await self.disconnect(
                    f"no answer to TestRequest {self._test_request_id!r} within {grace_ns / NS:g} s"
                )
            return
        if now - self._last_received >= hb * 12 // 10:
            self._test_request_count += 1
            self._test_request_id = self.config.test_request_id.format(
                n=self._test_request_count,
                ns=now,
                time=format_utc_timestamp(now, self.config.timestamp_precision).decode(),
            )
            self._test_request_sent = now
            self._send(admin.test_request(self._test_request_id))
            return
        if now - self._last_sent >= hb:
            self._send(admin.heartbeat())

    # ------------------------------------------------------------------ incoming
    async def on_garbled(self, error: str) -> None:
        """Bytes the framer could not frame (bad BodyLength, CheckSum, garbage): ignored, no
        sequence number consumed, except that a garbled first message ends the connection."""
        self._log("garbled", logging.WARNING, error=error)
        if self.state is SessionState.AWAITING_LOGON and self._transport is not None:
            await self.disconnect(f"first message garbled: {error}")

    async def on_frame(self, frame: bytes) -> None:
        """One complete frame from the transport."""
        if self._transport is None:
            return
        try:
            msg = codec.parse(frame, self.dictionary)
            tags = msg.wire_fields[0]
            if len(tags) < 3 or tags[2] != 35:
                raise FixParseError("MsgType (35) is not the third field")
        except FixParseError as exc:
            bad_signature = None
            if self.state is not SessionState.AWAITING_LOGON:
                bad_signature = parse_with_bad_signature_length(frame, self.dictionary)
            if bad_signature is None:
                self._log("garbled", logging.WARNING, error=str(exc))
                if self.state is SessionState.AWAITING_LOGON:
                    await self.disconnect(f"first message garbled: {exc.message}")
                return
            msg = bad_signature  # a Signature problem (17.d), answered by a Reject
        self._last_received = self.now_ns()
        self._test_request_id = None  # any message shows the counterparty is alive
        await self._process(msg)
        queue = self._queue
        while queue and self._transport is not None:
            expected = self.store.next_target_seq()
            for stale in [s for s in queue if s < expected]:
                del queue[stale]  # covered by a gap fill or a resend
                self._answered.discard(stale)
            if expected not in queue:
                break
            queued = queue.pop(expected)
            if expected in self._answered:  # a Logon or ResendRequest already acted on
                self._answered.discard(expected)
                self._incr_target()
                continue
            await self._process(queued)

    async def _process(self, msg: Message) -> None:
        msg_type = msg.msg_type
        if self.state is SessionState.LOGOUT_SENT and msg_type == "5":
            # the answer to our Logout, whatever else is wrong with it (it may well repeat the
            # bad BeginString, CompID or SendingTime we logged out for)
            if msg.seq_num == self.store.next_target_seq():
                self._incr_target()
            await self._on_logout(msg)
            return
        if self.state is SessionState.LOGOUT_SENT and not self._app_logged_on:
            return  # we refused their Logon and wait for the Logout answer: nothing else counts
        begin = msg.get(8)
        if begin != self._begin:
            text = f"Incorrect BeginString {(begin or b'').decode('latin-1')}"
            if self.state is SessionState.AWAITING_LOGON:
                await self.disconnect(text)
            else:
                await self.logout(text)
            return
        seq = msg.seq_num
        if self.state is SessionState.AWAITING_LOGON:
            if msg_type != "A":
                text = f"first message is not a Logon (35={msg_type})"
                if self.config.initiator:
                    await self._logout_and_disconnect(text)
                else:
                    await self.disconnect(text)
                return
            await self._on_logon(msg)
            return
        if msg_type == "A" and msg.get(141) == b"Y" and self.state is SessionState.ACTIVE:
            await self._on_reset_logon(msg)
            return
        if seq is None:
            await self._logout_and_disconnect("MsgSeqNum (34) missing or invalid")
            return
        if msg_type == "4" and msg.get(123) != b"Y":
            await self._on_sequence_reset(msg, gap_fill=False)
            return
        expected = self.store.next_target_seq()
        if seq > expected:
            if msg_type == "5":
                await self._on_logout(msg)
                return
            self._on_gap(msg, expected, seq)
            if msg_type == "2":  # answer at once; the counterparty gap-fills its own request
                self._answered.add(seq)
                await self._on_resend_request(msg)
            return
        if seq < expected:
            if msg.get(43) == b"Y":
                if msg_type != "4" and not await self._check_poss_dup(msg):
                    return
                self._log("duplicate ignored", logging.DEBUG, seq=seq)
                return
            await self._logout_and_disconnect(
                f"MsgSeqNum too low, expecting {expected} but received {seq}"
            )
            return
        if not await self._verify(msg):
            return
        await self._dispatch(msg)
        if self._resend_until is not None and (
            self._resend_until and self.store.next_target_seq() > self._resend_until
        ):
            self._log("resend complete", until=self._resend_until)
            self._resend_until = None

    async def _check_poss_dup(self, msg: Message) -> bool:
        """OrigSendingTime (122) of a PossDupFlag=Y message: required, and not later than
        SendingTime. On failure: Reject (and Logout when it is later), False."""
        if not msg.get(122):
            self._reject(
                msg,
                FixValidationError(
                    R.REQUIRED_TAG_MISSING, "Required tag missing: OrigSendingTime (122)", 122
                ),
            )
            return False
        try:
            orig = msg.get_timestamp(122)
            sending = msg.get_timestamp(52)
        except FixFieldError:
            return True  # a malformed value is left to validation (373=6)
        if orig > sending:
            text = "SendingTime accuracy problem: OrigSendingTime later than SendingTime"
            self._reject(msg, FixValidationError(R.SENDING_TIME_ACCURACY_PROBLEM, text, 122))
            await self.logout(text)
            return False
        return True

    async def _verify(self, msg: Message) -> bool:
        """Checks of an in-sequence message. On failure: Reject (and maybe Logout), False."""
        cfg = self.config
        sender, target = self._sid_bytes
        if cfg.check_comp_id:
            # a missing or empty CompID is a header validation problem (373=1 / 373=4)
            theirs, ours = msg.get(49), msg.get(56)
            if (theirs and theirs != target) or (ours and ours != sender):
                self._reject(msg, FixValidationError(R.COMPID_PROBLEM, "CompID problem"))
                await self.logout("CompID problem")
                return False
        routing = self._routing_problem(msg)
        if routing is not None:
            self._reject(msg, routing)  # third-party addressing: Reject 373=9, no Logout
            return False
        security = security_problem(msg, cfg.signature_verifier)
        if security is not None:
            self._reject(msg, security)  # SecureData 373=7, Signature 373=8 (case 17)
            return False
        try:
            sending: int | None = msg.get_timestamp(52)
        except FixFieldError:
            sending = None  # missing or malformed: validation says which
        if (
            cfg.check_latency
            and sending is not None
            and abs(self.now_ns() - sending) > cfg.max_latency_s * NS
        ):
            text = "SendingTime accuracy problem"
            self._reject(msg, FixValidationError(R.SENDING_TIME_ACCURACY_PROBLEM, text, 52))
            await self.logout(text)
            return False
        if msg.get(43) == b"Y" and msg.msg_type != "4" and not await self._check_poss_dup(msg):
            return False
        if cfg.validate:
            validator = self._admin_validator if msg.msg_type in ADMIN else self.validator
            try:
                validator.validate(msg)
            except FixValidationError as exc:
                self._reject(msg, exc)
                return False
        return True

    def _routing_problem(self, msg: Message) -> FixValidationError | None:
        """Third-party addressing (test case 18): OnBehalfOfCompID (115) / DeliverToCompID
        (128) must be ones the configuration allows (None: any), a SubID or LocationID comes
        with its CompID, and neither names the message's own sender or target (a message on
        behalf of its sender, or to be delivered to its target, is incorrect usage). Empty
        values are left to validation (373=4)."""
        cfg = self.config
        for comp, subs, allowed, own, name in (
            (115, (116, 144), cfg.on_behalf_of_comp_ids, 49, "OnBehalfOf"),
            (128, (129, 145), cfg.deliver_to_comp_ids, 56, "DeliverTo"),
        ):
            value = msg.get(comp)
            if not value:
                for sub in subs:
                    if msg.get(sub):
                        text = f"CompID problem: tag {sub} without {name}CompID ({comp})"
                        return FixValidationError(R.COMPID_PROBLEM, text, sub)
                continue
            shown = value.decode("latin-1")
            if allowed is not None and shown not in allowed:
                text = f"CompID problem: {name}CompID {shown} is not allowed on this session"
                return FixValidationError(R.COMPID_PROBLEM, text, comp)
            if value == msg.get(own):
                text = f"CompID problem: {name}CompID {shown} equals tag {own}"
                return FixValidationError(R.COMPID_PROBLEM, text, comp)
        return None

    async def _dispatch(self, msg: Message) -> None:
        msg_type = msg.msg_type
        if msg_type not in ADMIN:
            try:
                await _maybe_await(self.app.from_app(msg, self.session_id))
            except FixBusinessRejectError as exc:
                self._business_reject(msg, int(exc.reason), exc.message, exc.ref_id)
                return
            except FixValidationError as exc:
                self._reject(msg, exc, notify=False)
                return
            except Exception:  # a bug in the application must not kill the session
                log.exception("fix_session=%s event=from_app_failed", self.session_id)
                self._business_reject(msg, 4, "Application not available")
                return
            self._incr_target()
            return
        if msg_type == "4":
            await self._on_sequence_reset(msg, gap_fill=True)
            return
        if msg_type == "5":
            self._incr_target()
            await self._on_logout(msg)
            return
        await _maybe_await(self.app.from_admin(msg, self.session_id))
        if msg_type == "0":
            if self._test_request_id is not None and msg.get(112) == self._test_request_id.encode():
                self._test_request_id = None
        elif msg_type == "1":
            self._send(admin.heartbeat(msg.get(112) or b""))
        elif msg_type == "2":
            self._incr_target()
            await self._on_resend_request(msg)
            return
        elif msg_type == "A":
            self._log("logon while logged on ignored", logging.WARNING)
        self._incr_target()

    def _incr_target(self) -> None:
        self.store.set_next_target_seq(self.store.next_target_seq() + 1)

    def _on_gap(self, msg: Message, expected: int, seq: int) -> None:
        if len(self._queue) < self.config.max_queued:
            self._queue[seq] = msg
        if self._resend_until is None:
            self._resend_until = seq
            self._log("gap", logging.WARNING, expected=expected, received=seq)
            self._send(admin.resend_request(expected, 0))

    # ------------------------------------------------------------------ admin handlers
    async def _on_logon(self, msg: Message) -> None:
        cfg = self.config
        now = self.now_ns()
        sender, target = self._sid_bytes
        if cfg.check_comp_id and (msg.get(49) != target or msg.get(56) != sender):
            if cfg.initiator:
                await self._logout_and_disconnect("Logon with wrong CompIDs")
            else:
                await self.disconnect("Logon with wrong CompIDs")
            return
        encrypt = msg.get(98)
        if encrypt is not None and encrypt != b"0":
            await self._refuse_encrypt_method(msg, encrypt)
            return
        if cfg.validate:
            try:
                self._admin_validator.validate(msg)
            except FixValidationError as exc:
                self._notify_reject(msg, exc)
                await self._logout_and_disconnect(f"invalid Logon: {exc.message}")
                return
        try:
            heartbeat = msg.get_int(108)
            seq = msg.get_int(34)
        except FixFieldError as exc:
            await self._logout_and_disconnect(f"invalid Logon: {exc.message}")
            return
        try:
            sending = msg.get_timestamp(52)
        except FixFieldError:
            sending = now  # validation (when on) has already refused a bad SendingTime
        if cfg.check_latency and abs(now - sending) > cfg.max_latency_s * NS:
            await self._logout_and_disconnect("SendingTime accuracy problem")
            return
        reset_flag = msg.get(141) == b"Y"
        if not cfg.initiator:
            if reset_flag or cfg.reset_on_logon:
                self.store.reset(now)
            self.heartbeat_interval_s = heartbeat
        elif reset_flag and not self._reset_sent:
            self.store.set_next_target_seq(1)  # counterparty reset its numbers
        try:
            await _maybe_await(self.app.from_admin(msg, self.session_id))
        except RejectLogonError as exc:
            await self._logout_and_disconnect(exc.message or "Logon rejected")
            return
        expected = self.store.next_target_seq()
        if seq < expected:
            await self._logout_and_disconnect(
                f"MsgSeqNum too low, expecting {expected} but received {seq}"
            )
            return
        if not cfg.initiator:
            # ResetSeqNumFlag only in answer to a reset request (ResetOnLogon resets our own
            # numbers without asking the counterparty to reset theirs)
            self._send_logon(reset_flag)
        self.state = SessionState.ACTIVE
        self._app_logged_on = True
        self._state_since = now
        self._reset_sent = False
        self._log("logged on", heartbeat=self.heartbeat_interval_s, seq=seq, expected=expected)
        await _maybe_await(self.app.on_logon(self.session_id))
        if seq > expected:
            self._on_gap(msg, expected, seq)
            self._answered.add(seq)  # the Logon itself is processed: when its turn comes, skip
        else:
            self._incr_target()

    async def _refuse_encrypt_method(self, msg: Message, encrypt: bytes) -> None:
        """Test case 17.b: we support no message encryption (EncryptMethod 0 only; use TLS on
        the transport): Reject 373=7 (Decryption problem) RefTagID 98, the Logon's MsgSeqNum
        consumed, Logout naming the value, then wait for the Logout answer (or
        logout_timeout_s) and disconnect. The application never sees a logon."""
        shown = encrypt.decode("latin-1")
        text = f"Unsupported EncryptMethod {shown}: only 0 (None / other)"
        error = FixValidationError(R.DECRYPTION_PROBLEM, text, 98)
        self._notify_reject(msg, error)
        self._send(admin.reject(msg, int(error.reason), error.message, 98))
        if msg.seq_num is not None and msg.seq_num >= self.store.next_target_seq():
            self.store.set_next_target_seq(msg.seq_num + 1)
        self._send_logout(f"Unsupported EncryptMethod (98) {shown}")
        self.state = SessionState.LOGOUT_SENT
        self._state_since = self.now_ns()

    async def _on_reset_logon(self, msg: Message) -> None:
        """Logon 141=Y while logged on: the counterparty resets both sequence numbers (we
        answer with Logon 141=Y), or answers the reset we asked for."""
        try:
            await _maybe_await(self.app.from_admin(msg, self.session_id))
        except RejectLogonError as exc:
            await self._logout_and_disconnect(exc.message or "Logon rejected")
            return
        seq = msg.seq_num or 1
        self._queue.clear()
        self._answered.clear()
        self._resend_until = None
        if self._reset_sent:
            self._reset_sent = False
            self._log("sequence reset confirmed")
        else:
            self._log("sequence reset by counterparty")
            self.store.reset(self.now_ns())
            self._send_logon(True)
            self._reset_sent = False
        self.store.set_next_target_seq(seq + 1)

    async def _on_logout(self, msg: Message) -> None:
        await _maybe_await(self.app.from_admin(msg, self.session_id))
        if self.state is not SessionState.LOGOUT_SENT:
            self._send_logout("")
            self._log("logout received", text=msg.get_str(58) if 58 in msg else "")
        else:
            self._log("logout confirmed")
        if self.config.reset_on_logout:
            self.store.reset(self.now_ns())
        await self.on_disconnect()

    async def _on_sequence_reset(self, msg: Message, gap_fill: bool) -> None:
        try:
            new_seq = msg.get_int(36)
        except FixFieldError:
            self._reject(
                msg,
                FixValidationError(R.REQUIRED_TAG_MISSING, "Required tag missing: NewSeqNo", 36),
            )
            return
        await _maybe_await(self.app.from_admin(msg, self.session_id))
        expected = self.store.next_target_seq()
        if new_seq > expected:
            self._log("sequence reset", gap_fill=gap_fill, new_seq=new_seq)
            self.store.set_next_target_seq(new_seq)
        elif new_seq < expected:
            self._reject(
                msg,
                FixValidationError(
                    R.VALUE_IS_INCORRECT,
                    f"Attempt to lower sequence number, invalid value NewSeqNo={new_seq}",
                    36,
                ),
            )
            if gap_fill:
                self._incr_target()

    async def _on_resend_request(self, msg: Message) -> None:
        try:
            begin, end = msg.get_int(7), msg.get_int(16)
        except FixFieldError as exc:
            self._log("bad resend request", logging.WARNING, error=exc.message)
            return
        last = self.store.next_sender_seq() - 1
        if end == 0 or end > last:
            end = last
        self._log("resend request", begin=begin, end=end)
        if begin > end:
            return
        stored = dict(self.store.get_sent(begin, end))
        gap_start: int | None = None
        for seq in range(begin, end + 1):
            resend = self._resend_copy(stored.get(seq))
            if resend is None:
                if gap_start is None:
                    gap_start = seq
                continue
            if gap_start is not None:
                self._send_gap_fill(gap_start, seq)
                gap_start = None
            self._write(codec.encode(resend, self._begin, header_tags=self.dictionary.header.tags))
        if gap_start is not None:
            self._send_gap_fill(gap_start, end + 1)

    def _resend_copy(self, raw: bytes | None) -> Message | None:
        """The message to resend for a stored frame, or None to gap-fill it."""
        if raw is None:
            return None
        try:
            msg = codec.parse(raw, self.dictionary, verify=False)
        except FixParseError:
            return None
        if msg.msg_type in ADMIN:
            return None
        admin.mark_poss_dup(
            msg, format_utc_timestamp(self.now_ns(), self.config.timestamp_precision)
        )
        try:
            self.app.to_app(msg, self.session_id)
        except DoNotSendError:
            return None
        return msg

    # ------------------------------------------------------------------ outgoing
    def _stamp(self, msg: Message, seq: int) -> None:
        """Our header: SenderCompID, TargetCompID, MsgSeqNum, SendingTime (the encoder puts
        BeginString, BodyLength and MsgType first and the header before the body)."""
        sender, target = self._sid_bytes
        fields = msg._fields
        if 8 in fields or 9 in fields or 10 in fields:
            for tag in (8, 9, 10):
                fields.pop(tag, None)
        fields[49] = sender
        fields[56] = target
        fields[34] = b"%d" % seq
        fields[52] = format_utc_timestamp(self.now_ns(), self.config.timestamp_precision)

    def _send(self, msg: Message) -> bool:
        is_admin = msg.msg_type in ADMIN
        seq = self.store.next_sender_seq()
        self._stamp(msg, seq)
        try:
            if is_admin:
                self.app.to_admin(msg, self.session_id)
            else:
                self.app.to_app(msg, self.session_id)
        except DoNotSendError:
            return False
        raw = codec.encode(msg, self._begin, header_tags=self.dictionary.header.tags)
        self.store.save_sent(seq, raw)
        if self._transport is None or not (is_admin or self.state is SessionState.ACTIVE):
            return False
        self._write(raw)
        return True

    def _write(self, raw: bytes) -> None:
        if self._transport is not None:
            self._transport.send(raw)
            self._last_sent = self.now_ns()

    def _send_logon(self, reset: bool) -> None:
        self._reset_sent = reset
        fixt = self.session_id.begin_string == "FIXT.1.1"
        appl_ver = self.config.default_appl_ver_id if fixt else None
        self._send(admin.logon(self.heartbeat_interval_s, reset, appl_ver))

    def _send_logout(self, text: str) -> None:
        self._send(admin.logout(text))

    def _send_gap_fill(self, begin: int, new_seq: int) -> None:
        msg = Message.new("4")
        self._stamp(msg, begin)
        msg.set(43, b"Y")
        msg.set(122, msg[52])
        msg.set(123, b"Y").set(36, new_seq)
        self.app.to_admin(msg, self.session_id)
        self._write(codec.encode(msg, self._begin, header_tags=self.dictionary.header.tags))

    def _reject(self, ref: Message, error: FixValidationError, *, notify: bool = True) -> None:
        """Session-level Reject of a received message; an in-sequence one is consumed."""
        self._log(
            "reject", logging.WARNING, ref_seq=ref.seq_num, reason=int(error.reason),
            text=error.message,
        )  # fmt: skip
        if notify:
            self._notify_reject(ref, error)
        self._send(admin.reject(ref, int(error.reason), error.message, error.ref_tag))
        if ref.seq_num == self.store.next_target_seq() and ref.msg_type not in ("A", "4"):
            self._incr_target()

    def _notify_reject(self, ref: Message, error: FixValidationError) -> None:
        try:
            self.app.on_reject(ref, error, self.session_id)
        except Exception:  # the application's hook must not break the session
            log.exception("fix_session=%s event=on_reject_failed", self.session_id)

    def _business_reject(
        self, ref: Message, reason: int, text: str, ref_id: str | None = None
    ) -> None:
        self._log("business reject", logging.WARNING, ref_seq=ref.seq_num, reason=reason)
        self._send(admin.business_reject(ref, reason, text, ref_id))
        if ref.seq_num == self.store.next_target_seq():
            self._incr_target()

    async def _logout_and_disconnect(self, text: str) -> None:
        if self._transport is not None:
            self._send_logout(text)
        await self.disconnect(text)

    def _check_daily_reset(self, now: int) -> None:
        sched = self.config.schedule
        if sched is not None and sched.needs_reset(self.store.creation_time_ns(), now):
            self._log("daily reset")
            self.store.reset(now)


async def _maybe_await(result: Awaitable[None] | None) -> None:
    if inspect.isawaitable(result):
        await result
