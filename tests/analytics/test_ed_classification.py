"""NYU ED classification (Johnston ICD-10 update) on hand-built visits.

Expected probabilities are read from Johnston's table with the csv module in the test, not
through the mart, and the arithmetic (avoidable share, tie rule) is done here by hand.
"""

from __future__ import annotations

import csv
import math
from typing import Any

import ibis
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from caseboard.analytics import value_sets
from caseboard.analytics.marts.ed_classification import (
    ed_classification,
    ed_classification_by_year,
)
from caseboard.analytics.marts.encounters import encounters
from caseboard.demo.population import generate
from tests.analytics.claims_builder import ed_facility, inpatient, table

# Johnston's column → ours.
COLUMNS = {
    "edcnnpa": "emergent_ed_not_preventable",
    "edcnpa": "emergent_ed_preventable",
    "epct": "emergent_primary_care",
    "noner": "non_emergent",
    "injury": "injury",
    "psych": "mental_health",
    "alcohol": "alcohol",
    "drug": "drug",
}


def johnston_row(code: str) -> dict[str, float] | None:
    path = value_sets.default_dir() / value_sets.ED_FOLDER / value_sets.ED_JOHNSTON_ICD10
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["icd10"] == code:
                return {ours: float(row[theirs]) for theirs, ours in COLUMNS.items()}
    return None


def visit(person: str, claim: str, day: str, dx: str) -> dict[str, Any]:
    row = ed_facility(person, claim, day, 500.0)
    row["diagnosis_code_1"] = dx
    return row


def classify(rows: list[dict[str, Any]], **kwargs: Any) -> pl.DataFrame:
    mc = table("medical_claim", rows)
    return ed_classification(encounters(mc), **kwargs).to_polars().sort("encounter_id")


def test_visit_gets_the_probabilities_of_its_diagnosis_row() -> None:
    expected = johnston_row("N390")  # urinary tract infection, site not specified
    assert expected is not None
    out = classify([visit("A", "e1", "2025-04-02", "N390")]).row(0, named=True)
    for column, probability in expected.items():
        assert out[column] == pytest.approx(probability), column
    assert out["unclassified"] == 0.0
    assert out["johnston_code"] == "N390"
    assert out["avoidable_probability"] == pytest.approx(
        expected["non_emergent"]
        + expected["emergent_primary_care"]
        + expected["emergent_ed_preventable"]
    )
    # noner 0.46 is the largest of the four.
    assert max(expected, key=lambda c: expected[c]) == "non_emergent"
    assert out["classification"] == "non_emergent"
    assert out["classification_name"] == "Non-Emergent"


def test_chest_pain_is_mostly_emergent_and_not_preventable() -> None:
    expected = johnston_row("R079")
    assert expected is not None
    out = classify([visit("A", "e1", "2025-04-02", "R07.9")]).row(0, named=True)
    assert out["emergent_ed_not_preventable"] == pytest.approx(
        expected["emergent_ed_not_preventable"]
    )
    assert out["avoidable_probability"] == pytest.approx(
        1 - expected["emergent_ed_not_preventable"]
    )
    assert out["classification"] == "emergent_ed_not_preventable"


def test_special_categories_take_the_whole_visit() -> None:
    out = classify(
        [
            visit("A", "e1", "2025-04-02", "F329"),  # depression
            visit("B", "e2", "2025-04-02", "S93401A"),  # ankle sprain, initial encounter
        ]
    )
    assert johnston_row("F329") == {**dict.fromkeys(COLUMNS.values(), 0.0), "mental_health": 1.0}
    assert johnston_row("S93401A") == {**dict.fromkeys(COLUMNS.values(), 0.0), "injury": 1.0}
    assert out["classification"].to_list() == ["mental_health", "injury"]
    assert out["avoidable_probability"].to_list() == [0.0, 0.0]


def test_a_tie_goes_to_the_more_emergent_category() -> None:
    expected = johnston_row("J441")  # COPD with acute exacerbation: 0.5 / 0.5
    assert expected is not None
    assert expected["emergent_ed_preventable"] == expected["emergent_primary_care"] == 0.5
    out = classify([visit("A", "e1", "2025-04-02", "J441")]).row(0, named=True)
    assert out["classification"] == "emergent_ed_preventable"


