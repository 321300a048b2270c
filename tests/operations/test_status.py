"""``hub status`` against a running writer: each office lane with its state, queue depth, in
flight, last error and pause; the dead letters; paused vendors; a gone writer's row as stale."""

from __future__ import annotations

import asyncio
import json

from aio_pika.abc import AbstractRobustChannel
from typer.testing import CliRunner

from hub.cli import app
from hub.control.model import LaneReport, PauseKind
from hub.control.store import ControlStore
from hub.observability import LaneState
from tests.operations.support import (
    fast,
    hub_sql,
    publish,
    running_writer,
    until_lane,
    vendor_channel,
)
from tests.writer.conftest import MakeWorld
from tests.writer.support import World, dead_letter_tap, drain, letters, patient_create, unique

STALE_AFTER_S = 60


async def _hub(world: World, *args: str) -> str:
    """``hub ARGS`` as an operator runs it (its own event loop, so in a thread)."""
    db = world.settings.ledger_db
    environment = {
        **world.environ,
        "HUB_LEDGER_DB__HOST": db.host,
        "HUB_LEDGER_DB__PORT": str(db.port),
        "HUB_LEDGER_DB__USER": db.user,
        "HUB_LEDGER_DB__DATABASE": db.database,
        "HUB_REGISTRY_PATH": str(world.settings.registry_path),
        "HUB_CONTROL__STALE_AFTER_S": str(STALE_AFTER_S),
    }
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=environment)
    assert result.exit_code == 0, result.output
    return result.output


async def test_status_shows_lanes_pauses_errors_and_stale_writers(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, store: ControlStore
) -> None:
    # Given a running writer whose office's lane rejected an invalid intent
    world = fast(await make_world())
    office, vendor = world.office, world.vendor
    taps = await dead_letter_tap(hub_channel, office)
    invalid = patient_create(office, unique("bad"), last=letters())
    invalid["payload"]["Birthdate"] = "01/02/1980"
    # And a row left by a writer gone an hour ago, and a vendor paused
    gone = unique("t-gone")
    report = LaneReport(office=gone, state=LaneState.RUNNING, in_flight=3, serving=True,
                        last_error=None, last_error_at=None)
    await store.report("gone-writer", [report])
    await hub_sql(world.settings.ledger_db, "UPDATE lane_status SET updated_at = "
                  "UTC_TIMESTAMP(6) - INTERVAL 1 HOUR WHERE writer_id = 'gone-writer'")
    await store.pause(PauseKind.VENDOR, "t-other-vendor", "bob", "late invoices")
    async with running_writer(world), vendor_channel(world.settings, vendor) as channel:
        await publish(channel, vendor.name, invalid)
        await drain(taps, 1)
        await until_lane(world, office, last_error="rejected: invalid")
        # And an operator pausing the office
        await _hub(world, "office", "pause", office, "--reason", "too many rejects",
             "--operator", "alice")
        await until_lane(world, office, state="paused")
        # When `hub status` runs, as a table and as JSON
        table = await _hub(world, "status")
        document = json.loads(await _hub(world, "status", "--json"))

    # Then the table names the lane's state, its last error, who paused it and why
    (row,) = [line for line in table.splitlines() if line.startswith(office + " ")]
    assert "paused" in row and "rejected: invalid" in row
    assert "alice at" in row and '"too many rejects"' in row
    assert "dead letters (hub.dead): " in table
    # And the writer serving every office, with its share and its beat
    (writer,) = document["writers"]
    assert (writer["live"], writer["serves"]) == (True, 1)
    assert writer["writer_id"] in table and "SERVES" in table
    assert "t-other-vendor" in table and '"late invoices"' in table
    # And the JSON says the same, with the queue depth and the in-flight count
    (lane,) = [lane for lane in document["lanes"] if lane["office"] == office]
    assert (lane["state"], lane["last_error"]) == ("paused", "rejected: invalid")
    assert (lane["queue_depth"], lane["in_flight"], lane["serving"]) == (0, 0, True)
    assert lane["paused"]["paused_by"] == "alice"
    assert isinstance(document["dead_letters"], int) and document["dead_letters"] >= 1
    assert [p["name"] for p in document["paused_vendors"]] == ["t-other-vendor"]
    # And the gone writer's lane shows as stale, with what it last said
    (old,) = [lane for lane in document["lanes"] if lane["office"] == gone]
    assert (old["writer_id"], old["state"], old["in_flight"]) == (
        "gone-writer", "stale (running)", 3,
    )
    assert old["queue_depth"] is None  # no such queue on the broker
