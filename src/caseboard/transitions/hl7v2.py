"""Reading HL7 v2 ADT messages and writing their acknowledgements.

Parsing is python-hl7's; this module only knows which fields of HL7 v2.3–2.8 carry what an
admission or discharge alert needs (HL7 v2.5.1 chapter 3, Patient Administration), and how an
original-mode acknowledgement is written (chapter 2, §2.9.2).
"""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import hl7
from django.utils import timezone

SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8")
SUPPORTED_TRIGGERS = frozenset(
    {"A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A12", "A13", "A40"}
)
RECEIVING_APPLICATION = "CASEBOARD"
SEGMENT_SPLIT = re.compile(r"\r\n|\r|\n")

# HL7 table 0357, message error condition codes.
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD_MISSING = "101"
ERR_DATA_TYPE = "102"
ERR_UNSUPPORTED_MESSAGE_TYPE = "200"
ERR_UNSUPPORTED_EVENT = "201"
ERR_UNSUPPORTED_VERSION = "203"
ERR_APPLICATION_INTERNAL = "207"


class MessageProblem(Exception):
    """Why a message cannot be accepted: the ACK code (AE malformed, AR unsupported), the
    table 0357 error code and a reason in words for MSA-3."""

    def __init__(self, ack_code: str, error_code: str, reason: str, location: str = "") -> None:
        super().__init__(reason)
        self.ack_code = ack_code
        self.error_code = error_code
        self.reason = reason
        self.location = location


@dataclass(frozen=True)
class Header:
    field_separator: str
    encoding_characters: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    message_type: str
    trigger_event: str
    control_id: str
    processing_id: str
    version: str


@dataclass(frozen=True)
class Identifier:
    value: str
    assigning_authority: str
    type_code: str


@dataclass(frozen=True)
class Diagnosis:
    code: str
    text: str
    system: str

    def as_record(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text, "system": self.system}


@dataclass(frozen=True)
class AdtMessage:
    header: Header
    event_at: datetime.datetime | None
    identifiers: list[Identifier]
    given_name: str
    family_name: str
    birth_date: datetime.date | None
    sex: str
    address: str
    city: str
    state: str
    postal_code: str
    phone: str
    patient_class: str
    location: str
    facility: str
    visit_number: str
    discharge_disposition: str
    admitted_at: datetime.datetime | None
    discharged_at: datetime.datetime | None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    # A40: the identifiers the surviving patient absorbs (MRG-1).
    merged_identifiers: list[Identifier] = field(default_factory=list)


def normalize(raw: str) -> str:
    """Segments separated by CR as the standard has it, whatever line ends the file used."""
    lines = [line for line in SEGMENT_SPLIT.split(raw.strip("\x0b\x1c\r\n ")) if line.strip()]
    return "\r".join(lines)


class _Fields:
    """A parsed message's fields by segment and position. Each kind of segment is found once
    (python-hl7's string accessor scans every segment again for each field it reads); the
    reading itself is python-hl7's, with its rules for missing repetitions and components."""

    def __init__(self, message: Any) -> None:
        self.segments: dict[str, list[Any]] = {}
        for segment in message:
            name = segment[0][0]
            if isinstance(name, str):  # a name with delimiters in it names no segment
                self.segments.setdefault(name, []).append(segment)

    def has(self, segment_id: str) -> bool:
        return segment_id in self.segments

    def all(self, segment_id: str) -> list[Any]:
        return self.segments.get(segment_id, [])

    def value(self, segment_id: str, field: int, repeat: int = 1, component: int = 1) -> str:
        """One component, stripped; empty when the message does not carry it."""
        found = self.segments.get(segment_id)
        if not found:
            return ""
        try:
            return str(found[0].extract_field(1, field, repeat, component)).strip()
        except (IndexError, ValueError):
            return ""

    def text(self, segment_id: str, field: int) -> str:
        """A whole field with its components and repetitions, as sent."""
        found = self.segments.get(segment_id)
        if not found:
            return ""
        return _segment_field(found[0], field)


def parse_timestamp(text: str, zone: datetime.tzinfo | None = None) -> datetime.datetime | None:
    """An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]); without an offset, the receiving
    site's zone."""
    text = text.strip()
    if not text:
        return None
    found = re.fullmatch(
        r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?", text
    )
    if not found:
        raise MessageProblem("AE", ERR_DATA_TYPE, f"{text!r} is not an HL7 date and time.")
    year, month, day, hour, minute, second, offset = found.groups()
    try:
        naive = datetime.datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        raise MessageProblem("AE", ERR_DATA_TYPE, f"{text!r} is not a real date.") from None
    if offset:
        sign = 1 if offset[0] == "+" else -1
        delta = datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        return naive.replace(tzinfo=datetime.timezone(sign * delta))
    return timezone.make_aware(naive, zone or timezone.get_default_timezone())


