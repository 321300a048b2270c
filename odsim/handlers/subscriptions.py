"""Subscriptions POST, GET, PUT and DELETE (opendental-api.md §6): where Open Dental sends the
database events of a table, stored in ``apisubscription`` and scoped to the customer key.

POST takes EndPointUrl (required), Workstation, WatchTable with PollingSeconds (a database
event) or UiEventType (a UI event), DateTimeStart (default now), DateTimeStop (default none) and
Note, and answers 201 with the subscription as Open Dental shows it (``SubscriptionNum`` first).
PUT is sparse and changes all but the event's kind (WatchTable, UiEventType). GET lists the
key's subscriptions. GET, POST and PUT are in the free ReadAll group; DELETE is not, and the
simulator asks AllOthers for it (the reference does not say which group it needs).

The simulator fires the WatchTables it simulates (``WATCH_TABLES``, odsim/events.py) and takes
the UI event PatientSelected, which it never fires (it has no user interface); a WatchTable Open
Dental has but the simulator does not is refused with 400.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiomysql
from aiohttp import web

from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import bad_request, invalid, not_found, required
from odsim.fields import FieldSpec, Kind, int_of, office_now, parse_fields
from odsim.handlers.common import Row, Where, insert_row, ok, select_page, update_row
from odsim.render import JsonObject, render
from odsim.state import Ctx, base_url, ctx_of, json_body, page_of, url_id

routes = web.RouteTableDef()

WATCH_TABLES = ("Appointment", "AppointmentDeleted", "PatField", "Patient")
UI_EVENT_TYPES = ("PatientSelected",)
_UPDATABLE = (
    FieldSpec(name="EndPointUrl", max_length=255),
    FieldSpec(name="Workstation", max_length=255),
    FieldSpec(name="PollingSeconds", kind=Kind.INT),
    FieldSpec(name="DateTimeStart", kind=Kind.DATETIME),
    FieldSpec(name="DateTimeStop", kind=Kind.DATETIME),
    FieldSpec(name="Note", max_length=255),
)
_CREATE = (
    *_UPDATABLE,
    FieldSpec(name="WatchTable", max_length=255),
    FieldSpec(name="UiEventType", max_length=255),
)
_OUT = (
    ("SubscriptionNum", lambda r: int(r["ApiSubscriptionNum"])),
    "EndPointUrl", "Workstation", "CustomerKey", "WatchTable", "PollingSeconds", "UiEventType",
    "DateTimeStart", "DateTimeStop", "Note",
)


def _check_url(values: Mapping[str, object]) -> None:
    url = values.get("EndPointUrl")
    if url is not None and not str(url).startswith(("http://", "https://")):
        raise invalid("EndPointUrl", "Must start with http:// or https://.")


def _check_kind(values: dict[str, object]) -> None:
    """Exactly one of a WatchTable (with PollingSeconds) or a UiEventType."""
    table, ui_event = values.get("WatchTable") or "", values.get("UiEventType") or ""
    if bool(table) == bool(ui_event):
        raise bad_request("Exactly one of WatchTable or UiEventType is required.")
    if table and table not in WATCH_TABLES:
        raise invalid("WatchTable", f"Must be one of: {', '.join(WATCH_TABLES)}.")
    if ui_event and ui_event not in UI_EVENT_TYPES:
        raise invalid("UiEventType", f"Must be one of: {', '.join(UI_EVENT_TYPES)}.")
    if table and not values.get("PollingSeconds"):
        raise required("PollingSeconds")


def _render(row: Row) -> JsonObject:
    return render("apisubscription", row, _OUT)


async def _own(ctx: Ctx, cur: aiomysql.DictCursor, num: int) -> Row:
    await cur.execute(
        "SELECT * FROM apisubscription WHERE ApiSubscriptionNum = %s AND CustomerKey = %s"
        " FOR UPDATE", (num, ctx.caller.customer_key),
    )
    row: Row | None = await cur.fetchone()
    if row is None:
        raise not_found("Subscription not found.")
    return row


@routes.post("/api/v1/subscriptions")
@requires(Permission.READ_ALL)
async def post_subscription(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    values = parse_fields(await json_body(request), _CREATE)
    if not values.get("EndPointUrl"):
        raise required("EndPointUrl")
    _check_url(values)
    _check_kind(values)
    values.setdefault("DateTimeStart", office_now())
    async with ctx.pools.transaction(ctx.database) as cur:
        num = await insert_row(cur, "apisubscription", {
            **values, "CustomerKey": ctx.caller.customer_key,
        })
        row = await _own(ctx, cur, num)
    ctx.state.events.subscriptions_changed()
    response = web.json_response(_render(row), status=201)
    response.headers["Location"] = f"{base_url(request)}/subscriptions/{num}"
    return response


@routes.get("/api/v1/subscriptions")
@requires(Permission.READ_ALL)
async def get_subscriptions(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    where = Where()
    where.add("CustomerKey = %s", ctx.caller.customer_key)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "apisubscription", where, page_of(request, ctx),
                                 order="ApiSubscriptionNum")
    return ok([_render(row) for row in rows])


@routes.put("/api/v1/subscriptions/{SubscriptionNum:\\d+}")
@requires(Permission.READ_ALL)
async def put_subscription(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    num = url_id(request, "SubscriptionNum")
    values = parse_fields(await json_body(request), _UPDATABLE)
    _check_url(values)
    if "EndPointUrl" in values and not values["EndPointUrl"]:
        raise required("EndPointUrl")
    async with ctx.pools.transaction(ctx.database) as cur:
        row = await _own(ctx, cur, num)
        if row["WatchTable"] and "PollingSeconds" in values and not int_of(
            values, "PollingSeconds"
        ):
            raise invalid("PollingSeconds")
        await update_row(cur, "apisubscription", num, values)
        row = await _own(ctx, cur, num)
    ctx.state.events.subscriptions_changed()
    return ok(_render(row))


@routes.delete("/api/v1/subscriptions/{SubscriptionNum:\\d+}")
@requires(Permission.ALL_OTHERS)
async def delete_subscription(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    num = url_id(request, "SubscriptionNum")
    async with ctx.pools.transaction(ctx.database) as cur:
        await _own(ctx, cur, num)
        await cur.execute("DELETE FROM apisubscription WHERE ApiSubscriptionNum = %s", (num,))
    ctx.state.events.subscriptions_changed()
    return web.Response(status=200)

