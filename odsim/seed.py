"""A small office: two providers, three operatories, the definitions the API defaults rely on,
no clinics (ClinicNum 0 everywhere), two users (``USERS``: the front desk's writes in
odsim/doors.py carry one's UserNum), and one apikey row per customer key.

Everything is inserted only into empty tables (definitions: categories without items), so seeding
an existing office adds only what it lacks.
"""

from __future__ import annotations

import aiomysql

from odsim.sheet_defs import seed_sheet_defs

# Definition categories (DefCat numbers from the schema) and their items, in ItemOrder.
DEFINITIONS: dict[int, tuple[str, ...]] = {
    2: ("Not Called", "Unconfirmed", "Sent", "Confirmed", "Not Accepted", "Failed", "Texted",
        "Emailed"),  # ApptConfirmed
    4: ("Standard Account", "Insurance Only", "Collection"),  # BillingTypes
    10: ("Cash", "Check", "Credit Card"),  # PaymentTypes
    # RecallUnschedStatus
    13: ("Unscheduled", "Called - No Answer", "Left Message", "Will Call Back"),
    18: ("Patient Forms", "X-Rays", "Photos", "Documents"),  # ImageCats
    27: ("Appt Related", "Insurance", "Financial", "Misc"),  # CommLogTypes
    29: ("Prepayment",),  # PaySplitUnearnedType: where an unallocated payment goes
}

_PROVIDERS = (
    # Abbr, LName, FName, IsSecondary (hygienist), ItemOrder, ProvColor
    ("DOC1", "Albright", "Dana", 0, 0, 0xA4FFA4),
    ("HYG1", "Moreno", "Tess", 1, 1, 0xCB97FF),
)
_OPERATORIES = (
    # OpName, Abbrev, ItemOrder, ProvDentist, ProvHygienist, IsHygiene
    ("Operatory 1", "OP-1", 0, 1, 0, 0),
    ("Operatory 2", "OP-2", 1, 1, 0, 0),
    ("Hygiene", "HYG", 2, 0, 2, 1),
)


async def _is_empty(cur: aiomysql.Cursor, table: str) -> bool:
    await cur.execute(f"SELECT 1 FROM `{table}` LIMIT 1")
    return await cur.fetchone() is None


async def _seed_providers(cur: aiomysql.Cursor) -> None:
    if await _is_empty(cur, "provider"):
        await cur.executemany(
            "INSERT INTO provider (Abbr, LName, FName, IsSecondary, ItemOrder, ProvColor,"
            " UsingTIN) VALUES (%s, %s, %s, %s, %s, %s, 1)",
            _PROVIDERS,
        )


async def _seed_operatories(cur: aiomysql.Cursor) -> None:
    if await _is_empty(cur, "operatory"):
        await cur.executemany(
            "INSERT INTO operatory (OpName, Abbrev, ItemOrder, ProvDentist, ProvHygienist,"
            " IsHygiene) VALUES (%s, %s, %s, %s, %s, %s)",
            _OPERATORIES,
        )


async def _seed_definitions(cur: aiomysql.Cursor) -> None:
    # Category by category, so an office made before a category was seeded gets it too.
    for category, names in DEFINITIONS.items():
        await cur.execute("SELECT 1 FROM definition WHERE Category = %s LIMIT 1", (category,))
        if await cur.fetchone() is None:
            await cur.executemany(
                "INSERT INTO definition (Category, ItemOrder, ItemName) VALUES (%s, %s, %s)",
                [(category, order, name) for order, name in enumerate(names)],
            )


# Open Dental's users (userod.UserName): the office's administrator and its front desk.
USERS = ("admin", "frontdesk")


async def _seed_users(cur: aiomysql.Cursor) -> None:
    if await _is_empty(cur, "userod"):
        await cur.executemany("INSERT INTO userod (UserName) VALUES (%s)", [(u,) for u in USERS])


async def _seed_api_keys(cur: aiomysql.Cursor, dev_name: str, customer_keys: list[str]) -> None:
    for key in customer_keys:
        await cur.execute(
            "INSERT INTO apikey (CustApiKey, DevName) SELECT %s, %s FROM DUAL"
            " WHERE NOT EXISTS (SELECT 1 FROM apikey WHERE CustApiKey = %s AND DevName = %s)",
            (key, dev_name, key, dev_name),
        )


# A clinical office's own lists: the custom patient fields it defined (FieldName, FieldType,
# PickList) and the allergies, medications and problems its staff pick from.
PAT_FIELD_DEFS = (
    ("Referral Source", 0, ""),
    ("Preferred Pharmacy", 0, ""),
    ("Intake Consent", 3, ""),
    ("Intake Date", 2, ""),
    ("Language Line", 1, "Spanish\r\nVietnamese\r\nMandarin"),
    ("Retired Field", 0, ""),  # hidden below: the API refuses it
)
ALLERGY_DEFS = ("Penicillin", "Latex", "Codeine", "Sulfa")
MEDICATIONS = ("Amoxicillin", "Lisinopril", "Metformin", "Ibuprofen")
DISEASE_DEFS = ("Diabetes", "Hypertension", "Asthma", "Heart Murmur")


async def _seed_clinical_lists(cur: aiomysql.Cursor) -> None:
    if await _is_empty(cur, "patfielddef"):
        await cur.executemany(
            "INSERT INTO patfielddef (FieldName, FieldType, PickList, ItemOrder, IsHidden)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(name, kind, picks, order, int(name == "Retired Field"))
             for order, (name, kind, picks) in enumerate(PAT_FIELD_DEFS)],
        )
    if await _is_empty(cur, "allergydef"):
        await cur.executemany(
            "INSERT INTO allergydef (Description) VALUES (%s)", [(n,) for n in ALLERGY_DEFS]
        )
    if await _is_empty(cur, "medication"):
        await cur.executemany(
            "INSERT INTO medication (MedName) VALUES (%s)", [(n,) for n in MEDICATIONS]
        )
        # A generic medication is its own generic (Open Dental's Medications.Insert).
        await cur.execute("UPDATE medication SET GenericNum = MedicationNum")
    if await _is_empty(cur, "diseasedef"):
        await cur.executemany(
            "INSERT INTO diseasedef (DiseaseName, ItemOrder) VALUES (%s, %s)",
            [(n, order) for order, n in enumerate(DISEASE_DEFS)],
        )


async def seed_office(cur: aiomysql.Cursor, *, dev_name: str, customer_keys: list[str]) -> None:
    """Insert the office's reference rows where missing (the cursor's database is the office)."""
    await _seed_providers(cur)
    await _seed_operatories(cur)
    await _seed_definitions(cur)
    await _seed_clinical_lists(cur)
    await _seed_users(cur)
    await _seed_api_keys(cur, dev_name, customer_keys)
    await seed_sheet_defs(cur)
