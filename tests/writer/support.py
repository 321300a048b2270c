"""The writer's test world: a registry file of throwaway offices and vendors, real vendor broker
users, the worker built in-process through the composition root, and helpers that wait for
outcome events and dead letters by consuming them (no sleeps)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import aiomysql
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, FieldValue
from prometheus_client import CollectorRegistry
from yarl import URL

from contracts import OutcomeEvent
from hub import bootstrap, names
from hub.registry import Registry, load_registry
from hub.settings import HubSettings, MySqlSettings, WriterSettings
from hub.writer.retrying import Draw
from hub.writer.worker import Worker

GUARD_S = 30.0  # how long a helper waits before failing the test instead of hanging it
POLL_S = 0.02

# Customer keys the test simulator knows (tests/writer/conftest.py), and the variables the
# registry file names them by.
FULL_KEY = "VzkmZEaUWOjnQX2z"  # every permission, service mode
SLOW_KEY = "SlowOfficeKey00S"  # every permission; tests inject latency on it alone
DISABLED_KEY = "DisabledKey0000D"  # Open Dental answers 401 to everything
REMOTE_KEY = "RemoteOfficeKeyR"  # throttled by Open Dental (remote mode), paced by nobody
KEY_VARIABLES = {
    FULL_KEY: "T_KEY_FULL",
    SLOW_KEY: "T_KEY_SLOW",
    DISABLED_KEY: "T_KEY_DISABLED",
    REMOTE_KEY: "T_KEY_REMOTE",
}
OD_DB_PASSWORD_VARIABLE = "T_OD_DB_PASSWORD"

FAST_WRITER = WriterSettings(
    prefetch=10,
    max_attempts=3,
    backoff_base_s=0.02,
    backoff_cap_s=0.05,
    # Past the simulator's injected latencies (1.5 s at most), short enough that an attempt in
    # doubt another writer left behind is reconciled soon (after this, plus a margin).
    attempt_timeout_s=4.0,
    auth_pause_s=0.1,
    auth_pause_cap_s=0.2,
    confirm_timeout_s=5.0,
    infra_backoff_base_s=0.05,
    infra_backoff_cap_s=0.5,
    drain_grace_s=5.0,
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def letters(count: int = 8) -> str:
    """A random surname-like word: patient names must differ between tests' intents."""
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:count]).title()


@dataclass(frozen=True, kw_only=True)
class OfficeSpec:
    id: str
    customer_key: str


@dataclass(frozen=True, kw_only=True)
class VendorSpec:
    name: str
    agreements: dict[str, tuple[str, ...]]  # office → contracts
    password: str = ""


@dataclass(kw_only=True)
class World:
    """One test's offices, vendors and settings, written to a registry file."""

    settings: HubSettings
    registry: Registry
    environ: dict[str, str]
    api_url: str
    od_database: str
    offices: list[OfficeSpec]
    vendors: list[VendorSpec]
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)

    @property
    def office(self) -> str:
        return self.offices[0].id

    @property
    def vendor(self) -> VendorSpec:
        return self.vendors[0]


def registry_toml(world_offices: list[OfficeSpec], vendors: list[VendorSpec], *,
                  api_url: str, od_database: str, od_db_port: int = 3306,
                  od_db_user: str = "od_readonly") -> str:
    lines: list[str] = []
    for office in world_offices:
        lines += [
            "[[offices]]", f'id = "{office.id}"', f'api_url = "{api_url}"', 'mode = "service"',
            f'customer_key_env = "{KEY_VARIABLES[office.customer_key]}"', "",
            "[offices.db]", 'host = "127.0.0.1"', f"port = {od_db_port}",
            f'database = "{od_database}"',
            f'user = "{od_db_user}"', f'password_env = "{OD_DB_PASSWORD_VARIABLE}"', "",
        ]
    for vendor in vendors:
        lines += ["[[vendors]]", f'name = "{vendor.name}"', ""]
        for office_id, contracts in vendor.agreements.items():
            quoted = ", ".join(f'"{contract}"' for contract in contracts)
            lines += ["[[vendors.agreements]]", f'office = "{office_id}"']
            lines += [f"contracts = [{quoted}]", ""]
    return "\n".join(lines)


