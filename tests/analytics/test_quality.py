"""The data-quality gate: bad rows rejected with column, value and reason; good rows kept."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from caseboard.analytics.input_layer import TUVA_COLUMNS, TUVA_TYPES
from caseboard.analytics.load import load
from caseboard.analytics.quality import POLARS_TYPES, validate

TODAY = date(2025, 6, 30)
TUVA_SCHEMA = {
    table: {name: POLARS_TYPES[TUVA_TYPES[table][name]] for name in TUVA_COLUMNS[table]}
    for table in TUVA_COLUMNS
}


def _eligibility(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["person_id", "enrollment_start_date", "enrollment_end_date"],
        orient="row",
    )


ELIGIBILITY = _eligibility(
    ("P1", "2024-01-01", "2024-12-31"),
    ("P1", "2025-02-01", "2025-06-30"),
    ("P2", "2024-01-01", "2024-06-30"),
)

GOOD_CLAIM: dict[str, Any] = {
    "claim_id": "C1",
    "claim_line_number": "1",
    "claim_type": "professional",
    "person_id": "P1",
    "claim_start_date": "2024-03-01",
    "claim_end_date": "2024-03-01",
    "place_of_service_code": "11",
    "hcpcs_code": "99213",
    "rendering_npi": "1234567893",
    "paid_amount": "80.00",
    "allowed_amount": "100.00",
    "charge_amount": "150.00",
    "diagnosis_code_type": "icd-10-cm",
    "diagnosis_code_1": "E11.9",
    "diagnosis_code_2": "I10",
}


def _claims(*changes: dict[str, Any]) -> pl.DataFrame:
    rows = []
    for i, change in enumerate(changes, start=1):
        rows.append({**GOOD_CLAIM, "claim_id": f"C{i}", **change})
    return pl.DataFrame(rows, schema={name: pl.String for name in rows[0]})


def _rejections(report: Any, table: str = "medical_claim") -> dict[str, tuple[str, str]]:
    frame = report.rejected[table]
    return {
        row["claim_id"]: (row["reject_column"], row["reject_reason"])
        for row in frame.iter_rows(named=True)
    }


def test_it_rejects_exactly_the_bad_rows_and_keeps_the_good_ones() -> None:
    claims = _claims(
        {},  # C1 good
        {"claim_end_date": "2024-02-27"},  # C2 ends before it starts
        {"paid_amount": "-12.50"},  # C3 negative paid amount
        {"claim_start_date": "2025-01-10", "claim_end_date": "2025-01-12"},  # C4 in a gap
        {"diagnosis_code_2": "E11.99"},  # C5 not an ICD-10-CM code
        {"claim_start_date": "2025-03-03", "claim_end_date": "2025-03-03"},  # C6 good, 2nd span
        {"person_id": "P2"},  # C7 good
    )

    accepted, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    assert accepted["medical_claim"].get_column("claim_id").to_list() == ["C1", "C6", "C7"]
    rejected = _rejections(report)
    assert rejected == {
        "C2": (
            "claim_end_date",
            "claim_end_date 2024-02-27 is before claim_start_date 2024-03-01",
        ),
        "C3": ("paid_amount", "paid_amount '-12.5' is negative"),
        "C4": (
            "claim_start_date",
            "service dates 2025-01-10 to 2025-01-12 fall outside every eligibility span of "
            "person_id 'P1'",
        ),
        "C5": ("diagnosis_code_2", "diagnosis_code_2 'E1199' is not an ICD-10-CM code"),
    }
    table = report.tables["medical_claim"]
    assert (table.rows_in, table.rows_accepted, table.rows_rejected) == (7, 3, 4)
    assert table.rejected_by_reason == {
        "claim_end_date: is before claim_start_date": 1,
        "claim_start_date: is outside every eligibility span of the person": 1,
        "diagnosis_code_2: is not an ICD-10-CM code": 1,
        "paid_amount: is negative": 1,
    }
    assert [(e.row, e.key, e.column) for e in table.examples] == [
        (2, "C2", "claim_end_date"),
        (3, "C3", "paid_amount"),
        (4, "C4", "claim_start_date"),
        (5, "C5", "diagnosis_code_2"),
    ]


def test_accepted_rows_have_every_tuva_column_in_its_tuva_type() -> None:
    accepted, _ = validate({"eligibility": ELIGIBILITY, "medical_claim": _claims({})}, today=TODAY)

    for table, frame in accepted.items():
        assert frame.schema == pl.Schema(TUVA_SCHEMA[table]), table
    row = accepted["medical_claim"].row(0, named=True)
    assert row["claim_start_date"] == date(2024, 3, 1)
    assert row["claim_line_number"] == 1
    assert row["paid_amount"] == 80.0


def test_icd10_codes_pass_with_or_without_the_dot_and_are_stored_without() -> None:
    claims = _claims({"diagnosis_code_1": "e11.9", "diagnosis_code_2": "J449"})

    accepted, _ = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    row = accepted["medical_claim"].row(0, named=True)
    assert (row["diagnosis_code_1"], row["diagnosis_code_2"]) == ("E119", "J449")


def test_it_checks_icd10_codes_only_when_the_claim_says_they_are_icd10() -> None:
    claims = _claims(
        {"diagnosis_code_type": "icd-9-cm", "diagnosis_code_1": "4019", "diagnosis_code_2": None},
        {"diagnosis_code_type": "icd-9-cm", "diagnosis_code_1": "I10", "diagnosis_code_2": None},
        {"diagnosis_code_type": None},
    )

    accepted, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    assert accepted["medical_claim"].get_column("claim_id").to_list() == ["C1"]
    assert _rejections(report) == {
        "C2": ("diagnosis_code_1", "diagnosis_code_1 'I10' is not an ICD-9-CM code"),
        "C3": (
            "diagnosis_code_type",
            "diagnosis_code_type is missing although diagnosis codes are given",
        ),
    }


def test_unreadable_values_are_rejected_naming_the_value() -> None:
    claims = _claims(
        {"claim_start_date": "2024-02-30"},
        {"claim_line_number": "one"},
        {"allowed_amount": "12,50"},
        {"claim_id": None},
    )

    _, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    rejected = _rejections(report)
    assert rejected["C1"] == (
        "claim_start_date",
        "claim_start_date '2024-02-30' is not a date (expected YYYY-MM-DD or YYYYMMDD)",
    )
    assert rejected["C2"] == ("claim_line_number", "claim_line_number 'one' is not a whole number")
    assert rejected["C3"] == ("allowed_amount", "allowed_amount '12,50' is not a number")
    assert rejected[None] == ("claim_id", "claim_id is missing")


def test_code_formats_are_checked_and_spellings_normalised() -> None:
    claims = _claims(
        {"bill_type_code": "0131", "claim_type": "institutional", "revenue_center_code": "450"},
        {"hcpcs_code": "9921"},
        {"bill_type_code": "13"},
        {"rendering_npi": "1234567890"},
        {"claim_type": "dental-ish"},
    )

    accepted, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    row = accepted["medical_claim"].row(0, named=True)
    assert (row["bill_type_code"], row["revenue_center_code"]) == ("131", "0450")
    assert {k: v[0] for k, v in _rejections(report).items()} == {
        "C2": "hcpcs_code",
        "C3": "bill_type_code",
        "C4": "rendering_npi",
        "C5": "claim_type",
    }


@pytest.mark.parametrize("npi", ["1234567893", "1987654328", "1003000126"])
def test_npis_with_a_right_check_digit_pass(npi: str) -> None:
    assert luhn.is_valid("80840" + npi)  # the reference: NPI check digit = Luhn over 80840+NPI
    accepted, _ = validate(
        {"eligibility": ELIGIBILITY, "medical_claim": _claims({"billing_npi": npi})},
        today=TODAY,
    )
    assert accepted["medical_claim"].height == 1


def test_a_claim_for_someone_without_eligibility_is_rejected() -> None:
    _, report = validate(
        {"eligibility": ELIGIBILITY, "medical_claim": _claims({"person_id": "P9"})}, today=TODAY
    )
    assert _rejections(report) == {"C1": ("person_id", "person_id 'P9' has no eligibility")}


def test_a_repeated_claim_line_is_rejected_and_the_first_kept() -> None:
    claims = _claims({}, {}, {"claim_line_number": "2"})
    claims = claims.with_columns(pl.lit("C1").alias("claim_id"))

    accepted, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    assert accepted["medical_claim"].get_column("claim_line_number").to_list() == [1, 2]
    assert report.rejected["medical_claim"].get_column("reject_reason").to_list() == [
        "claim_id 'C1' line 1 repeats input row 1"
    ]


def test_a_bad_first_copy_does_not_make_the_good_repeat_a_duplicate() -> None:
    claims = _claims({"paid_amount": "-1"}, {}).with_columns(pl.lit("C1").alias("claim_id"))

    accepted, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    assert accepted["medical_claim"].get_column("paid_amount").to_list() == [80.0]
    assert report.tables["medical_claim"].rejected_by_reason == {"paid_amount: is negative": 1}


def test_impossible_eligibility_dates_are_rejected() -> None:
    eligibility = pl.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", None],
            "enrollment_start_date": ["2024-01-01", "2024-06-01", "2024-01-01", "2024-01-01"],
            "enrollment_end_date": ["2024-12-31", "2024-05-31", "2024-12-31", "2024-12-31"],
            "birth_date": ["1950-02-01", "1950-02-01", "2031-04-01", "1950-02-01"],
        }
    )

    accepted, report = validate({"eligibility": eligibility}, today=TODAY)

    assert accepted["eligibility"].get_column("person_id").to_list() == ["P1"]
    reasons = report.rejected["eligibility"].get_column("reject_reason").to_list()
    assert reasons == [
        "enrollment_end_date 2024-05-31 is before enrollment_start_date 2024-06-01",
        "birth_date '2031-04-01' is in the future",
        "person_id is missing",
    ]


def test_pharmacy_claims_need_an_11_digit_ndc() -> None:
    pharmacy = pl.DataFrame(
        {
            "claim_id": ["R1", "R2", "R3"],
            "claim_line_number": [1, 1, 1],
            "person_id": ["P1", "P1", "P1"],
            "dispensing_date": [date(2024, 5, 1)] * 3,
            "ndc_code": ["00093-5056-01", "0009350560", "00093505601"],
            "quantity": [30.0, 30.0, 30.5],
            "paid_amount": [10.0, 10.0, 10.0],
        }
    )

    accepted, report = validate(
        {"eligibility": ELIGIBILITY, "pharmacy_claim": pharmacy}, today=TODAY
    )

    assert accepted["pharmacy_claim"].select("claim_id", "ndc_code", "quantity").rows() == [
        ("R1", "00093505601", 30)
    ]
    assert _rejections(report, "pharmacy_claim") == {
        "R2": ("ndc_code", "ndc_code '0009350560' is not an 11-digit NDC"),
        "R3": ("quantity", "quantity '30.5' is not a whole number"),
    }


def test_a_file_missing_a_required_column_is_rejected_whole() -> None:
    claims = _claims({}, {}).drop("claim_start_date")

    accepted, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    assert accepted["medical_claim"].height == 0
    table = report.tables["medical_claim"]
    assert table.errors == ["required column 'claim_start_date' is missing from the file"]
    assert (table.rows_in, table.rows_rejected) == (2, 2)
    assert set(report.rejected["medical_claim"].get_column("reject_column")) == {"claim_start_date"}


def test_a_missing_table_is_a_file_level_error() -> None:
    accepted, report = validate({"eligibility": ELIGIBILITY}, today=TODAY)

    assert report.tables["pharmacy_claim"].errors == ["no pharmacy_claim input was given"]
    assert accepted["pharmacy_claim"].schema == pl.Schema(TUVA_SCHEMA["pharmacy_claim"])


def test_examples_stop_at_50() -> None:
    claims = _claims(*({"paid_amount": "-1"} for _ in range(80)))

    _, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    table = report.tables["medical_claim"]
    assert table.rows_rejected == 80
    assert len(table.examples) == 10  # at most 10 per reason, 50 in all
    claims = _claims(
        *({"paid_amount": "-1"} if i % 2 else {"allowed_amount": "-1"} for i in range(80)),
        *({"charge_amount": "-1"} for _ in range(40)),
        *({"hcpcs_code": "x"} for _ in range(40)),
        *({"claim_type": "x"} for _ in range(40)),
        *({"bill_type_code": "x"} for _ in range(40)),
    )
    _, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)
    assert len(report.tables["medical_claim"].examples) == 50


def test_report_and_rejections_are_written(tmp_path: Path) -> None:
    claims = _claims({}, {"paid_amount": "-3"})
    _, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    report.write(tmp_path / "data_quality.json")
    report.write_rejections(tmp_path)

    written = json.loads((tmp_path / "data_quality.json").read_text())
    assert written["tables"]["medical_claim"]["rejected_by_reason"] == {
        "paid_amount: is negative": 1
    }
    rejected = pl.read_parquet(tmp_path / "rejected_medical_claim.parquet")
    assert rejected.columns == ["input_row", *claims.columns, "reject_column", "reject_reason"]
    assert rejected.select("input_row", "claim_id", "paid_amount", "reject_column").rows() == [
        (2, "C2", "-3", "paid_amount")
    ]
    assert sorted(p.name for p in tmp_path.glob("rejected_*.parquet")) == [
        "rejected_eligibility.parquet",
        "rejected_medical_claim.parquet",
        "rejected_pharmacy_claim.parquet",
    ]


def test_tuva_format_input_is_validated_and_copied(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    ELIGIBILITY.write_csv(source / "eligibility.csv")
    _claims({}, {"hcpcs_code": "ABCDE"}).write_csv(source / "medical_claim.csv")

    report = load("tuva", source, tmp_path / "out")

    medical = pl.read_parquet(tmp_path / "out" / "medical_claim.parquet")
    assert medical.get_column("claim_id").to_list() == ["C1"]
    assert medical.schema == pl.Schema(TUVA_SCHEMA["medical_claim"])
    assert report.tables["medical_claim"].rejected_by_reason == {
        "hcpcs_code: is not a HCPCS/CPT code": 1
    }
    assert report.notes["files"]["missing"] == ["pharmacy_claim.parquet or pharmacy_claim.csv"]
    assert (tmp_path / "out" / "data_quality.json").is_file()


# --------------------------------------------------------------------------------------------
# Any junk: rejections, never a crash, never a half-cast accepted row
# --------------------------------------------------------------------------------------------
_JUNK_COLUMNS = (
    "claim_id",
    "claim_line_number",
    "claim_type",
    "person_id",
    "claim_start_date",
    "claim_end_date",
    "admission_date",
    "paid_amount",
    "service_unit_quantity",
    "in_network_flag",
    "ingest_datetime",
    "bill_type_code",
    "hcpcs_code",
    "rendering_npi",
    "diagnosis_code_type",
    "diagnosis_code_1",
    "procedure_code_type",
    "procedure_code_1",
    "procedure_date_1",
)
_PLAUSIBLE: dict[str, list[str]] = {
    "claim_id": ["C1", "C2"],
    "claim_line_number": ["1", "2", "0", "-1", "2.0", "99999999999"],
    "claim_type": ["professional", "institutional", "Professional"],
    "person_id": ["P1", "P2", "P9"],
    "claim_start_date": ["2024-03-01", "20240301", "2024-13-01", "2099-01-01", "1850-01-01"],
    "claim_end_date": ["2024-03-02", "2024-02-01"],
    "admission_date": ["2024-03-01"],
    "paid_amount": ["10", "-1", "1e3", "nan", "inf", "10.5"],
    "service_unit_quantity": ["1", "-2"],
    "in_network_flag": ["true", "N", "maybe"],
    "ingest_datetime": ["2024-03-01 10:00:00", "2024-03-01T10:00:00.5", "noon"],
    "bill_type_code": ["111", "0131", "1"],
    "hcpcs_code": ["99213", "G0008", "9921"],
    "rendering_npi": ["1234567893", "1234567890"],
    "diagnosis_code_type": ["icd-10-cm", "icd-9-cm", "snomed"],
    "diagnosis_code_1": ["E11.9", "I10", "4019", "ZZZ"],
    "procedure_code_type": ["icd-10-pcs"],
    "procedure_code_1": ["0DTJ4ZZ", "0DTJ4Z"],
    "procedure_date_1": ["2024-03-01", "03/01/2024"],
}
_cell = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "null", "NaN", "-0", "9" * 30, "2024-02-29", "\x00", "é"]),
)


@st.composite
def _junk_claims(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(min_value=1, max_value=8))
    columns = draw(st.lists(st.sampled_from(_JUNK_COLUMNS), min_size=1, unique=True))
    data = {
        column: [draw(st.one_of(_cell, st.sampled_from(_PLAUSIBLE[column]))) for _ in range(n)]
        for column in columns
    }
    return pl.DataFrame(data, schema={c: pl.String for c in columns})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=_junk_claims())
def test_junk_gives_rejections_never_a_crash_nor_a_half_cast_row(claims: pl.DataFrame) -> None:
    accepted, report = validate({"eligibility": ELIGIBILITY, "medical_claim": claims}, today=TODAY)

    good = accepted["medical_claim"]
    table = report.tables["medical_claim"]
    rejected = report.rejected["medical_claim"]
    assert good.schema == pl.Schema(TUVA_SCHEMA["medical_claim"])
    assert table.rows_in == claims.height == table.rows_accepted + table.rows_rejected
    assert good.height == table.rows_accepted and rejected.height == table.rows_rejected
    assert rejected.get_column("reject_reason").null_count() == 0
    assert sum(table.rejected_by_reason.values()) == table.rows_rejected
    kept = [
        i
        for i in range(1, claims.height + 1)
        if i not in set(rejected.get_column("input_row").to_list())
    ]
    assert len(kept) == good.height
    # Every value given in an accepted row arrived typed: none was silently turned into null.
    for out_row, in_row in zip(good.iter_rows(named=True), kept, strict=True):
        given_row = claims.row(in_row - 1, named=True)
        for column, value in given_row.items():
            if value is not None and value.strip():
                assert out_row[column] is not None, (column, value)
