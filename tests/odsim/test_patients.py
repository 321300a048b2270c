"""Patients POST, PUT and the three GETs, read back over HTTP and straight from the tables."""

from __future__ import annotations

import json
from datetime import date

import httpx

from odsim.fields import office_now
from tests.odsim.conftest import NewPatient, Office

JANE = {
    "LName": "Quill", "FName": "Jana", "Gender": "Female", "Position": "Married",
    "Birthdate": "1976-05-24", "State": "OR", "Zip": "97301", "HmPhone": "(503)555-0101",
    "Email": "jana.quill@example.com", "PreferContactMethod": "WirelessPh", "TxtMsgOk": "Yes",
    "Premed": "true", "NotAField": "ignored",
}


async def test_post_creates_the_patient_with_open_dentals_encodings(
    office: Office, api: httpx.AsyncClient
) -> None:
    # Given a simulator
    # When a patient is posted
    response = await api.post("/patients", json=JANE)

    # Then 201 with a Location and the full object, enums and booleans by name
    assert response.status_code == 201
    body = response.json()
    pat = body["PatNum"]
    assert response.headers["Location"] == f"{office.sim.base_url}/patients/{pat}"
    assert body["Gender"] == "Female" and body["Position"] == "Married"
    assert body["PatStatus"] == "Patient" and body["Premed"] == "true"
    assert body["Guarantor"] == pat and body["BillingType"] == "Standard Account"
    assert body["priProvAbbr"] == "DOC1" and body["TxtMsgOk"] == "Yes"
    assert "NotAField" not in body
    # And the row holds Open Dental's numbers, the family and the defaults
    row = await office.row("SELECT * FROM patient WHERE PatNum = %s", pat)
    assert (row["Gender"], row["Position"], row["PatStatus"], row["TxtMsgOk"]) == (1, 1, 0, 1)
    assert row["PreferContactMethod"] == 4 and row["Premed"] == 1
    assert row["Guarantor"] == pat and row["PriProv"] == 1
    assert row["Birthdate"] == date(1976, 5, 24)
    assert row["SecDateEntry"] == office_now().date()
    billing = await office.row("SELECT ItemName FROM definition WHERE DefNum = %s",
                               row["BillingType"])
    assert billing["ItemName"] == "Standard Account"


async def test_post_writes_an_api_securitylog_without_patient_names(
    office: Office, api: httpx.AsyncClient
) -> None:
    # When a patient is posted
    pat = (await api.post("/patients", json=JANE)).json()["PatNum"]

    # Then one securitylog row says who created it through the API, with its hash
    log = await office.row("SELECT * FROM securitylog")
    assert (log["LogSource"], log["UserNum"], log["PermType"]) == (23, 0, 106)
    assert (log["PatNum"], log["FKey"], log["CompName"]) == (pat, pat, "API")
    assert log["LogText"] == "Patient created by OD Integration Hub through API."
    assert JANE["LName"] not in log["LogText"]
    digest = await office.row("SELECT LogHash FROM securityloghash WHERE SecurityLogNum = %s",
                              log["SecurityLogNum"])
    assert len(digest["LogHash"]) == 64


async def test_a_patient_can_join_a_family(api: httpx.AsyncClient, new_patient: NewPatient) -> None:
    # Given a guarantor
    head = await new_patient(FName="Parent")

    # When a child is posted naming that guarantor
    child = (await api.post("/patients", json={"LName": "Testperson", "FName": "Kid",
                                               "Guarantor": head, "Position": "Child"})).json()

    # Then the child belongs to the guarantor's family
    assert child["Guarantor"] == head


