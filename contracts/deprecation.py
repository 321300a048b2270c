"""A served version's deprecation: the date after which the hub stops serving it, and the version
to move to. Declared on the intent model (``Intent.deprecation``) and said on every outcome of
that version's intents, so a vendor learns it from its own traffic."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.base import ContractModel


class Deprecation(ContractModel):
    """This version is deprecated: it is served until ``sunset``, then withdrawn."""

    sunset: date = Field(description="The last day the hub serves this version, yyyy-MM-dd.")
    successor: int = Field(ge=1, description="The major version to move to.")
