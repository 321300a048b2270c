"""The office database: Open Dental's tables and encodings, the seed, the read-only user."""

from __future__ import annotations

import aiomysql
import pymysql
import pytest

from odsim.catalog import load_catalog
from odsim.db import DbParams, connect
from odsim.ddl import OFFICE_TABLES
from odsim.schema import ensure_office_database
from tests.odsim.conftest import NewPatient, Office

ROOT = DbParams()


async def _columns(database: str, table: str) -> list[tuple[str, str, str, str | None, str]]:
    conn = await connect(ROOT, database)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA"
                " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
                " ORDER BY ORDINAL_POSITION",
                (database, table),
            )
            return list(await cur.fetchall())
    finally:
        conn.close()


async def _ensure(database: str, *, reset: bool = False) -> None:
    await ensure_office_database(
        ROOT, database, dev_name="Test Vendor", customer_keys=["CustKeyA"], reset=reset
    )


@pytest.mark.parametrize("table", OFFICE_TABLES)
async def test_tables_have_open_dentals_columns_in_order(empty_database: str, table: str) -> None:
    # Given an office database
    await _ensure(empty_database)

    # When its table's columns are read from information_schema
    columns = await _columns(empty_database, table)

    # Then they are Open Dental's, in order, with its types; the key auto-increments and every
    # other column is NOT NULL with a default
    expected = load_catalog()[table].columns
    assert [c[0] for c in columns] == [c.name for c in expected]
    for (name, sql_type, nullable, _default, _extra), column in zip(columns, expected, strict=True):
        assert sql_type.split("(")[0] == column.base_type, name
        assert nullable == "NO", name
    assert "auto_increment" in columns[0][4]
    assert all(c[3] is not None for c in columns[1:])


async def test_timestamps_are_maintained_by_the_database(empty_database: str) -> None:
    # Given an office database
    await _ensure(empty_database)

    # When the patient columns are read
    columns = {c[0]: c for c in await _columns(empty_database, "patient")}

    # Then DateTStamp defaults to now and follows every update; dates default to "none"
    assert columns["DateTStamp"][3] == "current_timestamp()"
    assert "on update current_timestamp()" in columns["DateTStamp"][4]
    assert columns["Birthdate"][3] == "'0001-01-01'"


async def test_seed_holds_the_office_setup_once_however_often_ensured(empty_database: str) -> None:
    # Given an office database ensured twice
    await _ensure(empty_database)
    await _ensure(empty_database)

    # When its reference rows are counted
    conn = await connect(ROOT, empty_database)
    try:
        async with conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute("SELECT Category, COUNT(*) AS n FROM definition GROUP BY Category")
            categories = {r["Category"]: r["n"] for r in await cur.fetchall()}
            await cur.execute("SELECT IsSecondary FROM provider ORDER BY ProvNum")
            providers = [r["IsSecondary"] for r in await cur.fetchall()]
            await cur.execute("SELECT COUNT(*) AS n FROM operatory")
            operatories = (await cur.fetchone())["n"]
            await cur.execute("SELECT CustApiKey, DevName FROM apikey")
            keys = await cur.fetchall()
    finally:
        conn.close()

    # Then there is a dentist and a hygienist, three operatories, the definitions the API
    # defaults need, and one apikey row for the customer key
    assert providers == [0, 1]
    assert operatories == 3
    assert {2, 4, 10, 13, 27} <= set(categories)
    assert categories[10] == 3
    assert list(keys) == [{"CustApiKey": "CustKeyA", "DevName": "Test Vendor"}]


async def test_reset_drops_what_the_office_held(office: Office, new_patient: NewPatient) -> None:
    # Given an office with a patient
    await new_patient()

    # When the database is ensured again with reset
    await _ensure(office.database, reset=True)

    # Then the patient is gone and the setup is back
    assert await office.rows("SELECT PatNum FROM patient") == []
    assert len(await office.rows("SELECT ProvNum FROM provider")) == 2


async def test_read_only_user_can_select_over_tcp_but_not_write(empty_database: str) -> None:
    # Given an office database and its read-only user
    await _ensure(empty_database)
    conn = await connect(
        DbParams(host="127.0.0.1", user="od_readonly", password="od_readonly"), empty_database
    )
    try:
        async with conn.cursor() as cur:
            # When it selects, Then it reads the office
            await cur.execute("SELECT COUNT(*) FROM definition")
            assert (await cur.fetchone())[0] > 0
            # When it inserts, Then MariaDB refuses
            with pytest.raises(pymysql.err.OperationalError) as refused:
                await cur.execute("INSERT INTO patient (LName) VALUES ('Nobody')")
            assert refused.value.args[0] == 1142  # INSERT command denied
    finally:
        conn.close()
