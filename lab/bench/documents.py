"""documents: the writer's memory with many large document uploads in flight at once.

Service mode, every vendor agreed patient.create and document.upload with its offices. Once the
writer consumes every office queue (its resident memory then is the idle figure), the whole load
is published as fast as the broker confirms: per office a patient.create with the vendor's
reference, then that office's share of the uploads (15 MB bodies by default, 50 between 10
offices) naming the patient by it. Publishing outpaces the writer, so the office queues fill
and every lane has its prefetch of documents in hand while the bodies are worked on. The
writer's peak resident memory (VmHWM of /proc/<pid>/status) is read once every upload has its
outcome, beside the bound the writer's settings promise (docs/performance.md, "Memory").
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from hub.broker_limits import lane_prefetches, office_ceilings
from hub.registry import load_registry
from hub.settings import ApiMode, HubSettings, WriterSettings
from lab.bench.config import DocumentsOptions
from lab.bench.procs import memory_mb
from lab.bench.report import DocumentsResult
from lab.bench.stage import Stage, running_writer, staged
from lab.bench.traffic import Outcomes, Published, VendorLinks, patient_body, vendor_side
from lab.bench.world import BenchWorld

CONTRACTS = ("patient.create", "document.upload")
# Copies of a body the writer makes beside the body itself while it works on it (the decoded
# text, the model's string, the request's JSON and its bytes: at most three at once, measured
# with tracemalloc on parse_intent and the request's encoding).
WORKING_COPIES = 3
MB = 1_000_000
MIB = 1024 * 1024
SETTLE_S = 1.0
MIN_RATE_PER_S = 0.5  # documents a second: slower than this is stuck
SLACK_S = 120.0
Progress = Callable[[str], None]


def _writer_settings(settings: HubSettings, writer_env: Mapping[str, str]) -> WriterSettings:
    """The writer's settings as its process reads them: the bench's, and the extra variables."""
    prefix = "HUB_WRITER__"
    extra = {name.removeprefix(prefix).lower(): value
             for name, value in writer_env.items() if name.startswith(prefix)}
    return WriterSettings.model_validate({**settings.writer.model_dump(), **extra})


def bound_mb(stage: Stage, writer: WriterSettings, idle_mb: float) -> tuple[float, float]:
    """(bytes in hand at most, the whole bound) in MiB: the lanes' prefetch of their offices'
    largest messages, and the working copies of the bodies being worked on, over the idle
    writer's resident memory."""
    registry = load_registry(stage.settings.registry_path, stage.env)
    prefetches, ceilings = lane_prefetches(writer, registry), office_ceilings(registry)
    in_hand = sum(prefetches[office] * ceilings[office] for office in prefetches)
    working = WORKING_COPIES * max(writer.working_bytes, max(ceilings.values()))
    return in_hand / MIB, idle_mb + (in_hand + working) / MIB


def _patient_ref(office: int) -> str:
    return f"bench-patient-{office}"


def _patient_body(world: BenchWorld, office: int, key: str) -> bytes:
    intent = {
        "contract": "patient.create", "version": 1, "idempotency_key": key,
        "office_id": world.office_id(office), "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {**patient_body(world, office), "PatientRef": _patient_ref(office)},
    }
    return json.dumps(intent, separators=(",", ":")).encode()


def _document_body(world: BenchWorld, office: int, key: str, size: int) -> bytes:
    intent = {
        "contract": "document.upload", "version": 1, "idempotency_key": key,
        "office_id": world.office_id(office), "occurred_at": datetime.now(UTC).isoformat(),
        "payload": {"PatientRef": _patient_ref(office), "rawBase64": "@", "extension": ".pdf",
                    "Description": "Signed intake form"},
    }
    envelope = json.dumps(intent, separators=(",", ":"))
    room = (size - len(envelope) + 1) // 4 * 4  # the base64 fills the body to ``size``
    raw = base64.b64encode(os.urandom(room // 4 * 3)).decode()
    return envelope.replace('"@"', f'"{raw}"').encode()


async def _publish(
    link: VendorLinks, world: BenchWorld, options: DocumentsOptions
) -> tuple[list[Published], list[Published]]:
    """The patients, then the uploads, one at a time (each body is built just before it
    goes, so the bench holds one)."""
    patients = []
    for office in range(1, world.offices + 1):
        key = world.intent_key("p", office, 0)
        patients.append(await link.publish(office, key, _patient_body(world, office, key)))
    documents = []
    for index in range(options.documents):
        office = index % world.offices + 1
        key = world.intent_key("d", office, index)
        body = _document_body(world, office, key, int(options.body_mb * MB))
        documents.append(await link.publish(office, key, body, "document.upload"))
    return patients, documents


async def run_documents(
    settings: HubSettings,
    options: DocumentsOptions,
    workdir: Path,
    progress: Progress,
    writer_env: dict[str, str],
) -> DocumentsResult:
    world = BenchWorld.new(offices=options.offices, mode=ApiMode.SERVICE, contracts=CONTRACTS)
    writer_settings = _writer_settings(settings, writer_env)
    async with (
        staged(world, settings, workdir, progress) as stage,
        vendor_side(settings.broker_url, world, stage.vendor_urls) as (channel, link),
    ):
        outcomes = Outcomes()
        await outcomes.consume(channel, world)
        async with running_writer(stage, writer_env) as writer:
            await asyncio.sleep(SETTLE_S)
            idle_mb, _ = memory_mb(writer.child.pid)  # every lane consuming, nothing queued
            patients, published = await _publish(link, world, options)
            progress(f"documents: {len(published)} bodies of {options.body_mb:g} MB published "
                     f"for {world.offices} offices")
            total = len(patients) + len(published)
            with suppress(TimeoutError):  # what is missing is reported as unaccounted
                await outcomes.reach(total, len(published) / MIN_RATE_PER_S + SLACK_S)
            _, peak_mb = memory_mb(writer.child.pid)
            await outcomes.stop()  # before the run's queues go with the writer
        in_hand_mb, bound = bound_mb(stage, writer_settings, idle_mb)
    decided = outcomes.of(published)
    return DocumentsResult(
        offices=world.offices, documents=len(published), body_mb=options.body_mb,
        in_hand_bytes=writer_settings.in_hand_bytes, working_bytes=writer_settings.working_bytes,
        rss_idle_mb=round(idle_mb, 1), peak_rss_mb=round(peak_mb, 1),
        in_hand_bound_mb=round(in_hand_mb, 1), bound_mb=round(bound, 1),
        applied=sum(d.status == "applied" for _, d in decided),
        unaccounted=len(published) - len(decided),
    )
