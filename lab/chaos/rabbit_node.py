"""A RabbitMQ node of the run's own, so restarting it never touches the machine's shared broker.

The node has its own name (registered with the machine's epmd), AMQP, distribution and
management ports, data and log directories and Erlang cookie, all under the run's directory;
``/etc/rabbitmq``'s files are replaced by generated ones (``RABBITMQ_CONF_ENV_FILE`` included,
since the machine's names the shared node). It runs as root from the scripts of
``/usr/lib/rabbitmq/bin``, which, unlike ``/usr/sbin``'s wrappers, do not switch to the
``rabbitmq`` user. A restart is a full stop and start on the same data directory: on RabbitMQ
3.10.8 ``stop_app``/``start_app`` fails to reopen the AMQP listener (``eaddrinuse``).

``NodeTuning`` sets what stands in for long stretches of time: a short ``consumer_timeout``
(``rabbitmq.conf``) and a fast ``channel_tick_interval`` (``advanced.config``, which only
the Erlang terms file can set; the broker checks the timeout on each tick).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

from lab.chaos.config import ChaosError
from lab.chaos.processes import free_port, port_open, signal_group, spawn, wait_exit
from lab.chaos.processes import stop as stop_process

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
POLL_S = 0.25
CTL_TIMEOUT_S = 60.0


@dataclass(frozen=True, kw_only=True)
class NodePorts:
    amqp: int
    management: int
    dist: int

    @classmethod
    def free(cls) -> NodePorts:
        return cls(amqp=free_port(), management=free_port(), dist=free_port())


@dataclass(frozen=True, kw_only=True)
class NodeTuning:
    """Broker settings of the node's own; None leaves RabbitMQ's default."""

    consumer_timeout_ms: int | None = None  # default 30 minutes
    channel_tick_ms: int | None = None  # default 60 s

    def conf_lines(self) -> str:
        if self.consumer_timeout_ms is None:
            return ""
        return f"consumer_timeout = {self.consumer_timeout_ms}\n"

    def advanced_config(self) -> str:
        if self.channel_tick_ms is None:
            return "[].\n"
        return f"[{{rabbit, [{{channel_tick_interval, {self.channel_tick_ms}}}]}}].\n"


def rabbitmq_available() -> bool:
    return (RABBITMQ_BIN / "rabbitmq-server").exists() and (RABBITMQ_BIN / "rabbitmqctl").exists()


class RabbitNode:
    def __init__(
        self, name: str, home: Path, ports: NodePorts, tuning: NodeTuning | None = None,
        *, cookie: str | None = None, conf: str = "", detached: bool = False,
    ) -> None:
        """``cookie``: the Erlang cookie, shared by the nodes of one cluster (default: a new
        one); ``conf``: more ``rabbitmq.conf`` lines; ``detached``: the node runs on after
        this process ends (``rabbitmq-server -detached``), stopped and halted by name."""
        self.name = name
        self._home = home
        self.ports = ports
        self.tuning = tuning or NodeTuning()
        self._cookie = cookie or secrets.token_hex(20).upper()
        self._conf = conf
        self._detached = detached
        self._server: asyncio.subprocess.Process | None = None

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.ports.amqp}/"

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.management}"

    @property
    def next_lost(self) -> str:
        """The node ``restart`` stops: this one."""
        return self.name

    @property
    def log_file(self) -> Path:
        """The node's own log (RabbitMQ names it after the node, under the log base)."""
        return self._home / "log" / f"{self.name}.log"

    async def start(self) -> None:
        """Start the node (writing its files the first time) and wait until AMQP listens."""
        if not rabbitmq_available():
            raise ChaosError(f"RabbitMQ's scripts are not in {RABBITMQ_BIN}")
        if not (self._home / "rabbitmq.conf").exists():
            await asyncio.to_thread(self._write_files)
        argv = [str(RABBITMQ_BIN / "rabbitmq-server"), *(["-detached"] if self._detached else [])]
        self._server = await spawn(argv, env=self._server_env(), log=self._home / "server.log")
        if self._detached:  # the script returns once the node runs on its own
            await wait_exit(self._server, START_TIMEOUT_S)
            self._server = None
        await self._wait_ready()

    async def stop(self) -> None:
        """Stop the node and wait for its process to end; a node that ignores it is killed.
        The process stays known until it has ended, so a run cut short mid-stop can discard it."""
        if self._detached:
            await self.ctl("stop")
            await self._wait_down()
            return
        server = self._server
        if server is not None and server.returncode is None:
            await self.ctl("stop")
            if not await wait_exit(server, STOP_TIMEOUT_S):
                await stop_process(server)
        self._server = None

    async def discard(self) -> None:
        """End the node at once (SIGKILL to its process group): for a node whose data is
        deleted next, a graceful stop only costs time. A detached node halts at once."""
        if self._detached:
            await self.ctl("eval", "erlang:halt(137).")
            await self._wait_down()
            return
        server, self._server = self._server, None
        if server is not None:
            signal_group(server, signal.SIGKILL)
            await wait_exit(server, STOP_TIMEOUT_S)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def ctl(self, *args: str) -> None:
        """``rabbitmqctl -n <this node> ...``; only this node is ever named."""
        argv = [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.name, *args]
        process = await spawn(argv, env=self._ctl_env(), log=self._home / "ctl.log")
        try:
            answered = await wait_exit(process, CTL_TIMEOUT_S)
        finally:
            signal_group(process, signal.SIGKILL)  # a no-op once it has ended
        if not answered:
            raise ChaosError(f"rabbitmqctl {' '.join(args)} did not answer for node {self.name}")

    async def query(self, *args: str, tool: str = "rabbitmqctl") -> str:
        """What ``tool -n <this node> ...`` prints (``rabbitmq-queues``, ``rabbitmqctl``); a
        failure raises ``ChaosError`` with the end of what it said."""
        argv = [str(RABBITMQ_BIN / tool), "-n", self.name, *args]
        said = f"{tool} {' '.join(args)}"
        process = await spawn(argv, env=self._ctl_env(), log=self._home / "ctl.log",
                              stdout_pipe=True)
        try:
            printed, _ = await asyncio.wait_for(process.communicate(), CTL_TIMEOUT_S)
        except TimeoutError:
            raise ChaosError(f"{said} did not answer for node {self.name}") from None
        finally:
            signal_group(process, signal.SIGKILL)  # a no-op once it has ended
        if process.returncode != 0:
            raise ChaosError(f"{said} failed on node {self.name}; see "
                             f"{self._home}/ctl.log")
        return printed.decode("utf-8", "replace")

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while loop.time() < deadline:
            if not self._detached and (self._server is None or self._server.returncode is not None):
                raise ChaosError(f"RabbitMQ node {self.name} exited; see {self._home}/server.log")
            if await port_open(self.ports.amqp) and await port_open(self.ports.management):
                return
            await asyncio.sleep(POLL_S)
        raise ChaosError(f"RabbitMQ node {self.name} did not start in {START_TIMEOUT_S:.0f} s")

    async def _wait_down(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_TIMEOUT_S
        while await port_open(self.ports.dist):
            if loop.time() > deadline:
                raise ChaosError(f"RabbitMQ node {self.name} still runs {STOP_TIMEOUT_S:.0f} s "
                                 "after it was told to stop")
            await asyncio.sleep(POLL_S)

    def _write_files(self) -> None:
        home = self._home
        home.mkdir(parents=True, exist_ok=True)
        (home / "rabbitmq.conf").write_text(
            f"management.tcp.port = {self.ports.management}\n"
            "management.tcp.ip = 127.0.0.1\n"
            # Queue figures every second, so the drain wait sees an empty queue soon.
            "collect_statistics_interval = 1000\n" + self.tuning.conf_lines() + self._conf,
            encoding="utf-8",
        )
        (home / "advanced.config").write_text(self.tuning.advanced_config(), encoding="utf-8")
        (home / "enabled_plugins").write_text("[rabbitmq_management].\n", encoding="utf-8")
        (home / "rabbitmq-env.conf").write_text("ERL_EPMD_ADDRESS=127.0.0.1\n", encoding="utf-8")
        cookie = home / ".erlang.cookie"
        cookie.write_text(self._cookie, encoding="ascii")
        cookie.chmod(0o400)

    def _ctl_env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self._home),  # the node's cookie
            "RABBITMQ_CONF_ENV_FILE": str(self._home / "rabbitmq-env.conf"),
        }

    def _server_env(self) -> dict[str, str]:
        home = self._home
        return {
            **self._ctl_env(),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.ports.amqp),
            "RABBITMQ_DIST_PORT": str(self.ports.dist),
            "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(home / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(home / "log"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(home / "plugins-expand"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
