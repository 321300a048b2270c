"""Step 1, parse: who published the message. Only the broker-checked ``user_id`` says so."""

from __future__ import annotations

from dataclasses import replace

from contracts import OutcomeReason
from hub.registry import Registry
from hub.writer.delivery import Delivery
from hub.writer.verdict import About, Early, Outcome, Verdict


def identify(delivery: Delivery, registry: Registry) -> About:
    """The vendor behind the delivery; a message without ``user_id`` is refused, as nobody
    proved who sent it (and no outcome can be routed back to anyone)."""
    about = About(office=delivery.office)
    if not delivery.user_id:
        raise Early(
            Verdict(
                about=about,
                outcome=Outcome.REJECTED,
                reason=OutcomeReason.UNAUTHENTICATED,
                message="The message has no user_id, so its publisher is not proven.",
            )
        )
    vendor = delivery.user_id
    return replace(about, vendor=vendor, vendor_known=vendor in registry.vendors)
