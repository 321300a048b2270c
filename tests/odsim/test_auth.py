"""ODFHIR authentication and the API permission groups: 401 with a bare string otherwise."""

from __future__ import annotations

import json

import httpx
import pytest

from odsim.config import Permission
from tests.odsim.conftest import (
    DEV_KEY,
    DISABLED_KEY,
    FULL_KEY,
    READ_ONLY_KEY,
    NewPatient,
    Office,
    auth,
    key_without,
)

PATIENT = {"LName": "Keytest", "FName": "Robin"}


async def _post_patient(office: Office, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=office.sim.base_url) as client:
        return await client.post("/patients", json=PATIENT, headers=headers)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authorization header is required."),
        ({"Authorization": f"Basic {DEV_KEY}:{FULL_KEY}"}, "Authorization header is invalid."),
        ({"Authorization": f"ODFHIR {DEV_KEY}{FULL_KEY}"}, "Authorization header is invalid."),
        (auth(FULL_KEY, developer_key="NoSuchDevKey0000"), "Developer key is invalid."),
        (auth("NoSuchCustomerKy"), "Customer key is invalid."),
        (auth(DISABLED_KEY), "Customer key is disabled."),
    ],
)
async def test_bad_credentials_get_401_and_write_nothing(
    office: Office, headers: dict[str, str], message: str
) -> None:
    # Given a simulator
    # When a patient is posted with missing, malformed, unknown or disabled keys
    response = await _post_patient(office, headers)

    # Then it is refused with 401 and a bare string, and no patient exists
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.text).startswith(message)
    assert await office.rows("SELECT PatNum FROM patient") == []


CALLS = [
    (Permission.PATIENTS, "POST", "/patients", PATIENT),
    (Permission.PATIENTS, "PUT", "/patients/{pat}", {"Preferred": "Bo"}),
    (Permission.APPOINTMENTS, "POST", "/appointments",
     {"PatNum": "{pat}", "Op": 1, "AptDateTime": "2030-01-07 09:00:00"}),
    (Permission.APPOINTMENTS, "PUT", "/appointments/{apt}", {"Note": "x"}),
    (Permission.COMM, "PUT", "/appointments/{apt}/Confirm", {"confirmVal": "Sent"}),
    (Permission.COMM, "PUT", "/appointments/{apt}/Break", {"sendToUnscheduledList": "true"}),
    (Permission.COMM, "POST", "/commlogs", {"PatNum": "{pat}", "Note": "Called"}),
    (Permission.PAYMENTS, "POST", "/payments", {"PatNum": "{pat}", "PayAmt": 10}),
    (Permission.READ_ALL, "GET", "/patients/{pat}", None),
    (Permission.READ_ALL, "GET", "/appointments", None),
    (Permission.READ_ALL, "GET", "/securitylogs", None),
]


def _fill(value: object, ids: dict[str, int]) -> object:
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if filled.isdigit() and value.startswith("{") else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("permission", "method", "path", "body"), CALLS)
async def test_each_method_needs_its_permission_group(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    permission: Permission, method: str, path: str, body: dict[str, object] | None,
) -> None:
    # Given a patient with an appointment, and a key holding every group but one
    pat = await new_patient()
    apt = (await api.post("/appointments", json={
        "PatNum": pat, "Op": 1, "AptDateTime": "2030-01-07 08:00:00"})).json()["AptNum"]
    ids = {"pat": pat, "apt": apt}
    url = str(_fill(path, ids))
    payload = _fill(body, ids)
    logs_before = len(await office.rows("SELECT SecurityLogNum FROM securitylog"))

    # When that key calls the method needing the missing group
    async with office.client(key_without(permission)) as denied:
        refused = await denied.request(method, url, json=payload)
    # And the full key calls it
    allowed = await api.request(method, url, json=payload)

    # Then the first gets 401 naming the group and changes nothing; the second succeeds
    assert refused.status_code == 401
    assert json.loads(refused.text) == (
        f"This customer key does not have permission for {permission.value}."
    )
    assert allowed.status_code in (200, 201), allowed.text
    if method != "GET":
        assert len(await office.rows("SELECT SecurityLogNum FROM securitylog")) == logs_before + 1


async def test_read_all_key_reads_but_cannot_write(office: Office, new_patient: NewPatient) -> None:
    # Given a patient and a ReadAll-only key
    pat = await new_patient()
    async with office.client(READ_ONLY_KEY) as reader:
        # When it reads the patient and then tries to change it
        read = await reader.get(f"/patients/{pat}")
        write = await reader.put(f"/patients/{pat}", json={"Preferred": "Sam"})

    # Then the read succeeds and the write gets 401
    assert read.status_code == 200
    assert write.status_code == 401
    assert (await office.row("SELECT Preferred FROM patient"))["Preferred"] == ""


async def test_customer_key_bound_to_another_developer_is_refused(office: Office) -> None:
    # Given a customer key assigned to the other developer
    # When the default developer presents it
    response = await _post_patient(office, auth("OtherDevCustKey1", developer_key=DEV_KEY))

    # Then the pair is not valid
    assert response.status_code == 401
    assert json.loads(response.text) == "Customer key is invalid."