def write_world(
    tmp_path: Path, *, api_url: str, od_database: str, ledger_db: MySqlSettings,
    offices: list[OfficeSpec], vendors: list[VendorSpec], writer: WriterSettings = FAST_WRITER,
    od_db_port: int = 3306, od_db_user: str = "od_readonly", od_db_password: str = "od_readonly",
) -> World:
    path = tmp_path / f"registry-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(registry_toml(
        offices, vendors, api_url=api_url, od_database=od_database, od_db_port=od_db_port,
        od_db_user=od_db_user,
    ))
    environ = {variable: key for key, variable in KEY_VARIABLES.items()}
    environ[OD_DB_PASSWORD_VARIABLE] = od_db_password
    settings = HubSettings(ledger_db=ledger_db, registry_path=path, writer=writer)
    return World(
        settings=settings, registry=load_registry(path, environ), environ=environ,
        api_url=api_url, od_database=od_database, offices=offices, vendors=vendors,
    )


def rekeyed(world: World, tmp_path: Path, customer_key: str) -> World:
    """The same offices and vendors, every office now reaching Open Dental with another key."""
    offices = [OfficeSpec(id=office.id, customer_key=customer_key) for office in world.offices]
    return write_world(
        tmp_path, api_url=world.api_url, od_database=world.od_database,
        ledger_db=world.settings.ledger_db, offices=offices, vendors=world.vendors,
        writer=world.settings.writer,
    )


@asynccontextmanager
async def running_worker(world: World, *, draw: Draw | None = None) -> AsyncIterator[Worker]:
    """The worker as ``hub worker`` builds it, in this event loop; drained on exit. ``draw``
    pins the backoff's jitter."""
    async with bootstrap.writer(
        world.settings, world.registry, metrics_registry=world.metrics, draw=draw
    ) as parts:
        worker = Worker(parts)
        try:
            await worker.start()
            yield worker
        finally:
            await worker.drain()


# Intents -------------------------------------------------------------------------------------


def patient_create(office: str, key: str, *, last: str, ref: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"LName": last, "FName": "Test", "Birthdate": "1980-01-02",
                               "Email": f"{last.lower()}@example.com"}
    if ref is not None:
        payload["PatientRef"] = ref
    return _intent("patient.create", office, key, payload)


def appointment_create(office: str, key: str, *, patient_ref: str) -> dict[str, Any]:
    payload = {"PatientRef": patient_ref, "Op": 1, "AptDateTime": "2030-04-03 08:00:00"}
    return _intent("appointment.create", office, key, payload)


def appointment_confirm(office: str, key: str, *, apt_num: int, confirm_val: str) -> dict[str, Any]:
    payload = {"AptNum": apt_num, "confirmVal": confirm_val}
    return _intent("appointment.confirm", office, key, payload)


def document_upload(office: str, key: str, *, pat_num: int, file_bytes: int) -> dict[str, Any]:
    """A PDF-like file of ``file_bytes`` (its base64 a third longer) for patient ``pat_num``."""
    raw = base64.b64encode(b"%PDF-1.4 " + b"x" * max(0, file_bytes - 9)).decode()
    payload = {"PatNum": pat_num, "rawBase64": raw, "extension": ".pdf",
               "Description": "Signed intake form"}
    return _intent("document.upload", office, key, payload)


def _intent(contract: str, office: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "contract": contract, "version": 1, "idempotency_key": key, "office_id": office,
        "occurred_at": "2030-03-01T09:30:00-05:00", "payload": payload,
    }


# The vendor's side -----------------------------------------------------------------------------


