"""Step 3, authorize: a known vendor, the queue's own office, and a data agreement for it."""

from __future__ import annotations

from typing import NoReturn

from contracts import Intent, OutcomeReason
from hub.registry import Registry
from hub.writer.verdict import About, Early, Outcome, Verdict


def authorize(registry: Registry, about: About, intent: Intent) -> None:
    """Raises ``Early`` unless the vendor may send this contract to this queue's office."""
    if not about.vendor_known or about.vendor is None:
        _refuse(about, OutcomeReason.UNAUTHORIZED, "The publisher is not a vendor of the hub.")
    if intent.office_id != about.office:
        _refuse(
            about,
            OutcomeReason.OFFICE_MISMATCH,
            "The intent's office_id is not the office whose queue it was routed to.",
        )
    if not registry.allows(about.vendor, about.office, intent.contract):
        _refuse(
            about,
            OutcomeReason.UNAUTHORIZED,
            "The office has no data agreement letting this vendor send this contract.",
        )


def _refuse(about: About, reason: OutcomeReason, message: str) -> NoReturn:
    raise Early(Verdict(about=about, outcome=Outcome.REJECTED, reason=reason, message=message))
