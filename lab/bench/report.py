"""What ``hub bench`` found: one result per scenario, as a table or as one JSON object.

The fleet's figures are maps keyed by the offered load ("0.5", "1.0", "1.5"), so
``fleet.applied_ratio["1.5"]`` reads as the issue names it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from lab.bench.console import ConsoleResult
from lab.bench.databases import LedgerTable
from lab.bench.procs import MACHINE
from lab.bench.writers import WriterLoad


@dataclass(frozen=True, kw_only=True)
class LoadResult:
    load: float  # times the allowance
    offered_per_s: float
    published: int
    applied_per_s: float  # applied in the steady window (warm-up left out), per second
    applied_ratio: float  # applied_per_s / the sum of the offices' allowances
    throttle_replies: int  # 429s the simulator sent, from its own counter
    # From the first minute of the load to the end of its drain (None: it ended sooner): the
    # 429s per minute, and their share of the throttled requests the simulator answered.
    throttle_replies_per_min: float | None
    throttle_reply_share: float | None
    p50_s: float  # publish → the outcome's decided_at, of every applied intent of this load
    p95_s: float
    p99_s: float
    not_applied: int  # outcomes other than applied (there should be none)
    unaccounted: int  # published without an outcome by the end of the drain
    # Of every core's time while publishing, the share busy: near 1, the machine (writer,
    # simulator, broker, databases and publishers together) caps the figures, not the pacing.
    machine_busy: float
    # As the simulator's throttle saw it, across the load and its drain: the mean time between
    # one key's request starts while the key was kept busy (None when none was), and the mean
    # time a throttled request ran after taking its slot. The writer paces each key from its
    # replies, so a busy key's gap is about 1 s + the round trip, of which the running is most.
    slot_gap_s: float | None
    sim_handling_s: float | None
    # The writer's /metrics scraped through the load and its drain (FleetResult's interval):
    # answered, failed, and the answered ones' mean wall time.
    scrapes: int
    scrape_failures: int
    scrape_s: float | None
    # Each writer over the steady window (lab/bench/writers.py: CPU from /proc, decisions from
    # its own hub_intents_finished_total), and every writer's ledger queries per decision.
    per_writer: tuple[WriterLoad, ...] = ()
    ledger_queries_per_intent: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FleetResult:
    offices: int
    writers: int
    seconds: float
    warmup_s: float
    allowance_per_s: float  # the sum over the offices
    loads: tuple[LoadResult, ...]
    publisher_niceness: int  # the vendors' side ran this much below the hub's processes
    scrape_interval_s: float  # each writer's /metrics scraped this often (0: never)
    rtt_ms: float  # the simulated network: round trips of rtt_ms ± jitter_ms
    jitter_ms: float
    throttle_reading: str  # starts or replies
    ledger: tuple[LedgerTable, ...] = ()  # every load's rows, read after the last drain

    def as_dict(self) -> dict[str, object]:
        by_load: dict[str, dict[str, object]] = {}
        for result in self.loads:
            for name, value in asdict(result).items():
                if name != "load":
                    by_load.setdefault(name, {})[f"{result.load:.1f}"] = value
        head = {"offices": self.offices, "writers": self.writers, "seconds": self.seconds,
                "warmup_s": self.warmup_s,
                "allowance_per_s": self.allowance_per_s,
                "publisher_niceness": self.publisher_niceness,
                "scrape_interval_s": self.scrape_interval_s, "rtt_ms": self.rtt_ms,
                "jitter_ms": self.jitter_ms, "throttle_reading": self.throttle_reading,
                "ledger": [asdict(table) for table in self.ledger]}
        return {**head, **by_load}


@dataclass(frozen=True, kw_only=True)
class CeilingRound:
    hub_per_s: float
    reference_per_s: float


@dataclass(frozen=True, kw_only=True)
class CeilingResult:
    offices: int
    intents: int  # per round
    rounds: list[CeilingRound]
    hub_per_s: float  # decisions per second in the steady window, mean over the rounds
    reference_per_s: float  # acks per second in the reference's steady window, mean
    ratio: float  # of the two means
    writer_cpu_us_per_intent: float
    reference_cpu_us_per_message: float
    unaccounted: int
    not_applied: int  # the hub's outcomes other than applied (there should be none)
    reference_errors: int
    writer_us_by_step: dict[str, float] = field(default_factory=dict)  # with --profile
    # µs of CPU per intent (per message) of each process in the steady window, means over the
    # rounds: the writer (the reference), simulator, mariadbd, rabbitmq, the bench's own process
    # (the vendors' side), and the whole machine.
    hub_cpu_us_by_process: dict[str, float] = field(default_factory=dict)
    reference_cpu_us_by_process: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class ScaleResult:
    offices: int
    startup_s: float  # spawn → the writer logs that every office queue is consumed
    rss_mb: float  # VmRSS after one intent per office
    rss_idle_mb: float  # VmRSS once started, before any intent
    peak_rss_mb: float  # VmHWM at the end
    unaccounted: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class DocumentsResult:
    offices: int
    documents: int
    body_mb: float  # each upload's body as published, in MB
    in_hand_bytes: int  # HUB_WRITER__IN_HAND_BYTES
    working_bytes: int  # HUB_WRITER__WORKING_BYTES
    rss_idle_mb: float  # VmRSS once started, before it worked on any document
    peak_rss_mb: float  # VmHWM once every upload has its outcome
    in_hand_bound_mb: float  # Σ lanes' prefetch × their office's largest message
    bound_mb: float  # idle + in hand + the working copies (docs/performance.md, "Memory")
    applied: int
    unaccounted: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class WatchResult:
    """hub watch's read load on the offices' databases over the measured span: from every
    office's first scan to the moment the watch had attributed as many changes as were made."""

    offices: int
    patients: int  # per office
    appointments: int  # per office
    built: int  # office databases this run built
    reused: int  # ... and kept from an earlier run
    build_s: float
    disk_mb: float  # every office database's data and indexes (MiB)
    interval_s: float  # the watch's settings as its process had them
    max_interval_s: float
    batch: int
    max_pages: int
    office_concurrency: int
    log_window_s: float  # how near the row's stamp its securitylog row must be to explain it
    window_s: float  # the front desks' changes went out over this
    span_s: float  # measured: the window and the catch-up after it
    changes_made: int
    made_by_kind: dict[str, int]
    changes_attributed: int  # rows of the hub database's watch_changes
    attributed_by_door: dict[str, int]
    # From the watch's own histogram of its office-database queries (every query it ran there).
    queries: int
    queries_per_s: float
    queries_per_office_min: float
    queries_by_name: dict[str, int]  # the watch's names: watch_scan_<table>, watch_log_<table>...
    query_ms_mean: float
    p50_ms: float  # interpolated inside the histogram's buckets
    p99_ms: float
    p99_bucket_ms: float  # the upper edge of the bucket the p99 falls in
    # MariaDB's own counters. Com_select counts the whole server's SELECTs (anything else
    # running on it, the watch's reads of the hub database included).
    server_selects_per_s: float
    scan_rows: int  # rows the watch's scan queries returned
    # TABLE_STATISTICS over the office databases, the office's own UPDATEs (one row each) taken
    # out: rows the watch made the offices' servers read.
    office_rows_read: int
    rows_read_per_change: float
    server_rows_read_per_change: float  # Rows_read, the whole server, per change
    watch_cpu_share: float  # of one core, over the span
    watch_rss_mb: float
    watch_peak_rss_mb: float
    offices_backed_off: int  # offices whose interval was above the base at the end

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class Machine:
    cpus: int
    python: str
    load_before: float  # one-minute load average when the run began
    load_after: float
    writer_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class BenchReport:
    machine: Machine
    fleet: FleetResult | None = None
    ceiling: CeilingResult | None = None
    scale: ScaleResult | None = None
    documents: DocumentsResult | None = None
    watch: WatchResult | None = None
    console: ConsoleResult | None = None

    def as_json(self) -> str:
        document: dict[str, object] = {"machine": asdict(self.machine)}
        for name, part in (("fleet", self.fleet), ("ceiling", self.ceiling),
                           ("scale", self.scale), ("documents", self.documents),
                           ("watch", self.watch), ("console", self.console)):
            if part is not None:
                document[name] = part.as_dict()
        return json.dumps(document, indent=2)

    def table(self) -> str:
        machine = self.machine
        lines = [f"machine: {machine.cpus} cores, Python {machine.python}, load average "
                 f"{machine.load_before:.2f} before, {machine.load_after:.2f} after"]
        if self.fleet is not None:
            lines += _fleet_lines(self.fleet)
        if self.ceiling is not None:
            lines += _ceiling_lines(self.ceiling)
        if self.scale is not None:
            lines += _scale_lines(self.scale)
        if self.documents is not None:
            lines += _documents_lines(self.documents)
        if self.watch is not None:
            lines += _watch_lines(self.watch)
        if self.console is not None:
            lines += self.console.lines()
        return "\n".join(lines)


