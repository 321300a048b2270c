"""The forms adapter's settings, from ``HUB_FORMS_*`` environment variables (and ``.env``).

Each field's docstring says what it governs (``hub settings export`` renders them into
docs/settings.md); the webhook secret is never in code.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from yarl import URL

from adapters.forms.webhook import secret_key
from adapters.publisher.tls import vendor_tls
from contracts.fields import OfficeId


class FormsConfigError(Exception):
    """A setting is missing or unusable; the message names the variable, never a secret."""


class FormsSettings(BaseSettings):
    """``hub forms``: the forms vendor's webhook receiver. It runs on the vendor's side, takes
    online intake forms signed in the Standard Webhooks style on ``POST /forms/intake`` and
    publishes each as the vendor's ``patient.create`` and ``commlog.create`` intents
    (docs/vendors.md)."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_FORMS_", env_file=".env", extra="ignore", use_attribute_docstrings=True,
        title="The forms adapter (`hub forms`)",
    )

    broker_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    """The forms vendor's own RabbitMQ login, as an AMQP URL (``hub vendor add`` made it); the
    adapter publishes the vendor's intents with it. Across a network use
    ``amqps://vendor:password@host:5671/``: TLS, the broker's certificate verified. The nodes
    of a cluster, comma-separated, each a whole URL with the same login: the adapter connects
    to one that answers and moves to another when its node is lost."""
    ca_file: Path | None = None
    """A PEM file of CA certificates trusted, besides the system's, for the broker's
    certificate on ``amqps://``: the hub's CA when it is not a public one."""
    cert_file: Path | None = None
    """The vendor's client certificate (PEM), shown to the broker on ``amqps://`` when the
    hub's operators issued one; with ``HUB_FORMS_KEY_FILE``."""
    key_file: Path | None = None
    """The private key (PEM, unencrypted) of ``HUB_FORMS_CERT_FILE``."""
    vendor: str | None = None
    """The vendor's name, which the broker checks against the login (``user_id``). Unset: the
    broker URL's user."""
    secret: SecretStr | None = None
    """The webhook's signing secret, shared with the forms vendor, in the Standard Webhooks
    format: ``whsec_`` then the base64 of 24 to 64 random bytes (``python -c "import base64, os;
    print('whsec_' + base64.b64encode(os.urandom(32)).decode())"``). The vendor signs each
    request's ``webhook-id``, ``webhook-timestamp`` and body with it (docs/vendors.md). Set
    exactly one of this and ``HUB_FORMS_SECRET_FILE``."""
    secret_file: Path | None = None
    """A file holding the webhook's signing secret (its whole text, stripped), instead of
    ``HUB_FORMS_SECRET``."""
    timestamp_tolerance_s: int = Field(default=300, ge=1)
    """How far a request's ``webhook-timestamp`` may be from the adapter's clock, either way,
    in seconds (Standard Webhooks recommends 5 minutes); further is 401, so a captured request
    cannot be replayed later. The adapter remembers a published webhook id until its timestamp
    plus this, and answers a request repeating it without publishing again."""
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    """The largest request body the webhook takes, in bytes; a larger one is 413, refused on its
    Content-Length before any of it is read (or, sent chunked, once the limit is passed)."""
    confirm_timeout_s: float = Field(default=5.0, gt=0)
    """Seconds the adapter waits for the broker to confirm a publish; without a confirm in time
    the webhook answers 503 with Retry-After, and the same form may be sent again."""
    retry_after_s: int = Field(default=5, ge=1)
    """The Retry-After, in seconds, of a 503 reply (the broker did not confirm, or the vendor is
    paused): when the forms vendor should send the form again."""
    # Comma-separated in the environment (NoDecode: not JSON).
    offices: Annotated[tuple[OfficeId, ...], NoDecode] = ()
    """Required: the offices of the vendor's data agreements, comma-separated as the hub's
    registry names them (``office-1,office-2``). The broker refuses a publish both for an office
    outside the agreements and for any office while the hub's operators pause the vendor, and
    only this list tells the two apart: a refusal for a listed office is a pause (503 with
    Retry-After: send again later), for any other office it is final (403). A setting, not the
    hub's registry, because the adapter runs on the vendor's side, which has neither that file
    nor the office secrets it references; keep it in step with the vendor's agreements."""

    @field_validator("offices", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def vendor_name(self) -> str:
        """The broker user the adapter publishes as: ``user_id`` must be the login's user."""
        return self.vendor or URL(self._first_node()).user or "guest"

    def _first_node(self) -> str:
        return self.broker_url.get_secret_value().split(",")[0].strip()

    def broker_tls(self) -> ssl.SSLContext | None:
        """The TLS context for an ``amqps://`` broker URL, none for ``amqp://``; raises
        ``FormsConfigError`` naming a file that cannot be read."""
        if URL(self._first_node()).scheme != "amqps":
            return None
        if (self.cert_file is None) != (self.key_file is None):
            raise FormsConfigError(
                "set both HUB_FORMS_CERT_FILE and HUB_FORMS_KEY_FILE, or neither"
            )
        try:
            return vendor_tls(self.ca_file, self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise FormsConfigError(
                f"cannot read HUB_FORMS_CA_FILE, HUB_FORMS_CERT_FILE or HUB_FORMS_KEY_FILE "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    def agreed_offices(self) -> frozenset[str]:
        """The offices of the vendor's agreements; raises ``FormsConfigError`` when none is set."""
        if not self.offices:
            raise FormsConfigError(
                "set HUB_FORMS_OFFICES to the offices of the vendor's agreements (comma-separated)"
            )
        return frozenset(self.offices)

    def webhook_secret(self) -> bytes:
        """The signing secret's bytes; raises ``FormsConfigError`` naming what is wrong."""
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
        variable = "HUB_FORMS_SECRET_FILE" if self.secret_file else "HUB_FORMS_SECRET"
        try:
            return secret_key(text.strip())
        except ValueError as exc:
            raise FormsConfigError(f"{variable}: {exc}") from None
