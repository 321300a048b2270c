"""The client's patient methods against the simulator over real HTTP."""

from __future__ import annotations

import uuid

import pytest

from hub.errors import PermanentError
from hub.opendental import ApiCall
from odsim.server import SimHandle
from tests.opendental.conftest import Harness, MakeHarness, office_api


def unique_name() -> str:
    return f"Test{uuid.uuid4().hex[:8]}"


async def test_create_patient_returns_its_patnum_and_reports_the_call(od: Harness) -> None:
    # Given a new patient's wire fields
    last_name = unique_name()
    # When the patient is created
    created = await od.client.create_patient({"LName": last_name, "FName": "Ana"})
    # Then Open Dental's PatNum comes back (cross-checked with the Location header) with the object
    assert created.table == "patient"
    assert created.status == 201
    assert created.primary_key > 0
    assert created.body["PatNum"] == created.primary_key
    assert created.body["LName"] == last_name
    # And the patient can be read back under that PatNum
    fetched = await od.client.get_patient(created.primary_key)
    assert fetched["LName"] == last_name
    # And each attempt was reported once, the create with the new row's key
    post, get = od.calls
    assert (post.method, post.path, post.status, post.od_primary_key, post.message) == (
        "POST", "/patients", 201, created.primary_key, None,
    )
    assert (get.method, get.path, get.status) == ("GET", f"/patients/{created.primary_key}", 200)
    assert post.latency_s >= 0 and post.paced_s == 0.0


async def test_update_patient_changes_the_row(od: Harness) -> None:
    # Given an existing patient
    created = await od.client.create_patient({"LName": unique_name(), "FName": "Ben"})
    # When one field is updated (Open Dental's PUT is sparse)
    updated = await od.client.update_patient(created.primary_key, {"FName": "Benjamin"})
    # Then the reply is the changed row, reported with its key
    assert (updated.table, updated.primary_key, updated.status) == (
        "patient", created.primary_key, 200,
    )
    assert updated.body["FName"] == "Benjamin"
    assert updated.body["LName"] == created.body["LName"]
    assert od.calls[-1].method == "PUT"
    assert od.calls[-1].od_primary_key == created.primary_key


async def test_list_patients_simple_pages_until_a_short_page(
    simulator: SimHandle, make_harness: MakeHarness
) -> None:
    # Given five patients sharing a last name, and a client asking for two rows a page
    od = make_harness(office_api(simulator.base_url, page_rows=2))
    last_name = unique_name()
    pat_nums = [
        (await od.client.create_patient({"LName": last_name, "FName": f"F{n}"})).primary_key
        for n in range(5)
    ]
    od.calls.clear()
    # When the list is read
    rows = await od.client.list_patients_simple(LName=last_name)
    # Then every patient comes back once, over three pages (2 + 2 + 1)
    assert [row["PatNum"] for row in rows] == pat_nums  # the simulator orders by PatNum
    assert [(call.method, call.path, call.status) for call in od.calls] == [
        ("GET", "/patients/Simple", 200)
    ] * 3


async def test_a_full_last_page_is_followed_by_an_empty_one(
    simulator: SimHandle, make_harness: MakeHarness
) -> None:
    # Given exactly two matching patients and two rows a page
    od = make_harness(office_api(simulator.base_url, page_rows=2))
    last_name = unique_name()
    for first_name in ("A", "B"):
        await od.client.create_patient({"LName": last_name, "FName": first_name})
    od.calls.clear()
    # When the list is read
    rows = await od.client.list_patients_simple(LName=last_name)
    # Then both come back, and the client asked once more to learn the list had ended
    assert len(rows) == 2
    assert len(od.calls) == 2


async def test_the_filter_values_never_reach_the_report(od: Harness) -> None:
    # Given a filter holding a patient's name
    last_name = unique_name()
    # When patients are listed by it
    await od.client.list_patients_simple(LName=last_name)
    # Then the reported path has no query string, so the name is nowhere in the report
    (call,) = od.calls
    assert call.path == "/patients/Simple"
    assert last_name not in repr(call)


async def test_a_validation_400_is_permanent_with_open_dentals_message(od: Harness) -> None:
    # Given a patient without the required LName
    first_name = unique_name()
    # When it is created
    with pytest.raises(PermanentError) as caught:
        await od.client.create_patient({"FName": first_name})
    # Then the error keeps Open Dental's (unquoted) message and the status, not the body
    assert caught.value.status == 400
    assert str(caught.value) == "LName is required."
    # And the attempt is reported with the same message
    assert od.calls == [
        ApiCall(
            method="POST", path="/patients", status=400, latency_s=od.calls[0].latency_s,
            od_primary_key=None, message="LName is required.", paced_s=0.0,
        )
    ]
    assert first_name not in repr(od.calls)


@pytest.mark.parametrize("operation", ["get", "update"])
async def test_a_missing_patient_is_permanent_404(od: Harness, operation: str) -> None:
    # Given a PatNum that does not exist
    missing = 987_654
    # When it is read or updated
    with pytest.raises(PermanentError) as caught:
        if operation == "get":
            await od.client.get_patient(missing)
        else:
            await od.client.update_patient(missing, {"FName": "X"})
    # Then it is a permanent 404 with Open Dental's message
    assert caught.value.status == 404
    assert str(caught.value) == "Patient not found."
    assert od.calls[-1].status == 404
