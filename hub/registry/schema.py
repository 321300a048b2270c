"""The registry file as written: strict pydantic models that refuse unknown keys.

Secrets appear here only as references (an environment variable name or a file path); the loader
resolves them. Rules that span the file (unique ids, known offices, contracts, tables and
columns) are checked by the loader after this shape is valid, so each problem can name its exact
field path.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from hub.settings import ApiMode

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

# Office ids and vendor names become routing-key words, queue names and broker user names.
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
# Upper case only: a pasted key (mixed case) is refused here instead of being looked up by name.
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")]
FileName = Annotated[str, StringConstraints(min_length=1)]
ContractName = Annotated[str, StringConstraints(pattern=r"^[a-z]+\.[a-z_]+$")]

# Keys that would hold a secret literally, and what to write instead.
SECRET_LITERALS = {
    "customer_key": "customer_key_env or customer_key_file",
    "developer_key": "developer_key_env",
    "password": "password_env or password_file",
}


def _exactly_one(env: str | None, file: str | None, secret: str) -> None:
    if (env is None) == (file is None):
        raise PydanticCustomError(
            "secret_reference",
            "give exactly one of {secret}_env or {secret}_file",
            {"secret": secret},
        )


class _Entry(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class DatabaseEntry(_Entry):
    """The read-only SQL connection to an office's Open Dental database."""

    host: Annotated[str, StringConstraints(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 3306
    database: Annotated[str, StringConstraints(min_length=1)]
    user: Annotated[str, StringConstraints(min_length=1)]
    password_env: EnvName | None = None
    password_file: FileName | None = None
    tls: bool = False  # over TLS, verified with HUB_TLS__* (the hub's CA and client certificate)

    @model_validator(mode="after")
    def _one_password_reference(self) -> DatabaseEntry:
        _exactly_one(self.password_env, self.password_file, "password")
        return self


class OfficeEntry(_Entry):
    id: Name
    api_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/\S*)?$")]
    # TOML gives the mode as a string; strict mode would only take the enum object itself.
    mode: Annotated[ApiMode, Strict(False)]
    read_only: bool = False
    customer_key_env: EnvName | None = None
    customer_key_file: FileName | None = None
    developer_key_env: EnvName | None = None
    db: DatabaseEntry

    @model_validator(mode="after")
    def _one_customer_key_reference(self) -> OfficeEntry:
        _exactly_one(self.customer_key_env, self.customer_key_file, "customer_key")
        return self


class ReadEntry(_Entry):
    """A watched table whose changes the vendor is told of; ``values``: the columns whose new
    values it may receive (minimum necessary: none unless listed)."""

    table: Annotated[str, StringConstraints(min_length=1)]
    values: list[Annotated[str, StringConstraints(min_length=1)]] = []


class AgreementEntry(_Entry):
    office: Name
    contracts: list[ContractName] = []
    read: list[ReadEntry] = []


class VendorEntry(_Entry):
    name: Name
    agreements: list[AgreementEntry] = []


class RegistryFile(_Entry):
    offices: list[OfficeEntry] = []
    vendors: list[VendorEntry] = []
