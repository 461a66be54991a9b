"""A practice's patient roster as CSV: parsed and checked row by row before anything is saved.

Every problem is reported with its row, field and reason; the import action decides whether
any bad row stops the whole file (the default) or only itself.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

import holidays
import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum import luhn

from caseboard.patients.models import Sex

MAX_BYTES = 10 * 1024 * 1024
REQUIRED_COLUMNS = ("mrn", "first_name", "last_name", "birth_date")
OPTIONAL_COLUMNS = (
    "sex",
    "address",
    "city",
    "state",
    "postal_code",
    "phone",
    "email",
    "primary_language",
    "pcp_npi",
    "last_seen_on",
    "member_id",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
EARLIEST_BIRTH = datetime.date(1900, 1, 1)
SEX_VALUES = {
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "other": Sex.OTHER,
    "o": Sex.OTHER,
    "unknown": Sex.UNKNOWN,
    "u": Sex.UNKNOWN,
}
IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
POSTAL_CODE_PATTERN = re.compile(r"^\d{5}(-\d{4})?$")
US_STATES = frozenset(holidays.US.subdivisions)


@dataclass(frozen=True)
class RosterError:
    row: int  # the line in the file, counting the header as line 1
    field: str
    value: str
    reason: str

    def as_record(self) -> dict[str, object]:
        """For storage: NUL cannot be kept in PostgreSQL text or JSON, so it is shown as \\0."""
        return {
            "row": self.row,
            "field": self.field.replace("\x00", "\\0"),
            "value": self.value.replace("\x00", "\\0"),
            "reason": self.reason,
        }

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, {self.field}: {self.reason}"


@dataclass
class RosterRow:
    row: int
    mrn: str
    first_name: str
    last_name: str
    birth_date: datetime.date
    sex: str = Sex.UNKNOWN
    address: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    email: str = ""
    primary_language: str = ""
    pcp_npi: str = ""
    last_seen_on: datetime.date | None = None
    member_id: str = ""
    raw: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedRoster:
    rows: list[RosterRow]
    errors: list[RosterError]
    rows_total: int

    @property
    def bad_rows(self) -> set[int]:
        return {e.row for e in self.errors}


def is_valid_npi(npi: str) -> bool:
    """CMS: the 10th digit is a Luhn check digit over the prefix 80840 and the first nine."""
    return len(npi) == 10 and npi.isdigit() and luhn.is_valid("80840" + npi)


def _date(text: str) -> datetime.date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


class _RowChecker:
    def __init__(self, line: int, raw: dict[str, str], today: datetime.date) -> None:
        self.line = line
        self.raw = raw
        self.today = today
        self.errors: list[RosterError] = []

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(RosterError(self.line, name, self.raw.get(name, ""), reason))

    def text(self, name: str, max_length: int, *, required: bool = False) -> str:
        value = self.raw.get(name, "").strip()
        if "\x00" in value:
            self.fail(name, "contains a NUL character (is this really a text CSV file?)")
            return ""
        if required and not value:
            self.fail(name, "is required")
        elif len(value) > max_length:
            self.fail(name, f"is longer than {max_length} characters")
        return value

    def identifier(self, name: str, *, required: bool = False) -> str:
        value = self.text(name, 64, required=required)
        if value and not IDENTIFIER_PATTERN.match(value):
            self.fail(name, "may hold only letters, digits, '.', '_' and '-'")
        return value

    def day(self, name: str, *, required: bool = False) -> datetime.date | None:
        value = self.text(name, 10, required=required)
        if not value:
            return None
        parsed = _date(value)
        if parsed is None:
            self.fail(name, f"'{value}' is not a date (use YYYY-MM-DD or MM/DD/YYYY)")
        elif parsed > self.today:
            self.fail(name, f"{parsed.isoformat()} is in the future")
        return parsed

    def check(self) -> RosterRow | None:
        mrn = self.identifier("mrn", required=True)
        first = self.text("first_name", 100, required=True)
        last = self.text("last_name", 100, required=True)
        born = self.day("birth_date", required=True)
        if born is not None and born < EARLIEST_BIRTH:
            self.fail("birth_date", f"{born.isoformat()} is before {EARLIEST_BIRTH.isoformat()}")
        sex_text = self.text("sex", 16).lower()
        sex = SEX_VALUES.get(sex_text, Sex.UNKNOWN)
        if sex_text and sex_text not in SEX_VALUES:
            self.fail("sex", "must be female, male, other or unknown (or F, M, O, U)")
        state = self.text("state", 2).upper()
        if state and state not in US_STATES:
            self.fail("state", f"'{state}' is not a US state or territory code")
        postal = self.text("postal_code", 10)
        if postal and not POSTAL_CODE_PATTERN.match(postal):
            self.fail("postal_code", "must be a ZIP code of 5 digits or ZIP+4 (12345-6789)")
        phone = self._phone()
        email = self.text("email", 254)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.fail("email", f"'{email}' is not an e-mail address")
        npi = self.text("pcp_npi", 10)
        if npi and not is_valid_npi(npi):
            self.fail("pcp_npi", f"'{npi}' is not a valid NPI (10 digits with a check digit)")
        seen = self.day("last_seen_on")
        if seen is not None and born is not None and seen < born:
            self.fail("last_seen_on", "is before the date of birth")
        member_id = self.identifier("member_id")
        if self.errors or born is None:
            return None
        return RosterRow(
            row=self.line,
            mrn=mrn,
            first_name=first,
            last_name=last,
            birth_date=born,
            sex=sex,
            address=self.text("address", 200),
            city=self.text("city", 100),
            state=state,
            postal_code=postal,
            phone=phone,
            email=email,
            primary_language=self.text("primary_language", 64),
            pcp_npi=npi,
            last_seen_on=seen,
            member_id=member_id,
            raw=self.raw,
        )

    def _phone(self) -> str:
        value = self.text("phone", 32)
        if not value:
            return ""
        try:
            number = phonenumbers.parse(value, "US")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            self.fail("phone", f"'{value}' is not a valid telephone number")
            return ""
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def parse_roster(data: bytes, today: datetime.date) -> ParsedRoster:
    if len(data) > MAX_BYTES:
        return _file_error("file", f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _file_error("file", f"is not UTF-8 text (byte {exc.start} cannot be read)")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        return _file_error("header", "the file is empty; the first line must name the columns")
    errors = [
        RosterError(1, name, "", "required column is missing")
        for name in REQUIRED_COLUMNS
        if name not in header
    ]
    errors += [
        RosterError(1, name, name, f"unknown column; expected some of: {', '.join(COLUMNS)}")
        for name in header
        if name not in COLUMNS
    ]
    duplicated = {name for name in header if header.count(name) > 1}
    errors += [RosterError(1, n, n, "column appears more than once") for n in sorted(duplicated)]
    if errors:
        return ParsedRoster(rows=[], errors=errors, rows_total=0)
    reader.fieldnames = header
    rows: list[RosterRow] = []
    first_line_of_mrn: dict[str, int] = {}
    total = 0
    try:
        for record in reader:
            total += 1
            line = reader.line_num
            if None in record:
                errors.append(RosterError(line, "row", "", "has more values than the header"))
                continue
            raw = {k: (v or "") for k, v in record.items()}
            checker = _RowChecker(line, raw, today)
            checked = checker.check()
            errors += checker.errors
            if checked is None:
                continue
            if checked.mrn in first_line_of_mrn:
                errors.append(
                    RosterError(
                        line,
                        "mrn",
                        checked.mrn,
                        f"repeats the MRN of row {first_line_of_mrn[checked.mrn]}",
                    )
                )
                continue
            first_line_of_mrn[checked.mrn] = line
            rows.append(checked)
    except csv.Error as exc:
        errors.append(RosterError(reader.line_num, "file", "", f"is not valid CSV: {exc}"))
    if total == 0 and not errors:
        errors.append(RosterError(0, "file", "", "has a header but no patients"))
    return ParsedRoster(rows=rows, errors=errors, rows_total=total)


def _file_error(name: str, reason: str) -> ParsedRoster:
    return ParsedRoster(rows=[], errors=[RosterError(0, name, "", reason)], rows_total=0)


def errors_as_csv(errors: list[RosterError]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "field", "value", "reason"])
    for e in errors:
        writer.writerow([e.row, e.field, e.value, e.reason])
    return out.getvalue()
