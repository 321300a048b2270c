"""The shape of the writer: one intent's path from delivery to ack crosses a handful of modules.

A reader who follows a ``patient.create`` opens each writer module whose code runs for it; this
test counts them by profiling a real run (broker, ledger, simulator), so a step split into a
module of its own shows up here, not only in review."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType

from aio_pika.abc import AbstractRobustChannel

import hub.writer
from contracts import OutcomeStatus
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)

WRITER = Path(hub.writer.__file__).parent
MOST_MODULES = 8


class ModulesRun:
    """The writer modules whose functions are called while it is installed (this thread: the
    event loop runs the whole writer)."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def __call__(self, frame: FrameType, event: str, _: object) -> None:
        if event == "call":
            path = Path(frame.f_code.co_filename)
            if path.parent == WRITER:
                self.modules.add(path.stem)


async def test_a_patient_create_runs_through_at_most_eight_writer_modules(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given a running writer, idle
    world = await make_world()
    run = ModulesRun()
    async with running_worker(world) as worker, vendor_client(
        world.settings, world.vendor
    ) as vendor:
        (lane,) = worker.lanes

        async def acked() -> bool:
            return lane.in_flight() == 0

        # When one patient.create goes from delivery to ack, with the writer's calls profiled
        sys.setprofile(run)
        try:
            intent = patient_create(world.office, unique("key"), last=letters())
            await vendor.publish(intent, office=world.office)
            (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
            await eventually(acked, "the delivery acked")
        finally:
            sys.setprofile(None)

    # Then it was applied, and its path crossed at most eight of the writer's modules
    assert event.status is OutcomeStatus.APPLIED
    assert len(run.modules) <= MOST_MODULES, sorted(run.modules)
