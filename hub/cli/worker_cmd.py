"""``hub worker``: apply vendors' intents to Open Dental until SIGTERM or SIGINT, then drain."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import typer

from hub.errors import HubError
from hub.observability.logs import configure_logging
from hub.settings import HubSettings
from hub.writer.worker import run_worker

log = logging.getLogger("hub.worker")


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker() -> None:
        """Consume every office queue of the registry and apply each intent exactly once."""
        settings = HubSettings()
        configure_logging(settings.log_format)
        raise typer.Exit(code=asyncio.run(_worker(settings)))


async def _worker(settings: HubSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run_worker(settings, os.environ, stop, freeze_heap=True)
    except HubError as exc:
        log.error("hub worker stopped: %s", exc)
        return 1
    return 0
