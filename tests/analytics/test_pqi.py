"""AHRQ PQIs on hand-built stays whose expected result is worked out from the specification.

Every code used below is checked against the AHRQ value set file itself (read with the csv
module, not through the mart) so a fixture cannot silently test the wrong thing.
"""

from __future__ import annotations

import csv
import datetime
import math
from pathlib import Path
from typing import Any

import ibis
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from caseboard.analytics import value_sets
from caseboard.analytics.marts.encounters import encounters
from caseboard.analytics.marts.member_months import member_months
from caseboard.analytics.marts.pqi import pqi_events, pqi_rates
from caseboard.demo.population import generate
from tests.analytics.claims_builder import inpatient, span, table

THROUGH = datetime.date(2025, 12, 31)


def _value_set_file() -> dict[tuple[str, str], set[str]]:
    path = value_sets.default_dir() / value_sets.PQI_FOLDER / value_sets.PQI_VALUE_SETS
    codes: dict[tuple[str, str], set[str]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            codes.setdefault((row["pqi_number"], row["value_set_name"]), set()).add(row["code"])
    return codes


VALUE_SETS = _value_set_file()


def in_set(code: str, pqi_number: str, name: str) -> str:
    assert code in VALUE_SETS[(pqi_number, name)], f"{code} is not in {pqi_number}/{name}"
    return code


HEART_FAILURE = in_set("I5023", "08", "heart_failure_diagnosis_codes")
CABG = in_set("0210093", "appendix_b", "cardiac_procedure_codes")
COPD_EXACERBATION = in_set("J441", "05", "chronic_obstructive_pulmonary_disorder")
ASTHMA_EXACERBATION = in_set("J45901", "15", "asthma_diagnosis_codes")
CYSTIC_FIBROSIS = in_set(
    "E840", "15", "cystic_fibrosis_and_anomalies_of_the_respiratory_system_diagnosis_codes"
)
DKA = in_set("E1010", "01", "diabetes_with_short-term_complications_diagnosis_codes")
HYPERTENSIVE_CKD = in_set("I129", "07", "exclusion_kidney_disease_diagnosis_codes")
ESSENTIAL_HYPERTENSION = in_set("I10", "07", "hypertension_diagnosis_codes")
DIALYSIS_ACCESS = in_set("031509D", "07", "exclusion_dialysis_access_procedure_codes")
PNEUMONIA = in_set("J189", "11", "community_acquired_bacterial_pneumonia_diagnosis_codes")
HIV = in_set("B20", "appendix_c", "immunocompromised_state_diagnosis_codes")
SICKLE_CELL_CRISIS = in_set("D5700", "11", "sickle_cell_anemia_or_hb-s_disease_diagnosis_codes")
HEART_TRANSPLANT = in_set("02YA0Z0", "appendix_c", "immunocompromised_state_procedure_codes")
UTI = in_set("N390", "12", "urinary_tract_infection_diagnosis_codes")
HYDRONEPHROSIS = in_set("N130", "12", "kidney_or_urinary_tract_disorder_diagnosis_codes")
DM_GANGRENE = in_set("E1152", "03", "diabetes_with_long-term_complications_diagnosis_codes")
DM_PLAIN = in_set("E119", "16", "diabetes_diagnosis_codes")
ABOVE_KNEE_AMPUTATION = in_set("0Y6C0Z1", "16", "lower-extremity_amputation_procedure_codes")
TRAUMATIC_AMPUTATION = in_set(
    "S78011A", "16", "traumatic_amputation_of_the_lower_extremity_diagnosis_codes"
)
GESTATIONAL_DIABETES = in_set("O24419", "appendix_f", "mdc_14_principal_diagnosis_codes")
CELLULITIS = "L03115"  # in no PQI value set
assert not any(CELLULITIS in codes for codes in VALUE_SETS.values())
assert DM_GANGRENE in VALUE_SETS[("16", "diabetes_diagnosis_codes")]


def stay(
    person: str,
    claim: str,
    admit: str,
    discharge: str,
    principal: str,
    *,
    other_dx: tuple[str, ...] = (),
    procedures: tuple[str, ...] = (),
    admit_source: str | None = "1",
) -> dict[str, Any]:
    row = inpatient(person, claim, admit, discharge, 1000.0)
    row["diagnosis_code_1"] = principal
    for i, code in enumerate(other_dx, start=2):
        row[f"diagnosis_code_{i}"] = code
    if procedures:
        row["procedure_code_type"] = "icd-10-pcs"
    for i, code in enumerate(procedures, start=1):
        row[f"procedure_code_{i}"] = code
    row["admit_source_code"] = admit_source
    return row


def member(
    person: str,
    birth: str | None,
    gender: str | None = "female",
    start: str = "2025-01-01",
    end: str | None = "2025-12-31",
) -> dict[str, Any]:
    row = span(person, start, end)
    row["birth_date"] = datetime.date.fromisoformat(birth) if birth else None
    row["gender"] = gender
    return row


def events(claims: list[dict[str, Any]], people: list[dict[str, Any]]) -> dict[str, list[str]]:
    """person_id → sorted PQI numbers of that person's events."""
    mc = table("medical_claim", claims)
    out = pqi_events(encounters(mc), mc, table("eligibility", people)).to_polars()
    found: dict[str, list[str]] = {}
    for row in out.sort(["person_id", "pqi_number"]).iter_rows(named=True):
        found.setdefault(row["person_id"], []).append(row["pqi_number"])
    return found


def test_heart_failure_admission_counts_for_pqi_08_and_the_overall_and_chronic_composites() -> None:
    found = events(
        [stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE)], [member("A", "1950-06-01")]
    )
    assert found == {"A": ["08", "90", "92"]}


