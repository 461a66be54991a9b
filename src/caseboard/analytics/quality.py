"""Data-quality gate for the Tuva input layer: which rows the marts may read, and why not the rest.

`validate` takes the three input-layer tables as they arrived (any column types: text from a CSV,
typed columns from Parquet or a loader) and returns, per table, the accepted rows with every Tuva
column present and cast to its Tuva type, plus a `DataQualityReport` that names, for every
rejected row, the column, the value and the reason. A bad row never stops the good ones
(DESIGN.md §6): each check is a vectorised Polars expression over the whole table, and code-set
look-ups (ICD-10-CM validity, NPI check digits) run once per distinct code, not once per row; ten
million medical_claim lines read from text take well under a minute on two cores.

A rejected row gets the first rule it breaks, in the order the checks are listed below (unreadable
values, missing keys, impossible dates, negative amounts, code formats, eligibility, duplicates);
its `reject_column` and `reject_reason` say which.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import simple_icd_10_cm as icd10cm
from stdnum import luhn

from caseboard.analytics.input_layer import POLARS_TYPES, TABLES, TUVA_COLUMNS, TUVA_TYPES

ROW = "__row"
"""1-based position of a row in the table given to `validate` (the header is not counted)."""
_COVERED = "__covered"

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "eligibility": ("person_id", "enrollment_start_date", "enrollment_end_date"),
    "medical_claim": (
        "claim_id",
        "claim_line_number",
        "claim_type",
        "person_id",
        "claim_start_date",
        "claim_end_date",
    ),
    "pharmacy_claim": ("claim_id", "claim_line_number", "person_id", "dispensing_date"),
}
"""Columns a file must have and every row must fill; without them a row cannot be placed in time
or tied to a person, so a file lacking one is rejected whole."""

KEY_COLUMN = {"eligibility": "person_id", "medical_claim": "claim_id", "pharmacy_claim": "claim_id"}

CLAIM_TYPES = ("institutional", "professional", "dental", "vision")
DIAGNOSIS_CODE_TYPES = ("icd-10-cm", "icd-9-cm")
PROCEDURE_CODE_TYPES = ("icd-10-pcs", "icd-9-pcs")

# Code formats. HCPCS Level I (CPT: 4 digits and a digit or a letter such as F, T, U) and
# Level II (a letter and 4 digits); ICD-10-PCS has 7 characters from 0-9 and A-Z without I and O;
# bill type is UB-04 form locator 4 without its leading zero (facility type, classification,
# frequency).
_HCPCS = r"^(?:\d{4}[0-9A-Z]|[A-Z]\d{4})$"
_MODIFIER = r"^[0-9A-Z]{2}$"
_ICD9_CM = r"^(?:\d{3,5}|V\d{2,4}|E\d{3,4})$"
_ICD10_PCS = r"^[0-9A-HJ-NP-Z]{7}$"
_ICD9_PCS = r"^\d{2,4}$"
_NDC = r"^\d{11}$"
_BILL_TYPE = r"^[1-9]\d[0-9A-Z]$"
_REVENUE = r"^\d{4}$"
_POS = r"^\d{2}$"
_MS_DRG = r"^\d{3}$"
_NPI = r"^\d{10}$"

_EARLIEST = date(1900, 1, 1)
_INT32 = (-(2**31), 2**31 - 1)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%d",
)
_EXAMPLES = 50
_EXAMPLES_PER_REASON = 10

DIAGNOSIS_COLUMNS = tuple(f"diagnosis_code_{i}" for i in range(1, 26))
PROCEDURE_COLUMNS = tuple(f"procedure_code_{i}" for i in range(1, 26))
_MEDICAL_AMOUNTS = (
    "paid_amount",
    "allowed_amount",
    "charge_amount",
    "coinsurance_amount",
    "copayment_amount",
    "deductible_amount",
    "total_cost_amount",
)
_PHARMACY_AMOUNTS = _MEDICAL_AMOUNTS[:-1]


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------
@dataclass
class Rejection:
    """One rejected row, as shown in the report's examples."""

    row: int
    key: str | None
    column: str
    value: str | None
    reason: str


