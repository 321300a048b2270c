"""The intent search: each filter, the Open Dental row, paging, the bookmarkable link, and a
filter that does not parse. Intents are written straight into the test's hub database."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestServer

from hub.console import Console
from hub.console.search import IntentQuery, SearchError, where_clause
from tests.console.support import browser
from tests.support.audit import as_root

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
INSERT = """
INSERT INTO intents (vendor, idempotency_key, payload_hash, contract, contract_version,
    office_id, status, received_at, updated_at, expires_at, message_id, correlation_id,
    od_table, od_primary_key, reason)
VALUES (%s, %s, REPEAT('0', 64), %s, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


async def intent(
    console: Console, key: str, *, status: str = "applied", office: str = "o-1",
    vendor: str = "v-1", reason: str | None = None, age_h: float = 1.0,
    row: tuple[str, int] | None = None, message: str | None = None,
) -> None:
    at = NOW - timedelta(hours=age_h)
    table, number = row or (None, None)
    await as_root(console.settings.ledger_db.database, INSERT, (
        vendor, key, "patient.create", office, status, at, at, at + timedelta(days=7),
        message or f"m-{key}", f"c-{key}", table, number, reason,
    ))


async def test_filters_find_their_intents_and_the_page_links_to_itself(
    console: Console, server: TestServer
) -> None:
    # Given intents of two offices, vendors and statuses, one of them on patient 17
    await intent(console, "k-applied", row=("patient", 17))
    await intent(console, "k-rejected", status="rejected", reason="od_rejected", office="o-2")
    await intent(console, "k-dead", status="dead", reason="retries_exhausted", vendor="v-2")
    await intent(console, "k-old", status="rejected", reason="od_rejected", age_h=48)
    async with browser(server) as viewer:
        assert await viewer.sign_in("vera") == 303

        async def keys(query: str) -> list[str]:
            page = await viewer.page(f"/intents?{query}")
            found = ["k-applied", "k-rejected", "k-dead", "k-old"]
            listed = [key for key in found if f">{key}<" in page]
            return sorted(listed, key=lambda key: page.index(f">{key}<"))  # in the page's order

        # Then each filter finds its own, newest first
        assert await keys("status=rejected") == ["k-rejected", "k-old"]
        assert await keys("status=rejected&since=24h") == ["k-rejected"]
        assert await keys("office=o-2") == ["k-rejected"]
        assert await keys("vendor=v-2") == ["k-dead"]
        assert await keys("reason=retries_exhausted") == ["k-dead"]
        assert await keys("row=patient:17") == ["k-applied"]
        assert await keys("message=m-k-old") == ["k-old"]
        assert await keys("correlation=c-k-dead") == ["k-dead"]
        assert await keys("key=k-applied&vendor=v-1") == ["k-applied"]
        assert await keys("status=rejected&order=asc") == ["k-old", "k-rejected"]
        # And the page names its own URL, filters included, for a bookmark
        page = await viewer.page("/intents?status=rejected&office=o-2")
        assert 'href="/intents?office=o-2&amp;status=rejected"' in page
        # And a filter that does not parse is a 400 saying which
        bad = await viewer.get("/intents?status=lost")
        assert bad.status == 400 and "status: one of" in await bad.text()


async def test_results_are_paged_by_a_cursor_in_the_url(
    console: Console, server: TestServer
) -> None:
    # Given five intents an hour apart, two of them received in the same instant
    for number in range(5):
        await intent(console, f"k-{number}", age_h=min(number, 3))
    console.settings.console.page_size = 2
    async with browser(server) as viewer:
        assert await viewer.sign_in("vera") == 303
        # When the viewer follows the next links to the end, then the previous links back
        pages = [await viewer.page("/intents")]
        while (link := _link(pages[-1], "next")) is not None:
            pages.append(await viewer.page(link))
        back = [pages[-1]]
        while (link := _link(back[-1], "previous")) is not None:
            back.append(await viewer.page(link))
    # Then every intent is on exactly one page, newest first, the tie broken by the id
    assert [_keys(page) for page in pages] == [["k-0", "k-1"], ["k-2", "k-4"], ["k-3"]]
    # And the previous links lead back through the same pages to the first
    assert [_keys(page) for page in back] == [["k-3"], ["k-2", "k-4"], ["k-0", "k-1"]]
    # And the cursor is in each page's own link: a deep page can be bookmarked
    assert "after=" in (_link(pages[0], "next") or "") and 'id="first"' in pages[1]

    # When the viewer pages by last change, oldest first
    async with browser(server) as viewer:
        assert await viewer.sign_in("vera") == 303
        pages = [await viewer.page("/intents?sort=updated&order=asc")]
        while (link := _link(pages[-1], "next")) is not None:
            pages.append(await viewer.page(link))
    # Then the same intents come in that order, the tie broken by the id
    assert [_keys(page) for page in pages] == [["k-3", "k-4"], ["k-2", "k-1"], ["k-0"]]


def _link(page: str, name: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" id="{name}">', page)
    return html.unescape(found.group(1)) if found else None


def _keys(page: str) -> list[str]:
    return re.findall(r'class="trace" href="[^"]+">(k-\d)<', page)


def test_only_known_columns_reach_the_sql_and_values_are_arguments() -> None:
    where, args = where_clause(
        IntentQuery(vendor="v'; DROP TABLE intents; --", row="patient:17"), datetime.now(UTC)
    )
    assert "DROP" not in where and args == ["v'; DROP TABLE intents; --", "patient", 17]
    for bad in (IntentQuery(row="patient:x"), IntentQuery(version="one"), IntentQuery(since="x")):
        try:
            where_clause(bad, datetime.now(UTC))
        except SearchError:
            continue
        raise AssertionError(f"{bad} parsed")
