"""Appointments POST, PUT, Confirm, Break and GET, with their history and audit rows."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from tests.odsim.conftest import NewPatient, Office

AT = "2030-03-04 09:30:00"


async def _appointment(api: httpx.AsyncClient, pat: int, **fields: object) -> int:
    response = await api.post("/appointments",
                              json={"PatNum": pat, "Op": 1, "AptDateTime": AT, **fields})
    assert response.status_code == 201, response.text
    apt: int = response.json()["AptNum"]
    return apt


async def test_post_applies_open_dentals_defaults(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient
    pat = await new_patient()

    # When an appointment is posted with only the required fields
    response = await api.post("/appointments", json={"PatNum": pat, "Op": 2, "AptDateTime": AT})

    # Then 201 with a Location, Scheduled, "/XX/", the first ApptConfirmed and the patient's
    # provider; stored as Open Dental's numbers
    assert response.status_code == 201
    body = response.json()
    apt = body["AptNum"]
    assert response.headers["Location"] == f"{office.sim.base_url}/appointments/{apt}"
    assert (body["AptStatus"], body["Pattern"], body["confirmed"]) == (
        "Scheduled", "/XX/", "Not Called")
    assert body["IsNewPatient"] == "false" and body["Priority"] == "Normal"
    row = await office.row("SELECT * FROM appointment WHERE AptNum = %s", apt)
    assert (row["AptStatus"], row["ProvNum"], row["Op"], row["ClinicNum"]) == (1, 1, 2, 0)
    assert row["AptDateTime"] == datetime(2030, 3, 4, 9, 30)
    assert row["PatternSecondary"] == "////"


async def test_post_writes_history_and_securitylog(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient
    pat = await new_patient()

    # When an appointment is posted
    apt = await _appointment(api, pat)

    # Then a histappointment "Created" copy and an AppointmentCreate log name it
    hist = await office.row("SELECT * FROM histappointment")
    assert (hist["AptNum"], hist["HistApptAction"], hist["PatNum"]) == (apt, 0, pat)
    log = await office.row("SELECT * FROM securitylog WHERE PermType = 25")
    assert (log["FKey"], log["PatNum"], log["LogSource"]) == (apt, pat, 23)
    assert log["LogText"] == "Appointment created by OD Integration Hub through API."


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"PatNum": None}, 400, "PatNum is required."),
        ({"Op": None}, 400, "Op is required."),
        ({"AptDateTime": None}, 400, "AptDateTime is required."),
        ({"AptDateTime": "2030-03-04"}, 400,
         "AptDateTime is invalid. Format must be yyyy-MM-dd HH:mm:ss."),
        ({"PatNum": 999999}, 404, "Patient not found."),
        ({"Op": 77}, 400, "Op is invalid."),
        ({"ProvNum": 77}, 400, "ProvNum is invalid."),
        ({"Confirmed": 77}, 400, "Confirmed is invalid."),
        ({"Pattern": "XX--"}, 400, "Pattern is invalid. Must contain only X and / characters."),
        ({"AptStatus": "Broken"}, 400, "AptStatus is invalid. Must be one of: Scheduled,"
                                       " Complete, UnschedList, PtNote, PtNoteCompleted."),
        ({"IsHygiene": "yes"}, 400, 'IsHygiene is invalid. Must be "true" or "false".'),
    ],
)
async def test_post_validation(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    fields: dict[str, object], status: int, message: str,
) -> None:
    # Given a patient and an appointment body with one bad or missing field
    pat = await new_patient()
    body = {k: v for k, v in {"PatNum": pat, "Op": 1, "AptDateTime": AT, **fields}.items()
            if v is not None}

    # When it is posted
    response = await api.post("/appointments", json=body)

    # Then it is refused with the message and nothing is written
    assert (response.status_code, json.loads(response.text)) == (status, message)
    assert await office.rows("SELECT AptNum FROM appointment") == []


async def test_patterns_longer_than_nine_hours_are_trimmed(
    api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # When an appointment is posted with a 10-hour pattern
    apt = await _appointment(api, await new_patient(), Pattern="X" * 120)

    # Then Open Dental keeps 9 hours of it
    assert len((await api.get(f"/appointments/{apt}")).json()["Pattern"]) == 108


async def test_put_is_sparse_and_logged_as_an_edit(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given an appointment with a note
    apt = await _appointment(api, await new_patient(), Note="First")

    # When only Op and Note change
    response = await api.put(f"/appointments/{apt}", json={"Op": 3, "Note": "Moved"})

    # Then the rest stays, history says Changed and the edit is logged
    assert response.status_code == 200
    row = await office.row("SELECT * FROM appointment WHERE AptNum = %s", apt)
    assert (row["Op"], row["Note"], row["AptDateTime"]) == (3, "Moved", datetime(2030, 3, 4, 9, 30))
    actions = await office.rows("SELECT HistApptAction FROM histappointment ORDER BY HistApptNum")
    assert [a["HistApptAction"] for a in actions] == [0, 1]
    assert len(await office.rows("SELECT 1 FROM securitylog WHERE PermType = 27")) == 1


async def test_put_of_a_missing_appointment_is_404(api: httpx.AsyncClient) -> None:
    response = await api.put("/appointments/999999", json={"Note": "x"})
    assert (response.status_code, json.loads(response.text)) == (404, "Appointment not found.")


@pytest.mark.parametrize(
    ("body", "item"),
    [({"confirmVal": "Confirmed"}, "Confirmed"), ({"confirmVal": "None"}, "Not Called")],
)
async def test_confirm_by_confirm_val(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    body: dict[str, str], item: str,
) -> None:
    # Given an appointment
    apt = await _appointment(api, await new_patient())

    # When it is confirmed by name
    response = await api.put(f"/appointments/{apt}/Confirm", json=body)

    # Then Confirmed holds that ApptConfirmed definition, logged as ApptConfirmStatusEdit
    assert response.status_code == 200
    row = await office.row(
        "SELECT d.ItemName FROM appointment a JOIN definition d ON d.DefNum = a.Confirmed")
    assert row["ItemName"] == item
    assert len(await office.rows("SELECT 1 FROM securitylog WHERE PermType = 120")) == 1


async def test_confirm_by_def_num_and_exactly_one_rule(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given an appointment and the "Sent" definition
    apt = await _appointment(api, await new_patient())
    sent_def = "SELECT DefNum FROM definition WHERE Category = 2 AND ItemName = 'Sent'"
    sent = (await office.row(sent_def))["DefNum"]

    # When confirmed by defNum, with both fields, with neither, and with a DefNum of another
    # category
    url = f"/appointments/{apt}/Confirm"
    by_def = await api.put(url, json={"defNum": sent})
    both = await api.put(url, json={"defNum": sent, "confirmVal": "Sent"})
    neither = await api.put(url, json={})
    wrong = await api.put(url, json={"defNum": 1000})

    # Then only the first succeeds
    assert by_def.status_code == 200
    assert (await office.row("SELECT Confirmed FROM appointment"))["Confirmed"] == sent
    assert json.loads(both.text) == json.loads(neither.text) == (
        "Exactly one of confirmVal or defNum is required.")
    assert (wrong.status_code, json.loads(wrong.text)) == (400, "defNum is invalid.")


@pytest.mark.parametrize(("send", "status"), [("true", 3), ("false", 5)])
async def test_break_a_scheduled_appointment(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient, send: str, status: int
) -> None:
    # Given a scheduled appointment
    apt = await _appointment(api, await new_patient())

    # When it is broken as missed, to the unscheduled list or left in place
    response = await api.put(f"/appointments/{apt}/Break",
                             json={"sendToUnscheduledList": send, "breakType": "Missed"})
    again = await api.put(f"/appointments/{apt}/Break", json={"sendToUnscheduledList": send})

    # Then it is UnschedList or Broken, history says Missed, the edit is logged; a second
    # break is refused because it is no longer scheduled
    assert response.status_code == 200
    assert (await office.row("SELECT AptStatus FROM appointment"))["AptStatus"] == status
    hist = await office.rows("SELECT HistApptAction FROM histappointment ORDER BY HistApptNum")
    assert [h["HistApptAction"] for h in hist] == [0, 2]
    log = await office.row("SELECT LogText FROM securitylog WHERE PermType = 27")
    assert log["LogText"] == "Appointment broken by OD Integration Hub through API."
    assert (again.status_code, json.loads(again.text)) == (
        400, "Only scheduled appointments may be broken.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "sendToUnscheduledList is required."),
        ({"sendToUnscheduledList": True}, 'sendToUnscheduledList is invalid. Must be "true" or'
                                          ' "false".'),
        ({"sendToUnscheduledList": "true", "breakType": "Late"},
         "breakType is invalid. Must be one of: Missed, Cancelled."),
    ],
)
async def test_break_validation(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    body: dict[str, object], message: str,
) -> None:
    # Given a scheduled appointment
    apt = await _appointment(api, await new_patient())

    # When it is broken with a bad body
    response = await api.put(f"/appointments/{apt}/Break", json=body)

    # Then 400 and it stays scheduled
    assert (response.status_code, json.loads(response.text)) == (400, message)
    assert (await office.row("SELECT AptStatus FROM appointment"))["AptStatus"] == 1


async def test_get_filters(api: httpx.AsyncClient, new_patient: NewPatient) -> None:
    # Given appointments on three days, for two patients, in two operatories
    first, second = await new_patient(), await new_patient()
    a = await _appointment(api, first, AptDateTime="2030-03-04 08:00:00")
    b = await _appointment(api, first, AptDateTime="2030-03-05 23:30:00", Op=2)
    c = await _appointment(api, second, AptDateTime="2030-03-06 07:00:00")
    await api.put(f"/appointments/{c}/Break", json={"sendToUnscheduledList": "false"})

    async def numbers(**params: str) -> list[int]:
        response = await api.get("/appointments", params=params)
        assert response.status_code == 200
        assert all("serverDateTime" in r for r in response.json())
        return [r["AptNum"] for r in response.json()]

    # When filtering by patient, day, inclusive range, status, operatory and DateTStamp
    # Then each filter keeps exactly its appointments
    assert await numbers(PatNum=str(first)) == [a, b]
    assert await numbers(date="2030-03-05") == [b]
    assert await numbers(dateStart="2030-03-04", dateEnd="2030-03-05") == [a, b]
    assert await numbers(AptStatus="Broken") == [c]
    assert await numbers(Op="2") == [b]
    assert await numbers(DateTStamp="2000-01-01 00:00:00") == [a, b, c]
    assert await numbers(DateTStamp="2099-01-01 00:00:00") == []
