"""The rogue: a program writing the offices' databases directly during the chaos run, as a bad
actor would (issue 19). It leaves no securitylog row and never touches SecurityHash, so the
watch must flag every one of its changes ``unexplained``.

It works on rows of its own, which the hub never touches, so that no hub write can hide a
change of it: patients it inserts (itself a direct write; LName ``Rogue…``, apart from the run's
``Chaos…`` patients the accounting reads), then updates twice, once a column SecurityHash does
not cover (Address), then one it covers (Birthdate: a stale hash). ``--rogue N`` changes over
``ceil(N / 3)`` rows, the offices taken in turn; the moments are drawn from the run's seed over
the publishing time plus ``TAIL_S``. A row is changed again only after two scans of the watch
since its last change, so the watch sees each change on its own. Each change is recorded with
the DateTStamp it left.

The lab may write the simulator's databases (the hub never does): plain SQL on the run's MariaDB
account.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import aiomysql

from hub.settings import MySqlSettings
from lab.chaos.config import ChaosError
from lab.chaos.door_accounting import RogueChange
from lab.chaos.watching import Scans
from lab.chaos.world import World

TAIL_S = 20.0
ACTS = ("insert", "update", "update_hashed")
SCANS_BETWEEN = 2
CONNECT_TIMEOUT_S = 10
CONNECT_ATTEMPTS = 10
CONNECT_RETRY_S = 1.0


@dataclass(frozen=True, kw_only=True)
class RogueStep:
    row: int  # the rogue's row number, from 0
    act: str
    after_s: float  # from the start of the chaos phase


def rogue_plan(changes: int, seed: int, window_s: float) -> list[RogueStep]:
    """``changes`` steps: every row's insert first, then every row's update, then the hashed
    updates, at sorted random moments in the window."""
    rows = math.ceil(changes / len(ACTS))
    draw = random.Random(f"rogue-{seed}")
    moments = sorted(draw.uniform(0, window_s) for _ in range(changes))
    return [RogueStep(row=n % rows, act=ACTS[n // rows], after_s=moments[n])
            for n in range(changes)]


_INSERT = "INSERT INTO patient (LName, FName, Birthdate) VALUES (%s, %s, '1960-01-01')"
_UPDATES = {
    "update": "UPDATE patient SET Address = CONCAT('Rogue ', PatNum, ' ', NOW()) WHERE PatNum = %s",
    "update_hashed": "UPDATE patient SET Birthdate = DATE_ADD(Birthdate, INTERVAL 1 DAY)"
                     " WHERE PatNum = %s",
}
_STAMP = "SELECT DateTStamp FROM patient WHERE PatNum = %s"


@dataclass(frozen=True, kw_only=True)
class _Row:
    office_id: str
    database: str
    key: int


class Rogue:
    def __init__(
        self, world: World, account: MySqlSettings, scans: Scans, steps: list[RogueStep]
    ) -> None:
        self._world = world
        self._account = account
        self._scans = scans
        self._steps = steps
        self._rows: dict[int, _Row] = {}
        self._last_scan: dict[int, int] = {}  # the scans done when the row last changed
        self.changes: list[RogueChange] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for step in self._steps:
            await asyncio.sleep(max(0.0, started + step.after_s - loop.time()))
            if step.row in self._last_scan:
                await self._scans.reached(self._last_scan[step.row] + SCANS_BETWEEN)
            self.changes.append(await self._write(step))
            self._last_scan[step.row] = self._scans.count

    async def _connect(self, database: str) -> aiomysql.Connection:
        """A connection to the office database; a busy server (too many connections) is tried
        again a few times, as a program writing directly would."""
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                return await aiomysql.connect(
                    host=self._account.host, port=self._account.port, user=self._account.user,
                    password=self._account.password.get_secret_value(), db=database,
                    autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                )
            except aiomysql.MySQLError as exc:
                if attempt == CONNECT_ATTEMPTS - 1:
                    raise ChaosError(f"the rogue cannot reach {database} ({exc})") from exc
                await asyncio.sleep(CONNECT_RETRY_S)
        raise AssertionError("unreachable")

    async def _write(self, step: RogueStep) -> RogueChange:
        offices = self._world.office_ids()
        office = offices[step.row % len(offices)]
        database = self._world.database_of(office)
        conn = await self._connect(database)
        try:
            async with conn.cursor() as cur:
                if step.act == "insert":
                    last = "Rogue" + self._world.surname.removeprefix("Chaos")
                    await cur.execute(_INSERT, (last, f"Row{step.row}"))
                    key = int(cur.lastrowid)
                    self._rows[step.row] = _Row(office_id=office, database=database, key=key)
                else:
                    key = self._rows[step.row].key
                    await cur.execute(_UPDATES[step.act], (key,))
                await cur.execute(_STAMP, (key,))
                (stamp,) = await cur.fetchone()
        finally:
            conn.close()
        return RogueChange(office_id=office, table="patient", key=key, act=step.act,
                           stamp=stamp, at=datetime.now(UTC))
