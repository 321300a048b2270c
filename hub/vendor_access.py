"""Vendors as broker users: what each may publish and read, enforced by RabbitMQ itself.

A vendor's user may write only to ``hub.intents``, and there (topic permission) only with routing
keys of the offices in its agreements; it may read only its own outcome queue and configure
nothing. RabbitMQ checks ``user_id`` against the login, so the vendor of a message is proven.
Users the hub manages carry the ``hub-vendor`` tag; any other user is never changed or removed.
A vendor the operators paused (``hub vendor pause``, recorded in the hub database) keeps an empty
topic permission when it is added again: only ``hub vendor resume`` gives its offices back.

Adding, removing and giving a vendor a new password are operator actions: each is audited
(``vendor_add``, ``vendor_remove``, ``vendor_password``), committed before the broker is told.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aio_pika.abc import AbstractChannel
from pydantic import SecretStr

from hub import names
from hub.audit import AuditAction, AuditEntry, Operator, Run, audit
from hub.broker_admin import ManagementApi, Permissions, TopicPermission, management_api
from hub.broker_connection import robust_channel
from hub.broker_nodes import with_login
from hub.control.store import ControlStore
from hub.errors import HubError
from hub.ledger import migrate
from hub.ledger.mysql_session import ignore_query
from hub.registry import Registry, Vendor, load_hub_registry
from hub.registry.audited import load_audited_registry
from hub.registry.schema import NAME_PATTERN
from hub.settings import HubSettings
from hub.topology import declare_exchanges, declare_outcome_queue

VENDOR_TAG = "hub-vendor"
NOTHING = "^$"
MIN_PASSWORD_LENGTH = 16
FRESH_PASSWORD_BYTES = 24
# Office ids match ^[a-z0-9][a-z0-9-]{0,62}$: no regex metacharacter to escape in an alternation.
_OFFICES_PATTERN = re.compile(r"^\^\(([a-z0-9|-]+)\)\\\.$")


class VendorAccessError(HubError):
    """A vendor name is invalid, or names a broker user the hub does not manage."""


@dataclass(frozen=True, kw_only=True)
class AddedVendor:
    name: str
    offices: tuple[str, ...]
    created: bool
    # Set only when this call set the password (a new user, a rotation or a given password).
    password: SecretStr | None
    paused: bool  # its publishes stay refused until `hub vendor resume`


@dataclass(frozen=True, kw_only=True)
class VendorUser:
    name: str
    offices: tuple[str, ...]  # from its topic permission on hub.intents, as the broker enforces it
    has_user: bool
    in_registry: bool


def vendor_permissions(vendor: str) -> Permissions:
    return Permissions(
        configure=NOTHING,
        write=_exactly(names.INTENTS_EXCHANGE),
        read=_exactly(names.outcome_queue(vendor)),
    )


def intents_topic_permission(vendor: str, offices: tuple[str, ...]) -> TopicPermission:
    write = f"^({'|'.join(offices)})\\." if offices else NOTHING
    return TopicPermission(user=vendor, exchange=names.INTENTS_EXCHANGE, write=write, read=NOTHING)


def offices_of(permission: TopicPermission) -> tuple[str, ...]:
    """The offices a topic permission written by ``intents_topic_permission`` lets through."""
    match = _OFFICES_PATTERN.match(permission.write)
    return tuple(match.group(1).split("|")) if match else ()


async def add_vendor(
    api: ManagementApi,
    channel: AbstractChannel,
    vendor: Vendor,
    *,
    password: SecretStr | None = None,
    rotate_password: bool = False,
    paused: bool = False,
) -> AddedVendor:
    """Create or update the vendor's user, permissions and outcome queue.

    An existing vendor keeps its password unless ``password`` is given or ``rotate_password``;
    a new one gets ``password`` or a generated one. A ``paused`` vendor may publish for no
    office, as ``hub vendor pause`` left it; its agreements are restored by ``hub vendor resume``.
    """
    if password is not None and len(password.get_secret_value()) < MIN_PASSWORD_LENGTH:
        raise VendorAccessError(f"a given password needs {MIN_PASSWORD_LENGTH} characters or more")
    exists = await _has_vendor_user(api, vendor.name)
    if password is None and (not exists or rotate_password):
        password = SecretStr(secrets.token_urlsafe(32))
    await declare_exchanges(channel)
    await declare_outcome_queue(channel, vendor.name)
    if password is not None:
        await api.put_user(vendor.name, password, tags=(VENDOR_TAG,))
    await api.set_permissions(vendor.name, vendor_permissions(vendor.name))
    offices = () if paused else vendor.offices
    await api.set_topic_permission(intents_topic_permission(vendor.name, offices))
    return AddedVendor(
        name=vendor.name,
        offices=vendor.offices,
        created=not exists,
        password=password,
        paused=paused,
    )


async def add_vendors_with_fresh_passwords(
    settings: HubSettings, vendors: Iterable[Vendor], *, operator: Operator
) -> dict[str, SecretStr]:
    """Create or update each vendor's user with a new password (``hub demo``, ``hub chaos``),
    each audited as ``operator``'s; its broker URL (the settings' broker under that login) by
    name, kept only in memory."""
    urls: dict[str, SecretStr] = {}
    async with (
        management_api(settings) as api,
        robust_channel(settings.broker_url, settings.tls) as channel,
    ):
        for vendor in vendors:
            password = secrets.token_urlsafe(FRESH_PASSWORD_BYTES)
            exists = await _has_vendor_user(api, vendor.name)
            entry = _add_entry(operator, vendor.name, exists=exists, password="fresh")
            async with audit(settings.ledger_db, entry) as run:
                added = await add_vendor(api, channel, vendor, password=SecretStr(password))
                _note_added(run, added)
            urls[added.name] = SecretStr(
                with_login(settings.broker_url.get_secret_value(), added.name, password)
            )
    return urls


def _add_entry(operator: Operator, name: str, *, exists: bool, password: str) -> AuditEntry:
    """``vendor_password`` when an existing vendor is given a password (rotated, given or
    fresh), else ``vendor_add``; the details say where the password came from, never what."""
    sets_one = password != "keep"
    action = AuditAction.VENDOR_PASSWORD if exists and sets_one else AuditAction.VENDOR_ADD
    return AuditEntry(operator=operator, action=action, target=name,
                      details={"password": password})


def _note_added(run: Run, added: AddedVendor) -> None:
    run.note(
        created=added.created, offices=list(added.offices), paused=added.paused,
        password_set=added.password is not None,
    )


async def list_vendors(api: ManagementApi, registry: Registry) -> list[VendorUser]:
    """Every vendor user on the broker, and every registry vendor that has none yet."""
    users = {user.name for user in await api.users() if VENDOR_TAG in user.tags}
    offices = {
        permission.user: offices_of(permission)
        for permission in await api.topic_permissions()
        if permission.exchange == names.INTENTS_EXCHANGE
    }
    return [
        VendorUser(
            name=name,
            offices=offices.get(name, ()),
            has_user=name in users,
            in_registry=name in registry.vendors,
        )
        for name in sorted(users | set(registry.vendors))
    ]


async def remove_vendor(api: ManagementApi, name: str, *, delete_queue: bool = False) -> bool:
    """Delete the vendor's user (and its outcome queue); False when it had no user."""
    if not await _has_vendor_user(api, name):
        return False
    await api.delete_user(name)
    if delete_queue:
        await api.delete_queue(names.outcome_queue(name))
    return True


