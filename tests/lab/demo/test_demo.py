"""``hub demo`` in-process against the real broker, MariaDB and simulator: every intent is
accounted for, Open Dental holds exactly the applied creates, duplicates made no API call, and
the broker's and the writer's refusals come with their reasons; twice in a row."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
from collections import Counter
from pathlib import Path

import aiomysql
import pytest

from contracts import ChangeDoor
from contracts.v1.document import DocumentUploadIntent
from hub.audit import os_user
from lab.cli.demo_cmd import start_simulator
from lab.demo import DemoError, DemoReport, labels, report_json, report_text, run_demo
from lab.demo.local_tls import LocalTls
from lab.demo.script import LARGE_PDF_BYTES
from tests.lab.demo.conftest import DemoWorld, demo_world
from tests.support.audit import said, trail
from tests.tls.support import LOCAL_CA_DIR

# The script with 3 patients: demo-forms publishes 3 patients, 3 bookings, 3 notes, 3 signed
# forms (document uploads, the first a PDF of 5 MB), 3 allergies, 3 medications, 3 problems, 3
# patient fields, 1 registration sheet of 11 fields, 2 exact duplicates, 1 reused key, 3 invalid
# bodies, 1 payment outside its agreement, 1 booking before its patient's form, then that form
# (34 confirmed) and 1 patient for a foreign office; demo-reminders 2 confirmations, 1 break,
# 1 reschedule (a longer visit), 1 appointment note, 3 notes, 3 payments, 1 exact duplicate,
# 1 refund of the first payment (13 confirmed) and 1 note claiming to be demo-forms.
PUBLISHED = 47
APPLIED = 38
REJECTED = {
    "invalid": 3, "idempotency_conflict": 1, "unauthorized": 1, "unknown_reference": 1,
}
CREATED_PER_RUN = {"patient": 4, "appointment": 3, "commlog": 6, "payment": 4, "document": 3,
                   "allergy": 3, "medicationpat": 3, "disease": 3, "patfield": 3, "sheet": 1}
SHEET_FIELDS = 11
# The watch's scan after the intents attributes each row the run's applied intents wrote last in
# a table it scans (not payment nor patfield: no index on their stamp): 4 patients, 3
# appointments, 6 commlogs, 3 documents, 3 allergies, 3 medications, 3 problems.
HUB_ROWS = 25
INVALID_ERRORS = {
    ("payload.Birthdate", "date_format"),
    ("payload.FavoriteColor", "extra_forbidden"),
    ("payload.LName", "missing"),
}


async def od_count(database: str, table: str) -> int:
    """All rows of an Open Dental table of the test's own database, as the SELECT-only user."""
    conn = await aiomysql.connect(host="127.0.0.1", user="od_readonly", password="od_readonly",
                                  db=database, autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"SELECT COUNT(*) FROM `{table}`")
            (count,) = await cur.fetchone()
            return int(count)
    finally:
        conn.close()


def applied_upload_sizes(report: DemoReport) -> list[int]:
    """The decoded size, in bytes, of each document the run uploaded and Open Dental applied."""
    return sorted(
        len(base64.b64decode(r.sent.step.body.payload.rawBase64)) for r in report.results
        if isinstance(r.sent.step.body, DocumentUploadIntent) and r.label == labels.APPLIED
    )


def assert_accounted(report: DemoReport, world: DemoWorld) -> None:
    cast = world.config.cast
    tally = report.tally
    assert tally.unaccounted == 0
    assert (tally.published, tally.applied, tally.duplicates) == (PUBLISHED, APPLIED, 3)
    assert dict(tally.rejected) == REJECTED and not tally.dead
    assert not [(m.sent.step.key, m.sent.step.expect, m.label) for m in tally.mismatches]
    assert report.checks == dict.fromkeys(report.checks, True)
    assert report.ok
    # the broker refused the foreign office (topic permission) and the impersonation (user_id)
    refusals = {sent.code or "": sent for sent in tally.refused_by_broker}
    assert sorted(refusals) == ["ACCESS_REFUSED", "PRECONDITION_FAILED"]
    no_agreement, impersonation = refusals["ACCESS_REFUSED"], refusals["PRECONDITION_FAILED"]
    assert f"access to topic '{cast.foreign_office}.patient.create'" in (no_agreement.reply or "")
    assert (impersonation.step.login, impersonation.step.user_id) == (cast.reminders, cast.forms)
    assert f"user_id property set to '{cast.forms}'" in (impersonation.reply or "")


