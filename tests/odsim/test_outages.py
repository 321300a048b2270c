"""Per-office outages set at run time through /admin/outages, over real HTTP on the simulator:
while one is set, every request with that customer key answers as Open Dental does when the
office cannot be served, and the other keys are served as before."""

from __future__ import annotations

import json

import httpx

from odsim.auth import KEY_DISABLED_MESSAGE
from odsim.faults import ECONNECTOR_DOWN_MESSAGE
from tests.odsim.conftest import FULL_KEY, REMOTE_KEY, Office

PATIENT = {"LName": "Outageperson", "FName": "Alex"}


def _admin(office: Office) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=office.sim.base_url.removesuffix("/api/v1"))


async def _set(office: Office, key: str, kind: str | None) -> httpx.Response:
    async with _admin(office) as admin:
        return await admin.put("/admin/outages", json={"customer_key": key, "kind": kind})


async def _calls(office: Office, key: str) -> list[httpx.Response]:
    async with office.client(key) as api:
        return [await api.get("/patients"), await api.post("/patients", json=PATIENT)]


async def _patients(office: Office) -> int:
    row = await office.row("SELECT COUNT(*) AS n FROM patient WHERE LName = %s", PATIENT["LName"])
    return int(row["n"])


async def test_an_econnector_outage_refuses_every_request_of_its_key_only(office: Office) -> None:
    # Given the first office's eConnector is down
    set_reply = await _set(office, FULL_KEY, "econnector_down")
    # When a read and a write arrive with its key, and a write with another key
    down = await _calls(office, FULL_KEY)
    async with office.client(REMOTE_KEY) as other:
        served = await other.post("/patients", json=PATIENT)
    # Then both of its requests get Open Dental's eConnector 400, and the other key is served
    assert set_reply.status_code == 200
    assert [r.status_code for r in down] == [400, 400]
    assert {json.loads(r.text) for r in down} == {ECONNECTOR_DOWN_MESSAGE}
    assert served.status_code == 201
    # And only the other key's patient was written
    assert await _patients(office) == 1


async def test_an_unauthorized_outage_answers_401_until_it_is_cleared(office: Office) -> None:
    # Given the office's key is refused
    await _set(office, FULL_KEY, "unauthorized")
    # When it calls, then the outage is cleared and it calls again
    during = await _calls(office, FULL_KEY)
    cleared = await _set(office, FULL_KEY, None)
    after = await _calls(office, FULL_KEY)
    # Then it got the disabled key's 401 while refused, and is served once cleared
    assert [r.status_code for r in during] == [401, 401]
    assert {json.loads(r.text) for r in during} == {KEY_DISABLED_MESSAGE}
    assert [r.status_code for r in after] == [200, 201]
    # And the admin view shows no outage left, and the two requests it refused
    assert cleared.json() == {"outages": {}, "refused": {FULL_KEY: 2}}


async def test_outages_are_independent_of_the_global_faults(office: Office) -> None:
    # Given one key down and the other refused
    await _set(office, FULL_KEY, "econnector_down")
    await _set(office, REMOTE_KEY, "unauthorized")
    # When the global fault config is set anew (which restarts the faults and their counts)
    async with _admin(office) as admin:
        await admin.put("/admin/faults", json={})
        faults = (await admin.get("/admin/faults")).json()
        await _calls(office, FULL_KEY)
        view = (await admin.get("/admin/outages")).json()
    # Then both outages still hold, and the faults counted none of their replies
    assert view["outages"] == {FULL_KEY: "econnector_down", REMOTE_KEY: "unauthorized"}
    assert view["refused"] == {FULL_KEY: 2}
    assert set(faults["injected"].values()) == {0}


async def test_an_unknown_key_or_kind_is_refused_by_the_admin_route(office: Office) -> None:
    # Given the simulator
    # When an outage is asked for a key it does not know, and for a kind it does not know
    unknown_key = await _set(office, "NoSuchKey", "econnector_down")
    unknown_kind = await _set(office, FULL_KEY, "flood")
    # Then the first is 404 and the second 400, and no outage was set
    assert (unknown_key.status_code, unknown_kind.status_code) == (404, 400)
    async with _admin(office) as admin:
        assert (await admin.get("/admin/outages")).json()["outages"] == {}
