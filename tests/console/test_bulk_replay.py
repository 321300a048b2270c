"""The console's bulk replay over a real broker and hub database: the preview's count and
letters, the confirmation that must still match, each letter's result, who may start one, and
the audit entry. (Cancelling one while it runs, and replayed letters applied by a running
writer: tests/console/test_browser.py.)"""

from __future__ import annotations

import re

from aio_pika.abc import AbstractRobustChannel
from aiohttp.test_utils import TestServer

from hub.console import Console
from tests.console.support import Browser, browser
from tests.console.test_server import dead_letter
from tests.support.audit import said, trail

FILTER = {"vendor": "t-vendor", "reason": "invalid"}


async def test_the_preview_counts_the_matches_and_a_confirmed_replay_shows_each_result(
    server: TestServer, console: Console, hub_channel: AbstractRobustChannel, dead_queue: str
) -> None:
    # Given three dead letters of an office no queue is bound for (each replay comes back)
    ids = [await dead_letter(hub_channel, dead_queue) for _ in range(3)]
    async with browser(server) as operator:
        assert await operator.sign_in("otto") == 303
        # When the operator previews the replay of the filter the list showed
        listed = await operator.page("/dead-letters?vendor=t-vendor&reason=invalid")
        assert 'id="replay-these"' in listed
        preview = await operator.page("/bulk-replay?vendor=t-vendor&reason=invalid")
        # Then it shows the count and the letters, and nothing moved or was audited
        assert "<strong>3</strong> dead letter(s) match" in preview
        assert all(f"k-{message_id}" in preview for message_id in ids)
        assert await trail(console.settings.ledger_db) == []

        # When a fourth letter arrives and the operator confirms the three the preview showed
        await dead_letter(hub_channel, dead_queue)
        token = await operator.csrf("/bulk-replay?vendor=t-vendor")
        stale = await operator.post(
            "/bulk-replay", data={"csrf": token, "expected": "3", **FILTER}
        )
        page = await _finished(operator, console, stale.headers["Location"])
        # Then nothing is replayed: the filter matches four now
        assert "Nothing replayed: the filter matches 4 now, not the 3 confirmed" in page
        assert await trail(console.settings.ledger_db) == []

        # When they confirm four
        started = await operator.post(
            "/bulk-replay", data={"csrf": token, "expected": "4", **FILTER}
        )
        page = await _finished(operator, console, started.headers["Location"])
    # Then each letter's result is listed: the broker returned each (no queue for its office)
    assert page.count("failed: unroutable (kept on the queue)") == 4
    assert "Finished: 0 of 4 replayed, 4 kept on the queue" in page
    # And the replay is in the audit trail as the operator's, with its filter and count
    (entry,) = await trail(console.settings.ledger_db)
    assert said([entry]) == [("dlq_replay", dead_queue, "failed", "kept_on_queue")]
    assert entry.operator == "otto" and entry.details["confirmed"] == 4
    assert entry.details["filter"] == {**FILTER, "limit": 10_000}


async def test_a_viewer_sees_no_bulk_replay_and_a_forged_one_is_refused(
    server: TestServer, console: Console, hub_channel: AbstractRobustChannel, dead_queue: str
) -> None:
    await dead_letter(hub_channel, dead_queue)
    async with browser(server) as viewer:
        assert await viewer.sign_in("vera") == 303
        # Then the list offers a viewer no replay, and the preview is refused
        assert 'id="replay-these"' not in await viewer.page("/dead-letters")
        assert (await viewer.get("/bulk-replay")).status == 403
        # When the viewer forges the POST with their own valid token, Then it is refused
        token = await viewer.csrf("/dead-letters")
        forged = await viewer.post("/bulk-replay", data={"csrf": token, "expected": "1"})
        assert forged.status == 403
    async with browser(server) as operator:
        # And an operator's POST without the token is refused too
        assert await operator.sign_in("otto") == 303
        bare = await operator.post("/bulk-replay", data={"expected": "1"})
        assert bare.status == 403
    assert console.replays == {} and await trail(console.settings.ledger_db) == []


async def _finished(operator: Browser, console: Console, location: str) -> str:
    """The replay's page once its background task has ended (awaited, not slept on)."""
    found = re.fullmatch(r"/bulk-replay/([\w-]+)", location)
    assert found is not None, location
    task = console.replays[found.group(1)].task
    assert task is not None
    await task
    return await operator.page(location)