def assert_doors(report: DemoReport) -> None:
    """Each door's change attributed within one scan, and only the reader told of the front
    desk's reschedule, with its new AptDateTime."""
    doors = report.doors
    assert doors is not None
    assert doors.checks == dict.fromkeys(doors.checks, True)
    assert len(doors.hub_rows) == HUB_ROWS and not doors.hub_mismatches()
    assert {(c.table.value, c.key) for c in doors.hub_scan} >= {
        (row.table, row.key) for row in doors.hub_rows
    }
    assert {door: count for door, count in doors.counts.items() if door != "hub"} == {
        "open_dental_user": 1, "other_api": 1, "unexplained": 1,
    }
    examples = {door: change for door, change, _ in doors.examples()}
    front, other, direct = (examples[d.value] for d in (
        ChangeDoor.OPEN_DENTAL_USER, ChangeDoor.OTHER_API, ChangeDoor.UNEXPLAINED))
    assert front is not None and (front.table.value, front.key) == doors.opened.front_desk
    assert "AptDateTime" in front.columns and front.user_num == doors.opened.user_num
    assert other is not None and other.columns == ("Preferred",)
    assert direct is not None and direct.stale_hash and direct.columns == ("PatStatus",)
    told = [e for e in doors.told[doors.reader]
            if (e.table.value, e.primary_key) == doors.opened.front_desk]
    assert [(e.door, "AptDateTime" in e.values) for e in told] == [
        (ChangeDoor.OPEN_DENTAL_USER, True)
    ]
    assert [vendor for vendor, events in doors.told.items() if events] == [doors.reader]


def assert_writer_reasons(report: DemoReport) -> None:
    events = [r.event for r in report.results if r.event is not None and r.event.reason]
    reasons = Counter(e.reason.value for e in events if e.reason is not None and not e.duplicate)
    assert dict(reasons) == REJECTED
    errors = {(e.path, e.rule) for event in events for e in event.errors}
    assert errors == INVALID_ERRORS | {("payload.PatientRef", "unknown_reference")}
    unauthorized = next(e for e in events if e.reason is not None
                        and e.reason.value == "unauthorized")
    assert unauthorized.contract == "payment.create" and unauthorized.message


