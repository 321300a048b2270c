"""Commlogs POST/GET and Payments POST/GET."""

from __future__ import annotations

import json
from datetime import date, datetime

import httpx
import pytest

from odsim.fields import office_now
from tests.odsim.conftest import NewPatient, Office


async def test_commlog_defaults_and_audit(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient
    pat = await new_patient()

    # When a commlog is posted with only PatNum and Note
    response = await api.post("/commlogs", json={"PatNum": pat, "Note": "Left a message"})

    # Then 201 with a Location; Phone, Sent, the first commlog type, source User, now
    assert response.status_code == 201
    body = response.json()
    num = body["CommlogNum"]
    assert response.headers["Location"] == f"{office.sim.base_url}/commlogs/{num}"
    assert (body["Mode_"], body["SentOrReceived"], body["commType"], body["CommSource"]) == (
        "Phone", "Sent", "Appt Related", "User")
    row = await office.row("SELECT * FROM commlog WHERE CommlogNum = %s", num)
    assert (row["Mode_"], row["SentOrReceived"], row["CommSource"], row["UserNum"]) == (3, 1, 0, 0)
    assert row["CommDateTime"].date() == office_now().date()
    log = await office.row("SELECT * FROM securitylog WHERE PermType = 193")
    assert (log["FKey"], log["PatNum"]) == (num, pat)
    assert log["LogText"] == "Commlog created by OD Integration Hub through API."


async def test_commlog_type_by_name_wins_and_modes_take_either_spelling(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient and the Financial commlog type
    pat = await new_patient()
    financial = (await office.row(
        "SELECT DefNum FROM definition WHERE Category = 27 AND ItemName = 'Financial'"))["DefNum"]

    # When a commlog names both a CommType number and a commType name, with "In Person"
    response = await api.post("/commlogs", json={
        "PatNum": pat, "Note": "Visit", "CommType": financial, "commType": "Insurance",
        "Mode_": "In Person", "SentOrReceived": "Received",
        "CommDateTime": "2030-01-02 03:04:05",
    })

    # Then the name wins, the mode is stored as InPerson, and the given time is kept
    body = response.json()
    assert (body["commType"], body["Mode_"], body["SentOrReceived"]) == (
        "Insurance", "InPerson", "Received")
    row = await office.row("SELECT Mode_, CommDateTime FROM commlog")
    assert (row["Mode_"], row["CommDateTime"]) == (4, datetime(2030, 1, 2, 3, 4, 5))


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"Note": "x"}, 400, "PatNum is required."),
        ({"PatNum": "{pat}"}, 400, "Note is required."),
        ({"PatNum": 999999, "Note": "x"}, 404, "Patient not found."),
        ({"PatNum": "{pat}", "Note": "x", "commType": "Gossip"}, 400, "commType is invalid."),
        ({"PatNum": "{pat}", "Note": "x", "CommType": 1}, 400, "CommType is invalid."),
        ({"PatNum": "{pat}", "Note": "x", "Mode_": "Pigeon"}, 400, "Mode_ is invalid."),
    ],
)
async def test_commlog_validation(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    body: dict[str, object], status: int, message: str,
) -> None:
    # Given a patient
    pat = await new_patient()
    filled = {k: pat if v == "{pat}" else v for k, v in body.items()}

    # When a bad commlog is posted
    response = await api.post("/commlogs", json=filled)

    # Then it is refused and nothing is written
    assert response.status_code == status
    assert json.loads(response.text).startswith(message)
    assert await office.rows("SELECT CommlogNum FROM commlog") == []


async def test_commlogs_get_by_patient(api: httpx.AsyncClient, new_patient: NewPatient) -> None:
    # Given commlogs for two patients
    first, second = await new_patient(), await new_patient()
    for pat in (first, first, second):
        await api.post("/commlogs", json={"PatNum": pat, "Note": "Called"})

    # When listed by patient, by an unknown patient, and changed since 2099
    mine = (await api.get("/commlogs", params={"PatNum": first})).json()
    unknown = await api.get("/commlogs", params={"PatNum": 999999})
    since = (await api.get("/commlogs", params={"DateTStamp": "2099-01-01 00:00:00"})).json()

    # Then only that patient's, 404 for the unknown one, and none changed in the future
    assert [c["PatNum"] for c in mine] == [first, first]
    assert unknown.status_code == 404
    assert since == []


