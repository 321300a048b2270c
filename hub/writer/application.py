"""Step 6, apply: one attempt at the intent's Open Dental call, with the ledger around it.

``begin_attempt`` is committed before the request, every request the client reports is
recorded, and a failure known to have had no effect is released. Pacing happens inside the
client, per customer key. The attempt has its own timeout; one that fires after the request
started may have reached Open Dental, so it counts as possibly applied.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from contracts import Intent, OdRow
from hub.errors import TransientError
from hub.ledger import ApiCallRecord, Ledger, NewRef, RefKind
from hub.opendental import ApiCall, Created, Updated
from hub.writer.apis import OfficeApis
from hub.writer.backoff import RetryPolicy
from hub.writer.calls import CALLS, OdRequest
from hub.writer.failures import API_FAILURES, ApiFailure, after_failure
from hub.writer.verdict import About, Outcome, Verdict


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

    async def apply(self, about: About, intent: Intent, request: OdRequest) -> Verdict:
        intent_id = about.intent_id
        assert intent_id is not None  # only claimed intents are applied
        attempt = await self.ledger.begin_attempt(intent_id)
        if attempt is None:
            message = "Another writer holds this intent's attempt."
            return Verdict(about=about, outcome=Outcome.REDELIVER, message=message)
        about = replace(about, attempt=attempt)
        calls = CallLog()
        try:
            sent = await self._send(about, intent, request, calls)
        except asyncio.CancelledError:
            await asyncio.shield(self._abandon(about, calls))
            raise
        await asyncio.shield(self._record(about, calls))
        if isinstance(sent, Created | Updated):
            return _applied(about, intent, sent)
        after = after_failure(about, sent, self.policy)
        if after.release:
            await self.ledger.release_attempt(intent_id, str(sent))
        return after.verdict

    async def _send(
        self, about: About, intent: Intent, request: OdRequest, calls: CallLog
    ) -> Created | Updated | ApiFailure:
        """The call's result, or the hub error it failed with (as a value, to classify)."""
        method = CALLS[(intent.contract, intent.version)]
        writes = self.apis.writes_for(about.office, calls)
        try:
            async with asyncio.timeout(self.attempt_timeout_s):
                return await method(writes, request)
        except API_FAILURES as exc:
            return exc
        except TimeoutError:
            message = f"no reply within the attempt's {self.attempt_timeout_s:g} s"
            return TransientError(message, maybe_applied=calls.started)

    async def _record(self, about: About, calls: CallLog) -> None:
        assert about.intent_id is not None and about.attempt is not None
        for record in calls.records(about.attempt):
            await self.ledger.record_api_call(about.intent_id, record)

    async def _abandon(self, about: About, calls: CallLog) -> None:
        """The worker stopped mid-attempt: record what was sent; if nothing left the pacer,
        the attempt had no effect and is released, so a redelivery is not in doubt."""
        await self._record(about, calls)
        if not calls.started:
            assert about.intent_id is not None
            await self.ledger.release_attempt(about.intent_id, "stopped before sending")


def _applied(about: About, intent: Intent, result: Created | Updated) -> Verdict:
    new_ref = intent.payload.new_ref()
    refs: tuple[NewRef, ...] = ()
    if new_ref is not None:
        kind = RefKind(intent.payload.od_call.table)
        refs = (NewRef(kind=kind, ref=new_ref, od_primary_key=result.primary_key),)
    return Verdict(
        about=about,
        outcome=Outcome.APPLIED,
        od=OdRow(table=result.table, primary_key=result.primary_key),
        refs=refs,
    )
