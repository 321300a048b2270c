"""One demo run: the stack up and the watch's first scan, demo-forms' phase, what its outcomes
taught demo-reminders, the reminders' phases, every outcome awaited; Open Dental's rows checked,
then a row changed through each of the other three doors and one scan of the watch attributing
every change (and telling change events); then the accounting, the checks and one trace.

Progress lines (phase, confirmed and refused publishes, outcomes so far) go to ``progress``;
they carry counts and ids only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date

from contracts import ChangeEvent
from hub.ledger import MySqlLedger
from hub.observability import FamilyRegistry, HubMetrics, LabelBounds
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.settings import HubSettings, MySqlSettings
from hub.trace import IntentTarget, intent_text, run_intent_trace
from hub.watch import Attribution, Watch, opened_watch, scan_once
from hub.watch.telling import change_teller
from lab.demo import script
from lab.demo.accounting import StepResult, pair, tally
from lab.demo.change_checks import ChangeCheck, check_changes
from lab.demo.checks import (
    RepeatCalls,
    RowCheck,
    TableCount,
    check_repeats,
    check_rows,
    count_tables,
)
from lab.demo.config import DemoConfig, DemoError, StartSimulator
from lab.demo.doors import (
    MIN_PATIENTS,
    DoorsReport,
    HubRow,
    Opened,
    hub_rows,
    open_doors,
    sim_client,
)
from lab.demo.local_tls import LinkTls, links_over_tls
from lab.demo.outcomes import OutcomeBook, VendorKey
from lab.demo.people import Run
from lab.demo.report import DemoReport
from lab.demo.stack import Progress, Stack, running_stack
from lab.demo.vendors import DemoVendor, Sent

PROGRESS_EVERY_S = 1.0
CHECK_CONNECTIONS = 2
LINK_POLLS = 15  # seconds for the management API to list every connection


class _Unmeasured:
    """The demo's own SQL checks have no metrics endpoint."""

    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        return None


