"""The run's intents, pure: which vendor publishes what to which office, in which order, and
what each must leave behind in Open Dental.

The intents form streams, one per (vendor, office): a vendor's references are its own per
office, so a stream is published in order and an appointment follows the patient it names. A
stream is a run of patient stories (patient.create with a PatientRef, then maybe an appointment,
a commlog (v1 or v2 by the patient's index), a payment, an update and a small document upload by
that reference; for every third a longer booking and a note appended to it, by the appointment's
reference; for every fourth the registration form filled, all twelve fields, one sheet.fill that
the hub makes in fourteen calls; for every seventh a payment with the vendor's PaymentRef and its
refund by that reference), with a few refusals mixed in: a body that
breaks its contract (``invalid``), a contract outside the vendor's agreement (``unauthorized``),
a reference nobody registered (``unknown_reference``); and a few exact re-sends of an earlier
intent, which must change nothing.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field, replace

from adapters.publisher import intents
from contracts import Intent, OutcomeReason
from contracts.v1.allergy import AllergyCreate
from contracts.v1.appointment import AppointmentBreak, AppointmentCreate
from contracts.v1.appointment_edit import AppointmentNote, AppointmentUpdate
from contracts.v1.commlog import CommlogCreate
from contracts.v1.document import DocumentUpload
from contracts.v1.medication import MedicationCreate
from contracts.v1.patfield import PatFieldSet
from contracts.v1.patient import PatientCreate, PatientUpdate
from contracts.v1.payment import PaymentCreate
from contracts.v1.payment_refund import PaymentRefund
from contracts.v1.problem import ProblemCreate
from contracts.v1.sheet import SheetFill
from contracts.v2.commlog import CommlogCreateV2
from lab.chaos.world import PAY_DATE, Person, World, booking, pay_amount

APPLIED = "applied"
# What each vendor's agreement allows; appointment.break is left out on purpose (unauthorized).
AGREED_CONTRACTS = (
    "patient.create", "patient.update", "appointment.create", "commlog.create", "payment.create",
    "document.upload",
    "appointment.update", "appointment.note",
    "patfield.set", "allergy.create", "medication.create", "problem.create",
    "sheet.fill", "payment.refund",
)
# Chances per patient story, and of a refusal or a re-send after each intent.
STORY_CHANCES = {"appointment": 0.8, "commlog": 0.6, "payment": 0.4, "update": 0.25}
# Every fifth patient's story ends with a signed form uploaded: by its index, not a draw, so a
# seed plans the same other intents as it did before documents were served.
DOCUMENT_EVERY = 5
# Every third patient's booking, when its story has one, is then made longer and gets a note,
# both by the vendor's AppointmentRef: by index too, for the same reason.
CHANGE_EVERY = 3
LONGER_PATTERN = "//XXXXXXXX//"
# Every third patient's story records a health history (an allergy, a medication, a problem)
# and sets a custom field: by index too, for the same reason.
CLINICAL_EVERY = 3
# Every fourth patient's story fills the simulator's registration form, every settable field;
# every seventh pays by the vendor's PaymentRef and refunds that payment: by index too.
SHEET_EVERY = 4
REFUND_EVERY = 7
# The simulated office's one sheet definition (odsim/sheet_defs.py, seeded first: SheetDefNum 1)
# and its settable fields, in its tab order: InputField, CheckBox and OutputText.
REGISTRATION_SHEET_DEF = 1
REGISTRATION_FIELDS = (
    "preferredName", "emergencyContactName", "emergencyContactPhone", "employer", "occupation",
    "referredBy", "reasonForVisit", "lastDentalVisit", "pharmacy", "consentToText",
    "consentToEmail", "officeUseNote",
)
CHECKBOXES = ("consentToText", "consentToEmail")
REFUND_BASE = 500  # refunded payments' amounts start here, apart from the drawn payments'
REFUSAL_CHANCE = 0.01  # each of the three refusals
RESEND_CHANCE = 0.01


@dataclass(frozen=True, kw_only=True)
class Effect:
    """What an applied intent leaves in Open Dental, by natural key: a row of ``table`` for the
    person with ``detail`` (AptDateTime and Op, Note, PayAmt and PayDate, or Description); for
    an update, the patient's ``Address`` equal to ``detail[0]``."""

    # patient, appointment, commlog, payment, document, allergy, medicationpat, disease,
    # patfield, or a change: patient.update (detail: the Address), appointment.update (the
    # Pattern), appointment.note (the note's text, which must be in the appointment's Note once),
    # sheet.fill (the SheetDefNum, then each "FieldName=FieldValue"), payment.refund (the
    # offsetting PayAmt, which must be on one payment row)
    table: str
    person: Person
    detail: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Planned:
    vendor: str
    office: str
    contract: str
    key: str
    body: Intent | bytes  # bytes: a body the typed builders would refuse to build
    expect: str  # "applied" or "rejected:<reason>"
    effect: Effect | None = None
    resend: bool = False  # an exact re-send of an earlier intent of the stream


