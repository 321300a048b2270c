"""Failures from the simulator, and from the network, each reach the writer as one hub error."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from hub.errors import AuthError, ThrottledError, TransientError
from hub.opendental import HttpClient, HttpTimeouts
from hub.settings import ApiMode
from odsim.faults import ECONNECTOR_DOWN_MESSAGE, FaultConfig
from odsim.server import SimHandle
from tests.opendental.conftest import (
    READ_ONLY_KEY,
    REMOTE_KEY,
    Harness,
    MakeHarness,
    RecordingPacer,
    office_api,
)


def new_patient() -> dict[str, str]:
    return {"LName": f"Test{uuid.uuid4().hex[:8]}", "FName": "Fay"}


async def test_an_unknown_developer_key_is_an_auth_error(
    simulator: SimHandle, make_harness: MakeHarness
) -> None:
    # Given a client whose developer key the office does not know
    od = make_harness(office_api(simulator.base_url, developer_key="NotARealDevKey00"))
    # When it reads
    with pytest.raises(AuthError) as caught:
        await od.client.list_patients_simple()
    # Then it is an AuthError (the lane pauses) with the 401 and Open Dental's message
    assert caught.value.status == 401
    assert str(caught.value) == "Developer key is invalid."
    assert od.calls[0].status == 401
    assert od.calls[0].message == "Developer key is invalid."


async def test_a_key_without_the_permission_is_an_auth_error(
    simulator: SimHandle, make_harness: MakeHarness
) -> None:
    # Given a key holding ReadAll only
    od = make_harness(office_api(simulator.base_url, READ_ONLY_KEY))
    # When it tries to create a patient
    with pytest.raises(AuthError) as caught:
        await od.client.create_patient(new_patient())
    # Then Open Dental's 401 for the missing permission group is an AuthError
    assert caught.value.status == 401
    assert "permission" in str(caught.value)


@pytest.mark.parametrize(
    ("faults", "status"),
    [
        (FaultConfig(rate_500=1.0), 500),
        (FaultConfig(rate_504=1.0, delay_504_s=0.0), 504),
    ],
)
async def test_server_errors_are_transient_and_maybe_applied(
    simulator: SimHandle, od: Harness, faults: FaultConfig, status: int
) -> None:
    # Given Open Dental failing every request with a server error
    simulator.set_faults(faults)
    # When a patient is created
    with pytest.raises(TransientError) as caught:
        await od.client.create_patient(new_patient())
    # Then it is transient, carries the status, and is flagged as possibly applied
    assert type(caught.value) is TransientError
    assert caught.value.status == status
    assert caught.value.maybe_applied is True
    assert od.calls[0].status == status


async def test_an_econnector_window_is_transient_and_not_applied(
    simulator: SimHandle, od: Harness
) -> None:
    # Given the office's eConnector is down
    simulator.set_faults(FaultConfig(econnector_down_s=60.0))
    # When a patient is created
    with pytest.raises(TransientError) as caught:
        await od.client.create_patient(new_patient())
    # Then the 400 is transient (not a validation error) and nothing reached the office
    assert caught.value.status == 400
    assert str(caught.value) == ECONNECTOR_DOWN_MESSAGE
    assert caught.value.maybe_applied is False


async def test_commit_then_drop_is_transient_and_maybe_applied(
    simulator: SimHandle, od: Harness
) -> None:
    # Given Open Dental commits every write and then drops the connection without a reply
    simulator.set_faults(FaultConfig(rate_commit_then_drop=1.0))
    patient = new_patient()
    # When a patient is created
    with pytest.raises(TransientError) as caught:
        await od.client.create_patient(patient)
    # Then it is transient and flagged as possibly applied, reported with no status
    assert caught.value.maybe_applied is True
    assert isinstance(caught.value.__cause__, aiohttp.ServerDisconnectedError)
    assert (od.calls[0].status, od.calls[0].message) == (None, "ServerDisconnectedError")
    # And indeed the row exists: the flag is what tells the writer to look before retrying
    simulator.set_faults(FaultConfig())
    rows = await od.client.list_patients_simple(LName=patient["LName"])
    assert len(rows) == 1


async def test_a_read_timeout_is_transient_and_maybe_applied(
    simulator: SimHandle, make_harness: MakeHarness
) -> None:
    # Given Open Dental slower than the client's read timeout
    simulator.set_faults(FaultConfig(latency_ms=600))
    async with HttpClient(HttpTimeouts(read_s=0.1), max_connections=2) as impatient:
        od = make_harness(office_api(simulator.base_url), client=impatient)
        # When a patient is created
        with pytest.raises(TransientError) as caught:
            await od.client.create_patient(new_patient())
    # Then it is transient and flagged as possibly applied (the request had been sent)
    assert caught.value.maybe_applied is True
    assert isinstance(caught.value.__cause__, aiohttp.SocketTimeoutError)
    assert (od.calls[0].status, od.calls[0].message) == (None, "SocketTimeoutError")


async def test_a_cancelled_attempt_is_still_reported(simulator: SimHandle, od: Harness) -> None:
    # Given Open Dental slower than the caller is willing to wait
    simulator.set_faults(FaultConfig(latency_ms=600))
    # When the caller's own timeout cancels a create
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await od.client.create_patient(new_patient())
    # Then the attempt is on the record with no status, since it may have been sent
    assert [(call.status, call.message) for call in od.calls] == [(None, "CancelledError")]


@pytest.fixture
async def closed_port_url() -> AsyncIterator[str]:
    """A base URL on a local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/v1"


async def test_connection_refused_is_transient_and_not_applied(
    closed_port_url: str, make_harness: MakeHarness
) -> None:
    # Given an office whose API is not listening
    od = make_harness(office_api(closed_port_url))
    # When a patient is created
    with pytest.raises(TransientError) as caught:
        await od.client.create_patient(new_patient())
    # Then it is transient and nothing was sent, so it is not maybe-applied
    assert caught.value.maybe_applied is False
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)
    assert (od.calls[0].status, od.calls[0].message) == (None, "ClientConnectorError")


async def test_the_throttle_reply_is_throttled_and_defers_the_key(
    simulator: SimHandle, make_harness: MakeHarness
) -> None:
    # Given a remote-mode key and, on purpose, a pacer that never waits
    pacer = RecordingPacer()
    od = make_harness(office_api(simulator.base_url, REMOTE_KEY, mode=ApiMode.REMOTE), pacer=pacer)
    # When two requests go back to back
    await od.client.list_patients_simple()
    with pytest.raises(ThrottledError) as caught:
        await od.client.list_patients_simple()
    # Then the second is throttled with Open Dental's Retry-After, and the pacer was deferred
    assert caught.value.status == 429
    assert caught.value.retry_after_s is not None and caught.value.retry_after_s >= 1
    assert pacer.deferred == [(REMOTE_KEY, caught.value.retry_after_s)]
    assert [call.status for call in od.calls] == [200, 429]


async def test_the_key_pacer_keeps_a_remote_burst_under_the_throttle(
    simulator: SimHandle, make_harness: MakeHarness
) -> None:
    # Given a remote-mode key paced by the real KeyPacer
    od = make_harness(office_api(simulator.base_url, REMOTE_KEY, mode=ApiMode.REMOTE))
    # When a burst of requests is sent concurrently
    results = await asyncio.gather(
        *(od.client.list_patients_simple() for _ in range(3)), return_exceptions=True
    )
    # Then Open Dental throttled none of them
    assert [call.status for call in od.calls] == [200, 200, 200]
    assert not any(isinstance(result, BaseException) for result in results)
