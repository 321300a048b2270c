"""payment.refund, version 1: Open Dental's Payments POST Refund (opendental-api.md §4.4,
24.4.28): a new payment that offsets the one named."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall, Payload
from contracts.envelope import Intent
from contracts.fields import Key


class PaymentRefund(Payload):
    """Refund a patient payment in full: Open Dental makes a new payment of the opposite amount
    whose splits offset the original's."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/payments/Refund", table="payment")

    PayNum: Key = Field(description="The payment to refund (its Open Dental key).")


class PaymentRefundIntent(Intent):
    """Refund a patient payment in the office's Open Dental."""

    contract: Literal["payment.refund"]
    version: Literal[1]
    payload: PaymentRefund
