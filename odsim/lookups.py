"""The office's small reference tables (providers, definitions, operatories, clinics), read in
one round trip per request: defaults, foreign-key checks and the derived display fields."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiomysql

from odsim.errors import invalid

_QUERY = (
    "SELECT 'p' AS kind, ProvNum AS num, Abbr AS name, IsSecondary AS a, IsHidden AS hidden,"
    " ItemOrder AS ord FROM provider"
    " UNION ALL SELECT 'd', DefNum, ItemName, Category, IsHidden, ItemOrder FROM definition"
    " UNION ALL SELECT 'o', OperatoryNum, Abbrev, ClinicNum, IsHidden, ItemOrder FROM operatory"
    " UNION ALL SELECT 'c', ClinicNum, Abbr, 0, IsHidden, ItemOrder FROM clinic"
)

# Definition categories (DefCat) the API methods use.
APPT_CONFIRMED = 2
BILLING_TYPES = 4
PAYMENT_TYPES = 10
RECALL_UNSCHED_STATUS = 13
IMAGE_CATS = 18
COMMLOG_TYPES = 27
PAYSPLIT_UNEARNED_TYPE = 29


@dataclass(frozen=True, kw_only=True)
class Item:
    num: int
    name: str
    group: int  # provider: IsSecondary; definition: Category; operatory: ClinicNum
    hidden: bool
    order: int


@dataclass(frozen=True, kw_only=True)
class Lookups:
    providers: dict[int, Item] = field(default_factory=dict)
    definitions: dict[int, Item] = field(default_factory=dict)
    operatories: dict[int, Item] = field(default_factory=dict)
    clinics: dict[int, Item] = field(default_factory=dict)

    def provider_abbr(self, prov_num: int) -> str:
        item = self.providers.get(prov_num)
        return item.name if item else ""

    def clinic_abbr(self, clinic_num: int) -> str:
        item = self.clinics.get(clinic_num)
        return item.name if item else ""

    def def_name(self, def_num: int) -> str:
        item = self.definitions.get(def_num)
        return item.name if item else ""

    def category(self, category: int) -> list[Item]:
        items = [d for d in self.definitions.values() if d.group == category and not d.hidden]
        return sorted(items, key=lambda d: (d.order, d.num))

    def first_def(self, category: int) -> int:
        items = self.category(category)
        return items[0].num if items else 0

    def def_named(self, category: int, name: str) -> int | None:
        return next((d.num for d in self.category(category) if d.name == name), None)

    def default_provider(self) -> int:
        """The practice's default provider: the first visible dentist."""
        dentists = [p for p in self.providers.values() if not p.hidden and not p.group]
        candidates = dentists or list(self.providers.values())
        return min(candidates, key=lambda p: (p.order, p.num)).num if candidates else 0

    def check_def(self, name: str, def_num: int, category: int) -> int:
        item = self.definitions.get(def_num)
        if item is None or item.group != category:
            raise invalid(name)
        return def_num

    def check_provider(self, name: str, prov_num: int, *, allow_none: bool = True) -> int:
        if (prov_num == 0 and allow_none) or prov_num in self.providers:
            return prov_num
        raise invalid(name)

    def check_clinic(self, name: str, clinic_num: int) -> int:
        if clinic_num == 0 or clinic_num in self.clinics:
            return clinic_num
        raise invalid(name)


async def load_lookups(cur: aiomysql.DictCursor) -> Lookups:
    await cur.execute(_QUERY)
    lookups = Lookups()
    tables = {"p": lookups.providers, "d": lookups.definitions, "o": lookups.operatories,
              "c": lookups.clinics}
    for row in await cur.fetchall():
        tables[row["kind"]][int(row["num"])] = Item(
            num=int(row["num"]), name=row["name"], group=int(row["a"]),
            hidden=bool(row["hidden"]), order=int(row["ord"]),
        )
    return lookups
