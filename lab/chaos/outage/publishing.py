"""The vendors keep publishing to every office, through every outage and pause, at a steady pace
of each stream's own: a stream's ``i``-th intent is due ``i`` steps after the start, its steps
spread over the publishing time. A stream that fell behind catches up at once, so a paused
vendor's backlog follows its resume; the other streams' pace does not depend on it, and so
neither does the steady offices' applied rate the run measures.

A publish the broker refuses (ACCESS_REFUSED: the vendor is paused) is kept and sent again
until the broker takes it, as a vendor must; the stream waits meanwhile, so its order holds.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence

from adapters.publisher import NotConfirmedReason
from lab.chaos.plan import Planned
from lab.chaos.publishing import ChaosVendor, Sent, Tally

REFUSED_RETRY_S = 1.0


Refusals = Counter[str]  # publishes the broker refused and the vendor kept, by vendor


async def _kept(vendor: ChaosVendor, planned: Planned, give_up_at: float,
                refusals: Refusals) -> Sent:
    loop = asyncio.get_running_loop()
    while True:
        sent = await vendor.send(planned)
        if sent.failure != NotConfirmedReason.REFUSED.value or loop.time() >= give_up_at:
            return sent
        refusals[vendor.name] += 1
        await asyncio.sleep(REFUSED_RETRY_S)


async def _stream(
    vendor: ChaosVendor, stream: Sequence[Planned], *, started: float, publish_s: float,
    give_up_at: float, tally: Tally, refusals: Refusals,
) -> list[Sent]:
    loop = asyncio.get_running_loop()
    step_s = publish_s / len(stream)
    results = []
    for index, planned in enumerate(stream):
        await asyncio.sleep(max(0.0, started + index * step_s - loop.time()))
        sent = await _kept(vendor, planned, give_up_at, refusals)
        if sent.confirmed:
            tally.confirmed += 1
        else:
            tally.refused += 1
        results.append(sent)
    return results


async def publish_paced(
    vendors: Mapping[str, ChaosVendor], streams: Sequence[Sequence[Planned]], *,
    started: float, publish_s: float, give_up_s: float, tally: Tally, refusals: Refusals,
) -> list[Sent]:
    """Every stream at its own pace from ``started`` (the loop's clock) over ``publish_s``; a
    refused publish is kept until ``give_up_s`` after the end. Each stream's sends come back in
    the order it made them."""
    give_up_at = started + publish_s + give_up_s
    per_stream = await asyncio.gather(*(
        _stream(vendors[stream[0].vendor], stream, started=started, publish_s=publish_s,
                give_up_at=give_up_at, tally=tally, refusals=refusals)
        for stream in streams
    ))
    return [sent for results in per_stream for sent in results]
