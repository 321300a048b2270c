"""What one outage run does: how short the broker's ``consumer_timeout`` is, how many of those an
outage lasts, how many offices go down in each way, how fast the vendors publish.

The node's short ``consumer_timeout`` and one-second channel tick stand in for days of default
settings (30 minutes, checked every 60 s): an outage of 25 timeouts here is half a day there.
The writer's own clocks are shortened to the same scale where they would otherwise hide the
office's return (a backoff capped at a minute is half a day here too), but not its retry budget
(``max_retry_s``): that is what an office's long absence must not exhaust.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.settings import HubSettings
from lab.chaos.config import ChaosConfig

DEFAULT_CONSUMER_TIMEOUT_S = 4.0
CHANNEL_TICK_MS = 1000
DEFAULT_OUTAGE_TIMEOUTS = 27.0  # an outage's length, in consumer timeouts (at least 25 asked)
DEFAULT_BASELINE_S = 30.0  # publishing before the first outage: the steady offices' pace
DEFAULT_STAGGER_S = 10.0  # between the starts of the three kinds of outage
DEFAULT_TAIL_S = 10.0  # publishing after the last outage ended
DEFAULT_OFFICES_PER_KIND = 2  # offices down by refused connection, eConnector 400, 401 each
DEFAULT_STEADY_OFFICES = 5  # offices nothing happens to
DEFAULT_VENDORS = 3  # one paused, one whose outcome queue is deleted, one left alone
DEFAULT_PUBLISH_RATE = 20.0  # intents a second, every vendor and office together
DEFAULT_DRAIN_TIMEOUT_S = 300.0
DEFAULT_ATTEMPT_TIMEOUT_S = 1.5  # well inside the consumer timeout
MIN_VENDORS = 2  # the paused vendor and the one whose outcome queue goes are not the same
OPERATOR = "hub chaos --outage"


@dataclass(frozen=True, kw_only=True)
class OutageConfig:
    settings: HubSettings  # MariaDB root account (ledger_db) and the od_readonly password (od_db)
    consumer_timeout_s: float = DEFAULT_CONSUMER_TIMEOUT_S
    outage_timeouts: float = DEFAULT_OUTAGE_TIMEOUTS
    baseline_s: float = DEFAULT_BASELINE_S
    stagger_s: float = DEFAULT_STAGGER_S
    tail_s: float = DEFAULT_TAIL_S
    offices_per_kind: int = DEFAULT_OFFICES_PER_KIND
    steady_offices: int = DEFAULT_STEADY_OFFICES
    vendors: int = DEFAULT_VENDORS
    databases: int | None = None  # None: one per office (ChaosConfig says why)
    publish_rate: float = DEFAULT_PUBLISH_RATE
    drain_timeout_s: float = DEFAULT_DRAIN_TIMEOUT_S
    attempt_timeout_s: float = DEFAULT_ATTEMPT_TIMEOUT_S
    seed: int = 1
    keep: bool = False

    def __post_init__(self) -> None:
        if self.offices_per_kind < 1 or self.steady_offices < 1:
            raise ValueError("at least one office per kind of outage, and one steady office")
        if not MIN_VENDORS <= self.vendors <= 99:
            raise ValueError(f"{MIN_VENDORS} to 99 vendors")
        positive = (self.consumer_timeout_s, self.outage_timeouts, self.baseline_s,
                    self.publish_rate, self.drain_timeout_s, self.attempt_timeout_s,
                    1 if self.databases is None else self.databases)
        if min(positive) <= 0 or min(self.stagger_s, self.tail_s) < 0:
            raise ValueError("timeouts, lengths and rates must be positive")
        if self.attempt_timeout_s > self.consumer_timeout_s / 2:
            raise ValueError("an API attempt must end well inside the consumer timeout")

    @property
    def offices(self) -> int:
        """Three kinds of outage, one paused office, the steady ones."""
        return 3 * self.offices_per_kind + 1 + self.steady_offices

    @property
    def office_databases(self) -> int:
        return min(self.databases or self.offices, self.offices)

    @property
    def outage_s(self) -> float:
        return self.outage_timeouts * self.consumer_timeout_s

    @property
    def publish_s(self) -> float:
        """Vendors publish from the baseline through every outage and the tail."""
        return self.baseline_s + 2 * self.stagger_s + self.outage_s + self.tail_s

    @property
    def intents(self) -> int:
        return max(20, round(self.publish_rate * self.publish_s))

    def chaos_config(self) -> ChaosConfig:
        """The common world's settings: no kills, restarts or random faults, only outages."""
        return ChaosConfig(
            settings=self.settings, intents=self.intents, offices=self.offices,
            vendors=self.vendors, kills=0, broker_restarts=0, rate_commit_then_drop=0.0,
            rate_500=0.0, seed=self.seed, databases=self.databases,
            publish_rate=self.publish_rate, drain_timeout_s=self.drain_timeout_s,
            attempt_timeout_s=self.attempt_timeout_s, keep=self.keep,
        )

    def writer_env(self) -> dict[str, str]:
        """The writer's settings at the node's scale (see the module's docstring)."""
        step = self.consumer_timeout_s / 4
        cap = self.consumer_timeout_s / 2
        return {
            # The writer's own notion of the node's timeout (a setting of the writer's change).
            "HUB_BROKER_CONSUMER_TIMEOUT_S": f"{self.consumer_timeout_s:g}",
            "HUB_WRITER__BACKOFF_BASE_S": f"{step:g}",
            "HUB_WRITER__BACKOFF_CAP_S": f"{cap:g}",
            "HUB_WRITER__AUTH_PAUSE_S": f"{step:g}",
            "HUB_WRITER__AUTH_PAUSE_CAP_S": f"{cap:g}",
            "HUB_WRITER__INFRA_BACKOFF_BASE_S": f"{step / 2:g}",
            "HUB_WRITER__INFRA_BACKOFF_CAP_S": f"{cap:g}",
        }

    def options(self) -> dict[str, int | float]:
        return {
            "consumer_timeout_s": self.consumer_timeout_s,
            "channel_tick_ms": CHANNEL_TICK_MS,
            "outage_s": self.outage_s,
            "baseline_s": self.baseline_s,
            "stagger_s": self.stagger_s,
            "tail_s": self.tail_s,
            "offices": self.offices,
            "offices_per_kind": self.offices_per_kind,
            "steady_offices": self.steady_offices,
            "vendors": self.vendors,
            "intents": self.intents,
            "publish_rate": self.publish_rate,
            "databases": self.office_databases,
            "drain_timeout_s": self.drain_timeout_s,
            "attempt_timeout_s": self.attempt_timeout_s,
            "seed": self.seed,
        }
