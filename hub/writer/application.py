"""Apply: build the Open Dental request, begin an attempt, send it, and say what it did.

The request comes from one table (``CALLS``: contract and major version to client call), with a
patient or appointment the intent names by the vendor's own reference resolved to the Open
Dental key the hub registered for it. The attempt is begun in the ledger before the request
leaves, so a crash after it leaves is an attempt in doubt, never a blind resend. A failed
attempt that cannot have had any effect is released, charged to the intent's retry budget as
the retry policy says (retrying.py); one that may have landed stays in doubt for
reconciliation. Pacing happens inside the client, per customer key. The attempt has its own
timeout; one that fires after the request started may have reached Open Dental, so it counts as
possibly applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from contracts import FieldError, Intent, OdRow, OutcomeReason, OutcomeStatus, Payload
from contracts.v1.sheet import SheetFill
from hub.errors import HubError, PermanentError
from hub.ledger import ApiCallRecord, Charge, Ledger, RefKind
from hub.opendental import (
    ApiCall,
    Created,
    HttpClient,
    OfficeApi,
    OpenDentalClient,
    Pacer,
    Updated,
    WireBody,
)
from hub.opendental.results import Row
from hub.writer.decisions import (
    RECONCILED,
    Final,
    Hold,
    HoldCause,
    IntentIdentity,
    applied,
    rejected,
)
from hub.writer.intake import Claimed, OwnAttempts
from hub.writer.retrying import API_FAILURES, ApiFailure, AttemptTimedOut, RetryPolicy
from hub.writer.sheet_fill import SheetFillRun

OnCall = Callable[[ApiCall], None]


class OpenDentalWrites(Protocol):
    """The writes of ``OpenDentalClient`` the writer uses (one office, paced, classified)."""

    async def create_patient(self, body: WireBody) -> Created: ...
    async def update_patient(self, pat_num: int, body: WireBody) -> Updated: ...
    async def create_appointment(self, body: WireBody) -> Created: ...
    async def confirm_appointment(self, apt_num: int, body: WireBody) -> Updated: ...
    async def break_appointment(self, apt_num: int, body: WireBody) -> Updated: ...
    async def create_commlog(self, body: WireBody) -> Created: ...
    async def create_payment(self, body: WireBody) -> Created: ...
    async def upload_document(self, body: WireBody) -> Created: ...
    async def update_appointment(self, apt_num: int, body: WireBody) -> Updated: ...
    async def append_appointment_note(self, apt_num: int, body: WireBody) -> Updated: ...
    async def refund_payment(self, body: WireBody) -> Created: ...
    async def set_patfield(self, body: WireBody) -> Created | Updated: ...
    async def create_allergy(self, body: WireBody) -> Created: ...
    async def create_medication(self, body: WireBody) -> Created: ...
    async def create_problem(self, body: WireBody) -> Created: ...
    async def create_sheet(self, body: WireBody) -> Created: ...
    async def list_sheet_fields(self, sheet_num: int) -> list[Row]: ...
    async def set_sheet_field(self, sheet_field_num: int, value: str) -> Updated: ...


class OfficeApis(Protocol):
    def writes_for(self, office: str, on_call: OnCall) -> OpenDentalWrites:
        """A client for the office's API that reports each request to ``on_call``."""
        ...


@dataclass(frozen=True, kw_only=True)
class HttpOfficeApis:
    """Every office over one shared HTTP client and one pacer (per customer key)."""

    http: HttpClient
    pacer: Pacer
    offices: Mapping[str, OfficeApi]

    def writes_for(self, office: str, on_call: OnCall) -> OpenDentalWrites:
        # A client is a few references: one per attempt keeps each attempt's calls apart.
        return OpenDentalClient(self.http, self.offices[office], self.pacer, on_call=on_call)


@dataclass(frozen=True, kw_only=True)
class OdRequest:
    """One intent as Open Dental's API takes it: the body, and the key its path names."""

    body: WireBody
    path_key: int | None = None  # PatNum or AptNum in the URL, resolved from a ref if need be
    fill: SheetFillRun | None = None  # sheet.fill's calls after the first, with their points

    def key(self) -> int:
        if self.path_key is None:
            raise ValueError("this call names its row in the path, but no key was resolved")
        return self.path_key

    async def filled(self, od: OpenDentalWrites) -> Created:
        if self.fill is None:
            raise ValueError("a sheet.fill request carries its fill")
        return await self.fill.run(od, self.body)


ApiMethod = Callable[[OpenDentalWrites, OdRequest], Awaitable[Created | Updated]]

