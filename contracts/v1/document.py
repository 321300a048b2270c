"""document.upload, version 1: Open Dental's Documents POST Upload (opendental-api.md §4.6)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import FileExtension, Key, OdDateTime, RawBase64, Text255
from contracts.v1 import enums
from contracts.v1.subjects import NamesPatient


class DocumentUpload(NamesPatient):
    """A file filed in a patient's images module: a signed form, a scan, a photo."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/documents/Upload", table="document")

    rawBase64: RawBase64 = Field(
        description="The file's bytes in standard base64 with padding, on one line. Open "
        "Dental takes a body of up to 16.8 million characters; the file's base64 may use all "
        "of it but 4,096 (16,773,120 characters, a file of about 12.5 MB)."
    )
    extension: FileExtension = Field(description="The file's extension with its dot, e.g. .pdf.")
    Description: Text255 | None = Field(
        default=None, description="What the office sees in the images module's tree."
    )
    DateCreated: OdDateTime | None = Field(
        default=None,
        description="Office local time, a date and a time: Open Dental refuses a bare date. "
        "Default now.",
    )
    DocCategory: Key | None = Field(
        default=None,
        description="An image category definition (DefNum, Category 18); default the first.",
    )
    ImgType: enums.ImgType | None = Field(default=None, description="Default Document.")


class DocumentUploadIntent(Intent):
    """File a document in a patient's chart in the office's Open Dental."""

    contract: Literal["document.upload"]
    version: Literal[1]
    payload: DocumentUpload
