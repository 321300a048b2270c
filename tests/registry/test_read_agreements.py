"""Read agreements: which watched tables' changes a vendor is told of, and which columns' values
it may receive; a bad one names its field path and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.registry import RegistryError, load_registry
from tests.registry.test_registry import ENV, GOOD, write_registry

READS = GOOD.replace(
    'contracts = ["appointment.create"]',
    'contracts = ["appointment.create"]\n'
    'read = [{ table = "appointment", values = ["AptDateTime", "Op", "AptStatus"] },'
    ' { table = "patient" }]',
) + """
[[vendors]]
name = "reminders"

[[vendors.agreements]]
office = "office-b"
read = [{ table = "appointment" }]
"""


def test_a_read_agreement_names_the_readers_of_a_table_and_their_columns(tmp_path: Path) -> None:
    # Given a vendor that also reads at office-b, and one that only reads there
    registry = load_registry(write_registry(tmp_path, READS), ENV)
    # When asked who reads appointments and patients at office-b, and at office-a
    appointments = registry.readers("office-b", "appointment")
    patients = registry.readers("office-b", "patient")
    # Then each reader comes with the columns whose values it may receive (none unless listed)
    assert appointments == {
        "forms": frozenset({"AptDateTime", "Op", "AptStatus"}),
        "reminders": frozenset(),
    }
    assert patients == {"forms": frozenset()}
    assert registry.readers("office-a", "appointment") == {}
    # And an agreement that only reads grants no publish to that office
    assert registry.vendor("reminders").offices == ()
    assert registry.vendor("forms").offices == ("office-a", "office-b")


BAD_READS = {
    "unknown table": (
        '{ table = "patient" }', '{ table = "securitylog" }',
        "vendors[0].agreements[1].read[1].table",
        "unknown table 'securitylog'; watched: patient, appointment, commlog",
    ),
    "unknown column of its table": (
        '"AptStatus"', '"LName"',
        "vendors[0].agreements[1].read[0].values[2]",
        "unknown column 'LName' of table 'appointment'",
    ),
    "a table twice": (
        '{ table = "patient" }', '{ table = "appointment" }',
        "vendors[0].agreements[1].read[1].table",
        "duplicate table 'appointment' (first at vendors[0].agreements[1].read[0].table)",
    ),
    "a column twice": (
        '"Op", "AptStatus"', '"Op", "Op"',
        "vendors[0].agreements[1].read[0].values[2]",
        "duplicate column 'Op'",
    ),
    "an unknown key": (
        '{ table = "patient" }', '{ table = "patient", columns = ["LName"] }',
        "vendors[0].agreements[1].read[1].columns",
        "unknown key",
    ),
}


@pytest.mark.parametrize("case", BAD_READS.values(), ids=BAD_READS.keys())
def test_a_bad_read_agreement_is_refused_naming_the_field_and_the_rule(
    tmp_path: Path, case: tuple[str, str, str, str]
) -> None:
    # Given a read agreement with one mistake
    old, new, path, rule = case
    assert old in READS
    registry_file = write_registry(tmp_path, READS.replace(old, new, 1))
    # When it is loaded
    with pytest.raises(RegistryError) as refused:
        load_registry(registry_file, ENV)
    # Then the error names the field path and the rule
    assert f"{path}: {rule}" in str(refused.value)
