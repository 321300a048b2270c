"""The scripted mix, pure: which vendor publishes which intent, and where it must end.

    forms_steps(run, cast, n, form)    phase 1, demo-forms: n new patients, their appointments,
                                       notes and signed forms (document uploads, the first one
                                       a PDF of 5 MB), the first patient's registration sheet
                                       (sheet.fill of 11 fields) by its own
                                       PatientRef, exact duplicates, a key
                                       reused with another payload, invalid bodies, a contract
                                       outside its agreement, an office it has no agreement for,
                                       a booking before its patient's form (then the form)
    reminder_steps(run, cast, found)   phase 2, demo-reminders: confirmations, a break, notes and
                                       payments by the PatNums and AptNums that demo-forms'
                                       outcome events named (references are per vendor), an
                                       exact duplicate, and a message claiming to be demo-forms;
                                       an appointment made longer and a note appended to it
    refund_steps(run, cast, paid)      phase 3, demo-reminders: a refund of the first payment, by
                                       the PayNum its outcome event named

Every step says what it expects (``labels``) and, for a create whose natural key is known, the
row it would make, so the accounting can count it in Open Dental's own tables.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from adapters.publisher import intents
from contracts import Intent, OutcomeReason
from contracts.v1.allergy import AllergyCreate
from contracts.v1.appointment import AppointmentBreak, AppointmentConfirm, AppointmentCreate
from contracts.v1.appointment_edit import AppointmentNote, AppointmentUpdate
from contracts.v1.commlog import CommlogCreate
from contracts.v1.document import DocumentUpload
from contracts.v1.medication import MedicationCreate
from contracts.v1.patfield import PatFieldSet
from contracts.v1.patient import PatientCreate
from contracts.v1.payment import PaymentCreate
from contracts.v1.payment_refund import PaymentRefund
from contracts.v1.problem import ProblemCreate
from contracts.v1.sheet import SheetFill
from contracts.v2.appointment import AppointmentConfirmV2
from contracts.v2.commlog import CommlogCreateV2
from lab.demo import labels
from lab.demo.config import Cast
from lab.demo.people import MAX_PATIENTS, Person, Run, booking, person

FORMS = "forms"
REMINDERS = "reminders"
# People the refused creates would have made: they must stay absent from Open Dental.
CONFLICT_PERSON = MAX_PATIENTS + 1
UNKNOWN_FIELD_PERSON = MAX_PATIENTS + 2
FOREIGN_PERSON = MAX_PATIENTS + 3
# A patient whose booking arrives before the form that registers them.
LATE_PERSON = MAX_PATIENTS + 4
UNAUTHORIZED_AMOUNT = 10.0


@dataclass(frozen=True, kw_only=True)
class CreatedRow:
    """The row a create would make, by its natural key: the patient's, plus (AptDateTime, Op)
    for an appointment, (Note,) for a commlog, (PayAmt,) for a payment, (Description,) for a
    document, (Reaction,) for an allergy, (PatNote,) for a medication or a problem, (FieldName,
    FieldValue) for a patient's field, (SheetDefNum,) for a filled sheet."""

    table: str
    person: Person
    detail: tuple[str | int | float, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Step:
    phase: str
    login: str  # the vendor whose broker user publishes it
    user_id: str  # the vendor it claims to be; not the login: an impersonation
    office: str
    contract: str
    key: str
    body: Intent | bytes  # bytes: a body the typed builders would refuse to build
    expect: str
    creates: CreatedRow | None = None

    @property
    def routing_key(self) -> str:
        return f"{self.office}.{self.contract}"


@dataclass(frozen=True, kw_only=True)
class Found:
    """What demo-forms' outcome events said about its ``index``-th patient."""

    pat_num: int
    apt_num: int | None  # None: its appointment was not applied


def _step(login: str, intent: Intent, expect: str, *, phase: str, creates: CreatedRow | None,
          user_id: str | None = None) -> Step:
    return Step(
        phase=phase, login=login, user_id=user_id or login, office=intent.office_id,
        contract=intent.contract, key=intent.idempotency_key, body=intent, expect=expect,
        creates=creates,
    )


def _raw(step: Step, change: Callable[[dict[str, object]], None], key: str, *,
         keeps_row: bool = False) -> Step:
    """``step`` with its body broken by ``change``, under its own key. ``keeps_row``: the broken
    body still names a whole natural key, whose row must then stay absent."""
    assert isinstance(step.body, Intent)
    document = json.loads(step.body.to_json())
    document["idempotency_key"] = key
    change(document["payload"])
    return replace(
        step, key=key, body=json.dumps(document).encode("utf-8"),
        expect=labels.rejected(OutcomeReason.INVALID),
        creates=step.creates if keeps_row else None,
    )


def _new_patient(run: Run, cast: Cast, index: int, office: str, key: str) -> Step:
    someone = person(run, index)
    payload = PatientCreate(
        LName=someone.last, FName=someone.first, Birthdate=someone.birthdate,
        PatientRef=run.key("patient", index),
    )
    intent = intents.patient_create(payload, office_id=office, idempotency_key=key)
    return _step(cast.forms, intent, labels.APPLIED, phase=FORMS,
                 creates=CreatedRow(table="patient", person=someone))


def _booking(run: Run, cast: Cast, index: int) -> Step:
    when, op = booking(run, index)
    # Not IsNewPatient: with it the booking also sets the patient's DateFirstVisit, a second
    # change of the patient row (hub watch gives it to the booking's intent), which the demo's
    # doors check, one change per row written, does not expect.
    payload = AppointmentCreate(
        PatientRef=run.key("patient", index), AppointmentRef=run.key("appointment", index),
        Op=op, AptDateTime=when, Note="Booked online.",
    )
    key = run.key(FORMS, "appointment", index)
    intent = intents.appointment_create(payload, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="appointment", person=person(run, index), detail=(when, op))
    return _step(cast.forms, intent, labels.APPLIED, phase=FORMS, creates=created)


def _form_note(run: Run, cast: Cast, index: int) -> Step:
    note = f"Online intake form received (demo {run.id}, form {index})."
    payload = CommlogCreate(PatientRef=run.key("patient", index), Note=note, Mode_="Email")
    key = run.key(FORMS, "commlog", index)
    intent = intents.commlog_create(payload, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="commlog", person=person(run, index), detail=(note,))
    return _step(cast.forms, intent, labels.APPLIED, phase=FORMS, creates=created)


# The first signed form is a scanned one: a PDF of at least 5 MB, so the demo carries a large
# upload through the broker, the writer and Open Dental's API (issue 18).
LARGE_PDF_BYTES = 5 * 1024 * 1024


def signed_pdf(run: Run, index: int, size: int = 0) -> bytes:
    """A valid-looking PDF naming only the run and form: a header, one stream object padded with
    deterministic bytes to at least ``size`` bytes in all, and the trailer. Built in memory."""
    head = f"%PDF-1.4\n% demo {run.id} intake form {index}, signed online\n".encode()
    tail = b"\nendstream\nendobj\ntrailer\n<< /Size 2 >>\n%%EOF\n"
    def opening(length: int) -> bytes:
        return f"1 0 obj\n<< /Length {length} >>\nstream\n".encode()

    pad = max(size - len(head) - len(tail) - len(opening(size)), 0)
    chunk = f"demo {run.id} scanned form {index} ".encode()
    stream = (chunk * (pad // len(chunk) + 1))[:pad]
    return head + opening(len(stream)) + stream + tail


def _form_document(run: Run, cast: Cast, index: int) -> Step:
    """The signed form itself, filed in the patient's images module (the first one 5 MB)."""
    description = f"Signed intake form (demo {run.id}, form {index})"
    signed = signed_pdf(run, index, LARGE_PDF_BYTES if index == 1 else 0)
    payload = DocumentUpload(
        PatientRef=run.key("patient", index), extension=".pdf", Description=description,
        rawBase64=base64.b64encode(signed).decode(), ImgType="Document",
    )
    key = run.key(FORMS, "document", index)
    intent = intents.document_upload(payload, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="document", person=person(run, index), detail=(description,))
    return _step(cast.forms, intent, labels.APPLIED, phase=FORMS, creates=created)


# The office's customized patient form (its sheetdef Description) and the fields demo-forms
# sets by name.
REGISTRATION_FORM = "Patient Registration (hub simulator)"
REGISTRATION_TEXT = ("preferredName", "emergencyContactName", "emergencyContactPhone",
                     "employer", "occupation", "referredBy", "reasonForVisit",
                     "lastDentalVisit", "pharmacy")
REGISTRATION_CHECKBOXES = ("consentToText", "consentToEmail")


def registration_fields(run: Run, index: int) -> dict[str, str]:
    """What the form's answers were: text naming the run and form, checkboxes checked."""
    text = {name: f"{name} (demo {run.id}, form {index})" for name in REGISTRATION_TEXT}
    return text | dict.fromkeys(REGISTRATION_CHECKBOXES, "X")


def _form_sheet(run: Run, cast: Cast, index: int, form: int) -> Step:
    """The registration form as the office's own sheet, its fields set by their FieldNames."""
    payload = SheetFill(PatientRef=run.key("patient", index), SheetDefNum=form,
                        fields=registration_fields(run, index))
    key = run.key(FORMS, "sheet", index)
    intent = intents.sheet_fill(payload, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="sheet", person=person(run, index), detail=(form,))
    return _step(cast.forms, intent, labels.APPLIED, phase=FORMS, creates=created)


def _form_clinical(run: Run, cast: Cast, index: int) -> list[Step]:
    """The health history the form asked for: an allergy, a medication and a problem on the
    office's lists, and where the patient heard of the office (a custom field)."""
    ref, who = run.key("patient", index), person(run, index)
    reaction = f"Hives (demo {run.id}, form {index})"
    dose = f"10 mg daily (demo {run.id}, form {index})"
    since = f"Since childhood (demo {run.id}, form {index})"
    source = f"Web form {run.id}-{index}"
    sends: list[tuple[Intent, CreatedRow]] = [
        (intents.allergy_create(
            AllergyCreate(PatientRef=ref, defDescription="Penicillin", Reaction=reaction),
            office_id=cast.office, idempotency_key=run.key(FORMS, "allergy", index)),
         CreatedRow(table="allergy", person=who, detail=(reaction,))),
        (intents.medication_create(
            MedicationCreate(PatientRef=ref, medName="Lisinopril", PatNote=dose),
            office_id=cast.office, idempotency_key=run.key(FORMS, "medication", index)),
         CreatedRow(table="medicationpat", person=who, detail=(dose,))),
        (intents.problem_create(
            ProblemCreate(PatientRef=ref, diseaseDefName="Asthma", PatNote=since),
            office_id=cast.office, idempotency_key=run.key(FORMS, "problem", index)),
         CreatedRow(table="disease", person=who, detail=(since,))),
        (intents.patfield_set(
            PatFieldSet(PatientRef=ref, FieldName="Referral Source", FieldValue=source),
            office_id=cast.office, idempotency_key=run.key(FORMS, "patfield", index)),
         CreatedRow(table="patfield", person=who, detail=("Referral Source", source))),
    ]
    return [
        _step(cast.forms, intent, labels.APPLIED, phase=FORMS, creates=created)
        for intent, created in sends
    ]


def _conflict(run: Run, cast: Cast, first: Step) -> Step:
    """The first patient's key, reused for another patient."""
    other = _new_patient(run, cast, CONFLICT_PERSON, cast.office, first.key)
    return replace(other, expect=labels.rejected(OutcomeReason.IDEMPOTENCY_CONFLICT))


def _set_birthdate(payload: dict[str, object]) -> None:
    payload["Birthdate"] = "12/10/1990"  # US order: Open Dental wants yyyy-MM-dd


def _add_unknown_field(payload: dict[str, object]) -> None:
    payload["FavoriteColor"] = "teal"


def _drop_last_name(payload: dict[str, object]) -> None:
    del payload["LName"]


def _invalid(run: Run, cast: Cast) -> list[Step]:
    """A bad Birthdate, an unknown field, a missing required field: each ``invalid``."""
    template = _new_patient(run, cast, 1, cast.office, run.key(FORMS, "template"))
    unknown = _new_patient(run, cast, UNKNOWN_FIELD_PERSON, cast.office, template.key)
    return [
        _raw(template, _set_birthdate, run.key(FORMS, "invalid", "birthdate")),
        _raw(unknown, _add_unknown_field, run.key(FORMS, "invalid", "unknown-field"),
             keeps_row=True),
        _raw(template, _drop_last_name, run.key(FORMS, "invalid", "missing-lname")),
    ]


def _unauthorized(run: Run, cast: Cast) -> Step:
    """A payment: demo-forms' agreement leaves payment.create out, so the writer refuses it."""
    payload = PaymentCreate(PatientRef=run.key("patient", 1), PayAmt=UNAUTHORIZED_AMOUNT)
    key = run.key(FORMS, "payment", 1)
    intent = intents.payment_create(payload, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="payment", person=person(run, 1), detail=(UNAUTHORIZED_AMOUNT,))
    return _step(cast.forms, intent, labels.rejected(OutcomeReason.UNAUTHORIZED), phase=FORMS,
                 creates=created)


def _foreign_office(run: Run, cast: Cast) -> Step:
    """A patient for an office demo-forms has no agreement for: the broker refuses it."""
    step = _new_patient(run, cast, FOREIGN_PERSON, cast.foreign_office,
                        run.key(FORMS, "foreign", "patient"))
    return replace(step, expect=labels.refused(labels.ACCESS_REFUSED), creates=None)


def _early_booking(run: Run, cast: Cast) -> Step:
    """A booking that names a patient demo-forms has not sent yet: rejected (unknown_reference)
    and kept in hub.dead. The patient's form follows it, so an operator's replay of the letter
    after the demo is applied (docs/operations.md, the walk-through after the demo)."""
    when, op = booking(run, LATE_PERSON)
    payload = AppointmentCreate(
        PatientRef=run.key("patient", LATE_PERSON),
        AppointmentRef=run.key("appointment", LATE_PERSON), Op=op, AptDateTime=when,
        Note="Booked online before the registration form arrived.",
    )
    key = run.key(FORMS, "appointment", LATE_PERSON)
    intent = intents.appointment_create(payload, office_id=cast.office, idempotency_key=key)
    return _step(cast.forms, intent, labels.rejected(OutcomeReason.UNKNOWN_REFERENCE),
                 phase=FORMS, creates=None)


def forms_steps(run: Run, cast: Cast, patients: int, form: int) -> list[Step]:
    """Phase 1, in publishing order (a booking follows its patient in the office's queue).
    ``form``: the SheetDefNum of the office's registration form."""
    if not 1 <= patients <= MAX_PATIENTS:
        raise ValueError(f"patients must be 1 to {MAX_PATIENTS}")
    indexes = range(1, patients + 1)
    new = [_new_patient(run, cast, i, cast.office, run.key(FORMS, "patient", i)) for i in indexes]
    bookings = [_booking(run, cast, i) for i in indexes]
    notes = [_form_note(run, cast, i) for i in indexes]
    documents = [_form_document(run, cast, i) for i in indexes]
    clinical = [step for i in indexes for step in _form_clinical(run, cast, i)]
    sheets = [_form_sheet(run, cast, 1, form)]
    repeats = [replace(step, expect=labels.DUPLICATE) for step in (new[0], bookings[0])]
    return [
        *new, *bookings, *notes, *documents, *clinical, *sheets, *repeats,
        _conflict(run, cast, new[0]), *_invalid(run, cast), _unauthorized(run, cast),
        _foreign_office(run, cast), _early_booking(run, cast),
        _new_patient(run, cast, LATE_PERSON, cast.office, run.key(FORMS, "patient", LATE_PERSON)),
    ]


def found_keys(run: Run, patients: int) -> dict[int, tuple[str, str]]:
    """Per patient index, the keys of demo-forms' patient and appointment whose outcome events
    phase 2 needs."""
    return {
        i: (run.key(FORMS, "patient", i), run.key(FORMS, "appointment", i))
        for i in range(1, patients + 1)
    }


def _confirm(run: Run, cast: Cast, index: int, apt_num: int) -> Step:
    # Versions side by side: odd patients' confirmations go as v1 (deprecated), even ones as v2.
    key = run.key(REMINDERS, "confirm", index)
    intent: Intent
    if index % 2:
        payload = AppointmentConfirm(AptNum=apt_num, confirmVal="Confirmed")
        intent = intents.appointment_confirm(payload, office_id=cast.office, idempotency_key=key)
    else:
        payload_v2 = AppointmentConfirmV2(AptNum=apt_num, confirmVal="Confirmed")
        intent = intents.appointment_confirm_v2(
            payload_v2, office_id=cast.office, idempotency_key=key
        )
    return _step(cast.reminders, intent, labels.APPLIED, phase=REMINDERS, creates=None)


def _break(run: Run, cast: Cast, index: int, apt_num: int) -> Step:
    payload = AppointmentBreak(AptNum=apt_num, sendToUnscheduledList="true")
    key = run.key(REMINDERS, "break", index)
    intent = intents.appointment_break(payload, office_id=cast.office, idempotency_key=key)
    return _step(cast.reminders, intent, labels.APPLIED, phase=REMINDERS, creates=None)


def _reminder_note(run: Run, cast: Cast, index: int, pat_num: int) -> Step:
    note = f"Appointment reminder sent by text (demo {run.id}, reminder {index})."
    key = run.key(REMINDERS, "commlog", index)
    intent: Intent
    if index % 2:  # v1 and v2 side by side, as in _confirm
        payload = CommlogCreate(PatNum=pat_num, Note=note, Mode_="Text")
        intent = intents.commlog_create(payload, office_id=cast.office, idempotency_key=key)
    else:
        payload_v2 = CommlogCreateV2(PatNum=pat_num, Note=note, Mode_="Text",
                                     CommType="Appt Related")
        intent = intents.commlog_create_v2(payload_v2, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="commlog", person=person(run, index), detail=(note,))
    return _step(cast.reminders, intent, labels.APPLIED, phase=REMINDERS, creates=created)


def _payment_amount(index: int) -> float:
    return 25.0 + 5 * index


def _payment(run: Run, cast: Cast, index: int, pat_num: int) -> Step:
    amount = _payment_amount(index)
    payload = PaymentCreate(
        PatNum=pat_num, PayAmt=amount, PayDate=run.today.isoformat(), PayNote="Text-to-pay."
    )
    key = run.key(REMINDERS, "payment", index)
    intent = intents.payment_create(payload, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="payment", person=person(run, index), detail=(amount,))
    return _step(cast.reminders, intent, labels.APPLIED, phase=REMINDERS, creates=created)


# The rescheduled appointment's new length: an hour (12 five-minute slots), provider time inside.
LONGER_PATTERN = "//XXXXXXXX//"


def _reschedule(run: Run, cast: Cast, index: int, apt_num: int) -> Step:
    """A longer visit at the same time and operatory (the demo's rows are checked by those)."""
    payload = AppointmentUpdate(AptNum=apt_num, Pattern=LONGER_PATTERN)
    key = run.key(REMINDERS, "reschedule", index)
    intent = intents.appointment_update(payload, office_id=cast.office, idempotency_key=key)
    return _step(cast.reminders, intent, labels.APPLIED, phase=REMINDERS, creates=None)


def appointment_note_text(run: Run, index: int) -> str:
    return f"Reminder sent by text (demo {run.id}, appointment {index})."


def _appointment_note(run: Run, cast: Cast, index: int, apt_num: int) -> Step:
    payload = AppointmentNote(AptNum=apt_num, Note=appointment_note_text(run, index))
    key = run.key(REMINDERS, "appointment-note", index)
    intent = intents.appointment_note(payload, office_id=cast.office, idempotency_key=key)
    return _step(cast.reminders, intent, labels.APPLIED, phase=REMINDERS, creates=None)


def payment_keys(run: Run, found: Mapping[int, Found]) -> dict[int, str]:
    """Per patient index, the key of demo-reminders' payment whose outcome phase 3 needs."""
    return {index: run.key(REMINDERS, "payment", index) for index in sorted(found)[:1]}


def refund_steps(run: Run, cast: Cast, paid: Mapping[int, int]) -> list[Step]:
    """Phase 3: each payment the outcomes named (the first patient's) refunded in full."""
    steps = []
    for index, pay_num in sorted(paid.items()):
        key = run.key(REMINDERS, "refund", index)
        intent = intents.payment_refund(
            PaymentRefund(PayNum=pay_num), office_id=cast.office, idempotency_key=key
        )
        # The refund is a payment of the opposite amount for the same patient.
        created = CreatedRow(table="payment", person=person(run, index),
                             detail=(-_payment_amount(index),))
        steps.append(_step(cast.reminders, intent, labels.APPLIED, phase=REMINDERS,
                           creates=created))
    return steps


def _impersonation(run: Run, cast: Cast) -> Step:
    """demo-reminders' user publishing as demo-forms, by demo-forms' own reference: the broker
    checks user_id against the login and refuses it."""
    note = f"Sent as someone else (demo {run.id})."
    payload = CommlogCreate(PatientRef=run.key("patient", 1), Note=note)
    key = run.key(REMINDERS, "impersonation", "commlog")
    intent = intents.commlog_create(payload, office_id=cast.office, idempotency_key=key)
    created = CreatedRow(table="commlog", person=person(run, 1), detail=(note,))
    return _step(cast.reminders, intent, labels.refused(labels.PRECONDITION_FAILED),
                 phase=REMINDERS, creates=created, user_id=cast.forms)


def reminder_steps(run: Run, cast: Cast, found: Mapping[int, Found]) -> list[Step]:
    """Phase 2 for the patients demo-forms' outcomes named: the last booking found is broken,
    the others confirmed; a note and a payment per patient; one payment sent twice."""
    booked = {index: f.apt_num for index, f in sorted(found.items()) if f.apt_num is not None}
    broken = max(booked, default=None)
    steps = [_confirm(run, cast, i, apt) for i, apt in booked.items() if i != broken]
    if broken is not None:
        steps.append(_break(run, cast, broken, booked[broken]))
    kept = [index for index in booked if index != broken][:1]
    for index in kept:
        steps.append(_reschedule(run, cast, index, booked[index]))
        steps.append(_appointment_note(run, cast, index, booked[index]))
    patients = sorted(found.items())
    steps += [_reminder_note(run, cast, i, f.pat_num) for i, f in patients]
    payments = [_payment(run, cast, i, f.pat_num) for i, f in patients]
    steps += payments
    if payments:
        steps.append(replace(payments[0], expect=labels.DUPLICATE))
    steps.append(_impersonation(run, cast))
    return steps
