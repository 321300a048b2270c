"""Payments POST [Payments] and GET (opendental-api.md §4.4, §5.1)."""

from __future__ import annotations

from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.catalog import enum_of
from odsim.config import Permission
from odsim.errors import required
from odsim.fields import FieldSpec, Kind, int_of, office_now, parse_date, parse_fields
from odsim.handlers.common import (
    Row,
    Where,
    created,
    fetch_row,
    insert_row,
    ok,
    query_values,
    select_page,
    server_datetime,
)
from odsim.handlers.patient_rules import known_patient, live_patient
from odsim.lookups import PAYMENT_TYPES, PAYSPLIT_UNEARNED_TYPE, Lookups, load_lookups
from odsim.render import JsonObject, OutField, render
from odsim.state import Ctx, ctx_of, json_body, page_of

routes = web.RouteTableDef()
API_SOURCE = enum_of("payment", "PaymentSource")["API"]

CREATE_FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="PayAmt", kind=Kind.MONEY),
    FieldSpec(name="PayType", kind=Kind.INT),
    FieldSpec(name="PayDate", kind=Kind.DATE),
    FieldSpec(name="CheckNum", max_length=25),
    FieldSpec(name="BankBranch", max_length=25),
    FieldSpec(name="PayNote", max_length=65535),
    FieldSpec(name="ClinicNum", kind=Kind.INT),
    # Taken and checked, with no effect: the simulated office has no charges to allocate to.
    FieldSpec(name="isPatientPreferred", kind=Kind.BOOL, column="_isPatientPreferred"),
    FieldSpec(name="isPrepayment", kind=Kind.BOOL, column="_isPrepayment"),
)
_OUT = ("PayNum", "PayType", "payType", "PayDate", "PayAmt", "CheckNum", "BankBranch", "PayNote",
        "PatNum", "ClinicNum", "DateEntry", "DepositNum", "Receipt", "IsRecurringCC",
        "SecUserNumEntry", "SecDateTEdit", "PaymentSource", "ProcessStatus",
        "RecurringChargeDate", "IsCcCompleted")


def payment_fields(lookups: Lookups) -> tuple[OutField, ...]:
    derived: OutField = ("payType", lambda r: lookups.def_name(r["PayType"]))
    return tuple(derived if name == "payType" else name for name in _OUT)


def _payment_row(values: dict[str, object], patient: Row, lookups: Lookups) -> dict[str, object]:
    today = office_now().date()
    row = {k: v for k, v in values.items() if not k.startswith("_")}
    if "PayType" in row:
        lookups.check_def("PayType", int_of(row, "PayType"), PAYMENT_TYPES)
    if "ClinicNum" in row:
        lookups.check_clinic("ClinicNum", int_of(row, "ClinicNum"))
    return {
        "PayType": lookups.first_def(PAYMENT_TYPES), "PayDate": today,
        "ClinicNum": patient["ClinicNum"], "DateEntry": today, "PaymentSource": API_SOURCE,
        **row,
    }


async def _create(ctx: Ctx, values: dict[str, object]) -> tuple[int, JsonObject]:
    async with ctx.pools.transaction(ctx.database) as cur:
        patient = await live_patient(cur, int_of(values, "PatNum"))
        lookups = await load_lookups(cur)
        payment = _payment_row(values, patient, lookups)
        pay_num = await insert_row(cur, "payment", payment)
        # Nothing is owed in the simulated office, so the whole payment is unearned income.
        await insert_row(cur, "paysplit", {
            "SplitAmt": payment["PayAmt"], "PatNum": payment["PatNum"], "PayNum": pay_num,
            "ProcDate": payment["PayDate"], "DatePay": payment["PayDate"],
            "DateEntry": payment["DateEntry"], "ClinicNum": payment["ClinicNum"],
            "UnearnedType": lookups.first_def(PAYSPLIT_UNEARNED_TYPE),
        })
        await log_api_write(cur, ctx.caller, perm="PaymentCreate", what="Payment created",
                            pat_num=int_of(values, "PatNum"), fkey=pay_num)
        row = await fetch_row(cur, "payment", pay_num)
    assert row is not None
    return pay_num, render("payment", row, payment_fields(lookups))


@routes.post("/api/v1/payments")
@requires(Permission.PAYMENTS)
async def post_payment(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    values = parse_fields(await json_body(request), CREATE_FIELDS)
    for field in ("PayAmt", "PatNum"):
        if field not in values:
            raise required(field)
    pay_num, body = await _create(ctx, values)
    return created(request, "payments", pay_num, {**body, "serverDateTime": ""})


_FILTERS = (FieldSpec(name="PatNum", kind=Kind.INT), FieldSpec(name="PayType", kind=Kind.INT))


@routes.get("/api/v1/payments")
@requires(Permission.READ_ALL)
async def get_payments(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    query = dict(request.query)
    where = Where()
    filters = query_values(query, _FILTERS)
    for column, value in filters.items():
        where.add(f"`{column}` = %s", value)
    if query.get("DateEntry"):
        where.add("DateEntry >= %s", parse_date("DateEntry", query["DateEntry"]))
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        if "PatNum" in filters:
            await known_patient(cur, int_of(filters, "PatNum"))
        rows = await select_page(cur, "payment", where, page, order="PayNum")
        lookups = await load_lookups(cur)
    now = server_datetime()
    fields = payment_fields(lookups)
    return ok([{**render("payment", row, fields), "serverDateTime": now} for row in rows])
