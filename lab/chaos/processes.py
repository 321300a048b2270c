"""Child processes of a chaos run: started in their own session (so a signal to the whole group
reaches what they start, and Ctrl-C in the terminal reaches only the run, which stops them in
order), with their output in a log file, and stopped by their own process id only."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from lab.chaos.config import ChaosError

STOP_GRACE_S = 20.0
LISTEN_PORTS = (20000, 32000)  # below Linux's default ephemeral range (32768-60999)
PORT_TRIES = 200


async def spawn(
    argv: Sequence[str], *, env: Mapping[str, str], log: Path, stdout_pipe: bool = False
) -> asyncio.subprocess.Process:
    """Start ``argv``; stderr (and stdout unless piped) is appended to ``log``."""
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            *argv, env=dict(env), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if stdout_pipe else sink, stderr=sink,
            start_new_session=True,
        )


def signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    """Send ``signum`` to the process's own group (it leads it: ``start_new_session``)."""
    if process.returncode is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


async def wait_exit(process: asyncio.subprocess.Process, timeout_s: float) -> bool:
    """True when the process ended within ``timeout_s``."""
    try:
        await asyncio.wait_for(process.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


async def stop(process: asyncio.subprocess.Process, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL to its group if it has not ended within ``grace_s``."""
    signal_group(process, signal.SIGTERM)
    if not await wait_exit(process, grace_s):
        signal_group(process, signal.SIGKILL)
        await wait_exit(process, grace_s)


def hub_command() -> list[str]:
    """The ``hub`` command of this installation: the script beside this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name("hub")
    found = str(beside) if beside.exists() else shutil.which("hub")
    if found is None:
        raise ChaosError("cannot find the `hub` command (pip install -e .)")
    return [found]


def free_port(draw: random.Random | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing uses now, below the kernel's ephemeral range: a
    restarted node must get its port back, and an outgoing connection never borrows one there."""
    draw = draw or random.Random()
    for _ in range(PORT_TRIES):
        port = draw.randrange(*LISTEN_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ChaosError(f"no free port in {LISTEN_PORTS[0]}..{LISTEN_PORTS[1]}")


async def port_open(port: int, timeout_s: float = 1.0) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    return True
