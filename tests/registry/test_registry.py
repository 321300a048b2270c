"""The registry file: a good one loads; a bad one names the field path and rule, never a secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.registry import RegistryError, load_registry
from hub.settings import ApiMode

CUSTOMER_KEY = "Ck-0ffice-A-s3cret"
DB_PASSWORD = "Db-0ffice-A-s3cret"
DEVELOPER_KEY = "Dev-0ffice-B-s3cret"
SECRETS = (CUSTOMER_KEY, DB_PASSWORD, DEVELOPER_KEY)
ENV = {"T_CUSTOMER_KEY": CUSTOMER_KEY, "T_DEVELOPER_KEY": DEVELOPER_KEY}

GOOD = """
[[offices]]
id = "office-a"
api_url = "http://127.0.0.1:30223/api/v1"
mode = "service"
customer_key_env = "T_CUSTOMER_KEY"

[offices.db]
host = "127.0.0.1"
database = "opendental"
user = "od_readonly"
password_file = "db-password"

[[offices]]
id = "office-b"
api_url = "https://api.opendental.com/api/v1"
mode = "remote"
read_only = true
customer_key_env = "T_CUSTOMER_KEY"
developer_key_env = "T_DEVELOPER_KEY"

[offices.db]
host = "db.example.net"
port = 3307
database = "opendental"
user = "od_readonly"
password_file = "db-password"

[[vendors]]
name = "forms"

[[vendors.agreements]]
office = "office-a"
contracts = ["patient.create", "patient.update"]

