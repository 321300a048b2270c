"""payment.refund, version 1: Open Dental's Payments POST Refund (opendental-api.md §4.4,
24.4.28): a new payment that offsets the one named."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall, Payload, Subject
from contracts.envelope import Intent
from contracts.fields import Key, VendorRef
from contracts.rules import ExactlyOneOf, FieldRule


class PaymentRefund(Payload):
    """Refund a patient payment in full: Open Dental makes a new payment of the opposite amount
    whose splits offset the original's. The payment by `PayNum` or by the vendor's
    `PaymentRef`, exactly one of the two."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/payments/Refund", table="payment")
    rules: ClassVar[tuple[FieldRule, ...]] = (ExactlyOneOf(("PayNum", "PaymentRef")),)

    PayNum: Key | None = Field(default=None, description="The payment's Open Dental key.")
    PaymentRef: VendorRef | None = Field(
        default=None,
        description="The vendor's own reference for the payment, registered by an earlier "
        "payment.create; the hub resolves it to a PayNum.",
    )

    def subject(self) -> Subject:
        return Subject(table="payment", key_field="PayNum", num=self.PayNum, ref=self.PaymentRef)


class PaymentRefundIntent(Intent):
    """Refund a patient payment in the office's Open Dental."""

    contract: Literal["payment.refund"]
    version: Literal[1]
    payload: PaymentRefund
