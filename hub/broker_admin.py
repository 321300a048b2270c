"""RabbitMQ's management HTTP API: broker users, their permissions, queues and policies.

One client over ``httpx``, verifying an ``https://`` URL with the hub's TLS context (hub/tls.py);
every failure is translated once, in ``_call_unless_missing``, into a ``ManagementError`` that
names the operation and object, never a password.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from hub.errors import HubError
from hub.management_nodes import FirstLiveNode, management_urls, node_where
from hub.settings import HubSettings
from hub.tls import client_context, handshake_failure, refused

AmqpArgument = str | int | bool | float


class ManagementError(HubError):
    """The management API is unreachable, refused the hub's login, or refused a request."""


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BrokerUser(_Reply):
    name: str
    tags: list[str]


class TopicPermission(_Reply):
    user: str
    exchange: str
    write: str
    read: str


class QueueInfo(_Reply):
    name: str
    type: str
    durable: bool
    arguments: dict[str, AmqpArgument]
    # A policy's keys on the queue (``delivery-limit`` …); None when no policy applies.
    effective_policy_definition: dict[str, AmqpArgument] | None = None


class QueueDepth(_Reply):
    """A queue's message counts, as the broker last reported them (every few seconds). A queue
    declared moments ago may not have counts yet: they read as 0."""

    name: str
    messages: int = 0  # ready + unacknowledged (quorum queues report this correctly here)
    messages_ready: int = 0
    messages_unacknowledged: int = 0


