"""``hub forms``: the online-forms webhook receiver (adapters/forms), publishing as a vendor.

Settings come from ``HUB_FORMS_*`` (adapters/forms/settings.py): the vendor's broker URL, the
offices of its agreements (``HUB_FORMS_OFFICES``) and the webhook secret (``HUB_FORMS_SECRET`` or
``HUB_FORMS_SECRET_FILE``); logs follow ``HUB_LOG_FORMAT``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from adapters.forms import FormsConfigError, FormsSettings, serve_forms
from adapters.logs import configure_logging
from adapters.publisher import PublisherError
from hub.settings import HubSettings, LogFormat

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port (0: any free port).")]


def register(app: typer.Typer) -> None:
    @app.command("forms")
    def forms(host: Host = "127.0.0.1", port: Port = 8088) -> None:
        """Receive signed intake forms on POST /forms/intake until SIGINT/SIGTERM; prints its
        base URL."""
        configure_logging(json_lines=HubSettings().log_format is LogFormat.JSON)
        raise typer.Exit(code=asyncio.run(_forms(FormsSettings(), host, port)))


async def _forms(settings: FormsSettings, host: str, port: int) -> int:
    try:
        await serve_forms(settings, host=host, port=port, on_ready=typer.echo)
    except (FormsConfigError, PublisherError, OSError) as exc:
        typer.echo(f"hub forms: {exc}", err=True)
        return 1
    return 0
