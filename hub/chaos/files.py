"""The run's generated files: the simulator's configuration and the hub's registry (TOML), and the
environment that carries the secrets those files only reference."""

from __future__ import annotations

import json
from pathlib import Path

from hub.chaos.plan import AGREED_CONTRACTS
from hub.chaos.world import World
from hub.settings import HubSettings

DEVELOPER_NAME = "OD Integration Hub"
OD_DB_PASSWORD_ENV = "HUB_OD_DB__PASSWORD"


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


def customer_key_env(office_number: int) -> str:
    return f"HUB_CHAOS_CUSTOMER_KEY_{office_number:03d}"


def secrets_env(world: World, settings: HubSettings) -> dict[str, str]:
    """The variables the registry names: every office's customer key, the read-only password."""
    env = {customer_key_env(n): world.customer_key(n) for n in range(1, world.offices + 1)}
    env[OD_DB_PASSWORD_ENV] = settings.od_db.password.get_secret_value()
    return env


def sim_config_toml(world: World, settings: HubSettings) -> str:
    """Service mode; one customer key per office, on the office's shared database."""
    od = settings.od_db
    lines = [
        'mode = "service"',
        f"readonly_user = {_q(od.user)}",
        f"readonly_password = {_q(od.password.get_secret_value())}",
        "[[developers]]",
        f"key = {_q(settings.od_developer_key.get_secret_value())}",
        f"name = {_q(DEVELOPER_NAME)}",
    ]
    for n in range(1, world.offices + 1):
        lines += [
            "[[customers]]",
            f"key = {_q(world.customer_key(n))}",
            f"database = {_q(world.office_database(n))}",
        ]
    return "\n".join(lines) + "\n"


def registry_toml(world: World, settings: HubSettings, api_url: str) -> str:
    """Every office on the simulator; every vendor agreed with every office on the same
    contracts (``appointment.break`` left out, so the writer refuses it as unauthorized)."""
    od = settings.od_db
    lines: list[str] = []
    for n, office in enumerate(world.office_ids(), start=1):
        lines += [
            "[[offices]]",
            f"id = {_q(office)}",
            f"api_url = {_q(api_url)}",
            'mode = "service"',
            f"customer_key_env = {_q(customer_key_env(n))}",
            "[offices.db]",
            f"host = {_q(od.host)}",
            f"port = {od.port}",
            f"database = {_q(world.office_database(n))}",
            f"user = {_q(od.user)}",
            f"password_env = {_q(OD_DB_PASSWORD_ENV)}",
        ]
    contracts = ", ".join(_q(contract) for contract in AGREED_CONTRACTS)
    for vendor in world.vendor_names():
        lines += ["[[vendors]]", f"name = {_q(vendor)}"]
        for office in world.office_ids():
            lines += ["[[vendors.agreements]]", f"office = {_q(office)}",
                      f"contracts = [{contracts}]"]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