def _date(text: str) -> datetime.date | None:
    stamp = parse_timestamp(text[:8]) if text else None
    return stamp.date() if stamp else None


def _check_delimiters(text: str) -> None:
    """MSH-1 and MSH-2 name the message's delimiters (HL7 v2.5.1 §2.5.4 and §2.14.9.1–2): the
    field separator, then the component, repetition, escape and subcomponent characters (and
    from v2.7 a truncation character). They must be distinct, and neither letters, digits nor
    white space, or no field of the message can be told from another."""
    separator = text[3]
    end = text.find(separator, 4)
    encoding = text[4:end] if end != -1 else ""
    # Missing ones take their defaults, as the parser does.
    given = separator + encoding
    delimiters = given + "".join(d for d in "^~\\&"[len(encoding) :] if len(encoding) < 4)
    if (
        not 1 <= len(encoding) <= 5
        or len(set(delimiters)) != len(delimiters)
        or any(c.isalnum() or c.isspace() or not c.isprintable() for c in given)
    ):
        raise MessageProblem(
            "AE",
            ERR_DATA_TYPE,
            f"MSH-1/MSH-2 ({given[:6]!r}) are not a usable set of delimiters.",
            "MSH^1^2",
        )


def parse_header(text: str) -> tuple[_Fields, Header]:
    """The parsed message and its MSH, or MessageProblem (AE) when it cannot be read."""
    if not text.startswith("MSH") or len(text) < 8:
        raise MessageProblem("AE", ERR_SEGMENT_SEQUENCE, "The message does not begin with MSH.")
    _check_delimiters(text)
    try:
        message = hl7.parse(text)
    except Exception as error:  # any failure of the parser on what a sender wrote is an AE
        raise MessageProblem("AE", ERR_SEGMENT_SEQUENCE, f"Unreadable message: {error}") from None
    fields = _Fields(message)
    header = Header(
        field_separator=text[3],
        encoding_characters=fields.text("MSH", 2),
        sending_application=fields.value("MSH", 3),
        sending_facility=fields.value("MSH", 4),
        receiving_application=fields.value("MSH", 5),
        receiving_facility=fields.value("MSH", 6),
        message_type=fields.value("MSH", 9),
        trigger_event=fields.value("MSH", 9, 1, 2),
        control_id=fields.value("MSH", 10),
        processing_id=fields.value("MSH", 11),
        version=fields.value("MSH", 12),
    )
    return fields, header


def check_supported(header: Header) -> None:
    if not header.control_id:
        raise MessageProblem(
            "AE", ERR_REQUIRED_FIELD_MISSING, "MSH-10 (message control ID) is empty.", "MSH^1^10"
        )
    if not header.message_type:
        raise MessageProblem(
            "AE", ERR_REQUIRED_FIELD_MISSING, "MSH-9 (message type) is empty.", "MSH^1^9"
        )
    if header.message_type != "ADT":
        raise MessageProblem(
            "AR",
            ERR_UNSUPPORTED_MESSAGE_TYPE,
            f"Message type {header.message_type} is not accepted here; only ADT.",
            "MSH^1^9",
        )
    if header.trigger_event not in SUPPORTED_TRIGGERS:
        raise MessageProblem(
            "AR",
            ERR_UNSUPPORTED_EVENT,
            f"Event {header.trigger_event or '(none)'} is not supported.",
            "MSH^1^9",
        )
    if header.version not in SUPPORTED_VERSIONS:
        raise MessageProblem(
            "AR",
            ERR_UNSUPPORTED_VERSION,
            f"HL7 version {header.version or '(none)'} is not supported; 2.3 to 2.8 are.",
            "MSH^1^12",
        )


def _identifiers(fields: _Fields, segment: str, field_number: int) -> list[Identifier]:
    text = fields.text(segment, field_number)
    if not text:
        return []
    # Repetitions by the repetition separator (MSH-2's second character).
    result = []
    for repetition in text.split("~"):
        parts = repetition.split("^")
        value = parts[0].strip()
        authority = parts[3].split("&")[0].strip() if len(parts) > 3 else ""
        type_code = parts[4].strip() if len(parts) > 4 else ""
        if value:
            result.append(
                Identifier(value=value, assigning_authority=authority, type_code=type_code)
            )
    return result


def _segment_field(segment: Any, field_number: int) -> str:
    """A field of one segment; empty when the segment stops before it."""
    try:
        return str(segment(field_number))
    except IndexError:
        return ""


def _diagnoses(fields: _Fields) -> list[Diagnosis]:
    found = []
    for segment in fields.all("DG1"):
        coded = _segment_field(segment, 3).split("^")
        code = coded[0].strip()
        text = (coded[1].strip() if len(coded) > 1 else "") or _segment_field(segment, 4).strip()
        system = coded[2].strip() if len(coded) > 2 else ""
        if code or text:
            found.append(Diagnosis(code=code, text=text, system=system))
    return found


