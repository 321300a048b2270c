"""sheet.fill resumed after a writer stopped at each of its calls: between two calls (the last
recovery point says where to go on) or after a call whose point was never recorded (read-only
SQL says whether it landed). Whatever the step: one sheet, every field set once, none unset.
Real simulator, real ledger, real read-only account; the "kill" is an exception thrown at the
chosen call, as a stopped process leaves things: the calls it made, the points it committed."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import pytest
from prometheus_client import CollectorRegistry

from contracts import Intent, parse_intent
from contracts.v1.sheet import SheetFill
from hub.bootstrap import retry_policy
from hub.ledger import Charge, MySqlLedger
from hub.ledger.sheet_steps import SheetStep
from hub.observability.labels import LabelBounds
from hub.observability.metrics import HubMetrics
from hub.opendental import Created, OpenDentalClient, Updated, WireBody
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.results import Row
from hub.reconcile import AttemptWindow, LedgerKnownRows
from hub.reconcile.sheets import Resume, Undecidable, reconcile_fill
from hub.registry.model import Registry
from hub.settings import WriterSettings
from hub.writer.application import OdRequest
from hub.writer.decisions import Hold, HoldCause, IntentIdentity
from hub.writer.intake import Claimed, OwnAttempts
from hub.writer.metrics import WriterMetrics
from hub.writer.reconciling import Reconciler
from hub.writer.retrying import Budget
from hub.writer.sheet_fill import PointNotRecorded, SheetFillRun
from odsim.sheet_defs import REGISTRATION_FORM
from tests.contracts.examples import Example, examples
from tests.opendental.readonly_support import QueryLog
from tests.reconcile.scenarios import OFFICE, begin, intent_of, redelivered

FIELDS = {
    "preferredName": "Annie", "emergencyContactName": "Sam Doe",
    "emergencyContactPhone": "5035550100", "employer": "Acme", "occupation": "Welder",
    "referredBy": "A friend", "reasonForVisit": "Cleaning", "lastDentalVisit": "2024",
    "pharmacy": "Main St", "consentToText": "X", "consentToEmail": "X",
    "officeUseNote": "via hub",
}
CALLS = 2 + len(FIELDS)  # Sheets POST, SheetFields GET, one PUT a field


class Killed(Exception):
    """The writer process stopped here."""


@dataclass
class Writes:
    """The office's client, counting each call; stops the run before or after call ``at``."""

    od: OpenDentalClient
    before: int | None = None
    after: int | None = None
    made: int = 0
    sent: Counter[str] = field(default_factory=Counter)

    async def create_sheet(self, body: WireBody) -> Created:
        return await self._do("POST /sheets", self.od.create_sheet(body))

    async def list_sheet_fields(self, sheet_num: int) -> list[Row]:
        return await self._do("GET /sheetfields", self.od.list_sheet_fields(sheet_num))

    async def set_sheet_field(self, sheet_field_num: int, value: str) -> Updated:
        return await self._do(f"PUT /sheetfields/{sheet_field_num}",
                              self.od.set_sheet_field(sheet_field_num, value))

    async def _do(self, what: str, call):  # type: ignore[no-untyped-def]
        if self.made == self.before:
            call.close()
            raise Killed(what)
        result = await call
        self.sent[what] += 1
        self.made += 1
        if self.made - 1 == self.after:
            raise Killed(what)
        return result


async def _form(db: ReadOnlyDatabase) -> int:
    rows = await db.select("t", "SELECT SheetDefNum FROM sheetdef WHERE Description = %s",
                           [REGISTRATION_FORM])
    return int(rows[0]["SheetDefNum"])  # type: ignore[call-overload]


class Begun(NamedTuple):
    form: int
    body: WireBody
    intent: Intent
    intent_id: int
    run: SheetFillRun  # its first attempt


async def _begun(ledger: MySqlLedger, db: ReadOnlyDatabase, pat_num: int, *,
                 call_timeout_s: float = 10.0) -> Begun:
    """A fill of FIELDS on the registration form for the patient, its first attempt begun."""
    form = await _form(db)
    body: WireBody = {"PatNum": pat_num, "SheetDefNum": form}
    intent = intent_of("sheet.fill", {**body, "fields": FIELDS})
    intent_id = await begin(ledger, intent)
    run = SheetFillRun(ledger=ledger, intent_id=intent_id, fields=FIELDS,
                       call_timeout_s=call_timeout_s, attempt=1)
    return Begun(form, body, intent, intent_id, run)