@dataclass
class TableReport:
    table: str
    rows_in: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    examples: list[Rejection] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """File-level problems: a missing table or a missing required column."""
    columns_filled_with_null: list[str] = field(default_factory=list)
    """Tuva columns the input did not have; they are present in the output, all null."""
    columns_ignored: list[str] = field(default_factory=list)
    """Input columns that are not Tuva input-layer columns; they are not carried over."""


@dataclass
class DataQualityReport:
    tables: dict[str, TableReport] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    """Free section for loaders: unmapped codes, inferred fields, missing source files."""
    rejected: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False, compare=False)
    """Per table, the rejected input rows with `input_row`, `reject_column`, `reject_reason`."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": {name: asdict(report) for name, report in self.tables.items()},
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    def write_rejections(self, out_dir: Path) -> list[Path]:
        """`rejected_<table>.parquet` per table: the input rows as given plus why they failed."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for table, frame in self.rejected.items():
            path = out_dir / f"rejected_{table}.parquet"
            frame.write_parquet(path)
            written.append(path)
        return written


# --------------------------------------------------------------------------------------------
# Code sets, looked up once per distinct code
# --------------------------------------------------------------------------------------------
def _is_icd10cm(code: str) -> bool:
    try:
        return bool(icd10cm.is_valid_item(code)) and not icd10cm.is_chapter_or_block(code)
    except (ValueError, KeyError, TypeError):
        return False


def _is_npi(value: str) -> bool:
    # NPI check digit: Luhn over the number prefixed with the card issuer prefix 80840.
    return re.fullmatch(_NPI, value) is not None and luhn.is_valid("80840" + value)


def _distinct_passing(values: pl.Series, rule: Callable[[str], bool]) -> pl.Series:
    distinct = values.drop_nulls().unique()
    return pl.Series(values.name, [v for v in distinct.to_list() if rule(v)], dtype=pl.String)


def valid_npi(values: pl.Series) -> pl.Series:
    """True where the value is a 10-digit NPI whose check digit is right (null stays null)."""
    ok = _distinct_passing(values.cast(pl.String), _is_npi)
    return values.cast(pl.String).is_in(ok.implode())


def valid_icd10cm(codes: pl.Series) -> pl.Series:
    """True where the code (dotted or not) is an ICD-10-CM code per simple_icd_10_cm."""
    text = codes.cast(pl.String).str.to_uppercase().str.replace_all(".", "", literal=True)
    ok = _distinct_passing(text, _is_icd10cm)
    return text.is_in(ok.implode())


# --------------------------------------------------------------------------------------------
# Reading any column as its Tuva type
# --------------------------------------------------------------------------------------------
def _text(name: str, dtype: pl.DataType) -> pl.Expr | None:
    """The column as trimmed text with blanks as null; None when it cannot be read as text."""
    if dtype == pl.Null:
        return pl.lit(None, dtype=pl.String)
    if dtype.is_nested() or dtype in (pl.Object, pl.Binary):
        return None
    col = pl.col(name)
    if dtype != pl.String:
        col = col.cast(pl.String, strict=False)
    col = col.str.strip_chars()
    return pl.when(col.str.len_bytes() > 0).then(col)


