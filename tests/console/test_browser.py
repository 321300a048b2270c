"""The console in a real browser (Debian's chromium through Selenium) against a running writer,
broker, hub database and simulator: sign in, find the rejected intents, open a trace, replay a
dead letter and see it applied, pause and resume the office; a bulk replay previewed, cancelled
while it runs, and its results; an intent's row with each change hub watch saw and its door; a
viewer without replay buttons and a forged POST refused, a POST without its CSRF token refused,
a payload reveal in the audit trail. Screenshots of every page are in ``artifacts/console/``."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from aio_pika.abc import AbstractRobustChannel
from aiohttp.test_utils import TestServer
from selenium.webdriver.common.by import By

from contracts import OutcomeReason, OutcomeStatus
from hub import names
from hub.cli.sim_cmd import door_request
from hub.console import Console
from hub.dlq import DlqNames
from hub.observability import FamilyRegistry, HubMetrics, LabelBounds
from hub.watch import opened_watch, scan_once
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
    write_world,
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
def console(world: World, tmp_path: Path, dead_queue: str) -> Console:
    users = write_users(tmp_path / "users.toml")
    # A bulk replay waits this long between two letters: the test cancels it in the first gap.
    settings = console_settings(world.settings, users, bulk_replay_gap_s=60.0)
    return Console.of(settings, world.environ, where=DlqNames(queue=dead_queue))


@pytest.fixture
async def console_url(console: Console) -> AsyncIterator[str]:
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
        listed = await browser.open(f"/dead-letters?office={world.office}")
        page = await browser.click("a.open", "the dead letter as a viewer")
        lanes = await browser.open(f"/lanes?office={world.office}")
        trace = await browser.open(f"/trace?intent={world.vendor.name}:{applied_key}")
    # Then there is no replay (of one or in bulk), no reveal, no pause, and Open Dental's log
    # text is hidden
    assert "Replay" not in listed and "Replay" not in page
    assert "Reveal" not in page and "Pause" not in lanes
    assert "PatientCreate" in trace and "hidden" in trace and "Patient created" not in trace


async def test_a_bulk_replay_is_previewed_cancelled_while_it_runs_and_shows_its_results(
    world: World, console: Console, console_url: str, hub_channel: AbstractRobustChannel,
    simulator: SimHandle,
) -> None:
    # Given four intents that died (Open Dental answered 500 to their one try)
    keys = [unique("dead") for _ in range(4)]
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        simulator.set_faults(FaultConfig(rate_500=1.0))
        for key in keys:
            await vendor.publish(
                patient_create(world.office, key, last=letters()), office=world.office
            )
        died = await drain_outcomes(hub_channel, vendor.name, len(keys))
        assert {event.status for event in died} == {OutcomeStatus.DEAD}
        simulator.set_faults(FaultConfig())
        listing = f"/dead-letters?office={world.office}&reason=retries_exhausted"

        async with chrome(console_url, "bulk-replay") as browser:
            # When an operator previews the replay of the filter's dead letters
            await sign_in(browser, "otto")
            await browser.open(listing)
            preview = await browser.click("#replay-these", "bulk replay preview")
            # Then the preview shows their count and each of them
            assert "4 dead letter(s) match" in preview and all(key in preview for key in keys)

            # When they confirm it, and the first letter has been replayed and applied
            running = await browser.click("#bulk-replay button", "bulk replay running")
            assert "Running:" in running
            (first,) = await drain_outcomes(hub_channel, vendor.name, 1)
            assert (first.idempotency_key, first.status) == (keys[0], OutcomeStatus.APPLIED)
            # And they cancel it (in the gap before the second letter)
            await browser.click("#cancel button", "bulk replay cancelled")
            (job,) = console.replays.values()
            assert job.task is not None
            await job.task
            result = await browser.open(f"/bulk-replay/{job.id}")
            # Then it stopped there: one replayed, with a link to follow it, three kept
            assert "Cancelled by otto: 1 replayed; the other 3 stay in the dead-letter queue" in (
                result
            )
            trace = await browser.click("a.follow", "the intent the bulk replay replayed")
            assert keys[0] in trace and "applied" in trace
            left = await browser.open(listing)
            assert keys[0] not in left and all(key in left for key in keys[1:])
            audit = await browser.open("/audit?action=dlq_replay")
            assert "cancelled_by" in audit

    # And the audit trail holds the replay as the operator's: filter, count, who cancelled
    (entry,) = [row for row in await trail(world.settings.ledger_db) if row.action == "dlq_replay"]
    assert entry.operator == "otto" and entry.details["confirmed"] == 4
    assert entry.details["filter"] == {
        "office": world.office, "reason": "retries_exhausted", "limit": 10_000
    }
    assert entry.outcome == {"replayed": 1, "kept": 3, "cancelled_by": "otto"}


async def test_an_intents_page_shows_each_change_of_its_row_with_its_door(
    world: World, console_url: str, hub_channel: AbstractRobustChannel,
) -> None:
    # Given hub watch's parts over the office, its first scan taken (the watch starts then)
    office = world.registry.office(world.office)
    registry = dataclasses.replace(world.registry, offices={office.id: office})
    metrics = HubMetrics(FamilyRegistry(), LabelBounds.from_registry(registry))
    key = unique("watched")
    async with opened_watch(world.settings, registry, metrics) as watch:
        await scan_once(watch)
        # And a patient the hub created, scanned
        async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
            await vendor.publish(
                patient_create(world.office, key, last=letters()), office=world.office
            )
            (applied,) = await drain_outcomes(hub_channel, vendor.name, 1)
        patient = applied.od[0].primary_key
        await scan_once(watch)
        # And then changed by another API developer, scanned, and by a direct write, scanned
        async with httpx.AsyncClient(timeout=30.0) as client:
            await door_request(client, office, "other-api", "patient", patient, {"Preferred": "Al"})
            await scan_once(watch)
            await door_request(
                client, office, "direct-db", "patient", patient, {"PatStatus": "Inactive"}
            )
            await scan_once(watch)

    async with chrome(console_url, "watched-row") as browser:
        # When a viewer opens the intent's page
        await sign_in(browser, "vera")
        page = await browser.open(f"/trace?intent={world.vendor.name}:{key}")
        rows = await browser.run(lambda: [
            row.text for row in browser.driver.find_elements(By.CSS_SELECTOR, "#changes tr.change")
        ])
    # Then each change of its row is listed with its door: the hub's (this intent), the other
    # developer's (by DevName), and the direct write, flagged as unexplained
    assert f"Changes of patient {patient} seen by hub watch" in page
    assert len(rows) == 3, rows
    assert "hub" in rows[0] and "this intent" in rows[0]
    assert "other_api" in rows[1] and "Preferred" in rows[1]
    assert "unexplained (unexplained)" in rows[2] and "PatStatus" in rows[2]


async def test_a_reveal_is_audited_and_posts_without_the_role_or_the_token_are_refused(
    world: World, console_url: str, hub_channel: AbstractRobustChannel,
) -> None:
    # Given a rejected intent's dead letter
    invalid = patient_create(world.office, unique("bad"), last=letters())
    invalid["payload"]["Birthdate"] = "not a date"
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(invalid, office=world.office)
        await drain_outcomes(hub_channel, vendor.name, 1)
    async with chrome(console_url, "refusals-and-reveal") as browser:
        # When a viewer opens it and forges the replay POST with their own valid token
        await sign_in(browser, "vera")
        await browser.open(f"/dead-letters?office={world.office}")
        await browser.click("a.open", "the dead letter as a viewer")
        letter = (await browser.run(lambda: browser.driver.current_url)).removeprefix(console_url)
        forged = await browser.forge(f"{letter}/replay", "forged replay", with_token=True)
        # Then it is refused for the role
        assert "Not done" in forged and "this needs the operator role" in forged
        await browser.open(letter)
        await browser.click("#logout", "signed out")

        # When an operator's browser posts the replay without the token
        await sign_in(browser, "otto")
        await browser.open(letter)
        bare = await browser.forge(f"{letter}/replay", "replay without a token", with_token=False)
        # Then it is refused too
        assert "CSRF token is missing or wrong" in bare
        # When the operator reveals the payload
        await browser.open(letter)
        shown = await browser.click("#reveal button", "payload revealed")
        assert "not a date" in shown and "this reveal is in the audit trail" in shown
        # Then the audit trail shows the reveal, as the operator's
        audit = await browser.open("/audit")
        assert "payload_reveal" in audit and "otto" in audit

    # And nothing was replayed: the reveal is the only action on record
    rows = [row for row in await trail(world.settings.ledger_db) if row.action != "registry_load"]
    assert [(row.action, row.operator, row.result.value) for row in rows] == [
        ("payload_reveal", "otto", "ok")
    ]


async def test_an_unauthorized_letter_replayed_once_the_agreement_names_its_contract_is_applied(
    world: World, console_url: str, hub_channel: AbstractRobustChannel, tmp_path: Path,
) -> None:
    # Given the vendor's agreement without patient.create (the demo's unauthorized payment, in
    # small), and a patient.create it published refused as unauthorized
    narrowed = write_world(
        tmp_path, api_url=world.api_url, od_database=world.od_database,
        ledger_db=world.settings.ledger_db, offices=world.offices,
        vendors=[replace(world.vendor, agreements={world.office: ("commlog.create",)})],
        writer=world.settings.writer,
    )
    key = unique("unagreed")
    async with running_worker(narrowed), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(patient_create(world.office, key, last=letters()), office=world.office)
        (refused,) = await drain_outcomes(hub_channel, vendor.name, 1)
    assert (refused.status, refused.reason) == (OutcomeStatus.REJECTED, OutcomeReason.UNAUTHORIZED)

    async with chrome(console_url, "unauthorized-replayed") as browser:
        # When the office's agreement names the contract (the writer restarts on that registry)
        # and an operator replays the letter
        await sign_in(browser, "otto")
        await browser.open(f"/dead-letters?office={world.office}&reason=unauthorized")
        await browser.click("a.open", "the unauthorized dead letter")
        replayed = await browser.click("#replay button", "replayed after the agreement")
        assert "Replay: replayed" in replayed
        async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
            (applied,) = await drain_outcomes(hub_channel, vendor.name, 1)
        # Then it is applied, as its trace shows
        assert (applied.idempotency_key, applied.status) == (key, OutcomeStatus.APPLIED)
        trace = await browser.click("#trace-replayed", "the intent applied on replay")
        assert "applied" in trace and "201" in trace