async def _has_vendor_user(api: ManagementApi, name: str) -> bool:
    """Whether the vendor's user exists; refuses a user that is not a hub vendor's."""
    if re.fullmatch(NAME_PATTERN, name) is None:
        raise VendorAccessError(f"vendor name {name!r} does not match {NAME_PATTERN}")
    user = await api.user(name)
    if user is not None and VENDOR_TAG not in user.tags:
        raise VendorAccessError(f"broker user {name!r} is not a hub vendor ({VENDOR_TAG} tag)")
    return user is not None


def _exactly(name: str) -> str:
    """A permission regex matching exactly ``name`` (hub names contain only [a-z0-9.-])."""
    return "^" + name.replace(".", "\\.") + "$"


async def add_registry_vendor(
    settings: HubSettings,
    environ: Mapping[str, str],
    name: str,
    *,
    operator: Operator,
    password: SecretStr | None = None,
    rotate_password: bool = False,
    password_file: Path | None = None,
) -> AddedVendor:
    """``hub vendor add``: the registry's vendor ``name`` as a broker user, audited.

    A vendor paused in the hub database stays paused (its publishes refused). A password this
    call sets is written to ``password_file`` (mode 0600) when one is given.
    """
    await migrate(settings.ledger_db)
    registry = await load_audited_registry(settings, environ, operator, command="hub vendor add")
    asked = "given" if password is not None else "rotate" if rotate_password else "keep"
    exists = asked != "keep" and await _seems_to_exist(settings, name)
    entry = _add_entry(operator, name, exists=exists, password=asked)
    async with audit(settings.ledger_db, entry) as run:
        vendor = registry.vendor(name)
        paused = await _vendor_paused(settings, name)
        async with (
            management_api(settings) as api,
            robust_channel(settings.broker_url, settings.tls) as channel,
        ):
            added = await add_vendor(api, channel, vendor, password=password,
                                     rotate_password=rotate_password, paused=paused)
        _note_added(run, added)
        if added.password is not None and password_file is not None:
            await _save_password(name, password_file, added.password)
    return added


