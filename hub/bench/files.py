"""The files and variables a scenario's child processes start from: the simulator's config
(every customer key its own office over one database) and the hub's registry (one office per
key, vendors agreed with every office, world.py says why several), with the keys passed in
environment variables."""

from __future__ import annotations

import json
from pathlib import Path

from hub.bench.world import BenchWorld
from hub.settings import HubSettings

CONTRACTS = ("patient.create",)
OD_DB_PASSWORD_VARIABLE = "HUB_BENCH_OD_DB_PASSWORD"
OD_READONLY_USER = "od_readonly"
OD_READONLY_PASSWORD = "od_readonly"  # the simulator's default SELECT-only account
DEVELOPER_NAME = "OD Integration Hub"


def _q(value: str) -> str:
    """A TOML basic string (JSON's escaping is TOML's for these characters)."""
    return json.dumps(value)


def sim_toml(world: BenchWorld, settings: HubSettings) -> str:
    lines = [
        f"mode = {_q(world.mode.value)}",
        f"readonly_user = {_q(OD_READONLY_USER)}",
        f"readonly_password = {_q(OD_READONLY_PASSWORD)}",
        "[[developers]]",
        f"key = {_q(settings.od_developer_key.get_secret_value())}",
        f"name = {_q(DEVELOPER_NAME)}",
    ]
    for number in range(1, world.offices + 1):
        lines += [
            "[[customers]]",
            f"key = {_q(world.customer_key(number))}",
            f"database = {_q(world.office_database)}",
        ]
    return "\n".join(lines) + "\n"


def registry_toml(world: BenchWorld, api_url: str) -> str:
    lines: list[str] = []
    for number in range(1, world.offices + 1):
        lines += [
            "[[offices]]",
            f"id = {_q(world.office_id(number))}",
            f"api_url = {_q(api_url)}",
            f"mode = {_q(world.mode.value)}",
            f"customer_key_env = {_q(world.customer_key_variable(number))}",
            "[offices.db]",
            'host = "127.0.0.1"',
            f"database = {_q(world.office_database)}",
            f"user = {_q(OD_READONLY_USER)}",
            f"password_env = {_q(OD_DB_PASSWORD_VARIABLE)}",
        ]
    contracts = ", ".join(_q(contract) for contract in CONTRACTS)
    for vendor in world.vendors():
        lines += ["[[vendors]]", f"name = {_q(vendor)}"]
        for office in world.offices_of(vendor):
            lines += ["[[vendors.agreements]]", f"office = {_q(office)}",
                      f"contracts = [{contracts}]"]
    return "\n".join(lines) + "\n"


def key_variables(world: BenchWorld) -> dict[str, str]:
    """The customer keys and the read-only password the registry refers to."""
    variables = {
        world.customer_key_variable(number): world.customer_key(number)
        for number in range(1, world.offices + 1)
    }
    variables[OD_DB_PASSWORD_VARIABLE] = OD_READONLY_PASSWORD
    return variables


def write_files(world: BenchWorld, settings: HubSettings, workdir: Path, api_url: str) -> Path:
    """Write both files into ``workdir``; the registry's path."""
    (workdir / "sim.toml").write_text(sim_toml(world, settings), encoding="utf-8")
    registry = workdir / "registry.toml"
    registry.write_text(registry_toml(world, api_url), encoding="utf-8")
    return registry