def _typed(name: str, dtype: pl.DataType, kind: str) -> pl.Expr:
    """Column `name` (of input type `dtype`) cast to Tuva type `kind`; null where it can't be."""
    text = _text(name, dtype)
    col = pl.col(name)
    nothing = pl.lit(None, dtype=POLARS_TYPES[kind])
    if kind == "varchar":
        return text if text is not None else nothing
    if kind == "date":
        if dtype == pl.Date:
            return col
        if isinstance(dtype, pl.Datetime):
            return col.dt.date()
        if text is None:
            return nothing
        return pl.coalesce(
            text.str.to_date("%Y-%m-%d", strict=False), text.str.to_date("%Y%m%d", strict=False)
        )
    if kind == "timestamp":
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            return col.cast(pl.Datetime("us"))
        if dtype == pl.Date:
            return col.cast(pl.Datetime("us"))
        if text is None:
            return nothing
        return pl.coalesce(
            *(text.str.to_datetime(fmt, strict=False, time_unit="us") for fmt in _TIMESTAMP_FORMATS)
        )
    if kind == "boolean":
        if dtype == pl.Boolean:
            return col
        if text is None:
            return nothing
        return text.str.to_lowercase().replace_strict(
            {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)},
            default=None,
            return_dtype=pl.Boolean,
        )
    if dtype.is_numeric():
        number = col.cast(pl.Float64, strict=False)
    elif text is None:
        return nothing
    else:
        number = text.cast(pl.Float64, strict=False)
    if kind == "integer":
        if dtype.is_integer():
            whole = col.cast(pl.Int64, strict=False)
            return pl.when(whole.is_between(*_INT32)).then(whole.cast(pl.Int32))
        return pl.when(
            number.is_finite() & (number == number.floor()) & number.is_between(*_INT32)
        ).then(number.cast(pl.Int32))
    return pl.when(number.is_finite()).then(number)


def _type_words(kind: str) -> str:
    return {
        "date": "is not a date (expected YYYY-MM-DD or YYYYMMDD)",
        "timestamp": "is not a timestamp (expected YYYY-MM-DD HH:MM:SS)",
        "boolean": "is not a true/false value",
        "integer": "is not a whole number",
        "number": "is not a number",
        "float": "is not a number",
    }[kind]


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Check:
    column: str
    rule: str
    failed: pl.Expr
    value: pl.Expr
    reason: pl.Expr | None = None
    """A full sentence; by default "<column> '<value>' <rule>"."""
    requires: tuple[str, ...] = ()
    """Columns that must hold some value for the check to be able to fail; a check whose
    columns are absent or empty in this file is not run (a column of nulls breaks no format)."""


def _show(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).fill_null("null")


def _missing(column: str) -> _Check:
    return _Check(
        column,
        "is missing",
        pl.col(column).is_null(),
        pl.lit(None, dtype=pl.String),
        pl.lit(f"{column} is missing"),
    )


def _before(later: str, earlier: str) -> _Check:
    return _Check(
        later,
        f"is before {earlier}",
        pl.col(later) < pl.col(earlier),
        pl.col(later),
        pl.format(
            "{} {} is before {} {}",
            pl.lit(later),
            _show(pl.col(later)),
            pl.lit(earlier),
            _show(pl.col(earlier)),
        ),
        requires=(later, earlier),
    )


def _simple(column: str, rule: str, failed: pl.Expr, *also: str) -> _Check:
    return _Check(column, rule, failed, pl.col(column), requires=(column, *also))


def _future(column: str, today: date) -> _Check:
    return _simple(column, "is in the future", pl.col(column) > pl.lit(today))


def _ancient(column: str) -> _Check:
    return _simple(column, f"is before {_EARLIEST.isoformat()}", pl.col(column) < _EARLIEST)


def _negative(column: str) -> _Check:
    return _simple(column, "is negative", pl.col(column) < 0)


def _pattern(column: str, regex: str, words: str, only_if: tuple[str, str] | None = None) -> _Check:
    """`column` must match `regex` (where `only_if` = (type column, value) holds, if given)."""
    bad = pl.col(column).is_not_null() & ~pl.col(column).str.contains(regex)
    if only_if is None:
        return _simple(column, words, bad)
    return _simple(column, words, bad & (pl.col(only_if[0]) == only_if[1]), only_if[0])


def _one_of(column: str, allowed: Iterable[str]) -> _Check:
    allowed = tuple(allowed)
    return _simple(
        column,
        f"is not one of {', '.join(allowed)}",
        pl.col(column).is_not_null() & ~pl.col(column).is_in(allowed),
    )


