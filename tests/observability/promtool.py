"""Running Debian's promtool: a missing promtool fails the test, it never skips it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "prometheus"


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run promtool with ``args``; the test fails (not skips) when promtool is not installed."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(
            "promtool is not installed: scripts/ensure-services.sh installs Debian's prometheus "
            "package (apt-get install -y --no-install-recommends prometheus)"
        )
    # The rule unit tests take promtool 10-30 s alone on a 2-vCPU host, longer beside the
    # suite's other workers: the limit only stops a hung promtool.
    return subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, timeout=600, check=False
    )