def _fleet_lines(fleet: FleetResult) -> list[str]:
    lines = [
        "",
        f"fleet: {fleet.offices} offices in remote mode, {fleet.writers} writer(s), "
        f"{fleet.seconds:g} s per load "
        f"(first {fleet.warmup_s:g} s left out of applied/s), allowance "
        f"{fleet.allowance_per_s:g}/s; publishers at nice +{fleet.publisher_niceness}; "
        + _scraped(fleet.scrape_interval_s),
        f"network round trip {fleet.rtt_ms:g} ± {fleet.jitter_ms:g} ms, the throttle counting "
        f"from {fleet.throttle_reading}; throttled/min and share: after the first minute",
        f"{'load':>5} {'offered/s':>10} {'applied/s':>10} {'of allowance':>13} "
        f"{'throttled':>10} {'/min':>6} {'share':>7} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7} "
        f"{'lost':>5} "
        f"{'machine busy':>13} {'slot gap s':>11} {'sim ran ms':>10}",
    ]
    for r in fleet.loads:
        lines.append(
            f"{r.load:>5.1f} {r.offered_per_s:>10.1f} {r.applied_per_s:>10.1f} "
            f"{r.applied_ratio:>12.1%} {r.throttle_replies:>10} "
            f"{_or_dash(r.throttle_replies_per_min, '.1f'):>6} "
            f"{_percent(r.throttle_reply_share):>7} "
            f"{r.p50_s:>7.2f} "
            f"{r.p95_s:>7.2f} {r.p99_s:>7.2f} {r.unaccounted + r.not_applied:>5} "
            f"{r.machine_busy:>13.0%} {_or_dash(r.slot_gap_s, '.3f'):>11} "
            f"{_or_dash(None if r.sim_handling_s is None else r.sim_handling_s * 1000, '.1f'):>10}"
        )
    for r in fleet.loads:
        lines += _writer_lines(r)
    return lines + _ledger_lines(fleet.ledger)


