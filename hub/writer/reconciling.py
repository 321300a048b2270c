"""Step 5b, reconcile: an intent whose earlier attempt may have landed is never sent blindly.

The office's Open Dental database is asked, read-only (hub/reconcile), whether the attempt made
its row. ``Found``: applied with that row, nothing sent. ``NotFound`` (a create that did not
land) and ``SafeToResend`` (an update): the attempt is released, counted, and the intent is sent
again unless its retries are exhausted. ``Ambiguous``: dead, with the candidates, for a person.
Nothing is ever guessed: a lookup that cannot run (the database down, the read-only account's
login or grants refused) pauses the office's lane with that reason (``reconcile_unavailable``);
each run of the held intent probes again, after a delay that grows with the office's failed
lookups in a row, and the lane goes on once the database answers.

An attempt in doubt that another writer process began may belong to a writer that lost the
broker but not Open Dental: it is reconciled only once the attempt's time limit has passed since
it began (by the ledger database's clock), when no such request can still be on its way. This
writer's own attempt, no longer running, is over: it is reconciled at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from contracts import Intent, OdRow, OutcomeReason
from hub.errors import HubError, PermanentError, ReadOnlyViolation, TransientError
from hub.ledger import Ledger
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.reconcile import (
    Ambiguous,
    AttemptWindow,
    Found,
    KnownRows,
    ReconcileVerdict,
    reconcile,
)
from hub.writer.backoff import RetryPolicy
from hub.writer.calls import OdRequest
from hub.writer.claiming import Claimed, OwnAttempts
from hub.writer.metrics import WriterMetrics
from hub.writer.verdict import (
    RECONCILED,
    About,
    Early,
    HoldCause,
    Outcome,
    Verdict,
    applied,
)

log = logging.getLogger(__name__)

# Past the attempt's own time limit, how long its ledger record and reply may still take.
IN_FLIGHT_MARGIN_S = 1.0
# Open Dental's answer to a Break of an appointment that is no longer scheduled: after a break
# in doubt, the break that was in doubt is what unscheduled it (odsim/handlers/appointment_actions).
ALREADY_BROKEN = "only scheduled appointments may be broken"


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

    async def settle_doubt(self, claimed: Claimed, intent: Intent, request: OdRequest) -> Claimed:
        """The intent free to be sent; raises ``Early`` when it is decided or must wait."""
        doubt = claimed.doubt
        if doubt is None:
            return claimed
        about = claimed.about
        if not self.own.over(doubt):
            self._wait_for_foreign_attempt(claimed)
        window = AttemptWindow.of(doubt)
        answer = await self._ask(about, intent, request, window)
        self.metrics.reconciled(about.office, intent.contract, type(answer).__name__)
        if isinstance(answer, Found):
            od = OdRow(table=answer.table.value, primary_key=answer.primary_key)
            raise Early(applied(about, intent, od, message=RECONCILED))
        if isinstance(answer, Ambiguous):
            raise Early(_ambiguous(about, answer))
        return await self._send_again(claimed)

    def _wait_for_foreign_attempt(self, claimed: Claimed) -> None:
        age_s = claimed.budget.attempt_age_now_s() or 0.0
        wait_s = self.attempt_timeout_s + IN_FLIGHT_MARGIN_S - age_s
        if wait_s > 0:
            message = "An attempt in doubt may still be on its way; it is reconciled after it."
            raise Early(_hold(claimed.about, wait_s, message))

    async def _ask(
        self, about: About, intent: Intent, request: OdRequest, window: AttemptWindow
    ) -> ReconcileVerdict:
        try:
            answer = await reconcile(
                intent, resolved_pat_num=_resolved_pat_num(intent, request), window=window,
                db=self.databases[about.office], known_rows=self.known_rows,
            )
        except (TransientError, ReadOnlyViolation) as exc:
            raise Early(self._unavailable(about, exc)) from None
        except HubError as exc:  # the lookup itself does not fit: a person reconciles
            raise Early(Verdict(
                about=about, outcome=Outcome.DEAD, reason=OutcomeReason.NEEDS_RECONCILE,
                message=f"The hub could not reconcile the attempt in doubt ({exc}).",
            )) from None
        if self.failing.pop(about.office, 0):
            log.info("reconciliation reads the office's database again",
                     extra=about.log_fields())
        return answer

    def _unavailable(self, about: About, exc: HubError) -> Verdict:
        """The office's database cannot be read: its lane pauses and probes, never guesses."""
        failures = self.failing.get(about.office, 0) + 1
        self.failing[about.office] = failures
        if failures == 1:
            log.warning("reconciliation cannot read the office's database (%s); the lane "
                        "pauses and probes", exc, extra=about.log_fields())
        return Verdict(
            about=about, outcome=Outcome.LANE_PAUSED,
            delay_s=self.policy.retry.delay_s(failures, self.policy.draw),
            cause=HoldCause.RECONCILE_UNAVAILABLE,
            message=f"Reconciliation cannot read the office's database ({exc}).",
        )

    async def _send_again(self, claimed: Claimed) -> Claimed:
        """The attempt in doubt did not land (or is an update): it counts, then send again."""
        about = claimed.about
        assert about.intent_id is not None and claimed.doubt is not None
        await self.ledger.release_attempt(about.intent_id, "in doubt; reconciled as not landed")
        counted = claimed.doubt.attempts - claimed.budget.free_attempts
        if self.policy.exhausted(
            counted_attempts=counted, retrying_s=claimed.budget.retrying_now_s()
        ):
            message = f"Open Dental failed {counted} counted attempt(s); the last one's reply "
            message += "was lost and reconciliation found it had not landed."
            raise Early(Verdict(
                about=about, outcome=Outcome.DEAD, reason=OutcomeReason.RETRIES_EXHAUSTED,
                message=message,
            ))
        return replace(claimed, doubt=None, resent=True)


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


def _ambiguous(about: About, answer: Ambiguous) -> Verdict:
    candidates = tuple(
        OdRow(table=row.table.value, primary_key=row.primary_key) for row in answer.candidates
    )
    named = ", ".join(f"{row.table} {row.primary_key}" for row in candidates) or "none to look up"
    message = "Open Dental has more than one row this intent may have made, and the hub cannot "
    message += f"tell which (candidates: {named}); a person decides."
    return Verdict(
        about=about, outcome=Outcome.DEAD, reason=OutcomeReason.AMBIGUOUS, message=message,
        candidates=candidates,
    )


def _hold(about: About, delay_s: float, message: str) -> Verdict:
    return Verdict(
        about=about, outcome=Outcome.RETRY_LATER, delay_s=delay_s,
        cause=HoldCause.MAYBE_APPLIED, message=message,
    )

