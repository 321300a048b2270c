"""The loaded registry: frozen values with secrets resolved, and the agreement lookups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr

from hub.errors import HubError
from hub.settings import ApiMode, MySqlSettings, TlsSettings

# The contracts of version 1; a registry may only name these unless the caller passes another set.
V1_CONTRACTS = frozenset(
    {
        "patient.create",
        "patient.update",
        "appointment.create",
        "appointment.confirm",
        "appointment.break",
        "commlog.create",
        "payment.create",
        "document.upload",
        "appointment.update",
        "appointment.note",
        "payment.refund",
        "patfield.set",
        "allergy.create",
        "medication.create",
        "problem.create",
        "sheet.fill",
    }
)


class RegistryError(HubError):
    """The registry file is unreadable or invalid, or a lookup named an unknown office or vendor."""


@dataclass(frozen=True, kw_only=True)
class OfficeDatabase:
    """The read-only (SELECT-only user) SQL connection to an office's Open Dental database."""

    host: str
    port: int
    database: str
    user: str
    password: SecretStr
    tls: bool = False  # over TLS, verified with the hub's TLS settings (HUB_TLS__*)

    def connection(self, tls: TlsSettings) -> MySqlSettings:
        """The settings a connection to this database opens with, the hub's TLS included."""
        return MySqlSettings(
            host=self.host, port=self.port, user=self.user, password=self.password,
            database=self.database, tls=self.tls,
        ).with_client_tls(tls)


@dataclass(frozen=True, kw_only=True)
class Office:
    id: str
    api_url: str
    mode: ApiMode
    read_only: bool
    customer_key: SecretStr
    # None: use the hub-wide developer key (HUB_OD_DEVELOPER_KEY).
    developer_key: SecretStr | None
    db: OfficeDatabase


@dataclass(frozen=True, kw_only=True)
class Agreement:
    """What one office agreed that one vendor may do: the contracts it may send for that office,
    and the watched tables whose changes it is told of (``read``: table -> the columns whose
    values it may receive; the others' names only)."""

    office: str
    contracts: frozenset[str]
    read: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Vendor:
    name: str
    agreements: tuple[Agreement, ...]

    @property
    def offices(self) -> tuple[str, ...]:
        """The offices this vendor may publish for, in registry order: an agreement that only
        reads grants no publish."""
        return tuple(agreement.office for agreement in self.agreements if agreement.contracts)


@dataclass(frozen=True, kw_only=True)
class Registry:
    offices: Mapping[str, Office]
    vendors: Mapping[str, Vendor]

    def office(self, office_id: str) -> Office:
        try:
            return self.offices[office_id]
        except KeyError:
            raise RegistryError(f"unknown office {office_id!r}: not in the registry") from None

    def vendor(self, name: str) -> Vendor:
        try:
            return self.vendors[name]
        except KeyError:
            raise RegistryError(f"unknown vendor {name!r}: not in the registry") from None

    def allows(self, vendor: str, office: str, contract: str) -> bool:
        """Whether ``office`` agreed that ``vendor`` may send it intents of ``contract``."""
        known = self.vendors.get(vendor)
        if known is None or office not in self.offices:
            return False
        return any(
            agreement.office == office and contract in agreement.contracts
            for agreement in known.agreements
        )

    def readers(self, office: str, table: str) -> dict[str, frozenset[str]]:
        """The vendors ``office`` agreed may read ``table``'s changes, each with the columns
        whose values it may receive."""
        return {
            vendor.name: agreement.read[table]
            for vendor in self.vendors.values()
            for agreement in vendor.agreements
            if agreement.office == office and table in agreement.read
        }
