"""The office's sheet definitions: one patient form of 12 fillable fields and its static text.

Open Dental ships its internal sheet definitions in code and copies one into ``sheetdef`` when
the office customizes it; the simulated office has customized one patient form, so a vendor can
fill it through Sheets POST (which takes only a ``sheetdef`` row's SheetDefNum).
"""

from __future__ import annotations

import aiomysql

from odsim.catalog import enum_of

REGISTRATION_FORM = "Patient Registration (hub simulator)"
# FieldType name, FieldName, default FieldValue. A CheckBox holds "X" when checked.
REGISTRATION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("StaticText", "title", "New Patient Registration"),
    ("InputField", "preferredName", ""),
    ("InputField", "emergencyContactName", ""),
    ("InputField", "emergencyContactPhone", ""),
    ("InputField", "employer", ""),
    ("InputField", "occupation", ""),
    ("InputField", "referredBy", ""),
    ("InputField", "reasonForVisit", ""),
    ("InputField", "lastDentalVisit", ""),
    ("InputField", "pharmacy", ""),
    ("CheckBox", "consentToText", ""),
    ("CheckBox", "consentToEmail", ""),
    ("OutputText", "officeUseNote", ""),
    ("SigBox", "patientSignature", ""),
)


async def seed_sheet_defs(cur: aiomysql.Cursor) -> None:
    """The registration form, when the office has no sheet definition yet."""
    await cur.execute("SELECT 1 FROM sheetdef LIMIT 1")
    if await cur.fetchone() is not None:
        return
    await cur.execute(
        "INSERT INTO sheetdef (Description, SheetType, FontSize, FontName, Width, Height)"
        " VALUES (%s, %s, 11, 'Microsoft Sans Serif', 850, 1100)",
        (REGISTRATION_FORM, enum_of("sheetdef", "SheetType")["PatientForm"]),
    )
    def_num = int(cur.lastrowid)
    types = enum_of("sheetfielddef", "FieldType")
    await cur.executemany(
        "INSERT INTO sheetfielddef (SheetDefNum, FieldType, FieldName, FieldValue, XPos, YPos,"
        " Width, Height, TabOrder) VALUES (%s, %s, %s, %s, 50, %s, 300, 20, %s)",
        [
            (def_num, types[kind], name, value, 40 + 30 * order, order)
            for order, (kind, name, value) in enumerate(REGISTRATION_FIELDS)
        ],
    )
