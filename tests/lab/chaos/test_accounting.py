"""The chaos accounting judges every intent from the ledger, the dead-letter queue and Open
Dental's rows alone: what is missing is lost, what is doubled is counted, a refusal outside the
dead-letter queue is named."""

from __future__ import annotations

from collections.abc import Sequence

from contracts import Intent
from hub.dlq import Source
from lab.chaos.accounting import Accounting, account
from lab.chaos.dead_letters import DeadLetters, Letter
from lab.chaos.effects import Effects, duplicates
from lab.chaos.ledger_rows import LedgerEntry, VendorKey
from lab.chaos.od_rows import OdRow
from lab.chaos.plan import Planned, plan
from lab.chaos.publishing import Sent
from lab.chaos.report import Chaos, ChaosReport
from lab.chaos.world import World

WORLD = World(run_id="0badcafe", offices=1, vendors=1, databases=1)
DATABASE = WORLD.office_database(1)


def _steps() -> list[Planned]:
    return [s for stream in plan(WORLD, 40, seed=2) for s in stream if not s.resend]


def _entry(status: str, reason: str | None = None) -> LedgerEntry:
    return LedgerEntry(status=status, reason=reason, attempts=1, deliveries=1, od_table=None,
                       od_primary_key=None)


def _row_of(step: Planned, pat_num: int) -> OdRow:
    """The Open Dental row an applied ``step`` leaves (its natural key)."""
    assert step.effect is not None
    person = (DATABASE, step.effect.person.first, step.effect.person.birthdate)
    table = "patient" if step.effect.table == "patient.update" else step.effect.table
    detail = step.effect.detail if table != "patient" else (step.effect.detail or ("",))
    return OdRow(table=table, database=DATABASE, pat_num=pat_num, person=person,
                 detail=tuple(detail))


def _account(steps: Sequence[Planned], ledger: dict[VendorKey, LedgerEntry],
             letters: dict[VendorKey, list[Letter]], rows: Sequence[OdRow]) -> Accounting:
    sent = [Sent(planned=step, confirmed=True) for step in steps]
    dead = DeadLetters(by_intent=letters, scanned=sum(map(len, letters.values())),
                       complete=True, unnamed=0)
    return account(WORLD, sent, ledger, dead, Effects(rows), duplicates(rows))


def _all_applied(steps: Sequence[Planned]) -> tuple[dict[VendorKey, LedgerEntry], list[OdRow]]:
    ledger, rows = {}, []
    for number, step in enumerate(steps, start=1):
        ledger[(step.vendor, step.key)] = _entry("applied")
        if step.effect is not None:
            rows.append(_row_of(step, pat_num=number))
    return ledger, rows


def _creates(steps: Sequence[Planned]) -> list[Planned]:
    return [s for s in steps if s.effect is not None and s.effect.table == "commlog"]


def test_an_intent_with_no_end_anywhere_is_lost() -> None:
    # Given a commlog the broker confirmed, and neither the ledger nor hub.dead knows of it
    steps = _steps()
    step = _creates(steps)[0]
    # When it is accounted for
    result = _account([step], {}, {}, [])
    # Then it is lost, and says why
    assert result.count("lost") == 1
    assert result.ended[0].end.why == "no ledger entry, no dead letter"


def test_an_applied_create_without_its_row_is_lost() -> None:
    # Given a commlog the ledger calls applied, and no such row in Open Dental
    steps = _steps()
    step = _creates(steps)[0]
    # When it is accounted for
    result = _account([step], {(step.vendor, step.key): _entry("applied")}, {}, [])
    # Then it counts as lost, not as applied
    assert (result.count("applied"), result.count("lost")) == (0, 1)


def test_a_second_row_for_one_natural_key_is_a_duplicate() -> None:
    # Given every commlog applied once, and one of them twice in Open Dental's table
    steps = _steps()
    notes = _creates(steps)
    ledger, rows = _all_applied(notes)
    rows.append(rows[0])
    # When they are accounted for
    result = _account(notes, ledger, {}, rows)
    # Then one commlog group is doubled, and nothing is lost
    assert (result.duplicates.total, dict(result.duplicates.groups)) == (1, {"commlog": 1})
    assert result.count("lost") == 0


def test_a_refusal_must_sit_in_the_dead_letter_queue_with_the_ledgers_reason() -> None:
    # Given two intents the ledger rejected: one dead-lettered with the ledger's reason, one not
    steps = _steps()
    first, second = _creates(steps)[:2]
    ledger = {(s.vendor, s.key): _entry("rejected", "od_rejected") for s in (first, second)}
    letters = {(first.vendor, first.key): [Letter(reason="od_rejected", source=Source.WRITER)],
               (second.vendor, second.key): [Letter(reason="invalid", source=Source.WRITER)]}
    # When they are accounted for
    result = _account([first, second], ledger, letters, [])
    # Then only the second is named as missing from hub.dead
    assert [e.planned.key for e in result.not_in_dlq] == [second.key]


