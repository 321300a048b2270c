"""Reconcile: an intent whose earlier attempt may have landed is never sent blindly.

The office's Open Dental database is asked, read-only (hub/reconcile), whether the attempt made
its row. ``Found``: applied with that row, nothing sent. ``NotFound`` (a create that did not
land) and ``SafeToResend`` (an update): the attempt is released, counted, and the intent is sent
again unless its retries are exhausted (the one retry policy, retrying.py). ``Ambiguous``: dead,
with the candidates, for a person. Nothing is ever guessed: a lookup that cannot run (the
database down, the read-only account's login or grants refused) pauses the office's lane with
that reason (``reconcile_unavailable``); each run of the held intent probes again, after a delay
that grows with the office's failed lookups in a row, and the lane goes on once the database
answers.

An attempt in doubt that another writer process began may belong to a writer that lost the
broker but not Open Dental: it is reconciled only once the attempt's time limit has passed since
it began (by the ledger database's clock), when no such request can still be on its way; for a
sheet.fill, whose every call has that limit, since its last recovery point, as the call in doubt
left after it. This writer's own attempt, no longer running, is over: it is reconciled at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from contracts import Intent, OdRow, OutcomeReason
from hub.errors import HubError, ReadOnlyViolation, TransientError
from hub.ledger import Charge, Ledger
from hub.ledger.sheet_steps import SheetProgress
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.reconcile import (
    Ambiguous,
    AttemptWindow,
    Found,
    KnownRows,
    ReconcileVerdict,
    reconcile,
)
from hub.reconcile.sheets import Undecidable, reconcile_fill
from hub.writer.application import OdRequest
from hub.writer.decisions import (
    RECONCILED,
    Final,
    Hold,
    HoldCause,
    IntentIdentity,
    applied,
    dead,
)
from hub.writer.intake import Claimed, OwnAttempts
from hub.writer.metrics import WriterMetrics
from hub.writer.retrying import RetryPolicy

log = logging.getLogger(__name__)

# Past the attempt's own time limit, how long its ledger record and reply may still take.
IN_FLIGHT_MARGIN_S = 1.0


@dataclass(frozen=True, kw_only=True)
class Reconciler:
    known_rows: KnownRows
    databases: Mapping[str, ReadOnlyDatabase]  # each office's, by office id
    ledger: Ledger
    policy: RetryPolicy
    attempt_timeout_s: float
    metrics: WriterMetrics
    own: OwnAttempts
    # Failed lookups in a row, per office: the probes' backoff and the log's transitions.
    failing: dict[str, int] = field(default_factory=dict)

    async def resolve_doubt(
        self, claimed: Claimed, intent: Intent, request: OdRequest
    ) -> Claimed | Final | Hold:
        """The intent free to be sent again, or what reconciliation decided."""
        doubt = claimed.doubt
        assert doubt is not None  # only an attempt in doubt is reconciled
        identity = claimed.identity
        progress = None
        if request.fill is not None:
            assert identity.intent_id is not None
            progress = await self.ledger.sheet_progress(identity.intent_id)
        if not self.own.over(doubt):
            waiting = self._wait_for_foreign_attempt(claimed, progress)
            if waiting is not None:
                return waiting
        if progress is not None:
            return await self._resume_fill(claimed, intent, request, progress)
        answer = await self._ask(identity, intent, request, AttemptWindow.of(doubt))
        if isinstance(answer, Final | Hold):
            return answer
        self.metrics.reconciled(identity.office, intent.contract, type(answer).__name__)
        if isinstance(answer, Found):
            od = OdRow(table=answer.table.value, primary_key=answer.primary_key)
            return applied(identity, intent, od, message=RECONCILED)
        if isinstance(answer, Ambiguous):
            return _ambiguous(identity, answer)
        return await self._send_again(claimed)

    async def _resume_fill(
        self, claimed: Claimed, intent: Intent, request: OdRequest, progress: SheetProgress
    ) -> Claimed | Final | Hold:
        """A sheet.fill in doubt: the one call after its last recovery point is asked about
        (hub/reconcile/sheets.py); the fill then resumes after its points."""
        identity, doubt = claimed.identity, claimed.doubt
        assert identity.intent_id is not None and doubt is not None and request.fill is not None
        intent_id = identity.intent_id

        async def recorded(nums: list[int]) -> frozenset[int]:
            return await self.ledger.sheets_recorded(identity.office, nums, besides=intent_id)

        try:
            verdict = await reconcile_fill(
                self.databases[identity.office], progress=progress,
                fields=request.fill.fields, pat_num=int(request.body["PatNum"]),
                sheet_def_num=int(request.body["SheetDefNum"]),
                window=AttemptWindow.of(doubt), sheets_recorded=recorded,
            )
        except (TransientError, ReadOnlyViolation) as exc:
            return self._unavailable(identity, exc)
        except HubError as exc:  # the lookup itself does not fit: a person reconciles
            message = f"The hub could not reconcile the sheet.fill in doubt ({exc})."
            return dead(identity, OutcomeReason.NEEDS_RECONCILE, message)
        self.failing.pop(identity.office, None)
        word = "ambiguous" if isinstance(verdict, Undecidable) else (
            "found" if verdict.landed else "not_found")
        self.metrics.reconciled(identity.office, intent.contract, word)
        if isinstance(verdict, Undecidable):
            rows = tuple(OdRow(table=verdict.table, primary_key=k) for k in verdict.primary_keys)
            named = ", ".join(f"{verdict.table} {k}" for k in verdict.primary_keys)
            message = f"The sheet.fill in doubt cannot be resumed: {verdict.why} ({named}); "
            message += "a person decides."
            return dead(identity, OutcomeReason.AMBIGUOUS, message, rows)
        if verdict.step is not None:
            await self.ledger.record_sheet_step(intent_id, verdict.step, attempt=doubt.attempts)
        if not verdict.landed:
            return await self._send_again(claimed)
        # The call in doubt landed and is recorded now: the fill goes on, nothing charged.
        await self.ledger.release_attempt(
            intent_id, "in doubt; reconciled as landed, resumed", Charge.FREE
        )
        return replace(claimed, doubt=None, resent=True)

    def _wait_for_foreign_attempt(
        self, claimed: Claimed, progress: SheetProgress | None
    ) -> Hold | None:
        age_s = claimed.budget.attempt_age_now_s() or 0.0
        if progress is not None and progress.last_point_age_s is not None:
            # A fill's call in doubt left after the fill's last point, however old the attempt.
            age_s = min(age_s, progress.last_point_age_s)
        wait_s = self.attempt_timeout_s + IN_FLIGHT_MARGIN_S - age_s
        if wait_s <= 0:
            return None
        message = "An attempt in doubt may still be on its way; it is reconciled after it."
        return Hold(
            intent=claimed.identity, cause=HoldCause.MAYBE_APPLIED, delay_s=wait_s,
            message=message,
        )

    async def _ask(
        self, identity: IntentIdentity, intent: Intent, request: OdRequest, window: AttemptWindow
    ) -> ReconcileVerdict | Final | Hold:
        try:
            answer = await reconcile(
                intent, resolved_pat_num=_resolved_pat_num(intent, request), window=window,
                db=self.databases[identity.office], known_rows=self.known_rows,
                resolved_key=_resolved_key(intent, request),
            )
        except (TransientError, ReadOnlyViolation) as exc:
            return self._unavailable(identity, exc)
        except HubError as exc:  # the lookup itself does not fit: a person reconciles
            message = f"The hub could not reconcile the attempt in doubt ({exc})."
            return dead(identity, OutcomeReason.NEEDS_RECONCILE, message)
        if self.failing.pop(identity.office, 0):
            log.info("reconciliation reads the office's database again",
                     extra=identity.log_fields())
        return answer

    def _unavailable(self, identity: IntentIdentity, exc: HubError) -> Hold:
        """The office's database cannot be read: its lane pauses and probes, never guesses."""
        failures = self.failing.get(identity.office, 0) + 1
        self.failing[identity.office] = failures
        if failures == 1:
            log.warning("reconciliation cannot read the office's database (%s); the lane "
                        "pauses and probes", exc, extra=identity.log_fields())
        return Hold(
            intent=identity, cause=HoldCause.RECONCILE_UNAVAILABLE,
            delay_s=self.policy.retry_delay_s(failures),
            message=f"Reconciliation cannot read the office's database ({exc}).",
        )

    async def _send_again(self, claimed: Claimed) -> Claimed | Final:
        """The attempt in doubt did not land (or is an update): it counts, then send again."""
        identity = claimed.identity
        assert identity.intent_id is not None and claimed.doubt is not None
        await self.ledger.release_attempt(identity.intent_id, "in doubt; reconciled as not landed")
        counted = claimed.doubt.attempts - claimed.budget.free_attempts
        last = "the last one's reply was lost and reconciliation found it had not landed."
        exhausted = self.policy.give_up(identity, claimed.budget, counted, last)
        return exhausted or replace(claimed, doubt=None, resent=True)


