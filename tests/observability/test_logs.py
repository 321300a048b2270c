"""Logs keep patient data out: a traceback keeps its frames and the hub's own error texts, and
withholds the text of any other exception, which may quote what it failed on."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from hub.errors import TransientError
from hub.observability.logs import JsonFormatter, TextFormatter

NAME, BIRTHDATE = "Lovelace", "1990-12-10"


def _parse_birthdate(payload: dict[str, str]) -> None:
    raise ValueError(f"cannot read {payload['LName']}'s birthdate {payload['Birthdate']}")


def _claim(payload: dict[str, str]) -> None:
    try:
        _parse_birthdate(payload)
    except ValueError as exc:
        raise TransientError("ledger database error 1213 while claiming an intent") from exc


@pytest.fixture(params=[JsonFormatter, TextFormatter], ids=["json", "text"])
def logged(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(request.param())
    logger = logging.getLogger(f"test-logs-{request.param.__name__}")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def test_a_traceback_withholds_what_a_foreign_exception_says_and_keeps_the_rest(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    # Given a hub error raised from a ValueError that quotes a patient's name and birthdate
    logger, out = logged
    try:
        _claim({"LName": NAME, "Birthdate": BIRTHDATE})
    except TransientError:
        # When it is logged with its traceback
        logger.exception("processing failed unexpectedly")
    line = out.getvalue()
    text = json.loads(line)["exception"] if line.startswith("{") else line
    # Then neither value is in the log line
    assert NAME not in line and BIRTHDATE not in line
    # And the frames, the hub's own message and what was withheld, and how much, are there
    assert "_parse_birthdate" in text and "_claim" in text
    assert "TransientError: ledger database error 1213 while claiming an intent" in text
    assert "ValueError: <" in text and "characters withheld" in text