def test_an_intent_planned_to_apply_that_ended_dead_fails_the_run() -> None:
    # Given every intent applied but one planned to apply, which ended dead (retries exhausted)
    # and sits in hub.dead with its reason: nothing lost, nothing doubled
    step, *others = _creates(_steps())[:3]
    assert step.expect == "applied"
    ledger, rows = _all_applied(others)
    ledger[(step.vendor, step.key)] = _entry("dead", "retries_exhausted")
    letters = {(step.vendor, step.key): [Letter(reason="retries_exhausted", source=Source.WRITER)]}
    # When the run is judged
    result = _account([step, *others], ledger, letters, rows)
    chaos = Chaos(writer_kills=0, writer_starts=1, writer_own_exits=(), broker_restarts=0,
                  faults_injected={}, drained=True)
    report = ChaosReport(run_id="r", options={}, elapsed_s=1.0, accounting=result, chaos=chaos)
    # Then it is not ok, and names how the intent ended against its plan
    assert (report.lost, report.dead_lettered_ok) == (0, True)
    assert result.unexpected == {"applied -> dead:retries_exhausted": 1}
    assert not report.ok


def test_refusals_before_the_ledger_end_by_their_dead_letters() -> None:
    # Given one intent refused before any claim (a writer's dead letter) and one the broker
    # dead-lettered past the delivery limit while the ledger still held it in flight
    steps = _steps()
    first, second = _creates(steps)[:2]
    ledger = {(second.vendor, second.key): _entry("attempting")}
    letters = {(first.vendor, first.key): [Letter(reason="invalid", source=Source.WRITER)],
               (second.vendor, second.key): [Letter(reason="delivery_limit",
                                                    source=Source.BROKER)]}
    # When they are accounted for
    result = _account([first, second], ledger, letters, [])
    # Then the first is rejected and the second dead, both in hub.dead, none lost
    assert [e.end.label for e in result.ended] == ["rejected:invalid", "dead:delivery_limit"]
    assert result.count("lost") == 0 and not result.not_in_dlq


def test_a_refused_create_whose_row_exists_is_reported() -> None:
    # Given a commlog the ledger calls dead, yet Open Dental holds its row
    steps = _steps()
    step = _creates(steps)[0]
    ledger = {(step.vendor, step.key): _entry("dead", "retries_exhausted")}
    letters = {(step.vendor, step.key): [Letter(reason="retries_exhausted",
                                                source=Source.WRITER)]}
    # When it is accounted for
    result = _account([step], ledger, letters, [_row_of(step, pat_num=1)])
    # Then it is dead, in hub.dead, and reported as refused yet present
    assert [e.planned.key for e in result.unapplied_with_row] == [step.key]


def _appointment_note(steps: Sequence[Planned]) -> Planned:
    return next(s for s in steps if s.effect is not None and s.effect.table == "appointment.note")


def _state(step: Planned, note: str) -> OdRow:
    """The appointment's Pattern and Note as the chaos run reads them."""
    assert step.effect is not None
    person = (DATABASE, step.effect.person.first, step.effect.person.birthdate)
    return OdRow(table="appointment_state", database=DATABASE, pat_num=1, person=person,
                 detail=("/XX/", note))


def test_a_note_appended_once_is_applied_and_twice_is_a_duplicate() -> None:
    # Given an appointment note the ledger calls applied
    step = _appointment_note(_steps())
    assert step.effect is not None
    text = step.effect.detail[0]
    ledger = {(step.vendor, step.key): _entry("applied")}
    # When the appointment's Note holds it once, then twice
    once = _account([step], ledger, {}, [_state(step, f"Booked online.\r\n{text}")])
    twice = _account([step], ledger, {}, [_state(step, f"Booked online.\r\n{text}\r\n{text}")])
    # Then once is applied with nothing doubled; twice is a doubled note, not an applied one
    assert (once.count("applied"), once.duplicates.total) == (1, 0)
    assert dict(twice.duplicates.groups) == {"appointment.note": 1}
    assert twice.count("applied") == 0


def test_the_plan_reschedules_and_notes_a_booking_after_it() -> None:
    # Given a plan
    steps = _steps()
    contracts = [s.contract for s in steps]
    # Then it holds reschedules and notes, each after the booking whose reference it names
    assert "appointment.update" in contracts and "appointment.note" in contracts
    for index, step in enumerate(steps):
        if step.contract in ("appointment.update", "appointment.note"):
            assert isinstance(step.body, Intent)
            ref = step.body.payload.subject()
            assert ref is not None
            booked = [s for s in steps[:index] if s.contract == "appointment.create"
                      and isinstance(s.body, Intent)
                      and s.body.payload.new_ref() == ref.ref]
            assert len(booked) == 1