def test_cardiac_procedure_excludes_heart_failure_but_not_pneumonia() -> None:
    found = events(
        [
            stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE, procedures=(CABG,)),
            stay("B", "c2", "2025-03-01", "2025-03-05", PNEUMONIA, procedures=(CABG,)),
        ],
        [member("A", "1950-06-01"), member("B", "1950-06-01")],
    )
    assert found == {"B": ["11", "90", "91"]}


@pytest.mark.parametrize(
    ("admit_source", "counted"),
    [("1", True), ("7", True), (None, True), ("4", False), ("5", False), ("6", False)],
)
def test_transfers_in_from_another_facility_are_excluded(
    admit_source: str | None, counted: bool
) -> None:
    found = events(
        [stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE, admit_source=admit_source)],
        [member("A", "1950-06-01")],
    )
    assert ("A" in found) is counted


def test_stay_that_continues_as_a_transfer_keeps_the_first_hospitals_point_of_origin() -> None:
    # Admitted from home on 1 March, transferred on 5 March (point of origin 4 on the second
    # hospital's claim): one stay, which started as a community admission, so it counts once.
    found = events(
        [
            stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE, admit_source="1"),
            stay("A", "c2", "2025-03-05", "2025-03-09", HEART_FAILURE, admit_source="4"),
        ],
        [member("A", "1950-06-01")],
    )
    assert found == {"A": ["08", "90", "92"]}


def test_copd_and_asthma_follow_the_age_bands_of_pqi_05_and_15() -> None:
    found = events(
        [
            # 30 years old: COPD belongs to PQI 05, which starts at 40; not asthma, so not 15.
            stay("B", "c1", "2025-03-01", "2025-03-03", COPD_EXACERBATION),
            # 30 years old with asthma: PQI 15 (18-39).
            stay("C", "c2", "2025-03-01", "2025-03-03", ASTHMA_EXACERBATION),
            # 45 years old with asthma: PQI 05 (COPD or asthma, 40 and over), not 15.
            stay("D", "c3", "2025-03-01", "2025-03-03", ASTHMA_EXACERBATION),
            # 39 the day of admission (40 the next day): still PQI 15.
            stay("E", "c4", "2025-03-01", "2025-03-03", ASTHMA_EXACERBATION),
            # 40 on the day of admission: PQI 05.
            stay("F", "c5", "2025-03-01", "2025-03-03", ASTHMA_EXACERBATION),
            # Asthma with cystic fibrosis listed: excluded from PQI 15.
            stay(
                "G",
                "c6",
                "2025-03-01",
                "2025-03-03",
                ASTHMA_EXACERBATION,
                other_dx=(CYSTIC_FIBROSIS,),
            ),
        ],
        [
            member("B", "1995-01-10"),
            member("C", "1995-01-10"),
            member("D", "1980-01-10"),
            member("E", "1985-03-02"),
            member("F", "1985-03-01"),
            member("G", "1995-01-10"),
        ],
    )
    assert found == {
        "C": ["15", "90", "92"],
        "D": ["05", "90", "92"],
        "E": ["15", "90", "92"],
        "F": ["05", "90", "92"],
    }


