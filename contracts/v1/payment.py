"""payment.create, version 1: Open Dental's Payments POST (patient payments only)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import Amount, Key, KeyOrZero, OdDate, Text25, Text4000, VendorRef
from contracts.v1.subjects import NamesPatient


class PaymentCreate(NamesPatient):
    """A patient payment; Open Dental splits it across the patient's charges."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/payments", table="payment")

    PayAmt: Amount = Field(
        description="More than 0, at most 1,000,000, at most two decimal places (the hub checks "
        "the decimal places: JSON Schema's multipleOf is unreliable for binary numbers)."
    )
    PayType: Key | None = Field(
        default=None, description="A payment type definition (DefNum, Category 10)."
    )
    PayDate: OdDate | None = None
    CheckNum: Text25 | None = None
    BankBranch: Text25 | None = None
    PayNote: Text4000 | None = None
    ClinicNum: KeyOrZero | None = None
    PaymentRef: VendorRef | None = Field(
        default=None,
        description="The vendor's own reference to register for the new payment (a later "
        "payment.refund may name it).",
    )

    def new_ref(self) -> str | None:
        return self.PaymentRef


class PaymentCreateIntent(Intent):
    """Record a patient payment in the office's Open Dental."""

    contract: Literal["payment.create"]
    version: Literal[1]
    payload: PaymentCreate
