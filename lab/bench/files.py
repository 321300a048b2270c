"""The files and variables a scenario's child processes start from: the simulator's config
(every customer key its own office over one database) and the hub's registry (one office per
key, vendors agreed with their offices, world.py says why several), with the keys passed in
environment variables."""

from __future__ import annotations

from pathlib import Path

from hub.settings import HubSettings
from lab.bench.world import BenchWorld
from lab.world_config import GeneratedOffice, OfficeDatabase, sim_config_toml
from lab.world_config import key_variables as office_key_variables
from lab.world_config import registry_toml as generated_registry

OD_DB_PASSWORD_VARIABLE = "HUB_BENCH_OD_DB_PASSWORD"
OD_READONLY_USER = "od_readonly"
OD_READONLY_PASSWORD = "od_readonly"  # the simulator's default SELECT-only account
OD_DATABASE = OfficeDatabase(
    host="127.0.0.1", port=3306, user=OD_READONLY_USER, password_env=OD_DB_PASSWORD_VARIABLE
)


def _offices(world: BenchWorld) -> list[GeneratedOffice]:
    return [
        GeneratedOffice(
            id=world.office_id(number),
            customer_key=world.customer_key(number),
            customer_key_env=world.customer_key_variable(number),
            database=world.office_database,
        )
        for number in range(1, world.offices + 1)
    ]


def sim_toml(world: BenchWorld, settings: HubSettings) -> str:
    return sim_config_toml(
        mode=world.mode.value,
        readonly_user=OD_READONLY_USER,
        readonly_password=OD_READONLY_PASSWORD,
        developer_key=settings.od_developer_key.get_secret_value(),
        offices=_offices(world),
    )


def registry_toml(world: BenchWorld, api_url: str) -> str:
    return generated_registry(
        api_url=api_url,
        mode=world.mode.value,
        database=OD_DATABASE,
        offices=_offices(world),
        agreements={vendor: world.offices_of(vendor) for vendor in world.vendors()},
        contracts=world.contracts,
    )


def key_variables(world: BenchWorld) -> dict[str, str]:
    """The customer keys and the read-only password the registry refers to."""
    return {**office_key_variables(_offices(world)), OD_DB_PASSWORD_VARIABLE: OD_READONLY_PASSWORD}


def write_files(world: BenchWorld, settings: HubSettings, workdir: Path, api_url: str) -> Path:
    """Write both files into ``workdir``; the registry's path."""
    (workdir / "sim.toml").write_text(sim_toml(world, settings), encoding="utf-8")
    registry = workdir / "registry.toml"
    registry.write_text(registry_toml(world, api_url), encoding="utf-8")
    return registry