class VendorClient:
    """A vendor's own broker connection: publishes intents as itself, with confirms."""

    def __init__(self, channel: AbstractChannel, name: str) -> None:
        self._channel = channel
        self.name = name

    @property
    def channel(self) -> AbstractChannel:
        """Its confirming channel, to try what the broker should refuse it."""
        return self._channel

    async def publish(
        self, intent: dict[str, Any] | bytes, *, office: str, contract: str = "patient.create",
        as_itself: bool = True, headers: dict[str, FieldValue] | None = None,
        message_id: str | None = None,
    ) -> None:
        body = intent if isinstance(intent, bytes) else json.dumps(intent).encode()
        message = aio_pika.Message(
            body, content_type="application/json", message_id=message_id or uuid.uuid4().hex,
            user_id=self.name if as_itself else None, headers=headers or {},
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        exchange = await self._channel.get_exchange(names.INTENTS_EXCHANGE, ensure=False)
        await exchange.publish(message, names.intent_key(office, contract))


@asynccontextmanager
async def vendor_client(settings: HubSettings, vendor: VendorSpec) -> AsyncIterator[VendorClient]:
    url = URL(settings.broker_url.get_secret_value()).with_user(vendor.name)
    async with await aio_pika.connect(str(url.with_password(vendor.password))) as connection:
        channel = await connection.channel(publisher_confirms=True)
        yield VendorClient(channel, vendor.name)


# Waiting by consuming ------------------------------------------------------------------------


async def drain(queue: AbstractQueue, count: int) -> list[AbstractIncomingMessage]:
    """Consume and ack the next ``count`` messages of ``queue``."""
    taken: list[AbstractIncomingMessage] = []
    if count == 0:
        return taken
    async with asyncio.timeout(GUARD_S), queue.iterator() as messages:  # a guard, not a timing
        async for message in messages:
            await message.ack()
            taken.append(message)
            if len(taken) == count:
                break
    return taken


async def drain_outcomes(channel: AbstractChannel, vendor: str, count: int) -> list[OutcomeEvent]:
    """The vendor's next ``count`` outcome events, in the order they were published."""
    return await drain_outcomes_until(channel, vendor, lambda events: len(events) == count)


async def drain_outcomes_until(
    channel: AbstractChannel, vendor: str, enough: Callable[[list[OutcomeEvent]], bool]
) -> list[OutcomeEvent]:
    """The vendor's outcome events, consumed until ``enough`` of them arrived."""
    events: list[OutcomeEvent] = []
    if enough(events):
        return events
    queue = await channel.get_queue(names.outcome_queue(vendor), ensure=False)
    async with asyncio.timeout(GUARD_S), queue.iterator() as messages:  # a guard, not a timing
        async for message in messages:
            await message.ack()
            events.append(OutcomeEvent.from_json(message.body))
            if enough(events):
                break
    return events


async def dead_letter_tap(channel: AbstractChannel, office: str) -> AbstractQueue:
    """A private queue receiving a copy of every dead letter of ``office`` (``hub.dead`` is
    shared by every test, so the tests never consume from it)."""
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(names.DEAD_LETTER_EXCHANGE, names.dead_letter_key(office))
    return queue


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds; fails after the guard. For states no message announces."""
    try:
        async with asyncio.timeout(GUARD_S):
            while True:
                if await check():
                    return
                await asyncio.sleep(POLL_S)
    except TimeoutError:
        raise AssertionError(f"this never happened: {what}") from None


# Reading the results -------------------------------------------------------------------------


async def od_rows(database: str, sql: str, args: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    """Rows of the office's Open Dental database, read as its SELECT-only user."""
    conn = await aiomysql.connect(host="127.0.0.1", port=3306, user="od_readonly",
                                  password="od_readonly", db=database, autocommit=True)
    try:
        async with conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())
    finally:
        conn.close()


async def patients_named(database: str, last: str) -> list[dict[str, Any]]:
    """The office's patient rows with last name ``last``: tests take a fresh one (``letters()``),
    so these are the rows the hub created for them."""
    return await od_rows(database, "SELECT PatNum FROM patient WHERE LName = %s", (last,))
