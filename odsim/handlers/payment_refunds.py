"""Payments POST Refund [Payments] (opendental-api.md §4.4, 24.4.28): takes ``{PayNum}``.

The reference gives only the call. The simulator's choices (docs/simulator.md): the refund is a
new payment of the opposite amount, same patient, type and clinic, dated today, PaymentSource
API; each of the original's splits gets an offsetting split whose FSplitNum names it (how Open
Dental links a split to the one it offsets). A payment already refunded, or itself a refund
(PayAmt not above 0), is refused with 400.
"""

from __future__ import annotations

from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import bad_request, not_found, required
from odsim.fields import office_now, parse_int
from odsim.handlers.common import created, fetch_row, insert_row
from odsim.handlers.patient_rules import live_patient
from odsim.handlers.payments import API_SOURCE, payment_fields
from odsim.lookups import load_lookups
from odsim.render import render
from odsim.state import ctx_of, json_body

routes = web.RouteTableDef()
ALREADY_REFUNDED = "This payment has already been refunded."
NOT_REFUNDABLE = "Only payments with an amount greater than 0 can be refunded."


@routes.post("/api/v1/payments/Refund")
@requires(Permission.PAYMENTS)
async def post_refund(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    body = await json_body(request)
    if "PayNum" not in body:
        raise required("PayNum")
    pay_num = parse_int("PayNum", body["PayNum"])
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        original = await fetch_row(cur, "payment", pay_num, for_update=True)
        if original is None:
            raise not_found("Payment not found.")
        await live_patient(cur, int(original["PatNum"]))
        if float(original["PayAmt"]) <= 0:
            raise bad_request(NOT_REFUNDABLE)
        await cur.execute(
            "SELECT SplitNum, SplitAmt, PatNum, ProvNum, ClinicNum, UnearnedType FROM paysplit"
            " WHERE PayNum = %s ORDER BY SplitNum", (pay_num,),
        )
        splits = list(await cur.fetchall())
        await cur.execute(
            "SELECT COUNT(*) AS n FROM paysplit WHERE FSplitNum IN"
            " (SELECT SplitNum FROM paysplit WHERE PayNum = %s)", (pay_num,),
        )
        offsets = await cur.fetchone()
        if offsets and int(offsets["n"]):
            raise bad_request(ALREADY_REFUNDED)
        today = now.date()
        refund_num = await insert_row(cur, "payment", {
            "PayType": original["PayType"], "PayDate": today, "PayAmt": -float(original["PayAmt"]),
            "PatNum": original["PatNum"], "ClinicNum": original["ClinicNum"],
            "DateEntry": today, "PaymentSource": API_SOURCE,
        })
        for split in splits:
            await insert_row(cur, "paysplit", {
                "SplitAmt": -float(split["SplitAmt"]), "PatNum": split["PatNum"],
                "PayNum": refund_num, "ProcDate": today, "DatePay": today, "DateEntry": today,
                "ProvNum": split["ProvNum"], "ClinicNum": split["ClinicNum"],
                "UnearnedType": split["UnearnedType"], "FSplitNum": split["SplitNum"],
            })
        await log_api_write(cur, ctx.caller, perm="PaymentCreate", what="Payment refunded",
                            pat_num=int(original["PatNum"]), fkey=refund_num)
        row = await fetch_row(cur, "payment", refund_num)
        lookups = await load_lookups(cur)
    assert row is not None
    return created(request, "payments", refund_num, render("payment", row, payment_fields(lookups)))
