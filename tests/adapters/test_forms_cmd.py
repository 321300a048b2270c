"""``hub forms`` as a separate process, configured only through its environment."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx
from aio_pika.abc import AbstractRobustChannel

from adapters.forms import INTAKE_PATH, intake_key
from hub import names
from tests.adapters.conftest import VendorAccount, take
from tests.adapters.forms_support import SECRET, body_of, intake_form, patient_values, signed

HUB = (sys.executable, "-c", "from hub.cli import main; main()")


async def test_hub_forms_publishes_a_signed_form_and_exits_zero_on_sigterm(
    tmp_path: Path, vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given the vendor's broker URL and the webhook secret in a file, and JSON logs
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    env = os.environ | {
        "HUB_FORMS_BROKER_URL": vendor.url().get_secret_value(),
        "HUB_FORMS_SECRET_FILE": str(secret_file),
        "HUB_FORMS_OFFICES": f"{vendor.office},{vendor.unserved_office}",
        "HUB_LOG_FORMAT": "json",
    }

    # When `hub forms` starts on a free port and a signed form is posted to the URL it printed
    process = await asyncio.create_subprocess_exec(
        *HUB, "forms", "--port", "0", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()
        body = body_of(intake_form(vendor.office, "sub-cmd"))
        async with httpx.AsyncClient(base_url=base_url) as client:
            reply = await client.post(INTAKE_PATH, content=body, headers=signed(body))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    # Then it answered 202, published the intents and exited 0
    assert reply.status_code == 202
    (message,) = await take(hub_channel, names.office_queue(vendor.office), 1)
    assert message.message_id == intake_key("sub-cmd", "patient.create")
    assert process.returncode == 0
    # And it logged one JSON line for the form, without the patient's data
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    published = [line for line in lines if line.get("event") == "intake_published"]
    assert [line["office"] for line in published] == [vendor.office]
    assert not [value for value in patient_values() if value in stderr.decode()]


async def test_hub_forms_without_a_secret_exits_one_naming_the_variables(tmp_path: Path) -> None:
    # Given no webhook secret in the environment
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_FORMS_")}

    # When `hub forms` starts
    process = await asyncio.create_subprocess_exec(
        *HUB, "forms", "--port", "0", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    # Then it exits 1 saying which variables to set
    assert process.returncode == 1
    assert "HUB_FORMS_SECRET" in stderr.decode()