def _in_set(column: str, ok: pl.Series, words: str, only_if: tuple[str, str] | None) -> _Check:
    bad = pl.col(column).is_not_null() & ~pl.col(column).is_in(ok.implode())
    if only_if is None:
        return _simple(column, words, bad)
    return _simple(column, words, bad & (pl.col(only_if[0]) == only_if[1]), only_if[0])


def _codes_without_type(kind: str, columns: Iterable[str], filled: set[str]) -> list[_Check]:
    type_column = f"{kind}_code_type"
    codes = [c for c in columns if c in filled]
    if not codes:
        return []
    given = pl.any_horizontal(pl.col(c).is_not_null() for c in codes)
    typed = pl.col(type_column).is_null() if type_column in filled else pl.lit(True)
    sentence = f"{type_column} is missing although {kind} codes are given"
    return [
        _Check(
            type_column,
            f"is missing although {kind} codes are given",
            given & typed,
            pl.lit(None, dtype=pl.String),
            pl.lit(sentence),
        )
    ]


# --------------------------------------------------------------------------------------------
# Normalising codes that arrive in more than one spelling
# --------------------------------------------------------------------------------------------
def _normalise(table: str, present: set[str]) -> list[pl.Expr]:
    """Spelling variants that mean the same code become Tuva's spelling (no dots, upper case)."""
    exprs: dict[str, pl.Expr] = {}
    lower = {
        "eligibility": ("gender",),
        "medical_claim": (
            "claim_type",
            "diagnosis_code_type",
            "procedure_code_type",
            "drg_code_type",
        ),
        "pharmacy_claim": (),
    }[table]
    for c in lower:
        exprs[c] = pl.col(c).str.to_lowercase()
    if table == "medical_claim":
        for c in (*DIAGNOSIS_COLUMNS, *PROCEDURE_COLUMNS):
            exprs[c] = pl.col(c).str.to_uppercase().str.replace_all(".", "", literal=True)
        for c in ("hcpcs_code", *(f"hcpcs_modifier_{i}" for i in range(1, 6))):
            exprs[c] = pl.col(c).str.to_uppercase()
        bill_type = pl.col("bill_type_code").str.to_uppercase()
        exprs["bill_type_code"] = bill_type.str.replace(r"^0(\d{2}[0-9A-Z])$", "$1")
        exprs["revenue_center_code"] = pl.col("revenue_center_code").str.zfill(4)
    if table == "pharmacy_claim":
        ndc = pl.col("ndc_code")
        exprs["ndc_code"] = ndc.str.replace(r"^(\d{5})-(\d{4})-(\d{2})$", "$1$2$3")
    return [expr.alias(c) for c, expr in exprs.items() if c in present]


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    typed: pl.DataFrame
    """ROW, the Tuva columns the input has (typed), `__raw_<c>` for those whose reading can fail."""
    unreadable: list[_Check]
    filled: set[str]
    """Columns of `typed` holding at least one value."""


