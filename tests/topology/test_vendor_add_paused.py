"""``hub vendor add`` on a vendor the operators paused: the vendor stays paused (the broker goes
on refusing its publishes) until ``hub vendor resume``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiormq
import pytest
from aio_pika.abc import AbstractRobustChannel

from hub import names
from hub.audit import os_user
from hub.broker_admin import ManagementApi
from hub.control.commands import Who, pause_vendor, resume_vendor
from hub.settings import HubSettings, MySqlSettings
from hub.topology import declare_office_queue
from hub.vendor_access import NOTHING, add_registry_vendor
from tests.support.audit import trail
from tests.topology.conftest import Created, write_registry
from tests.topology.test_vendor_users import VendorLogin, publish, vendor_channel

HUB = (sys.executable, "-c", "from hub.cli import main; main()")
OPERATOR = Who(operator="alice", reason="too many rejects")


async def hub_vendor_add(hub: HubSettings, name: str, cwd: Path) -> tuple[int, str]:
    """`hub vendor add NAME` as a separate process, on the test's registry and hub database."""
    db = hub.ledger_db
    env = os.environ | {
        "HUB_REGISTRY_PATH": str(hub.registry_path),
        "HUB_LEDGER_DB__HOST": db.host, "HUB_LEDGER_DB__PORT": str(db.port),
        "HUB_LEDGER_DB__USER": db.user, "HUB_LEDGER_DB__PASSWORD": db.password.get_secret_value(),
        "HUB_LEDGER_DB__DATABASE": db.database,
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *HUB, "vendor", "add", name, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)  # a guard
    assert process.returncode is not None
    return process.returncode, output.decode()


async def intents_write(management: ManagementApi, name: str) -> list[str]:
    """The routing keys the broker lets the vendor publish to hub.intents with (its regex)."""
    permissions = await management.topic_permissions()
    return [p.write for p in permissions if p.user == name and p.exchange == names.INTENTS_EXCHANGE]


async def test_adding_a_paused_vendor_again_keeps_its_publishes_refused_until_resumed(
    settings: HubSettings,
    tmp_path: Path,
    created: Created,
    hub_db: MySqlSettings,
    management: ManagementApi,
    hub_channel: AbstractRobustChannel,
) -> None:
    # Given a registry vendor with its broker user, agreed for an office whose queue exists, and
    # paused by the operators as `hub vendor pause` does (no connection of its to close)
    office, name = created.office(), created.vendor()
    control = settings.control.model_copy(update={"vendor_recheck_s": 0.0})
    hub = settings.model_copy(
        update={
            "registry_path": write_registry(tmp_path / "registry.toml", office, name),
            "ledger_db": hub_db,
            "control": control,
        }
    )
    await declare_office_queue(hub_channel, office)
    first = await add_registry_vendor(hub, {}, name, operator=OPERATOR.audited_as)
    assert first.password is not None and not first.paused
    login = VendorLogin(name, first.password.get_secret_value(), office)
    await pause_vendor(hub, {}, name, OPERATOR)

    # When the vendor is added again, through the function and through the command line
    again = await add_registry_vendor(hub, {}, name, operator=OPERATOR.audited_as)
    code, output = await hub_vendor_add(hub, name, tmp_path)

    # Then both say it stays paused, and the command names the way out
    assert (again.paused, again.offices, again.password) == (True, (office,), None)
    assert code == 0, output
    assert f"{name} stays paused" in output and f"hub vendor resume {name}" in output
    # And its permission on hub.intents is still empty: the broker refuses its publish
    assert await intents_write(management, name) == [NOTHING]
    key = names.intent_key(office, "patient.create")
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        async with vendor_channel(settings, login) as channel:
            await publish(channel, names.INTENTS_EXCHANGE, key, name)

    # When the operators resume it, Then it publishes for its office again
    await resume_vendor(hub, {}, name, OPERATOR)
    async with vendor_channel(settings, login) as channel:
        confirmed = await publish(channel, names.INTENTS_EXCHANGE, key, name)
    assert isinstance(confirmed, aiormq.spec.Basic.Ack)
    # And every operator action is in the audit trail, in order: each add after its registry
    # load, the command line's as the OS user (no --operator, no HUB_OPERATOR)
    rows = await trail(hub_db)
    mine = [row for row in rows if row.target == name]
    assert [(row.action, row.result.value, row.operator) for row in mine] == [
        ("vendor_add", "ok", "alice"), ("vendor_pause", "ok", "alice"),
        ("vendor_add", "ok", "alice"), ("vendor_add", "ok", os_user()),
        ("vendor_resume", "ok", "alice"),
    ]
    assert [row.action for row in rows].count("registry_load") == 3
    assert mine[1].details == {"reason": OPERATOR.reason}
    assert mine[2].outcome is not None and mine[2].outcome["paused"] is True