def _resolved_pat_num(intent: Intent, request: OdRequest) -> int | None:
    """The PatNum a ``PatientRef`` was resolved to and sent with; None when the payload names
    its PatNum itself or names no patient."""
    subject = intent.payload.subject()
    if subject is None or subject.table != "patient" or subject.ref is None:
        return None
    if request.path_key is not None:
        return request.path_key
    value = request.body.get(subject.key_field)
    return value if isinstance(value, int) else None


def _resolved_key(intent: Intent, request: OdRequest) -> int | None:
    """The AptNum or PayNum an intent naming its appointment or payment was sent for (in the
    path or the body); None when it names neither."""
    subject = intent.payload.subject()
    if subject is None or subject.table == "patient":
        return None
    if request.path_key is not None:
        return request.path_key
    value = request.body.get(subject.key_field)
    return value if isinstance(value, int) else None


def _ambiguous(identity: IntentIdentity, answer: Ambiguous) -> Final:
    candidates = tuple(
        OdRow(table=row.table.value, primary_key=row.primary_key) for row in answer.candidates
    )
    named = ", ".join(f"{row.table} {row.primary_key}" for row in candidates) or "none to look up"
    message = "Open Dental has more than one row this intent may have made, and the hub cannot "
    message += f"tell which (candidates: {named}); a person decides."
    return dead(identity, OutcomeReason.AMBIGUOUS, message, candidates)
