"""``hub cluster``: a local three-node RabbitMQ cluster of one's own (lab/chaos/rabbit_cluster.py),
to run the hub on a cluster on one machine, lose a node and bring it back, and measure what
losing one costs a connected client. The machine's shared broker is never touched.

    hub cluster up                # prints HUB_BROKER_URL and HUB_MANAGEMENT_URL for it
    hub cluster kill 2            # node 2 halted at once; `hub cluster start 2` brings it back
    hub cluster status            # each node, running or down, as the cluster reports them
    hub cluster down              # every node stopped; --delete removes their files
    hub cluster failover --json   # a cluster of its own, nodes killed, the figures

The nodes of ``up`` run detached, so they outlive the command; ``state.json`` in ``--home``
names them for the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from lab.chaos.config import ChaosError

if TYPE_CHECKING:
    from lab.chaos.rabbit_cluster import RabbitCluster

DEFAULT_HOME = Path(tempfile.gettempdir()) / "hub-cluster"
Home = Annotated[Path, typer.Option(help="Where the nodes' files and state.json live.")]
Node = Annotated[int, typer.Argument(min=1, max=3, help="The node, 1 to 3.")]
Delete = Annotated[bool, typer.Option("--delete", help="Also remove the nodes' files.")]
Trials = Annotated[int, typer.Option(min=1, help="Kills of each case.")]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
_T = TypeVar("_T")


def _run(work: Coroutine[Any, Any, _T]) -> _T:
    """``work`` to its end; a ``ChaosError`` is said on stderr and exits 1."""
    try:
        return asyncio.run(work)
    except ChaosError as exc:
        raise _fail(exc) from exc


def _fail(exc: ChaosError) -> typer.Exit:
    typer.echo(f"hub cluster: {exc}", err=True)
    return typer.Exit(code=1)


def _load(home: Path) -> RabbitCluster:
    """The cluster ``up`` left in ``home``; none there is said on stderr and exits 1."""
    from lab.chaos.rabbit_cluster import RabbitCluster

    try:
        return RabbitCluster.load(home)
    except ChaosError as exc:
        raise _fail(exc) from exc


def up(home: Home = DEFAULT_HOME) -> None:
    """Start three nodes (or the ones ``down`` stopped), wait until all three run as one, and
    print the hub's settings for them; the nodes keep running after."""
    from lab.chaos.rabbit_cluster import STATE_FILE, RabbitCluster

    began = time.monotonic()
    if (home / STATE_FILE).exists():
        made = _run(_resumed(home))
    else:
        made = RabbitCluster(f"hubcluster-{uuid.uuid4().hex[:6]}", home, detached=True)
        _run(made.start())
    typer.echo(f"three nodes running in {time.monotonic() - began:.1f} s ({home})", err=True)
    typer.echo(f"HUB_BROKER_URL={made.amqp_urls}")
    typer.echo(f"HUB_MANAGEMENT_URL={made.management_urls}")


async def _resumed(home: Path) -> RabbitCluster:
    made = _load(home)
    await made.resume()
    return made


def down(home: Home = DEFAULT_HOME, delete: Delete = False) -> None:
    """Stop every node of the cluster in ``home``, the last one first."""
    _run(_load(home).stop())
    if delete:
        shutil.rmtree(home)


def status(home: Home = DEFAULT_HOME) -> None:
    """Each node, running or down; exits 1 when fewer than three run."""
    made = _load(home)
    running = _run(made.running())
    for index, node in enumerate(made.nodes, start=1):
        state = "running" if node.name in running else "down"
        typer.echo(f"{index}  {node.name}  amqp 127.0.0.1:{node.ports.amqp}  {state}")
    if len(running) < len(made.nodes):
        raise typer.Exit(code=1)


def kill(node: Node, home: Home = DEFAULT_HOME) -> None:
    """Node ``node`` halted at once, as a crashed machine: nothing flushed or handed over."""
    _run(_load(home).kill(node - 1))


def start(node: Node, home: Home = DEFAULT_HOME) -> None:
    """Node ``node`` back on its data; waits until the cluster runs three nodes again."""
    _run(_load(home).start_node(node - 1))


def failover(trials: Trials = 3, as_json: AsJson = False) -> None:
    """Kill nodes of a cluster of its own under a connected consumer; print the figures."""
    from lab.chaos.cluster_failover import failover_report

    # Each kill makes the probe's connections log their loss with a traceback; the figures
    # say what happened.
    for library in ("aiormq", "aio_pika"):
        logging.getLogger(library).setLevel(logging.CRITICAL)
    home = Path(tempfile.mkdtemp(prefix="hub-cluster-failover-"))
    try:
        report = _run(failover_report(home, trials))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if as_json:
        typer.echo(json.dumps(asdict(report)))
        return
    typer.echo(f"cluster formed in {report.formed_s:.1f} s")
    for case in report.cases:
        reconnect = ("" if case.reconnect_median_s is None
                     else f"reconnected after {case.reconnect_median_s:.2f} s (median), ")
        typer.echo(f"{case.case}: {case.trials} kills, {reconnect}first message after the kill "
                   f"delivered after {case.delivered_median_s:.2f} s (median), "
                   f"{case.delivered_max_s:.2f} s (max)")


def register(app: typer.Typer) -> None:
    cluster = typer.Typer(help="A local three-node RabbitMQ cluster of one's own (the lab's).")
    for command in (up, down, status, kill, start, failover):
        cluster.command(command.__name__)(command)
    app.add_typer(cluster, name="cluster")
