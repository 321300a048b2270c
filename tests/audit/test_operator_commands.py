"""Every operator action is audited before it takes effect, as the commands run it: vendor add,
password and remove, office and vendor pause and resume, the writer's registry load. When the
entry cannot be written the action is not done; a failed action ends ``failed``. (Dead-letter
replay and purge: tests/dlq; the demo: tests/lab/demo.)"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from aio_pika.abc import AbstractRobustChannel

from hub import names
from hub.audit import AuditError, os_user
from hub.broker_admin import ManagementApi
from hub.control.commands import Who, pause_office, resume_office
from hub.registry import RegistryError
from hub.settings import HubSettings, MySqlSettings
from hub.topology import declare_office_queue
from hub.vendor_access import add_registry_vendor, remove_registry_vendor
from hub.writer.worker import run_worker
from tests.support.audit import ALICE, as_root, drop_the_trail, said, trail
from tests.topology.conftest import Created, write_registry

BOB = Who(operator="bob", reason="a quiet hour for the office", os_user="root")


def hub_for(settings: HubSettings, registry: Path, hub_db: MySqlSettings) -> HubSettings:
    return settings.model_copy(
        update={"registry_path": registry, "ledger_db": hub_db, "metrics_port": 0}
    )


async def test_vendor_add_password_and_remove_are_audited_without_the_password(
    settings: HubSettings, tmp_path: Path, created: Created, hub_db: MySqlSettings,
    hub_channel: AbstractRobustChannel,
) -> None:
    # Given a registry vendor agreed for an office whose queue exists
    office, name = created.office(), created.vendor()
    hub = hub_for(settings, write_registry(tmp_path / "registry.toml", office, name), hub_db)
    await declare_office_queue(hub_channel, office)

    # When it is added, given a new password, removed, and removed once more
    added = await add_registry_vendor(hub, {}, name, operator=ALICE)
    rotated = await add_registry_vendor(hub, {}, name, operator=ALICE, rotate_password=True)
    removed = await remove_registry_vendor(hub, name, delete_queue=True, operator=ALICE)
    again = await remove_registry_vendor(hub, name, delete_queue=False, operator=ALICE)

    # Then each is in the trail after its registry load, the second remove as failed
    assert (removed, again) == (True, False)
    assert said([row for row in await trail(hub_db) if row.target == name]) == [
        ("vendor_add", name, "ok", None),
        ("vendor_password", name, "ok", None),
        ("vendor_remove", name, "ok", None),
        ("vendor_remove", name, "failed", "no_vendor_user"),
    ]
    add, password, remove, _ = [row for row in await trail(hub_db) if row.target == name]
    assert (add.details, password.details) == ({"password": "keep"}, {"password": "rotate"})
    assert password.outcome is not None and password.outcome["password_set"] is True
    assert remove.details == {"delete_queue": True}
    # And neither password appears anywhere in the trail
    assert added.password is not None and rotated.password is not None
    text = repr(await trail(hub_db))
    assert added.password.get_secret_value() not in text
    assert rotated.password.get_secret_value() not in text


async def test_a_failed_operator_action_is_recorded_failed_with_its_error_class(
    settings: HubSettings, tmp_path: Path, created: Created, hub_db: MySqlSettings,
) -> None:
    # Given a registry with one office and one vendor
    office, name = created.office(), created.vendor()
    hub = hub_for(settings, write_registry(tmp_path / "registry.toml", office, name), hub_db)

    # When an operator pauses an office and adds a vendor that the registry does not know
    with pytest.raises(RegistryError):
        await pause_office(hub, {}, "t-no-such-office", BOB)
    with pytest.raises(RegistryError):
        await add_registry_vendor(hub, {}, "t-no-such-vendor", operator=ALICE)

    # Then both attempts are in the trail as failed, the registry load before the add as ok
    assert said(await trail(hub_db)) == [
        ("office_pause", "t-no-such-office", "failed", "RegistryError"),
        ("registry_load", str(hub.registry_path.absolute()), "ok", None),
        ("vendor_add", "t-no-such-vendor", "failed", "RegistryError"),
    ]


async def paused_count(database: MySqlSettings) -> int:
    return await as_root(database.database, "SELECT * FROM pauses")


async def test_no_operator_action_is_done_when_its_audit_entry_cannot_be_written(
    settings: HubSettings, tmp_path: Path, created: Created, hub_db: MySqlSettings,
    management: ManagementApi,
) -> None:
    # Given a registry office and vendor, the vendor's broker user made as an operator would,
    # then a hub database whose audit table is gone
    office, name = created.office(), created.vendor()
    hub = hub_for(settings, write_registry(tmp_path / "registry.toml", office, name), hub_db)
    await add_registry_vendor(hub, {}, name, operator=ALICE)
    other = created.vendor()
    await drop_the_trail(hub_db)

    # When an operator pauses the office, removes the vendor, adds another, and starts a writer
    with pytest.raises(AuditError):
        await pause_office(hub, {}, office, BOB)
    with pytest.raises(AuditError):
        await remove_registry_vendor(hub, name, delete_queue=True, operator=ALICE)
    with pytest.raises(AuditError):
        await add_registry_vendor(hub, {}, other, operator=ALICE)
    with pytest.raises(AuditError):
        await run_worker(hub, {}, asyncio.Event())

    # Then nothing was done: no pause, the vendor's user and queue are still there, the other
    # vendor has no user, and the writer declared no office queue
    assert await paused_count(hub_db) == 0
    assert await management.user(name) is not None
    assert await management.queue(names.outcome_queue(name)) is not None
    assert await management.user(other) is None
    assert await management.queue(names.office_queue(office)) is None


async def test_the_writer_audits_its_registry_load_with_the_files_hash(
    settings: HubSettings, tmp_path: Path, created: Created, hub_db: MySqlSettings,
) -> None:
    # Given a registry, and HUB_OPERATOR naming who runs the writer on this machine
    office, name = created.office(), created.vendor()
    registry = write_registry(tmp_path / "registry.toml", office, name)
    hub = hub_for(settings, registry, hub_db).model_copy(update={"operator": "ops-team"})

    # When `hub worker` starts and is stopped at once, twice, the file changed in between
    stop = asyncio.Event()
    stop.set()
    await run_worker(hub, {}, stop)
    before = hashlib.sha256(registry.read_bytes()).hexdigest()
    registry.write_text(registry.read_text() + "# an operator's note\n")
    await run_worker(hub, {}, stop)

    # Then each start recorded its load, the writer's operator and the hash of what it loaded
    loads = await trail(hub_db)
    assert said(loads) == [("registry_load", str(registry.absolute()), "ok", None)] * 2
    assert [(row.operator, row.os_user) for row in loads] == [("ops-team", os_user())] * 2
    assert [row.details for row in loads] == [
        {"sha256": before, "command": "hub worker"},
        {"sha256": hashlib.sha256(registry.read_bytes()).hexdigest(), "command": "hub worker"},
    ]
    assert loads[0].details != loads[1].details
    assert loads[0].outcome == {"offices": 1, "vendors": 1}


async def test_pause_and_resume_record_the_operator_and_the_os_user(
    settings: HubSettings, tmp_path: Path, created: Created, hub_db: MySqlSettings,
) -> None:
    # Given a registry office
    office, name = created.office(), created.vendor()
    hub = hub_for(settings, write_registry(tmp_path / "registry.toml", office, name), hub_db)

    # When bob pauses it twice and resumes it
    await pause_office(hub, {}, office, BOB)
    await pause_office(hub, {}, office, BOB)
    await resume_office(hub, {}, office, BOB)

    # Then each is in the trail with who (name and OS user), why, and whether it changed
    rows = await trail(hub_db)
    assert said(rows) == [
        ("office_pause", office, "ok", None), ("office_pause", office, "ok", None),
        ("office_resume", office, "ok", None),
    ]
    assert {(row.operator, row.os_user) for row in rows} == {("bob", "root")}
    assert [row.details["reason"] for row in rows] == [BOB.reason] * 3
    assert [row.outcome for row in rows] == [
        {"changed": True}, {"changed": False}, {"changed": True}
    ]