async def test_the_demo_accounts_for_every_intent_twice_in_a_row(world: DemoWorld) -> None:
    # Given the embedded stack on a throwaway ledger, Open Dental database, port and names
    progress: list[str] = []

    # When the demo runs twice in a row
    first = await run_demo(world.config, start_simulator, progress.append)
    second = await run_demo(world.config, start_simulator, progress.append)

    # Then each run accounted for every intent, as the script expects, with every check holding
    for report in (first, second):
        assert_accounted(report, world)
        assert_writer_reasons(report)
        # And the watch attributed the hub's rows, the front desk's, the other developer's and
        # the direct write's changes to their doors, and told demo-reminders alone
        assert_doors(report)
        # And exact duplicates and the reused key made one API call per key (the ledger's)
        assert sorted((r.published, r.api_calls) for r in report.repeats) == [
            (2, 1), (2, 1), (3, 1)
        ]
        # And the sheet was filled once, its 11 fields holding what was sent (SQL), and the
        # sheet and document rows counted per table
        sheets = [c for c in report.changes if c.contract == "sheet.fill"]
        assert [(c.ok, c.seen) for c in sheets] == [(True, f"{SHEET_FIELDS}/{SHEET_FIELDS}/"
                                                      f"{SHEET_FIELDS}")]
        counts = {t.table: (t.rows, t.applied_creates) for t in report.tables}
        assert counts["sheet"] == (1, 1) and counts["document"] == (3, 3)
        assert "sheet 1/1" in report_text(report)
        # And one of its applied uploads was a PDF of at least 5 MB
        sizes = applied_upload_sizes(report)
        assert len(sizes) == 3 and sizes[-1] >= LARGE_PDF_BYTES > sizes[-2]
    assert first.run.id != second.run.id
    # And Open Dental's tables, counted whole, hold exactly the two runs' applied creates
    for table, per_run in CREATED_PER_RUN.items():
        assert await od_count(world.od_database, table) == 2 * per_run
    # And the report renders: one JSON object and a table with one full trace
    document = json.loads(report_json(second))
    assert document["unaccounted"] == 0 and document["published"] == PUBLISHED
    assert {"applied", "duplicates", "rejected", "dead", "checks", "doors"} <= set(document)
    assert document["checks"]["changes_by_door"]["ok"] is True
    assert set(document["doors"]["examples"]) == {door.value for door in ChangeDoor}
    assert document["doors"]["by_door"]["unexplained"] == 1
    text = report_text(second)
    assert "Changes by door" in text and "stale SecurityHash" in text
    assert second.run.surname not in text
    assert second.trace_text is not None and "<- this intent" in second.trace_text
    assert f"hub trace {second.trace_target}" in report_text(second)
    # And the progress lines name phases and counts, never a patient's name
    assert any(line.startswith("phase forms:") for line in progress)
    assert not any(second.run.surname in line for line in progress)
    # And its operator actions are in the audit trail as the demo's: each run's registry load,
    # then its two vendors, added by the first run and given fresh passwords by the second
    cast = world.config.cast
    rows = await trail(world.config.settings.ledger_db)
    registry = str(world.config.settings.registry_path.absolute())
    assert said(rows) == [
        ("registry_load", registry, "ok", None), ("vendor_add", cast.forms, "ok", None),
        ("vendor_add", cast.reminders, "ok", None),
        ("registry_load", registry, "ok", None), ("vendor_password", cast.forms, "ok", None),
        ("vendor_password", cast.reminders, "ok", None),
    ]
    assert {(row.operator, row.os_user) for row in rows} == {("demo", os_user())}


async def test_a_taken_port_fails_clearly(world: DemoWorld) -> None:
    # Given something already listening on the registry office's port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", world.port))
        squatter.listen()

        # When the demo starts, Then it fails naming the port and a possible `hub sim`
        with pytest.raises(DemoError) as refused:
            await run_demo(world.config, start_simulator, lambda line: None)

    assert f"127.0.0.1:{world.port} is taken" in str(refused.value)
    assert "hub sim" in str(refused.value)


async def test_the_demo_runs_every_link_over_tls(tmp_path: Path, empty_database: str) -> None:
    # Given the demo's world with this machine's CA, as `hub demo` runs it by default
    tls = LocalTls(directory=LOCAL_CA_DIR).checked()
    async with demo_world(tmp_path, empty_database) as world:
        config = dataclasses.replace(
            world.config, settings=tls.hub_settings(world.config.settings), tls=tls
        )

        # When it runs
        report = await run_demo(config, start_simulator, lambda line: None)

    # Then every intent is accounted for as without TLS
    assert_accounted(report, world)
    # And RabbitMQ saw both vendors' and the writer's connections over TLS, and MariaDB the
    # ledger's and the office database's sessions
    links = {link.link: link.version for link in report.links}
    assert set(links) == {
        f"vendor {world.config.cast.forms} to RabbitMQ",
        f"vendor {world.config.cast.reminders} to RabbitMQ", "the writer to RabbitMQ",
        "the ledger (MariaDB)", f"{world.config.cast.office}'s Open Dental database (MariaDB)",
    }
    assert all(version and version.lower().startswith("tlsv1.") for version in links.values())
    assert report.checks["every_link_over_tls"]
    # And the writer reached Open Dental (the simulator) on https
    assert report.trace_text is not None and "201" in report.trace_text
    assert "every link over TLS" in report_text(report)


async def test_without_the_local_ca_the_demo_says_how_to_make_it(tmp_path: Path) -> None:
    # Given a directory without the local CA's files, Then the demo refuses, naming what to run
    with pytest.raises(DemoError) as refused:
        LocalTls(directory=tmp_path).checked()
    assert "scripts/ensure-services.sh" in str(refused.value)
    assert "--plain" in str(refused.value)
