"""The demo's names for where a published (or refused) intent ended, as the script expects them
and as outcome events report them: ``applied``, ``duplicate``, ``rejected:<reason>``,
``dead:<reason>`` and ``refused_by_broker:<the broker's reply code>``."""

from __future__ import annotations

from contracts import OutcomeEvent, OutcomeReason, OutcomeStatus

APPLIED = OutcomeStatus.APPLIED.value
DUPLICATE = "duplicate"  # an exact duplicate: the first outcome repeated, nothing called
REFUSED_BY_BROKER = "refused_by_broker"
ACCESS_REFUSED = "ACCESS_REFUSED"  # a routing key outside the vendor's topic permission
PRECONDITION_FAILED = "PRECONDITION_FAILED"  # a user_id that is not the publisher's login


def rejected(reason: OutcomeReason) -> str:
    return f"{OutcomeStatus.REJECTED.value}:{reason.value}"


def refused(code: str) -> str:
    return f"{REFUSED_BY_BROKER}:{code}"


def of_event(event: OutcomeEvent) -> str:
    if event.duplicate:
        return DUPLICATE
    if event.reason is None:
        return event.status.value
    return f"{event.status.value}:{event.reason.value}"