def _prepare(table: str, frame: pl.DataFrame) -> tuple[_Prepared, TableReport]:
    report = TableReport(table=table, rows_in=frame.height)
    kinds = TUVA_TYPES[table]
    present = set(frame.columns) & set(kinds)
    report.columns_ignored = [c for c in frame.columns if c not in kinds]
    report.columns_filled_with_null = [c for c in TUVA_COLUMNS[table] if c not in present]
    schema = frame.schema
    exprs: list[pl.Expr] = [pl.col(ROW)]
    raws: list[pl.Expr] = []
    unreadable: list[_Check] = []
    for name in TUVA_COLUMNS[table]:
        if name not in present:
            continue
        kind, dtype = kinds[name], schema[name]
        target = POLARS_TYPES[kind]
        exprs.append(_typed(name, dtype, kind).cast(target).alias(name))
        if kind == "varchar" or dtype == target or dtype == pl.Null:
            continue
        raw = f"__raw_{name}"
        text = _text(name, dtype)
        shown = pl.when(pl.col(name).is_not_null()).then(pl.lit("<unreadable value>"))
        raws.append((text if text is not None else shown).alias(raw))
        unreadable.append(
            _Check(
                name,
                _type_words(kind),
                pl.col(raw).is_not_null() & pl.col(name).is_null(),
                pl.col(raw),
                requires=(raw,),
            )
        )
    typed = (
        frame.with_row_index(ROW, offset=1)
        .lazy()
        .with_columns(raws)
        .select(*exprs, *(pl.col(r.meta.output_name()) for r in raws))
        .with_columns(_normalise(table, present))
        .collect()
    )
    nulls = typed.null_count().row(0, named=True)
    filled = {c for c, n in nulls.items() if n < typed.height}
    return _Prepared(typed, unreadable, filled), report


def _eligibility_checks(today: date) -> list[_Check]:
    return [
        *(_missing(c) for c in REQUIRED_COLUMNS["eligibility"]),
        _before("enrollment_end_date", "enrollment_start_date"),
        _future("birth_date", today),
        _before("death_date", "birth_date"),
        _future("death_date", today),
        *(
            _ancient(c)
            for c in ("birth_date", "death_date", "enrollment_start_date", "enrollment_end_date")
        ),
    ]


def _npi_checks(typed: pl.DataFrame, columns: Iterable[str], filled: set[str]) -> list[_Check]:
    words = "is not an NPI (10 digits with a valid check digit)"
    return [
        _in_set(column, _distinct_passing(typed[column], _is_npi), words, None)
        for column in columns
        if column in filled
    ]


def _distinct_codes(typed: pl.DataFrame, columns: Iterable[str], only_if: pl.Expr) -> pl.Series:
    """The distinct values of `columns` on rows where `only_if` holds."""
    parts = [
        typed.select(pl.col(c).filter(only_if).drop_nulls().unique().alias("code")) for c in columns
    ]
    if not parts:
        return pl.Series("code", [], dtype=pl.String)
    return pl.concat(parts).get_column("code").unique()


def _line_number() -> _Check:
    return _simple("claim_line_number", "is not 1 or more", pl.col("claim_line_number") < 1)


def _medical_checks(typed: pl.DataFrame, today: date, filled: set[str]) -> list[_Check]:
    dx = [c for c in DIAGNOSIS_COLUMNS if c in filled]
    icd10_dx = ("diagnosis_code_type", "icd-10-cm")
    if "diagnosis_code_type" in filled:
        codes = _distinct_codes(typed, dx, pl.col("diagnosis_code_type") == "icd-10-cm")
        valid_dx = _distinct_passing(codes, _is_icd10cm)
    else:
        valid_dx = pl.Series("code", [], dtype=pl.String)
    dates = (
        "claim_start_date",
        "claim_end_date",
        "claim_line_start_date",
        "claim_line_end_date",
        "admission_date",
        "discharge_date",
    )
    return [
        *(_missing(c) for c in REQUIRED_COLUMNS["medical_claim"]),
        _one_of("claim_type", CLAIM_TYPES),
        _line_number(),
        _before("claim_end_date", "claim_start_date"),
        _before("claim_line_end_date", "claim_line_start_date"),
        _before("discharge_date", "admission_date"),
        _future("claim_start_date", today),
        _future("claim_line_start_date", today),
        _future("admission_date", today),
        *(_ancient(c) for c in dates),
        *(_negative(c) for c in (*_MEDICAL_AMOUNTS, "service_unit_quantity")),
        _one_of("diagnosis_code_type", DIAGNOSIS_CODE_TYPES),
        *_codes_without_type("diagnosis", DIAGNOSIS_COLUMNS, filled),
        *(_in_set(c, valid_dx, "is not an ICD-10-CM code", icd10_dx) for c in dx),
        *(
            _pattern(c, _ICD9_CM, "is not an ICD-9-CM code", ("diagnosis_code_type", "icd-9-cm"))
            for c in dx
        ),
        _one_of("procedure_code_type", PROCEDURE_CODE_TYPES),
        *_codes_without_type("procedure", PROCEDURE_COLUMNS, filled),
        *(
            _pattern(
                c, _ICD10_PCS, "is not an ICD-10-PCS code", ("procedure_code_type", "icd-10-pcs")
            )
            for c in PROCEDURE_COLUMNS
        ),
        *(
            _pattern(
                c, _ICD9_PCS, "is not an ICD-9 procedure code", ("procedure_code_type", "icd-9-pcs")
            )
            for c in PROCEDURE_COLUMNS
        ),
        _pattern("hcpcs_code", _HCPCS, "is not a HCPCS/CPT code"),
        *(
            _pattern(f"hcpcs_modifier_{i}", _MODIFIER, "is not a 2-character modifier")
            for i in range(1, 6)
        ),
        _pattern("bill_type_code", _BILL_TYPE, "is not a 3-character bill type"),
        _pattern("revenue_center_code", _REVENUE, "is not a 4-digit revenue code"),
        _pattern("place_of_service_code", _POS, "is not a 2-digit place of service"),
        _pattern("drg_code", _MS_DRG, "is not a 3-digit MS-DRG", ("drg_code_type", "ms-drg")),
        *_npi_checks(typed, ("rendering_npi", "billing_npi", "facility_npi"), filled),
    ]


