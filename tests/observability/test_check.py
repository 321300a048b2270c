"""``hub check`` as a real process against real servers: 0 and "ok" when healthy and ready,
otherwise 1 with one line per failing check, or one naming the URL nothing answers at."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry

from hub.observability import Liveness, LivenessLimits, serving
from tests.reliability.proxy import free_port
from tests.support.hub_check import hub_check


async def _passes() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("amqp://guest:secret@broker: refused")


async def test_a_healthy_and_ready_writer_checks_ok(registry: CollectorRegistry) -> None:
    # Given a writer's endpoints whose checks pass, on HUB_METRICS_HOST (all interfaces) and port
    async with serving(registry, {"hub_database": _passes}, host="0.0.0.0", port=0) as server:
        settings = {"HUB_METRICS_HOST": "0.0.0.0", "HUB_METRICS_PORT": str(server.port)}
        # When `hub check` runs with those settings and no URL
        checked = await hub_check(env=settings)
    # Then it found them on this machine, and says ok
    assert (checked.code, checked.lines) == (0, ["ok"])


async def test_a_stuck_lane_and_a_failed_dependency_each_get_a_line(
    registry: CollectorRegistry,
) -> None:
    # Given a writer with a lane busy past its limit, and its broker refused
    liveness = Liveness(LivenessLimits(lane_busy_s=0.0))
    liveness.busy("office-1")
    checks = {"broker": _refused, "hub_database": _passes}
    async with serving(
        registry, checks, host="127.0.0.1", port=0, liveness=liveness
    ) as server:
        # When `hub check` asks it
        checked = await hub_check("--url", server.url)
    # Then it exits 1, naming each failing check and why, and nothing else
    assert checked.code == 1
    assert len(checked.lines) == 2, checked.lines
    assert checked.lines[0].startswith("healthz: lane:office-1: busy on one delivery for ")
    assert checked.lines[1] == "readyz: broker: ConnectionRefusedError"


async def test_nothing_listening_fails_naming_the_url() -> None:
    # Given a port nothing listens on, When `hub check` asks it
    url = f"http://127.0.0.1:{free_port()}"
    checked = await hub_check("--url", url)
    # Then it exits 1, saying that URL refused the connection
    assert checked.code == 1
    assert len(checked.lines) == 1
    assert checked.lines[0].startswith(f"cannot reach {url}: connection refused")


@asynccontextmanager
async def _silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers: a writer whose server thread hangs."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_no_answer_within_the_timeout_fails_naming_the_url() -> None:
    # Given a server that never answers, When `hub check` asks it for at most 0.5 s
    async with _silent_server() as url:
        checked = await hub_check("--url", url, "--timeout", "0.5")
    # Then it exits 1, saying that URL did not answer in time
    assert (checked.code, checked.lines) == (1, [f"{url} did not answer within 0.5 s"])