CALLS: Mapping[tuple[str, int], ApiMethod] = {
    ("patient.create", 1): lambda od, r: od.create_patient(r.body),
    ("patient.update", 1): lambda od, r: od.update_patient(r.key(), r.body),
    ("appointment.create", 1): lambda od, r: od.create_appointment(r.body),
    ("appointment.confirm", 1): lambda od, r: od.confirm_appointment(r.key(), r.body),
    ("appointment.break", 1): lambda od, r: od.break_appointment(r.key(), r.body),
    ("commlog.create", 1): lambda od, r: od.create_commlog(r.body),
    ("payment.create", 1): lambda od, r: od.create_payment(r.body),
    ("document.upload", 1): lambda od, r: od.upload_document(r.body),
    ("appointment.update", 1): lambda od, r: od.update_appointment(r.key(), r.body),
    ("appointment.note", 1): lambda od, r: od.append_appointment_note(r.key(), r.body),
    ("payment.refund", 1): lambda od, r: od.refund_payment(r.body),
    ("appointment.confirm", 2): lambda od, r: od.confirm_appointment(r.key(), r.body),
    ("commlog.create", 2): lambda od, r: od.create_commlog(r.body),
    ("patfield.set", 1): lambda od, r: od.set_patfield(r.body),
    ("allergy.create", 1): lambda od, r: od.create_allergy(r.body),
    ("medication.create", 1): lambda od, r: od.create_medication(r.body),
    ("problem.create", 1): lambda od, r: od.create_problem(r.body),
    ("sheet.fill", 1): lambda od, r: r.filled(od),
}
"""(contract, major version) → the client call; a test checks every served contract is here."""

_REF_FIELDS = {"PatNum": "PatientRef", "AptNum": "AppointmentRef",
               "PayNum": "PaymentRef"}
# Open Dental's answer to a Break of an appointment that is no longer scheduled: after a break
# in doubt, the break that was in doubt is what unscheduled it (odsim/handlers/appointment_actions).
ALREADY_BROKEN = "only scheduled appointments may be broken"


async def request_for(
    ledger: Ledger, identity: IntentIdentity, payload: Payload, *, call_timeout_s: float = 0.0
) -> OdRequest | Final:
    """The request to send, or ``unknown_reference`` when a reference names nothing this vendor
    created in this office. A sheet.fill's request carries its run (``call_timeout_s`` a call)."""
    request = await _request_for(ledger, identity, payload)
    if isinstance(request, OdRequest) and isinstance(payload, SheetFill):
        assert identity.intent_id is not None  # only claimed intents are sent
        fill = SheetFillRun(ledger=ledger, intent_id=identity.intent_id,
                            fields=payload.fields, call_timeout_s=call_timeout_s)
        return replace(request, fill=fill)
    return request


async def _request_for(
    ledger: Ledger, identity: IntentIdentity, payload: Payload
) -> OdRequest | Final:
    body = payload.od_fields()
    subject = payload.subject()
    if subject is None:
        return OdRequest(body=body)
    key = subject.num
    if subject.ref is not None:
        assert identity.vendor is not None  # only authorized intents are resolved
        kind = RefKind(subject.table)
        key = await ledger.resolve_ref(identity.vendor, identity.office, kind, subject.ref)
    if key is None:
        path = f"payload.{_REF_FIELDS[subject.key_field]}"
        message = f"{path} names nothing this vendor created in this office."
        error = FieldError(path=path, rule="unknown_reference", message=message)
        return rejected(identity, OutcomeReason.UNKNOWN_REFERENCE, message, (error,))
    if subject.key_field in payload.od_call.path_fields():
        return OdRequest(body=body, path_key=key)
    return OdRequest(body={**body, subject.key_field: key})


class CallLog:
    """The requests of one attempt, as the client reports them, stamped when reported."""

    def __init__(self) -> None:
        self._calls: list[tuple[datetime, ApiCall]] = []

    def __call__(self, call: ApiCall) -> None:
        self._calls.append((datetime.now(UTC), call))

    @property
    def started(self) -> bool:
        """Whether a request left the pacer: from then on it may have reached Open Dental."""
        return bool(self._calls)

    def records(self, attempt: int) -> list[ApiCallRecord]:
        return [
            ApiCallRecord(
                attempt=attempt,
                method=call.method,
                path=call.path,
                status=call.status,
                latency_s=call.latency_s,
                od_primary_key=call.od_primary_key,
                message=call.message,
                started_at=reported_at - timedelta(seconds=call.latency_s),
            )
            for reported_at, call in self._calls
        ]


