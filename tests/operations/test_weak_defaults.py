"""No weak defaults outside a laptop: the writer refuses to start when a well-known default
credential, a plaintext link or an unverified one would go to another machine, naming each,
before it connects anywhere."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.registry import Registry, load_hub_registry
from hub.registry.model import Office, OfficeDatabase
from hub.settings import ApiMode, HubSettings, MySqlSettings
from hub.weak_defaults import WeakDefaultsError, is_loopback, refuse_weak_defaults

ROOT = Path(__file__).resolve().parents[2]
REMOTE = "203.0.113.7"  # TEST-NET-3: never this machine


def _shipped_registry() -> Registry:
    """registry.toml as shipped: office-1 on this machine."""
    return load_hub_registry(HubSettings(registry_path=ROOT / "registry.toml"), os.environ)


def _remote_office(developer_key: str | None, db_password: str, *, tls: bool = True) -> Registry:
    """office-9 on another machine; ``tls``: its API on https and its database over TLS."""
    office = Office(
        id="office-9", api_url=f"{'https' if tls else 'http'}://{REMOTE}:30223/api/v1",
        mode=ApiMode.SERVICE, read_only=False, customer_key=SecretStr("customer"),
        developer_key=None if developer_key is None else SecretStr(developer_key),
        db=OfficeDatabase(host=REMOTE, port=3306, database="opendental", user="root",
                          password=SecretStr(db_password), tls=tls),
    )
    return Registry(offices={office.id: office}, vendors={})


def _secure_elsewhere(**changes: object) -> HubSettings:
    """Logins of their own, over TLS, on other machines: what production runs on."""
    fields: dict[str, object] = {
        "broker_url": SecretStr(f"amqps://hub:s3cret@{REMOTE}:5671/"),
        "management_url": f"https://{REMOTE}:15671", "management_user": "hub",
        "management_password": SecretStr("s3cret"),
        "ledger_db": MySqlSettings(host=REMOTE, user="hub", password=SecretStr("s3cret"),
                                   tls=True),
    }
    return HubSettings.model_validate({**fields, **changes})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("LOCALHOST", True), (REMOTE, False), ("broker.example", False),
     ("", False), (None, False)],
)
def test_only_localhost_and_loopback_addresses_are_this_machine(
    host: str | None, loopback: bool
) -> None:
    assert is_loopback(host) is loopback


def test_the_defaults_on_this_machine_start() -> None:
    # Given the default settings and the shipped registry (everything on 127.0.0.1)
    settings = HubSettings()
    # Then nothing is refused: the demo and the tests run on them
    refuse_weak_defaults(settings, _shipped_registry())


def test_each_default_credential_bound_elsewhere_is_named() -> None:
    # Given the default broker, management and ledger logins, each pointed at another machine
    settings = HubSettings(
        broker_url=SecretStr(f"amqp://guest:guest@{REMOTE}:5672/"),
        management_url=f"http://{REMOTE}:15672",
        ledger_db=MySqlSettings(host=REMOTE),
    )
    # When the writer checks them, Then it refuses, naming each setting and host, no password
    with pytest.raises(WeakDefaultsError) as refused:
        refuse_weak_defaults(settings, _shipped_registry())
    said = str(refused.value)
    assert f"HUB_BROKER_URL logs in as guest/guest to {REMOTE}" in said
    assert f"HUB_MANAGEMENT_USER/PASSWORD are guest/guest for {REMOTE}" in said
    assert f"HUB_LEDGER_DB__USER is root without a password on {REMOTE}" in said


def test_real_credentials_elsewhere_over_tls_start() -> None:
    # Given logins of their own on other machines, every link over TLS, verified
    settings = _secure_elsewhere()
    # Then nothing is refused
    refuse_weak_defaults(settings, _shipped_registry())
    refuse_weak_defaults(settings, _remote_office(developer_key="own", db_password="pw"))


def test_each_plaintext_link_elsewhere_is_named_with_its_fix() -> None:
    # Given real logins on other machines, but every link plaintext
    settings = _secure_elsewhere(
        broker_url=SecretStr(f"amqp://hub:s3cret@{REMOTE}:5672/"),
        management_url=f"http://{REMOTE}:15672",
        ledger_db=MySqlSettings(host=REMOTE, user="hub", password=SecretStr("s3cret")),
    )
    registry = _remote_office(developer_key="own", db_password="pw", tls=False)
    # When the writer checks them, Then it refuses, naming every link and how to fix it, at once
    with pytest.raises(WeakDefaultsError) as refused:
        refuse_weak_defaults(settings, registry)
    said = str(refused.value)
    assert f"HUB_BROKER_URL is plaintext AMQP to {REMOTE}: use amqps://" in said
    assert f"HUB_MANAGEMENT_URL is plaintext HTTP to {REMOTE}: use https://" in said
    assert f"the hub database on {REMOTE} is plaintext: set HUB_LEDGER_DB__TLS=true" in said
    assert f"office office-9's Open Dental API is plaintext HTTP to {REMOTE}" in said
    assert f"office office-9's database on {REMOTE} is plaintext: set tls = true" in said
    assert "s3cret" not in said


def test_plaintext_and_unverified_links_on_this_machine_start() -> None:
    # Given the shipped settings (plaintext, on 127.0.0.1) with verification off
    settings = HubSettings(tls={"verify": False})
    # Then nothing is refused: the demo and the tests run on this machine
    refuse_weak_defaults(settings, _shipped_registry())


def test_verification_off_with_an_endpoint_elsewhere_is_refused() -> None:
    # Given every link over TLS to other machines, but HUB_TLS__VERIFY=false
    settings = _secure_elsewhere(tls={"verify": False})
    # When the writer checks it, Then it refuses, naming the hosts and the fix
    with pytest.raises(WeakDefaultsError) as refused:
        refuse_weak_defaults(settings, _shipped_registry())
    said = str(refused.value)
    assert f"HUB_TLS__VERIFY is false while {REMOTE} is not on this machine" in said
    assert "HUB_TLS__CA_FILE" in said


def test_an_office_elsewhere_with_the_public_test_key_or_a_bare_root_login_is_named() -> None:
    # Given an office on another machine, sent Open Dental's public test developer key (the
    # hub-wide default) and read as root without a password
    registry = _remote_office(developer_key=None, db_password="")
    # Then both are refused, by office and host
    with pytest.raises(WeakDefaultsError) as refused:
        refuse_weak_defaults(HubSettings(), registry)
    said = str(refused.value)
    assert f"office office-9 sends Open Dental's public test developer key to {REMOTE}" in said
    assert f"office office-9's database login is root without a password on {REMOTE}" in said
    # And with its own developer key and a database password, it starts
    refuse_weak_defaults(HubSettings(), _remote_office(developer_key="own", db_password="pw"))


async def test_hub_worker_refuses_before_connecting_anywhere() -> None:
    # Given `hub worker` with the default broker login pointed at an address nobody answers
    env = {**os.environ, "HUB_BROKER_URL": f"amqp://guest:guest@{REMOTE}:5672/",
           "HUB_LEDGER_DB__HOST": REMOTE, "HUB_METRICS_PORT": "0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from hub.cli import main; main()", "worker", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    # When it starts (a guard, not a timing: a connection to TEST-NET-3 would hang far longer)
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    # Then it exits 1 at once, saying why, without having tried the broker or the database
    assert process.returncode == 1
    said = err.decode()
    assert "refusing to start with weak defaults outside this machine" in said
    assert f"guest/guest to {REMOTE}" in said and f"root without a password on {REMOTE}" in said
    assert f"HUB_BROKER_URL is plaintext AMQP to {REMOTE}" in said
