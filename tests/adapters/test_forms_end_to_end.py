"""A form the forms service sends more than once, followed from the webhook through the real
writer into the simulator's Open Dental: one patient and one commlog, whatever the resends."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from adapters.forms import INTAKE_PATH, forms_app
from adapters.publisher import VendorPublisher
from contracts import OutcomeStatus
from tests.adapters.forms_support import PATIENT, body_of, intake_config, intake_form, signed

# The writer's world: a simulator, a ledger, offices and vendors (`x as x` re-exports fixtures).
from tests.writer.conftest import MakeWorld
from tests.writer.conftest import ledger_db as ledger_db
from tests.writer.conftest import make_world as make_world
from tests.writer.conftest import simulator as simulator
from tests.writer.support import drain_outcomes, letters, od_rows, running_worker, unique


async def test_a_form_sent_again_makes_one_patient_and_one_commlog_in_open_dental(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given the writer running for an office, and the forms adapter publishing as its vendor
    world = await make_world()
    vendor = world.vendor
    login = URL(world.settings.broker_url.get_secret_value()).with_user(vendor.name)
    last = letters()
    body = body_of(intake_form(world.office, unique("sub"), patient=PATIENT | {"last_name": last}))
    config = intake_config(frozenset({world.office}), retry_after_s=5)
    first_attempt = signed(body, webhook_id="msg_first")
    async with (
        running_worker(world),
        VendorPublisher(str(login.with_password(vendor.password)), vendor.name) as publisher,
    ):
        # When the form arrives, then again as another webhook (a new webhook-id), then its
        # first webhook again once the adapter restarted (forgetting the ids it had seen)
        async with TestClient(TestServer(forms_app(publisher, config))) as adapter:
            statuses = [
                await _status(adapter, body, first_attempt),
                await _status(adapter, body, signed(body)),
            ]
        async with TestClient(TestServer(forms_app(publisher, config))) as restarted:
            statuses.append(await _status(restarted, body, first_attempt))
        events = await drain_outcomes(hub_channel, vendor.name, 6)

    # Then each time the intents were published, and the hub applied each intent once: the
    # patient and the commlog, then duplicates
    assert statuses == [202, 202, 202]
    assert [(e.contract, e.status, e.duplicate) for e in events] == [
        ("patient.create", OutcomeStatus.APPLIED, False),
        ("commlog.create", OutcomeStatus.APPLIED, False),
    ] + [
        ("patient.create", OutcomeStatus.APPLIED, True),
        ("commlog.create", OutcomeStatus.APPLIED, True),
    ] * 2
    # And Open Dental holds one patient of that name, with one commlog
    patients = await od_rows(
        world.od_database, "SELECT PatNum FROM patient WHERE LName = %s", (last,)
    )
    assert len(patients) == 1
    commlogs = await od_rows(
        world.od_database, "SELECT CommlogNum FROM commlog WHERE PatNum = %s",
        (patients[0]["PatNum"],),
    )  # fmt: skip
    assert len(commlogs) == 1


async def _status(
    client: TestClient[web.Request, web.Application], body: bytes, headers: dict[str, str]
) -> int:
    return (await client.post(INTAKE_PATH, data=body, headers=headers)).status
