"""Reconciliation: whether an Open Dental write whose result was lost actually landed.

The writer asks when ``claim`` returns ``InDoubt`` or an attempt failed with
``TransientError(maybe_applied=True)``::

    verdict = await reconcile(intent, resolved_pat_num=pat_num, window=AttemptWindow.of(in_doubt),
                              db=office_db, known_rows=LedgerKnownRows(ledger))

``Found``: finish the intent as applied with that row, send nothing. ``NotFound``: send it.
``Ambiguous``: dead-letter it as ``ambiguous`` with the candidates. ``SafeToResend``: an update,
send it again. Read failures raise TransientError: reconcile again later.
"""

from hub.reconcile.known_rows import KnownRows, LedgerKnownRows
from hub.reconcile.reconcile import reconcile
from hub.reconcile.verdicts import (
    DEFAULT_SKEW_MARGIN,
    Ambiguous,
    AttemptWindow,
    Found,
    NotFound,
    ReconcileVerdict,
    SafeToResend,
)

__all__ = [
    "DEFAULT_SKEW_MARGIN",
    "Ambiguous",
    "AttemptWindow",
    "Found",
    "KnownRows",
    "LedgerKnownRows",
    "NotFound",
    "ReconcileVerdict",
    "SafeToResend",
    "reconcile",
]
