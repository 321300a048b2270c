"""The chaos run's mix: exactly the asked number of distinct intents, every patient its own
natural key, and every stream in an order the writer can apply."""

from __future__ import annotations

from collections import Counter

from lab.chaos.plan import APPLIED, plan
from lab.chaos.world import World

WORLD = World(run_id="0123abcd", offices=4, vendors=3, databases=2)


def test_the_plan_holds_the_asked_number_of_distinct_intents() -> None:
    # Given a world of 4 offices and 3 vendors
    # When 1,000 intents are planned
    streams = plan(WORLD, 1000, seed=7)
    steps = [step for stream in streams for step in stream]
    fresh = [step for step in steps if not step.resend]
    # Then there are 1,000 distinct (vendor, key), and each re-send repeats one of them
    assert len(fresh) == 1000
    assert len({(s.vendor, s.key) for s in fresh}) == 1000
    assert {(s.vendor, s.key) for s in steps if s.resend} <= {(s.vendor, s.key) for s in fresh}


def test_every_patient_has_its_own_name_and_birthdate() -> None:
    # Given a plan of 2,000 intents
    steps = [step for stream in plan(WORLD, 2000, seed=3) for step in stream if not step.resend]
    # When the patients it creates are keyed by (LName, FName, Birthdate)
    people = [s.effect.person for s in steps if s.effect and s.effect.table == "patient"]
    keys = Counter((p.last, p.first, p.birthdate) for p in people)
    # Then no key is shared, and all share the run's surname
    assert people and max(keys.values()) == 1
    assert {p.last for p in people} == {WORLD.surname}


def test_a_stream_names_a_patient_only_after_creating_it() -> None:
    # Given every stream of a plan
    for stream in plan(WORLD, 1500, seed=11):
        created: set[str] = set()
        for step in stream:
            # When a step applies to a patient of the run
            if step.effect is None or step.expect != APPLIED:
                continue
            person = step.effect.person.first
            # Then its patient.create came earlier in the same (vendor, office) stream
            if step.contract == "patient.create":
                created.add(person)
            else:
                assert person in created, step.key
            assert (step.vendor, step.office) == (stream[0].vendor, stream[0].office)


def test_the_plan_mixes_refusals_in() -> None:
    # Given a large plan
    steps = [step for stream in plan(WORLD, 5000, seed=1) for step in stream if not step.resend]
    # When its expected ends are counted
    expected = Counter(step.expect for step in steps)
    # Then each kind of refusal is there, a few of each
    for reason in ("invalid", "unauthorized", "unknown_reference"):
        assert 0 < expected[f"rejected:{reason}"] < 100