async def _seems_to_exist(settings: HubSettings, name: str) -> bool:
    """Whether the vendor's user exists, to name the action before it is audited; a look that
    fails says no (the add itself then fails the same way, audited)."""
    try:
        async with management_api(settings) as api:
            return await _has_vendor_user(api, name)
    except HubError:
        return False


async def _save_password(name: str, file: Path, password: SecretStr) -> None:
    try:
        await asyncio.to_thread(_write_private, file, password)
    except OSError as exc:
        raise VendorAccessError(
            f"the password of {name} was set but not saved to {file} "
            f"({exc.strerror}); run again with --rotate-password"
        ) from exc


async def _vendor_paused(settings: HubSettings, name: str) -> bool:
    """Whether ``hub vendor pause`` recorded a pause of ``name`` that is still in force."""
    store = await ControlStore.open(settings.ledger_db, on_query=ignore_query, max_connections=1)
    try:
        return (await store.pauses()).vendor_paused(name)
    finally:
        await store.close()


async def list_registry_vendors(
    settings: HubSettings, environ: Mapping[str, str]
) -> list[VendorUser]:
    """``hub vendor list``."""
    registry = await asyncio.to_thread(load_hub_registry, settings, environ)
    async with management_api(settings) as api:
        return await list_vendors(api, registry)


async def remove_registry_vendor(
    settings: HubSettings, name: str, *, delete_queue: bool, operator: Operator
) -> bool:
    """``hub vendor remove``, audited: False when there was no such vendor user (the entry
    then ends failed, ``no_vendor_user``)."""
    entry = AuditEntry(operator=operator, action=AuditAction.VENDOR_REMOVE, target=name,
                       details={"delete_queue": delete_queue})
    async with audit(settings.ledger_db, entry) as run, management_api(settings) as api:
        removed = await remove_vendor(api, name, delete_queue=delete_queue)
        run.note(removed=removed)
        if not removed:
            run.fail("no_vendor_user")
    return removed


def _write_private(path: Path, secret: SecretStr) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(descriptor, 0o600)  # O_CREAT leaves an existing file's mode as it was
        file.write(secret.get_secret_value() + "\n")