@dataclass(frozen=True, kw_only=True)
class Applier:
    ledger: Ledger
    apis: OfficeApis
    policy: RetryPolicy
    attempt_timeout_s: float
    own: OwnAttempts

    async def apply(self, claimed: Claimed, intent: Intent, request: OdRequest) -> Final | Hold:
        intent_id = claimed.identity.intent_id
        assert intent_id is not None  # only claimed intents are applied
        if claimed.begun:
            attempt = claimed.identity.attempt
        else:
            attempt = await self.ledger.begin_attempt(intent_id, writer_id=self.own.writer_id)
        if attempt is None:
            # Held in place, not handed back: a nack would let later messages overtake it.
            message = "Another writer holds this intent's attempt; it is tried again after it."
            delay_s = self.policy.retry_delay_s(claimed.identity.attempt or 1)
            return Hold(
                intent=claimed.identity, cause=HoldCause.MAYBE_APPLIED, delay_s=delay_s,
                message=message,
            )
        identity = replace(claimed.identity, attempt=attempt)
        if request.fill is not None:
            request = replace(request, fill=request.fill.of_attempt(attempt))
        calls = CallLog()
        self.own.running.add(intent_id)
        try:
            sent = await self._send(identity, intent, request, calls)
        except asyncio.CancelledError:
            await asyncio.shield(self._abandon(identity, calls))
            raise
        finally:
            self.own.running.discard(intent_id)
        if isinstance(sent, Created | Updated):
            # Recorded by the finish, in its commit: until then the attempt is in doubt, which
            # a crash leaves to reconciliation, as for a reply that never came.
            od = OdRow(table=sent.table, primary_key=sent.primary_key)
            return replace(applied(identity, intent, od), calls=tuple(calls.records(attempt)))
        await asyncio.shield(self._record(identity, calls))
        return await self._conclude(replace(claimed, identity=identity), intent, request, sent)

    async def _conclude(
        self, claimed: Claimed, intent: Intent, request: OdRequest, sent: ApiFailure
    ) -> Final | Hold:
        identity = claimed.identity
        if landed_before(claimed, intent, sent):
            # The resent Break found the appointment broken: by the attempt in doubt.
            od = OdRow(table=intent.payload.od_call.table, primary_key=request.key())
            return Final(intent=identity, status=OutcomeStatus.APPLIED, od=od, message=RECONCILED)
        after = self.policy.after_failure(identity, sent, claimed.budget)
        if after.release is not None:
            assert identity.intent_id is not None
            await self.ledger.release_attempt(identity.intent_id, str(sent), after.release)
        return after.decision

    async def _send(
        self, identity: IntentIdentity, intent: Intent, request: OdRequest, calls: CallLog
    ) -> Created | Updated | ApiFailure:
        """The call's result, or the hub error it failed with (as a value, to classify)."""
        method = CALLS[(intent.contract, intent.version)]
        writes = self.apis.writes_for(identity.office, calls)
        # A fill of several calls gives each call the attempt's time limit (sheet_fill.py).
        timeout_s = None if request.fill is not None else self.attempt_timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                return await method(writes, request)
        except API_FAILURES as exc:
            return exc
        except TimeoutError:
            message = f"no reply within the attempt's {self.attempt_timeout_s:g} s"
            return AttemptTimedOut(message, maybe_applied=calls.started)

    async def _record(self, identity: IntentIdentity, calls: CallLog) -> None:
        assert identity.intent_id is not None and identity.attempt is not None
        for record in calls.records(identity.attempt):
            await self.ledger.record_api_call(identity.intent_id, record)

    async def _abandon(self, identity: IntentIdentity, calls: CallLog) -> None:
        """The worker stopped mid-attempt: record what was sent; if nothing left the pacer,
        the attempt had no effect and is released, free, so a redelivery is not in doubt."""
        await self._record(identity, calls)
        if not calls.started:
            assert identity.intent_id is not None
            await self.ledger.release_attempt(
                identity.intent_id, "stopped before sending", Charge.FREE
            )


def landed_before(claimed: Claimed, intent: Intent, error: HubError) -> bool:
    """A resent Break refused because the appointment is no longer scheduled: the break in
    doubt landed. Nothing else refuses a resend for having been applied."""
    return (
        claimed.resent
        and intent.contract == "appointment.break"
        and isinstance(error, PermanentError)
        and error.status == 400
        and ALREADY_BROKEN in str(error).lower()
    )