@dataclass(kw_only=True)
class _Stream:
    vendor: str
    office: str
    steps: list[Planned] = field(default_factory=list)

    def planned(self, intent: Intent, expect: str, effect: Effect | None = None) -> Planned:
        """``intent`` as this stream's vendor publishes it to its office."""
        return Planned(vendor=self.vendor, office=self.office, contract=intent.contract,
                       key=intent.idempotency_key, body=intent, expect=expect, effect=effect)


def _rejected(reason: OutcomeReason) -> str:
    return f"rejected:{reason.value}"


def _patient(world: World, s: _Stream, index: int) -> Planned:
    who = world.person(index)
    payload = PatientCreate(LName=who.last, FName=who.first, Birthdate=who.birthdate,
                            PatientRef=world.key("p", index))
    intent = intents.patient_create(payload, office_id=s.office,
                                    idempotency_key=world.key("patient", index))
    return s.planned(intent, APPLIED, Effect(table="patient", person=who))


def _appointment(world: World, s: _Stream, index: int) -> Planned:
    when, op = booking(index)
    payload = AppointmentCreate(PatientRef=world.key("p", index), Op=op, AptDateTime=when,
                                AppointmentRef=world.key("a", index), Note="Booked online.")
    intent = intents.appointment_create(payload, office_id=s.office,
                                        idempotency_key=world.key("appointment", index))
    effect = Effect(table="appointment", person=world.person(index), detail=(when, str(op)))
    return s.planned(intent, APPLIED, effect)


def _commlog(world: World, s: _Stream, index: int) -> Planned:
    note = f"Chaos run {world.run_id}: reminder {index} sent."
    key = world.key("commlog", index)
    intent: Intent
    if index % 2:
        payload = CommlogCreate(PatientRef=world.key("p", index), Note=note, Mode_="Email")
        intent = intents.commlog_create(payload, office_id=s.office, idempotency_key=key)
    else:  # v2 beside v1, by the index (not a draw): a seed plans what it planned before
        payload_v2 = CommlogCreateV2(PatientRef=world.key("p", index), Note=note, Mode_="Email",
                                     CommType="Misc")
        intent = intents.commlog_create_v2(payload_v2, office_id=s.office, idempotency_key=key)
    effect = Effect(table="commlog", person=world.person(index), detail=(note,))
    return s.planned(intent, APPLIED, effect)


def _payment(world: World, s: _Stream, index: int) -> Planned:
    amount = pay_amount(index)
    payload = PaymentCreate(PatientRef=world.key("p", index), PayAmt=amount, PayDate=PAY_DATE)
    intent = intents.payment_create(payload, office_id=s.office,
                                    idempotency_key=world.key("payment", index))
    effect = Effect(table="payment", person=world.person(index),
                    detail=(f"{amount:.2f}", PAY_DATE))
    return s.planned(intent, APPLIED, effect)


def _update(world: World, s: _Stream, index: int) -> Planned:
    address = f"{index} Chaos Street"
    payload = PatientUpdate(PatientRef=world.key("p", index), Address=address)
    intent = intents.patient_update(payload, office_id=s.office,
                                    idempotency_key=world.key("update", index))
    effect = Effect(table="patient.update", person=world.person(index), detail=(address,))
    return s.planned(intent, APPLIED, effect)