def test_admissions_before_the_18th_birthday_never_count() -> None:
    found = events(
        [
            stay("A", "c1", "2025-03-01", "2025-03-03", DKA),  # 17
            stay("B", "c2", "2025-03-01", "2025-03-03", DKA),  # 18 that day
        ],
        [member("A", "2007-03-02"), member("B", "2007-03-01")],
    )
    assert found == {"B": ["01", "90", "92", "93"]}


def test_hypertension_is_excluded_only_with_stage_1_4_ckd_and_dialysis_access_together() -> None:
    found = events(
        [
            stay("A", "c1", "2025-03-01", "2025-03-03", HYPERTENSIVE_CKD),
            stay(
                "B",
                "c2",
                "2025-03-01",
                "2025-03-03",
                HYPERTENSIVE_CKD,
                procedures=(DIALYSIS_ACCESS,),
            ),
            stay(
                "C",
                "c3",
                "2025-03-01",
                "2025-03-03",
                ESSENTIAL_HYPERTENSION,
                procedures=(DIALYSIS_ACCESS,),
            ),
            stay("D", "c4", "2025-03-01", "2025-03-03", ESSENTIAL_HYPERTENSION, procedures=(CABG,)),
        ],
        [member(p, "1960-01-01") for p in "ABCD"],
    )
    assert found == {"A": ["07", "90", "92"], "C": ["07", "90", "92"]}


def test_pneumonia_and_uti_exclude_immunocompromised_sickle_cell_and_urinary_tract_disorders() -> (
    None
):
    found = events(
        [
            stay("A", "c1", "2025-03-01", "2025-03-03", PNEUMONIA),
            stay("B", "c2", "2025-03-01", "2025-03-03", PNEUMONIA, other_dx=(HIV,)),
            stay("C", "c3", "2025-03-01", "2025-03-03", PNEUMONIA, other_dx=(SICKLE_CELL_CRISIS,)),
            stay("D", "c4", "2025-03-01", "2025-03-03", PNEUMONIA, procedures=(HEART_TRANSPLANT,)),
            stay("E", "c5", "2025-03-01", "2025-03-03", UTI),
            stay("F", "c6", "2025-03-01", "2025-03-03", UTI, other_dx=(HYDRONEPHROSIS,)),
            stay("G", "c7", "2025-03-01", "2025-03-03", UTI, other_dx=(HIV,)),
        ],
        [member(p, "1960-01-01") for p in "ABCDEFG"],
    )
    assert found == {"A": ["11", "90", "91"], "E": ["12", "90", "91"]}


def test_amputation_with_diabetes_counts_once_in_each_composite_unless_trauma_or_obstetric() -> (
    None
):
    found = events(
        [
            # Gangrene (PQI 03 as principal) with an above-knee amputation (PQI 16): two PQIs,
            # one stay in each composite.
            stay(
                "A",
                "c1",
                "2025-03-01",
                "2025-03-09",
                DM_GANGRENE,
                procedures=(ABOVE_KNEE_AMPUTATION,),
            ),
            # Diabetes listed second, cellulitis principal: PQI 16 only.
            stay(
                "B",
                "c2",
                "2025-03-01",
                "2025-03-09",
                CELLULITIS,
                other_dx=(DM_PLAIN,),
                procedures=(ABOVE_KNEE_AMPUTATION,),
            ),
            # Traumatic amputation listed: not PQI 16, still PQI 03 by its principal diagnosis.
            stay(
                "C",
                "c3",
                "2025-03-01",
                "2025-03-09",
                DM_GANGRENE,
                other_dx=(TRAUMATIC_AMPUTATION,),
                procedures=(ABOVE_KNEE_AMPUTATION,),
            ),
            # Principal diagnosis in MDC 14 (pregnancy): not PQI 16.
            stay(
                "D",
                "c4",
                "2025-03-01",
                "2025-03-09",
                GESTATIONAL_DIABETES,
                other_dx=(DM_PLAIN,),
                procedures=(ABOVE_KNEE_AMPUTATION,),
            ),
            # Diabetes but no amputation: nothing.
            stay("E", "c5", "2025-03-01", "2025-03-09", CELLULITIS, other_dx=(DM_PLAIN,)),
        ],
        [member(p, "1960-01-01") for p in "ABCDE"],
    )
    assert found == {
        "A": ["03", "16", "90", "92", "93"],
        "B": ["16", "90", "92", "93"],
        "C": ["03", "90", "92", "93"],
    }


