"""Documents POST Upload and GET: Open Dental's rules, messages and table encodings."""

from __future__ import annotations

import base64
import os
from datetime import datetime

import httpx
import pytest

from odsim.config import Permission
from tests.odsim.conftest import NewPatient, Office, key_without

PDF = base64.b64encode(b"%PDF-1.4 a small signed form").decode()


async def test_an_upload_files_the_document_with_open_dentals_defaults_and_audit(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient
    pat = await new_patient(LName="O'Neil-Smith", FName="Ann Marie")

    # When a file is uploaded with only the required fields
    response = await api.post(
        "/documents/Upload", json={"PatNum": pat, "rawBase64": PDF, "extension": ".pdf"}
    )

    # Then 201 with a Location; type Document, the first image category, created now
    assert response.status_code == 201, response.text
    body = response.json()
    num = body["DocNum"]
    assert response.headers["Location"] == f"{office.sim.base_url}/documents/{num}"
    assert (body["ImgType"], body["docCategory"], body["PatNum"]) == (
        "Document", "Patient Forms", pat)
    # And the row is named as Open Dental names an imported file: name letters, DocNum, extension
    row = await office.row("SELECT * FROM document WHERE DocNum = %s", num)
    assert row["FileName"] == f"ONeilSmithAnnMarie{num}.pdf"
    assert (row["ImgType"], row["RawBase64"]) == (0, "")
    assert abs((row["DateCreated"] - datetime.now()).total_seconds()) < 60
    # And Open Dental's audit trail has the API's ImageCreate entry for it
    log = await office.row("SELECT * FROM securitylog WHERE PermType = 202")
    assert (log["FKey"], log["PatNum"], log["LogSource"]) == (num, pat, 23)
    assert log["LogText"] == "Document created by OD Integration Hub through API."
    # And it reads back by its key and in the patient's list
    assert (await api.get(f"/documents/{num}")).json()["FileName"] == row["FileName"]
    listed = (await api.get("/documents", params={"PatNum": pat})).json()
    assert [d["DocNum"] for d in listed] == [num]


async def test_the_optional_fields_land_in_their_columns(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient and the office's Photos image category
    pat = await new_patient()
    photos = (await office.row(
        "SELECT DefNum FROM definition WHERE Category = 18 AND ItemName = 'Photos'"))["DefNum"]

    # When a photo is uploaded with a description, a category, a type and a creation time
    response = await api.post("/documents/Upload", json={
        "PatNum": pat, "rawBase64": PDF, "extension": "jpg", "Description": "Smile",
        "DocCategory": photos, "ImgType": "Photo", "DateCreated": "2030-01-02 03:04:05",
    })

    # Then each is stored in Open Dental's encoding (ImgType 2), and a missing dot is added
    assert response.status_code == 201, response.text
    row = await office.row("SELECT * FROM document")
    assert (row["Description"], row["DocCategory"], row["ImgType"], row["DateCreated"]) == (
        "Smile", photos, 2, datetime(2030, 1, 2, 3, 4, 5))
    assert row["FileName"].endswith(f"{row['DocNum']}.jpg")


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"rawBase64": PDF, "extension": ".pdf"}, 400, "PatNum is required."),
        ({"PatNum": "{pat}", "extension": ".pdf"}, 400, "rawBase64 is required."),
        ({"PatNum": "{pat}", "rawBase64": PDF}, 400, "extension is required."),
        ({"PatNum": "{pat}", "rawBase64": "not base64!", "extension": ".pdf"}, 400,
         "rawBase64 is invalid."),
        ({"PatNum": "{pat}", "rawBase64": PDF, "extension": ".pdf", "DateCreated": "2030-01-02"},
         400, "DateCreated format must be yyyy-MM-dd HH:mm:ss."),
        ({"PatNum": "{pat}", "rawBase64": PDF, "extension": ".pdf", "DocCategory": 1}, 400,
         "DocCategory is invalid."),
        ({"PatNum": "{pat}", "rawBase64": PDF, "extension": ".pdf", "ImgType": "Xray"}, 400,
         "ImgType is invalid. Must be one of: Document, Radiograph, Photo, File, Attachment."),
        ({"PatNum": 999999, "rawBase64": PDF, "extension": ".pdf"}, 404, "Patient not found."),
    ],
    ids=["no-patnum", "no-file", "no-extension", "not-base64", "bare-date", "not-an-image-category",
         "unknown-imgtype", "no-such-patient"],
)
async def test_an_upload_open_dental_refuses_is_a_bare_message_and_files_nothing(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    fields: dict[str, object], status: int, message: str,
) -> None:
    # Given a patient
    pat = await new_patient()
    body = {k: pat if v == "{pat}" else v for k, v in fields.items()}

    # When an upload breaks one of Open Dental's rules
    response = await api.post("/documents/Upload", json=body)

    # Then it is refused with Open Dental's message, and no document is filed
    assert (response.status_code, response.json()) == (status, message)
    assert await office.rows("SELECT DocNum FROM document") == []


async def test_an_upload_needs_the_documents_permission(office: Office) -> None:
    # Given a key holding every permission group but Documents
    async with office.client(key_without(Permission.DOCUMENTS)) as client:
        # When it uploads
        response = await client.post(
            "/documents/Upload", json={"PatNum": 1, "rawBase64": PDF, "extension": ".pdf"}
        )

    # Then 401 names the group
    assert response.status_code == 401
    assert "Documents" in response.json()


async def test_a_body_of_open_dentals_largest_size_is_taken(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient and a file whose base64 is nearly 16.8 million characters
    pat = await new_patient()
    raw = base64.b64encode(os.urandom(12_500_000)).decode()

    # When it is uploaded
    response = await api.post(
        "/documents/Upload", json={"PatNum": pat, "rawBase64": raw, "extension": ".pdf"}
    )

    # Then Open Dental's body limit, not aiohttp's default of 1 MiB, is the one that applies
    assert response.status_code == 201, response.text
