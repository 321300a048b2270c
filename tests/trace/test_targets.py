"""Parsing what ``hub trace`` is asked about."""

from __future__ import annotations

import pytest

from hub.opendental.reconcile_queries import OdTable
from hub.trace import TraceError, parse_intent_target, parse_row_target


@pytest.mark.parametrize(
    ("text", "vendor", "key"),
    [("forms-co:abc", "forms-co", "abc"), ("forms-co:2031:05:06:x", "forms-co", "2031:05:06:x")],
)
def test_an_intent_splits_on_the_first_colon_only(text: str, vendor: str, key: str) -> None:
    # Given VENDOR:KEY text, When it is parsed, Then the key keeps every later colon
    target = parse_intent_target(text)
    assert (target.vendor, target.idempotency_key) == (vendor, key)


@pytest.mark.parametrize("text", ["forms-co", ":abc", "forms-co:", ""])
def test_an_intent_needs_both_a_vendor_and_a_key(text: str) -> None:
    # Given text without a vendor or a key, When it is parsed, Then it is refused by name
    with pytest.raises(TraceError, match="VENDOR:IDEMPOTENCY_KEY"):
        parse_intent_target(text)


@pytest.mark.parametrize("table", list(OdTable))
def test_a_row_names_a_table_and_its_key(table: OdTable) -> None:
    # Given TABLE:KEY for each table the hub writes, When it is parsed, Then both are kept
    target = parse_row_target(f"{table.value}:17")
    assert (target.table, target.primary_key) == (table, 17)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("procedurelog:3", "must be one of patient, appointment, commlog, payment"),
        ("patient", "positive whole number"),
        ("patient:0", "positive whole number"),
        ("patient:-4", "positive whole number"),
        ("patient:٤", "positive whole number"),  # a digit, but not one the database stores
    ],
)
def test_a_bad_row_is_refused_with_the_reason(text: str, reason: str) -> None:
    # Given a malformed row, When it is parsed, Then the refusal says what is wrong
    with pytest.raises(TraceError, match=reason):
        parse_row_target(text)
