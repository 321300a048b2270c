"""Step 6, apply: one attempt at the intent's Open Dental call, with the ledger around it.

``begin_attempt`` (or a new intent's claim, see claiming.py) is committed before the request,
every request the client reports is recorded, and a failure known to have had no effect is
released, charged to the intent's retry budget as failures.py says; one that may have landed
stays in doubt for reconciliation. Pacing happens inside the client, per customer key. The
attempt has its own timeout; one that fires after the request started may have reached Open
Dental, so it counts as possibly applied.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from contracts import Intent, OdRow
from hub.ledger import ApiCallRecord, Charge, Ledger
from hub.opendental import ApiCall, Created, Updated
from hub.writer.apis import OfficeApis
from hub.writer.backoff import RetryPolicy
from hub.writer.calls import CALLS, OdRequest
from hub.writer.claiming import Claimed, OwnAttempts
from hub.writer.failures import API_FAILURES, ApiFailure, AttemptTimedOut, after_failure
from hub.writer.reconciling import landed_before
from hub.writer.verdict import RECONCILED, About, HoldCause, Outcome, Verdict, applied


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

    async def apply(self, claimed: Claimed, intent: Intent, request: OdRequest) -> Verdict:
        intent_id = claimed.about.intent_id
        assert intent_id is not None  # only claimed intents are applied
        if claimed.begun:
            attempt = claimed.about.attempt
        else:
            attempt = await self.ledger.begin_attempt(intent_id, writer_id=self.own.writer_id)
        if attempt is None:
            # Held in place, not handed back: a nack would let later messages overtake it.
            message = "Another writer holds this intent's attempt; it is tried again after it."
            delay_s = self.policy.retry.delay_s(claimed.about.attempt or 1, self.policy.draw)
            return Verdict(
                about=claimed.about, outcome=Outcome.RETRY_LATER, message=message,
                delay_s=delay_s, cause=HoldCause.MAYBE_APPLIED,
            )
        about = replace(claimed.about, attempt=attempt)
        calls = CallLog()
        self.own.running.add(intent_id)
        try:
            sent = await self._send(about, intent, request, calls)
        except asyncio.CancelledError:
            await asyncio.shield(self._abandon(about, calls))
            raise
        finally:
            self.own.running.discard(intent_id)
        if isinstance(sent, Created | Updated):
            # Recorded by the finish, in its commit: until then the attempt is in doubt, which
            # a crash leaves to reconciliation, as for a reply that never came.
            verdict = applied(about, intent, OdRow(table=sent.table, primary_key=sent.primary_key))
            return replace(verdict, sent=calls.started, calls=tuple(calls.records(attempt)))
        await asyncio.shield(self._record(about, calls))
        verdict = await self._conclude(replace(claimed, about=about), intent, request, sent)
        return replace(verdict, sent=calls.started)

    async def _conclude(
        self, claimed: Claimed, intent: Intent, request: OdRequest,
        sent: ApiFailure,
    ) -> Verdict:
        about = claimed.about
        if landed_before(claimed, intent, sent):
            # The resent Break found the appointment broken: by the attempt in doubt.
            od = OdRow(table=intent.payload.od_call.table, primary_key=request.key())
            return Verdict(about=about, outcome=Outcome.APPLIED, od=od, message=RECONCILED)
        after = after_failure(about, sent, self.policy, claimed.budget)
        if after.release is not None:
            assert about.intent_id is not None
            await self.ledger.release_attempt(about.intent_id, str(sent), after.release)
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
            return AttemptTimedOut(message, maybe_applied=calls.started)

    async def _record(self, about: About, calls: CallLog) -> None:
        assert about.intent_id is not None and about.attempt is not None
        for record in calls.records(about.attempt):
            await self.ledger.record_api_call(about.intent_id, record)

    async def _abandon(self, about: About, calls: CallLog) -> None:
        """The worker stopped mid-attempt: record what was sent; if nothing left the pacer,
        the attempt had no effect and is released, free, so a redelivery is not in doubt."""
        await self._record(about, calls)
        if not calls.started:
            assert about.intent_id is not None
            await self.ledger.release_attempt(
                about.intent_id, "stopped before sending", Charge.FREE
            )

