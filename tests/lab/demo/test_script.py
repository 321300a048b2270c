"""The scripted mix is unique per run: keys, references and patients never meet another run's."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import ContractViolation, Intent, parse_intent
from lab.demo.config import Cast
from lab.demo.people import Run
from lab.demo.script import Found, Step, forms_steps, reminder_steps

TODAY = date(2030, 1, 15)


def whole_script(run: Run) -> list[Step]:
    found = {i: Found(pat_num=10 + i, apt_num=20 + i) for i in (1, 2, 3)}
    return forms_steps(run, Cast(), 3, 1) + reminder_steps(run, Cast(), found)


def test_two_runs_share_no_key_reference_or_patient() -> None:
    # Given the scripts of two runs
    first, second = Run(id="0a1b2c3d", today=TODAY), Run(id="9e8f7a6b", today=TODAY)
    steps = {run.id: whole_script(run) for run in (first, second)}

    # When their keys, vendor references and patients' natural keys are collected
    def keys(run: Run) -> set[str]:
        return {step.key for step in steps[run.id]}

    def people(run: Run) -> set[tuple[str, str, str]]:
        rows = [step.creates for step in steps[run.id] if step.creates is not None]
        return {(r.person.last, r.person.first, r.person.birthdate) for r in rows}

    def refs(run: Run) -> set[str]:
        found: set[str] = set()
        for step in steps[run.id]:
            if isinstance(step.body, Intent):
                payload = step.body.payload.model_dump(exclude_none=True)
                found |= {v for k, v in payload.items() if k.endswith("Ref")}
        return found

    # Then each run's keys and references carry its id, and the runs share none, nor a patient
    for run in (first, second):
        assert all(key.startswith(run.prefix) for key in keys(run) | refs(run))
    assert not keys(first) & keys(second)
    assert not refs(first) & refs(second)
    assert not people(first) & people(second)


def test_only_the_broken_bodies_break_their_contract() -> None:
    # Given a run's script
    steps = whole_script(Run(id="0a1b2c3d", today=TODAY))

    # When every body is read as the writer reads it
    raw = [step for step in steps if isinstance(step.body, bytes)]
    typed = [step.body for step in steps if isinstance(step.body, Intent)]

    # Then the three raw bodies, and only they, break their contract, each as the script expects
    assert [step.expect for step in raw] == ["rejected:invalid"] * 3
    for step in raw:
        assert isinstance(step.body, bytes)
        with pytest.raises(ContractViolation):
            parse_intent(step.body)
    assert all(parse_intent(body.to_json().encode()) == body for body in typed)
