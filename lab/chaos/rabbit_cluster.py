"""A RabbitMQ cluster of the run's own: three ``RabbitNode``s on this machine, joined into one.

Each node has its own name, ports, data and log directories (``rabbit_node.py``); they share one
Erlang cookie, which is what lets them, and ``rabbitmqctl`` run with any node's home, talk to
each other. Node 1 starts the cluster; the others start alone and then join it (``stop_app``,
``join_cluster``, ``start_app``: tried on 3.10.8, the listeners come back on a node that never
served a client), both at once. The cluster is up when every node reports all of them running
and every node's AMQP port answers.

A node is lost by ``kill`` (SIGKILL to its process group, or ``erlang:halt`` for a detached
node: nothing is flushed or handed over) and brought back by ``start_node`` on the same data
directory, where it rejoins by itself; ``restart`` does both to each node in turn, which is how
a chaos run on the cluster "restarts its broker". ``state.json`` in the cluster's home names the
nodes and their ports, so that ``hub cluster down`` can stop the nodes ``hub cluster up`` left
running. As the chaos run's broker it answers as a ``RabbitNode`` does (``amqp_url``,
``management_url``: every node's, comma-separated, as the hub's settings take them).

Quorum queues declared on it get a member on every node: on 3.10 ``x-quorum-initial-group-size``
defaults to the number of cluster nodes (``quorum_members`` reads them back).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import asdict
from pathlib import Path

from lab.chaos.config import ChaosError
from lab.chaos.processes import port_open
from lab.chaos.rabbit_node import NodePorts, NodeTuning, RabbitNode

SIZE = 3
FORM_TIMEOUT_S = 120.0
POLL_S = 0.5
STATE_FILE = "state.json"


class RabbitCluster:
    """``prefix`` names the nodes (``<prefix>-1@localhost`` …); ``home`` holds their files."""

    def __init__(
        self, prefix: str, home: Path, *, size: int = SIZE, tuning: NodeTuning | None = None,
        ports: list[NodePorts] | None = None, cookie: str | None = None, detached: bool = False,
    ) -> None:
        """``detached``: the nodes run on after this process ends (``hub cluster up``)."""
        self.home = home
        cookie = cookie or secrets.token_hex(20).upper()
        ports = ports or [NodePorts.free() for _ in range(size)]
        self.nodes = [
            RabbitNode(f"{prefix}-{index}@localhost", home / f"node-{index}", node_ports, tuning,
                       cookie=cookie, detached=detached)
            for index, node_ports in enumerate(ports, start=1)
        ]
        self._cookie = cookie
        self._prefix = prefix
        self._next_lost = 0  # the node ``restart`` loses next: each in turn

    @classmethod
    def load(cls, home: Path) -> RabbitCluster:
        """The detached cluster ``start`` wrote into ``home`` (running or not)."""
        try:
            state = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ChaosError(f"no cluster in {home} ({STATE_FILE} is missing)") from None
        ports = [NodePorts(**node) for node in state["ports"]]
        return cls(state["prefix"], home, ports=ports, cookie=state["cookie"], detached=True)

    @property
    def name(self) -> str:
        return f"{self._prefix}-1..{len(self.nodes)}@localhost"

    @property
    def amqp_url(self) -> str:
        """``amqp_urls``: the chaos run's broker, a cluster or a node, gives one address list."""
        return self.amqp_urls

    @property
    def next_lost(self) -> str:
        """The node the next ``restart`` loses."""
        return self.nodes[self._next_lost].name

    @property
    def management_url(self) -> str:
        return self.management_urls

    @property
    def log_file(self) -> Path:
        return self.nodes[0].log_file

    @property
    def amqp_urls(self) -> str:
        """Every node's AMQP URL (guest's login), comma-separated: ``HUB_BROKER_URL``'s form."""
        return ",".join(node.amqp_url for node in self.nodes)

    @property
    def management_urls(self) -> str:
        """Every node's management API, comma-separated: ``HUB_MANAGEMENT_URL``'s form."""
        return ",".join(node.management_url for node in self.nodes)

    async def start(self) -> None:
        """Start every node, join nodes 2.. to node 1, and wait until all run as one."""
        self.home.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self._write_state)
        await asyncio.gather(*(node.start() for node in self.nodes))
        await asyncio.gather(*(self._join(node) for node in self.nodes[1:]))
        await self.wait_running(len(self.nodes))

    async def resume(self) -> None:
        """Every node of a cluster stopped earlier started again, at once: each waits at boot
        for the others it knew."""
        await asyncio.gather(*(node.start() for node in self.nodes))
        await self.wait_running(len(self.nodes))

    async def restart(self) -> None:
        """One node lost at once (SIGKILL) and brought back, each node in turn: a chaos run's
        broker restart on a cluster, which keeps serving meanwhile."""
        index, self._next_lost = self._next_lost, (self._next_lost + 1) % len(self.nodes)
        await self.kill(index)
        await self.start_node(index)

    async def kill(self, index: int) -> None:
        """Node ``index`` (0-based) gone at once, as a lost machine."""
        await self.nodes[index].discard()

    async def start_node(self, index: int) -> None:
        """Node ``index`` back on its data directory; it rejoins the cluster by itself."""
        await self.nodes[index].start()
        await self.wait_running(len(self.nodes))

    async def discard(self) -> None:
        """Every node ended at once (the run's files are deleted next, or kept for a look)."""
        await asyncio.gather(*(node.discard() for node in self.nodes))

    async def stop(self) -> None:
        """Every node stopped cleanly, one after another: the last one stopped must be the
        first started again (it knows the others left), as RabbitMQ asks of a cluster."""
        for node in reversed(self.nodes):
            await node.stop()

    async def running(self) -> list[str]:
        """The nodes the cluster reports running, as any live node sees it."""
        for node in self.nodes:
            if not await port_open(node.ports.dist):
                continue
            try:
                status = json.loads(await node.query("cluster_status", "--formatter", "json"))
            except (ChaosError, ValueError):
                continue
            return sorted(status.get("running_nodes", []))
        return []

    async def wait_running(self, count: int, timeout_s: float = FORM_TIMEOUT_S) -> None:
        """Until ``count`` nodes run as one cluster and each one's AMQP port answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if len(await self.running()) >= count and await self._listening(count):
                return
            await asyncio.sleep(POLL_S)
        raise ChaosError(f"the cluster in {self.home} did not report {count} running nodes in "
                         f"{timeout_s:.0f} s")

    async def quorum_members(self, queue: str, vhost: str = "/") -> list[str]:
        """The nodes holding a member of quorum queue ``queue`` (``rabbitmq-queues
        quorum_status``), as a live node reports them."""
        for node in self.nodes:
            if not await port_open(node.ports.amqp):
                continue
            printed = await node.query("quorum_status", "--vhost", vhost, queue,
                                       "--formatter", "json", tool="rabbitmq-queues")
            return sorted(member["Node Name"] for member in json.loads(printed))
        raise ChaosError(f"no node of the cluster in {self.home} answers")

    async def _join(self, node: RabbitNode) -> None:
        await node.query("stop_app")
        await node.query("join_cluster", self.nodes[0].name)
        await node.query("start_app")

    async def _listening(self, count: int) -> bool:
        answering = [await port_open(node.ports.amqp) for node in self.nodes]
        return sum(answering) >= count

    def _write_state(self) -> None:
        state = {"prefix": self._prefix, "cookie": self._cookie,
                 "ports": [asdict(node.ports) for node in self.nodes]}
        path = self.home / STATE_FILE
        path.write_text(json.dumps(state), encoding="utf-8")
        path.chmod(0o600)  # the cookie lets whoever reads it command the nodes
