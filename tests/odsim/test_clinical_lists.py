"""Allergies, MedicationPats and Diseases POST and GET: a row on the patient's list, naming the
list item by key or by name, in Open Dental's tables and encodings."""

from __future__ import annotations

import httpx
import pytest

from odsim.config import Permission
from tests.odsim.conftest import NewPatient, Office, key_without


async def test_an_allergy_by_a_new_name_adds_the_definition_and_the_patients_row(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient and an office without a "Shellfish" allergy
    pat = await new_patient()

    # When an allergy is added by that name, with a reaction and a date
    response = await api.post("/allergies", json={
        "PatNum": pat, "defDescription": "Shellfish", "Reaction": "Hives",
        "DateAdverseReaction": "2024-06-01",
    })

    # Then 201; the office's list gains Shellfish, and the row is active by default
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"{office.sim.base_url}/allergies/{body['AllergyNum']}"
    definition = await office.row("SELECT * FROM allergydef WHERE Description = 'Shellfish'")
    row = await office.row("SELECT * FROM allergy WHERE AllergyNum = %s", body["AllergyNum"])
    assert (row["AllergyDefNum"], row["PatNum"], row["Reaction"], row["StatusIsActive"]) == (
        definition["AllergyDefNum"], pat, "Hives", 1)
    assert body["StatusIsActive"] == "true"
    # And the API's PatAllergyListEdit entry names the row
    log = await office.row("SELECT * FROM securitylog WHERE PermType = 73")
    assert (log["FKey"], log["PatNum"], log["LogSource"]) == (body["AllergyNum"], pat, 23)


async def test_a_known_name_is_matched_whatever_its_case(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    pat = await new_patient()
    medications = len(await office.rows("SELECT 1 FROM medication"))

    response = await api.post("/medicationpats", json={
        "PatNum": pat, "medName": "amoxicillin", "PatNote": "500 mg", "DateStart": "2025-01-02",
    })

    assert response.status_code == 201, response.text
    amox = await office.row("SELECT MedicationNum FROM medication WHERE MedName = 'Amoxicillin'")
    row = await office.row("SELECT * FROM medicationpat")
    assert (row["MedicationNum"], row["PatNote"], str(row["DateStart"])) == (
        amox["MedicationNum"], "500 mg", "2025-01-02")
    assert len(await office.rows("SELECT 1 FROM medication")) == medications
    assert await office.rows("SELECT 1 FROM securitylog WHERE PermType = 72")


async def test_a_problem_by_key_stores_its_status_as_open_dentals_number(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    pat = await new_patient()
    asthma = (await office.row(
        "SELECT DiseaseDefNum FROM diseasedef WHERE DiseaseName = 'Asthma'"))["DiseaseDefNum"]

    response = await api.post("/diseases", json={
        "PatNum": pat, "DiseaseDefNum": asthma, "ProbStatus": "Resolved", "PatNote": "child",
    })

    assert response.status_code == 201, response.text
    row = await office.row("SELECT * FROM disease")
    assert (row["DiseaseDefNum"], row["ProbStatus"], row["PatNote"]) == (asthma, 1, "child")
    assert response.json()["ProbStatus"] == "Resolved"
    assert await office.rows("SELECT 1 FROM securitylog WHERE PermType = 71")
    listed = (await api.get("/diseases", params={"PatNum": pat})).json()
    assert [d["DiseaseNum"] for d in listed] == [row["DiseaseNum"]]


@pytest.mark.parametrize(
    ("path", "fields", "status", "message"),
    [
        ("/allergies", {"defDescription": "Latex"}, 400, "PatNum is required."),
        ("/allergies", {"PatNum": "{pat}"}, 400, "defDescription or AllergyDefNum is required."),
        ("/allergies", {"PatNum": "{pat}", "AllergyDefNum": 99999}, 400,
         "AllergyDefNum is invalid."),
        ("/allergies", {"PatNum": "{pat}", "defDescription": "Latex", "StatusIsActive": "yes"},
         400, 'StatusIsActive is invalid. Must be "true" or "false".'),
        ("/medicationpats", {"PatNum": "{pat}", "MedicationNum": 99999}, 400,
         "MedicationNum is invalid."),
        ("/medicationpats", {"PatNum": "{pat}", "medName": "Ibuprofen", "DateStart": "1/2/2025"},
         400, "DateStart is invalid. Format must be yyyy-MM-dd."),
        ("/medicationpats", {"PatNum": "{pat}", "medName": "Ibuprofen", "ProvNum": 99999}, 400,
         "ProvNum is invalid."),
        ("/diseases", {"PatNum": "{pat}", "diseaseDefName": "Gout"}, 400,
         "diseaseDefName does not match a diseasedef."),
        ("/diseases", {"PatNum": "{pat}", "diseaseDefName": "Asthma", "ProbStatus": "Cured"},
         400, "ProbStatus is invalid. Must be one of: Active, Resolved, Inactive."),
        ("/diseases", {"PatNum": 999999, "diseaseDefName": "Asthma"}, 404, "Patient not found."),
    ],
    ids=["no-patnum", "no-item", "unknown-allergydef", "bool-spelling", "unknown-medication",
         "date-format", "unknown-provider", "unknown-problem-name", "unknown-status",
         "no-such-patient"],
)
async def test_a_clinical_row_open_dental_refuses_is_a_bare_message_and_adds_nothing(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    path: str, fields: dict[str, object], status: int, message: str,
) -> None:
    pat = await new_patient()
    body = {k: pat if v == "{pat}" else v for k, v in fields.items()}

    response = await api.post(path, json=body)

    assert (response.status_code, response.json()) == (status, message)
    for table in ("allergy", "medicationpat", "disease"):
        assert await office.rows(f"SELECT 1 FROM {table}") == []


async def test_clinical_writes_need_the_all_others_permission(office: Office) -> None:
    async with office.client(key_without(Permission.ALL_OTHERS)) as client:
        response = await client.post("/diseases", json={"PatNum": 1, "DiseaseDefNum": 1})
    assert response.status_code == 401
    assert "AllOthers" in response.json()
