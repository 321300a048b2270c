"""Patients POST validation: one bare-string message style, naming the field, never the value;
and Open Dental's duplicate rule."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.odsim.conftest import NewPatient, Office

BASE = {"LName": "Valid", "FName": "Vera"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"LName": None}, "LName is required."),
        ({"FName": "  "}, "FName is required."),
        ({"Birthdate": "1999-02-31"}, "Birthdate is invalid. Format must be yyyy-MM-dd."),
        ({"Birthdate": "02/03/1999"}, "Birthdate is invalid. Format must be yyyy-MM-dd."),
        ({"DateFirstVisit": "2020-1-5"}, "DateFirstVisit is invalid. Format must be yyyy-MM-dd."),
        ({"State": "Oregon"}, "State is invalid. Must be two capital letters."),
        ({"Zip": "9730"},
         "Zip is invalid. Format must be 12345, 12345-1234, 123456789 or A0A 0A0."),
        ({"SSN": "123-45-6789"}, "SSN is invalid. Must be 9 digits."),
        ({"ChartNumber": "C" * 16}, "ChartNumber is invalid. Maximum of 15 characters."),
        ({"LName": "Z" * 101}, "LName is invalid. Maximum of 100 characters."),
        ({"Email": "no-at-sign"}, "Email is invalid. Must be an email."),
        ({"Gender": "F"}, "Gender is invalid. Must be one of: Male, Female, Unknown, Other."),
        ({"PatStatus": "Deleted"}, "PatStatus is invalid. Must be one of: Patient, NonPatient,"
                                   " Inactive, Archived, Deceased, Prospective."),
        ({"Premed": True}, 'Premed is invalid. Must be "true" or "false".'),
        ({"PriProv": 99}, "PriProv is invalid."),
        ({"PriProv": "one"}, "PriProv is invalid."),
        ({"BillingType": "Gold Plan"}, "BillingType is invalid."),
        ({"ClinicNum": 5}, "ClinicNum is invalid."),
        ({"Guarantor": 424242}, "Guarantor is invalid."),
        ({"Guarantor": 1, "SuperFamily": 1}, "Only one of Guarantor or SuperFamily may be sent."),
    ],
)
async def test_invalid_fields_get_400_naming_the_field(
    office: Office, api: httpx.AsyncClient, fields: dict[str, object], message: str
) -> None:
    # Given a patient body with one bad field
    body = {k: v for k, v in {**BASE, **fields}.items() if v is not None}

    # When it is posted
    response = await api.post("/patients", json=body)

    # Then 400 with a bare JSON string naming the field and the rule, not the value
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.text) == message
    for value in fields.values():
        if isinstance(value, str) and value.strip() and len(value) > 2:
            assert value not in message
    assert await office.rows("SELECT PatNum FROM patient") == []


@pytest.mark.parametrize("zip_code", ["97301", "97301-1234", "973011234", "K1A 0B1"])
async def test_each_zip_format_is_accepted(api: httpx.AsyncClient, zip_code: str) -> None:
    # When a patient is posted with each accepted Zip shape, Then it is created
    response = await api.post("/patients", json={**BASE, "Zip": zip_code})
    assert response.status_code == 201
    assert response.json()["Zip"] == zip_code


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b'{"LName": "A", "FName": "B"}', {"Content-Type": "text/plain"},
         "Content-Type must be application/json."),
        (b'{"LName": ', {"Content-Type": "application/json"}, "Request body is not valid JSON."),
        (b'["LName"]', {"Content-Type": "application/json"}, "Request body must be a JSON object."),
    ],
)
async def test_body_must_be_a_json_object(
    api: httpx.AsyncClient, content: bytes, headers: dict[str, str], message: str
) -> None:
    # When the body is not JSON, not declared as JSON, or not an object
    response = await api.post("/patients", content=content, headers=headers)

    # Then 400 says so
    assert response.status_code == 400
    assert json.loads(response.text) == message


DUPLICATE = {"LName": "Dupont", "FName": "Claire", "Birthdate": "1970-07-07"}


async def test_same_name_birthdate_and_email_is_a_duplicate(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient with an email
    await new_patient(**DUPLICATE, Email="claire@example.com")

    # When the same person is posted again with the same email (another case)
    response = await api.post("/patients", json={**DUPLICATE, "Email": "CLAIRE@example.com"})

    # Then 400 with the duplicate message, and still one patient
    assert response.status_code == 400
    assert json.loads(response.text) == office.sim.config.duplicate_patient_message
    assert len(await office.rows("SELECT PatNum FROM patient")) == 1


async def test_a_family_members_phone_makes_a_duplicate(
    api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient, and a family member of hers with a home phone
    claire = await new_patient(**DUPLICATE)
    await new_patient(FName="Spouse", Guarantor=claire, HmPhone="(503) 555-0142")

    # When the first patient is posted again with that phone number, punctuated differently
    response = await api.post("/patients", json={**DUPLICATE, "WirelessPhone": "503.555.0142"})

    # Then it is a duplicate
    assert response.status_code == 400


@pytest.mark.parametrize(
    "second",
    [
        {"LName": "Dupont", "FName": "Claire", "Email": "claire@example.com"},  # no Birthdate
        {**DUPLICATE, "Email": "other@example.com", "HmPhone": "5035550100"},  # other contacts
    ],
)
async def test_without_birthdate_or_with_other_contacts_a_second_patient_is_created(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient, second: dict[str, str]
) -> None:
    # Given a patient with an email and a phone
    await new_patient(**DUPLICATE, Email="claire@example.com", HmPhone="5035550199")

    # When the same name is posted without a Birthdate, or with different contact details
    response = await api.post("/patients", json=second)

    # Then a second patient is created
    assert response.status_code == 201
    assert len(await office.rows("SELECT PatNum FROM patient")) == 2
