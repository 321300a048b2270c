"""Appointments PUT Note (an append) and Payments POST Refund (an offsetting payment)."""

from __future__ import annotations

import httpx
import pytest

from tests.odsim.conftest import NewPatient, Office


async def _appointment(api: httpx.AsyncClient, pat: int, **fields: object) -> int:
    ops = (await api.get("/operatories")).json()
    body = {"PatNum": pat, "Op": ops[0]["OperatoryNum"], "AptDateTime": "2030-03-04 09:00:00",
            **fields}
    response = await api.post("/appointments", json=body)
    assert response.status_code == 201, response.text
    apt_num: int = response.json()["AptNum"]
    return apt_num


async def test_note_appends_a_line_each_time(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given an appointment whose note is empty
    apt = await _appointment(api, await new_patient())

    # When the same note is put twice, then another
    for text in ("Reminder sent", "Reminder sent", "Patient called back"):
        response = await api.put(f"/appointments/{apt}/Note", json={"Note": text})
        assert response.status_code == 200, response.text

    # Then the note holds each append on its own line, the first without a leading break
    row = await office.row("SELECT Note FROM appointment WHERE AptNum = %s", apt)
    assert row["Note"] == "Reminder sent\r\nReminder sent\r\nPatient called back"
    # And each append is an API edit of the appointment in the securitylog
    logs = await office.rows(
        "SELECT LogText FROM securitylog WHERE FKey = %s AND PermType = 27 AND LogSource = 23",
        apt)
    assert [log["LogText"] for log in logs] == [
        "Appointment note added by OD Integration Hub through API."] * 3


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/appointments/{apt}/Note", {}, 400, "Note is required."),
        ("/appointments/{apt}/Note", {"Note": ""}, 400, "Note is required."),
        ("/appointments/999999/Note", {"Note": "x"}, 404, "Appointment not found."),
    ],
)
async def test_note_validation(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    path: str, body: dict[str, object], status: int, message: str,
) -> None:
    # Given an appointment
    apt = await _appointment(api, await new_patient())

    # When a note is put without text, or for a missing appointment
    response = await api.put(path.format(apt=apt), json=body)

    # Then Open Dental's status and message, and the note is untouched
    assert (response.status_code, response.json()) == (status, message)
    row = await office.row("SELECT Note FROM appointment WHERE AptNum = %s", apt)
    assert row["Note"] == ""


async def test_refund_makes_an_offsetting_payment(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a payment of 42.50
    pat = await new_patient()
    paid = (await api.post("/payments", json={"PatNum": pat, "PayAmt": 42.5})).json()

    # When it is refunded
    response = await api.post("/payments/Refund", json={"PayNum": paid["PayNum"]})

    # Then 201 and a new API payment of -42.50 for the same patient and type
    assert response.status_code == 201, response.text
    refund = response.json()
    assert refund["PayNum"] != paid["PayNum"]
    assert (refund["PayAmt"], refund["PatNum"], refund["PayType"], refund["PaymentSource"]) == (
        -42.5, pat, paid["PayType"], "API")
    # And its split offsets the original's split (FSplitNum), so the patient's splits sum to 0
    splits = await office.rows(
        "SELECT SplitNum, PayNum, SplitAmt, FSplitNum FROM paysplit WHERE PatNum = %s"
        " ORDER BY SplitNum", pat)
    assert [(s["PayNum"], s["SplitAmt"]) for s in splits] == [
        (paid["PayNum"], 42.5), (refund["PayNum"], -42.5)]
    assert splits[1]["FSplitNum"] == splits[0]["SplitNum"]
    # And the refund is logged as an API payment create of the new row
    log = await office.row(
        "SELECT PatNum, LogText FROM securitylog WHERE FKey = %s AND PermType = 15",
        refund["PayNum"])
    assert (log["PatNum"], log["LogText"]) == (
        pat, "Payment refunded by OD Integration Hub through API.")


async def test_refund_refusals(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a payment refunded once
    pat = await new_patient()
    paid = (await api.post("/payments", json={"PatNum": pat, "PayAmt": 10})).json()
    refund = (await api.post("/payments/Refund", json={"PayNum": paid["PayNum"]})).json()

    # When it, its refund, a missing payment, or nothing is refunded
    cases = [
        ({"PayNum": paid["PayNum"]}, 400, "This payment has already been refunded."),
        ({"PayNum": refund["PayNum"]}, 400,
         "Only payments with an amount greater than 0 can be refunded."),
        ({"PayNum": 999999}, 404, "Payment not found."),
        ({}, 400, "PayNum is required."),
    ]
    for body, status, message in cases:
        response = await api.post("/payments/Refund", json=body)
        # Then each is refused with Open Dental's status and message
        assert (response.status_code, response.json()) == (status, message), body

    # And the patient still has the payment and its one refund only
    rows = await office.rows("SELECT PayAmt FROM payment WHERE PatNum = %s ORDER BY PayNum", pat)
    assert [row["PayAmt"] for row in rows] == [10.0, -10.0]