class Policy(_Reply):
    """A policy of the vhost: the queues (or exchanges) whose name ``pattern`` matches take its
    ``definition``; of several that match one queue, only the highest ``priority`` applies."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    name: str
    pattern: str
    apply_to: str = Field(alias="apply-to")  # queues, exchanges or all
    priority: int
    definition: dict[str, AmqpArgument]


class Connection(_Reply):
    name: str
    user: str
    connection_name: str | None = None  # the client's own name for it (client_properties)
    ssl: bool = False
    ssl_protocol: str | None = None  # e.g. tlsv1.3

    @model_validator(mode="before")
    @classmethod
    def _client_name(cls, data: object) -> object:
        if isinstance(data, dict):
            properties = data.get("client_properties") or {}
            data = {**data, "connection_name": properties.get("connection_name")}
        return data


@dataclass(frozen=True, kw_only=True)
class Permissions:
    """Regexes over resource names on one vhost, as RabbitMQ evaluates them."""

    configure: str
    write: str
    read: str


_USERS = TypeAdapter(list[BrokerUser])
_TOPIC_PERMISSIONS = TypeAdapter(list[TopicPermission])
_CONNECTIONS = TypeAdapter(list[Connection])
_POLICIES = TypeAdapter(list[Policy])
_DEPTHS = TypeAdapter(list[QueueDepth])
_DEPTH_COLUMNS = "name,messages,messages_ready,messages_unacknowledged"
_Method = Literal["GET", "PUT", "DELETE"]
_T = TypeVar("_T")


class ManagementApi:
    """The few management API calls the hub needs, on one vhost."""

    def __init__(self, client: httpx.AsyncClient, vhost: str = "/", *, nodes: str = "") -> None:
        self._client = client
        self._nodes = nodes or node_where(client.base_url)
        self._vhost = quote(vhost, safe="")

    async def users(self) -> list[BrokerUser]:
        return _parse(_USERS, await self._call("GET", "/api/users", "list users"), "users")

    async def user(self, name: str) -> BrokerUser | None:
        reply = await self._call_unless_missing("GET", f"/api/users/{_q(name)}", f"get user {name}")
        return None if reply is None else _parse(TypeAdapter(BrokerUser), reply, "user")

    async def put_user(self, name: str, password: SecretStr, tags: tuple[str, ...]) -> None:
        body = {"password": password.get_secret_value(), "tags": ",".join(tags)}
        await self._call("PUT", f"/api/users/{_q(name)}", f"set user {name}", body)

    async def delete_user(self, name: str) -> bool:
        path = f"/api/users/{_q(name)}"
        return await self._call_unless_missing("DELETE", path, f"delete user {name}") is not None

    async def set_permissions(self, user: str, permissions: Permissions) -> None:
        path = f"/api/permissions/{self._vhost}/{_q(user)}"
        await self._call("PUT", path, f"set permissions of {user}", asdict(permissions))

    async def set_topic_permission(self, permission: TopicPermission) -> None:
        body = permission.model_dump(include={"exchange", "write", "read"})
        path = f"/api/topic-permissions/{self._vhost}/{_q(permission.user)}"
        await self._call("PUT", path, f"set topic permissions of {permission.user}", body)

    async def topic_permissions(self) -> list[TopicPermission]:
        path = f"/api/vhosts/{self._vhost}/topic-permissions"
        reply = await self._call("GET", path, "list topic permissions")
        return _parse(_TOPIC_PERMISSIONS, reply, "topic permissions")

    async def queue(self, name: str) -> QueueInfo | None:
        path = f"/api/queues/{self._vhost}/{_q(name)}"
        reply = await self._call_unless_missing("GET", path, f"get queue {name}")
        return None if reply is None else _parse(TypeAdapter(QueueInfo), reply, "queue")

    async def delete_queue(self, name: str) -> bool:
        path = f"/api/queues/{self._vhost}/{_q(name)}"
        return await self._call_unless_missing("DELETE", path, f"delete queue {name}") is not None

    async def queue_depth(self, name: str) -> QueueDepth | None:
        path = f"/api/queues/{self._vhost}/{_q(name)}"
        reply = await self._call_unless_missing("GET", path, f"count messages of queue {name}")
        return None if reply is None else _parse(TypeAdapter(QueueDepth), reply, "queue")

    async def queue_depths(self) -> list[QueueDepth]:
        """Every queue of the vhost with its counts, in one request."""
        path = f"/api/queues/{self._vhost}?columns={_DEPTH_COLUMNS}"
        return _parse(_DEPTHS, await self._call("GET", path, "count messages"), "queues")

    async def policies(self) -> list[Policy]:
        """The vhost's policies (operator policies aside)."""
        path = f"/api/policies/{self._vhost}"
        return _parse(_POLICIES, await self._call("GET", path, "list policies"), "policies")

    async def put_policy(self, policy: Policy) -> None:
        """Create or replace the policy of that name; the broker applies it to matching queues
        at once, and a changed definition replaces the old one."""
        body = policy.model_dump(by_alias=True, exclude={"name"})
        path = f"/api/policies/{self._vhost}/{_q(policy.name)}"
        await self._call("PUT", path, f"set policy {policy.name}", body)

    async def delete_policy(self, name: str) -> bool:
        path = f"/api/policies/{self._vhost}/{_q(name)}"
        return await self._call_unless_missing("DELETE", path, f"delete policy {name}") is not None

    async def connections_of(self, user: str) -> list[Connection]:
        """The user's open AMQP connections (on every vhost)."""
        path = "/api/connections?columns=name,user,ssl,ssl_protocol,client_properties"
        reply = await self._call("GET", path, "list connections")
        return [c for c in _parse(_CONNECTIONS, reply, "connections") if c.user == user]

    async def close_connection(self, name: str, reason: str) -> bool:
        """Close one client connection, telling the client ``reason``; False if it was gone."""
        path, headers = f"/api/connections/{_q(name)}", {"X-Reason": reason}
        closed = await self._call_unless_missing("DELETE", path, "close connection", None, headers)
        return closed is not None

    async def _call(
        self, method: _Method, path: str, what: str, body: Mapping[str, object] | None = None
    ) -> httpx.Response:
        reply = await self._call_unless_missing(method, path, what, body)
        if reply is None:
            raise ManagementError(f"cannot {what}: it does not exist")
        return reply

    async def _call_unless_missing(
        self,
        method: _Method,
        path: str,
        what: str,
        body: Mapping[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        """The reply to one request, or ``None`` when its object does not exist (404)."""
        try:
            reply = await self._client.request(method, path, json=body, headers=headers)
        except httpx.TransportError as exc:
            failure = handshake_failure(exc)
            if failure is not None:
                tls = refused("the management API", node_where(exc.request.url), failure)
                raise ManagementError(f"cannot {what}: {tls}") from exc
            raise ManagementError(
                f"cannot {what}: the management API at {self._nodes} is unreachable "
                f"({type(exc).__name__}); is the rabbitmq_management plugin enabled "
                "(scripts/setup-broker.sh)?"
            ) from exc
        if reply.status_code == 404:
            return None
        if reply.is_error:
            raise ManagementError(f"cannot {what}: {_refusal(reply)}")
        return reply


@asynccontextmanager
async def management_api(settings: HubSettings) -> AsyncIterator[ManagementApi]:
    """A ``ManagementApi`` on the URL and credentials of ``settings``; closed on exit."""
    auth = (settings.management_user, settings.management_password.get_secret_value())
    timeout = httpx.Timeout(connect=5.0, read=15.0, write=15.0, pool=5.0)
    # The hub's TLS context for https://; an http:// URL never uses it.
    nodes = management_urls(settings.management_url)
    verify = client_context(settings.tls) if nodes[0].scheme == "https" else True
    # Several nodes: each request goes to the first that answers (hub/management_nodes.py).
    transport = FirstLiveNode(nodes, httpx.AsyncHTTPTransport(verify=verify))
    async with httpx.AsyncClient(
        base_url=nodes[0], auth=auth, timeout=timeout, transport=transport
    ) as client:
        yield ManagementApi(client, nodes=", ".join(node_where(node) for node in nodes))


def _refusal(reply: httpx.Response) -> str:
    if reply.status_code == 401:
        return "the management API refused the login (HUB_MANAGEMENT_USER/PASSWORD)"
    if reply.status_code == 403:
        return "the management user is not allowed to do this (it needs the administrator tag)"
    try:
        reason = str(reply.json().get("reason", ""))
    except ValueError:
        reason = ""
    return f"HTTP {reply.status_code} {reply.reason_phrase}" + (f": {reason}" if reason else "")


def _parse(adapter: TypeAdapter[_T], reply: httpx.Response, what: str) -> _T:
    try:
        return adapter.validate_json(reply.content)
    except ValidationError as exc:
        raise ManagementError(f"unexpected {what} reply from the management API") from exc


def _q(name: str) -> str:
    return quote(name, safe="")
