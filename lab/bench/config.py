"""What one ``hub bench`` run measures, and the defaults the issue asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from hub.errors import HubError
from hub.settings import HubSettings

ALLOWANCE_PER_S = 1.0  # Open Dental, remote mode: one request a second per customer key
DEFAULT_FLEET_OFFICES = 200
DEFAULT_FLEET_SECONDS = 60.0
DEFAULT_FLEET_LOADS = (0.5, 1.0, 1.5)
# The writers' CPU with no load (heartbeats, polls, lane timers), read before the first load and
# taken out of each load's CPU per intent for its marginal figure.
DEFAULT_FLEET_IDLE_S = 10.0
MAX_FLEET_WRITERS = 16  # each its own process, metrics port and broker connections
# The writer's /metrics is scraped as the shipped Prometheus does (prometheus/prometheus.yml):
# what a scrape costs the writer is part of running it.
DEFAULT_SCRAPE_INTERVAL_S = 15.0
# Throttle replies are counted apart once this much of a load has run: by then every key's
# pacer has learnt its round trips and met the throttle replies it learns from.
DEFAULT_THROTTLE_WARMUP_S = 60.0
DEFAULT_CEILING_OFFICES = 100
DEFAULT_CEILING_INTENTS = 6000
# Hub and reference alternate, hub first in odd rounds and second in even ones (A B B A): a
# machine getting slower or faster during the run weighs on both alike.
DEFAULT_CEILING_ROUNDS = 2
DEFAULT_SCALE_OFFICES = 1000
# Issue 17's figure: 50 bodies of 15 MB in flight across 10 offices.
DEFAULT_DOCUMENT_OFFICES = 10
DEFAULT_DOCUMENTS = 50
DEFAULT_DOCUMENT_MB = 15.0
# Issue 19's figure: 100 offices of 100,000 patients and 200,000 appointments, scanned at the
# watch's default interval for several intervals, while each office's front desk works.
DEFAULT_WATCH_OFFICES = 100
DEFAULT_WATCH_PATIENTS = 100_000
DEFAULT_WATCH_APPOINTMENTS = 200_000
DEFAULT_WATCH_SECONDS = 300.0
DEFAULT_WATCH_CHANGES_PER_MIN = 6.0  # per office: a busy front desk
MAX_WATCH_OFFICES = 999  # the office databases are numbered with three digits
DEFAULT_WATCH_DATABASE_PREFIX = "hubbench_watch"
# Issue 20's figure: the console's common searches on a ledger of a million intents.
DEFAULT_CONSOLE_INTENTS = 1_000_000
DEFAULT_CONSOLE_REPEATS = 20


class BenchError(HubError):
    """The benchmark could not build its world or a process did not start or finish."""


class ThrottleReading(StrEnum):
    """Where the simulator's throttle counts a slot from (docs/simulator.md, "Throttle")."""

    STARTS = "starts"
    REPLIES = "replies"


class Scenario(StrEnum):
    FLEET = "fleet"
    CEILING = "ceiling"
    SCALE = "scale"
    DOCUMENTS = "documents"  # only when asked for: it needs the broker's 17 MiB message size
    WATCH = "watch"  # only when asked for: it builds (or reuses) a few GB of office databases
    CONSOLE = "console"  # only when asked for: it fills a ledger of a million intents


DEFAULT_SCENARIOS = (Scenario.FLEET, Scenario.CEILING, Scenario.SCALE)


@dataclass(frozen=True, kw_only=True)
class FleetOptions:
    offices: int = DEFAULT_FLEET_OFFICES
    writers: int = 1  # hub worker processes sharing the offices (hub/control/ownership.py)
    idle_s: float = DEFAULT_FLEET_IDLE_S  # the writers idle, settled, before the first load
    seconds: float = DEFAULT_FLEET_SECONDS  # publishing time per offered load
    loads: tuple[float, ...] = DEFAULT_FLEET_LOADS  # multiples of the allowance
    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S  # 0: the writer is never scraped
    # The simulated network: round trips of rtt_ms ± jitter_ms (each leg (rtt - jitter) / 2
    # plus uniform 0..jitter), on top of the simulator's own running time.
    rtt_ms: float = 0.0
    jitter_ms: float = 0.0
    throttle_reading: ThrottleReading = ThrottleReading.STARTS
    throttle_warmup_s: float = DEFAULT_THROTTLE_WARMUP_S  # of each load, before the count apart

    def sim_args(self) -> list[str]:
        """``hub sim`` options for the network and the throttle's reading."""
        leg_ms = (self.rtt_ms - self.jitter_ms) / 2
        return [
            "--throttle-reading", self.throttle_reading.value,
            "--request-latency-ms", f"{leg_ms:g}", "--request-jitter-ms", f"{self.jitter_ms:g}",
            "--reply-latency-ms", f"{leg_ms:g}", "--reply-jitter-ms", f"{self.jitter_ms:g}",
        ]

    @property
    def warmup_s(self) -> float:
        """The start of each load left out of applied/s: the first request of every office
        goes at once, a burst that is not the steady rate."""
        return min(5.0, self.seconds / 4)