def _document(world: World, s: _Stream, index: int) -> Planned:
    description = f"Chaos run {world.run_id}: signed form {index}"
    signed = f"%PDF-1.4\n% chaos {world.run_id} form {index}\n%%EOF\n".encode()
    payload = DocumentUpload(PatientRef=world.key("p", index), extension=".pdf",
                             Description=description, rawBase64=base64.b64encode(signed).decode())
    intent = intents.document_upload(payload, office_id=s.office,
                                      idempotency_key=world.key("document", index))
    effect = Effect(table="document", person=world.person(index), detail=(description,))
    return s.planned(intent, APPLIED, effect)


def _reschedule(world: World, s: _Stream, index: int) -> Planned:
    payload = AppointmentUpdate(AppointmentRef=world.key("a", index), Pattern=LONGER_PATTERN)
    intent = intents.appointment_update(payload, office_id=s.office,
                                        idempotency_key=world.key("reschedule", index))
    effect = Effect(table="appointment.update", person=world.person(index),
                    detail=(LONGER_PATTERN,))
    return s.planned(intent, APPLIED, effect)


def _appointment_note(world: World, s: _Stream, index: int) -> Planned:
    note = f"Chaos run {world.run_id}: appointment reminder {index} sent."
    payload = AppointmentNote(AppointmentRef=world.key("a", index), Note=note)
    intent = intents.appointment_note(payload, office_id=s.office,
                                      idempotency_key=world.key("apt-note", index))
    effect = Effect(table="appointment.note", person=world.person(index), detail=(note,))
    return s.planned(intent, APPLIED, effect)


def _clinical(world: World, s: _Stream, index: int) -> list[Planned]:
    """An allergy, a medication and a problem on the office's lists, and a custom field set."""
    ref, who, tag = world.key("p", index), world.person(index), f"chaos {world.run_id} {index}"
    planned = [
        (intents.allergy_create(
            AllergyCreate(PatientRef=ref, defDescription="Latex", Reaction=f"Rash ({tag})"),
            office_id=s.office, idempotency_key=world.key("allergy", index)),
         Effect(table="allergy", person=who, detail=(f"Rash ({tag})",))),
        (intents.medication_create(
            MedicationCreate(PatientRef=ref, medName="Metformin", PatNote=f"500 mg ({tag})"),
            office_id=s.office, idempotency_key=world.key("medication", index)),
         Effect(table="medicationpat", person=who, detail=(f"500 mg ({tag})",))),
        (intents.problem_create(
            ProblemCreate(PatientRef=ref, diseaseDefName="Diabetes", PatNote=f"Type 2 ({tag})"),
            office_id=s.office, idempotency_key=world.key("problem", index)),
         Effect(table="disease", person=who, detail=(f"Type 2 ({tag})",))),
        (intents.patfield_set(
            PatFieldSet(PatientRef=ref, FieldName="Preferred Pharmacy", FieldValue=tag),
            office_id=s.office, idempotency_key=world.key("patfield", index)),
         Effect(table="patfield", person=who, detail=("Preferred Pharmacy", tag))),
    ]
    return [s.planned(intent, APPLIED, effect) for intent, effect in planned]


def sheet_values(world: World, index: int) -> dict[str, str]:
    """What the run writes in each settable field of patient ``index``'s registration form."""
    return {name: "X" if name in CHECKBOXES else f"{name} {world.run_id} {index}"
            for name in REGISTRATION_FIELDS}


def _sheet(world: World, s: _Stream, index: int) -> Planned:
    values = sheet_values(world, index)
    payload = SheetFill(PatientRef=world.key("p", index), SheetDefNum=REGISTRATION_SHEET_DEF,
                        fields=values)
    intent = intents.sheet_fill(payload, office_id=s.office,
                                idempotency_key=world.key("sheet", index))
    detail = (str(REGISTRATION_SHEET_DEF), *(f"{k}={v}" for k, v in values.items()))
    return s.planned(intent, APPLIED, Effect(table="sheet.fill", person=world.person(index),
                                             detail=detail))


def refund_amount(index: int) -> float:
    return round(REFUND_BASE + index / 100, 2)


