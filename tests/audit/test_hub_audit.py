"""``hub audit`` as an operator runs it: the trail as a table or JSON, filtered; who is named by
``--operator``, else ``HUB_OPERATOR``, else the OS user; exit 0, 1 when it cannot be read."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from hub.audit import os_user
from hub.settings import MySqlSettings
from tests.topology.conftest import Created, write_registry

HUB = (sys.executable, "-c", "from hub.cli import main; main()")


async def hub(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """``hub`` in a process of its own: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *HUB, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)  # a guard
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def env_for(database: MySqlSettings, registry: Path, **more: str) -> dict[str, str]:
    clean = {name: value for name, value in os.environ.items() if name != "HUB_OPERATOR"}
    return clean | {
        "HUB_REGISTRY_PATH": str(registry), "HUB_LEDGER_DB__HOST": database.host,
        "HUB_LEDGER_DB__PORT": str(database.port), "HUB_LEDGER_DB__USER": database.user,
        "HUB_LEDGER_DB__DATABASE": database.database, **more,
    }


async def test_hub_audit_lists_and_filters_what_operators_did(
    tmp_path: Path, created: Created, hub_db: MySqlSettings
) -> None:
    # Given an office paused by bob (--operator) and resumed by carol (HUB_OPERATOR)
    office = created.office()
    registry = write_registry(tmp_path / "registry.toml", office, created.vendor())
    env = env_for(hub_db, registry)
    paused = await hub(env, "office", "pause", office, "--operator", "bob", "--reason", "quiet")
    resumed = await hub(env | {"HUB_OPERATOR": "carol"}, "office", "resume", office)
    assert (paused[0], resumed[0]) == (0, 0), paused[2] + resumed[2]

    # When the operator lists the trail, then filters it
    listed = await hub(env, "audit")
    bobs = await hub(env, "audit", "--operator", "bob")
    resumes = await hub(env, "audit", "--action", "office_resume", "--json")
    failures = await hub(env, "audit", "--since", "1h", "--result", "failed", "--target", office)

    # Then the table has a header and both, oldest first, with who, what, why and the result
    assert listed[0] == 0, listed[2]
    header, first, second = listed[1].splitlines()
    assert header.split()[:4] == ["id", "at", "os", "user"]
    assert first.split()[4:8] == ["bob", "office_pause", office, "ok"]
    assert 'reason="quiet" -> changed=true' in first
    assert second.split()[4:8] == ["carol", "office_resume", office, "ok"]
    assert first.split()[3] == second.split()[3] == os_user()
    # And each filter gives only its rows
    assert bobs[0] == 0 and len(bobs[1].splitlines()) == 2 and "office_pause" in bobs[1]
    document = json.loads(resumes[1])
    assert resumes[0] == 0 and document["count"] == 1
    (entry,) = document["entries"]
    assert (entry["operator"], entry["os_user"], entry["action"], entry["target"]) == (
        "carol", os_user(), "office_resume", office
    )
    assert (entry["result"], entry["error"], entry["outcome"]) == ("ok", None, {"changed": True})
    assert failures[0] == 0 and failures[1].splitlines()[1:] == []


async def test_hub_audit_refuses_an_unknown_action_and_a_database_without_the_trail(
    tmp_path: Path, empty_database: str
) -> None:
    # Given a hub database never migrated
    env = env_for(MySqlSettings(database=empty_database), tmp_path / "registry.toml")

    # When the trail is asked for an unknown action, and then for everything
    wrong = await hub(env, "audit", "--action", "vendor_delete")
    unreadable = await hub(env, "audit")

    # Then the first is a usage error, the second exits 1 saying how to bring the schema up
    assert wrong[0] == 2
    assert unreadable[0] == 1 and "hub migrate" in unreadable[2]
