"""Step 5, resolve: the patient or appointment an intent names by the vendor's own reference
becomes the Open Dental key the hub registered for it, in the body or in the path."""

from __future__ import annotations

from contracts import FieldError, OutcomeReason, Payload
from hub.ledger import Ledger, RefKind
from hub.writer.calls import OdRequest
from hub.writer.verdict import About, Early, Outcome, Verdict


async def resolve(ledger: Ledger, about: About, payload: Payload) -> OdRequest:
    """The request to send; raises ``Early`` when a reference names nothing this vendor created
    in this office."""
    body = payload.od_fields()
    subject = payload.subject()
    if subject is None:
        return OdRequest(body=body)
    key = subject.num
    if subject.ref is not None:
        assert about.vendor is not None  # only authorized intents are resolved
        kind = RefKind(subject.table)
        key = await ledger.resolve_ref(about.vendor, about.office, kind, subject.ref)
    if key is None:
        raise Early(_unknown(about, ref_field=_REF_FIELDS[subject.key_field]))
    if subject.key_field in payload.od_call.path_fields():
        return OdRequest(body=body, path_key=key)
    return OdRequest(body={**body, subject.key_field: key})


_REF_FIELDS = {"PatNum": "PatientRef", "AptNum": "AppointmentRef"}


def _unknown(about: About, *, ref_field: str) -> Verdict:
    path = f"payload.{ref_field}"
    message = f"{path} names nothing this vendor created in this office."
    return Verdict(
        about=about,
        outcome=Outcome.REJECTED,
        reason=OutcomeReason.UNKNOWN_REFERENCE,
        errors=(FieldError(path=path, rule="unknown_reference", message=message),),
        message=message,
    )