def _pharmacy_checks(typed: pl.DataFrame, today: date, filled: set[str]) -> list[_Check]:
    return [
        *(_missing(c) for c in REQUIRED_COLUMNS["pharmacy_claim"]),
        _line_number(),
        _future("dispensing_date", today),
        _ancient("dispensing_date"),
        _before("paid_date", "dispensing_date"),
        *(_negative(c) for c in (*_PHARMACY_AMOUNTS, "quantity", "days_supply", "refills")),
        _pattern("ndc_code", _NDC, "is not an 11-digit NDC"),
        *_npi_checks(typed, ("prescribing_provider_npi", "dispensing_provider_npi"), filled),
    ]


def _service_dates(table: str) -> tuple[pl.Expr, pl.Expr, str]:
    if table == "medical_claim":
        start = pl.col("claim_start_date")
        return start, pl.coalesce("claim_end_date", "claim_start_date"), "claim_start_date"
    return pl.col("dispensing_date"), pl.col("dispensing_date"), "dispensing_date"


def _covered(table: str, typed: pl.DataFrame, spans: pl.DataFrame) -> pl.Series:
    """Per row, whether some eligibility span of the person overlaps the service dates."""
    start, end, _ = _service_dates(table)
    rows = (
        typed.lazy()
        .select(ROW, "person_id", start.alias("s"), end.alias("e"))
        .drop_nulls()
        .join(spans.lazy(), on="person_id", how="inner")
        .filter(
            (pl.col("enrollment_start_date") <= pl.col("e"))
            & (pl.col("enrollment_end_date") >= pl.col("s"))
        )
        .select(ROW)
        .unique()
        .collect()
        .get_column(ROW)
    )
    return typed.get_column(ROW).is_in(rows.implode()).alias(_COVERED)


def _coverage_checks(table: str, spans: pl.DataFrame) -> list[_Check]:
    """Claims must belong to someone with eligibility, and fall in one of that person's spans."""
    start, end, where = _service_dates(table)
    people = spans.get_column("person_id").unique().implode()
    return [
        _Check(
            "person_id",
            "has no eligibility",
            pl.col("person_id").is_not_null() & ~pl.col("person_id").is_in(people),
            pl.col("person_id"),
            pl.format("person_id '{}' has no eligibility", pl.col("person_id")),
            requires=("person_id",),
        ),
        _Check(
            where,
            "is outside every eligibility span of the person",
            pl.col("person_id").is_in(people) & start.is_not_null() & ~pl.col(_COVERED),
            start,
            pl.format(
                "service dates {} to {} fall outside every eligibility span of person_id '{}'",
                _show(start),
                _show(end),
                pl.col("person_id"),
            ),
            requires=("person_id", where),
        ),
    ]


