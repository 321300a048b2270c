"""What the hub sends to Open Dental, without knowing each contract: od_fields, the call, the
row the intent names and the reference it registers."""

from __future__ import annotations

import json
from typing import Any

from contracts import Subject, parse_intent


def _intent(contract: str, payload: dict[str, Any]) -> Any:
    return parse_intent(
        json.dumps(
            {
                "contract": contract,
                "version": 1,
                "idempotency_key": "acme-0001",
                "office_id": "office-1",
                "occurred_at": "2025-03-01T09:30:00Z",
                "payload": payload,
            }
        )
    )


def test_patient_create_sends_only_the_fields_set_and_registers_its_ref() -> None:
    # Given a patient.create with a vendor reference
    intent = _intent(
        "patient.create", {"LName": "Testwright", "FName": "Amelia", "PatientRef": "p-1"}
    )
    # When the hub builds the call
    payload = intent.payload
    # Then the body has the Open Dental fields only, and the ref is to be registered
    assert payload.od_fields() == {"LName": "Testwright", "FName": "Amelia"}
    assert (payload.od_call.method, payload.od_call.path) == ("POST", "/patients")
    assert payload.new_ref() == "p-1"
    assert payload.subject() is None


def test_patient_update_puts_patnum_in_the_path_not_the_body() -> None:
    # Given a patient.update by PatNum
    intent = _intent("patient.update", {"PatNum": 1042, "City": "Springfield"})
    # When the hub builds the call
    payload = intent.payload
    # Then PatNum names the URL and the body holds the change only
    assert payload.od_fields() == {"City": "Springfield"}
    assert payload.od_call.path_fields() == {"PatNum"}
    assert payload.subject() == Subject(table="patient", key_field="PatNum", num=1042, ref=None)


def test_appointment_create_by_ref_leaves_patnum_for_the_hub_to_resolve() -> None:
    # Given an appointment for a patient named by the vendor's reference
    intent = _intent(
        "appointment.create",
        {
            "PatientRef": "p-1",
            "Op": 3,
            "AptDateTime": "2025-04-02 14:30:00",
            "IsNewPatient": "true",
            "AppointmentRef": "a-1",
        },
    )
    # When the hub builds the call
    payload = intent.payload
    # Then neither reference travels to Open Dental; the subject says what to resolve
    assert payload.od_fields() == {
        "Op": 3,
        "AptDateTime": "2025-04-02 14:30:00",
        "IsNewPatient": "true",
    }
    assert payload.subject() == Subject(table="patient", key_field="PatNum", num=None, ref="p-1")
    assert payload.new_ref() == "a-1"


def test_appointment_create_by_patnum_sends_patnum_in_the_body() -> None:
    # Given an appointment for a patient named by PatNum
    intent = _intent(
        "appointment.create", {"PatNum": 1042, "Op": 3, "AptDateTime": "2025-04-02 14:30:00"}
    )
    # When the body is built
    fields = intent.payload.od_fields()
    # Then PatNum is in it, as Open Dental requires
    assert fields == {"PatNum": 1042, "Op": 3, "AptDateTime": "2025-04-02 14:30:00"}


def test_confirm_and_break_put_the_aptnum_in_the_path() -> None:
    # Given a confirm and a break by AptNum
    confirm = _intent("appointment.confirm", {"AptNum": 5310, "confirmVal": "Not Accepted"})
    broken = _intent("appointment.break", {"AptNum": 5310, "sendToUnscheduledList": "false"})
    # When their bodies are built
    # Then AptNum is left to the path
    assert confirm.payload.od_fields() == {"confirmVal": "Not Accepted"}
    assert confirm.payload.od_call.path == "/appointments/{AptNum}/Confirm"
    assert broken.payload.od_fields() == {"sendToUnscheduledList": "false"}
    assert broken.payload.od_call.path == "/appointments/{AptNum}/Break"


def test_commlog_and_payment_bodies_keep_open_dental_names_and_formats() -> None:
    # Given a commlog and a payment
    commlog = _intent("commlog.create", {"PatNum": 7, "Note": "Called.", "Mode_": "Phone"})
    payment = _intent("payment.create", {"PatNum": 7, "PayAmt": 40, "PayDate": "2025-03-01"})
    # When their bodies are built
    # Then field names, enum names and dates are Open Dental's, and the amount is a number
    assert commlog.payload.od_fields() == {"PatNum": 7, "Note": "Called.", "Mode_": "Phone"}
    assert payment.payload.od_fields() == {"PatNum": 7, "PayAmt": 40.0, "PayDate": "2025-03-01"}
    assert (commlog.payload.od_call.table, payment.payload.od_call.table) == (
        "commlog",
        "payment",
    )
