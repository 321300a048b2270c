"""The online-forms webhook adapter: an intake form, signed in the Standard Webhooks style, becomes
a ``patient.create`` and a ``commlog.create`` intent, published with confirms as the configured
vendor (``hub forms``)."""

from adapters.forms.app import INTAKE_PATH, IntakeConfig, forms_app
from adapters.forms.model import Answer, IntakeForm, IntakePatient
from adapters.forms.server import serve_forms
from adapters.forms.settings import FormsConfigError, FormsSettings
from adapters.forms.translate import intake_intents, intake_key
from adapters.forms.webhook import (
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    secret_key,
    sign,
)

__all__ = [
    "INTAKE_PATH",
    "WEBHOOK_ID",
    "WEBHOOK_SIGNATURE",
    "WEBHOOK_TIMESTAMP",
    "Answer",
    "FormsConfigError",
    "FormsSettings",
    "IntakeConfig",
    "IntakeForm",
    "IntakePatient",
    "forms_app",
    "intake_intents",
    "intake_key",
    "secret_key",
    "serve_forms",
    "sign",
]
