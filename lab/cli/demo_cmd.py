"""``hub demo``: the embedded hub, two vendors publishing a scripted mix, and the accounting.

The simulator stands in for Open Dental, so only this module imports it, lazily, inside
``start_simulator``, which it hands to the demo package.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import typer

from hub.errors import HubError
from hub.observability.logs import configure_logging
from hub.settings import HubSettings
from lab.demo import DemoConfig, SimTarget, report_json, report_text, run_demo
from lab.demo.config import DEFAULT_OUTCOME_TIMEOUT_S, DEFAULT_PATIENTS
from lab.demo.local_tls import DEFAULT_DIR as DEFAULT_TLS_DIR
from lab.demo.local_tls import LocalTls

AsJson = Annotated[
    bool, typer.Option("--json", help="One JSON object on stdout (shape: lab/demo/report.py).")
]
Patients = Annotated[int, typer.Option(min=2, max=8, help="New patients demo-forms creates.")]
TimeoutS = Annotated[
    float, typer.Option("--timeout-s", min=1.0, help="How long to wait for every outcome.")
]
Plain = Annotated[bool, typer.Option(
    "--plain", help="Run the links as the settings and the registry have them, without the "
    "local CA's TLS.",
)]
TlsDir = Annotated[Path, typer.Option(
    "--tls-dir", envvar="HUB_TLS_DIR", file_okay=False,
    help="The local CA and certificates (scripts/make-certs.sh) the links use.",
)]


@asynccontextmanager
async def start_simulator(target: SimTarget) -> AsyncIterator[str]:
    """The simulator in service mode for ``target``, in this event loop; yields its base URL."""
    from odsim.config import (
        DEFAULT_DEVELOPER,
        CustomerConfig,
        DeveloperConfig,
        SimConfig,
        SimDbSettings,
    )
    from odsim.server import running_simulator

    config = SimConfig(
        developers=(
            DeveloperConfig(key=target.developer_key.get_secret_value(),
                            name=DEFAULT_DEVELOPER.name),
        ),
        customers=(
            CustomerConfig(key=target.customer_key.get_secret_value(), database=target.database),
        ),
    )
    db = SimDbSettings().params()
    async with running_simulator(
        config, host=target.host, port=target.port, db=db, tls=target.tls
    ) as handle:
        yield handle.base_url


def _progress(line: str) -> None:
    # stderr: with --json, stdout holds the one JSON object only.
    print(f"hub demo: {line}", file=sys.stderr, flush=True)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        as_json: AsJson = False,
        patients: Patients = DEFAULT_PATIENTS,
        timeout_s: TimeoutS = DEFAULT_OUTCOME_TIMEOUT_S,
        plain: Plain = False,
        tls_dir: TlsDir = DEFAULT_TLS_DIR,
    ) -> None:
        """Run the whole flow on this machine: simulator, writer, two vendors, a scripted mix;
        then account for every intent. Exit 0 when all is accounted for and every check holds.
        Every link is over TLS with the local CA (vendors and the writer on AMQPS, MariaDB's
        TLS, the simulator on https), unless --plain."""
        settings = HubSettings()
        # The writer's per-intent lines would drown the progress; problems still show.
        configure_logging(settings.log_format, level=logging.WARNING)
        try:
            tls = None if plain else LocalTls(directory=tls_dir).checked()
        except HubError as exc:
            typer.echo(f"hub demo: {exc}", err=True)
            raise typer.Exit(code=1) from None
        config = DemoConfig(
            settings=settings if tls is None else tls.hub_settings(settings),
            environ=dict(os.environ), patients=patients, outcome_timeout_s=timeout_s, tls=tls,
        )
        raise typer.Exit(code=asyncio.run(_demo(config, as_json)))


async def _demo(config: DemoConfig, as_json: bool) -> int:
    try:
        report = await run_demo(config, start_simulator, _progress)
    except HubError as exc:
        typer.echo(f"hub demo: {exc}", err=True)
        return 1
    typer.echo(report_json(report) if as_json else report_text(report))
    return 0 if report.ok else 1