def test_missing_sex_or_birth_date_excludes_the_stay() -> None:
    found = events(
        [
            stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE),
            stay("B", "c2", "2025-03-01", "2025-03-05", HEART_FAILURE),
            stay("C", "c3", "2025-03-01", "2025-03-05", HEART_FAILURE),
        ],
        [
            member("A", None),
            member("B", "1950-01-01", gender="unknown"),
            member("C", "1950-01-01", gender="M"),
        ],
    )
    assert found == {"C": ["08", "90", "92"]}


def test_event_year_is_the_discharge_year() -> None:
    mc = table("medical_claim", [stay("A", "c1", "2024-12-30", "2025-01-03", HEART_FAILURE)])
    out = pqi_events(encounters(mc), mc, table("eligibility", [member("A", "1950-01-01")]))
    row = out.filter(out.pqi_number == "08").to_polars().row(0, named=True)
    assert row["admit_date"] == datetime.date(2024, 12, 30)
    assert row["year"] == 2025


def test_rates_per_100000_member_years_in_each_age_band() -> None:
    people = [
        member("A", "1950-06-01"),  # 74-75 all year: 12 months 18+ and 40+
        member("B", "1995-06-01", start="2025-07-01"),  # 30, July-December: 6 months 18-39
        member("C", "1985-07-15"),  # 39 on 1 July, 40 on 1 August: 7 months 18-39, 5 months 40+
        member("D", "2010-01-01"),  # 15: in no denominator
        member("E", "1950-06-01", end="2025-05-31"),  # heart failure in July, after coverage
    ]
    claims = [
        stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE),
        stay("B", "c2", "2025-09-01", "2025-09-03", ASTHMA_EXACERBATION),
        stay("E", "c3", "2025-07-01", "2025-07-03", HEART_FAILURE),
    ]
    mc = table("medical_claim", claims)
    elig = table("eligibility", people)
    ev = pqi_events(encounters(mc), mc, elig)
    rates = pqi_rates(ev, member_months(elig, THROUGH), elig).to_polars()
    rows = {r["pqi_number"]: r for r in rates.iter_rows(named=True)}
    # Adults: A 12 + B 6 + C 12 + E 5 = 35 member months.
    assert rows["08"]["member_months"] == 35
    assert rows["08"]["numerator"] == 1  # E's stay falls outside E's enrolment
    assert rows["08"]["rate_per_100000"] == pytest.approx(1 / (35 / 12) * 100_000)
    # 40 and over: A 12 + C 5 + E 5.
    assert rows["05"]["member_months"] == 22
    assert rows["05"]["numerator"] == 0
    # 18-39: B 6 + C 7.
    assert rows["15"]["member_months"] == 13
    assert rows["15"]["numerator"] == 1
    assert rows["15"]["denominator"] == pytest.approx(13 / 12)
    assert rows["90"]["numerator"] == 2
    assert rows["91"]["numerator"] == 0
    assert set(rates["year"]) == {2025}


def test_missing_value_sets_raise_an_error_naming_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(value_sets.ENV_VAR, str(tmp_path))
    mc = table("medical_claim", [stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE)])
    with pytest.raises(FileNotFoundError, match=r"pqi__value_sets\.csv"):
        pqi_events(encounters(mc), mc, table("eligibility", [member("A", "1950-01-01")]))


def test_value_sets_dir_argument_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = value_sets.default_dir()
    monkeypatch.setenv(value_sets.ENV_VAR, str(tmp_path))
    assert value_sets.default_dir() == tmp_path
    mc = table("medical_claim", [stay("A", "c1", "2025-03-01", "2025-03-05", HEART_FAILURE)])
    elig = table("eligibility", [member("A", "1950-01-01")])
    out = pqi_events(encounters(mc), mc, elig, value_sets_dir=real).to_polars()
    assert sorted(out["pqi_number"]) == ["08", "90", "92"]


