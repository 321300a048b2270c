"""PatFields POST, PUT and GET: the field must be one the office defined, its value must fit
the definition's type, and each patient has one row per field."""

from __future__ import annotations

import httpx
import pytest

from odsim.config import Permission
from odsim.handlers.patfields import DUPLICATE_MESSAGE, MISSING_MESSAGE, UNKNOWN_FIELD_MESSAGE
from tests.odsim.conftest import NewPatient, Office, key_without


async def test_post_makes_the_field_and_put_changes_it_in_place(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient
    pat = await new_patient()
    body = {"PatNum": pat, "FieldName": "Referral Source", "FieldValue": "Web form"}

    # When the field is set by POST, then changed by PUT with the same body's shape
    made = await api.post("/patfields", json=body)
    changed = await api.put("/patfields", json={**body, "FieldValue": "Friend"})

    # Then 201 with a Location, then 200 for the same row, which now holds the new value
    assert made.status_code == 201, made.text
    num = made.json()["PatFieldNum"]
    assert made.headers["Location"] == f"{office.sim.base_url}/patfields/{num}"
    assert changed.status_code == 200, changed.text
    assert changed.json()["PatFieldNum"] == num
    rows = await office.rows("SELECT PatFieldNum, FieldValue FROM patfield WHERE PatNum = %s", pat)
    assert rows == [{"PatFieldNum": num, "FieldValue": "Friend"}]
    # And each write is in Open Dental's audit trail as the API's PatientFieldEdit on the row
    logs = await office.rows("SELECT FKey, LogSource FROM securitylog WHERE PermType = 80")
    assert logs == [{"FKey": num, "LogSource": 23}] * 2
    # And the patient's list reads it back
    listed = (await api.get("/patfields", params={"PatNum": pat})).json()
    assert [(f["FieldName"], f["FieldValue"]) for f in listed] == [("Referral Source", "Friend")]


@pytest.mark.parametrize(
    ("method", "fields", "message"),
    [
        ("post", {"FieldName": "Referral Source", "FieldValue": "x"}, "PatNum is required."),
        ("post", {"PatNum": "{pat}", "FieldValue": "x"}, "FieldName is required."),
        ("post", {"PatNum": "{pat}", "FieldName": "Referral Source"}, "FieldValue is required."),
        ("post", {"PatNum": "{pat}", "FieldName": "referral source", "FieldValue": "x"},
         UNKNOWN_FIELD_MESSAGE),
        ("post", {"PatNum": "{pat}", "FieldName": "Retired Field", "FieldValue": "x"},
         UNKNOWN_FIELD_MESSAGE),
        ("post", {"PatNum": "{pat}", "FieldName": "Intake Date", "FieldValue": "05/01/2025"},
         "FieldValue is invalid. Date format must be yyyy-MM-dd."),
        ("post", {"PatNum": "{pat}", "FieldName": "Intake Consent", "FieldValue": "yes"},
         'FieldValue is invalid. A checkbox field takes "1".'),
        ("post", {"PatNum": "{pat}", "FieldName": "Language Line", "FieldValue": "Klingon"},
         "FieldValue is invalid. Must be an item of the field's pick list."),
        ("put", {"PatNum": "{pat}", "FieldName": "Referral Source", "FieldValue": "x"},
         MISSING_MESSAGE),
    ],
    ids=["no-patnum", "no-name", "no-value", "name-case", "hidden-def", "date-format",
         "checkbox", "pick-list", "put-without-row"],
)
async def test_a_field_open_dental_refuses_is_a_bare_message_and_sets_nothing(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    method: str, fields: dict[str, object], message: str,
) -> None:
    # Given a patient
    pat = await new_patient()
    body = {k: pat if v == "{pat}" else v for k, v in fields.items()}

    # When a set breaks one of Open Dental's rules
    response = await getattr(api, method)("/patfields", json=body)

    # Then 400 with Open Dental's message, and no field is set
    assert (response.status_code, response.json()) == (400, message)
    assert await office.rows("SELECT PatFieldNum FROM patfield") == []


async def test_a_second_post_of_the_same_field_is_refused(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient whose Intake Consent is set
    pat = await new_patient()
    body = {"PatNum": pat, "FieldName": "Intake Consent", "FieldValue": "1"}
    assert (await api.post("/patfields", json=body)).status_code == 201

    # When it is POSTed again
    response = await api.post("/patfields", json=body)

    # Then 400, and the patient still has one row for it
    assert (response.status_code, response.json()) == (400, DUPLICATE_MESSAGE)
    assert len(await office.rows("SELECT 1 FROM patfield WHERE PatNum = %s", pat)) == 1


async def test_patfield_writes_need_the_all_others_permission(office: Office) -> None:
    async with office.client(key_without(Permission.ALL_OTHERS)) as client:
        response = await client.post(
            "/patfields", json={"PatNum": 1, "FieldName": "Referral Source", "FieldValue": "x"}
        )
    assert response.status_code == 401
    assert "AllOthers" in response.json()
