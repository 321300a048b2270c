"""Load the registry: parse the TOML, check it whole, resolve the secrets it references.

Every problem is reported with its field path and the rule it broke, all at once. Messages name
variables and files, never a secret's value (pydantic's inputs are left out on purpose).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr, ValidationError

from contracts.od_tables import WATCHED_TABLES, watched_tables
from hub.registry.model import (
    V1_CONTRACTS,
    Agreement,
    Office,
    OfficeDatabase,
    Registry,
    RegistryError,
    Vendor,
)
from hub.registry.schema import (
    SECRET_LITERALS,
    OfficeEntry,
    ReadEntry,
    RegistryFile,
    VendorEntry,
)
from hub.settings import HubSettings


@dataclass(frozen=True, kw_only=True)
class RegistrySource:
    """The registry file as read once: its text, and the SHA-256 of its bytes (the audit trail
    records which file each load acted on)."""

    path: Path
    text: str
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Problem:
    path: str
    rule: str


@dataclass(kw_only=True)
class _Secrets:
    """Resolves secret references, collecting every problem so all are reported at once."""

    env: Mapping[str, str]
    base: Path  # a relative file name is relative to the registry file
    problems: list[Problem] = field(default_factory=list)

    def get(self, at: str, env_name: str | None, file_name: str | None) -> SecretStr:
        if env_name is not None:
            value = self.env.get(env_name, "")
            where, empty = f"{at}_env", f"environment variable {env_name} is not set or empty"
        else:
            assert file_name is not None  # the schema demands exactly one reference
            where, file = f"{at}_file", self.base / file_name
            value, empty = _read_secret_file(file), f"cannot read {file}, or it is empty"
        if not value:
            self.problems.append(Problem(path=where, rule=empty))
        return SecretStr(value)


def load_registry(
    path: Path, env: Mapping[str, str], *, contracts: frozenset[str] = V1_CONTRACTS
) -> Registry:
    """Read and check the registry at ``path``; secrets come from ``env`` or the files named.

    Blocking file reads: call it at start-up, or through ``asyncio.to_thread`` inside a loop.
    """
    return registry_from(read_registry(path), env, contracts=contracts)


def read_registry(path: Path) -> RegistrySource:
    """The registry file's text and hash, read once (blocking)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 text") from exc
    return RegistrySource(path=path, text=text, sha256=hashlib.sha256(data).hexdigest())


def registry_from(
    source: RegistrySource, env: Mapping[str, str], *, contracts: frozenset[str] = V1_CONTRACTS
) -> Registry:
    """Check the registry read into ``source``; secrets come from ``env`` or the files named
    (blocking reads when a secret is a file)."""
    path = source.path
    entries = _parse(source)
    problems = _cross_check(entries, contracts)
    if problems:
        raise _invalid(path, problems)
    secrets = _Secrets(env=env, base=path.parent)
    offices = {
        entry.id: _office(entry, f"offices[{index}]", secrets)
        for index, entry in enumerate(entries.offices)
    }
    if secrets.problems:
        raise _invalid(path, secrets.problems)
    vendors = {entry.name: _vendor(entry) for entry in entries.vendors}
    return Registry(offices=offices, vendors=vendors)


def _parse(source: RegistrySource) -> RegistryFile:
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{source.path}: not valid TOML: {exc}") from exc
    try:
        return RegistryFile.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(error["loc"], error["type"], error["msg"]) for error in exc.errors()]
        raise _invalid(source.path, problems) from None  # the pydantic text would echo inputs


def _problem(loc: Sequence[int | str], kind: str, message: str) -> Problem:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    path = path.removeprefix(".") or "(top level)"
    if kind == "extra_forbidden" and loc and loc[-1] in SECRET_LITERALS:
        instead = SECRET_LITERALS[str(loc[-1])]
        message = f"a secret may not be written in the registry; give {instead}"
    elif kind == "extra_forbidden":
        message = "unknown key"
    return Problem(path=path, rule=message)


def _invalid(path: Path, problems: Sequence[Problem]) -> RegistryError:
    lines = "".join(f"\n  {problem.path}: {problem.rule}" for problem in problems)
    return RegistryError(f"{path} is invalid:{lines}")


def _cross_check(entries: RegistryFile, contracts: frozenset[str]) -> list[Problem]:
    problems = _duplicates([o.id for o in entries.offices], "offices[{}].id", "office id")
    problems += _duplicates([v.name for v in entries.vendors], "vendors[{}].name", "vendor name")
    office_ids = {office.id for office in entries.offices}
    for index, vendor in enumerate(entries.vendors):
        problems += _check_agreements(vendor, f"vendors[{index}]", office_ids, contracts)
    return problems


