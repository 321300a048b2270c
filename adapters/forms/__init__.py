"""The online-forms webhook adapter: a signed patient-intake form becomes a ``patient.create`` and
a ``commlog.create`` intent, published with confirms as the configured vendor (``hub forms``)."""

from adapters.forms.app import INTAKE_PATH, IntakeConfig, forms_app
from adapters.forms.model import Answer, IntakeForm, IntakePatient
from adapters.forms.server import serve_forms
from adapters.forms.settings import FormsConfigError, FormsSettings
from adapters.forms.signature import SIGNATURE_HEADER, signature, signature_matches
from adapters.forms.translate import intake_intents, intake_key

__all__ = [
    "INTAKE_PATH",
    "SIGNATURE_HEADER",
    "Answer",
    "FormsConfigError",
    "FormsSettings",
    "IntakeConfig",
    "IntakeForm",
    "IntakePatient",
    "forms_app",
    "intake_intents",
    "intake_key",
    "serve_forms",
    "signature",
    "signature_matches",
]