def _ledger_lines(tables: tuple[LedgerTable, ...]) -> list[str]:
    intents = next((t.rows for t in tables if t.table == "intents"), 0)
    if not intents:
        return []
    total = sum(t.data_bytes + t.index_bytes for t in tables)
    return [
        f"  ledger after the run: {intents} intents, {total / 2**20:.1f} MiB in all, "
        f"{total / intents:,.0f} bytes per intent (data and indexes, whole pages)",
        *(f"    {t.table:<24} {t.rows:>9} rows {t.data_bytes / 2**20:>8.2f} MiB data "
          f"{t.index_bytes / 2**20:>8.2f} MiB indexes" for t in tables),
    ]


def _writer_lines(load: LoadResult) -> list[str]:
    """Each writer over the load's steady window, and the fleet's ledger queries."""
    lines = [f"  load {load.load:.1f}, steady window: {'writer':>6} {'pid':>8} {'offices':>8} "
             f"{'share':>7} {'CPU s':>7} {'decided':>8} {'CPU ms/intent':>14} "
             f"{'idle CPU':>9} {'marginal ms':>12} {'RSS MiB':>8}"]
    for w in load.per_writer:
        lines.append(
            f"  {'':<27}{w.writer:>6} {w.pid:>8} {w.offices_owned:>8} {w.share:>7.1%} "
            f"{w.cpu_s:>7.1f} {w.decided:>8} {_or_dash(w.cpu_ms_per_intent, '.2f'):>14} "
            f"{w.idle_cpu_share:>9.1%} {_or_dash(w.marginal_cpu_ms_per_intent, '.2f'):>12} "
            f"{w.rss_mb:>8.0f}"
        )
    queries = ", ".join(f"{q} {n:g}" for q, n in load.ledger_queries_per_intent.items())
    total = sum(load.ledger_queries_per_intent.values())
    lines.append(f"  ledger queries per intent (the writers' histogram; a finish is one): "
                 f"{total:.2f} ({queries or 'none'})")
    return lines


def _scraped(interval_s: float) -> str:
    if interval_s <= 0:
        return "the writer's /metrics not scraped"
    return f"the writer's /metrics scraped every {interval_s:g} s"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.2%}"


