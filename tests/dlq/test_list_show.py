"""``hub dlq list`` and ``show``: every filter, bodies only on request, and the queue untouched."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from aio_pika.abc import AbstractConnection

from hub.dlq import DeadLetterFilter, ScanEnd, Source, list_dead_letters, show_dead_letter
from hub.settings import HubSettings
from tests.dlq.conftest import Stage
from tests.dlq.letters import VENDOR_A, VENDOR_B, drain_ids, fill

HUB = (sys.executable, "-c", "from hub.cli import main; main()")
IN_ORDER = ["k-a1", "k-b1", "m-a2", "k-poison"]  # message ids as filled


async def hub_cli(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Any:
    """Run ``hub`` in a subprocess; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *HUB, *args, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def test_list_reads_every_dead_letter_in_order_and_leaves_the_queue_as_it_was(
    stage: Stage, as_impersonator: AbstractConnection
) -> None:
    # Given three of the writer's dead letters and one broker-dead-lettered poison message
    await fill(as_impersonator, stage)

    # When everything is listed twice
    first = await list_dead_letters(HubSettings(), DeadLetterFilter(), where=stage.where)
    second = await list_dead_letters(HubSettings(), DeadLetterFilter(), where=stage.where)

    # Then both lists hold all four in queue order, with the writer's and the broker's fields
    assert [letter.message_id for letter in first.letters] == IN_ORDER
    assert [letter.message_id for letter in second.letters] == IN_ORDER
    a1, b1, a2, poison = first.letters
    assert (a1.source, a1.vendor, a1.office, a1.reason, a1.attempts) == (
        Source.WRITER, VENDOR_A, stage.offices[0], "invalid", 0
    )
    assert a1.dead_lettered_at == datetime(2024, 1, 1, 10, tzinfo=UTC)
    # And vendor B's, which has no user_id, names B by the writer's header
    assert (b1.vendor, b1.contract, b1.attempts) == (VENDOR_B, "appointment.create", 5)
    assert (a2.message_id, a2.idempotency_key) == ("m-a2", "k-a2")
    # And the poison message's vendor is its user_id, never the x-hub-* headers it forged
    assert (poison.source, poison.reason, poison.vendor, poison.attempts) == (
        Source.BROKER, "delivery_limit", VENDOR_A, None
    )
    assert (poison.office, poison.contract) == (stage.offices[2], "patient.create")
    assert poison.dead_lettered_at is not None
    # And the queue still holds all four, in the same order
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"vendor": VENDOR_A}, ["k-a1", "m-a2", "k-poison"]),
    ({"vendor": VENDOR_B}, ["k-b1"]),
    ({"office": "O1"}, ["k-a1", "k-b1"]),
    ({"office": "O3"}, ["k-poison"]),
    ({"contract": "appointment.create"}, ["k-b1"]),
    ({"reason": "delivery_limit"}, ["k-poison"]),
    ({"reason": "invalid"}, ["k-a1"]),
    ({"since": datetime(2024, 1, 2, tzinfo=UTC)}, ["k-b1", "m-a2", "k-poison"]),
    ({"until": datetime(2024, 1, 2, 12, tzinfo=UTC)}, ["k-a1", "k-b1"]),
    (
        {"since": datetime(2024, 1, 2, tzinfo=UTC), "until": datetime(2024, 1, 3, tzinfo=UTC)},
        ["k-b1"],
    ),
    ({"message_id": "k-a2"}, ["m-a2"]),
    ({"message_id": "m-a2"}, ["m-a2"]),
    ({"limit": 2}, ["k-a1", "k-b1"]),
    ({"vendor": VENDOR_A, "contract": "patient.create", "office": "O2"}, ["m-a2"]),
]


@pytest.mark.parametrize(("given", "expected"), FILTERS, ids=[str(f[0]) for f in FILTERS])
async def test_list_filters(
    stage: Stage, as_impersonator: AbstractConnection, given: dict[str, Any], expected: list[str]
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)
    offices = {"O1": stage.offices[0], "O2": stage.offices[1], "O3": stage.offices[2]}
    wanted = DeadLetterFilter(**{k: offices.get(v, v) for k, v in given.items()})

    # When they are listed with the filter
    report = await list_dead_letters(HubSettings(), wanted, where=stage.where)

    # Then exactly the expected ones match, in queue order, and none left the queue
    assert [letter.message_id for letter in report.letters] == expected
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


async def test_a_limit_lists_the_first_matches_and_counts_the_rest(
    stage: Stage, as_impersonator: AbstractConnection
) -> None:
    # Given the four dead letters, three of them vendor A's
    await fill(as_impersonator, stage)
    # When vendor A's are listed with a limit of 1
    wanted = DeadLetterFilter(vendor=VENDOR_A, limit=1)
    report = await list_dead_letters(HubSettings(), wanted, where=stage.where)
    # Then the first is listed, the other two are counted, and the whole queue was read
    assert [letter.message_id for letter in report.letters] == ["k-a1"]
    assert (report.summary.unlisted, report.summary.end) == (2, ScanEnd.END)
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


async def test_show_prints_headers_and_properties_and_the_body_only_with_body(
    stage: Stage, as_impersonator: AbstractConnection
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)
    show = ("dlq", "show", "k-a2", "--queue", stage.dead)

    # When one is shown by its idempotency key, without and then with --body
    hidden = await hub_cli(*show)
    shown = await hub_cli(*show, "--body")

    # Then both print its properties and headers; only --body prints the body
    for code, out, _ in (hidden, shown):
        assert code == 0
        assert "user_id: t-vendor-a" in out and "message_id: m-a2" in out
        assert "x-hub-reason: od_rejected" in out
    assert "Secret-k-a2" not in hidden[1] and "not shown" in hidden[1]
    assert "Secret-k-a2" in shown[1]
    # And the queue is as it was
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


async def test_show_of_an_unknown_id_finds_nothing(
    stage: Stage, as_impersonator: AbstractConnection
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)
    # When an id that none has is shown
    found = await show_dead_letter(HubSettings(), "k-none", where=stage.where)
    # Then there is nothing, and nothing left the queue
    assert found is None
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


async def test_list_json_names_the_intents_but_never_bodies(
    stage: Stage, as_impersonator: AbstractConnection
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)
    # When `hub dlq list --json` reads vendor B's
    code, out, _ = await hub_cli(
        "dlq", "list", "--json", "--vendor", VENDOR_B, "--queue", stage.dead
    )
    # Then it prints that one dead letter's fields, and no body
    assert code == 0
    document = json.loads(out)
    assert [m["idempotency_key"] for m in document["messages"]] == ["k-b1"]
    assert document["messages"][0]["attempts"] == 5 and document["end"] == "end"
    assert "Secret" not in out


async def test_two_scans_at_once_lose_nothing(
    stage: Stage, as_impersonator: AbstractConnection
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)
    # When two lists run at the same time
    both = await asyncio.gather(
        list_dead_letters(HubSettings(), DeadLetterFilter(), where=stage.where),
        list_dead_letters(HubSettings(), DeadLetterFilter(), where=stage.where),
    )
    # Then each saw some of them (what one held the other could not see), and all are still there
    seen = [letter.message_id for report in both for letter in report.letters]
    assert set(seen) == set(IN_ORDER)
    assert sorted(map(str, await drain_ids(as_impersonator, stage.dead))) == sorted(IN_ORDER)
