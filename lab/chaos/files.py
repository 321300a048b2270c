"""The run's generated files: the simulator's configuration and the hub's registry (TOML), and the
environment that carries the secrets those files only reference."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hub.settings import HubSettings
from lab.chaos.plan import AGREED_CONTRACTS
from lab.chaos.world import World
from lab.world_config import GeneratedOffice, OfficeDatabase, key_variables
from lab.world_config import registry_toml as generated_registry
from lab.world_config import sim_config_toml as generated_sim_config

OD_DB_PASSWORD_ENV = "HUB_OD_DB__PASSWORD"
MODE = "service"


def customer_key_env(office_number: int) -> str:
    return f"HUB_CHAOS_CUSTOMER_KEY_{office_number:03d}"


def _offices(world: World, api_urls: Mapping[str, str] | None = None) -> list[GeneratedOffice]:
    return [
        GeneratedOffice(
            id=office,
            customer_key=world.customer_key(n),
            customer_key_env=customer_key_env(n),
            database=world.office_database(n),
            api_url=(api_urls or {}).get(office),
        )
        for n, office in enumerate(world.office_ids(), start=1)
    ]


def secrets_env(world: World, settings: HubSettings) -> dict[str, str]:
    """The variables the registry names: every office's customer key, the read-only password."""
    return {
        **key_variables(_offices(world)),
        OD_DB_PASSWORD_ENV: settings.od_db.password.get_secret_value(),
    }


def sim_config_toml(world: World, settings: HubSettings) -> str:
    """Service mode; one customer key per office, on the office's shared database."""
    od = settings.od_db
    return generated_sim_config(
        mode=MODE,
        readonly_user=od.user,
        readonly_password=od.password.get_secret_value(),
        developer_key=settings.od_developer_key.get_secret_value(),
        offices=_offices(world),
    )


def registry_toml(
    world: World, settings: HubSettings, api_url: str, api_urls: Mapping[str, str] | None = None
) -> str:
    """Every office on the simulator (at ``api_url``, or its own in ``api_urls``); every vendor
    agreed with every office on the same contracts (``appointment.break`` left out, so the
    writer refuses it as unauthorized)."""
    od = settings.od_db
    return generated_registry(
        api_url=api_url,
        mode=MODE,
        database=OfficeDatabase(
            host=od.host, port=od.port, user=od.user, password_env=OD_DB_PASSWORD_ENV
        ),
        offices=_offices(world, api_urls),
        agreements={vendor: world.office_ids() for vendor in world.vendor_names()},
        contracts=AGREED_CONTRACTS,
    )


def write_private(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
