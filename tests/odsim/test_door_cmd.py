"""``hub sim door`` in a process of its own, against a running simulator that the registry
names: it prints what changed (text or JSON) and exits 0, or names the refusal and exits 1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx

from tests.odsim.conftest import FULL_KEY, NewPatient, Office

HUB = (sys.executable, "-c", "from hub.cli import main; main()")


def _registry(path: Path, office: Office) -> Path:
    path.write_text(
        f'[[offices]]\nid = "office-door"\napi_url = "{office.sim.base_url}"\n'
        'mode = "service"\ncustomer_key_env = "DOOR_TEST_CUSTOMER_KEY"\n\n'
        f'[offices.db]\nhost = "127.0.0.1"\nport = 3306\ndatabase = "{office.database}"\n'
        'user = "od_readonly"\npassword_env = "HUB_OD_DB__PASSWORD"\n',
        encoding="utf-8",
    )
    return path


async def _hub(registry: Path, *args: str) -> tuple[int, str, str]:
    env = os.environ | {"HUB_REGISTRY_PATH": str(registry), "DOOR_TEST_CUSTOMER_KEY": FULL_KEY}
    process = await asyncio.create_subprocess_exec(
        *HUB, "sim", "door", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)  # a guard
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_hub_sim_door_changes_rows_through_each_door(
    tmp_path: Path, office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient with an appointment, and a registry naming the running simulator
    pat = await new_patient()
    apt = (await api.post("/appointments", json={
        "PatNum": pat, "Op": 1, "AptDateTime": "2030-03-04 09:30:00"})).json()["AptNum"]
    registry = _registry(tmp_path / "registry.toml", office)

    # When the front desk reschedules it (JSON), and a program rewrites the patient directly
    moved = await _hub(registry, "front-desk", "--table", "appointment", "--key", str(apt),
                       "--json")
    rogue = await _hub(registry, "direct-db", "--office", "office-door", "--table", "patient",
                       "--key", str(pat), "--set", "Preferred=Al", "--set", "PatStatus=Inactive")

    # Then the first printed the change and its securitylog row, which the office holds
    assert moved[0] == 0, moved[2]
    result = json.loads(moved[1])
    assert (result["door"], result["table"], result["key"], result["changed"]) == (
        "front-desk", "appointment", apt, ["AptDateTime"])
    log = await office.row("SELECT PermType, LogSource, UserNum FROM securitylog"
                           " WHERE SecurityLogNum = %s", result["security_log_num"])
    assert (log["PermType"], log["LogSource"]) == (26, 0) and log["UserNum"] != 0
    # And the second printed a line naming both columns and no securitylog
    assert rogue[0] == 0, rogue[2]
    assert rogue[1].strip() == (
        f"direct-db: patient {pat} changed Preferred, PatStatus (no securitylog)")
    row = await office.row("SELECT Preferred, PatStatus FROM patient WHERE PatNum = %s", pat)
    assert (row["Preferred"], row["PatStatus"]) == ("Al", 2)


async def test_hub_sim_door_names_a_refusal_and_exits_1(
    tmp_path: Path, office: Office
) -> None:
    # Given a registry naming the running simulator
    registry = _registry(tmp_path / "registry.toml", office)

    # When a door is asked for a row that does not exist, or for an unknown office
    missing = await _hub(registry, "other-api", "--table", "commlog", "--key", "424242",
                         "--set", "Note=x")
    unknown = await _hub(registry, "other-api", "--office", "office-x", "--table", "commlog",
                         "--key", "1", "--set", "Note=x")

    # Then each exits 1 and says why
    assert missing[0] == 1
    assert "the simulator refused (404)" in missing[2] and "commlog 424242 not found" in missing[2]
    assert unknown[0] == 1 and "office-x" in unknown[2]