def _refund(world: World, s: _Stream, index: int) -> list[Planned]:
    """A payment by the vendor's PaymentRef, then its refund by that reference."""
    amount, ref, who = refund_amount(index), world.key("pay", index), world.person(index)
    paid = intents.payment_create(
        PaymentCreate(PatientRef=world.key("p", index), PayAmt=amount, PayDate=PAY_DATE,
                      PaymentRef=ref),
        office_id=s.office, idempotency_key=world.key("refunded-payment", index))
    refund = intents.payment_refund(PaymentRefund(PaymentRef=ref), office_id=s.office,
                                    idempotency_key=world.key("refund", index))
    return [
        s.planned(paid, APPLIED, Effect(table="payment", person=who,
                                        detail=(f"{amount:.2f}", PAY_DATE))),
        s.planned(refund, APPLIED, Effect(table="payment.refund", person=who,
                                          detail=(f"{-amount:.2f}",))),
    ]


def _invalid(world: World, s: _Stream, index: int) -> Planned:
    """A patient whose Birthdate is in US order: the writer refuses it as ``invalid``."""
    step = _patient(world, s, index)
    assert isinstance(step.body, Intent)
    document = json.loads(step.body.to_json())
    document["idempotency_key"] = key = world.key("invalid", index)
    document["payload"]["Birthdate"] = "12/10/1990"
    return replace(step, key=key, body=json.dumps(document).encode("utf-8"),
                   expect=_rejected(OutcomeReason.INVALID), effect=None)


def _unauthorized(world: World, s: _Stream, index: int) -> Planned:
    payload = AppointmentBreak(AppointmentRef=world.key("a", index), sendToUnscheduledList="false")
    intent = intents.appointment_break(payload, office_id=s.office,
                                       idempotency_key=world.key("break", index))
    return s.planned(intent, _rejected(OutcomeReason.UNAUTHORIZED))


def _unknown_reference(world: World, s: _Stream, index: int) -> Planned:
    payload = CommlogCreate(PatientRef=world.key("nobody", index), Note="Never registered.")
    intent = intents.commlog_create(payload, office_id=s.office,
                                    idempotency_key=world.key("stray", index))
    return s.planned(intent, _rejected(OutcomeReason.UNKNOWN_REFERENCE))


_STORY = (("appointment", _appointment), ("commlog", _commlog), ("payment", _payment),
          ("update", _update))
_REFUSALS = (_invalid, _unauthorized, _unknown_reference)


def _story(world: World, s: _Stream, index: int, draw: random.Random) -> list[Planned]:
    steps = [_patient(world, s, index)]
    steps += [make(world, s, index) for name, make in _STORY if draw.random() < STORY_CHANCES[name]]
    if index % DOCUMENT_EVERY == 0:
        steps.append(_document(world, s, index))
    if index % CHANGE_EVERY == 0 and any(step.contract == "appointment.create" for step in steps):
        steps += [_reschedule(world, s, index), _appointment_note(world, s, index)]
    if index % CLINICAL_EVERY == 0:
        steps += _clinical(world, s, index)
    if index % SHEET_EVERY == 0:
        steps.append(_sheet(world, s, index))
    if index % REFUND_EVERY == 0:
        steps += _refund(world, s, index)
    extras = [make(world, s, index) for make in _REFUSALS if draw.random() < REFUSAL_CHANCE]
    if draw.random() < RESEND_CHANCE:
        extras.append(replace(draw.choice(steps), resend=True))
    return steps + extras


def plan(world: World, total: int, seed: int) -> list[list[Planned]]:
    """``total`` distinct intents (re-sends come on top) in streams, one per (vendor, office)."""
    draw = random.Random(seed)
    streams = [_Stream(vendor=v, office=o) for v in world.vendor_names()
               for o in world.office_ids()]
    distinct, index = 0, 0
    while distinct < total:
        index += 1
        stream = streams[(index - 1) % len(streams)]
        story = _story(world, stream, index, draw)
        fresh = [step for step in story if not step.resend]
        room = total - distinct
        if len(fresh) > room:
            story = fresh[:room]  # the last story is cut to the total; a prefix stays in order
        stream.steps += story
        distinct += sum(1 for step in story if not step.resend)
    return [stream.steps for stream in streams if stream.steps]
