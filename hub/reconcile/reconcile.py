"""Did a write whose result was lost land? Asked of the office's database, read-only, before the
writer sends anything again (DESIGN.md invariants 1 and 5; opendental-api.md §6).

Creates (Open Dental has no idempotency keys, so a second POST makes a second row): find the
rows fitting the intent's natural keys entered since the attempt began, keep those Open Dental
logged as made through the API (securitylog, LogSource 23), drop those the ledger credits to
another intent's create, and conclude: one left is ``Found``, none is ``NotFound``, more is
``Ambiguous``. A refund (payment.refund, a POST that makes a payment) goes the same way: its
rows are the API payments offsetting the refunded one's splits, whenever made.

appointment.update and appointment.note are read back instead (edits.py): a rescheduled row
either holds the values or not, and a note's append, unlike a PUT of values, doubles when sent
again.

Other updates (patient.update, appointment.confirm, appointment.break) are ``SafeToResend``
without a query: each is a PUT of field values, not a new row, and Open Dental's PUTs are
sparse, so the same values sent again leave the row as one send would. Two things differ,
neither a second effect: a second securitylog/history entry; and a Break that already landed is
refused with 400 "Only scheduled appointments may be broken." (nothing changes, so no second
missed-appointment procedure either), which after an in-doubt break means the first one landed,
not a rejection.

A read that fails (timeout, connection) raises TransientError: the writer tries again later and
never guesses. Nothing here writes anywhere; the verdict carries ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from contracts import Intent, Payload
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import CLOCK_SKEW, Candidate
from hub.reconcile.edits import settle_edit
from hub.reconcile.known_rows import KnownRows
from hub.reconcile.lookups import find_candidates
from hub.reconcile.verdicts import (
    Ambiguous,
    AttemptWindow,
    Found,
    NotFound,
    ReconcileVerdict,
    SafeToResend,
)
from hub.reconcile.window import office_local_since

_log = logging.getLogger(__name__)


def _sent_pat_num(payload: Payload, resolved_pat_num: int | None) -> int | None:
    """The PatNum the create was sent with: the payload's own, or the one PatientRef resolved to."""
    subject = payload.subject()
    if subject is None or subject.table != "patient":
        return None
    if subject.num is None and resolved_pat_num is None:
        raise ValueError("a create naming its patient by PatientRef needs the resolved PatNum")
    if subject.num is not None and resolved_pat_num not in (None, subject.num):
        raise ValueError("resolved_pat_num differs from the payload's PatNum")
    return subject.num if subject.num is not None else resolved_pat_num


def _sent_key(payload: Payload, resolved_key: int | None, table: str) -> int | None:
    """The key of the ``table`` row the intent was sent for: the payload's own or the one its
    reference resolved to; None when it names no such row."""
    subject = payload.subject()
    if subject is None or subject.table != table:
        return None
    return subject.num if subject.num is not None else resolved_key


async def _not_credited_elsewhere(
    candidates: Sequence[Candidate], *, office_id: str, window: AttemptWindow,
    known_rows: KnownRows,
) -> list[Candidate]:
    kept: list[Candidate] = []
    for candidate in candidates:
        creators = await known_rows.creators(
            office_id, candidate.table.value, candidate.primary_key
        )
        if not creators - {window.intent_id}:
            kept.append(candidate)
    return kept


def _conclude(candidates: Sequence[Candidate]) -> Found | NotFound | Ambiguous:
    if not candidates:
        return NotFound()
    if len(candidates) == 1:
        return Found(table=candidates[0].table, primary_key=candidates[0].primary_key)
    return Ambiguous(candidates=tuple(candidates))


async def reconcile(
    intent: Intent, *, resolved_pat_num: int | None, window: AttemptWindow,
    db: ReadOnlyDatabase, known_rows: KnownRows, clock_skew: timedelta = CLOCK_SKEW,
    resolved_key: int | None = None,
) -> ReconcileVerdict:
    """Whether the attempt in ``window`` made the row ``intent`` asks for.

    ``resolved_pat_num`` is the PatNum the writer resolved a PatientRef to (None if the payload
    names its PatNum, or names no patient). ``clock_skew``: the lookups' own look back before
    the window, beside its ``skew_margin``. ``resolved_key``: the AptNum or PayNum an
    intent naming its appointment or payment by the vendor's reference was sent for. Raises
    TransientError when the office database or the ledger cannot be read now, ValueError when
    a patient's create comes without its PatNum.
    """
    payload = intent.payload
    edit = await settle_edit(
        intent, apt_num=_sent_key(payload, resolved_key, "appointment"), window=window, db=db,
        known_rows=known_rows, clock_skew=clock_skew,
    )
    if edit is not None:
        return edit
    if payload.od_call.method == "PUT":
        return SafeToResend()
    pat_num = _sent_pat_num(payload, resolved_pat_num)
    since = await office_local_since(db, window)
    matched = await find_candidates(
        db, payload, pat_num=pat_num, since=since, clock_skew=clock_skew,
        pay_num=_sent_key(payload, resolved_key, "payment"),
    )
    if matched is None:  # a create without a lookup cannot be told apart: a person decides
        _log.warning("no reconciliation lookup", extra={
            "intent_id": window.intent_id, "contract": intent.contract,
        })
        return Ambiguous(candidates=())
    through_api = [candidate for candidate in matched if candidate.securitylog_num is not None]
    ours = await _not_credited_elsewhere(
        through_api, office_id=intent.office_id, window=window, known_rows=known_rows
    )
    verdict = _conclude(ours)
    _log.info("reconciled", extra={
        "intent_id": window.intent_id, "office": intent.office_id, "contract": intent.contract,
        "verdict": type(verdict).__name__, "primary_keys": [c.primary_key for c in ours],
        "matched": len(matched), "through_api": len(through_api),
    })
    return verdict
