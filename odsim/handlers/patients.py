"""Patients POST and PUT (opendental-api.md §4.1)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import aiomysql
from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import bad_request
from odsim.fields import int_of, office_now, parse_fields
from odsim.handlers.common import created, fetch_row, insert_row, ok, update_row
from odsim.handlers.patient_fields import (
    GENDER_UNKNOWN,
    PATIENT_FIELDS,
    full_fields,
)
from odsim.handlers.patient_rules import (
    check_names,
    family_head,
    has_duplicate,
    join_super_family,
    known_patient,
    live_patient,
    resolve_references,
)
from odsim.lookups import BILLING_TYPES, Lookups, load_lookups
from odsim.render import JsonObject, render
from odsim.security_hash import rehash
from odsim.state import Ctx, ctx_of, json_body, url_id

routes = web.RouteTableDef()
_FOLDER_CHARS = re.compile(r"[^A-Za-z]")


def _reject_both_families(values: Mapping[str, object]) -> None:
    if "Guarantor" in values and "SuperFamily" in values:
        raise bad_request("Only one of Guarantor or SuperFamily may be sent.")


def _new_patient(values: dict[str, object], lookups: Lookups) -> dict[str, object]:
    today = office_now().date()
    return {
        "Gender": GENDER_UNKNOWN,
        "PriProv": lookups.default_provider(),
        "BillingType": lookups.first_def(BILLING_TYPES),
        "SecDateEntry": today,
        **values,
    }


async def _finish_family(cur: aiomysql.DictCursor, pat_num: int, values: Mapping[str, object],
                         guarantor: int | None) -> None:
    folder = _FOLDER_CHARS.sub("", f"{values['LName']}{values['FName']}")[:90] + str(pat_num)
    await update_row(cur, "patient", pat_num, {
        "Guarantor": guarantor or pat_num, "ImageFolder": folder,
    })
    if "FamFinUrgNote" in values and guarantor not in (None, pat_num):
        raise bad_request("FamFinUrgNote may only be set on a guarantor.")


async def _create(ctx: Ctx, values: dict[str, object]) -> tuple[int, JsonObject]:
    async with ctx.pools.transaction(ctx.database) as cur:
        lookups = await load_lookups(cur)
        resolve_references(values, lookups)
        guarantor = None
        if "Guarantor" in values:
            guarantor = await family_head(cur, "Guarantor", int_of(values, "Guarantor"))
            del values["Guarantor"]
        if "SuperFamily" in values:
            await join_super_family(cur, int_of(values, "SuperFamily"))
        if await has_duplicate(cur, values):
            raise bad_request(ctx.config.duplicate_patient_message)
        pat_num = await insert_row(cur, "patient", _new_patient(values, lookups))
        await _finish_family(cur, pat_num, values, guarantor)
        await rehash(cur, ctx.hash_secret, "patient", pat_num)
        await log_api_write(cur, ctx.caller, perm="PatientCreate", what="Patient created",
                            pat_num=pat_num, fkey=pat_num)
        row = await fetch_row(cur, "patient", pat_num)
    assert row is not None
    return pat_num, render("patient", row, full_fields(lookups))


@routes.post("/api/v1/patients")
@requires(Permission.PATIENTS)
async def post_patient(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    values = parse_fields(await json_body(request), PATIENT_FIELDS)
    check_names(values, creating=True)
    _reject_both_families(values)
    pat_num, body = await _create(ctx, values)
    return created(request, "patients", pat_num, body)


async def _check_guarantor_change(
    cur: aiomysql.DictCursor, row: Mapping[str, object], values: dict[str, object]
) -> None:
    if "Guarantor" not in values or values["Guarantor"] == row["Guarantor"]:
        return
    if row["Guarantor"] != row["PatNum"]:
        raise bad_request("Guarantor may only be changed on the family's current guarantor.")
    values["Guarantor"] = await family_head(cur, "Guarantor", int_of(values, "Guarantor"))


async def _update(ctx: Ctx, pat_num: int, values: dict[str, object]) -> JsonObject:
    async with ctx.pools.transaction(ctx.database) as cur:
        row = await live_patient(cur, pat_num, for_update=True)
        lookups = await load_lookups(cur)
        resolve_references(values, lookups)
        await _check_guarantor_change(cur, row, values)
        if values.get("SuperFamily"):
            await join_super_family(cur, int_of(values, "SuperFamily"))
        if "FamFinUrgNote" in values and values.get("Guarantor", row["Guarantor"]) != pat_num:
            raise bad_request("FamFinUrgNote may only be set on a guarantor.")
        if values:
            await update_row(cur, "patient", pat_num, values)
            await rehash(cur, ctx.hash_secret, "patient", pat_num)
            await log_api_write(cur, ctx.caller, perm="PatientEdit", what="Patient edited",
                                pat_num=pat_num, fkey=pat_num)
            row = await known_patient(cur, pat_num)  # as updated, under the transaction's lock
    return render("patient", row, full_fields(lookups))


@routes.put("/api/v1/patients/{PatNum:\\d+}")
@requires(Permission.PATIENTS)
async def put_patient(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    pat_num = url_id(request, "PatNum")
    values = parse_fields(await json_body(request), PATIENT_FIELDS)
    check_names(values, creating=False)
    _reject_both_families(values)
    return ok(await _update(ctx, pat_num, values))
