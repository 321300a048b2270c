"""The forms adapter's settings, from ``HUB_FORMS_*`` environment variables (and ``.env``).

The webhook secret is given by ``HUB_FORMS_SECRET`` or by a file named in
``HUB_FORMS_SECRET_FILE`` (its whole text, stripped), exactly one of the two; never in code.
The broker URL carries the vendor's own login (``hub vendor add`` made it).

``HUB_FORMS_OFFICES`` lists, comma-separated, the offices the vendor has a data agreement with,
as the hub's registry lists them (``office-1,office-2``); required. The broker refuses a publish
both for an office outside the agreements and for any office while the hub's operators pause the
vendor, and only this list tells the two apart: a refusal for a listed office is a pause (503
with Retry-After: send again later), for any other office it is final (403). It is a setting,
not the hub's registry, because the adapter runs on the vendor's side, which has neither that
file nor the office secrets it references; keep it in step with the vendor's agreements.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from yarl import URL

from contracts.fields import OfficeId

MIN_SECRET_LENGTH = 16


class FormsConfigError(Exception):
    """A setting is missing or unusable; the message names the variable, never a secret."""


class FormsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_FORMS_", env_file=".env", extra="ignore")

    broker_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    vendor: str | None = Field(default=None, description="Default: the broker URL's user.")
    secret: SecretStr | None = None
    secret_file: Path | None = None
    confirm_timeout_s: float = Field(default=5.0, gt=0)
    retry_after_s: int = Field(default=5, ge=1)
    # Comma-separated in the environment (NoDecode: not JSON).
    offices: Annotated[tuple[OfficeId, ...], NoDecode] = ()

    @field_validator("offices", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def vendor_name(self) -> str:
        """The broker user the adapter publishes as: ``user_id`` must be the login's user."""
        return self.vendor or URL(self.broker_url.get_secret_value()).user or "guest"

    def agreed_offices(self) -> frozenset[str]:
        """The offices of the vendor's agreements; raises ``FormsConfigError`` when none is set."""
        if not self.offices:
            raise FormsConfigError(
                "set HUB_FORMS_OFFICES to the offices of the vendor's agreements (comma-separated)"
            )
        return frozenset(self.offices)

    def webhook_secret(self) -> bytes:
        """The HMAC secret; raises ``FormsConfigError`` naming what is wrong."""
        if (self.secret is None) == (self.secret_file is None):
            raise FormsConfigError("set exactly one of HUB_FORMS_SECRET and HUB_FORMS_SECRET_FILE")
        if self.secret_file is not None:
            try:
                text = self.secret_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise FormsConfigError(
                    f"cannot read HUB_FORMS_SECRET_FILE {self.secret_file} ({type(exc).__name__})"
                ) from exc
        else:
            text = self.secret.get_secret_value() if self.secret else ""
        secret = text.strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise FormsConfigError(
                f"the webhook secret needs {MIN_SECRET_LENGTH} characters or more"
            )
        return secret.encode("utf-8")
