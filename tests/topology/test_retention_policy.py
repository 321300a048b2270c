"""``hub topology`` gives ``hub.dead`` its retention: the policy ``hub-dead-retention`` with the
configured TTL, dead-lettering at least once to ``hub.dead.expired``.

This test works on the real ``hub.dead`` with the default retention (every writer puts the same
policy at start); the shortened clocks and the updates are in tests/dlq/test_retention.py, on
queues of their own."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from hub import names
from hub.broker_admin import ManagementApi
from hub.ledger import migrate
from hub.settings import HubSettings, MySqlSettings
from tests.topology.conftest import Created, write_registry

HUB = (sys.executable, "-c", "from hub.cli import main; main()")
GUARD_S = 30  # a guard against a hang, never a pass/fail timing


async def hub_topology(registry: Path, db: MySqlSettings, retention_days: float) -> tuple[int, str]:
    """`hub topology` as a separate process, on the test's registry and hub database."""
    env = os.environ | {
        "HUB_REGISTRY_PATH": str(registry), "HUB_LEDGER_DB__DATABASE": db.database,
        "HUB_DEAD_RETENTION_DAYS": f"{retention_days}",
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *HUB, "topology", env=env, cwd=registry.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=GUARD_S)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_hub_topology_gives_hub_dead_the_configured_retention(
    settings: HubSettings, tmp_path: Path, created: Created, hub_db: MySqlSettings,
    management: ManagementApi,
) -> None:
    # Given no retention policy on the broker, a migrated hub database (for the audit trail),
    # and the default retention of 14 days
    await management.delete_policy(names.RETENTION_POLICY)
    await migrate(hub_db)
    days = settings.dead_retention_days
    assert days == 14
    registry = write_registry(tmp_path / "registry.toml", created.office(), created.vendor())

    # When `hub topology` runs
    code, output = await hub_topology(registry, hub_db, days)

    # Then it says so, and the policy is on hub.dead alone, with that TTL, dead-lettering what
    # expires at least once to hub.dead.expired
    assert code == 0, output
    assert f"keeps dead letters {days:g} day(s)" in output
    (policy,) = [p for p in await management.policies() if p.name == names.RETENTION_POLICY]
    assert (policy.pattern, policy.apply_to) == (r"^hub\.dead$", "queues")
    assert policy.definition == {
        "message-ttl": 14 * 86_400_000,
        "dead-letter-exchange": names.EXPIRED_EXCHANGE,
        "dead-letter-strategy": "at-least-once",
        "overflow": "reject-publish",
    }
    # And the broker applies it to hub.dead, whose expiry queue exists
    assert await management.queue(names.EXPIRED_QUEUE) is not None
    async with asyncio.timeout(GUARD_S):
        while True:
            dead = await management.queue(names.DEAD_LETTER_QUEUE)
            assert dead is not None
            if dead.effective_policy_definition == policy.definition:
                break
            await asyncio.sleep(0.2)
