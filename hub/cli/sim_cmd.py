"""``hub sim``: the Open Dental API simulator.

The simulator stands in for Open Dental and lives in the separate ``odsim`` package; only this
module imports it, and only inside the command, so the writer, ledger and client never load it.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Mode(StrEnum):
    SERVICE = "service"
    REMOTE = "remote"
    LOCAL = "local"


class ThrottleReading(StrEnum):
    STARTS = "starts"
    REPLIES = "replies"


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port (30223 like the API Service; 0: any free port).")]
ConfigFile = Annotated[Path | None, typer.Option("--config", help="TOML file (SimConfig).")]
ModeOpt = Annotated[Mode | None, typer.Option(help="Global API mode (default: service).")]
Seed = Annotated[int | None, typer.Option(help="Seed of the fault sequence.")]
Reset = Annotated[bool, typer.Option(help="Drop and recreate the office databases.")]
Reply = Annotated[str | None, typer.Option(help="Over the throttle: reject, queue or a status.")]
Millis = Annotated[int | None, typer.Option(help="Milliseconds.")]
Rate = Annotated[float | None, typer.Option(help="Share of requests, 0..1.")]
Seconds = Annotated[float | None, typer.Option(help="Seconds.")]
Reading = Annotated[ThrottleReading | None, typer.Option(
    help="Where the throttle counts a slot from: starts (the previous request's start) or "
    "replies (the previous reply).",
)]
LegMillis = Annotated[float | None, typer.Option(help="Milliseconds, every key without its own.")]
TlsFile = Annotated[Path | None, typer.Option(help="PEM file; with both, the API is on https.")]


def register(app: typer.Typer) -> None:
    @app.command("sim")
    def sim(
        host: Host = "127.0.0.1",
        port: Port = 30223,
        config: ConfigFile = None,
        mode: ModeOpt = None,
        seed: Seed = None,
        reset: Reset = False,
        throttle_reply: Reply = None,
        throttle_reading: Reading = None,
        request_latency_ms: LegMillis = None,
        request_jitter_ms: LegMillis = None,
        reply_latency_ms: LegMillis = None,
        reply_jitter_ms: LegMillis = None,
        fault_latency_ms: Millis = None,
        fault_latency_random_ms: Millis = None,
        fault_500_rate: Rate = None,
        fault_504_rate: Rate = None,
        fault_504_delay_s: Seconds = None,
        fault_econnector_down_s: Seconds = None,
        fault_commit_then_drop_rate: Rate = None,
        tls_cert: TlsFile = None,
        tls_key: TlsFile = None,
    ) -> None:
        """Run the Open Dental API simulator until SIGINT/SIGTERM; prints its base URL."""
        from odsim.cli import build_config, run

        sim_config = build_config(
            config_file=config,
            mode=mode.value if mode else None,
            throttle_reply=throttle_reply,
            fault_updates={
                "seed": seed, "latency_ms": fault_latency_ms,
                "latency_random_ms": fault_latency_random_ms, "rate_500": fault_500_rate,
                "rate_504": fault_504_rate, "delay_504_s": fault_504_delay_s,
                "econnector_down_s": fault_econnector_down_s,
                "rate_commit_then_drop": fault_commit_then_drop_rate,
            },
            throttle_reading=throttle_reading.value if throttle_reading else None,
            latency_updates={
                "request_ms": request_latency_ms, "request_jitter_ms": request_jitter_ms,
                "reply_ms": reply_latency_ms, "reply_jitter_ms": reply_jitter_ms,
            },
        )
        raise typer.Exit(code=asyncio.run(run(
            sim_config, host=host, port=port, reset=reset, tls_cert=tls_cert, tls_key=tls_key
        )))