def test_code_missing_from_the_table_is_unclassified() -> None:
    assert johnston_row("U071") is None and johnston_row("U07") is None  # COVID-19, from 2020
    out = classify([visit("A", "e1", "2025-04-02", "U071")]).row(0, named=True)
    assert out["unclassified"] == 1.0
    assert out["johnston_code"] is None
    assert out["avoidable_probability"] == 0.0
    assert all(out[column] == 0.0 for column in COLUMNS.values())
    assert out["classification"] == "unclassified"


def test_code_created_after_2017_takes_its_parents_row_unless_exact_match_is_asked() -> None:
    # R51.9 (headache, unspecified) replaced R51 in October 2020.
    assert johnston_row("R519") is None
    parent = johnston_row("R51")
    assert parent is not None
    rows = [visit("A", "e1", "2025-04-02", "R519")]
    fallback = classify(rows).row(0, named=True)
    assert fallback["johnston_code"] == "R51"
    assert fallback["non_emergent"] == pytest.approx(parent["non_emergent"])
    exact = classify(rows, parent_codes=False).row(0, named=True)
    assert exact["classification"] == "unclassified"


def test_ed_visit_that_led_to_an_admission_is_not_classified() -> None:
    rows = [
        visit("A", "e1", "2025-04-02", "N390"),
        inpatient("A", "c1", "2025-04-02", "2025-04-05", 5000.0),
        visit("A", "e2", "2025-06-10", "N390"),
    ]
    out = classify(rows)
    assert out["start_date"].cast(pl.String).to_list() == ["2025-06-10"]


def test_yearly_expected_avoidable_visits_and_share() -> None:
    uti, chest_pain = johnston_row("N390"), johnston_row("R079")
    assert uti is not None and chest_pain is not None
    avoidable = ("non_emergent", "emergent_primary_care", "emergent_ed_preventable")
    rows = [
        visit("A", "e1", "2025-04-02", "N390"),
        visit("A", "e2", "2025-05-02", "R079"),
        visit("B", "e3", "2025-06-02", "F329"),
        visit("B", "e4", "2024-06-02", "U071"),
    ]
    mc = table("medical_claim", rows)
    out = ed_classification_by_year(ed_classification(encounters(mc))).to_polars()
    by_year = {r["year"]: r for r in out.iter_rows(named=True)}
    expected_2025 = sum(uti[c] for c in avoidable) + sum(chest_pain[c] for c in avoidable)
    assert by_year[2025]["visits"] == 3
    assert by_year[2025]["expected_avoidable_visits"] == pytest.approx(expected_2025)
    assert by_year[2025]["avoidable_share"] == pytest.approx(expected_2025 / 3)
    assert by_year[2025]["expected_mental_health"] == pytest.approx(1.0)
    assert by_year[2024]["visits"] == 1
    assert by_year[2024]["avoidable_share"] == 0.0
    assert by_year[2024]["expected_unclassified"] == 1.0


@pytest.fixture(scope="module")
def population() -> dict[str, pl.DataFrame]:
    return generate(members=2000, seed=11).tables


def test_generated_population_classifies_every_ed_visit_once(
    population: dict[str, pl.DataFrame],
) -> None:
    mc = ibis.memtable(population["medical_claim"].to_arrow())
    enc = encounters(mc)
    visits = ed_classification(enc).to_polars()
    ed = enc.filter(enc.encounter_type == "ed").to_polars()
    assert visits.height == ed.height > 0
    assert visits["encounter_id"].n_unique() == visits.height
    assert set(visits["encounter_id"]) == set(ed["encounter_id"])
    totals = visits.select(pl.sum_horizontal([*COLUMNS.values(), "unclassified"]))
    assert all(t == pytest.approx(1.0) for t in totals.to_series())
    yearly = ed_classification_by_year(ed_classification(enc)).to_polars()
    assert yearly["visits"].sum() == visits.height
    assert all(0.0 <= share <= 1.0 and math.isfinite(share) for share in yearly["avoidable_share"])


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_ed_classification_on_spark_equals_duckdb() -> None:
    pytest.importorskip("pyspark")
    from caseboard.analytics.engine import connect

    tables = generate(members=100, seed=5).tables
    mc = ibis.memtable(tables["medical_claim"].to_arrow())
    visits = ed_classification(encounters(mc))
    on_duckdb = pl.from_arrow(connect("duckdb").to_pyarrow(visits))
    on_spark = pl.from_arrow(connect("spark").to_pyarrow(visits))
    assert isinstance(on_duckdb, pl.DataFrame) and isinstance(on_spark, pl.DataFrame)
    assert on_duckdb.height > 0
    assert_frame_equal(on_spark.sort("encounter_id"), on_duckdb.sort("encounter_id"))
