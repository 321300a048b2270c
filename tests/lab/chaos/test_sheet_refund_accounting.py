"""sheet.fill and payment.refund in the chaos run: planned by index in their patient's stream,
and judged from Open Dental's sheets, sheet fields, SheetField log and payments alone. A second
sheet for one fill is duplicated, a field not holding its value is lost and counted missing, a
field Open Dental logged as set twice is counted, and a refund is one offsetting payment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from lab.chaos.accounting import Accounting, account
from lab.chaos.dead_letters import DeadLetters
from lab.chaos.effects import Effects, duplicates, sheet_fills
from lab.chaos.ledger_rows import LedgerEntry, kills_inside
from lab.chaos.od_rows import FIELD_SETS, SHEET_FIELDS, OdRow
from lab.chaos.plan import (
    REGISTRATION_FIELDS,
    REGISTRATION_SHEET_DEF,
    SHEET_EVERY,
    Planned,
    plan,
    refund_amount,
)
from lab.chaos.publishing import Sent
from lab.chaos.world import PAY_DATE, World

WORLD = World(run_id="5eed5eed", offices=1, vendors=1, databases=1)
DATABASE = WORLD.office_database(1)
PAT_NUM = 7


def _steps(contract: str) -> list[Planned]:
    steps = [s for stream in plan(WORLD, 120, seed=5) for s in stream if not s.resend]
    return [s for s in steps if s.contract == contract]


def _person(step: Planned) -> tuple[str, str, str]:
    assert step.effect is not None
    return (DATABASE, step.effect.person.first, step.effect.person.birthdate)


def _row(step: Planned, table: str, *detail: str) -> OdRow:
    return OdRow(table=table, database=DATABASE, pat_num=PAT_NUM, person=_person(step),
                 detail=detail)


def _sheet_rows(step: Planned, sheet_num: int = 1) -> list[OdRow]:
    """What a whole fill leaves: the sheet, each field with its value, one log entry a field."""
    assert step.effect is not None
    sheet_def, *fields = step.effect.detail
    rows = [_row(step, "sheet", sheet_def)]
    for number, field in enumerate(fields, start=100 * sheet_num):
        name, value = field.split("=", 1)
        rows.append(_row(step, SHEET_FIELDS, sheet_def, name, value))
        rows.append(_row(step, FIELD_SETS, str(number)))
    return rows


def _account(steps: Sequence[Planned], rows: Sequence[OdRow]) -> Accounting:
    sent = [Sent(planned=step, confirmed=True) for step in steps]
    ledger = {(s.vendor, s.key): LedgerEntry(status="applied", reason=None, attempts=1,
                                             deliveries=1, od_table=None, od_primary_key=None)
              for s in steps}
    dead = DeadLetters(by_intent={}, scanned=0, complete=True, unnamed=0)
    effects = Effects(rows)
    fills = [(DATABASE, s) for s in steps if s.contract == "sheet.fill"]
    return account(WORLD, sent, ledger, dead, effects, duplicates(rows),
                   sheet_fills(rows, fills, effects))


def test_every_fourth_patient_fills_every_settable_field_after_its_patient() -> None:
    # Given a plan of 120 intents
    streams = plan(WORLD, 120, seed=5)
    fills = [s for stream in streams for s in stream if s.contract == "sheet.fill"]
    # Then the registration form is filled, all twelve settable fields, for each fourth patient
    assert fills and len(REGISTRATION_FIELDS) == 12
    for step in fills:
        assert step.effect is not None
        assert step.effect.detail[0] == str(REGISTRATION_SHEET_DEF)
        assert [f.split("=")[0] for f in step.effect.detail[1:]] == list(REGISTRATION_FIELDS)
        assert int(step.key.rsplit("-", 1)[-1]) % SHEET_EVERY == 0


def test_a_refund_follows_its_payment_by_the_vendors_reference_in_one_stream() -> None:
    # Given every stream of a plan
    for stream in plan(WORLD, 300, seed=5):
        refs: set[str] = set()
        for step in stream:
            # When a payment registers a PaymentRef, and a refund names one
            body = step.body
            assert not isinstance(body, bytes) or step.contract != "payment.refund"
            payload = getattr(body, "payload", None)
            if step.contract == "payment.create" and payload is not None and payload.PaymentRef:
                refs.add(payload.PaymentRef)
            # Then the refund names a payment created earlier in the same stream
            if step.contract == "payment.refund":
                assert payload is not None and payload.PaymentRef in refs, step.key


def test_a_whole_fill_is_applied_with_nothing_missing_or_set_twice() -> None:
    # Given a fill that left one sheet, every field holding its value, each set once
    step = _steps("sheet.fill")[0]
    # When it is accounted for
    result = _account([step], _sheet_rows(step))
    # Then it is applied, nothing duplicated, nothing missing, nothing set twice
    assert result.count("applied") == 1
    assert result.duplicates.total == 0
    assert (result.sheets.fields_missing, result.sheets.fields_set_twice) == (0, 0)


def test_a_field_not_holding_its_value_is_lost_and_counted_missing() -> None:
    # Given a fill whose sheet holds one field with its default value, not the vendor's
    step = _steps("sheet.fill")[0]
    rows = [r if r.table != SHEET_FIELDS or r.detail[1] != "employer"
            else _row(step, SHEET_FIELDS, r.detail[0], "employer", "") for r in _sheet_rows(step)]
    # When it is accounted for
    result = _account([step], rows)
    # Then the fill is lost, and one field is missing
    assert result.count("lost") == 1
    assert result.sheets.fields_missing == 1


def test_a_second_sheet_for_one_fill_is_duplicated() -> None:
    # Given a fill that left two sheets of the same definition for its patient
    step = _steps("sheet.fill")[0]
    result = _account([step], _sheet_rows(step, 1) + _sheet_rows(step, 2))
    # Then the sheet is duplicated (and the fill is not taken as applied once)
    assert result.duplicates.groups["sheet"] == 1
    assert result.count("lost") == 1


def test_a_field_logged_as_set_twice_is_counted() -> None:
    # Given a whole fill, and Open Dental's log holding a second PUT of one of its fields
    step = _steps("sheet.fill")[0]
    rows = _sheet_rows(step)
    again = next(r for r in rows if r.table == FIELD_SETS)
    # When it is accounted for
    result = _account([step], [*rows, again])
    # Then one field was set twice, though every value is right and nothing is duplicated
    assert result.sheets.fields_set_twice == 1
    assert result.count("applied") == 1
    assert result.duplicates.total == 0


def _refund_rows(step: Planned, times: int) -> list[OdRow]:
    amount = f"{-refund_amount(int(step.key.rsplit('-', 1)[-1])):.2f}"
    assert step.effect is not None and step.effect.detail == (amount,)
    return [_row(step, "payment", amount, "2031-02-01") for _ in range(times)]


def test_a_refund_is_one_offsetting_payment() -> None:
    # Given a refund, and Open Dental holding no, one or two offsetting payments
    step = _steps("payment.refund")[0]
    none, once, twice = (_account([step], _refund_rows(step, n)) for n in (0, 1, 2))
    # Then none is lost, one is applied, two is a double refund (duplicated, and not applied)
    assert none.count("lost") == 1
    assert once.count("applied") == 1 and once.duplicates.total == 0
    assert twice.duplicates.groups["payment"] == 1 and twice.count("lost") == 1


def test_the_refunded_payment_is_told_apart_from_the_drawn_payments() -> None:
    # Given a plan's payments
    steps = [s for stream in plan(WORLD, 600, seed=5) for s in stream if not s.resend]
    amounts = [s.effect.detail for s in steps if s.effect and s.effect.table == "payment"]
    # Then no two payments share an amount and date (a duplicate would be a false alarm)
    assert len(amounts) == len(set(amounts))
    assert all(detail[1] == PAY_DATE for detail in amounts)


def test_a_kill_counts_inside_a_fill_only_between_its_first_and_last_point() -> None:
    # Given a fill whose recovery points span ten seconds
    start = datetime(2031, 1, 6, 12, 0, tzinfo=UTC)
    spans = [(start, start + timedelta(seconds=10))]
    # When kills fall before, inside and after it
    kills = [start - timedelta(seconds=1), start + timedelta(seconds=5),
             start + timedelta(seconds=11)]
    # Then only the one inside counts
    assert kills_inside(kills, spans) == 1