@dataclass(frozen=True, kw_only=True)
class CeilingOptions:
    offices: int = DEFAULT_CEILING_OFFICES
    intents: int = DEFAULT_CEILING_INTENTS  # per round: for the hub, as many for the reference
    rounds: int = DEFAULT_CEILING_ROUNDS
    profile: bool = False  # py-spy on the writer: its CPU per intent, step by step


@dataclass(frozen=True, kw_only=True)
class ScaleOptions:
    offices: int = DEFAULT_SCALE_OFFICES


@dataclass(frozen=True, kw_only=True)
class DocumentsOptions:
    offices: int = DEFAULT_DOCUMENT_OFFICES
    documents: int = DEFAULT_DOCUMENTS  # shared out between the offices, all published at once
    body_mb: float = DEFAULT_DOCUMENT_MB  # each intent's size as published, in MB (10**6 bytes)


@dataclass(frozen=True, kw_only=True)
class WatchOptions:
    offices: int = DEFAULT_WATCH_OFFICES
    patients: int = DEFAULT_WATCH_PATIENTS  # per office
    appointments: int = DEFAULT_WATCH_APPOINTMENTS  # per office
    seconds: float = DEFAULT_WATCH_SECONDS  # the window the office's changes are made in
    changes_per_min: float = DEFAULT_WATCH_CHANGES_PER_MIN  # per office
    fresh: bool = False  # rebuild the office databases even if they hold the asked rows
    # The offices' databases are <prefix>_001 and on (the tests' have a prefix of their own).
    database_prefix: str = DEFAULT_WATCH_DATABASE_PREFIX
    # Extra HUB_* variables for the watch process (e.g. HUB_WATCH__INTERVAL_S).
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.offices <= MAX_WATCH_OFFICES:
            raise ValueError(f"watch takes 1 to {MAX_WATCH_OFFICES} offices")
        if min(self.patients, self.appointments) < 1:
            raise ValueError("watch needs patients and appointments")
        if self.seconds <= 0 or self.changes_per_min <= 0:
            raise ValueError("watch needs a positive window and change rate")


@dataclass(frozen=True, kw_only=True)
class ConsoleOptions:
    intents: int = DEFAULT_CONSOLE_INTENTS
    repeats: int = DEFAULT_CONSOLE_REPEATS  # each search, the searches taking turns
    vendors: int = 20
    offices: int = 200
    days: int = 30  # the intents are received over this many days, up to now

    def __post_init__(self) -> None:
        if self.intents < self.offices or self.repeats < 1 or self.days < 3:
            raise ValueError("console needs an intent per office, a repeat and 3 days")


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    settings: HubSettings  # broker, MariaDB root account (ledger_db), management API
    scenarios: tuple[Scenario, ...] = DEFAULT_SCENARIOS
    fleet: FleetOptions = field(default_factory=FleetOptions)
    ceiling: CeilingOptions = field(default_factory=CeilingOptions)
    scale: ScaleOptions = field(default_factory=ScaleOptions)
    documents: DocumentsOptions = field(default_factory=DocumentsOptions)
    watch: WatchOptions = field(default_factory=WatchOptions)
    console: ConsoleOptions = field(default_factory=ConsoleOptions)
    # Extra HUB_* variables for the writer process (e.g. HUB_WRITER__PREFETCH), to compare.
    writer_env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if min(self.fleet.offices, self.ceiling.offices, self.scale.offices) < 1:
            raise ValueError("every scenario needs at least one office")
        if self.fleet.offices > 9999 or self.scale.offices > 9999:
            raise ValueError("at most 9999 offices")
        if not 1 <= self.fleet.writers <= MAX_FLEET_WRITERS:
            raise ValueError(f"fleet takes 1 to {MAX_FLEET_WRITERS} writers")
        if self.fleet.seconds <= 0 or not self.fleet.loads or min(self.fleet.loads) <= 0:
            raise ValueError("fleet needs a positive duration and positive loads")
        if not 0 <= self.fleet.jitter_ms <= self.fleet.rtt_ms:
            raise ValueError("fleet's jitter must be between 0 and the round trip")
        if self.ceiling.intents < self.ceiling.offices:
            raise ValueError("ceiling needs at least one intent per office")
