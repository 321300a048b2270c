"""The console in a real browser (Debian's chromium through Selenium) against a running writer,
broker, hub database and simulator: sign in, find the rejected intents, open a trace, replay a
dead letter and see it applied, pause and resume the office. Screenshots of every page are in
``artifacts/console/``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aio_pika.abc import AbstractRobustChannel
from aiohttp.test_utils import TestServer

from contracts import OutcomeStatus
from hub import names
from hub.console import Console
from hub.dlq import DlqNames
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.console.chrome import Chrome, chrome
from tests.console.support import PASSWORD, console_settings, serving, write_users
from tests.support.audit import said, trail
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    World,
    drain_outcomes,
    letters,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)


@pytest.fixture
async def world(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, dead_queue: str
) -> World:
    made = await make_world(writer=FAST_WRITER.model_copy(update={"max_attempts": 1}))
    queue = await hub_channel.get_queue(dead_queue, ensure=True)
    await queue.bind(names.DEAD_LETTER_EXCHANGE, names.dead_letter_key(made.office))
    return made


@pytest.fixture
async def console_url(world: World, tmp_path: Path, dead_queue: str) -> AsyncIterator[str]:
    users = write_users(tmp_path / "users.toml")
    settings = console_settings(world.settings, users)
    console = Console.of(settings, world.environ, where=DlqNames(queue=dead_queue))
    server: TestServer
    async with serving(console) as server:
        yield str(server.make_url("")).rstrip("/")


async def sign_in(browser: Chrome, user: str) -> None:
    await browser.open("/login")
    await browser.type("#user", user)
    await browser.type("#password", PASSWORD)
    text = await browser.click("#sign-in", "after sign-in")
    assert f"{user} (" in text


async def test_an_operator_finds_rejected_intents_replays_a_dead_one_and_pauses_the_office(
    world: World, console_url: str, hub_channel: AbstractRobustChannel, simulator: SimHandle,
) -> None:
    # Given a patient Open Dental has, the same person again under another key (Open Dental
    # answers 400: rejected, od_rejected) and an intent that died (500 to its one try)
    rejected_key, dead_key, same = unique("bad"), unique("dead"), letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        for key in (unique("first"), rejected_key):
            await vendor.publish(patient_create(world.office, key, last=same), office=world.office)
        first, refused = await drain_outcomes(hub_channel, vendor.name, 2)
        assert (first.status, refused.status) == (OutcomeStatus.APPLIED, OutcomeStatus.REJECTED)
        simulator.set_faults(FaultConfig(rate_500=1.0))
        await vendor.publish(
            patient_create(world.office, dead_key, last=letters()), office=world.office
        )
        (dead,) = await drain_outcomes(hub_channel, vendor.name, 1)
        assert dead.status is OutcomeStatus.DEAD
        simulator.set_faults(FaultConfig())

        async with chrome(console_url, "operator-flow") as browser:
            # When an operator signs in and searches for rejected intents
            await sign_in(browser, "otto")
            await browser.open("/intents")
            await browser.type("input[name=office]", world.office)
            select = await browser.find("#status option[value=rejected]")
            await browser.run(select.click)
            found = await browser.click("#find", "rejected intents")
            # Then the rejected one is listed, and not the dead one
            assert rejected_key in found and dead_key not in found

            # When they open its trace
            trace = await browser.click("a.trace", "trace of the rejected intent")
            # Then it shows the intent's story
            assert "rejected" in trace and "od_rejected" in trace and rejected_key in trace

            # When they open the dead intent's dead letter and replay it
            await browser.open(f"/dead-letters?office={world.office}&reason=retries_exhausted")
            await browser.click("a.open", "the dead letter")
            replayed = await browser.click("#replay button", "replayed")
            assert "Replay: replayed" in replayed
            (applied,) = await drain_outcomes(hub_channel, vendor.name, 1)
            assert applied.status is OutcomeStatus.APPLIED
            # Then its trace shows it applied
            trace = await browser.click("#trace-replayed", "trace of the replayed intent")
            assert "applied" in trace and "201" in trace

            # When they pause the office with a reason, then resume it
            await browser.open(f"/lanes?office={world.office}")
            await browser.type(f"#lane-{world.office} input[name=reason]", "server move")
            paused = await browser.click(f"#lane-{world.office} button", "office paused")
            assert f"office {world.office} paused" in paused and '"server move"' in paused
            resumed = await browser.click(f"#lane-{world.office} button", "office resumed")
            assert f"office {world.office} resumed" in resumed

            # And every action is in the audit trail, as the operator's
            audit = await browser.open("/audit")
            assert "dlq_replay" in audit and "office_pause" in audit

    rows = await trail(world.settings.ledger_db)
    actions = [(action, result) for action, _, result, _ in said(rows) if action != "registry_load"]
    assert actions == [("dlq_replay", "ok"), ("office_pause", "ok"), ("office_resume", "ok")]
    assert {row.operator for row in rows if row.action != "registry_load"} == {"otto"}


async def test_a_viewer_sees_no_replay_button_and_no_payload_values(
    world: World, console_url: str, hub_channel: AbstractRobustChannel,
) -> None:
    # Given a rejected intent's dead letter and an applied intent with its securitylog entry
    invalid = patient_create(world.office, unique("bad"), last=letters())
    invalid["payload"]["Birthdate"] = "not a date"
    applied_key = unique("ok")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(invalid, office=world.office)
        await vendor.publish(
            patient_create(world.office, applied_key, last=letters()), office=world.office
        )
        await drain_outcomes(hub_channel, vendor.name, 2)
    async with chrome(console_url, "viewer") as browser:
        # When a viewer opens the dead letter, the lanes and the applied intent's trace
        await sign_in(browser, "vera")
        await browser.open(f"/dead-letters?office={world.office}")
        page = await browser.click("a.open", "the dead letter as a viewer")
        lanes = await browser.open(f"/lanes?office={world.office}")
        trace = await browser.open(f"/trace?intent={world.vendor.name}:{applied_key}")
    # Then there is no replay, no reveal, no pause, and Open Dental's log text is hidden
    assert "Replay" not in page and "Reveal" not in page and "Pause" not in lanes
    assert "PatientCreate" in trace and "hidden" in trace and "Patient created" not in trace