async def test_payment_is_an_api_payment_split_to_unearned(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient
    pat = await new_patient()

    # When a payment is posted with the amount as a number
    response = await api.post("/payments", json={"PatNum": pat, "PayAmt": 129.99,
                                                 "CheckNum": "2058"})

    # Then 201; PaymentSource API (13), the first payment type, dated today; one paysplit
    # carries the whole amount; a PaymentCreate log names it
    assert response.status_code == 201
    body = response.json()
    num = body["PayNum"]
    assert response.headers["Location"] == f"{office.sim.base_url}/payments/{num}"
    assert (body["PaymentSource"], body["payType"], body["PayAmt"]) == ("API", "Cash", 129.99)
    row = await office.row("SELECT * FROM payment WHERE PayNum = %s", num)
    assert (row["PaymentSource"], row["PayAmt"], row["PatNum"]) == (13, 129.99, pat)
    assert row["PayDate"] == row["DateEntry"] == office_now().date()
    split = await office.row("SELECT SUM(SplitAmt) AS total FROM paysplit WHERE PayNum = %s", num)
    assert split["total"] == pytest.approx(129.99)
    log = await office.row("SELECT FKey FROM securitylog WHERE PermType = 15")
    assert log["FKey"] == num


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"PatNum": "{pat}"}, 400, "PayAmt is required."),
        ({"PayAmt": 5}, 400, "PatNum is required."),
        ({"PatNum": "{pat}", "PayAmt": "lots"}, 400, "PayAmt is invalid."),
        ({"PatNum": "{pat}", "PayAmt": 5, "PayType": 1}, 400, "PayType is invalid."),
        ({"PatNum": "{pat}", "PayAmt": 5, "PayDate": "5/6/2030"}, 400,
         "PayDate is invalid. Format must be yyyy-MM-dd."),
        ({"PatNum": "{pat}", "PayAmt": 5, "CheckNum": "9" * 26}, 400,
         "CheckNum is invalid. Maximum of 25 characters."),
        ({"PatNum": 999999, "PayAmt": 5}, 404, "Patient not found."),
    ],
)
async def test_payment_validation(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    body: dict[str, object], status: int, message: str,
) -> None:
    # Given a patient
    pat = await new_patient()
    filled = {k: pat if v == "{pat}" else v for k, v in body.items()}

    # When a bad payment is posted
    response = await api.post("/payments", json=filled)

    # Then it is refused and nothing is written
    assert (response.status_code, json.loads(response.text)) == (status, message)
    assert await office.rows("SELECT PayNum FROM payment") == []


async def test_payments_get_filters(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a check and a cash payment for one patient and one for another
    first, second = await new_patient(), await new_patient()
    check = (await office.row(
        "SELECT DefNum FROM definition WHERE Category = 10 AND ItemName = 'Check'"))["DefNum"]
    a = (await api.post("/payments", json={"PatNum": first, "PayAmt": "10.50",
                                          "PayType": check})).json()["PayNum"]
    b = (await api.post("/payments", json={"PatNum": first, "PayAmt": 20})).json()["PayNum"]
    await api.post("/payments", json={"PatNum": second, "PayAmt": 30})
    today = office_now().date().isoformat()

    async def numbers(**params: object) -> list[int]:
        return [p["PayNum"] for p in (await api.get("/payments", params=params)).json()]

    # When filtered by patient, by type and by entry date
    # Then each filter keeps its payments
    assert await numbers(PatNum=first) == [a, b]
    assert await numbers(PatNum=first, PayType=check) == [a]
    assert len(await numbers(DateEntry=today)) == 3
    assert await numbers(DateEntry=date(2099, 1, 1).isoformat()) == []
