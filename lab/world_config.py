"""The simulator's configuration and the hub's registry, as TOML, for a generated world: the chaos
run and the bench each describe their offices and vendors here and get the same file shapes.

Secrets stay out of the files: the registry names the environment variables that carry them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DEVELOPER_NAME = "OD Integration Hub"


@dataclass(frozen=True, kw_only=True)
class GeneratedOffice:
    id: str
    customer_key: str
    customer_key_env: str  # the variable that carries the key to the writer
    database: str  # the office database on the simulator's server
    api_url: str | None = None  # None: the world's one API URL


@dataclass(frozen=True, kw_only=True)
class OfficeDatabase:
    """Where the writer reads every office database, read-only."""

    host: str
    port: int
    user: str
    password_env: str


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escaping is TOML's for these characters)."""
    return json.dumps(value)


def sim_config_toml(
    *,
    mode: str,
    readonly_user: str,
    readonly_password: str,
    developer_key: str,
    offices: Iterable[GeneratedOffice],
) -> str:
    """One developer; every office its own customer key, on its database."""
    q = toml_string
    lines = [
        f"mode = {q(mode)}",
        f"readonly_user = {q(readonly_user)}",
        f"readonly_password = {q(readonly_password)}",
        "[[developers]]",
        f"key = {q(developer_key)}",
        f"name = {q(DEVELOPER_NAME)}",
    ]
    for office in offices:
        lines += [
            "[[customers]]",
            f"key = {q(office.customer_key)}",
            f"database = {q(office.database)}",
        ]
    return "\n".join(lines) + "\n"


def registry_toml(
    *,
    api_url: str,
    mode: str,
    database: OfficeDatabase,
    offices: Iterable[GeneratedOffice],
    agreements: Mapping[str, Sequence[str]],
    contracts: Sequence[str],
) -> str:
    """Every office on one API URL (or its own) and mode; each vendor agreed with its offices
    on ``contracts``."""
    q = toml_string
    lines: list[str] = []
    for office in offices:
        lines += [
            "[[offices]]",
            f"id = {q(office.id)}",
            f"api_url = {q(office.api_url or api_url)}",
            f"mode = {q(mode)}",
            f"customer_key_env = {q(office.customer_key_env)}",
            "[offices.db]",
            f"host = {q(database.host)}",
            f"port = {database.port}",
            f"database = {q(office.database)}",
            f"user = {q(database.user)}",
            f"password_env = {q(database.password_env)}",
        ]
    agreed = ", ".join(q(contract) for contract in contracts)
    for vendor, vendor_offices in agreements.items():
        lines += ["[[vendors]]", f"name = {q(vendor)}"]
        for office_id in vendor_offices:
            lines += [
                "[[vendors.agreements]]",
                f"office = {q(office_id)}",
                f"contracts = [{agreed}]",
            ]
    return "\n".join(lines) + "\n"


def key_variables(offices: Iterable[GeneratedOffice]) -> dict[str, str]:
    """The customer keys, by the variables the registry names."""
    return {office.customer_key_env: office.customer_key for office in offices}
