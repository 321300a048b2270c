"""Appointments, commlogs, payments and the office's reference lists, against the simulator."""

from __future__ import annotations

import uuid

import pytest

from hub.errors import PermanentError
from hub.opendental import Created
from tests.opendental.conftest import Harness

APPOINTMENT_CONFIRMED = 2  # definition category of appointment confirmation statuses
PAYMENT_TYPES = 10


async def new_patient(od: Harness) -> int:
    last_name = f"Test{uuid.uuid4().hex[:8]}"
    return (await od.client.create_patient({"LName": last_name, "FName": "Al"})).primary_key


async def new_appointment(od: Harness, pat_num: int) -> Created:
    op_num = (await od.client.list_operatories())[0]["OperatoryNum"]
    assert isinstance(op_num, int)
    return await od.client.create_appointment(
        {"PatNum": pat_num, "Op": op_num, "AptDateTime": "2030-01-15 09:00:00"}
    )


async def test_create_appointment_returns_its_aptnum(od: Harness) -> None:
    # Given a patient and an operatory
    pat_num = await new_patient(od)
    # When an appointment is created
    created = await new_appointment(od, pat_num)
    # Then its AptNum comes back with the object, and the attempt is reported with it
    assert (created.table, created.status) == ("appointment", 201)
    assert created.body["AptNum"] == created.primary_key
    assert created.body["PatNum"] == pat_num
    last = od.calls[-1]
    assert (last.path, last.od_primary_key) == ("/appointments", created.primary_key)


async def test_update_confirm_and_break_an_appointment(od: Harness) -> None:
    # Given a scheduled appointment
    pat_num = await new_patient(od)
    apt_num = (await new_appointment(od, pat_num)).primary_key
    # When its note is updated, it is confirmed, and then broken
    updated = await od.client.update_appointment(apt_num, {"Note": "bring x-rays"})
    confirmed = await od.client.confirm_appointment(apt_num, {"confirmVal": "Confirmed"})
    broken = await od.client.break_appointment(apt_num, {"sendToUnscheduledList": "false"})
    # Then each PUT is an Updated for that AptNum, reported as such
    assert updated.body["Note"] == "bring x-rays"
    assert [(u.table, u.primary_key, u.status) for u in (updated, confirmed, broken)] == [
        ("appointment", apt_num, 200)
    ] * 3
    assert [call.path for call in od.calls[-3:]] == [
        f"/appointments/{apt_num}",
        f"/appointments/{apt_num}/Confirm",
        f"/appointments/{apt_num}/Break",
    ]
    # And Open Dental now holds a broken, confirmed appointment
    (row,) = await od.client.list_appointments(PatNum=pat_num)
    assert row["AptStatus"] == "Broken"
    assert row["confirmed"] == "Confirmed"


async def test_breaking_twice_is_a_permanent_error(od: Harness) -> None:
    # Given an appointment already broken
    apt_num = (await new_appointment(od, await new_patient(od))).primary_key
    await od.client.break_appointment(apt_num, {"sendToUnscheduledList": "false"})
    # When it is broken again, Then Open Dental refuses it for good
    with pytest.raises(PermanentError) as caught:
        await od.client.break_appointment(apt_num, {"sendToUnscheduledList": "false"})
    assert caught.value.status == 400


async def test_create_commlog_and_list_them_for_the_patient(od: Harness) -> None:
    # Given two patients, one with a commlog
    pat_num, other = await new_patient(od), await new_patient(od)
    await od.client.create_commlog({"PatNum": other, "Note": "not this one"})
    # When a commlog is created for the first and the first's commlogs are listed
    created = await od.client.create_commlog({"PatNum": pat_num, "Note": "called about recall"})
    rows = await od.client.list_commlogs(pat_num)
    # Then the CommlogNum comes back, and only that patient's commlog is listed
    assert (created.table, created.status) == ("commlog", 201)
    assert [row["CommlogNum"] for row in rows] == [created.primary_key]


async def test_create_payment_and_list_them_for_the_patient(od: Harness) -> None:
    # Given a patient
    pat_num = await new_patient(od)
    # When a payment is made and the patient's payments are listed
    created = await od.client.create_payment({"PatNum": pat_num, "PayAmt": 25.5})
    rows = await od.client.list_payments(pat_num)
    # Then its PayNum comes back and it is listed
    assert (created.table, created.status) == ("payment", 201)
    assert created.body["PayAmt"] == 25.5
    assert [row["PayNum"] for row in rows] == [created.primary_key]


async def test_reference_lists_of_the_office(od: Harness) -> None:
    # Given the simulator's seeded office
    # When its definitions, operatories and providers are read
    confirmations = await od.client.list_definitions(APPOINTMENT_CONFIRMED)
    payment_types = await od.client.list_definitions(PAYMENT_TYPES)
    operatories = await od.client.list_operatories()
    providers = await od.client.list_providers()
    # Then each list holds the office's rows, definitions only of the asked category
    assert "Confirmed" in {row["ItemName"] for row in confirmations}
    assert {row["Category"] for row in confirmations} == {APPOINTMENT_CONFIRMED}
    assert {row["ItemName"] for row in payment_types} >= {"Cash", "Check"}
    assert len(operatories) == 3
    assert len(providers) == 2
    assert [call.status for call in od.calls] == [200] * 4
