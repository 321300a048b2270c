"""Annotated field types shared by every contract: the hub's envelope formats and Open Dental's.

Each rule is a JSON-Schema-expressible constraint (pattern, length, bounds) wherever one exists,
so the generated schema checks what the models check. Patterns avoid look-arounds (pydantic's
Rust regex engine has none) and ``\\d`` (Unicode digits in Rust and Python): only ``[0-9]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError


@dataclass(frozen=True, kw_only=True)
class Shape:
    """A string pattern with the rule code it reports and what it means, in words."""

    pattern: str
    rule: str
    means: str


# Years 1000-9999: the range a MySQL DATE holds. Open Dental's "0001-01-01" means "none", so a
# vendor leaves the field out instead.
_YEAR = "[1-9][0-9]{3}"
# Divisible by 4 but not by 100, or a century divisible by 400.
_LEAP_YEAR = "(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_PHONE_PUNCT = r"[()\-.+ ]"

NOT_BLANK = Shape(pattern=r"\S", rule="pattern", means="must not be blank")
OD_DATE = Shape(
    pattern=f"^{_DATE}$",
    rule="date_format",
    means="must be a real calendar date written yyyy-MM-dd (years 1000 to 9999)",
)
OD_DATETIME = Shape(
    pattern=f"^{_DATE} {_TIME}$",
    rule="datetime_format",
    means="must be a real date and time written yyyy-MM-dd HH:mm:ss (office local time)",
)
RFC3339 = Shape(
    pattern=f"^{_DATE}T{_TIME}(?:\\.[0-9]{{1,6}})?{_OFFSET}$",
    rule="datetime_format",
    means="must be an RFC 3339 date-time with an offset, e.g. 2024-11-05T14:00:00+01:00",
)
PRINTABLE = Shape(
    pattern="^[ -~]*[!-~][ -~]*$",
    rule="pattern",
    means="must be printable ASCII characters and not only spaces",
)
PRINTABLE_OR_SPACE = Shape(pattern="^[ -~]*$", rule="pattern", means="must be printable ASCII")
OFFICE = Shape(
    pattern="^[a-z0-9][a-z0-9-]{0,62}$",
    rule="pattern",
    means="must be 1 to 63 lowercase letters, digits or hyphens, not starting with a hyphen",
)
SSN = Shape(pattern="^[0-9]{9}$", rule="pattern", means="must be 9 digits without dashes")
STATE = Shape(pattern="^[A-Z]{2}$", rule="pattern", means="must be two capital letters")
ZIP = Shape(
    pattern="^(?:[0-9]{5}(?:-[0-9]{4})?|[0-9]{9}|[A-Z][0-9][A-Z] [0-9][A-Z][0-9])$",
    rule="pattern",
    means="must be 12345, 12345-1234, 123456789 or a Canadian postal code A0A 0A0",
)
PHONE = Shape(
    pattern=f"^(?:{_PHONE_PUNCT}*[0-9]){{7}}(?:{_PHONE_PUNCT}|[0-9])*$",
    rule="pattern",
    means="must be digits with ( ) - . + or spaces, and at least 7 digits",
)
EMAIL = Shape(
    pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    rule="pattern",
    means="must look like an e-mail address (name@domain.tld)",
)
LANGUAGE = Shape(
    pattern="^[a-z]{3}$",
    rule="pattern",
    means="must be an ISO 639-2 code of three lowercase letters",
)
APPOINTMENT_PATTERN = Shape(
    pattern="^[X/]{1,108}$",
    rule="pattern",
    means="must be 1 to 108 of X or /, one per 5 minutes (at most 9 hours)",
)

# Standard base64 (RFC 4648 section 4), padded, without line breaks or spaces: the one spelling of
# a file's bytes, so the same file always travels as the same text.
BASE64 = Shape(
    pattern="^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    rule="pattern",
    means="must be standard base64 with its padding, without line breaks or spaces",
)
FILE_EXTENSION = Shape(
    pattern="^\\.[A-Za-z0-9]{1,10}$",
    rule="pattern",
    means="must be a dot and 1 to 10 letters or digits, e.g. .pdf",
)

SHAPES: tuple[Shape, ...] = (
    NOT_BLANK,
    OD_DATE,
    OD_DATETIME,
    RFC3339,
    PRINTABLE,
    PRINTABLE_OR_SPACE,
    OFFICE,
    SSN,
    STATE,
    ZIP,
    PHONE,
    EMAIL,
    LANGUAGE,
    APPOINTMENT_PATTERN,
    BASE64,
    FILE_EXTENSION,
)


def shape_of(pattern: str) -> Shape | None:
    """The shape whose pattern this is, to turn a pattern mismatch into its rule and words."""
    return next((shape for shape in SHAPES if shape.pattern == pattern), None)


def _text(shape: Shape, *, min_length: int | None = None, max_length: int) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=shape.pattern)


def _two_decimal_places(amount: float) -> float:
    # JSON Schema's multipleOf 0.01 misjudges binary floats (19.99 fails it), so this rule lives
    # here only; the shortest repr is what the vendor wrote.
    exponent = Decimal(repr(amount)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise PydanticCustomError(
            "decimal_places",
            "must have at most {decimal_places} decimal places",
            {"decimal_places": 2},
        )
    return amount


MAX_BIGINT = 2**63 - 1
"""Open Dental keys are bigint(20)."""

# --- the hub's envelope -------------------------------------------------------------------
IdempotencyKey = Annotated[str, _text(PRINTABLE, min_length=1, max_length=128)]
CorrelationId = Annotated[str, _text(PRINTABLE_OR_SPACE, min_length=1, max_length=128)]
OfficeId = Annotated[str, StringConstraints(pattern=OFFICE.pattern)]
Rfc3339DateTime = Annotated[str, StringConstraints(pattern=RFC3339.pattern)]
VendorRef = Annotated[str, _text(PRINTABLE, min_length=1, max_length=64)]

# --- Open Dental's formats ----------------------------------------------------------------
Key = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
"""A primary key (PatNum, AptNum, DefNum...): 1 or more."""
KeyOrZero = Annotated[int, Field(ge=0, le=MAX_BIGINT)]
"""A foreign key where 0 means "none" or "the default" (ClinicNum, ProvNum...)."""
OdDate = Annotated[str, StringConstraints(pattern=OD_DATE.pattern)]
OdDateTime = Annotated[str, StringConstraints(pattern=OD_DATETIME.pattern)]
OdBool = Literal["true", "false"]
Name = Annotated[str, _text(NOT_BLANK, min_length=1, max_length=100)]
DefinitionName = Annotated[str, _text(NOT_BLANK, min_length=1, max_length=255)]
Ssn = Annotated[str, StringConstraints(pattern=SSN.pattern)]
StateCode = Annotated[str, StringConstraints(pattern=STATE.pattern)]
ZipCode = Annotated[str, StringConstraints(pattern=ZIP.pattern)]
Phone = Annotated[str, _text(PHONE, max_length=30)]
EmailAddress = Annotated[str, _text(EMAIL, max_length=100)]
LanguageCode = Annotated[str, StringConstraints(pattern=LANGUAGE.pattern)]
AppointmentPattern = Annotated[str, StringConstraints(pattern=APPOINTMENT_PATTERN.pattern)]
Amount = Annotated[float, Field(gt=0, le=1_000_000), AfterValidator(_two_decimal_places)]
Text15 = Annotated[str, StringConstraints(max_length=15)]
Text25 = Annotated[str, StringConstraints(max_length=25)]
Text100 = Annotated[str, StringConstraints(max_length=100)]
Text4000 = Annotated[str, StringConstraints(max_length=4000)]
CommlogNote = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]

# Open Dental takes a request body of up to 16.8 million characters (opendental-api.md §1,
# "Body"): 2**24 = 16,777,216 rounds to that figure, and is the stricter reading. The file's
# base64 leaves 4,096 of them to the other fields of the Upload body (a 255-character
# Description written as JSON escapes of surrogate pairs is 3,060), and is a multiple of 4.
OD_BODY_MAX_CHARS = 2**24
RAW_BASE64_MAX_CHARS = OD_BODY_MAX_CHARS - 4096
RawBase64 = Annotated[
    str, _text(BASE64, min_length=4, max_length=RAW_BASE64_MAX_CHARS)
]
FileExtension = Annotated[str, StringConstraints(pattern=FILE_EXTENSION.pattern)]
Text255 = Annotated[str, StringConstraints(max_length=255)]
PatFieldValue = Annotated[str, _text(NOT_BLANK, min_length=1, max_length=4000)]
