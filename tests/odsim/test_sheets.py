"""Sheets POST, SheetFields GET and PUT: Open Dental's rules, messages and table encodings."""

from __future__ import annotations

import httpx

from odsim.config import Permission
from odsim.db import DbParams, connect
from odsim.handlers.sheets import CHECKBOX_MESSAGE, FIELD_TYPE_MESSAGE, SHEET_TYPE_MESSAGE
from odsim.sheet_defs import REGISTRATION_FIELDS, REGISTRATION_FORM
from tests.odsim.conftest import NewPatient, Office, key_without


async def _insert_def(office: Office, description: str, sheet_type: int) -> int:
    conn = await connect(DbParams(), office.database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("INSERT INTO sheetdef (Description, SheetType) VALUES (%s, %s)",
                              (description, sheet_type))
            await conn.commit()
            return int(cur.lastrowid)
    finally:
        conn.close()


async def _fields(api: httpx.AsyncClient, num: int) -> list[dict[str, object]]:
    """Every field of the sheet, page by page (the test office's pages are short)."""
    fields: list[dict[str, object]] = []
    while True:
        page = (await api.get("/sheetfields",
                              params={"SheetNum": num, "Offset": len(fields)})).json()
        fields += page
        if not page:
            return fields


async def _form(office: Office) -> int:
    row = await office.row("SELECT SheetDefNum FROM sheetdef WHERE Description = %s",
                           REGISTRATION_FORM)
    return int(row["SheetDefNum"])


async def test_a_sheet_is_made_with_every_field_of_its_definition_and_no_value(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient and the office's registration form
    pat = await new_patient()
    form = await _form(office)

    # When a sheet is made from it
    response = await api.post("/sheets", json={"SheetDefNum": form, "PatNum": pat})

    # Then 201 with a Location, a PatientForm for the patient
    assert response.status_code == 201, response.text
    body = response.json()
    num = body["SheetNum"]
    assert response.headers["Location"] == f"{office.sim.base_url}/sheets/{num}"
    assert (body["SheetType"], body["PatNum"], body["SheetDefNum"]) == ("PatientForm", pat, form)
    # And every field of the definition, copied with its default value, lists by SheetNum
    fields = await _fields(api, num)
    assert [(f["FieldType"], f["FieldName"], f["FieldValue"]) for f in fields] == list(
        REGISTRATION_FIELDS)
    assert {f["SheetNum"] for f in fields} == {num}
    # And Open Dental's audit trail has the API's SheetEdit entry
    log = await office.row("SELECT * FROM securitylog WHERE PermType = 42 AND FKey = %s", num)
    assert (log["PatNum"], log["LogSource"]) == (pat, 23)


async def test_a_field_put_sets_its_value_and_only_its_own(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a new sheet
    pat = await new_patient()
    num = (await api.post("/sheets", json={"SheetDefNum": await _form(office),
                                           "PatNum": pat})).json()["SheetNum"]
    fields = {f["FieldName"]: f for f in await _fields(api, num)}

    # When an input field and a checkbox are set
    name = await api.put(f"/sheetfields/{fields['preferredName']['SheetFieldNum']}",
                         json={"FieldValue": "Annie"})
    box = await api.put(f"/sheetfields/{fields['consentToText']['SheetFieldNum']}",
                        json={"FieldValue": "X"})

    # Then both answer 200 with the field, and the table holds exactly those values
    assert (name.status_code, name.json()["FieldValue"]) == (200, "Annie")
    assert (box.status_code, box.json()["FieldValue"]) == (200, "X")
    rows = await office.rows(
        "SELECT FieldName, FieldValue FROM sheetfield WHERE SheetNum = %s AND FieldValue <> ''"
        " AND FieldType <> 2", num)
    assert {r["FieldName"]: r["FieldValue"] for r in rows} == {
        "preferredName": "Annie", "consentToText": "X"}


async def test_sheets_post_refuses_what_open_dental_refuses(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient, the form, and a definition of a type Sheets POST does not make
    pat = await new_patient()
    form = await _form(office)
    rx = await _insert_def(office, "Rx", 5)

    # When each is posted wrong
    missing_def = await api.post("/sheets", json={"PatNum": pat})
    missing_pat = await api.post("/sheets", json={"SheetDefNum": form})
    unknown_def = await api.post("/sheets", json={"SheetDefNum": 999999, "PatNum": pat})
    wrong_type = await api.post("/sheets", json={"SheetDefNum": rx, "PatNum": pat})
    unknown_pat = await api.post("/sheets", json={"SheetDefNum": form, "PatNum": 999999})

    # Then each gets Open Dental's 400 or 404 naming the field or rule, and no sheet exists
    assert (missing_def.status_code, missing_def.json()) == (400, "SheetDefNum is required.")
    assert (missing_pat.status_code, missing_pat.json()) == (400, "PatNum is required.")
    assert (unknown_def.status_code, unknown_def.json()) == (400, "SheetDefNum is invalid.")
    assert (wrong_type.status_code, wrong_type.json()) == (400, SHEET_TYPE_MESSAGE)
    assert unknown_pat.status_code in (400, 404)
    assert (await office.row("SELECT COUNT(*) AS n FROM sheet"))["n"] == 0


async def test_sheetfields_put_refuses_what_open_dental_refuses(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a new sheet's fields
    pat = await new_patient()
    num = (await api.post("/sheets", json={"SheetDefNum": await _form(office),
                                           "PatNum": pat})).json()["SheetNum"]
    fields = {f["FieldName"]: f["SheetFieldNum"] for f in await _fields(api, num)}

    # When a static text, a signature box, a checkbox with a word, a missing value and an
    # unknown field are put
    static = await api.put(f"/sheetfields/{fields['title']}", json={"FieldValue": "x"})
    sig = await api.put(f"/sheetfields/{fields['patientSignature']}", json={"FieldValue": "x"})
    box = await api.put(f"/sheetfields/{fields['consentToEmail']}", json={"FieldValue": "yes"})
    missing = await api.put(f"/sheetfields/{fields['employer']}", json={})
    unknown = await api.put("/sheetfields/999999", json={"FieldValue": "x"})
    no_sheet = await api.get("/sheetfields", params={"SheetNum": 999999})
    no_filter = await api.get("/sheetfields")

    # Then Open Dental's refusals, and no value changed
    assert (static.status_code, static.json()) == (400, FIELD_TYPE_MESSAGE)
    assert (sig.status_code, sig.json()) == (400, FIELD_TYPE_MESSAGE)
    assert (box.status_code, box.json()) == (400, CHECKBOX_MESSAGE)
    assert (missing.status_code, missing.json()) == (400, "FieldValue is required.")
    assert (unknown.status_code, unknown.json()) == (404, "SheetField not found.")
    assert (no_sheet.status_code, no_sheet.json()) == (404, "Sheet not found.")
    assert (no_filter.status_code, no_filter.json()) == (400, "SheetNum is required.")
    changed = await office.rows(
        "SELECT 1 FROM sheetfield WHERE SheetNum = %s AND FieldType <> 2 AND FieldValue <> ''",
        num)
    assert changed == []


async def test_sheet_writes_need_the_all_others_group(office: Office) -> None:
    # Given a key without the AllOthers group
    async with office.client(key_without(Permission.ALL_OTHERS)) as client:
        # When it makes a sheet and sets a field
        post = await client.post("/sheets", json={"SheetDefNum": 1, "PatNum": 1})
        put = await client.put("/sheetfields/1", json={"FieldValue": "x"})

    # Then 401 names the group, for both
    assert post.status_code == put.status_code == 401
    assert "AllOthers" in post.json() and "AllOthers" in put.json()