def _run_checks(
    typed: pl.DataFrame, checks: list[_Check], key: str, filled: set[str]
) -> pl.DataFrame:
    """One row per failing input row: its first failed check (by list order)."""
    source = typed.lazy()
    parts = []
    for order, check in enumerate(checks):
        if not all(c in filled for c in check.requires):
            continue
        value = check.value.cast(pl.String)
        reason = (
            check.reason
            if check.reason is not None
            else pl.format("{} '{}' {}", pl.lit(check.column), _show(value), pl.lit(check.rule))
        )
        parts.append(
            source.filter(check.failed.fill_null(False)).select(
                pl.col(ROW),
                pl.lit(order, dtype=pl.Int32).alias("order"),
                pl.col(key).cast(pl.String).alias("key"),
                pl.lit(check.column).alias("column"),
                pl.lit(check.rule).alias("rule"),
                value.alias("value"),
                reason.cast(pl.String).alias("reason"),
            )
        )
    if not parts:
        return _empty_failures()
    failures = pl.concat(parts, how="vertical").collect()
    return failures.sort(ROW, "order").unique(ROW, keep="first", maintain_order=True)


def _empty_failures() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            ROW: pl.UInt32,
            "order": pl.Int32,
            "key": pl.String,
            "column": pl.String,
            "rule": pl.String,
            "value": pl.String,
            "reason": pl.String,
        }
    )