def read_adt(text: str) -> tuple[Header, AdtMessage]:
    """The fields of an ADT message this product uses; MessageProblem when it cannot be
    accepted (AE malformed, AR unsupported)."""
    fields, header = parse_header(text)
    check_supported(header)
    if not fields.has("PID"):
        raise MessageProblem("AE", ERR_SEGMENT_SEQUENCE, "The message has no PID segment.", "PID")
    identifiers = _identifiers(fields, "PID", 3)
    if not identifiers:
        raise MessageProblem(
            "AE", ERR_REQUIRED_FIELD_MISSING, "PID-3 (patient identifier) is empty.", "PID^1^3"
        )
    location_parts = fields.text("PV1", 3).split("^")
    facility = (
        location_parts[3].strip() if len(location_parts) > 3 else ""
    ) or header.sending_facility
    merged = _identifiers(fields, "MRG", 1) if header.trigger_event == "A40" else []
    adt = AdtMessage(
        header=header,
        event_at=parse_timestamp(fields.value("EVN", 2)),
        identifiers=identifiers,
        family_name=fields.value("PID", 5),
        given_name=fields.value("PID", 5, 1, 2),
        birth_date=_date(fields.value("PID", 7)),
        sex={"F": "female", "M": "male"}.get(fields.value("PID", 8), ""),
        address=fields.value("PID", 11),
        city=fields.value("PID", 11, 1, 3),
        state=fields.value("PID", 11, 1, 4),
        postal_code=fields.value("PID", 11, 1, 5),
        phone=fields.value("PID", 13),
        patient_class=fields.value("PV1", 2)[:1],
        location="^".join(p for p in location_parts[:3] if p.strip()),
        facility=facility,
        visit_number=fields.value("PV1", 19),
        discharge_disposition=fields.value("PV1", 36),
        admitted_at=parse_timestamp(fields.value("PV1", 44)),
        discharged_at=parse_timestamp(fields.value("PV1", 45)),
        diagnoses=_diagnoses(fields),
        merged_identifiers=merged,
    )
    if header.trigger_event == "A40" and not merged:
        raise MessageProblem(
            "AE", ERR_REQUIRED_FIELD_MISSING, "A40 without MRG-1 (prior identifier).", "MRG^1^1"
        )
    return header, adt


def _escape(text: str) -> str:
    """Free text placed in a field (HL7 v2.5.1 §2.7.4 escape sequences)."""
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def build_ack(
    header: Header | None,
    ack_code: str,
    *,
    reason: str = "",
    error_code: str = "",
    location: str = "",
) -> str:
    """An original-mode ACK (HL7 v2.5.1 §2.9.2): MSH, MSA with MSA-3 text, and for an error an
    ERR segment — ERR-3/ERR-4 from v2.5 on, ERR-1 before (the field changed in 2.5)."""
    version = header.version if header and header.version in SUPPORTED_VERSIONS else "2.5.1"
    now = timezone.localtime().strftime("%Y%m%d%H%M%S%z")
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            RECEIVING_APPLICATION,
            _escape(header.receiving_facility) if header else "",
            _escape(header.sending_application) if header else "",
            _escape(header.sending_facility) if header else "",
            now,
            "",
            f"ACK^{header.trigger_event if header else ''}^ACK",
            uuid.uuid4().hex[:20].upper(),
            (header.processing_id if header else "") or "P",
            version,
        ]
    )
    msa = f"MSA|{ack_code}|{_escape(header.control_id) if header else ''}"
    if reason:
        msa += f"|{_escape(reason)}"
    segments = [msh, msa]
    if ack_code != "AA":
        code = error_code or ERR_APPLICATION_INTERNAL
        if version.startswith(("2.3", "2.4")):
            where = ([*location.split("^"), "", "", ""])[:3]
            segments.append(f"ERR|{'^'.join(where)}^{code}&{_escape(reason)}&HL70357")
        else:
            segments.append(f"ERR||{location}|{code}^{_escape(reason)}^HL70357|E")
    return "\r".join(segments) + "\r"


def ack_code_of(ack: str) -> str:
    for segment in SEGMENT_SPLIT.split(ack):
        if segment.startswith("MSA|"):
            return segment.split("|")[1]
    return ""


def split_messages(text: str) -> list[str]:
    """Messages of a file: segments separated by CR or LF, messages by blank lines or by the
    next MSH."""
    messages: list[list[str]] = []
    blank = True
    for line in SEGMENT_SPLIT.split(text.replace("\x0b", "").replace("\x1c", "")):
        if not line.strip():
            blank = True
            continue
        if line.startswith("MSH") or blank or not messages:
            messages.append([])
        blank = False
        messages[-1].append(line)
    return ["\r".join(m) for m in messages if m]
