"""Waiting for the writer to finish, by the broker's management API (no message ready or held
unacked in any office queue) and the ledger (no intent in flight). Waiting is bounded; what is
not settled by then is reported, not waited for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

from hub import names
from hub.management_nodes import FirstLiveNode, management_urls
from hub.settings import MySqlSettings
from lab.chaos.ledger_rows import status_counts

POLL_S = 1.0
QUIET_POLLS = 3
IDLE_S = 30.0
TIMEOUT = httpx.Timeout(10.0)


class _QueueFigures(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    messages: int = 0  # ready + unacknowledged
    consumers: int = 0


_QUEUES = TypeAdapter(list[_QueueFigures])


async def _office_queues(management_url: str, offices: Iterable[str]
                         ) -> list[_QueueFigures] | None:
    """The office queues' figures; None when the management API does not answer."""
    wanted = {names.office_queue(office) for office in offices}
    nodes = management_urls(management_url)  # a cluster's: the first that answers
    transport = FirstLiveNode(nodes, httpx.AsyncHTTPTransport())
    try:
        async with httpx.AsyncClient(
            base_url=nodes[0], auth=("guest", "guest"), timeout=TIMEOUT, transport=transport
        ) as client:
            reply = await client.get("/api/queues/%2F",
                                     params={"columns": "name,messages,consumers"})
            reply.raise_for_status()
    except httpx.HTTPError:
        return None
    return [q for q in _QUEUES.validate_json(reply.content) if q.name in wanted]


async def _office_messages(management_url: str, offices: Iterable[str]) -> int | None:
    """Messages in the office queues; None when the management API does not answer."""
    queues = await _office_queues(management_url, offices)
    return None if queues is None else sum(q.messages for q in queues)


async def wait_consumed(management_url: str, offices: Iterable[str], timeout_s: float) -> bool:
    """True once every office queue has a consumer (the writer is taking work); False when
    ``timeout_s`` ran out first."""
    offices = list(offices)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        queues = await _office_queues(management_url, offices)
        if queues is not None and len(queues) == len(offices) and min(
            q.consumers for q in queues
        ) > 0:
            return True
        await asyncio.sleep(POLL_S)
    return False


async def wait_drained(
    management_url: str, offices: Iterable[str], ledger_db: MySqlSettings, timeout_s: float
) -> bool:
    """True once the work is done; False when ``timeout_s`` ran out first.

    Done: the office queues empty and the ledger with nothing in flight, twice in a row; or the
    queues empty for ``IDLE_S``, since no message is left to move an intent still in flight
    (the accounting reports it)."""
    offices = list(offices)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    empty_since: float | None = None
    quiet = 0
    while loop.time() < deadline:
        now = loop.time()
        if await _office_messages(management_url, offices) == 0:
            empty_since = now if empty_since is None else empty_since
            ledger = await status_counts(ledger_db)
            quiet = quiet + 1 if ledger["received"] + ledger["attempting"] == 0 else 0
            if quiet >= QUIET_POLLS or now - empty_since >= IDLE_S:
                return True
        else:
            empty_since, quiet = None, 0
        await asyncio.sleep(POLL_S)
    return False
