"""The forms webhook while the hub's operators pause its vendor (``hub vendor pause``): the broker
refuses every publish, and the adapter answers 503 with Retry-After for the vendor's own offices
(the sender keeps the form and sends it again) and still 403 for any other office."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aio_pika.abc import AbstractRobustChannel
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.forms import INTAKE_PATH, forms_app, intake_key
from adapters.publisher import VendorPublisher
from hub import names
from hub.control.commands import Who, pause_vendor, resume_vendor
from hub.registry import V1_CONTRACTS
from hub.settings import MySqlSettings
from tests.adapters.conftest import VendorAccount, take, unique
from tests.adapters.forms_support import body_of, intake_config, intake_form, signed
from tests.operations.support import fast
from tests.support.mariadb import ROOT, throwaway_database
from tests.writer.support import FULL_KEY, OfficeSpec, VendorSpec, World, write_world

RETRY_AFTER_S = 9
OPERATOR = Who(operator="alice", reason="checking the vendor's payloads")
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def hub_db() -> AsyncIterator[MySqlSettings]:
    """A throwaway hub database; the pause commands migrate it as they do any."""
    async with throwaway_database("tf") as name:
        yield ROOT.model_copy(update={"database": name})


@pytest.fixture
def hub_world(tmp_path: Path, hub_db: MySqlSettings, vendor: VendorAccount) -> World:
    """The hub's registry of the vendor and the offices of its agreements, for the operators'
    commands (no office is reached: nothing here talks to Open Dental)."""
    offices = [
        OfficeSpec(id=o, customer_key=FULL_KEY) for o in (vendor.office, vendor.unserved_office)
    ]
    contracts = tuple(sorted(V1_CONTRACTS))
    agreements = {office.id: contracts for office in offices}
    world = write_world(
        tmp_path, api_url="http://127.0.0.1:30223/api/v1", od_database="opendental",
        ledger_db=hub_db, offices=offices,
        vendors=[VendorSpec(name=vendor.name, agreements=agreements)],
    )  # fmt: skip
    # No recheck of the vendor's connections (6 s by default): the adapter's channel publishes
    # nothing before the pause, so its first publish meets the refusal, closed or not.
    return fast(world)


@pytest.fixture
async def client(vendor: VendorAccount) -> AsyncIterator[Client]:
    """The adapter's HTTP server, publishing as the vendor, told the offices of its agreements."""
    offices = frozenset({vendor.office, vendor.unserved_office})
    config = intake_config(offices, retry_after_s=RETRY_AFTER_S)
    publisher = VendorPublisher(vendor.url(), vendor.name, confirm_timeout_s=5)
    async with publisher, TestClient(TestServer(forms_app(publisher, config))) as test_client:
        yield test_client


async def test_a_paused_vendors_form_is_503_then_202_once_resumed(
    client: Client, vendor: VendorAccount, hub_world: World, hub_channel: AbstractRobustChannel
) -> None:
    # Given the adapter publishing as a vendor, and a signed form for an office of its agreements
    body = body_of(intake_form(vendor.office, "sub-500"))

    # When the operators pause the vendor as `hub vendor pause` does, and the form is posted
    paused = await pause_vendor(hub_world.settings, hub_world.environ, vendor.name, OPERATOR)
    assert paused.broker  # the broker now refuses the vendor's publishes
    refused = await client.post(INTAKE_PATH, data=body, headers=signed(body))

    # Then the reply is 503 with Retry-After (send again later), not 403 (never send again)
    assert refused.status == 503
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert (await refused.json())["error"] == "vendor_paused"
    # And a form for an office outside the vendor's agreements is still 403
    stranger = body_of(intake_form(unique("office"), "sub-501"))
    assert (await client.post(INTAKE_PATH, data=stranger, headers=signed(stranger))).status == 403

    # When the vendor is resumed and the sender sends the same form again
    await resume_vendor(hub_world.settings, hub_world.environ, vendor.name, OPERATOR)
    retried = await client.post(INTAKE_PATH, data=body, headers=signed(body))

    # Then it is accepted, and the office queue's first messages are the form's two intents:
    # nothing entered while the vendor was paused
    assert retried.status == 202
    queued = await take(hub_channel, names.office_queue(vendor.office), 2)
    assert [m.message_id for m in queued] == [
        intake_key("sub-500", "patient.create"),
        intake_key("sub-500", "commlog.create"),
    ]
