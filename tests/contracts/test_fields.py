"""The shared formats: the date patterns must agree with the calendar, since JSON Schema checks
dates with them alone."""

from __future__ import annotations

import calendar
import re
from datetime import date

import pytest

from contracts.fields import OD_DATE, OD_DATETIME, PHONE, RFC3339, SHAPES, ZIP, shape_of

SAMPLE_YEARS = [1000, 1600, 1900, 1999, 2000, 2023, 2024, 2100, 2400, 9996, 9999]


def _is_real(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def test_the_date_pattern_matches_exactly_the_real_days_of_sample_years() -> None:
    # Given every month/day string 01-01..12-31 (and 00, 13, 32) of years with every leap rule
    pattern = re.compile(OD_DATE.pattern)
    # When each is matched
    wrong = [
        f"{y:04d}-{m:02d}-{d:02d}"
        for y in SAMPLE_YEARS
        for m in range(0, 14)
        for d in range(0, 33)
        if bool(pattern.match(f"{y:04d}-{m:02d}-{d:02d}")) != _is_real(y, m, d)
    ]
    # Then the pattern accepts the real days and only them
    assert wrong == []


def test_february_29_matches_exactly_the_leap_years() -> None:
    # Given February 29 of every year from 1000 to 9999
    pattern = re.compile(OD_DATE.pattern)
    # When each is matched
    wrong = [
        y for y in range(1000, 10000) if bool(pattern.match(f"{y}-02-29")) != calendar.isleap(y)
    ]
    # Then leap years alone match
    assert wrong == []


@pytest.mark.parametrize(
    "text", ["0999-12-31", "0001-01-01", "2024-1-05", "2024-01-05 ", "20240105"]
)
def test_the_date_pattern_refuses_other_shapes(text: str) -> None:
    # Given a date outside 1000-9999 or not written yyyy-MM-dd
    # When matched
    # Then it is refused
    assert not re.search(OD_DATE.pattern, text)


@pytest.mark.parametrize(
    ("shape_pattern", "good", "bad"),
    [
        (OD_DATETIME.pattern, "2025-04-02 23:59:59", "2025-04-02 24:00:00"),
        (RFC3339.pattern, "2025-04-02T09:30:00.123Z", "2025-04-02T09:30:00"),
        (RFC3339.pattern, "2025-04-02T09:30:00-05:00", "2025-04-02 09:30:00-05:00"),
        (PHONE.pattern, "+1 (217) 555.0142", "555-014"),
        (PHONE.pattern, "2175550142", "217-555-01x2"),
        (ZIP.pattern, "K1A 0B1", "k1a 0b1"),
        (ZIP.pattern, "62701-1234", "62701-12"),
    ],
)
def test_formats_accept_the_good_and_refuse_the_bad(
    shape_pattern: str, good: str, bad: str
) -> None:
    # Given a format and one good and one bad value
    pattern = re.compile(shape_pattern)
    # When both are matched
    # Then only the good one passes
    assert pattern.search(good)
    assert not pattern.search(bad)


def test_every_shape_is_found_by_its_pattern() -> None:
    # Given the registered shapes
    # When each is looked up by the pattern pydantic reports
    found = [shape_of(shape.pattern) for shape in SHAPES]
    # Then each maps back to itself, so its rule and words reach the error
    assert found == list(SHAPES)