def _duplicates(values: list[str], path: str, what: str) -> list[Problem]:
    """A problem for each repeat of a value; ``path`` has one ``{}`` for the index."""
    first: dict[str, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in first:
            rule = f"duplicate {what} {value!r} (first at {path.format(first[value])})"
            problems.append(Problem(path=path.format(index), rule=rule))
        first.setdefault(value, index)
    return problems


def _check_agreements(
    vendor: VendorEntry, at: str, office_ids: set[str], contracts: frozenset[str]
) -> list[Problem]:
    at = f"{at}.agreements"
    offices = [agreement.office for agreement in vendor.agreements]
    problems = _duplicates(offices, at + "[{}].office", "agreement for office")
    for index, agreement in enumerate(vendor.agreements):
        if agreement.office not in office_ids:
            rule = f"unknown office {agreement.office!r}; an agreement must name an office above"
            problems.append(Problem(path=f"{at}[{index}].office", rule=rule))
        names = agreement.contracts
        problems += _duplicates(names, f"{at}[{index}].contracts" + "[{}]", "contract")
        problems += [
            Problem(
                path=f"{at}[{index}].contracts[{position}]",
                rule=f"unknown contract {name!r}; known: {', '.join(sorted(contracts))}",
            )
            for position, name in enumerate(names)
            if name not in contracts
        ]
        problems += _check_reads(agreement.read, f"{at}[{index}].read")
    return problems


def _check_reads(reads: Sequence[ReadEntry], at: str) -> list[Problem]:
    """Each table once, watched, and its value columns the table's own."""
    tables = watched_tables()
    problems = _duplicates([read.table for read in reads], at + "[{}].table", "table")
    for index, read in enumerate(reads):
        known = tables.get(read.table)
        if known is None:
            rule = f"unknown table {read.table!r}; watched: {', '.join(WATCHED_TABLES)}"
            problems.append(Problem(path=f"{at}[{index}].table", rule=rule))
            continue
        where = f"{at}[{index}].values"
        problems += _duplicates(read.values, where + "[{}]", "column")
        problems += [
            Problem(
                path=f"{where}[{position}]",
                rule=f"unknown column {column!r} of table {read.table!r}",
            )
            for position, column in enumerate(read.values)
            if column not in known.columns
        ]
    return problems


def _office(entry: OfficeEntry, at: str, secrets: _Secrets) -> Office:
    db = entry.db
    developer_key = None
    if entry.developer_key_env is not None:
        developer_key = secrets.get(f"{at}.developer_key", entry.developer_key_env, None)
    return Office(
        id=entry.id,
        api_url=entry.api_url,
        mode=entry.mode,
        read_only=entry.read_only,
        customer_key=secrets.get(
            f"{at}.customer_key", entry.customer_key_env, entry.customer_key_file
        ),
        developer_key=developer_key,
        db=OfficeDatabase(
            host=db.host,
            port=db.port,
            database=db.database,
            user=db.user,
            password=secrets.get(f"{at}.db.password", db.password_env, db.password_file),
            tls=db.tls,
        ),
    )


def _read_secret_file(file: Path) -> str:
    """The file's text without surrounding whitespace; empty when it cannot be read."""
    try:
        return file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _vendor(entry: VendorEntry) -> Vendor:
    agreements = tuple(
        Agreement(
            office=agreement.office,
            contracts=frozenset(agreement.contracts),
            read={read.table: frozenset(read.values) for read in agreement.read},
        )
        for agreement in entry.agreements
    )
    return Vendor(name=entry.name, agreements=agreements)


def settings_env(settings: HubSettings, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus the hub-wide secrets as ``HubSettings`` resolved them.

    A registry may reference ``HUB_OD_CUSTOMER_KEY``, ``HUB_OD_DEVELOPER_KEY`` and
    ``HUB_OD_DB__PASSWORD`` even when only their defaults or a ``.env`` file set them.
    """
    return {
        **environ,
        "HUB_OD_CUSTOMER_KEY": settings.od_customer_key.get_secret_value(),
        "HUB_OD_DEVELOPER_KEY": settings.od_developer_key.get_secret_value(),
        "HUB_OD_DB__PASSWORD": settings.od_db.password.get_secret_value(),
    }


def load_hub_registry(settings: HubSettings, environ: Mapping[str, str]) -> Registry:
    """The registry at ``settings.registry_path``, its secrets from ``settings_env``."""
    return load_registry(settings.registry_path, settings_env(settings, environ))
