"""``hub sim`` as a separate process, and how its options map onto the configuration."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx

from odsim.cli import build_config
from odsim.config import ApiMode, load_config
from odsim.throttle import OverLimitReply, Reading
from tests.odsim.conftest import auth
from tests.support.mariadb import throwaway_database

HUB = (sys.executable, "-c", "from hub.cli import main; main()")


def _write_config(path: Path, database: str) -> None:
    path.write_text(
        '[[developers]]\nkey = "NFF6i0KrXrxDkZHt"\nname = "OD Integration Hub"\n\n'
        f'[[customers]]\nkey = "VzkmZEaUWOjnQX2z"\ndatabase = "{database}"\n',
        encoding="utf-8",
    )


async def test_hub_sim_serves_until_sigterm_and_exits_zero(tmp_path: Path) -> None:
    # Given a config naming a throwaway office database
    async with throwaway_database("simcmd") as database:
        config = tmp_path / "sim.toml"
        _write_config(config, database)

        # When `hub sim` starts on a free port
        process = await asyncio.create_subprocess_exec(
            *HUB, "sim", "--config", str(config), "--port", "0",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
            base_url = line.decode().strip()
            # And a patient is posted to the URL it printed
            async with httpx.AsyncClient(base_url=base_url, headers=auth()) as client:
                created = await client.post("/patients", json={"LName": "Cmd", "FName": "Line"})
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=30)

    # Then it printed its base URL, answered 201, and exited 0 on SIGTERM
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v1")
    assert created.status_code == 201
    assert code == 0


def test_options_override_the_config_file(tmp_path: Path) -> None:
    # Given a config file
    path = tmp_path / "sim.toml"
    _write_config(path, "officeA")

    # When the command line adds a mode, a throttle reply and faults
    config = build_config(
        config_file=path, mode="remote", throttle_reply="503",
        fault_updates={"seed": 7, "rate_500": 0.25, "latency_ms": None},
    )

    # Then the file's customers stay and the options win where given
    assert config.customers == load_config(path).customers
    assert config.mode is ApiMode.REMOTE
    assert (config.throttle.reply, config.throttle.reject_status) == (OverLimitReply.REJECT, 503)
    assert (config.faults.seed, config.faults.rate_500, config.faults.latency_ms) == (7, 0.25, 0)
    assert build_config(config_file=None, mode=None, throttle_reply="queue",
                        fault_updates={}).throttle.reply is OverLimitReply.QUEUE


def test_reading_and_latency_options_set_the_throttle_and_the_global_legs(
    tmp_path: Path,
) -> None:
    # Given a config file
    path = tmp_path / "sim.toml"
    _write_config(path, "officeA")

    # When the command line sets the replies reading and the legs
    config = build_config(
        config_file=path, mode="remote", throttle_reply=None, fault_updates={},
        throttle_reading="replies",
        latency_updates={"request_ms": 125.0, "request_jitter_ms": 50.0, "reply_ms": None},
    )

    # Then the throttle counts from replies and every key without its own legs gets these
    assert config.throttle.reading is Reading.REPLIES
    assert (config.latency.request_ms, config.latency.request_jitter_ms) == (125.0, 50.0)
    assert config.latency.reply_ms == 0
    assert config.customers[0].latency is None