async def _resume(
    ledger: MySqlLedger, db: ReadOnlyDatabase, intent_id: int, window: AttemptWindow,
    pat_num: int, form: int,
) -> Resume | Undecidable:
    async def recorded(nums: list[int]) -> frozenset[int]:
        return await ledger.sheets_recorded(OFFICE, nums, besides=intent_id)

    return await reconcile_fill(
        db, progress=await ledger.sheet_progress(intent_id), fields=FIELDS, pat_num=pat_num,
        sheet_def_num=form, window=window, sheets_recorded=recorded,
    )


@pytest.mark.parametrize("mode", ["between", "in_doubt"])
@pytest.mark.parametrize("step", range(CALLS))
async def test_a_fill_stopped_at_any_call_resumes_exactly_once(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
    step: int, mode: str,
) -> None:
    # Given a fill of 12 fields, stopped before call `step` (between) or after it, before its
    # recovery point (in doubt)
    form, body, intent, intent_id, run = await _begun(ledger, office_db, pat_num)
    first = Writes(od, before=step) if mode == "between" else Writes(od, after=step)
    with pytest.raises(Killed):
        await run.run(first, body)

    # When the intent is redelivered: reconciled, then resumed after its last point
    doubt = await redelivered(ledger, intent)
    verdict = await _resume(ledger, office_db, intent_id, AttemptWindow.of(doubt), pat_num, form)
    assert isinstance(verdict, Resume)
    # (a call in doubt that landed is found; a call never sent is not; a read is just read again)
    assert (verdict.step is not None) == (mode == "in_doubt" and step != 1)
    if verdict.step is not None:
        await ledger.record_sheet_step(intent_id, verdict.step, attempt=doubt.attempts)
    second = Writes(od)
    made = await run.run(second, body)

    # Then one sheet, each field sent once over both runs and holding its value, none unset
    sheets = await office_db.select("t", "SELECT SheetNum FROM sheet WHERE PatNum = %s",
                                    [pat_num])
    assert [row["SheetNum"] for row in sheets] == [made.primary_key]
    sent = first.sent + second.sent
    assert sent["POST /sheets"] == 1
    puts = {what: n for what, n in sent.items() if what.startswith("PUT")}
    assert len(puts) == len(FIELDS) and set(puts.values()) == {1}, puts
    values = await office_db.select(
        "t", "SELECT FieldName, FieldValue FROM sheetfield WHERE SheetNum = %s",
        [made.primary_key])
    held = {row["FieldName"]: row["FieldValue"] for row in values}
    assert {name: held[name] for name in FIELDS} == FIELDS
    # And the ledger holds one point a call: created, listed, and each field once
    progress = await ledger.sheet_progress(intent_id)
    assert (progress.sheet_num, progress.set_fields) == (made.primary_key, frozenset(FIELDS))


