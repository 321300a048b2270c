"""Fault injection and /admin/faults, over real HTTP on a tiny app with a stand-in auth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from odsim.faults import FaultConfig, FaultController, InjectedFault
from tests.odsim.conftest import Office
from tests.odsim.tiny_app import TinyApp, caller_headers, serve
from tests.writer.support import eventually

KEY_A = caller_headers("key-a", mode="service")
KEY_B = caller_headers("key-b", mode="service")


@asynccontextmanager
async def _faulty_app(config: FaultConfig) -> AsyncIterator[tuple[TinyApp, httpx.AsyncClient]]:
    controller = FaultController(config)
    async with (
        serve([controller.middleware], controller.admin_routes()) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        yield app, client


async def _injected(client: httpx.AsyncClient) -> dict[str, int]:
    injected: dict[str, int] = (await client.get("/admin/faults")).json()["injected"]
    return injected


async def test_rate_500_replies_500_before_the_handler_runs() -> None:
    # Given every request fails with 500
    async with _faulty_app(FaultConfig(rate_500=1.0)) as (app, client):
        # When a patient is posted
        response = await client.post("/api/v1/patients", json={"LName": "A"}, headers=KEY_A)
        injected = await _injected(client)

    # Then it gets a bare-string 500, nothing ran, and the 500 is counted
    assert response.status_code == 500
    assert isinstance(json.loads(response.text), str)
    assert app.handled == []
    assert injected["http_500"] == 1


async def test_rate_504_waits_then_replies_gateway_timeout_without_running_the_handler() -> None:
    # Given every request times out, after a short delay to keep the test fast
    async with _faulty_app(FaultConfig(rate_504=1.0, delay_504_s=0.05)) as (app, client):
        # When a patient is posted
        response = await client.post("/api/v1/patients", json={"LName": "A"}, headers=KEY_A)
        injected = await _injected(client)

    # Then it gets 504 "Gateway Time-out" and nothing was written
    assert response.status_code == 504
    assert json.loads(response.text) == "Gateway Time-out"
    assert app.handled == []
    assert injected["http_504"] == 1


async def test_econnector_window_refuses_every_request_until_it_is_cleared() -> None:
    # Given the eConnector is down for the next minute
    async with _faulty_app(FaultConfig(econnector_down_s=60)) as (app, client):
        # When a read and a write arrive, then the window is cleared and a read arrives
        during = [
            await client.get("/api/v1/patients", headers=KEY_A),
            await client.post("/api/v1/patients", json={"LName": "A"}, headers=KEY_B),
        ]
        view = (await client.get("/admin/faults")).json()
        await client.put("/admin/faults", json={})
        after = await client.get("/api/v1/patients", headers=KEY_A)

    # Then both got a 400 naming the eConnector, and the read after the window is served
    assert [r.status_code for r in during] == [400, 400]
    assert all("eConnector" in json.loads(r.text) for r in during)
    assert view["injected"]["econnector_down"] == 2
    assert view["econnector_down_remaining_s"] > 0
    assert after.status_code == 200
    assert app.handled == ["GET /api/v1/patients"]


async def test_commit_then_drop_runs_the_write_then_closes_without_a_response() -> None:
    # Given every write is dropped after it is committed
    async with _faulty_app(FaultConfig(rate_commit_then_drop=1.0)) as (app, client):
        # When a patient is posted, then a read is sent
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await client.post("/api/v1/patients", json={"LName": "A"}, headers=KEY_A)
        read = await client.get("/api/v1/patients", headers=KEY_A)
        injected = await _injected(client)

    # Then the write ran, the client saw only a disconnect, and the read is not dropped
    assert app.handled == ["POST /api/v1/patients", "GET /api/v1/patients"]
    assert read.status_code == 200
    assert injected["commit_then_drop"] == 1


async def test_latency_is_reflected_in_the_config_and_counters() -> None:
    # Given a small fixed and random added latency
    config = FaultConfig(latency_ms=5, latency_random_ms=5)
    async with _faulty_app(config) as (_, client):
        # When three requests are served
        statuses = [
            (await client.get("/api/v1/patients", headers=KEY_A)).status_code for _ in range(3)
        ]
        view = (await client.get("/admin/faults")).json()

    # Then they succeed and the admin view shows the setting and three delayed requests
    assert statuses == [200, 200, 200]
    assert view["config"]["latency_ms"] == 5
    assert view["config"]["latency_random_ms"] == 5
    assert view["injected"]["latency"] == 3


async def _status_sequence(client: httpx.AsyncClient, config: FaultConfig) -> list[int]:
    await client.put("/admin/faults", json=config.model_dump(mode="json"))
    return [(await client.get("/api/v1/patients", headers=KEY_A)).status_code for _ in range(20)]


async def test_same_seed_gives_the_same_fault_sequence() -> None:
    # Given half the requests fail with 500, under seed 7
    seeded = FaultConfig(seed=7, rate_500=0.5)
    async with _faulty_app(FaultConfig()) as (_, client):
        # When twenty requests run under seed 7, again under seed 7, then under seed 8
        first = await _status_sequence(client, seeded)
        again = await _status_sequence(client, seeded)
        other = await _status_sequence(client, seeded.model_copy(update={"seed": 8}))

    # Then seed 7 repeats its mix of 200s and 500s exactly, and seed 8 gives another
    assert {200, 500} == set(first)
    assert again == first
    assert other != first


async def test_faults_can_be_scoped_to_customer_keys() -> None:
    # Given 500s scoped to key A
    async with _faulty_app(FaultConfig(rate_500=1.0, customer_keys=("key-a",))) as (_, client):
        # When key A and key B each send a request
        a = await client.get("/api/v1/patients", headers=KEY_A)
        b = await client.get("/api/v1/patients", headers=KEY_B)

    # Then only key A's request fails
    assert (a.status_code, b.status_code) == (500, 200)


async def test_faults_can_be_scoped_to_writes() -> None:
    # Given 500s scoped to writes
    async with _faulty_app(FaultConfig(rate_500=1.0, writes_only=True)) as (_, client):
        # When a read and a write arrive
        read = await client.get("/api/v1/patients", headers=KEY_A)
        write = await client.post("/api/v1/patients", json={"LName": "A"}, headers=KEY_A)

    # Then only the write fails
    assert (read.status_code, write.status_code) == (200, 500)


async def test_a_hold_keeps_its_keys_requests_unanswered_until_the_config_changes() -> None:
    # Given key A's requests held
    async with _faulty_app(FaultConfig(hold=True, customer_keys=("key-a",))) as (app, client):
        # When key A posts a patient, and then key B reads
        held = asyncio.ensure_future(
            client.post("/api/v1/patients", json={"LName": "A"}, headers=KEY_A)
        )

        async def arrived() -> bool:
            return (await _injected(client))["hold"] == 1

        await eventually(arrived, "key A's request held")
        other = await client.get("/api/v1/patients", headers=KEY_B)
        # Then key B is answered while key A's request waits, its handler not run
        assert other.status_code == 200
        assert not held.done() and app.handled == ["GET /api/v1/patients"]
        # When the hold is lifted (through the admin endpoint, as a run would)
        await client.put("/admin/faults", json=FaultConfig().model_dump(mode="json"))
        # Then key A's request goes on to its handler and is answered
        assert (await held).status_code == 201
    assert app.handled == ["GET /api/v1/patients", "POST /api/v1/patients"]


async def test_admin_endpoint_reads_and_replaces_the_config() -> None:
    # Given a controller with no faults
    async with _faulty_app(FaultConfig()) as (_, client):
        # When an invalid config, then a valid one, is put, and the config is read back
        invalid = await client.put("/admin/faults", json={"rate_500": 2})
        after_invalid = (await client.get("/admin/faults")).json()
        valid = await client.put("/admin/faults", json={"rate_504": 0.25, "delay_504_s": 3})
        after_valid = (await client.get("/admin/faults")).json()

    # Then the invalid one is refused and changes nothing; the valid one replaces the config
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["loc"] == ["rate_500"]
    assert after_invalid["config"] == FaultConfig().model_dump(mode="json")
    assert valid.status_code == 200
    assert after_valid["config"]["rate_504"] == 0.25
    assert after_valid["config"]["delay_504_s"] == 3
    assert after_valid["config"]["rate_500"] == 0


async def test_admin_requests_are_never_faulted() -> None:
    # Given every request fails with 500
    async with _faulty_app(FaultConfig(rate_500=1.0)) as (_, client):
        # When the admin endpoint is read
        response = await client.get("/admin/faults")

    # Then it answers: /admin carries no Open Dental caller, so it is out of scope
    assert response.status_code == 200


# Through the real simulator: the faults sit between Open Dental's auth and its handlers.


def _admin_url(office: Office) -> str:
    return office.sim.base_url.removesuffix("/api/v1") + "/admin/faults"


async def _patients_and_logs(office: Office) -> tuple[int, int]:
    patients = await office.row("SELECT COUNT(*) AS n FROM patient")
    logs = await office.row("SELECT COUNT(*) AS n FROM securitylog")
    return patients["n"], logs["n"]


async def test_commit_then_drop_on_the_simulator_commits_the_patient_and_its_log(
    office: Office, api: httpx.AsyncClient
) -> None:
    # Given the simulator drops every write after committing it
    office.sim.set_faults(FaultConfig(rate_commit_then_drop=1.0))

    # When a patient is posted
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await api.post("/patients", json={"LName": "Dropsworth", "FName": "Ada"})

    # Then the client saw only a disconnect, yet the patient and its API securitylog are stored
    patient = await office.row("SELECT PatNum FROM patient WHERE LName = %s", "Dropsworth")
    log = await office.row("SELECT * FROM securitylog WHERE PatNum = %s", patient["PatNum"])
    assert (log["LogSource"], log["PermType"], log["FKey"]) == (23, 106, patient["PatNum"])
    assert office.sim.faults.injected[InjectedFault.COMMIT_THEN_DROP] == 1


async def test_504_on_the_simulator_writes_nothing(office: Office, api: httpx.AsyncClient) -> None:
    # Given the simulator times out every request after a short delay
    office.sim.set_faults(FaultConfig(rate_504=1.0, delay_504_s=0.05))
    before = await _patients_and_logs(office)

    # When a patient is posted
    response = await api.post("/patients", json={"LName": "Timeout", "FName": "Tom"})

    # Then it gets 504 "Gateway Time-out" and neither a patient nor a securitylog was written
    assert response.status_code == 504
    assert json.loads(response.text) == "Gateway Time-out"
    assert await _patients_and_logs(office) == before


async def test_admin_endpoint_sets_faults_on_a_running_simulator(
    office: Office, api: httpx.AsyncClient
) -> None:
    # Given a running simulator without faults
    async with httpx.AsyncClient() as admin:
        # When an eConnector outage scoped to the office's key is put on /admin/faults
        customer_key = office.sim.config.customers[0].key
        put = await admin.put(
            _admin_url(office), json={"econnector_down_s": 60, "customer_keys": [customer_key]}
        )
        response = await api.post("/patients", json={"LName": "Outage", "FName": "Olga"})
        view = (await admin.get(_admin_url(office))).json()

    # Then the write gets the eConnector's 400, nothing is written, and the admin view counts it
    assert put.status_code == 200
    assert response.status_code == 400
    assert "eConnector" in json.loads(response.text)
    assert await office.rows("SELECT PatNum FROM patient WHERE LName = %s", "Outage") == []
    assert view["config"]["customer_keys"] == [customer_key]
    assert view["injected"]["econnector_down"] == 1
