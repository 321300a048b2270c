"""``hub sim``: the Open Dental API simulator; ``hub sim door``: a change through another door.

The simulator stands in for Open Dental and lives in the separate ``odsim`` package; only this
module imports it, and only inside the command, so the writer, ledger and client never load it.
``hub sim door`` does not import it either: it asks a running simulator over HTTP
(``POST /admin/doors/{door}``, odsim/doors.py), finding it and the office's customer key in the
registry.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer

from hub.errors import HubError
from hub.registry import Office
from hub.registry.loader import load_hub_registry
from hub.settings import HubSettings


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


class DoorName(StrEnum):
    FRONT_DESK = "front-desk"
    OTHER_API = "other-api"
    DIRECT_DB = "direct-db"


class DoorTable(StrEnum):
    PATIENT = "patient"
    APPOINTMENT = "appointment"
    PATFIELD = "patfield"
    COMMLOG = "commlog"


DoorArg = Annotated[DoorName, typer.Argument(help="Which door the change comes through.")]
OfficeOpt = Annotated[
    str | None,
    typer.Option("--office", help="The registry's office id (default: its only office).",
                 show_default=False),
]
TableOpt = Annotated[DoorTable, typer.Option("--table", help="The table of the row.")]
KeyOpt = Annotated[int, typer.Option("--key", help="The row's primary key.", min=1)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Column=Value (repeatable; none: move an appointment a day).",
                 show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
DeleteOpt = Annotated[
    bool, typer.Option("--delete", help="Delete the appointment (front-desk or direct-db).")
]
DOOR_TIMEOUT_S = 30.0
API_SUFFIX = "/api/v1"


def _assignments(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column:
            raise typer.BadParameter(f"--set wants Column=Value, got {pair!r}")
        values[column] = value
    return values


def _door_text(result: dict[str, object]) -> str:
    changed = result["changed"]
    columns = ", ".join(str(c) for c in changed) if isinstance(changed, list) else ""
    log = result.get("security_log_num")
    trace = "no securitylog" if log is None else f"securitylog {log}"
    what = "deleted" if result.get("deleted") else f"changed {columns or 'nothing'}"
    return f"{result['door']}: {result['table']} {result['key']} {what} ({trace})"


async def open_door(
    settings: HubSettings, door: DoorName, office_id: str | None, table: DoorTable, key: int,
    values: dict[str, str], *, delete: bool = False,
) -> dict[str, object]:
    """Ask the office's simulator to change the row through ``door``; its reply. Raises
    HubError naming the office, or the simulator's refusal."""
    registry = load_hub_registry(settings, os.environ)
    if office_id is None:
        if len(registry.offices) != 1:
            raise HubError("--office is required: the registry has several offices")
        office_id = next(iter(registry.offices))
    async with httpx.AsyncClient(timeout=DOOR_TIMEOUT_S) as client:
        return await door_request(client, registry.office(office_id), door.value, table.value,
                                  key, values, delete=delete)


async def door_request(
    client: httpx.AsyncClient, office: Office, door: str, table: str, key: int,
    values: Mapping[str, str], *, delete: bool = False,
) -> dict[str, object]:
    """POST the change to the simulator's ``/admin/doors/<door>`` for ``office``; its reply.
    Raises HubError naming the office, or the simulator's refusal."""
    root = office.api_url.rstrip("/").removesuffix(API_SUFFIX)
    body = {"customer_key": office.customer_key.get_secret_value(), "table": table,
            "key": key, "set": dict(values), "delete": delete}
    try:
        reply = await client.post(f"{root}/admin/doors/{door}", json=body)
    except httpx.HTTPError as exc:
        raise HubError(f"office {office.id}: no simulator answered "
                       f"({type(exc).__name__})") from exc
    if reply.status_code != 200:
        raise HubError(f"office {office.id}: the simulator refused ({reply.status_code}):"
                       f" {reply.text}")
    result: dict[str, object] = reply.json()
    return result


def register(app: typer.Typer) -> None:
    sim_app = typer.Typer(
        help="The Open Dental API simulator (and, `hub sim door`, changes through other doors).",
    )
    app.add_typer(sim_app, name="sim", invoke_without_command=True)

    @sim_app.command("door")
    def door(
        which: DoorArg,
        table: TableOpt,
        key: KeyOpt,
        office: OfficeOpt = None,
        assignments: SetOpt = None,
        as_json: JsonOpt = False,
        delete: DeleteOpt = False,
    ) -> None:
        """Change one row of a simulated office the way a front-desk user, another API
        developer or a direct database writer would (the simulator must be running)."""
        values = _assignments(assignments or [])
        try:
            result = asyncio.run(
                open_door(HubSettings(), which, office, table, key, values, delete=delete)
            )
        except HubError as exc:
            typer.echo(f"hub sim door: {exc}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(json.dumps(result) if as_json else _door_text(result))

    @sim_app.callback()
    def sim(
        ctx: typer.Context,
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
        if ctx.invoked_subcommand is not None:
            return
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