async def test_two_sheets_that_fit_a_lost_post_are_ambiguous_and_one_another_fill_made_is_not(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a fill whose Sheets POST was lost, and two sheets of the patient and form made since
    form, body, intent, intent_id, _ = await _begun(ledger, office_db, pat_num)
    one = (await od.create_sheet(body)).primary_key
    two = (await od.create_sheet(body)).primary_key
    doubt = await redelivered(ledger, intent)
    window = AttemptWindow.of(doubt)

    # When it is reconciled
    verdict = await _resume(ledger, office_db, intent_id, window, pat_num, form)

    # Then a person decides, between both
    assert verdict == Undecidable(table="sheet", primary_keys=(one, two), why=verdict.why)

    # And once another fill has recorded the first as its own, the second is this fill's
    other = intent_of("sheet.fill", {**body, "fields": FIELDS})
    other_id = await begin(ledger, other)
    await ledger.record_sheet_step(other_id, SheetStep.created(one), attempt=1)
    verdict = await _resume(ledger, office_db, intent_id, window, pat_num, form)
    assert verdict == Resume(step=SheetStep.created(two), landed=True)


async def test_a_field_someone_else_changed_meanwhile_is_for_a_person(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a fill stopped after its first PUT was sent, whose field someone then changed again
    form, body, intent, intent_id, run = await _begun(ledger, office_db, pat_num)
    with pytest.raises(Killed):
        await run.run(Writes(od, after=2), body)
    progress = await ledger.sheet_progress(intent_id)
    assert progress.listed is not None and progress.sheet_num is not None
    first = next(f for f in progress.listed if f.name == "preferredName")
    await od.set_sheet_field(first.sheet_field_num, "Someone else's")
    doubt = await redelivered(ledger, intent)

    # When it is reconciled
    verdict = await _resume(ledger, office_db, intent_id, AttemptWindow.of(doubt), pat_num, form)

    # Then the hub neither resends nor counts it set: a person decides, with the field
    assert verdict == Undecidable(table="sheetfield", primary_keys=(first.sheet_field_num,),
                                  why=verdict.why)


@pytest.mark.parametrize(
    "example", [e for e in examples("valid-") if e.id.startswith("sheet.fill.")],
    ids=lambda example: example.id,
)
async def test_every_sheet_fill_example_in_doubt_is_looked_up(
    example: Example, office_db: ReadOnlyDatabase, query_log: QueryLog, ledger: MySqlLedger,
) -> None:
    # Given a committed example, its Sheets POST in doubt in an office where nothing landed
    intent = parse_intent(example.path.read_text())
    assert isinstance(intent.payload, SheetFill)
    intent_id = await begin(ledger, intent)
    doubt = await redelivered(ledger, intent)

    # When it is reconciled
    verdict = await _resume(ledger, office_db, intent_id, AttemptWindow.of(doubt), 1,
                            intent.payload.SheetDefNum)

    # Then the sheet lookup ran and found nothing: Sheets POST is sent again
    assert verdict == Resume(step=None, landed=False)
    assert [record.query_name for record in query_log.records] == [
        "reconcile_window", "reconcile_sheet"]


@dataclass
class Taken(Writes):
    """The office's client of a writer that lost its delivery: after call ``taken_at`` another
    writer takes the intent over (releases the attempt in doubt and begins the next)."""

    ledger: MySqlLedger | None = None
    intent_id: int = 0
    taken_at: int = 0

    async def _do(self, what: str, call):  # type: ignore[no-untyped-def]
        result = await super()._do(what, call)
        if self.made - 1 == self.taken_at:
            assert self.ledger is not None
            await self.ledger.release_attempt(self.intent_id, "in doubt; taken over", Charge.FREE)
            assert await self.ledger.begin_attempt(self.intent_id, writer_id="next") == 2
        return result


async def test_a_fill_whose_intent_another_writer_took_over_stops_at_its_next_point(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a fill running as attempt 1, whose intent another writer takes over after its
    # third call (the first PUT) has landed
    _, body, _, intent_id, run = await _begun(ledger, office_db, pat_num)
    writes = Taken(od, ledger=ledger, intent_id=intent_id, taken_at=2)

    # When it goes on
    with pytest.raises(PointNotRecorded) as stopped:
        await run.run(writes, body)

    # Then it stops at that call's point, in doubt for the new attempt to reconcile, and sends
    # nothing more
    assert stopped.value.maybe_applied
    assert writes.made == 3
    progress = await ledger.sheet_progress(intent_id)
    assert progress.listed is not None and progress.set_fields == frozenset()


class _Board:
    def state(self, office: str, state: object, cause: str | None = None) -> None:
        """The lanes' board: not what this test looks at."""

    def error(self, office: str, code: str) -> None:
        """As above."""


async def test_another_writer_s_fill_is_reconciled_only_its_time_limit_after_its_last_point(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a fill begun an hour ago by another writer, stopped after its fourth call (the
    # second PUT) before that call's point: its attempt is far older than its time limit, but
    # its last point was recorded just now
    _, body, intent, intent_id, run = await _begun(ledger, office_db, pat_num, call_timeout_s=30)
    with pytest.raises(Killed):
        await run.run(Writes(od, after=3), body)
    doubt = await redelivered(ledger, intent)
    registry = Registry(offices={}, vendors={})
    reconciler = Reconciler(
        known_rows=LedgerKnownRows(ledger), databases={OFFICE: office_db}, ledger=ledger,
        policy=retry_policy(WriterSettings(), random.Random(1)), attempt_timeout_s=30.0,
        metrics=WriterMetrics(HubMetrics(CollectorRegistry(), LabelBounds.from_registry(registry)),
                              _Board()),
        own=OwnAttempts(writer_id="next"),
    )
    claimed = Claimed(identity=IntentIdentity(office=OFFICE, intent_id=intent_id),
                      budget=Budget(attempt_age_s=3600.0), doubt=doubt)
    request = OdRequest(body=body, fill=run)

    # When the writer that took it over resolves the doubt
    waited = await reconciler.resolve_doubt(claimed, intent, request)

    # Then it waits the time limit out from the last point, asking nothing yet
    assert isinstance(waited, Hold) and waited.cause is HoldCause.MAYBE_APPLIED
    assert 29.0 < waited.delay_s <= 31.0
    # And once that has passed (the limit made nothing here), the call in doubt is found to
    # have landed and the fill goes on after it
    monkeypatch.setattr("hub.writer.reconciling.IN_FLIGHT_MARGIN_S", 0.0)
    resumed = await replace(reconciler, attempt_timeout_s=0.0).resolve_doubt(
        claimed, intent, request)
    assert isinstance(resumed, Claimed) and resumed.resent
    assert len((await ledger.sheet_progress(intent_id)).set_fields) == 2
