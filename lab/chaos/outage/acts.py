"""The timeline, acted on the run's world at its offsets: each disruption begins and ends as an
office's server, eConnector or key, or an operator, would make it; what really happened is
measured, not assumed.

A disruption counts from the moment its beginning took effect to the moment its end began, so a
reported outage is never longer than the one the hub saw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from hub import names
from hub.audit import os_user
from hub.broker_connection import robust_channel
from hub.control.commands import Who, pause_office, pause_vendor, resume_office, resume_vendor
from hub.topology import declare_outcome_queue
from lab.chaos.outage.config import OPERATOR
from lab.chaos.outage.timeline import Disruption, Timeline, Window
from lab.chaos.progress import Progress
from lab.chaos.stack import Stack

WHO = Who(operator=OPERATOR, reason="outage run", os_user=os_user())
VENDOR_PAUSE = "vendor pause"
QUEUE_GONE = "outcome queue gone"
Step = Callable[[], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Switch:
    what: str  # for the progress lines
    window: Window  # planned
    begin: Step
    end: Step


def _office_switch(stack: Stack, office: str, kind: Disruption, window: Window) -> Switch:
    world = stack.world
    key = world.customer_key(world.office_ids().index(office) + 1)

    def outage(state: str | None) -> Step:
        return lambda: stack.simulator.set_outage(key, state)

    if kind is Disruption.CONNECTION_REFUSED:
        forwarder = stack.forwarders[office]
        return Switch(what=f"{office}: Open Dental refuses connections", window=window,
                      begin=forwarder.refuse, end=forwarder.listen)
    if kind is Disruption.OFFICE_PAUSED:
        settings, environ = stack.settings, stack.environ
        return Switch(
            what=f"{office}: paused by an operator", window=window,
            begin=lambda: _done(pause_office(settings, environ, office, WHO)),
            end=lambda: _done(resume_office(settings, environ, office, WHO)),
        )
    what = "eConnector down (400)" if kind is Disruption.ECONNECTOR_DOWN else "key refused (401)"
    return Switch(what=f"{office}: {what}", window=window, begin=outage(kind.value),
                  end=outage(None))


async def _done(action: Awaitable[object]) -> None:
    await action


def _vendor_switch(stack: Stack, vendor: str, window: Window) -> Switch:
    settings, environ = stack.settings, stack.environ
    return Switch(
        what=f"{vendor}: paused by an operator", window=window,
        begin=lambda: _done(pause_vendor(settings, environ, vendor, WHO)),
        end=lambda: _done(resume_vendor(settings, environ, vendor, WHO)),
    )


def _queue_switch(stack: Stack, vendor: str, window: Window, back: Step) -> Switch:
    async def delete() -> None:
        async with robust_channel(stack.settings.broker_url, stack.settings.tls) as channel:
            await channel.queue_delete(names.outcome_queue(vendor))

    async def declare() -> None:
        async with robust_channel(stack.settings.broker_url, stack.settings.tls) as channel:
            await declare_outcome_queue(channel, vendor)
        await back()

    return Switch(what=f"{names.outcome_queue(vendor)}: deleted", window=window, begin=delete,
                  end=declare)


def switches(stack: Stack, timeline: Timeline, queue_back: Step) -> dict[str, Switch]:
    """Every disruption of ``timeline``, by office, ``VENDOR_PAUSE`` and ``QUEUE_GONE``;
    ``queue_back`` runs once the outcome queue is declared again."""
    acts = {office: _office_switch(stack, office, kind, window)
            for office, (kind, window) in timeline.disrupted.items()}
    acts[VENDOR_PAUSE] = _vendor_switch(stack, timeline.paused_vendor, timeline.vendor_pause)
    acts[QUEUE_GONE] = _queue_switch(stack, timeline.queue_vendor, timeline.queue_gone,
                                     queue_back)
    return acts


async def _act(switch: Switch, started: float, progress: Progress) -> Window:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, started + switch.window.start_s - loop.time()))
    await switch.begin()
    began = loop.time() - started
    progress(f"{switch.what} (at {began:.0f} s)")
    await asyncio.sleep(max(0.0, started + switch.window.end_s - loop.time()))
    ended = loop.time() - started
    await switch.end()
    progress(f"{switch.what}: over after {ended - began:.0f} s")
    return Window(start_s=began, end_s=ended)


async def act(
    timeline: Timeline, acts: Mapping[str, Switch], started: float, progress: Progress
) -> Timeline:
    """Act every switch at its offsets from ``started`` (the loop's clock); the timeline as it
    happened. One that fails cancels the others."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = {key: group.create_task(_act(switch, started, progress))
                     for key, switch in acts.items()}
    except ExceptionGroup as failed:
        # The run reports its first failure as its own (a ChaosError, a HubError), not a group.
        raise failed.exceptions[0] from failed
    windows = {key: task.result() for key, task in tasks.items()}
    return replace(
        timeline,
        disrupted={office: (kind, windows[office])
                   for office, (kind, _) in timeline.disrupted.items()},
        vendor_pause=windows[VENDOR_PAUSE], queue_gone=windows[QUEUE_GONE],
    )
