"""The options of ``hub chaos --outage`` and its configuration from them; ``chaos_cmd`` has the
command. Options of one mode given to the other are refused rather than silently ignored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import typer

from hub.settings import HubSettings
from lab.chaos.outage import OutageConfig
from lab.chaos.outage import config as oc

Outage = Annotated[bool, typer.Option(
    "--outage", help="The outage run: offices' Open Dental gone for many consumer timeouts of a "
    "node of its own, pauses and a deleted outcome queue, while vendors publish throughout.")]
ConsumerTimeoutS = Annotated[float, typer.Option(
    "--consumer-timeout-s", min=1.0, help="--outage: the run's node's consumer_timeout.")]
OutageTimeouts = Annotated[float, typer.Option(
    min=1.0, help="--outage: each outage's length, in consumer timeouts.")]
BaselineS = Annotated[float, typer.Option(
    "--baseline-s", min=1.0, help="--outage: publishing before the first outage.")]
StaggerS = Annotated[float, typer.Option(
    "--stagger-s", min=0.0, help="--outage: between the starts of the three kinds of outage.")]
TailS = Annotated[float, typer.Option(
    "--tail-s", min=0.0, help="--outage: publishing after the last outage ended.")]
PerKind = Annotated[int, typer.Option(
    min=1, help="--outage: offices down by each of refused connection, eConnector 400, 401.")]
Steady = Annotated[int, typer.Option(
    min=1, help="--outage: offices nothing happens to (their pace is measured).")]

OUTAGE_DEFAULTS: Mapping[str, float] = {
    "--consumer-timeout-s": oc.DEFAULT_CONSUMER_TIMEOUT_S,
    "--outage-timeouts": oc.DEFAULT_OUTAGE_TIMEOUTS,
    "--baseline-s": oc.DEFAULT_BASELINE_S,
    "--stagger-s": oc.DEFAULT_STAGGER_S,
    "--tail-s": oc.DEFAULT_TAIL_S,
    "--offices-per-kind": oc.DEFAULT_OFFICES_PER_KIND,
    "--steady-offices": oc.DEFAULT_STEADY_OFFICES,
}


def changed(given: Mapping[str, float], defaults: Mapping[str, float]) -> list[str]:
    """The options in ``given`` whose value is not their default."""
    return [name for name, value in given.items() if value != defaults[name]]


def refuse_options(names: list[str], mode: str) -> None:
    if names:
        raise typer.BadParameter(f"{', '.join(names)}: not used by {mode}")


def outage_config(
    settings: HubSettings, given: Mapping[str, float], *, seed: int, vendors: int,
    databases: int | None, keep: bool, shared: Mapping[str, float | None],
) -> OutageConfig:
    """``given``: the outage options by name; ``shared``: publish rate, drain and attempt
    timeouts, None for this mode's default."""
    return OutageConfig(
        settings=settings,
        consumer_timeout_s=given["--consumer-timeout-s"],
        outage_timeouts=given["--outage-timeouts"],
        baseline_s=given["--baseline-s"], stagger_s=given["--stagger-s"],
        tail_s=given["--tail-s"], offices_per_kind=int(given["--offices-per-kind"]),
        steady_offices=int(given["--steady-offices"]), vendors=vendors, databases=databases,
        publish_rate=shared["publish_rate"] or oc.DEFAULT_PUBLISH_RATE,
        drain_timeout_s=shared["drain_timeout_s"] or oc.DEFAULT_DRAIN_TIMEOUT_S,
        attempt_timeout_s=shared["attempt_timeout_s"] or oc.DEFAULT_ATTEMPT_TIMEOUT_S,
        seed=seed, keep=keep,
    )
