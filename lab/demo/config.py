"""What one demo run needs: the hub's settings, who plays the two vendors and the offices, how
long to wait for outcomes; and the seam through which the command line starts the simulator.

The simulator is Open Dental's stand-in, so this package never imports it: ``hub demo`` (or a
test) hands in a ``StartSimulator`` that serves ``SimTarget`` and yields its base URL.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from hub.errors import HubError
from hub.settings import HubSettings

if TYPE_CHECKING:
    from lab.demo.local_tls import LocalTls

DEFAULT_PATIENTS = 3
DEFAULT_OUTCOME_TIMEOUT_S = 60.0


class DemoError(HubError):
    """The demo cannot run: its port is taken, the registry lacks its office or vendors, ..."""


@dataclass(frozen=True, kw_only=True)
class SimTarget:
    """Where and as what the simulator must serve: the registry office's API and database."""

    host: str
    port: int
    database: str  # the office's Open Dental database
    developer_key: SecretStr
    customer_key: SecretStr
    tls: ssl.SSLContext | None = None  # serve https with this server context


class StartSimulator(Protocol):
    """Serve the Open Dental API for ``target`` while the context is open; yield its base URL.
    A taken port raises ``OSError`` (EADDRINUSE)."""

    def __call__(self, target: SimTarget) -> AbstractAsyncContextManager[str]: ...


@dataclass(frozen=True, kw_only=True)
class Cast:
    """Who plays what. The vendors must be in the registry with agreements for ``office``;
    ``foreign_office`` is one neither has an agreement for (the broker refuses it)."""

    office: str = "office-1"
    foreign_office: str = "office-2"
    forms: str = "demo-forms"
    reminders: str = "demo-reminders"


@dataclass(frozen=True, kw_only=True)
class DemoConfig:
    settings: HubSettings  # registry path, ledger database, broker, management API, writer
    environ: Mapping[str, str] = field(default_factory=dict)  # the registry's secret references
    cast: Cast = field(default_factory=Cast)
    patients: int = DEFAULT_PATIENTS  # new patients demo-forms creates, 2 to 8
    outcome_timeout_s: float = DEFAULT_OUTCOME_TIMEOUT_S  # for every outcome of the run
    metrics_registry: CollectorRegistry | None = None  # the writer's; None: a fresh one
    operator: str = "demo"  # who the audit trail records for the registry load and vendor adds
    # Every link over TLS with this machine's CA; ``settings`` already carries the hub's side
    # (LocalTls.hub_settings). None: the links as the settings and the registry have them.
    tls: LocalTls | None = None
