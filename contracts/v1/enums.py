"""Open Dental enumerations, by the names the API sends (numbers: opendental-schema 25.4)."""

from __future__ import annotations

from typing import Literal

Gender = Literal["Male", "Female", "Unknown", "Other"]
PatStatus = Literal["Patient", "NonPatient", "Inactive", "Archived", "Deceased", "Prospective"]
Position = Literal["Single", "Married", "Child", "Widowed", "Divorced"]
ContactMethod = Literal[
    "None",
    "DoNotCall",
    "HmPhone",
    "WkPhone",
    "WirelessPh",
    "Email",
    "SeeNotes",
    "Mail",
    "TextMessage",
]
YesNoUnknown = Literal["Unknown", "Yes", "No"]
AptStatus = Literal["Scheduled", "Complete", "UnschedList", "PtNote", "PtNoteCompleted"]
Priority = Literal["Normal", "ASAP"]
ConfirmVal = Literal["None", "Sent", "Confirmed", "Not Accepted", "Failed"]
BreakType = Literal["Missed", "Cancelled"]
CommMode = Literal[
    "None", "Email", "Mail", "Phone", "InPerson", "Text", "EmailAndText", "PhoneAndText"
]
SentOrReceived = Literal["Neither", "Sent", "Received"]
ImgType = Literal["Document", "Radiograph", "Photo", "File", "Attachment"]
ProbStatus = Literal["Active", "Resolved", "Inactive"]
