"""What one chaos run does: how many intents over how many offices and vendors, how hard the
simulator fails, how many writers share the offices, how often one is killed and the broker
restarted, when one more joins, how long to wait."""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import HubError
from hub.settings import HubSettings

DEFAULT_INTENTS = 5000
DEFAULT_OFFICES = 20
DEFAULT_VENDORS = 3
DEFAULT_KILLS = 20
DEFAULT_BROKER_RESTARTS = 1
DEFAULT_FAULT_RATE = 0.05
DEFAULT_PUBLISH_RATE = 100.0  # intents per second, all vendors together
DEFAULT_DRAIN_TIMEOUT_S = 600.0
DEFAULT_ROGUE = 20  # direct database writes during the run (lab/chaos/rogue.py)
# The writer's time limit of one API attempt. A writer waits it out before it reconciles an
# attempt a killed writer left in doubt (that request might still land); the simulator here
# answers in milliseconds, so 10 s keeps twenty kills from costing half an hour.
DEFAULT_ATTEMPT_TIMEOUT_S = 10.0


class ChaosError(HubError):
    """The chaos run could not set up its world (broker node, databases, simulator, writer)."""


@dataclass(frozen=True, kw_only=True)
class ChaosConfig:
    settings: HubSettings  # MariaDB root account (ledger_db) and the od_readonly password (od_db)
    intents: int = DEFAULT_INTENTS
    offices: int = DEFAULT_OFFICES
    vendors: int = DEFAULT_VENDORS
    kills: int = DEFAULT_KILLS
    broker_restarts: int = DEFAULT_BROKER_RESTARTS
    rate_commit_then_drop: float = DEFAULT_FAULT_RATE
    rate_500: float = DEFAULT_FAULT_RATE
    seed: int = 1
    # Office databases: None, one per office, as each Open Dental office has its own. Fewer are
    # shared through the offices' customer keys; the watch then reads each shared database once
    # for every office on it, so its work grows with the square of the offices sharing one.
    databases: int | None = None
    publish_rate: float = DEFAULT_PUBLISH_RATE
    drain_timeout_s: float = DEFAULT_DRAIN_TIMEOUT_S
    attempt_timeout_s: float = DEFAULT_ATTEMPT_TIMEOUT_S
    rogue: int = DEFAULT_ROGUE
    keep: bool = False  # keep the broker node's files, the databases and the logs
    cluster: bool = False  # a three-node cluster of the run's own; a restart loses one node
    writers: int = 1  # `hub worker` processes sharing the offices
    join_at_s: float | None = None  # one more writer joins this long into the publishing

    def __post_init__(self) -> None:
        if self.intents < 20:
            raise ValueError("a chaos run needs at least 20 intents")
        if not 1 <= self.offices <= 999 or not 1 <= self.vendors <= 99:
            raise ValueError("1 to 999 offices and 1 to 99 vendors")
        if self.writers < 1 or (self.join_at_s is not None and self.join_at_s < 0):
            raise ValueError("at least one writer; a join comes at 0 s or later")
        if self.kills < 0 or self.broker_restarts < 0 or self.rogue < 0:
            raise ValueError("kills, broker restarts and rogue changes cannot be negative")
        for rate in (self.rate_commit_then_drop, self.rate_500):
            if not 0 <= rate <= 1:
                raise ValueError("fault rates are shares of requests, 0 to 1")
        databases = 1 if self.databases is None else self.databases
        positive = (databases, self.publish_rate, self.drain_timeout_s, self.attempt_timeout_s)
        if min(positive) <= 0:
            raise ValueError("databases, rates and timeouts must be positive")

    @property
    def office_databases(self) -> int:
        return min(self.databases or self.offices, self.offices)

    def options(self) -> dict[str, int | float | None]:
        """The options of the run, as the report shows them."""
        return {
            "intents": self.intents,
            "offices": self.offices,
            "vendors": self.vendors,
            "kills": self.kills,
            "broker_restarts": self.broker_restarts,
            "commit_then_drop_rate": self.rate_commit_then_drop,
            "rate_500": self.rate_500,
            "seed": self.seed,
            "databases": self.office_databases,
            "publish_rate": self.publish_rate,
            "drain_timeout_s": self.drain_timeout_s,
            "attempt_timeout_s": self.attempt_timeout_s,
            "rogue": self.rogue,
            "cluster": self.cluster,
            "writers": self.writers,
            "join_at_s": self.join_at_s,
        }
