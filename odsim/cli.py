"""What ``hub sim`` runs: the configuration from a file and options, then the server."""

from __future__ import annotations

import sys
from pathlib import Path

from odsim.config import ApiMode, SimConfig, SimDbSettings, load_config
from odsim.network import Latency
from odsim.server import serve, server_tls
from odsim.throttle import OverLimitReply, Reading


def throttle_reply_update(reply: str) -> dict[str, object]:
    """``reject`` (429), ``queue``, or another status code to reject with."""
    if reply in (OverLimitReply.REJECT.value, OverLimitReply.QUEUE.value):
        return {"reply": OverLimitReply(reply)}
    if reply.isdigit():
        return {"reply": OverLimitReply.REJECT, "reject_status": int(reply)}
    raise ValueError("--throttle-reply must be reject, queue or a status code")


def build_config(
    *,
    config_file: Path | None,
    mode: str | None,
    throttle_reply: str | None,
    fault_updates: dict[str, object],
    throttle_reading: str | None = None,
    latency_updates: dict[str, object] | None = None,
) -> SimConfig:
    """The file's config (or the default) with the command line's options laid over it; the
    latency options set the global legs, which keys with their own in the file keep."""
    config = load_config(config_file) if config_file else SimConfig()
    update: dict[str, object] = {}
    if mode is not None:
        update["mode"] = ApiMode(mode)
    throttle_update: dict[str, object] = {}
    if throttle_reply is not None:
        throttle_update.update(throttle_reply_update(throttle_reply))
    if throttle_reading is not None:
        throttle_update["reading"] = Reading(throttle_reading)
    if throttle_update:
        merged_throttle = {**config.throttle.model_dump(), **throttle_update}
        update["throttle"] = type(config.throttle).model_validate(merged_throttle)
    latency = {k: v for k, v in (latency_updates or {}).items() if v is not None}
    if latency:
        update["latency"] = Latency.model_validate({**config.latency.model_dump(), **latency})
    given = {k: v for k, v in fault_updates.items() if v is not None}
    if given:
        merged = {**config.faults.model_dump(), **given}
        update["faults"] = type(config.faults).model_validate(merged)
    return config.model_copy(update=update) if update else config


def _announce(base_url: str) -> None:
    # One line with the base URL, so a parent process can read where the API listens.
    sys.stdout.write(base_url + "\n")
    sys.stdout.flush()


async def run(
    config: SimConfig, *, host: str, port: int, reset: bool,
    tls_cert: Path | None = None, tls_key: Path | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (over https when given a certificate and key); the exit code."""
    if (tls_cert is None) != (tls_key is None):
        sys.stderr.write("hub sim: --tls-cert and --tls-key go together\n")
        return 2
    tls = None if tls_cert is None or tls_key is None else server_tls(tls_cert, tls_key)
    db = SimDbSettings().params()
    await serve(config, host=host, port=port, db=db, reset=reset, on_ready=_announce, tls=tls)
    return 0
