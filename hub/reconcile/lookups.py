"""From an intent to the rows its create could have made: each create contract's natural keys.

The keys are the ones the request carried (opendental-api.md §9): patient LName, FName and
Birthdate; appointment PatNum, AptDateTime and Op; commlog PatNum, Note and CommDateTime; payment
PatNum, PayAmt and PayDate; document PatNum, the file's extension, Description, DocCategory,
ImgType and DateCreated (the row keeps nothing of the file itself: docs/architecture.md, "When
things fail"). A key the vendor left out (a Birthdate, a CommDateTime, a PayDate, a Description)
is left out of the lookup too: Open Dental filled in its own default, so any value fits, and a
wider look can only turn a false "not found" (a duplicate) into "ambiguous" (a person looks).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from contracts import Payload
from contracts.v1.allergy import AllergyCreate
from contracts.v1.appointment import AppointmentCreate
from contracts.v1.commlog import CommlogCreate
from contracts.v1.document import DocumentUpload
from contracts.v1.medication import MedicationCreate
from contracts.v1.patfield import PatFieldSet
from contracts.v1.patient import PatientCreate
from contracts.v1.payment import PaymentCreate
from contracts.v1.payment_refund import PaymentRefund
from contracts.v1.problem import ProblemCreate
from contracts.v2.commlog import CommlogCreateV2
from hub.opendental.edit_queries import find_refunds
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import (
    CLOCK_SKEW,
    Candidate,
    DocumentKeys,
    find_created_appointments,
    find_created_commlogs,
    find_created_documents,
    find_created_patients,
    find_created_payments,
)
from hub.reconcile.clinical_lookups import find_clinical_candidates

OD_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# document.ImgType's stored numbers (ImageType, opendental-schema 25.4).
IMG_TYPE_NUMBERS = {"Document": 0, "Radiograph": 1, "Photo": 2, "File": 3, "Attachment": 4}


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.strptime(value, OD_DATETIME_FORMAT)


def _needs(pat_num: int | None) -> int:
    if pat_num is None:
        raise ValueError("this create names a patient: pass the PatNum it was sent with")
    return pat_num


async def find_candidates(
    db: ReadOnlyDatabase, payload: Payload, *, pat_num: int | None, since: datetime,
    clock_skew: timedelta = CLOCK_SKEW, pay_num: int | None = None,
) -> list[Candidate] | None:
    """The rows matching the payload's natural keys entered since ``since`` (office local
    time) less ``clock_skew``, or None when the payload is no create this module knows.
    ``pay_num``: the payment a refund was sent for."""
    match payload:
        case PatientCreate():
            return await find_created_patients(
                db, since=since, last_name=payload.LName, first_name=payload.FName,
                birthdate=_date(payload.Birthdate), clock_skew=clock_skew,
            )
        case AppointmentCreate():
            return await find_created_appointments(
                db, since=since, pat_num=_needs(pat_num),
                apt_date_time=datetime.strptime(payload.AptDateTime, OD_DATETIME_FORMAT),
                op=payload.Op, clock_skew=clock_skew,
            )
        case CommlogCreate() | CommlogCreateV2():
            return await find_created_commlogs(
                db, since=since, pat_num=_needs(pat_num), note=payload.Note,
                comm_date_time=_datetime(payload.CommDateTime), clock_skew=clock_skew,
            )
        case DocumentUpload():
            return await find_created_documents(
                db, since=since, pat_num=_needs(pat_num), keys=_document_keys(payload),
                clock_skew=clock_skew,
            )
        case PaymentCreate():
            return await find_created_payments(
                db, since=since, pat_num=_needs(pat_num), pay_amt=payload.PayAmt,
                pay_date=_date(payload.PayDate), clock_skew=clock_skew,
            )
        case PaymentRefund():
            # Any API refund of the payment, whenever made: a payment is refunded once.
            if pay_num is None:
                raise ValueError("a refund needs the PayNum it was sent with")
            return await find_refunds(db, pay_num)
        case AllergyCreate() | MedicationCreate() | ProblemCreate() | PatFieldSet():
            return await find_clinical_candidates(
                db, payload, pat_num=_needs(pat_num), since=since, clock_skew=clock_skew
            )
    return None


def _document_keys(payload: DocumentUpload) -> DocumentKeys:
    img_type = None if payload.ImgType is None else IMG_TYPE_NUMBERS[payload.ImgType]
    return DocumentKeys(
        extension=payload.extension, description=payload.Description,
        doc_category=payload.DocCategory, img_type=img_type,
        date_created=_datetime(payload.DateCreated),
    )