[[vendors.agreements]]
office = "office-b"
contracts = ["appointment.create"]
"""


def write_registry(directory: Path, text: str) -> Path:
    (directory / "db-password").write_text(DB_PASSWORD + "\n")
    path = directory / "registry.toml"
    path.write_text(text)
    return path


def test_a_good_registry_loads_with_its_secrets_resolved(tmp_path: Path) -> None:
    # Given a registry with two offices and a vendor that has agreements with both
    path = write_registry(tmp_path, GOOD)

    # When it is loaded
    registry = load_registry(path, ENV)

    # Then offices carry their settings and resolved secrets (env, relative file, override)
    office_a, office_b = registry.office("office-a"), registry.office("office-b")
    assert office_a.mode is ApiMode.SERVICE and not office_a.read_only
    assert office_a.customer_key.get_secret_value() == CUSTOMER_KEY
    assert office_a.db.password.get_secret_value() == DB_PASSWORD
    assert office_a.db.port == 3306 and office_a.developer_key is None
    assert office_b.read_only and office_b.db.port == 3307
    assert office_b.developer_key is not None
    assert office_b.developer_key.get_secret_value() == DEVELOPER_KEY
    # And the agreements decide what the vendor may send to which office
    assert registry.vendor("forms").offices == ("office-a", "office-b")
    assert registry.allows("forms", "office-a", "patient.update")
    assert not registry.allows("forms", "office-b", "patient.update")
    assert not registry.allows("forms", "office-c", "patient.create")
    assert not registry.allows("reminders", "office-a", "patient.create")


def test_a_registry_may_name_contracts_of_a_set_the_caller_passes(tmp_path: Path) -> None:
    # Given a registry naming a contract outside v1
    path = write_registry(tmp_path, GOOD.replace('"appointment.create"', '"recall.create"'))

    # When it is loaded with a contract set that has it
    registry = load_registry(
        path, ENV, contracts=frozenset({"patient.create", "patient.update", "recall.create"})
    )

    # Then the agreement allows it
    assert registry.allows("forms", "office-b", "recall.create")


def test_unknown_office_or_vendor_lookups_fail_clearly(tmp_path: Path) -> None:
    # Given a loaded registry
    registry = load_registry(write_registry(tmp_path, GOOD), ENV)

    # When an unknown office or vendor is looked up, Then the error names it
    with pytest.raises(RegistryError, match="unknown office 'office-z'"):
        registry.office("office-z")
    with pytest.raises(RegistryError, match="unknown vendor 'nobody'"):
        registry.vendor("nobody")


@dataclass(frozen=True)
class BadCase:
    edit: Callable[[str], str]
    path: str
    rule: str
    env: dict[str, str] | None = None


def _second_office_as_a(text: str) -> str:
    return text.replace('id = "office-b"', 'id = "office-a"')


def _literal_db_password(text: str) -> str:
    return text.replace('password_file = "db-password"', f'password = "{DB_PASSWORD}"', 1)


BAD_CASES = {
    "duplicate office id": BadCase(
        _second_office_as_a, "offices[1].id", "duplicate office id 'office-a'"
    ),
    "duplicate vendor name": BadCase(
        lambda text: text + '\n[[vendors]]\nname = "forms"\n',
        "vendors[1].name",
        "duplicate vendor name 'forms'",
    ),
    "unknown office in an agreement": BadCase(
        lambda text: text.replace('office = "office-b"', 'office = "office-z"'),
        "vendors[0].agreements[1].office",
        "unknown office 'office-z'",
    ),
    "unknown contract": BadCase(
        lambda text: text.replace('"patient.update"]', '"patient.delete"]'),
        "vendors[0].agreements[0].contracts[1]",
        "unknown contract 'patient.delete'",
    ),
    "literal customer key": BadCase(
        lambda text: text.replace(
            'customer_key_env = "T_CUSTOMER_KEY"', f'customer_key = "{CUSTOMER_KEY}"', 1
        ),
        "offices[0].customer_key",
        "a secret may not be written in the registry",
    ),
    "literal database password": BadCase(
        _literal_db_password, "offices[0].db.password", "a secret may not be written"
    ),
    "a key pasted where a variable name goes": BadCase(
        lambda text: text.replace('"T_CUSTOMER_KEY"', f'"{CUSTOMER_KEY}"', 1),
        "offices[0].customer_key_env",
        "String should match pattern",
    ),
    "missing environment variable": BadCase(
        lambda text: text,
        "offices[0].customer_key_env",
        "environment variable T_CUSTOMER_KEY is not set",
        env={"T_DEVELOPER_KEY": DEVELOPER_KEY},
    ),
    "missing secret file": BadCase(
        lambda text: text.replace('"db-password"', '"no-such-file"', 1),
        "offices[0].db.password_file",
        "cannot read",
    ),
    "two references for one secret": BadCase(
        lambda text: text.replace(
            'customer_key_env = "T_CUSTOMER_KEY"',
            'customer_key_env = "T_CUSTOMER_KEY"\ncustomer_key_file = "db-password"',
            1,
        ),
        "offices[0]",
        "give exactly one of customer_key_env or customer_key_file",
    ),
    "bad id pattern": BadCase(
        lambda text: text.replace('id = "office-a"', 'id = "Office_A"'),
        "offices[0].id",
        "String should match pattern '^[a-z0-9][a-z0-9-]{0,62}$'",
    ),
    "bad vendor name": BadCase(
        lambda text: text.replace('name = "forms"', 'name = "forms.co"'),
        "vendors[0].name",
        "String should match pattern",
    ),
    "unknown mode": BadCase(
        lambda text: text.replace('mode = "service"', 'mode = "cloud"'),
        "offices[0].mode",
        "Input should be 'remote', 'service' or 'local'",
    ),
    "unknown key": BadCase(
        lambda text: text.replace('name = "forms"', 'name = "forms"\ncolour = "blue"'),
        "vendors[0].colour",
        "unknown key",
    ),
    "wrong type": BadCase(
        lambda text: text.replace("port = 3307", 'port = "3307"'),
        "offices[1].db.port",
        "Input should be a valid integer",
    ),
}


@pytest.mark.parametrize("case", BAD_CASES.values(), ids=BAD_CASES.keys())
def test_a_bad_registry_is_refused_naming_the_field_and_the_rule(
    tmp_path: Path, case: BadCase
) -> None:
    # Given a registry with one mistake
    path = write_registry(tmp_path, case.edit(GOOD))

    # When it is loaded
    with pytest.raises(RegistryError) as refused:
        load_registry(path, ENV if case.env is None else case.env)

    # Then the error names the field path and the rule, and holds no secret
    message = str(refused.value)
    assert f"{case.path}: " in message
    assert case.rule in message
    assert not any(secret in message for secret in SECRETS)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    # Given a registry with a duplicate office id (so office-b is gone) and an unknown contract
    text = _second_office_as_a(GOOD).replace('"patient.update"]', '"patient.delete"]')
    path = write_registry(tmp_path, text)

    # When it is loaded
    with pytest.raises(RegistryError) as refused:
        load_registry(path, ENV)

    # Then both problems are listed, one a line
    problems = str(refused.value).splitlines()[1:]
    assert [problem.split(":")[0].strip() for problem in problems] == [
        "offices[1].id",
        "vendors[0].agreements[0].contracts[1]",
        "vendors[0].agreements[1].office",
    ]


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    # Given a file that is not TOML
    path = write_registry(tmp_path, f'[[offices]\ncustomer_key = "{CUSTOMER_KEY}"')

    # When it is loaded, Then the error says so, without the content
    with pytest.raises(RegistryError, match="not valid TOML") as refused:
        load_registry(path, ENV)
    assert CUSTOMER_KEY not in str(refused.value)


def test_the_shipped_registries_are_valid(tmp_path: Path) -> None:
    # Given the demo registry and the example, with every secret they reference present
    root = Path(__file__).resolve().parents[2]
    env = {
        "HUB_OD_CUSTOMER_KEY": "k",
        "HUB_OD_DB__PASSWORD": "p",
        "OFFICE_1_CUSTOMER_KEY": "k",
        "OFFICE_2_DEVELOPER_KEY": "d",
        "OFFICE_2_DB_PASSWORD": "p",
    }

    # When the demo registry is loaded, Then it has the simulator's office and two vendors
    demo = load_registry(root / "registry.toml", env)
    assert demo.office("office-1").api_url == "http://127.0.0.1:30223/api/v1"
    assert len(demo.vendors) == 2
    # And the example fails only on its secret files, which live on a real server
    with pytest.raises(RegistryError) as refused:
        load_registry(root / "registry.example.toml", env)
    problems = str(refused.value).splitlines()[1:]
    assert problems and all("_file: cannot read /etc/hub/secrets/" in p for p in problems)
