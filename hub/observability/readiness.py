"""Readiness checks: injected async callables that raise when their dependency is not usable.

``/readyz`` runs them all at once, each under the same time limit. A failure is reported by the
check's name and the exception's class only: messages can hold URLs with credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

# Returns when the dependency is usable, raises otherwise.
ReadinessCheck = Callable[[], Awaitable[None]]
OK = "ok"


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    name: str
    ok: bool
    detail: str  # "ok", "timeout", or the exception's class name


async def run_checks(checks: Mapping[str, ReadinessCheck], timeout_s: float) -> list[CheckResult]:
    """Every check's result, in name order; none takes longer than ``timeout_s``."""
    names = sorted(checks)
    results = await asyncio.gather(*(_run_one(name, checks[name], timeout_s) for name in names))
    return list(results)


async def _run_one(name: str, check: ReadinessCheck, timeout_s: float) -> CheckResult:
    try:
        async with asyncio.timeout(timeout_s):
            await check()
    except TimeoutError:
        return CheckResult(name=name, ok=False, detail="timeout")
    except Exception as exc:  # any failure means "not ready"; the check's own bug included
        return CheckResult(name=name, ok=False, detail=type(exc).__name__)
    return CheckResult(name=name, ok=True, detail=OK)

