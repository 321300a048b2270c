"""The simulator's cache of an office's reference tables: read once, then kept for a while, as
Open Dental's own cache is; a change to the setup shows once the cache is stale."""

from __future__ import annotations

import aiomysql

from odsim.db import DbParams, connect
from odsim.lookups import LookupCache
from odsim.schema import ensure_office_database
from tests.support.mariadb import throwaway_database

ROOT = DbParams()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_lookups_are_kept_until_stale_then_read_again(empty_database: str) -> None:
    # Given a seeded office database and a cache on a clock the test moves
    await ensure_office_database(ROOT, empty_database, dev_name="Test Vendor",
                                 customer_keys=["CustKeyA"])
    clock = Clock()
    cache = LookupCache(ttl_s=5.0, clock=clock)
    conn = await connect(ROOT, empty_database)
    try:
        async with conn.cursor(aiomysql.DictCursor) as cur:
            first = await cache.of(empty_database, cur)
            prov_num = first.default_provider()
            # When the office renames its provider
            await cur.execute("UPDATE provider SET Abbr = 'RENAMED' WHERE ProvNum = %s",
                              (prov_num,))
            # Then within the cache's time the old setup is served, without reading again
            clock.now += 4.9
            assert (await cache.of(empty_database, cur)) is first
            assert first.provider_abbr(prov_num) != "RENAMED"
            # And once it is stale the new name is read
            clock.now += 0.2
            fresh = await cache.of(empty_database, cur)
            assert fresh.provider_abbr(prov_num) == "RENAMED"
    finally:
        conn.close()


async def test_each_office_database_has_its_own_lookups(empty_database: str) -> None:
    async with throwaway_database("t") as other_database:
        await _two_offices(empty_database, other_database)


async def _two_offices(one: str, other: str) -> None:
    # Given two office databases whose providers differ
    for database in (one, other):
        await ensure_office_database(ROOT, database, dev_name="Test Vendor",
                                     customer_keys=["CustKeyA"])
    cache = LookupCache(clock=Clock())
    lookups = {}
    for database, abbr in ((one, "FIRST"), (other, "SECOND")):
        conn = await connect(ROOT, database)
        try:
            async with conn.cursor(aiomysql.DictCursor) as cur:
                await cur.execute("UPDATE provider SET Abbr = %s", (abbr,))
                lookups[abbr] = await cache.of(database, cur)
        finally:
            conn.close()
    # Then each database's lookups are its own
    for abbr, found in lookups.items():
        assert found.provider_abbr(found.default_provider()) == abbr
