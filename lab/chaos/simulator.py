"""The Open Dental simulator as a ``hub sim`` process: the run's generated configuration, the
fault rates and seed as options, any free port; it announces its base URL on stdout.

The hub's side never imports the simulator; it only starts the command, reads what
``GET /admin/faults`` says was injected, and sets and reads one office's outage through
``/admin/outages`` (the kinds by name: ``econnector_down``, ``unauthorized``).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict

from lab.chaos.config import ChaosError
from lab.chaos.processes import hub_command, spawn, stop

START_TIMEOUT_S = 120.0  # the office databases are created and seeded first
ADMIN_TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True, kw_only=True)
class Faults:
    seed: int
    rate_commit_then_drop: float
    rate_500: float

    def options(self) -> list[str]:
        return [
            "--seed", str(self.seed),
            "--fault-commit-then-drop-rate", str(self.rate_commit_then_drop),
            "--fault-500-rate", str(self.rate_500),
        ]


class _AdminView(BaseModel):
    model_config = ConfigDict(extra="ignore")

    injected: dict[str, int]


class _OutagesView(BaseModel):
    model_config = ConfigDict(extra="ignore")

    outages: dict[str, str]  # kind by customer key
    refused: dict[str, int]  # requests answered by an outage, by customer key


class Simulator:
    def __init__(self, config_file: Path, log: Path, faults: Faults) -> None:
        self._config_file = config_file
        self._log = log
        self._faults = faults
        self._process: asyncio.subprocess.Process | None = None
        self.base_url = ""

    async def start(self) -> str:
        argv = [*hub_command(), "sim", "--config", str(self._config_file), "--host", "127.0.0.1",
                "--port", "0", *self._faults.options()]
        self._process = process = await spawn(argv, env=os.environ, log=self._log,
                                              stdout_pipe=True)
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
        except TimeoutError:
            line = b""
        url = line.decode("utf-8", errors="replace").strip()
        if not url.startswith("http://"):
            await self.stop()
            raise ChaosError(f"the simulator did not start; see {self._log}")
        self.base_url = url
        return url

    async def injected(self) -> dict[str, int]:
        """What the simulator says it injected, by fault (``commit_then_drop``, ``http_500``)."""
        reply = await self._admin("GET", "/admin/faults")
        return _AdminView.model_validate_json(reply).injected

    async def set_outage(self, customer_key: str, kind: str | None) -> None:
        """Every request with ``customer_key`` answers as ``kind`` says, until set to None."""
        await self._admin("PUT", "/admin/outages", {"customer_key": customer_key, "kind": kind})

    async def refused_by_outages(self) -> dict[str, int]:
        """Requests each customer key was refused by its outages so far."""
        reply = await self._admin("GET", "/admin/outages")
        return _OutagesView.model_validate_json(reply).refused

    async def _admin(self, method: str, path: str, body: object = None) -> bytes:
        url = self.base_url.removesuffix("/api/v1") + path
        try:
            async with httpx.AsyncClient(timeout=ADMIN_TIMEOUT) as client:
                reply = await client.request(method, url, json=body)
                reply.raise_for_status()
        except httpx.HTTPError as exc:
            raise ChaosError(f"the simulator's {path} failed ({type(exc).__name__})") from exc
        return reply.content

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await stop(process)
