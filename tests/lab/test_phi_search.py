"""The PHI search (issue 17, item 4): a demo and a short chaos run, then every log line, metric
label, outcome event, dead letter's headers and ledger column they left, searched for the
names, birthdates and other patient values the runs published. Nothing may be found.

The demo's writer runs in this process: its records are captured as ``hub worker`` writes them
(JSON, INFO), its metrics read from the registry it was given. The chaos run's writers are
``hub worker`` processes: their log file is read whole (every writer, the killed one too) and the
last one's /metrics scraped once the run drained. Dead letters: headers and properties, not
bodies (``hub.dead`` keeps bodies on purpose, for replay). What the search matches and how:
tests/lab/phi.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import aio_pika
import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from hub import names
from hub.dlq import DeadLetterFilter, ScanBounds, list_dead_letters
from hub.observability import FamilyRegistry
from hub.settings import HubSettings
from lab.chaos import ChaosConfig
from lab.chaos.plan import plan
from lab.chaos.processes import free_port
from lab.chaos.progress import RunState
from lab.chaos.rabbit_node import rabbitmq_available
from lab.chaos.run import chaos_phase
from lab.chaos.stack import Stack, StackShape, running_stack
from lab.chaos.world import World
from lab.cli.demo_cmd import start_simulator
from lab.demo import DemoReport, report_json, report_text, run_demo
from tests.lab.demo.conftest import demo_world
from tests.lab.phi import (
    Text,
    dead_letter_texts,
    exposition_labels,
    json_logs,
    ledger_texts,
    lines,
    needles,
    own_dead_letters,
    registry_labels,
    report,
    search,
)

DEAD_LETTER_SCAN = ScanBounds(max_messages=10_000, max_seconds=30.0)


def test_the_search_finds_whole_values_and_says_where() -> None:
    # Given the values a run published: names, a birthdate, a note
    wanted = needles([
        b'{"payload": {"LName": "Lovelace", "FName": "Ada", "Birthdate": "1971-03-04",'
        b' "PatientRef": "p-1"}}',
        b'{"payload": {"Note": "Booked online.", "Op": 1}}',
    ])
    texts = [
        Text(place="log line 1", text='{"message": "applying LOVELACE, Ada 1971-03-04T00:00"}'),
        Text(place="ledger intents.outcome_json row 2", text='"message": "Booked online."'),
        Text(place="log line 2", text="Adam read the metadata of p-1; ADA; 11971-03-04"),
    ]

    # When the texts are searched
    hits = search(texts, wanted)

    # Then each whole value is found where it is, and a part of a longer word is not
    assert [(hit.place, hit.field) for hit in hits] == [
        ("log line 1", "LName"), ("log line 1", "FName"), ("log line 1", "Birthdate"),
        ("ledger intents.outcome_json row 2", "Note"),
    ]
    assert "log line 1: LName 'Lovelace' in ...{\"message\": \"applying LOVELACE" in report(hits)


def demo_outputs(report_: DemoReport, progress: list[str]) -> list[Text]:
    """What the demo printed and what its vendors were told."""
    events = [r.event for r in report_.results if r.event is not None]
    assert len(events) == report_.tally.terminal, "an outcome event was left unpaired"
    return [
        *lines("demo progress", "\n".join(progress)),
        *lines("demo report (text)", report_text(report_)),
        *lines("demo report (JSON)", report_json(report_)),
        *(Text(place=f"outcome event {e.vendor}:{e.idempotency_key}", text=e.model_dump_json())
          for e in events),
    ]


async def test_the_demo_leaves_no_patient_data_behind(tmp_path: Path,
                                                      empty_database: str) -> None:
    # Given the demo's world, its writer's metrics registry in hand and its office's dead
    # letters copied to a queue of the test's own
    metrics: CollectorRegistry = FamilyRegistry()
    async with demo_world(tmp_path, empty_database) as world, \
            own_dead_letters(world.config.settings, world.config.cast.office) as dead:
        config = dataclasses.replace(world.config, metrics_registry=metrics)
        progress: list[str] = []

        # When the demo runs, every log record of this process captured as hub worker writes it
        with json_logs() as logs:
            demo = await run_demo(config, start_simulator, progress.append)
        assert demo.ok
        letters = await list_dead_letters(config.settings, DeadLetterFilter(limit=1000),
                                          where=dead, bounds=DEAD_LETTER_SCAN)
        texts = [
            *lines("demo log", logs.getvalue()),
            *registry_labels("metric", metrics),
            *demo_outputs(demo, progress),
            *dead_letter_texts("hub.dead", letters.letters),
            *await ledger_texts(config.settings.ledger_db.database),
        ]

    # Then no log line, metric label, outcome event, printed line, dead letter's headers or
    # ledger cell holds a name, birthdate or note the demo published
    wanted = needles(result.sent.step.body for result in demo.results)
    assert {"LName", "FName", "Birthdate", "Note"} <= set(wanted.values())
    assert len(letters.letters) == sum(demo.tally.rejected.values())
    hits = search(texts, wanted)
    assert not hits, report(hits)


def chaos_config() -> ChaosConfig:
    """150 intents with seed 48 hold one of each refusal (invalid, unauthorized, unknown
    reference) and one exact re-send; 5% commit-then-drop and 5% 500s; one writer kill."""
    return ChaosConfig(
        settings=HubSettings(), intents=150, offices=2, vendors=2, kills=1, broker_restarts=0,
        rate_commit_then_drop=0.05, rate_500=0.05, seed=48, databases=1, publish_rate=400.0,
        drain_timeout_s=120.0, attempt_timeout_s=2.0,
    )


async def received_outcomes(vendor: str, url: SecretStr) -> list[Text]:
    """Every outcome event waiting in ``vendor``'s queue, taken as the vendor would."""
    texts = []
    async with await aio_pika.connect(url.get_secret_value()) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(names.outcome_queue(vendor), passive=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            texts.append(Text(place=f"outcome event to {vendor} ({message.message_id})",
                              text=message.body.decode("utf-8", errors="replace")))
    return texts


async def left_behind(stack: Stack, scraped: str) -> list[Text]:
    """Once the writer stopped: its logs and the simulator's, every outcome event, the dead
    letters' headers, the ledger's cells, and the /metrics scraped before it stopped."""
    letters = await list_dead_letters(stack.settings, DeadLetterFilter(limit=10_000),
                                      bounds=DEAD_LETTER_SCAN)
    logs = {name: (stack.home / name).read_text(encoding="utf-8", errors="replace")
            for name in ("writer.log", "sim.log")}
    events = [text for vendor, url in stack.vendor_urls.items()
              for text in await received_outcomes(vendor, url)]
    assert events and letters.letters, "no outcome event or no dead letter to search"
    return [
        *(text for name, log in logs.items() for text in lines(name, log)),
        *exposition_labels("metric", scraped),
        *events,
        *dead_letter_texts("hub.dead", letters.letters),
        *await ledger_texts(stack.settings.ledger_db.database),
    ]


@pytest.mark.skipif(not rabbitmq_available(),
                    reason="RabbitMQ's server scripts are not installed here")
async def test_a_short_chaos_run_leaves_no_patient_data_behind() -> None:
    # Given a short chaos run (faults, a writer kill) whose writers log JSON on a known port
    config = chaos_config()
    world = World.new(offices=config.offices, vendors=config.vendors, databases=config.databases)
    port = free_port()
    shape = StackShape(writer_env={"HUB_LOG_FORMAT": "json", "HUB_METRICS_PORT": str(port)})
    progress: list[str] = []
    async with running_stack(config, world, progress.append, shape) as stack:
        streams = plan(world, config.intents, config.seed)
        state = RunState(planned=sum(len(s) for s in streams),
                         started_at=asyncio.get_running_loop().time())

        # When the plan is published and drained, the last writer scraped, then stopped
        sent, drained = await chaos_phase(config, stack, streams, state, progress.append)
        assert drained and stack.writer.kills == 1
        async with httpx.AsyncClient(timeout=10.0) as client:
            scrape = (await client.get(f"http://127.0.0.1:{port}/metrics")).raise_for_status()
        await stack.writer.stop()
        texts = [*await left_behind(stack, scrape.text),
                 *lines("chaos progress", "\n".join(progress))]

    # Then nothing the run left holds a name, birthdate, address or note it published
    wanted = needles(one.planned.body for one in sent)
    assert {"LName", "FName", "Birthdate", "Address", "Note"} <= set(wanted.values())
    hits = search(texts, wanted)
    assert not hits, report(hits)
