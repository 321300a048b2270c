"""``hub chaos``: intents over many offices and vendors while the simulator fails on purpose, the
writer is killed and the broker restarted; exit 0 only when nothing was lost or doubled and every
refusal sits in the dead-letter queue with its reason."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Annotated

import typer

from hub.chaos import ChaosConfig, report_json, report_text, run_chaos
from hub.chaos import config as c
from hub.errors import HubError
from hub.settings import HubSettings
from hub.writer.logs import configure_logging

AsJson = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
Intents = Annotated[int, typer.Option(min=20, help="Distinct intents to publish.")]
Offices = Annotated[int, typer.Option(min=1, max=999, help="Offices (each its customer key).")]
Vendors = Annotated[int, typer.Option(min=1, max=99, help="Vendors (each its broker user).")]
Kills = Annotated[int, typer.Option(min=0, help="Times the writer is killed with SIGKILL.")]
Restarts = Annotated[int, typer.Option(min=0, help="Times the run's broker node restarts.")]
Rate = Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of API requests, 0..1.")]
Seed = Annotated[int, typer.Option(help="Seed of the mix, the schedule and the faults.")]
Databases = Annotated[int, typer.Option(min=1, help="Office databases the offices share.")]
PublishRate = Annotated[float, typer.Option(min=1.0, help="Intents published per second.")]
DrainS = Annotated[float, typer.Option("--drain-timeout-s", min=1.0,
                                       help="How long to wait for the writer to finish.")]
AttemptS = Annotated[float, typer.Option("--attempt-timeout-s", min=0.1,
                                         help="The writer's time limit of one API attempt.")]
Keep = Annotated[bool, typer.Option(help="Keep the node's files, logs and databases.")]


def _progress(line: str) -> None:
    # stderr: with --json, stdout holds the one JSON object only.
    print(f"hub chaos: {line}", file=sys.stderr, flush=True)


def register(app: typer.Typer) -> None:
    @app.command("chaos")
    def chaos(
        as_json: AsJson = False,
        intents: Intents = c.DEFAULT_INTENTS,
        offices: Offices = c.DEFAULT_OFFICES,
        vendors: Vendors = c.DEFAULT_VENDORS,
        kills: Kills = c.DEFAULT_KILLS,
        broker_restarts: Restarts = c.DEFAULT_BROKER_RESTARTS,
        commit_then_drop_rate: Rate = c.DEFAULT_FAULT_RATE,
        rate_500: Rate = c.DEFAULT_FAULT_RATE,
        seed: Seed = 1,
        databases: Databases = c.DEFAULT_DATABASES,
        publish_rate: PublishRate = c.DEFAULT_PUBLISH_RATE,
        drain_timeout_s: DrainS = c.DEFAULT_DRAIN_TIMEOUT_S,
        attempt_timeout_s: AttemptS = c.DEFAULT_ATTEMPT_TIMEOUT_S,
        keep: Keep = False,
    ) -> None:
        """Publish intents while the simulator injects commit-then-drop and 500s, the writer is
        killed and the broker restarted; then account for every intent from Open Dental's tables,
        the ledger and the dead-letter queue. Runs its own RabbitMQ node and throwaway databases."""
        settings = HubSettings()
        configure_logging(settings.log_format, level=logging.WARNING)
        # Each broker restart makes every vendor connection log its loss with a traceback; the
        # progress lines say when the broker goes down and comes back.
        for library in ("aiormq", "aio_pika"):
            logging.getLogger(library).setLevel(logging.CRITICAL)
        config = ChaosConfig(
            settings=settings, intents=intents, offices=offices, vendors=vendors, kills=kills,
            broker_restarts=broker_restarts, rate_commit_then_drop=commit_then_drop_rate,
            rate_500=rate_500, seed=seed, databases=databases, publish_rate=publish_rate,
            drain_timeout_s=drain_timeout_s, attempt_timeout_s=attempt_timeout_s, keep=keep,
        )
        raise typer.Exit(code=asyncio.run(_chaos(config, as_json)))


async def _chaos(config: ChaosConfig, as_json: bool) -> int:
    # SIGTERM stops the run as Ctrl-C does: the run's node, processes and databases go first.
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        report = await run_chaos(config, _progress)
    except HubError as exc:
        typer.echo(f"hub chaos: {exc}", err=True)
        return 2
    except asyncio.CancelledError:
        # The top of the run: its world is already taken down, so it ends here with a code.
        typer.echo("hub chaos: stopped before the end; its world was taken down", err=True)
        return 130
    typer.echo(report_json(report) if as_json else report_text(report))
    return 0 if report.ok else 1
