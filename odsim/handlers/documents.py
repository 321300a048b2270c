"""Documents POST Upload [Documents] and GET (opendental-api.md §4.6).

The simulated office keeps its images in an A-to-Z folder, as most offices do: the row lands in
``document`` with Open Dental's file name (the patient's LName and FName letters, the DocNum
and the extension, as Open Dental's ``Documents.Insert`` names an imported file) and
``RawBase64`` empty. The file itself is decoded, to refuse what is not base64, and not kept:
the simulator has no folder to put it in, and nothing reads it back through the API.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from datetime import datetime

from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.catalog import enum_of
from odsim.config import Permission
from odsim.errors import bad_request, invalid, not_found, required
from odsim.fields import FieldSpec, Kind, int_of, office_now, parse_fields
from odsim.handlers.common import (
    Row,
    Where,
    created,
    fetch_row,
    insert_row,
    ok,
    select_page,
    update_row,
)
from odsim.handlers.patient_rules import known_patient, live_patient
from odsim.lookups import IMAGE_CATS, Lookups, load_lookups
from odsim.render import JsonObject, OutField, render
from odsim.state import Ctx, ctx_of, json_body, page_of

routes = web.RouteTableDef()
_IMG_TYPES = enum_of("document", "ImgType")
# Open Dental's own message for a DateCreated without its time (opendental-api.md §2, [FIELD]).
DATE_CREATED_MESSAGE = "DateCreated format must be yyyy-MM-dd HH:mm:ss."
# Decoding a file of megabytes holds the event loop for milliseconds: above this, in a thread.
_DECODE_IN_THREAD_CHARS = 1 << 20

UPLOAD_FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="extension", max_length=255, column="_extension"),
    FieldSpec(name="Description", max_length=255),
    FieldSpec(name="DocCategory", kind=Kind.INT),
    FieldSpec(name="ImgType", kind=Kind.ENUM, enum=_IMG_TYPES),
    FieldSpec(name="ToothNumbers", max_length=255),
    FieldSpec(name="ProvNum", kind=Kind.INT),
)
_OUT = ("DocNum", "Description", "DateCreated", "DocCategory", "docCategory", "PatNum",
        "FileName", "ImgType", "ToothNumbers", "ProvNum", "DateTStamp")


def document_fields(lookups: Lookups) -> tuple[OutField, ...]:
    derived: OutField = ("docCategory", lambda r: lookups.def_name(r["DocCategory"]))
    return tuple(derived if name == "docCategory" else name for name in _OUT)


def _date_created(body: Mapping[str, object]) -> datetime | None:
    value = body.get("DateCreated")
    if value is None:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise bad_request(DATE_CREATED_MESSAGE) from None


async def _file_size(body: Mapping[str, object]) -> int:
    """The decoded file's size; 400 when rawBase64 is missing, empty or not base64."""
    raw = body.get("rawBase64")
    if raw is None or raw == "":
        raise required("rawBase64")
    if not isinstance(raw, str):
        raise invalid("rawBase64")

    def decode() -> int:
        return len(base64.b64decode(raw, validate=True))

    try:
        if len(raw) > _DECODE_IN_THREAD_CHARS:
            return await asyncio.to_thread(decode)
        return decode()
    except (binascii.Error, ValueError):
        raise invalid("rawBase64") from None


def _extension(values: dict[str, object]) -> str:
    extension = str(values.pop("_extension", "")).strip()
    if not extension:
        raise required("extension")
    # Open Dental's example sends ".jpg"; whether it adds a missing dot is UNCONFIRMED: add it.
    return extension if extension.startswith(".") else f".{extension}"


def _file_name(patient: Row, doc_num: int, extension: str) -> str:
    letters = "".join(c for c in f"{patient['LName']}{patient['FName']}" if c.isalpha())
    return f"{letters}{doc_num}{extension}"


def _checked(values: dict[str, object], lookups: Lookups) -> dict[str, object]:
    if "DocCategory" in values:
        lookups.check_def("DocCategory", int_of(values, "DocCategory"), IMAGE_CATS)
    else:
        values["DocCategory"] = lookups.first_def(IMAGE_CATS)
    if "ProvNum" in values:
        lookups.check_provider("ProvNum", int_of(values, "ProvNum"))
    return values


async def _upload(
    ctx: Ctx, values: dict[str, object], extension: str, created_at: datetime | None
) -> tuple[int, JsonObject]:
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        patient = await live_patient(cur, int_of(values, "PatNum"))
        lookups = await load_lookups(cur)
        row_values = {
            "DateCreated": created_at or now, "ImgType": _IMG_TYPES["Document"],
            **_checked(values, lookups), "FileName": extension,
        }
        num = await insert_row(cur, "document", row_values)
        await update_row(cur, "document", num, {"FileName": _file_name(patient, num, extension)})
        await log_api_write(cur, ctx.caller, perm="ImageCreate", what="Document created",
                            pat_num=int_of(values, "PatNum"), fkey=num)
        row = await fetch_row(cur, "document", num)
    assert row is not None
    return num, render("document", row, document_fields(lookups))


@routes.post("/api/v1/documents/Upload")
@requires(Permission.DOCUMENTS)
async def post_upload(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    body = await json_body(request)
    values = parse_fields(body, UPLOAD_FIELDS)
    if "PatNum" not in values:
        raise required("PatNum")
    await _file_size(body)
    extension = _extension(values)
    num, reply = await _upload(ctx, values, extension, _date_created(body))
    return created(request, "documents", num, reply)


@routes.get("/api/v1/documents/{DocNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_document(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await fetch_row(cur, "document", int(request.match_info["DocNum"]))
        if row is None:
            raise not_found("Document not found.")
        lookups = await load_lookups(cur)
    return ok(render("document", row, document_fields(lookups)))


@routes.get("/api/v1/documents")
@requires(Permission.READ_ALL)
async def get_documents(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    pat_num = request.query.get("PatNum")
    if not pat_num:
        raise required("PatNum")
    where = Where()
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        values = parse_fields({"PatNum": pat_num}, UPLOAD_FIELDS[:1])
        await known_patient(cur, int_of(values, "PatNum"))
        where.add("PatNum = %s", values["PatNum"])
        rows = await select_page(cur, "document", where, page, order="DocNum")
        lookups = await load_lookups(cur)
    fields = document_fields(lookups)
    return ok([render("document", row, fields) for row in rows])