async def test_put_is_sparse_and_an_empty_string_clears(
    office: Office, api: httpx.AsyncClient
) -> None:
    # Given a patient
    pat = (await api.post("/patients", json=JANE)).json()["PatNum"]

    # When only Preferred is set, and then State is cleared with an empty string
    first = await api.put(f"/patients/{pat}", json={"Preferred": "Jay"})
    second = await api.put(f"/patients/{pat}", json={"State": ""})

    # Then each call changes only what it sent, and each change is logged as an edit
    assert first.status_code == 200 and first.json()["Preferred"] == "Jay"
    assert second.json()["State"] == "" and second.json()["Preferred"] == "Jay"
    row = await office.row("SELECT * FROM patient WHERE PatNum = %s", pat)
    assert (row["Email"], row["Gender"], row["State"]) == (JANE["Email"], 1, "")
    edits = await office.rows("SELECT LogText FROM securitylog WHERE PermType = 108")
    edited = "Patient edited by OD Integration Hub through API."
    assert [e["LogText"] for e in edits] == [edited, edited]


async def test_put_may_not_blank_the_names(api: httpx.AsyncClient, new_patient: NewPatient) -> None:
    # Given a patient
    pat = await new_patient()

    # When LName is sent empty
    response = await api.put(f"/patients/{pat}", json={"LName": " "})

    # Then it is refused and the name stays
    assert response.status_code == 400
    assert json.loads(response.text) == "LName cannot be blank."
    assert (await api.get(f"/patients/{pat}")).json()["LName"] == "Testperson"


async def test_missing_patient_is_404(api: httpx.AsyncClient) -> None:
    # When an unknown PatNum is read and updated
    read = await api.get("/patients/999999")
    update = await api.put("/patients/999999", json={"Preferred": "X"})

    # Then both say the patient is not found
    assert (read.status_code, json.loads(read.text)) == (404, "Patient not found.")
    assert (update.status_code, json.loads(update.text)) == (404, "Patient not found.")


async def test_simple_filters_by_partial_name_birthdate_and_datetstamp(
    api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given three patients
    quill = await new_patient(LName="Quillon", Birthdate="1980-02-03")
    await new_patient(LName="Quillby", Birthdate="1981-02-03")
    await new_patient(LName="Other")

    # When searching by part of the last name in another case, with and without a Birthdate
    by_name = (await api.get("/patients/Simple", params={"LName": "QUILL"})).json()
    by_both = (await api.get("/patients/Simple",
                             params={"LName": "uil", "Birthdate": "1980-02-03"})).json()
    since = (await api.get("/patients/Simple",
                           params={"DateTStamp": "2099-01-01 00:00:00"})).json()

    # Then partial, case-insensitive matches, narrowed by Birthdate; nothing changed since 2099
    assert len(by_name) == 2
    assert [p["PatNum"] for p in by_both] == [quill]
    assert "serverDateTime" in by_both[0] and "Guarantor" in by_both[0]
    assert since == []


async def test_simple_pages_and_caps_the_limit(api: httpx.AsyncClient,
                                               new_patient: NewPatient) -> None:
    # Given seven patients, and a service-mode page maximum of 5 (the test configuration)
    for _ in range(7):
        await new_patient()

    # When paging through with no Limit, a Limit above the cap, and an Offset
    default = (await api.get("/patients/Simple")).json()
    capped = (await api.get("/patients/Simple", params={"Limit": "1000"})).json()
    rest = (await api.get("/patients/Simple", params={"Offset": "5"})).json()
    small = (await api.get("/patients/Simple", params={"Limit": "2", "Offset": "1"})).json()

    # Then pages hold at most the cap, in PatNum order, and Offset continues where they stop
    assert len(default) == len(capped) == 5
    assert len(rest) == 2
    numbers = [p["PatNum"] for p in default + rest]
    assert numbers == sorted(numbers)
    assert [p["PatNum"] for p in small] == numbers[1:3]


async def test_patient_select_search_returns_fewer_fields(
    api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient with a phone
    pat = await new_patient(LName="Vantongeren", WirelessPhone="503.555.0199")

    # When the Patient Select search looks by name start and by phone digits
    by_name = (await api.get("/patients", params={"LName": "vanto"})).json()
    by_phone = (await api.get("/patients", params={"Phone": "5550199"})).json()

    # Then both find it, without the fields the Select window does not show
    assert [p["PatNum"] for p in by_name] == [pat] == [p["PatNum"] for p in by_phone]
    assert "Guarantor" not in by_name[0] and "DateTStamp" not in by_name[0]
    assert by_name[0]["BillingType"] == "Standard Account"
