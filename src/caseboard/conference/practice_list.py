"""A practice's high-risk list as CSV, checked row by row before anything is saved.

Seed 004 step 2: the practice sends the plan its list. Practices know their patients by MRN;
the plan's member ID or the state Medicaid ID help when the practice has them. Problems are
reported with row, field and reason exactly as the roster import reports them.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field

from caseboard.patients.matching import PersonRecord
from caseboard.patients.models import IdentifierKind
from caseboard.patients.roster import (
    EARLIEST_BIRTH,
    MAX_BYTES,
    POSTAL_CODE_PATTERN,
    SEX_VALUES,
    RosterError,
)
from caseboard.patients.roster import _RowChecker as RosterRowChecker

REQUIRED_COLUMNS = ("first_name", "last_name", "birth_date")
COLUMNS = (
    "mrn",
    "member_id",
    "medicaid_id",
    "first_name",
    "last_name",
    "birth_date",
    "sex",
    "address",
    "city",
    "postal_code",
    "phone",
    "rank",
    "reason",
)
MAX_RANK = 10_000
MAX_REASON = 500
# Several reasons in one cell, as care managers write them: "CHF; 3 ED visits; lives alone".
REASON_SEPARATOR = ";"


@dataclass
class ListRow:
    row: int  # the line in the file, the header being line 1
    position: int  # the row's place among the file's patients, 1 = first
    first_name: str
    last_name: str
    birth_date: datetime.date
    mrn: str = ""
    member_id: str = ""
    medicaid_id: str = ""
    sex: str = ""
    address: str = ""
    city: str = ""
    postal_code: str = ""
    phone: str = ""
    rank: int | None = None
    reasons: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def wanted_rank(self) -> int:
        """The practice's rank when given, else the row's order in the file."""
        return self.rank if self.rank is not None else self.position

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def person(self, plan_id: int, practice_id: int) -> PersonRecord:
        """The row as the matcher sees it: the MRN is the practice's, the member ID the
        plan's; a Medicaid ID is the state's, whoever recorded it."""
        identifiers: list[tuple[str, str, int | None]] = []
        if self.mrn:
            identifiers.append((IdentifierKind.MRN, self.mrn, practice_id))
        if self.member_id:
            identifiers.append((IdentifierKind.MEMBER_ID, self.member_id, plan_id))
        if self.medicaid_id:
            identifiers.append((IdentifierKind.MEDICAID_ID, self.medicaid_id, None))
        return PersonRecord(
            given_name=self.first_name,
            family_name=self.last_name,
            birth_date=self.birth_date,
            identifiers=identifiers,
            sex=self.sex,
            address=self.address,
            city=self.city,
            postal_code=self.postal_code,
            phone=self.phone,
        )


@dataclass
class ParsedList:
    rows: list[ListRow]
    errors: list[RosterError]
    rows_total: int

    @property
    def bad_rows(self) -> set[int]:
        return {e.row for e in self.errors if e.row > 1}


class _ListRowChecker(RosterRowChecker):
    """The roster's field checks (text, identifiers, dates, phone), for the list's columns."""

    def check_list_row(self, position: int) -> ListRow | None:
        first = self.text("first_name", 100, required=True)
        last = self.text("last_name", 100, required=True)
        born = self.day("birth_date", required=True)
        if born is not None and born < EARLIEST_BIRTH:
            self.fail("birth_date", f"{born.isoformat()} is before {EARLIEST_BIRTH.isoformat()}")
        mrn = self.identifier("mrn")
        member_id = self.identifier("member_id")
        medicaid_id = self.identifier("medicaid_id")
        sex_text = self.text("sex", 16).lower()
        if sex_text and sex_text not in SEX_VALUES:
            self.fail("sex", "must be female, male, other or unknown (or F, M, O, U)")
        postal = self.text("postal_code", 10)
        if postal and not POSTAL_CODE_PATTERN.match(postal):
            self.fail("postal_code", "must be a ZIP code of 5 digits or ZIP+4 (12345-6789)")
        phone = self._phone()
        rank = self._rank()
        reason_text = self.text("reason", MAX_REASON)
        address = self.text("address", 200)
        city = self.text("city", 100)
        if self.errors or born is None:
            return None
        return ListRow(
            row=self.line,
            position=position,
            first_name=first,
            last_name=last,
            birth_date=born,
            mrn=mrn,
            member_id=member_id,
            medicaid_id=medicaid_id,
            sex=SEX_VALUES.get(sex_text, ""),
            address=address,
            city=city,
            postal_code=postal,
            phone=phone,
            rank=rank,
            reasons=[r.strip() for r in reason_text.split(REASON_SEPARATOR) if r.strip()],
            values={name: self.raw.get(name, "").strip() for name in COLUMNS},
        )

    def _rank(self) -> int | None:
        value = self.text("rank", 6)
        if not value:
            return None
        if not value.isdigit() or not 1 <= int(value) <= MAX_RANK:
            self.fail("rank", f"'{value}' is not a whole number from 1 to {MAX_RANK}")
            return None
        return int(value)


def _header_errors(header: list[str]) -> list[RosterError]:
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
    duplicated = sorted({name for name in header if header.count(name) > 1})
    errors += [RosterError(1, n, n, "column appears more than once") for n in duplicated]
    return errors


def _repeats(rows: list[ListRow]) -> list[RosterError]:
    """The same patient (by identifier) or the same rank twice in one file."""
    errors: list[RosterError] = []
    first_seen: dict[tuple[str, str], int] = {}
    for row in rows:
        keys = [("mrn", row.mrn), ("member_id", row.member_id), ("medicaid_id", row.medicaid_id)]
        keys.append(("rank", str(row.rank) if row.rank is not None else ""))
        for name, value in keys:
            if not value:
                continue
            earlier = first_seen.setdefault((name, value.casefold()), row.row)
            if earlier != row.row:
                what = "rank" if name == "rank" else name.replace("_", " ").replace("mrn", "MRN")
                errors.append(
                    RosterError(row.row, name, value, f"repeats the {what} of row {earlier}")
                )
    return errors


def parse_practice_list(data: bytes, today: datetime.date) -> ParsedList:
    if len(data) > MAX_BYTES:
        return _file_error(f"is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _file_error(f"is not UTF-8 text (byte {exc.start} cannot be read)")
    if not text.strip():
        return _file_error("is empty; the first line must name the columns")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return _file_error(f"is not valid CSV: {exc}")
    errors = _header_errors(header)
    if errors:
        return ParsedList(rows=[], errors=errors, rows_total=0)
    reader.fieldnames = header
    rows: list[ListRow] = []
    total = 0
    try:
        for record in reader:
            total += 1
            line = reader.line_num
            if None in record:
                errors.append(RosterError(line, "row", "", "has more values than the header"))
                continue
            checker = _ListRowChecker(line, {k: (v or "") for k, v in record.items()}, today)
            checked = checker.check_list_row(position=total)
            errors += checker.errors
            if checked is not None:
                rows.append(checked)
    except csv.Error as exc:
        errors.append(RosterError(reader.line_num, "file", "", f"is not valid CSV: {exc}"))
    repeated = _repeats(rows)
    errors += repeated
    repeated_rows = {e.row for e in repeated}
    rows = [r for r in rows if r.row not in repeated_rows]
    if total == 0 and not errors:
        errors.append(RosterError(0, "file", "", "has a header but no patients"))
    return ParsedList(rows=rows, errors=errors, rows_total=total)


def _file_error(reason: str) -> ParsedList:
    return ParsedList(rows=[], errors=[RosterError(0, "file", "", reason)], rows_total=0)
