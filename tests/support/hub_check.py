"""``hub check`` as a process of its own, as a container runtime runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

HUB = (sys.executable, "-c", "from hub.cli import main; main()")
GUARD_S = 60.0  # a guard, not a timing: the command's own imports take a few seconds


@dataclass(frozen=True, kw_only=True)
class Checked:
    code: int
    lines: list[str]  # what it printed, both streams


async def hub_check(*args: str, env: Mapping[str, str] | None = None) -> Checked:
    process = await asyncio.create_subprocess_exec(
        *HUB, "check", *args, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(GUARD_S):
        out, _ = await process.communicate()
    assert process.returncode is not None
    return Checked(code=process.returncode, lines=out.decode().splitlines())