def _or_dash(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _ceiling_lines(ceiling: CeilingResult) -> list[str]:
    return [
        "",
        f"ceiling: {ceiling.offices} offices in service mode, {ceiling.intents} intents, "
        f"{len(ceiling.rounds)} round(s) (means below)",
        *(f"  round {number}: hub {r.hub_per_s:.1f}/s, reference {r.reference_per_s:.1f}/s"
          for number, r in enumerate(ceiling.rounds, start=1)),
        f"  hub       {ceiling.hub_per_s:8.1f} intents/s, writer CPU "
        f"{ceiling.writer_cpu_us_per_intent:,.0f} µs per intent",
        f"  reference {ceiling.reference_per_s:8.1f} messages/s (consume → POST → ack), CPU "
        f"{ceiling.reference_cpu_us_per_message:,.0f} µs per message",
        f"  hub/reference {ceiling.ratio:.2f}; unaccounted {ceiling.unaccounted}, not "
        f"applied {ceiling.not_applied}, reference errors {ceiling.reference_errors}",
        *(f"    {step:<34} {us:7,.0f} µs" for step, us in ceiling.writer_us_by_step.items()),
        *_process_lines(ceiling),
    ]


def _process_lines(ceiling: CeilingResult) -> list[str]:
    """One line per phase: each process's CPU per intent, and what the rest of the machine
    (the kernel, other work) used beside them."""
    lines = []
    for phase, each in (("hub", ceiling.hub_cpu_us_by_process),
                        ("reference", ceiling.reference_cpu_us_by_process)):
        if each:
            named = {name: us for name, us in each.items() if name != MACHINE}
            rest = each.get(MACHINE, 0.0) - sum(named.values())
            parts = ", ".join(f"{name} {us:,.0f}" for name, us in named.items())
            lines.append(f"  CPU µs per intent, {phase}: {parts}, rest {rest:,.0f}; "
                         f"machine {each.get(MACHINE, 0.0):,.0f}")
    return lines


def _scale_lines(scale: ScaleResult) -> list[str]:
    return [
        "",
        f"scale: {scale.offices} offices: start-up {scale.startup_s:.1f} s, resident memory "
        f"{scale.rss_idle_mb:.0f} MB started, {scale.rss_mb:.0f} MB after one intent per "
        f"office (peak {scale.peak_rss_mb:.0f} MB); unaccounted {scale.unaccounted}",
    ]


def _documents_lines(documents: DocumentsResult) -> list[str]:
    return [
        "",
        f"documents: {documents.documents} uploads of {documents.body_mb:g} MB queued for "
        f"{documents.offices} offices (in-hand budget {documents.in_hand_bytes / 2**20:.0f} "
        f"MiB, working {documents.working_bytes / 2**20:.0f} MiB): resident memory "
        f"{documents.rss_idle_mb:.0f} MiB started, peak {documents.peak_rss_mb:.0f} MiB; bound "
        f"{documents.bound_mb:.0f} MiB ({documents.in_hand_bound_mb:.0f} MiB of it in hand); "
        f"applied {documents.applied}, unaccounted {documents.unaccounted}",
    ]


def _watch_lines(watch: WatchResult) -> list[str]:
    doors = ", ".join(f"{door} {n}" for door, n in watch.attributed_by_door.items()) or "none"
    kinds = ", ".join(f"{kind} {n}" for kind, n in watch.made_by_kind.items())
    return [
        "",
        f"watch: {watch.offices} offices of {watch.patients:,} patients and "
        f"{watch.appointments:,} appointments ({watch.disk_mb:,.0f} MiB; {watch.built} built in "
        f"{watch.build_s:.0f} s, {watch.reused} kept)",
        f"  settings: interval {watch.interval_s:g} s (up to {watch.max_interval_s:g} s), batch "
        f"{watch.batch}, {watch.max_pages} pages, {watch.office_concurrency} queries at once "
        f"per office, log window {watch.log_window_s:g} s",
        f"  changes: {watch.changes_made} made over {watch.window_s:g} s ({kinds}); "
        f"{watch.changes_attributed} attributed ({doors}); measured over {watch.span_s:.0f} s",
        f"  queries (the watch's histogram): {watch.queries_per_s:.1f}/s, "
        f"{watch.queries_per_office_min:.1f}/min per office; mean {watch.query_ms_mean:.2f} ms, "
        f"p50 {watch.p50_ms:.2f} ms, p99 {watch.p99_ms:.2f} ms (bucket ≤ "
        f"{watch.p99_bucket_ms:g} ms)",
        "  by name: " + ", ".join(f"{name} {n}" for name, n in watch.queries_by_name.items()),
        f"  server Com_select: {watch.server_selects_per_s:.1f}/s (the whole server)",
        f"  rows read per change: {watch.rows_read_per_change:,.1f} in the office databases "
        f"(TABLE_STATISTICS), {watch.server_rows_read_per_change:,.1f} on the whole server "
        f"(Rows_read); scans returned {watch.scan_rows} rows",
        f"  hub watch: CPU {watch.watch_cpu_share:.1%} of a core, resident "
        f"{watch.watch_rss_mb:.0f} MiB (peak {watch.watch_peak_rss_mb:.0f} MiB); "
        f"{watch.offices_backed_off} office(s) backed off",
    ]
