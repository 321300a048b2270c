"""``hub changes`` and ``hub trace --od`` on what the watch recorded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hub.cli import app
from hub.settings import MySqlSettings
from hub.watch import Watch
from odsim.config import DEFAULT_CUSTOMER
from tests.trace.conftest import CUSTOMER_KEY_ENV, OD_PASSWORD_ENV, Trace
from tests.watch.conftest import (
    FRONT_DESK_USER,
    Office,
    direct,
    front_desk,
    new_patient,
    office_time,
)

OFFICE = "office-1"


async def _hub(ledger_db: MySqlSettings, registry_file: Path, *args: str) -> Result:
    env = {
        "HUB_LEDGER_DB__HOST": ledger_db.host,
        "HUB_LEDGER_DB__PORT": str(ledger_db.port),
        "HUB_LEDGER_DB__USER": ledger_db.user,
        "HUB_LEDGER_DB__PASSWORD": ledger_db.password.get_secret_value(),
        "HUB_LEDGER_DB__DATABASE": ledger_db.database,
        "HUB_REGISTRY_PATH": str(registry_file),
        CUSTOMER_KEY_ENV: DEFAULT_CUSTOMER.key,
        OD_PASSWORD_ENV: "od_readonly",
    }
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, list(args), env=env))


@pytest.fixture
async def changed_patient(watch: Watch, office: Office) -> int:
    """A patient the watch saw appear, then changed by the front desk, then written directly."""
    pat_num = await new_patient(office.database, await office_time(office.database, -100))
    await watch.watchers[OFFICE].scan_once()
    await front_desk(office.database, pat_num, "HmPhone", "555-0100",
                     await office_time(office.database, -60))
    await watch.watchers[OFFICE].scan_once()
    await direct(office.database, pat_num, "Email", "x@example.com",
                 await office_time(office.database, -30))
    await watch.watchers[OFFICE].scan_once()
    return pat_num


async def test_hub_changes_lists_filters_and_speaks_json(
    changed_patient: int, ledger_db: MySqlSettings, registry_file: Path
) -> None:
    # When a person lists the office's changes of the last day
    every = await _hub(ledger_db, registry_file, "changes", "--office", OFFICE)
    # Then the three are there, oldest first, with door and who, and the changed column names
    assert every.exit_code == 0, every.output
    lines = [line for line in every.stdout.splitlines() if f" {changed_patient} " in line]
    assert [line.split()[3] for line in lines] == ["unexplained", "open_dental_user", "unexplained"]
    assert f"user {FRONT_DESK_USER}" in lines[1] and lines[1].endswith("HmPhone")
    assert lines[2].endswith("Email") and "no securitylog entry" in lines[2]
    # When they ask for one door as JSON
    one = await _hub(ledger_db, registry_file, "changes", "--office", OFFICE, "--door",
                     "open_dental_user", "--json")
    assert one.exit_code == 0, one.output
    [change] = json.loads(one.stdout)
    assert (change["key"], change["user_num"], change["columns"]) == (
        changed_patient, FRONT_DESK_USER, ["HmPhone"]
    )
    # And with --since after every change, nothing is listed
    later = await _hub(ledger_db, registry_file, "changes", "--office", OFFICE, "--since",
                       "2999-01-01T00:00:00Z", "--json")
    assert later.exit_code == 0 and json.loads(later.stdout) == []


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--since", "yesterday"], 2, "--since"),
        (["--door", "window"], 2, "--door"),
        ([], 2, "--office"),
    ],
)
async def test_hub_changes_names_a_bad_argument(
    ledger_db: MySqlSettings, registry_file: Path, args: list[str], code: int, says: str
) -> None:
    office = [] if says == "--office" else ["--office", OFFICE]
    result = await _hub(ledger_db, registry_file, "changes", *office, *args)
    assert result.exit_code == code
    assert says in result.output


async def test_hub_changes_of_an_unknown_office_says_so(
    ledger_db: MySqlSettings, registry_file: Path
) -> None:
    result = await _hub(ledger_db, registry_file, "changes", "--office", "office-9")
    assert result.exit_code == 1
    assert "office-9" in result.stderr


async def test_trace_of_a_row_lists_every_change_with_its_door(
    changed_patient: int, trace: Trace
) -> None:
    # When a person traces the row
    text = await trace("--od", f"patient:{changed_patient}")
    as_json = await trace("--od", f"patient:{changed_patient}", "--json")
    # Then its changes follow, each with its door
    assert text.exit_code == 0, text.output
    section = text.stdout.split("Changes seen by hub watch")[1]
    doors = [line.split()[1] for line in section.splitlines()[2:]]
    assert doors == ["unexplained", "open_dental_user", "unexplained"]
    document = json.loads(as_json.stdout)
    assert [c["door"] for c in document["changes"]] == doors
    assert document["changes_error"] is None
