"""Group commit: the short units of work of many lanes, committed together in one transaction
sent as one packet.

The writer's hot path is two single-row units per intent (claim; finish with its API calls),
each from its own lane. Sent one by one, every unit costs a round trip and a durable commit, in
the writer and in MariaDB alike (measured: the ledger's MariaDB CPU per intent 1.24 -> 0.80 ms
with groups of about two units). Here a unit joins whatever is waiting; at most ``batches``
batches are in flight, so a batch forms while the previous ones are on the wire, and nobody
waits for a timer.

Every unit still gets its own reply only once the commit that holds it is durable (invariant 2:
nothing is acked before its outcome is in the ledger). A unit's statements must not fail on
data the ledger expects (a claim is an upsert, not an INSERT that may hit its unique key): a
statement that fails anyway aborts the batch before its COMMIT, so nothing of it was kept and
each unit is run again alone, to get its own reply or its own error. A failure that may have
come after the COMMIT (the connection lost) goes to every unit as ``TransientError``, exactly as
it would to a unit sent alone.

A unit may say how long it can wait for company (``batching_s``): a lane whose customer key is
throttled has most of a second before its next request may start, so its units can ride in a
fuller batch. A batch goes out when one of its units has waited as long as it may, or when it
is full; a unit that may not wait goes out at once, taking the waiting ones with it.

Offices must not wait for each other (invariant 3): inside a batch, a row lock is waited for
at most ``BATCH_LOCK_WAIT_S``; then the batch is abandoned and its units run alone, each with
the ledger's usual lock wait. Only another holder of the same intent's row can make a unit wait.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiomysql

from hub.ledger.mysql_errors import DRIVER_FAILURES, error_code, translate
from hub.ledger.mysql_session import MySqlSession, Reply, RoundTripFailed, SqlArgs
from hub.ledger.port import QueryObserver

BATCH_LOCK_WAIT_S = 1
DEFAULT_BATCHES = 2
DEFAULT_MAX_UNITS = 64
FIRST_CLIENT_ERROR = 2000  # MariaDB's codes from 2000 up are the client library's own
_LOCK_WAIT = "SET SESSION innodb_lock_wait_timeout = %s"


@dataclass(eq=False)
class _Unit:
    doing: str
    name: str
    statements: Sequence[tuple[str, SqlArgs]]
    queued_at: float
    due_at: float  # when it goes out even if the batch could take more
    reply: asyncio.Future[list[Reply]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    """``run`` a unit of work; it is committed with the others waiting beside it."""

    def __init__(
        self,
        session: MySqlSession,
        on_query: QueryObserver,
        *,
        batches: int = DEFAULT_BATCHES,
        max_units: int = DEFAULT_MAX_UNITS,
    ) -> None:
        self._session = session
        self._on_query = on_query
        self._batches = batches
        self._max_units = max_units
        self._waiting: deque[_Unit] = deque()
        self._arrived = asyncio.Event()  # wakes a drainer that waits for its batch to fill
        self._waking_at = math.inf  # when a waiting drainer wakes by itself
        self._closing = False  # nobody waits for company any more
        self._in_flight = 0
        self._drainers: set[asyncio.Task[None]] = set()

    async def run(
        self,
        doing: str,
        name: str,
        statements: Sequence[tuple[str, SqlArgs]],
        *,
        batching_s: float = 0.0,
    ) -> list[Reply]:
        """Each statement's reply, once the transaction that holds them is committed. Raises
        ``TransientError`` or ``LedgerError`` as a unit sent alone would. The unit may wait up
        to ``batching_s`` for others to join its batch."""
        queued_at = time.perf_counter()
        unit = _Unit(doing, name, statements, queued_at, queued_at + max(0.0, batching_s))
        self._waiting.append(unit)
        # A unit due no sooner than the waiting drainer wakes changes nothing for it.
        if unit.due_at < self._waking_at or len(self._waiting) >= self._max_units:
            self._arrived.set()
        if self._in_flight < self._batches:
            self._in_flight += 1
            drainer = asyncio.create_task(self._drain())
            self._drainers.add(drainer)
            drainer.add_done_callback(self._drainers.discard)
        try:
            return await unit.reply  # a caller cancelled while waiting leaves its unit out
        finally:
            self._on_query(name, time.perf_counter() - unit.queued_at)

    @property
    def waiting(self) -> int:
        """Units queued and not yet taken into a batch."""
        return len(self._waiting)

    async def close(self) -> None:
        """Send what is waiting without waiting more and let the batches in flight finish;
        their units then get their replies."""
        self._closing = True
        self._arrived.set()
        await asyncio.gather(*self._drainers, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while await self._filled() and (batch := self._take()):
                try:
                    await self._commit(batch)
                except Exception as exc:  # a bug, not the database: no unit may wait forever
                    _fail(batch, exc)
                except BaseException:
                    for unit in batch:
                        unit.reply.cancel()
                    raise
        finally:
            self._in_flight -= 1

    async def _filled(self) -> bool:
        """Wait until the waiting units must go: one has waited as long as it may, or there are
        enough for a full batch. False when none is left to send."""
        while self._waiting and len(self._waiting) < self._max_units and not self._closing:
            self._waking_at = min(unit.due_at for unit in self._waiting)
            wait_s = self._waking_at - time.perf_counter()
            if wait_s <= 0:
                break
            self._arrived.clear()
            try:
                async with asyncio.timeout(wait_s):
                    await self._arrived.wait()
            except TimeoutError:
                break
        self._waking_at = math.inf
        return bool(self._waiting)

    def _take(self) -> list[_Unit]:
        batch: list[_Unit] = []
        while self._waiting and len(batch) < self._max_units:
            unit = self._waiting.popleft()
            if not unit.reply.done():
                batch.append(unit)
        return batch

    async def _commit(self, batch: list[_Unit]) -> None:
        if len(batch) == 1:
            await self._alone(batch[0])
            return
        statements = [statement for unit in batch for statement in unit.statements]
        try:
            replies = await self._session.round_trip(
                [(_LOCK_WAIT, (BATCH_LOCK_WAIT_S,)), ("START TRANSACTION", ()), *statements,
                 ("COMMIT", ()), (_LOCK_WAIT, (self._session.lock_wait_s,))]
            )
        except RoundTripFailed as failed:
            if _refused_before(failed, commit_at=2 + len(statements)):
                await asyncio.gather(*(self._alone(unit) for unit in batch))
            else:
                _fail(batch, failed.error)
            return
        except DRIVER_FAILURES as exc:  # no connection: nothing was sent
            _fail(batch, exc)
            return
        at = 2  # past the lock wait's and START TRANSACTION's replies
        for unit in batch:
            _answer(unit, replies[at : at + len(unit.statements)])
            at += len(unit.statements)

    async def _alone(self, unit: _Unit) -> None:
        try:
            replies = await self._session.in_one_round_trip(unit.doing, unit.statements)
        except Exception as exc:  # each unit's own error, translated by the session
            if not unit.reply.done():
                unit.reply.set_exception(exc)
            return
        _answer(unit, replies)


def _refused_before(failed: RoundTripFailed, *, commit_at: int) -> bool:
    """The server's own error reply to a statement before the COMMIT: it ran nothing after
    it, so nothing of the batch was committed. A client-side error (the connection lost) says
    nothing of how far the server got."""
    code = error_code(failed.error)
    if not isinstance(failed.error, aiomysql.MySQLError) or code is None:
        return False
    return code < FIRST_CLIENT_ERROR and failed.replies_read < commit_at


def _answer(unit: _Unit, replies: list[Reply]) -> None:
    if not unit.reply.done():
        unit.reply.set_result(replies)


def _fail(batch: list[_Unit], error: Exception) -> None:
    """Every unit's own error: a driver's failure translated, anything else as it is."""
    for unit in batch:
        if not unit.reply.done():
            failed = isinstance(error, DRIVER_FAILURES)
            unit.reply.set_exception(translate(error, unit.doing) if failed else error)