def test_value_set_file_without_its_columns_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / value_sets.PQI_FOLDER
    folder.mkdir()
    (folder / value_sets.PQI_MEASURES).write_text("pqi_number,pqi_name,pqi_description\n")
    (folder / value_sets.PQI_VALUE_SETS).write_text("code,name\nI10,hypertension\n")
    with pytest.raises(ValueError, match=r"pqi__value_sets\.csv: expected columns value_set_name"):
        value_sets.pqi_value_sets(tmp_path)


@pytest.fixture(scope="module")
def population() -> dict[str, pl.DataFrame]:
    return generate(members=2000, seed=11).tables


def test_generated_population_gives_finite_rates_and_events_on_real_stays(
    population: dict[str, pl.DataFrame],
) -> None:
    mc = ibis.memtable(population["medical_claim"].to_arrow())
    elig = ibis.memtable(population["eligibility"].to_arrow())
    enc = encounters(mc)
    ev = pqi_events(enc, mc, elig)
    through = population["eligibility"]["enrollment_end_date"].max()
    assert isinstance(through, datetime.date)
    rates = pqi_rates(ev, member_months(elig, through), elig).to_polars()
    events_df = ev.to_polars()
    stays = enc.filter(enc.encounter_type == "inpatient").to_polars()

    assert rates.height > 0
    assert all(math.isfinite(x) for x in rates["rate_per_100000"])
    assert (rates["denominator"] > 0).all()
    overall = rates.filter(pl.col("pqi_number") == "90")
    assert overall["numerator"].sum() > 0

    # Each event is one of that person's inpatient stays, with its dates.
    on_stays = events_df.join(
        stays.select("person_id", "encounter_id", "start_date", "end_date"),
        on=["person_id", "encounter_id"],
        how="left",
    )
    assert on_stays["start_date"].null_count() == 0
    assert (on_stays["admit_date"] == on_stays["start_date"]).all()
    assert (on_stays["discharge_date"] == on_stays["end_date"]).all()

    # Principal-diagnosis PQIs: the stay's principal diagnosis is in that PQI's value set.
    principal = {
        "01": {("01", "diabetes_with_short-term_complications_diagnosis_codes")},
        "08": {("08", "heart_failure_diagnosis_codes")},
        "05": {("05", "asthma"), ("05", "chronic_obstructive_pulmonary_disorder")},
        "14": {("14", "uncontrolled_diabetes_diagnosis_codes")},
    }
    with_dx = events_df.join(
        stays.select("encounter_id", "primary_diagnosis_code"), on="encounter_id"
    )
    for number, sets in principal.items():
        allowed = set().union(*(VALUE_SETS[key] for key in sets))
        codes = set(with_dx.filter(pl.col("pqi_number") == number)["primary_diagnosis_code"])
        assert codes <= allowed, number

    # The overall composite counts each stay once, whatever the number of PQIs it meets.
    individual = events_df.filter(pl.col("pqi_number").str.to_integer() < 90)
    composite = events_df.filter(pl.col("pqi_number") == "90")
    assert composite["encounter_id"].n_unique() == composite.height
    assert set(composite["encounter_id"]) == set(individual["encounter_id"])


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_pqi_rates_on_spark_equal_duckdb() -> None:
    pytest.importorskip("pyspark")
    from caseboard.analytics.engine import connect

    tables = generate(members=100, seed=5).tables
    mc = ibis.memtable(tables["medical_claim"].to_arrow())
    elig = ibis.memtable(tables["eligibility"].to_arrow())
    ev = pqi_events(encounters(mc), mc, elig)
    rates = pqi_rates(ev, member_months(elig, THROUGH), elig)

    keys = ["year", "pqi_number"]
    on_duckdb = pl.from_arrow(connect("duckdb").to_pyarrow(rates))
    on_spark = pl.from_arrow(connect("spark").to_pyarrow(rates))
    assert isinstance(on_duckdb, pl.DataFrame) and isinstance(on_spark, pl.DataFrame)
    assert on_duckdb["numerator"].sum() > 0
    assert_frame_equal(on_spark.sort(keys), on_duckdb.sort(keys))
