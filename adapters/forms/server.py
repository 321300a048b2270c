"""Run the forms webhook receiver until SIGINT or SIGTERM (``hub forms``)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from aiohttp import web

from adapters.forms.app import IntakeConfig, forms_app
from adapters.forms.settings import FormsSettings
from adapters.publisher import VendorPublisher


async def serve_forms(
    settings: FormsSettings, *, host: str, port: int, on_ready: Callable[[str], None]
) -> None:
    """Serve ``POST /forms/intake`` on ``host:port`` (0: any free port), publishing as the
    configured vendor; ``on_ready`` gets the base URL once the server listens."""
    config = IntakeConfig(
        signing_key=settings.webhook_secret(),
        retry_after_s=settings.retry_after_s,
        offices=settings.agreed_offices(),
        timestamp_tolerance_s=settings.timestamp_tolerance_s,
        max_body_bytes=settings.max_body_bytes,
    )
    publisher = VendorPublisher(
        settings.broker_url,
        settings.vendor_name(),
        confirm_timeout_s=settings.confirm_timeout_s,
        tls=settings.broker_tls(),
    )
    async with publisher:
        # The adapter logs each request itself, without the query string or any body.
        runner = web.AppRunner(forms_app(publisher, config), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            bound_host, bound_port = runner.addresses[0][:2]
            on_ready(f"http://{bound_host}:{bound_port}")
            await _until_signalled()
        finally:
            await runner.cleanup()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
