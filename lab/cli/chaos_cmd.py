"""``hub chaos``: intents over many offices and vendors while the simulator fails on purpose,
writers are killed (``--writers`` share the offices, one more may ``--join-at``) and the broker
restarted; exit 0 only when nothing was lost or doubled and every
refusal sits in the dead-letter queue with its reason. ``hub chaos --outage``: offices' Open
Dental gone for long, operators' pauses, a deleted outcome queue (``chaos_outage``); exit 0 only
when every one of its checks holds."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Protocol, TypeVar

import typer

from hub.errors import HubError
from hub.observability.logs import configure_logging
from hub.settings import HubSettings
from lab.chaos import ChaosConfig, report_json, report_text, run_chaos
from lab.chaos import config as c
from lab.chaos.outage import config as oc
from lab.chaos.outage import outage_json, outage_text, run_outage
from lab.cli.chaos_outage import (
    OUTAGE_DEFAULTS,
    BaselineS,
    ConsumerTimeoutS,
    Outage,
    OutageTimeouts,
    PerKind,
    StaggerS,
    Steady,
    TailS,
    changed,
    outage_config,
    refuse_options,
)

AsJson = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
Intents = Annotated[int, typer.Option(min=20, help="Distinct intents to publish.")]
Offices = Annotated[int, typer.Option(min=1, max=999, help="Offices (each its customer key).")]
Vendors = Annotated[int, typer.Option(min=1, max=99, help="Vendors (each its broker user).")]
Kills = Annotated[int, typer.Option(min=0, help="Times the writer is killed with SIGKILL.")]
Restarts = Annotated[int, typer.Option(min=0, help="Times the run's broker node restarts.")]
Rate = Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of API requests, 0..1.")]
Seed = Annotated[int, typer.Option(help="Seed of the mix, the schedule and the faults.")]
Databases = Annotated[int | None, typer.Option(
    min=1, show_default=False,
    help="Office databases, shared by the offices (default: one per office, as in Open Dental).")]
PublishRate = Annotated[float | None, typer.Option(
    min=1.0, show_default=False,
    help=f"Intents published per second (default {c.DEFAULT_PUBLISH_RATE:g}; "
    f"--outage: {oc.DEFAULT_PUBLISH_RATE:g}).")]
DrainS = Annotated[float | None, typer.Option(
    "--drain-timeout-s", min=1.0, show_default=False,
    help=f"How long to wait for the writer to finish (default {c.DEFAULT_DRAIN_TIMEOUT_S:g}; "
    f"--outage: {oc.DEFAULT_DRAIN_TIMEOUT_S:g}).")]
AttemptS = Annotated[float | None, typer.Option(
    "--attempt-timeout-s", min=0.1, show_default=False,
    help=f"The writer's time limit of one API attempt (default "
    f"{c.DEFAULT_ATTEMPT_TIMEOUT_S:g}; --outage: {oc.DEFAULT_ATTEMPT_TIMEOUT_S:g}).")]
Rogue = Annotated[int, typer.Option(
    min=0, help="Direct database writes a rogue makes during the run; each must be flagged.")]
Keep = Annotated[bool, typer.Option(help="Keep the node's files, logs and databases.")]
Cluster = Annotated[bool, typer.Option(
    "--cluster", help="Run on a three-node RabbitMQ cluster of the run's own; each broker "
    "restart kills one node (SIGKILL) and starts it again, each node in turn.")]
Writers = Annotated[int, typer.Option(
    min=1, help="`hub worker` processes sharing the offices; each kill picks one (seeded).")]
JoinAt = Annotated[float | None, typer.Option(
    "--join-at", min=0.0, show_default=False,
    help="One more writer joins this many seconds into the publishing (default: none).")]
NO_JOIN = -1.0  # --join-at not given, as the options' table holds it
CHAOS_DEFAULTS = {
    "--intents": c.DEFAULT_INTENTS, "--offices": c.DEFAULT_OFFICES, "--kills": c.DEFAULT_KILLS,
    "--broker-restarts": c.DEFAULT_BROKER_RESTARTS,
    "--commit-then-drop-rate": c.DEFAULT_FAULT_RATE, "--rate-500": c.DEFAULT_FAULT_RATE,
    "--rogue": c.DEFAULT_ROGUE, "--cluster": False, "--writers": 1, "--join-at": NO_JOIN,
}


class _Verdict(Protocol):
    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=_Verdict)


def _progress(line: str) -> None:
    # stderr: with --json, stdout holds the one JSON object only.
    print(f"hub chaos: {line}", file=sys.stderr, flush=True)


def _quiet_libraries(outage: bool) -> None:
    # Each broker restart makes every vendor connection log its loss with a traceback; the
    # progress lines say when the broker goes down and comes back.
    for library in ("aiormq", "aio_pika"):
        logging.getLogger(library).setLevel(logging.CRITICAL)
    if outage:
        # A paused vendor's every refused publish closes its channel, and each publish sharing
        # that channel logs its re-send; the progress lines and the report count the refusals.
        logging.getLogger("adapters.publisher").setLevel(logging.ERROR)


def register(app: typer.Typer) -> None:
    @app.command("chaos")
    def chaos(
        as_json: AsJson = False,
        outage: Outage = False,
        intents: Intents = c.DEFAULT_INTENTS,
        offices: Offices = c.DEFAULT_OFFICES,
        vendors: Vendors = c.DEFAULT_VENDORS,
        kills: Kills = c.DEFAULT_KILLS,
        broker_restarts: Restarts = c.DEFAULT_BROKER_RESTARTS,
        commit_then_drop_rate: Rate = c.DEFAULT_FAULT_RATE,
        rate_500: Rate = c.DEFAULT_FAULT_RATE,
        seed: Seed = 1,
        databases: Databases = None,
        publish_rate: PublishRate = None,
        drain_timeout_s: DrainS = None,
        attempt_timeout_s: AttemptS = None,
        rogue: Rogue = c.DEFAULT_ROGUE,
        keep: Keep = False,
        cluster: Cluster = False,
        writers: Writers = 1,
        join_at: JoinAt = None,
        consumer_timeout_s: ConsumerTimeoutS = oc.DEFAULT_CONSUMER_TIMEOUT_S,
        outage_timeouts: OutageTimeouts = oc.DEFAULT_OUTAGE_TIMEOUTS,
        baseline_s: BaselineS = oc.DEFAULT_BASELINE_S,
        stagger_s: StaggerS = oc.DEFAULT_STAGGER_S,
        tail_s: TailS = oc.DEFAULT_TAIL_S,
        offices_per_kind: PerKind = oc.DEFAULT_OFFICES_PER_KIND,
        steady_offices: Steady = oc.DEFAULT_STEADY_OFFICES,
    ) -> None:
        """Publish intents while the simulator injects commit-then-drop and 500s, the writer is
        killed and the broker restarted; then account for every intent from Open Dental's tables,
        the ledger and the dead-letter queue. Runs its own RabbitMQ node and throwaway databases.
        With --outage: offices' Open Dental goes away for long instead (see lab/chaos/outage)."""
        settings = HubSettings()
        configure_logging(settings.log_format, level=logging.WARNING)
        _quiet_libraries(outage)
        common = {
            "--intents": intents, "--offices": offices, "--kills": kills,
            "--broker-restarts": broker_restarts,
            "--commit-then-drop-rate": commit_then_drop_rate, "--rate-500": rate_500,
            "--rogue": rogue, "--cluster": cluster, "--writers": writers,
            "--join-at": NO_JOIN if join_at is None else join_at,
        }
        given_outage = {
            "--consumer-timeout-s": consumer_timeout_s, "--outage-timeouts": outage_timeouts,
            "--baseline-s": baseline_s, "--stagger-s": stagger_s, "--tail-s": tail_s,
            "--offices-per-kind": offices_per_kind, "--steady-offices": steady_offices,
        }
        both = _Both(settings=settings, seed=seed, vendors=vendors, databases=databases,
                     keep=keep, as_json=as_json, publish_rate=publish_rate,
                     drain_timeout_s=drain_timeout_s, attempt_timeout_s=attempt_timeout_s)
        if outage:
            refuse_options(changed(common, CHAOS_DEFAULTS), "--outage")
            raise typer.Exit(code=_outage_mode(both, given_outage))
        refuse_options(changed(given_outage, OUTAGE_DEFAULTS), "hub chaos without --outage")
        raise typer.Exit(code=_chaos_mode(both, common))


