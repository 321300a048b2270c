"""The simulator's configuration: developers, customer keys (one office database each), modes,
paging, the network's latency, the throttle and the faults. Loadable from a TOML file
(``hub sim --config FILE``)."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from odsim.db import DbParams
from odsim.faults import FaultConfig
from odsim.network import Latency
from odsim.throttle import ThrottleConfig


class Permission(StrEnum):
    """The API permission groups the simulator enforces (opendental-api.md §1)."""

    READ_ALL = "ReadAll"
    PATIENTS = "Patients"
    APPOINTMENTS = "Appointments"
    COMM = "Comm"
    PAYMENTS = "Payments"
    DOCUMENTS = "Documents"  # only Documents POST Upload
    # PatFields, Allergies, MedicationPats, Diseases; Sheets POST, SheetFields PUT (§4.7)
    ALL_OTHERS = "AllOthers"


class ApiMode(StrEnum):
    SERVICE = "service"  # the API Service on :30223: not throttled, 1000 rows a page
    REMOTE = "remote"  # api.opendental.com through the eConnector: throttled, 100 rows a page
    LOCAL = "local"  # the Local API inside opendental.exe: like the service


class DeveloperConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1)
    name: str = Field(min_length=1)  # apikey.DevName: what the securitylog says "by ... through"


class CustomerConfig(BaseModel):
    """One customer key: an office's database and the permission groups the key holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1)
    database: str = Field(pattern=r"^[A-Za-z0-9_]{1,64}$")
    permissions: tuple[Permission, ...] = tuple(Permission)
    enabled: bool = True
    mode: ApiMode | None = None  # None: the simulator's global mode
    developer: str | None = None  # a developer key; None: any configured developer
    latency: Latency | None = None  # the network's legs for this key; None: the global one


class PagingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    remote_max: int = Field(default=100, ge=1)
    service_max: int = Field(default=1000, ge=1)  # also the Local API's


class EventConfig(BaseModel):
    """How the simulator fires the database events of API Subscriptions (odsim/events.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # None: each subscription's PollingSeconds, as Open Dental; tests shorten it.
    poll_interval_s: float | None = Field(default=None, gt=0)
    # How often subscriptions written other than through the API (straight into
    # apisubscription) are noticed; the API's own writes are noticed at once.
    rescan_s: float = Field(default=10.0, gt=0)
    post_timeout_s: float = Field(default=30.0, gt=0)
    # The machine name the simulator plays. "": every workstation (it fires every subscription
    # and names itself by the subscription's Workstation, or its host name when blank); a name:
    # only subscriptions naming it or none fire, as on that one machine.
    workstation: str = ""


class DoorsConfig(BaseModel):
    """Who the other doors are (odsim/doors.py): the front desk's user and machine, and the
    other API developer's name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    front_desk_user: str = "frontdesk"  # a seeded userod.UserName
    front_desk_workstation: str = "FRONTDESK1"
    other_developer_name: str = "Other Dental Apps"


DEFAULT_DEVELOPER = DeveloperConfig(key="NFF6i0KrXrxDkZHt", name="OD Integration Hub")
DEFAULT_CUSTOMER = CustomerConfig(key="VzkmZEaUWOjnQX2z", database="opendental")
# Open Dental's reply to a duplicate patient is UNCONFIRMED (opendental-api.md §4.1).
DUPLICATE_PATIENT_MESSAGE = "Patient already exists."


class SimConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    developers: tuple[DeveloperConfig, ...] = (DEFAULT_DEVELOPER,)
    customers: tuple[CustomerConfig, ...] = (DEFAULT_CUSTOMER,)
    mode: ApiMode = ApiMode.SERVICE
    paging: PagingConfig = PagingConfig()
    throttle: ThrottleConfig = ThrottleConfig()
    faults: FaultConfig = FaultConfig()
    latency: Latency = Latency()  # the network's legs for every key without its own
    latency_seed: int | None = None  # None: a fresh, unrepeatable sequence of draws
    duplicate_patient_message: str = DUPLICATE_PATIENT_MESSAGE
    # The CommSource of API-created commlogs is UNCONFIRMED; OD's documented example shows User.
    commlog_source: str = "User"
    readonly_user: str = "od_readonly"
    readonly_password: str = "od_readonly"
    # The key of the SecurityHash HMAC (odsim/security_hash.py); None: random for each run.
    security_hash_secret: SecretStr | None = None
    events: EventConfig = EventConfig()
    doors: DoorsConfig = DoorsConfig()

    @model_validator(mode="after")
    def _keys_are_unique_and_known(self) -> SimConfig:
        dev_keys = [d.key for d in self.developers]
        if not dev_keys or len(set(dev_keys)) != len(dev_keys):
            raise ValueError("developer keys must be present and unique")
        if len({c.key for c in self.customers}) != len(self.customers):
            raise ValueError("customer keys must be unique")
        for customer in self.customers:
            if customer.developer is not None and customer.developer not in dev_keys:
                raise ValueError("a customer names a developer key that is not configured")
        if self.doors.other_developer_name in {d.name for d in self.developers}:
            raise ValueError("the other API developer's name must differ from the developers'")
        return self

    def developer_name_for(self, customer: CustomerConfig) -> str:
        """The DevName that the office's apikey row holds for this customer key."""
        key = customer.developer or self.developers[0].key
        return next(d.name for d in self.developers if d.key == key)


def load_config(path: Path) -> SimConfig:
    """Read a TOML file shaped like SimConfig (arrays of tables for developers/customers)."""
    with path.open("rb") as file:
        return SimConfig.model_validate(tomllib.load(file))


class SimDbSettings(BaseSettings):
    """The MariaDB account the Open Dental simulator creates, seeds and writes its office
    databases with (``hub sim``, and ``hub demo`` and ``hub bench-sim``, which start one). For
    development only: the hub itself never writes an office database."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_SIM_DB_", extra="ignore", use_attribute_docstrings=True,
        title="The simulator's database account (`hub sim`)",
    )

    host: str = "127.0.0.1"
    """Host name or IP address of the MariaDB server."""
    port: int = 3306
    """The server's TCP port."""
    user: str = "root"
    """An account that may create databases and grant the read-only user on them."""
    password: str = ""
    """That account's password."""

    def params(self) -> DbParams:
        return DbParams(host=self.host, port=self.port, user=self.user, password=self.password)
