"""The read-only resources, paging per mode, and Open Dental's replies to unknown paths."""

from __future__ import annotations

import json
import re

import httpx

from tests.odsim.conftest import OTHER_DEV, OTHER_DEV_KEY, REMOTE_KEY, NewPatient, Office

US_DATETIME = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$")


async def test_securitylogs_are_only_the_calling_developers(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient created and edited by one developer, and another created by a second
    pat = await new_patient()
    await api.put(f"/patients/{pat}", json={"Preferred": "Al"})
    async with office.client(OTHER_DEV_KEY, OTHER_DEV.key) as other:
        await other.post("/patients", json={"LName": "Otherperson", "FName": "Bea"})

        # When each developer lists its securitylogs, and the first filters by PermType
        mine = (await api.get("/securitylogs")).json()
        theirs = (await other.get("/securitylogs")).json()
    edits = (await api.get("/securitylogs", params={"PermType": "PatientEdit"})).json()

    # Then each sees its own rows only, newest first, with names and a US date-time
    assert [log["PermType"] for log in mine] == ["PatientEdit", "PatientCreate"]
    assert [log["LogText"] for log in theirs] == ["Patient created by Other Vendor through API."]
    assert [log["PermType"] for log in edits] == ["PatientEdit"]
    assert mine[0]["LogSource"] == "API" and US_DATETIME.match(mine[0]["LogDateTime"])


async def test_definitions_filter_only_by_numeric_category(api: httpx.AsyncClient) -> None:
    # When definitions are read by Category=10, and with the ignored spellings
    payment_types = (await api.get("/definitions", params={"Category": "10"})).json()
    lower = (await api.get("/definitions", params={"category": "10", "Limit": "5"})).json()
    named = (await api.get("/definitions", params={"Category": "PaymentTypes",
                                                   "Limit": "5"})).json()

    # Then the numeric one filters; the others are silently ignored (an unfiltered first page)
    assert [d["ItemName"] for d in payment_types] == ["Cash", "Check", "Credit Card"]
    assert payment_types[0]["Category"] == 10 and payment_types[0]["category"] == "PaymentTypes"
    assert lower == named
    assert {d["Category"] for d in lower} != {10}


async def test_operatories_and_providers(api: httpx.AsyncClient) -> None:
    # When the office's operatories and providers are read
    operatories = (await api.get("/operatories")).json()
    providers = (await api.get("/providers")).json()
    none_since = (await api.get("/providers", params={"DateTStamp": "2099-01-01 00:00:00"})).json()
    single = await api.get(f"/operatories/{operatories[0]['OperatoryNum']}")

    # Then three operatories and a dentist and a hygienist, booleans as strings
    assert len(operatories) == 3 and operatories[2]["IsHygiene"] == "true"
    assert single.status_code == 200
    assert [p["IsSecondary"] for p in providers] == ["false", "true"]
    assert all("serverDateTime" in p for p in providers)
    assert none_since == []


async def test_remote_mode_caps_pages_lower_than_service_mode(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given six patients, and page maxima of 3 (remote) and 5 (service) in the test config
    for _ in range(6):
        await new_patient()

    # When a remote-mode key and a service-mode key ask for 100 rows
    async with office.client(REMOTE_KEY) as remote:
        remote_page = (await remote.get("/patients/Simple", params={"Limit": "100"})).json()
    service_page = (await api.get("/patients/Simple", params={"Limit": "100"})).json()

    # Then each gets its mode's maximum
    assert (len(remote_page), len(service_page)) == (3, 5)


async def test_unknown_resource_and_method(api: httpx.AsyncClient) -> None:
    # When an unknown resource, a singular name and an unsupported verb are called
    unknown = await api.get("/notaresource")
    singular = await api.get("/patient/1")
    verb = await api.delete("/patients/1")
    bad_offset = await api.get("/patients/Simple", params={"Offset": "-1"})

    # Then 404 "... is not a valid resource." or 400 "... is not a valid method."
    assert (unknown.status_code, json.loads(unknown.text)) == (
        404, "notaresource is not a valid resource.")
    assert (singular.status_code, json.loads(singular.text)) == (
        404, "patient is not a valid resource.")
    assert (verb.status_code, json.loads(verb.text)) == (
        400, "patients DELETE is not a valid method.")
    assert (bad_offset.status_code, json.loads(bad_offset.text)) == (400, "Offset is invalid.")