def _duplicates(typed: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    """Among rows that pass every other check, later repeats of claim_id + claim_line_number."""
    keep = typed.select(ROW, "claim_id", "claim_line_number").join(
        failures.select(ROW), on=ROW, how="anti"
    )
    first = pl.col(ROW).min().over("claim_id", "claim_line_number")
    repeats = keep.with_columns(first.alias("__first")).filter(pl.col(ROW) != pl.col("__first"))
    return repeats.select(
        pl.col(ROW),
        pl.lit(10_000, dtype=pl.Int32).alias("order"),
        pl.col("claim_id").alias("key"),
        pl.lit("claim_line_number").alias("column"),
        pl.lit("repeats an earlier claim_id + claim_line_number").alias("rule"),
        pl.col("claim_line_number").cast(pl.String).alias("value"),
        pl.format(
            "claim_id '{}' line {} repeats input row {}",
            pl.col("claim_id"),
            pl.col("claim_line_number"),
            pl.col("__first"),
        ).alias("reason"),
    )


def _spans(accepted_eligibility: pl.DataFrame | None) -> pl.DataFrame:
    if accepted_eligibility is None:
        return pl.DataFrame(
            schema={
                "person_id": pl.String,
                "enrollment_start_date": pl.Date,
                "enrollment_end_date": pl.Date,
            }
        )
    return accepted_eligibility.select(
        "person_id", "enrollment_start_date", "enrollment_end_date"
    ).unique()


def empty_table(table: str) -> pl.DataFrame:
    """A table with every Tuva column, typed, and no rows."""
    return pl.DataFrame(
        schema={name: POLARS_TYPES[TUVA_TYPES[table][name]] for name in TUVA_COLUMNS[table]}
    )


def _validate_table(
    table: str, frame: pl.DataFrame, spans: pl.DataFrame | None, today: date
) -> tuple[pl.DataFrame, TableReport, pl.DataFrame]:
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in frame.columns]
    if missing:
        report = TableReport(table=table, rows_in=frame.height)
        report.errors = [f"required column '{c}' is missing from the file" for c in missing]
        report.rows_rejected = frame.height
        reason = report.errors[0]
        report.rejected_by_reason = {f"{missing[0]}: is missing from the file": frame.height}
        rejected = frame.with_row_index("input_row", offset=1).with_columns(
            pl.lit(missing[0]).alias("reject_column"), pl.lit(reason).alias("reject_reason")
        )
        report.examples = (
            [Rejection(row=1, key=None, column=missing[0], value=None, reason=reason)]
            if frame.height
            else []
        )
        return empty_table(table), report, rejected

    prepared, report = _prepare(table, frame)
    typed, filled = prepared.typed, prepared.filled
    key = KEY_COLUMN[table]
    checks = list(prepared.unreadable)
    if table == "eligibility":
        checks += _eligibility_checks(today)
    elif table == "medical_claim":
        checks += _medical_checks(typed, today, filled)
    else:
        checks += _pharmacy_checks(typed, today, filled)
    if table != "eligibility":
        spans = spans if spans is not None else _spans(None)
        typed = typed.with_columns(_covered(table, typed, spans))
        checks += _coverage_checks(table, spans)
    failures = _run_checks(typed, checks, key, filled)
    if table != "eligibility":
        failures = pl.concat([failures, _duplicates(typed, failures)], how="vertical")
    failures = failures.sort(ROW)

    kinds = TUVA_TYPES[table]
    accepted = (
        typed.join(failures.select(ROW), on=ROW, how="anti")
        .sort(ROW)
        .select(
            pl.col(name)
            if name in typed.columns
            else pl.lit(None, dtype=POLARS_TYPES[kinds[name]]).alias(name)
            for name in TUVA_COLUMNS[table]
        )
    )
    report.rows_accepted = accepted.height
    report.rows_rejected = failures.height
    counts = (
        failures.group_by("column", "rule").len().sort("len", "column", descending=[True, False])
    )
    report.rejected_by_reason = {
        f"{row['column']}: {row['rule']}": int(row["len"]) for row in counts.iter_rows(named=True)
    }
    examples = (
        failures.filter(pl.int_range(pl.len()).over("column", "rule") < _EXAMPLES_PER_REASON)
        .head(_EXAMPLES)
        .sort(ROW)
    )
    report.examples = [
        Rejection(
            row=int(r[ROW]), key=r["key"], column=r["column"], value=r["value"], reason=r["reason"]
        )
        for r in examples.iter_rows(named=True)
    ]
    rejected = (
        frame.with_row_index("input_row", offset=1)
        .join(
            failures.select(
                pl.col(ROW).alias("input_row"),
                pl.col("column").alias("reject_column"),
                pl.col("reason").alias("reject_reason"),
            ),
            on="input_row",
            how="inner",
        )
        .sort("input_row")
    )
    return accepted, report, rejected


def validate(
    tables: Mapping[str, pl.DataFrame], *, today: date | None = None
) -> tuple[dict[str, pl.DataFrame], DataQualityReport]:
    """Accepted rows per input-layer table (Tuva columns and types) and the data-quality report.

    Eligibility is validated first; claims are then checked against the accepted eligibility
    spans. A table missing from `tables` is a file-level error and yields an empty table.
    """
    today = today or date.today()
    report = DataQualityReport()
    accepted: dict[str, pl.DataFrame] = {}
    spans: pl.DataFrame | None = None
    for table in TABLES:
        frame = tables.get(table)
        if frame is None:
            accepted[table] = empty_table(table)
            report.tables[table] = TableReport(table=table, errors=[f"no {table} input was given"])
            report.rejected[table] = pl.DataFrame(
                schema={
                    "input_row": pl.UInt32,
                    "reject_column": pl.String,
                    "reject_reason": pl.String,
                }
            )
            if table == "eligibility":
                spans = _spans(None)
            continue
        good, table_report, rejected = _validate_table(table, frame, spans, today)
        accepted[table] = good
        report.tables[table] = table_report
        report.rejected[table] = rejected
        if table == "eligibility":
            spans = _spans(good)
    return accepted, report