class _Ticker:
    """Outcome progress, at most one line a second (and the last one always)."""

    def __init__(self, progress: Progress, book: OutcomeBook, total: Callable[[], int]) -> None:
        self._progress, self._book, self._total = progress, book, total
        self._last = 0.0

    def __call__(self, *, force: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        if force or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            events = self._book.events
            kinds = Counter("duplicate" if e.duplicate else e.status.value for e in events)
            shown = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
            self._progress(f"outcomes {len(events)}/{self._total()}: {shown or 'none yet'}")


async def _publish(
    vendor: DemoVendor, steps: Sequence[script.Step], progress: Progress
) -> list[Sent]:
    """One at a time, each confirmed before the next: the office's queue keeps this order."""
    sent = [await vendor.send(step) for step in steps]
    confirmed = sum(1 for s in sent if s.confirmed)
    phase = steps[0].phase if steps else "-"
    progress(f"phase {phase}: {confirmed}/{len(sent)} confirmed by the broker, "
             f"{len(sent) - confirmed} refused")
    return sent


def _expected(sent: Sequence[Sent]) -> Counter[VendorKey]:
    return Counter((s.step.login, s.step.key) for s in sent if s.confirmed)


async def _learn(
    book: OutcomeBook, run: Run, config: DemoConfig, deadline: float, tick: _Ticker
) -> dict[int, script.Found]:
    """The PatNums and AptNums demo-forms' outcome events named: all a reminders vendor knows."""
    forms = config.cast.forms
    keys = script.found_keys(run, config.patients)
    wanted = Counter((forms, key) for both in keys.values() for key in both)
    await book.wait(wanted, deadline, tick)
    found = {}
    for index, (patient_key, appointment_key) in keys.items():
        patient = book.first_applied(forms, patient_key)
        appointment = book.first_applied(forms, appointment_key)
        if patient is not None and patient.od:
            apt_num = appointment.od[0].primary_key if appointment and appointment.od else None
            found[index] = script.Found(pat_num=patient.od[0].primary_key, apt_num=apt_num)
    return found


async def _learn_payments(
    book: OutcomeBook, run: Run, config: DemoConfig, found: Mapping[int, script.Found],
    deadline: float, tick: _Ticker,
) -> dict[int, int]:
    """The PayNums demo-reminders' payment outcomes named, for the refunds of phase 3."""
    reminders = config.cast.reminders
    keys = script.payment_keys(run, found)
    await book.wait(Counter((reminders, key) for key in keys.values()), deadline, tick)
    paid = {}
    for index, key in keys.items():
        event = book.first_applied(reminders, key)
        if event is not None and event.od:
            paid[index] = event.od[0].primary_key
    return paid


@asynccontextmanager
async def _vendors(config: DemoConfig, stack: Stack, book: OutcomeBook) -> AsyncIterator[
    tuple[DemoVendor, DemoVendor]
]:
    """Both vendors connected, their outcome queues followed into ``book`` until exit."""
    tls = None if config.tls is None else config.tls.vendor_context()
    async with AsyncExitStack() as exits:
        forms, reminders = [
            await exits.enter_async_context(DemoVendor(name, stack.vendor_urls[name], tls))
            for name in (config.cast.forms, config.cast.reminders)
        ]
        tasks = [asyncio.create_task(book.follow(vendor)) for vendor in (forms, reminders)]
        try:
            yield forms, reminders
        finally:
            for task in tasks:
                task.cancel()
            ended = await asyncio.gather(*tasks, return_exceptions=True)
        failure = next((e for e in ended if isinstance(e, Exception)), None)
        if failure is not None:
            raise DemoError(f"a vendor's outcomes could not be read: {failure}") from failure


_FORM = "SELECT SheetDefNum FROM sheetdef WHERE Description = %s ORDER BY SheetDefNum LIMIT 1"


async def _registration_form(config: DemoConfig, stack: Stack) -> int:
    """The SheetDefNum of the office's registration form, which demo-forms fills: each office
    numbers its own sheet definitions, so the vendor learns it from the office, not the code."""
    db = stack.registry.office(config.cast.office).db.connection(config.settings.tls)
    async with ReadOnlyDatabase.open(
        db, timeout_s=config.settings.od_sql_timeout_s, max_concurrent=1, observer=_Unmeasured(),
    ) as od:
        rows = await od.select("demo_registration_form", _FORM, (script.REGISTRATION_FORM,))
    if not rows:
        raise DemoError(
            f"{config.cast.office}'s Open Dental has no sheet definition "
            f"{script.REGISTRATION_FORM!r} (sheetdef.Description), which demo-forms fills"
        )
    return int(str(rows[0]["SheetDefNum"]))


async def _play(
    config: DemoConfig, run: Run, book: OutcomeBook, vendors: tuple[DemoVendor, DemoVendor],
    form: int, deadline: float, progress: Progress,
) -> tuple[list[Sent], dict[int, script.Found]]:
    """The three phases; then every outcome awaited, until the run's deadline."""
    cast = config.cast
    forms, reminders = vendors
    sent: list[Sent] = []
    tick = _Ticker(progress, book, lambda: sum(_expected(sent).values()))
    steps = script.forms_steps(run, cast, config.patients, form)
    sent += await _publish(forms, steps, progress)
    found = await _learn(book, run, config, deadline, tick)
    progress(f"{cast.reminders} learned {len(found)} PatNum(s) from {cast.forms}' outcomes")
    sent += await _publish(reminders, script.reminder_steps(run, cast, found), progress)
    paid = await _learn_payments(book, run, config, found, deadline, tick)
    sent += await _publish(reminders, script.refund_steps(run, cast, paid), progress)
    complete = await book.wait(_expected(sent), deadline, tick)
    tick(force=True)
    if not complete:
        progress(f"gave up waiting for outcomes after {config.outcome_timeout_s} s")
    return sent, found


@asynccontextmanager
async def _watching(config: DemoConfig, stack: Stack) -> AsyncIterator[Watch]:
    """``hub watch``'s parts over the cast's office, in process, telling change events as the
    watch does; scanned when the demo says, not on an interval."""
    office = stack.registry.office(config.cast.office)
    registry = dataclasses.replace(stack.registry, offices={office.id: office})
    metrics = HubMetrics(FamilyRegistry(), LabelBounds.from_registry(registry))
    async with (
        change_teller(config.settings, registry) as tell,
        opened_watch(config.settings, registry, metrics, tell) as watch,
    ):
        yield watch


async def _through_doors(
    config: DemoConfig, stack: Stack, run: Run, found: Mapping[int, script.Found],
    watch: Watch, progress: Progress,
) -> tuple[Opened, list[Attribution], list[Attribution]]:
    """A scan for the hub's changes, the other three doors, and a scan for theirs."""
    hub_scan = await scan_once(watch)
    progress(f"the watch's scan after the intents attributed {len(hub_scan)} change(s)")
    office = stack.registry.office(config.cast.office)
    tls = None if config.tls is None else config.tls.vendor_context()
    async with sim_client(tls) as client:
        opened = await open_doors(client, office, run, found)
    progress("the front desk, another API developer and a direct writer changed a row each")
    door_scan = await scan_once(watch)
    progress(f"the watch's scan after the doors attributed {len(door_scan)} change(s)")
    return opened, hub_scan, door_scan


def _scanned(watch: Watch, office: str) -> frozenset[str]:
    tables = watch.watchers[office].tables or ()
    return frozenset(table.table.value for table in tables if table.scanned)


async def _told(
    book: OutcomeBook, config: DemoConfig, opened: Opened, deadline: float, progress: Progress
) -> dict[str, tuple[ChangeEvent, ...]]:
    """The change events each vendor got, once the reader got the front desk's reschedule (the
    scan told them before it returned, so any owed to another vendor came by then too)."""
    reader = config.cast.reminders

    def rescheduled() -> bool:
        return any((e.table.value, e.primary_key) == opened.front_desk
                   for e in book.changes.get(reader, ()))

    if not await book.wait_until(rescheduled, deadline, lambda: None):
        progress(f"gave up waiting for {reader}'s change event after "
                 f"{config.outcome_timeout_s} s")
    return {vendor: tuple(events) for vendor, events in book.changes.items()}


async def _links(config: DemoConfig, stack: Stack) -> list[LinkTls]:
    """Every link of the run as its server reports it, while the vendors and the writer are
    still connected. RabbitMQ's management API lists a connection some seconds after it opened."""
    office = stack.registry.office(config.cast.office)
    vendors = (config.cast.forms, config.cast.reminders)
    for _ in range(LINK_POLLS):
        links = await links_over_tls(config.settings, office, vendors, stack.writer_id)
        if all(link.seen for link in links):
            break
        await asyncio.sleep(1.0)
    return links


async def _od_checks(
    settings: HubSettings, db: MySqlSettings, run: Run, results: Sequence[StepResult]
) -> tuple[list[RowCheck], list[TableCount], list[ChangeCheck]]:
    async with ReadOnlyDatabase.open(
        db, timeout_s=settings.od_sql_timeout_s, max_concurrent=CHECK_CONNECTIONS,
        observer=_Unmeasured(),
    ) as od:
        return (
            await check_rows(od, results), await count_tables(od, run.surname, results),
            await check_changes(od, results),
        )


async def _ledger_checks(
    settings: HubSettings, results: Sequence[StepResult], scanned: frozenset[str]
) -> tuple[list[RepeatCalls], list[HubRow]]:
    ledger = await MySqlLedger.open(
        settings.ledger_db, retention_days=settings.ledger_retention_days,
        max_connections=CHECK_CONNECTIONS,
    )
    try:
        return await check_repeats(ledger, results), await hub_rows(ledger, results, scanned)
    finally:
        await ledger.close()


async def _trace(config: DemoConfig, target: IntentTarget) -> str | None:
    trace = await run_intent_trace(config.settings, config.environ, target)
    return None if trace is None else intent_text(trace)


async def run_demo(
    config: DemoConfig, start_simulator: StartSimulator, progress: Progress
) -> DemoReport:
    """The whole demo; the report says whether every check held (``ok``)."""
    if config.patients < MIN_PATIENTS:
        raise DemoError(f"the demo needs at least {MIN_PATIENTS} patients (the doors change two)")
    run = Run(id=uuid.uuid4().hex[:8], today=date.today())
    progress(f"run {run.id}: every key starts with {run.prefix}")
    book = OutcomeBook(run.prefix)
    async with (
        running_stack(config, start_simulator, progress) as stack,
        _watching(config, stack) as watch,
    ):
        # The watch's first scan starts its cursor now: the hub's writes to come are its news.
        await scan_once(watch)
        progress("the watch took its first scan")
        form = await _registration_form(config, stack)
        deadline = asyncio.get_running_loop().time() + config.outcome_timeout_s
        async with _vendors(config, stack, book) as vendors:
            sent, found = await _play(config, run, book, vendors, form, deadline, progress)
            links = await _links(config, stack) if config.tls is not None else []
            results = pair(sent, book.events)
            office = stack.registry.office(config.cast.office).db
            od_db = office.connection(config.settings.tls)
            # Before the other doors move the run's rows: these read what the hub wrote.
            rows, tables, changes = await _od_checks(config.settings, od_db, run, results)
            opened, hub_scan, door_scan = await _through_doors(
                config, stack, run, found, watch, progress
            )
            told = await _told(book, config, opened, deadline, progress)
        scanned = _scanned(watch, config.cast.office)
    target = IntentTarget(
        vendor=config.cast.forms, idempotency_key=run.key(script.FORMS, "appointment", 1)
    )
    repeats, written = await _ledger_checks(config.settings, results, scanned)
    doors = DoorsReport(
        hub_scan=tuple(hub_scan), door_scan=tuple(door_scan), opened=opened,
        hub_rows=tuple(written), reader=config.cast.reminders, told=told,
    )
    return DemoReport(
        run=run, tally=tally(results, book.events), results=tuple(results), rows=tuple(rows),
        tables=tuple(tables), repeats=tuple(repeats),
        leftovers=book.leftovers, links=tuple(links), trace_target=str(target),
        changes=tuple(changes), doors=doors,
        trace_text=await _trace(config, target),
    )