@dataclass(frozen=True, kw_only=True)
class _Both:
    """The options both runs take; None: the run's own default."""

    settings: HubSettings
    seed: int
    vendors: int
    databases: int | None
    keep: bool
    as_json: bool
    publish_rate: float | None
    drain_timeout_s: float | None
    attempt_timeout_s: float | None


def _chaos_mode(both: _Both, given: Mapping[str, float]) -> int:
    config = ChaosConfig(
        settings=both.settings, intents=int(given["--intents"]),
        offices=int(given["--offices"]), vendors=both.vendors, kills=int(given["--kills"]),
        broker_restarts=int(given["--broker-restarts"]),
        rate_commit_then_drop=given["--commit-then-drop-rate"], rate_500=given["--rate-500"],
        seed=both.seed, databases=both.databases, cluster=bool(given["--cluster"]),
        publish_rate=both.publish_rate or c.DEFAULT_PUBLISH_RATE,
        drain_timeout_s=both.drain_timeout_s or c.DEFAULT_DRAIN_TIMEOUT_S,
        attempt_timeout_s=both.attempt_timeout_s or c.DEFAULT_ATTEMPT_TIMEOUT_S, keep=both.keep,
        rogue=int(given["--rogue"]), writers=int(given["--writers"]),
        join_at_s=None if given["--join-at"] == NO_JOIN else given["--join-at"],
    )
    render = report_json if both.as_json else report_text
    return asyncio.run(_run(lambda: run_chaos(config, _progress), render))


def _outage_mode(both: _Both, given: Mapping[str, float]) -> int:
    try:
        config = outage_config(
            both.settings, given, seed=both.seed, vendors=both.vendors,
            databases=both.databases, keep=both.keep,
            shared={"publish_rate": both.publish_rate, "drain_timeout_s": both.drain_timeout_s,
                    "attempt_timeout_s": both.attempt_timeout_s},
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    render = outage_json if both.as_json else outage_text
    return asyncio.run(_run(lambda: run_outage(config, _progress), render))


async def _run(work: Callable[[], Awaitable[R]], render: Callable[[R], str]) -> int:
    # SIGTERM stops the run as Ctrl-C does: the run's node, processes and databases go first.
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        report = await work()
    except HubError as exc:
        typer.echo(f"hub chaos: {exc}", err=True)
        return 2
    except asyncio.CancelledError:
        # The top of the run: its world is already taken down, so it ends here with a code.
        typer.echo("hub chaos: stopped before the end; its world was taken down", err=True)
        return 130
    typer.echo(render(report))
    return 0 if report.ok else 1
