"""Risk scores (CMS-HCC V24/V28, HHS-HCC) checked against hccinfhir and hccpy, member by member.

The agreement tests score members with `caseboard.analytics.hcc.score` and, independently, with
the reference packages (`reference_scores`: polars prepares each member's demographics and claim
lines, then hccinfhir and hccpy score them one call at a time). The unit tests check single rules
on hand-built members against CMS's coefficient file read here directly.
"""

from __future__ import annotations

import csv
import importlib.resources
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import polars as pl
import pytest
from hccinfhir.model_calculate import calculate_raf

from caseboard.analytics import hcc
from caseboard.analytics.engine import InputTables, connect, read_input
from caseboard.analytics.input_layer import TUVA_COLUMNS, TUVA_TYPES
from caseboard.demo.population import generate, write

TOLERANCE = 0.001
REQUIRED_AGREEMENT = 0.999
_POLARS = {
    "varchar": pl.String(),
    "date": pl.Date(),
    "integer": pl.Int32(),
    "boolean": pl.Boolean(),
    "timestamp": pl.Datetime("us"),
    "number": pl.Float64(),
    "float": pl.Float64(),
}


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An input-layer table with every Tuva column, the unnamed ones null."""
    columns = TUVA_COLUMNS[table]
    return pl.DataFrame(
        {c: [row.get(c) for row in rows] for c in columns},
        schema={c: _POLARS[TUVA_TYPES[table][c]] for c in columns},
    )


def write_inputs(directory: Path, eligibility: pl.DataFrame, claims: pl.DataFrame) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    eligibility.write_parquet(directory / "eligibility.parquet")
    claims.write_parquet(directory / "medical_claim.parquet")
    frame("pharmacy_claim", []).write_parquet(directory / "pharmacy_claim.parquet")
    return directory


def member(
    person_id: str,
    birth_date: date,
    *,
    gender: str = "female",
    dual: str | None = None,
    orec: str | None = None,
    start: date = date(2025, 1, 1),
    end: date = date(2026, 12, 31),
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "gender": gender,
        "birth_date": birth_date,
        "enrollment_start_date": start,
        "enrollment_end_date": end,
        "dual_status_code": dual,
        "original_reason_entitlement_code": orec,
    }


def claim_line(
    person_id: str,
    diagnoses: list[str],
    *,
    hcpcs: str | None = "99213",
    bill_type: str | None = None,
    day: date = date(2025, 6, 1),
) -> dict[str, Any]:
    return {
        "claim_id": f"{person_id}-{day:%Y%m%d}-{bill_type or 'P'}-{hcpcs}",
        "claim_line_number": 1,
        "claim_type": "institutional" if bill_type else "professional",
        "person_id": person_id,
        "claim_start_date": day,
        "claim_end_date": day,
        "bill_type_code": bill_type,
        "hcpcs_code": hcpcs,
        "diagnosis_code_type": "icd-10-cm",
        **{f"diagnosis_code_{i + 1}": code for i, code in enumerate(diagnoses)},
    }


def agreement(ours: pl.DataFrame, reference: pl.DataFrame) -> dict[str, float]:
    """Per model: the share of members whose score is within TOLERANCE and whose HCCs match."""
    joined = ours.join(reference, on=["person_id", "model_version"], how="full", suffix="_ref")
    agree = (
        ((pl.col("risk_score") - pl.col("risk_score_ref")).abs() < TOLERANCE)
        & (pl.col("hccs") == pl.col("hccs_ref"))
    ).fill_null(False)
    rates = joined.group_by(pl.coalesce("model_version", "model_version_ref")).agg(agree.mean())
    return dict(rates.iter_rows())


def coefficient(name: str, model: str = "C24") -> float:
    """A CMS-HCC coefficient read straight from hccinfhir's 2026 coefficient file."""
    path = importlib.resources.files("hccinfhir.data").joinpath("ra_coefficients_2026.csv")
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["model_version"] == model and row["coefficient"].lower() == name.lower():
                return float(row["value"])
    raise KeyError(name)


# --------------------------------------------------------------------------------------------
# Agreement with the reference packages
# --------------------------------------------------------------------------------------------
@dataclass
class Scored:
    ours: pl.DataFrame
    reference: pl.DataFrame


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("population")
    write(generate(members=3_000, seed=20_260_201), directory)
    return directory


@pytest.fixture(scope="module")
def population_scores(population: Path) -> Scored:
    con = connect()
    ours = hcc.score(con, read_input(con, population)).to_polars()
    reference = hcc.reference_scores(
        pl.read_parquet(population / "eligibility.parquet"),
        pl.read_parquet(population / "medical_claim.parquet"),
    )
    return Scored(ours, reference)


def test_every_member_of_a_generated_population_scores_as_the_references_do(
    population_scores: Scored,
) -> None:
    ours, reference = population_scores.ours, population_scores.reference
    assert ours.height == reference.height
    assert ours.group_by("model_version").len().height == 3
    assert ours["person_id"].n_unique() > 2_000
    rates = agreement(ours, reference)
    assert set(rates) == {"V24", "V28", "HHS-HCC"}
    for model, rate in rates.items():
        assert rate >= REQUIRED_AGREEMENT, f"{model}: {rate:.4%} of members agree"


def test_the_generated_population_is_not_trivial_to_agree_on(
    population_scores: Scored,
) -> None:
    # Most members carry HCCs and many several, so hierarchies and interactions are in play.
    ours = population_scores.ours
    assert ours.filter(pl.col("hccs").list.len() > 0).height > 1_000
    assert ours.filter(pl.col("hccs").list.len() >= 3).height > 100


@pytest.fixture(scope="module")
def random_members(tmp_path_factory: pytest.TempPathFactory) -> Scored:
    """Members with random mapped diagnoses, ages 0-100, sexes, dual codes, OREC and LTI flags.

    The generated population uses a few dozen common codes; these cover the whole mappings, so
    rare HCCs, hierarchies, interactions, age/sex edits and the infant model are exercised too.
    Left out: the V28 codes that map to two CCs and that an age edit invalidates (see
    test_an_invalidated_code_loses_all_its_ccs), where hccinfhir's answer depends on Python's
    string hashing.
    """
    rng = random.Random(7)
    cms = hcc.cms_reference(2026, ("V24", "V28"))
    hhs = hcc.hhs_reference()
    two_cc = cms.dx_to_cc.group_by("model", "dx").len().filter(pl.col("len") > 1)["dx"]
    invalidated = cms.edits.filter(pl.col("action") == "invalid")["dx"]
    unstable = set(two_cc.to_list()) & set(invalidated.to_list())
    codes = sorted(
        (set(cms.dx_to_cc["dx"].to_list()) | set(hhs.dx_to_cc["dx"].to_list())) - unstable
    )
    people, lines = [], []
    for i in range(1_500):
        person_id = f"R{i:05d}"
        age = rng.choice([0, 1, rng.randint(2, 20), rng.randint(21, 64), rng.randint(65, 100)])
        birth = min(
            date(2025, 12, 31) - timedelta(days=int(age * 365.25) + rng.randint(0, 300)),
            date(2025, 6, 30),
        )
        person = member(
            person_id,
            birth,
            gender=rng.choice(["female", "male"]),
            dual=rng.choice([None, None, "00", "01", "02", "03", "04", "05", "06", "08"]),
            orec=rng.choice([None, None, "0", "1", "2", "3"]),
            start=max(birth, date(2025, rng.choice([1, 1, 1, 4, 9]), 1)),
        )
        person["long_term_institutional_flag"] = 1 if rng.random() < 0.1 else None
        people.append(person)
        lines.append(claim_line(person_id, rng.sample(codes, rng.randint(0, 12))))
    eligibility, claims = frame("eligibility", people), frame("medical_claim", lines)
    directory = write_inputs(tmp_path_factory.mktemp("random"), eligibility, claims)
    con = connect()
    ours = hcc.score(con, read_input(con, directory)).to_polars()
    return Scored(ours, hcc.reference_scores(eligibility, claims))


def test_members_with_random_diagnoses_score_as_the_references_do(
    random_members: Scored,
) -> None:
    rates = agreement(random_members.ours, random_members.reference)
    assert set(rates) == {"V24", "V28", "HHS-HCC"}
    for model, rate in rates.items():
        assert rate >= REQUIRED_AGREEMENT, f"{model}: {rate:.4%} of members agree"
    # The draw reaches what the generated population does not: nearly all of each model's CCs.
    cms = hcc.cms_reference(2026, ("V24", "V28")).dx_to_cc
    available = dict(cms.group_by("model").agg(pl.col("cc").n_unique()).iter_rows())
    available["HHS-HCC"] = hcc.hhs_reference().dx_to_cc["cc"].n_unique()
    seen = (
        random_members.ours.explode("hccs").group_by("model_version").agg(pl.col("hccs").n_unique())
    )
    for model, count in seen.iter_rows():
        assert count >= 0.85 * available[model], f"{model}: {count} of {available[model]} CCs"


# --------------------------------------------------------------------------------------------
# Single rules on hand-built members
# --------------------------------------------------------------------------------------------
SCENARIOS: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    # E11.22 (diabetes with CKD) and E11.9 (diabetes without complication).
    "diabetes": (member("diabetes", date(1955, 6, 1)), [claim_line("diabetes", ["E1122", "E119"])]),
    # E11.9 and I50.22 (chronic systolic heart failure): the diabetes x heart failure term.
    "diabetes_chf": (
        member("diabetes_chf", date(1955, 6, 1)),
        [claim_line("diabetes_chf", ["E119", "I5022"])],
    ),
    # 80053 (metabolic panel) is a lab test, not a face-to-face encounter.
    "lab_only": (
        member("lab_only", date(1955, 6, 1)),
        [claim_line("lab_only", ["I5022"], hcpcs="80053")],
    ),
    # An inpatient stay (bill type 111) counts without any procedure code ...
    "inpatient": (
        member("inpatient", date(1955, 6, 1)),
        [claim_line("inpatient", ["I5022"], hcpcs=None, bill_type="111")],
    ),
    # ... a skilled nursing facility bill (211) does not, whatever the procedure ...
    "snf": (
        member("snf", date(1955, 6, 1)),
        [claim_line("snf", ["I5022"], hcpcs="99213", bill_type="211")],
    ),
    # ... and an outpatient bill (131) needs an eligible procedure on the line.
    "outpatient": (
        member("outpatient", date(1955, 6, 1)),
        [
            claim_line("outpatient", ["I5022"], hcpcs="80053", bill_type="131"),
            claim_line("outpatient", ["E119"], hcpcs="99213", bill_type="131"),
        ],
    ),
    # Diagnoses count from the performance year (2025) only.
    "last_year": (
        member("last_year", date(1955, 6, 1), start=date(2024, 1, 1)),
        [claim_line("last_year", ["I5022"], day=date(2024, 11, 30))],
    ),
    # Age on 1 February 2026: 65 the day of the birthday, 64 the day before it.
    "turns_65": (member("turns_65", date(1961, 2, 1)), []),
    "still_64": (member("still_64", date(1961, 2, 2)), []),
    # dual_status_code 02 (QMB Plus) is a full-benefit dual: the CFA segment.
    "full_dual": (member("full_dual", date(1955, 6, 1), dual="02"), []),
    # Ages 10 and 40 with I70.231 (atherosclerosis with ulceration), which maps to two V28 CCs
    # and which CMS's edits invalidate under 15.
    "child_i70": (member("child_i70", date(2015, 6, 1)), [claim_line("child_i70", ["I70231"])]),
    "adult_i70": (member("adult_i70", date(1985, 6, 1)), [claim_line("adult_i70", ["I70231"])]),
    # A member whose sex is unknown cannot be placed in any model.
    "unknown_sex": (member("unknown_sex", date(1955, 6, 1), gender="unknown"), []),
    # Enrolled only in the payment year: a new enrollee, out of scope.
    "new_in_2026": (member("new_in_2026", date(1955, 6, 1), start=date(2026, 1, 1)), []),
}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    people = [person for person, _ in SCENARIOS.values()]
    lines = [line for _, person_lines in SCENARIOS.values() for line in person_lines]
    directory = write_inputs(
        tmp_path_factory.mktemp("scenarios"),
        frame("eligibility", people),
        frame("medical_claim", lines),
    )
    con = connect()
    rows = hcc.score(con, read_input(con, directory)).to_polars().iter_rows(named=True)
    return {(row["person_id"], row["model_version"]): row for row in rows}


def test_diabetes_with_complications_drops_the_lower_diabetes_hcc(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert scenarios["diabetes", "V24"]["hccs"] == ["HCC18"]
    assert scenarios["diabetes", "V28"]["hccs"] == ["HCC37"]
    assert scenarios["diabetes", "HHS-HCC"]["hccs"] == ["HHS_HCC020"]


def test_diabetes_and_heart_failure_add_their_interaction(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    # A 70-year-old woman, community non-dual aged (CNA): by hand from CMS's coefficients.
    expected = sum(
        coefficient(name)
        for name in ("CNA_F70_74", "CNA_HCC19", "CNA_HCC85", "CNA_DIABETES_CHF", "CNA_D2")
    )
    scored = scenarios["diabetes_chf", "V24"]
    assert scored["hccs"] == ["HCC19", "HCC85"]
    assert scored["risk_score"] == pytest.approx(expected, abs=1e-9)
    v28 = calculate_raf(["E119", "I5022"], "CMS-HCC Model V28", age=70, sex="F", orec="0")
    assert "DIABETES_HF_V28" in v28.coefficients
    assert scenarios["diabetes_chf", "V28"]["risk_score"] == pytest.approx(v28.risk_score)


def test_a_diagnosis_on_a_non_eligible_procedure_is_ignored(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert "80053" not in set(hcc.eligible_procedures(2026)["code"].to_list())
    for model in ("V24", "V28", "HHS-HCC"):
        assert scenarios["lab_only", model]["hccs"] == []
    assert scenarios["lab_only", "V24"]["risk_score"] == pytest.approx(coefficient("CNA_F70_74"))


def test_an_inpatient_bill_counts_without_a_procedure_code(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert scenarios["inpatient", "V24"]["hccs"] == ["HCC85"]
    assert scenarios["inpatient", "HHS-HCC"]["hccs"] == ["HHS_HCC130"]


def test_a_skilled_nursing_bill_does_not_count(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert scenarios["snf", "V24"]["hccs"] == []


def test_an_outpatient_bill_counts_only_on_an_eligible_procedure(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert scenarios["outpatient", "V24"]["hccs"] == ["HCC19"]


def test_diagnoses_before_the_performance_year_are_ignored(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    scored = scenarios["last_year", "V24"]
    assert scored["performance_year"] == 2025
    assert scored["hccs"] == []


def test_age_is_taken_on_the_first_of_february_of_the_payment_year(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    # 65 on 1 Feb: aged, non-dual community segment; 64: disabled segment (OREC taken as 1).
    assert scenarios["turns_65", "V24"]["risk_score"] == pytest.approx(coefficient("CNA_F65_69"))
    assert scenarios["still_64", "V24"]["risk_score"] == pytest.approx(coefficient("CND_F60_64"))


def test_a_full_benefit_dual_is_scored_on_the_full_dual_segment(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert scenarios["full_dual", "V24"]["risk_score"] == pytest.approx(coefficient("CFA_F70_74"))
    assert scenarios["full_dual", "V28"]["risk_score"] == pytest.approx(
        coefficient("CFA_F70_74", model="C28")
    )


def test_an_invalidated_code_loses_all_its_ccs(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    # CMS: I70.231 is not valid under 15, so neither of its V28 CCs (263, 383) counts.
    # hccinfhir drops only one of the two, which one depending on Python's string hashing
    # (docs/analytics/hcc.md, "Where we differ").
    assert scenarios["child_i70", "V28"]["hccs"] == []
    assert scenarios["adult_i70", "V28"]["hccs"] == ["HCC263"]


def test_members_without_a_known_sex_or_enrolment_in_the_year_are_not_scored(
    scenarios: dict[tuple[str, str], dict[str, Any]],
) -> None:
    scored_people = {person_id for person_id, _ in scenarios}
    assert "unknown_sex" not in scored_people
    assert "new_in_2026" not in scored_people
    assert len(scored_people) == len(SCENARIOS) - 2


def test_the_result_has_the_documented_columns(tmp_path: Path) -> None:
    directory = write_inputs(
        tmp_path,
        frame("eligibility", [member("only", date(1980, 3, 3))]),
        frame("medical_claim", [claim_line("only", ["I5022"])]),
    )
    con = connect()
    result = hcc.score(con, read_input(con, directory), models=("V28",))
    assert result.schema() == ibis.schema(
        {
            "person_id": "string",
            "model_version": "string",
            "performance_year": "int64",
            "risk_score": "float64",
            "hccs": "array<string>",
        }
    )


def test_unknown_models_and_years_without_tables_are_refused(tmp_path: Path) -> None:
    directory = write_inputs(
        tmp_path,
        frame("eligibility", [member("only", date(1980, 3, 3))]),
        frame("medical_claim", []),
    )
    con = connect()
    inputs = read_input(con, directory)
    with pytest.raises(ValueError, match="V22"):
        hcc.score(con, inputs, models=("V22",))
    with pytest.raises(hcc.HccReferenceError, match="payment year 2031"):
        hcc.score(con, inputs, payment_year=2031)


# --------------------------------------------------------------------------------------------
# The same expression on Spark
# --------------------------------------------------------------------------------------------
@pytest.fixture
def spark_partitions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Two hundred members fit in one partition; more only adds tasks.
    monkeypatch.setenv("CASEBOARD_SPARK_PARTITIONS", "1")
    yield


@pytest.mark.spark
@pytest.mark.usefixtures("spark_partitions")
def test_spark_gives_the_same_scores_as_duckdb(tmp_path: Path) -> None:
    write(generate(members=200, seed=11), tmp_path)
    duck = connect()
    expected = hcc.score(duck, read_input(duck, tmp_path)).to_polars()
    spark = connect("spark")
    got = hcc.score(spark, read_input(spark, tmp_path)).to_polars()

    assert got.schema == expected.schema
    joined = expected.join(got, on=["person_id", "model_version"], how="full", suffix="_spark")
    assert joined.height == expected.height == got.height
    assert joined.filter(pl.col("hccs") != pl.col("hccs_spark")).is_empty()
    assert (joined["risk_score"] - joined["risk_score_spark"]).abs().max() < 1e-9


# --------------------------------------------------------------------------------------------
# DuckDB: the SQL compiled once and bound to each call's inputs
# --------------------------------------------------------------------------------------------
def _sorted(scores: pl.DataFrame) -> pl.DataFrame:
    return scores.sort(["person_id", "model_version"])


def test_the_reused_sql_scores_like_the_expression_itself(population: Path) -> None:
    """`score` on DuckDB runs SQL compiled once per input schema; the expression built over the
    same inputs and run by Ibis directly must give the same rows."""
    con = connect()
    inputs = read_input(con, population)
    options = hcc._Options(
        models=hcc.MODELS,
        payment_year=2026,
        perf_year=2025,
        hhs_metal_level=hcc.HHS_DEFAULT_METAL_LEVEL,
        hhs_model_year=hcc.HHS_DEFAULT_MODEL_YEAR,
    )
    direct = hcc._expression(inputs.eligibility, inputs.medical_claim, options, engine="duckdb")
    expected = _sorted(direct.to_polars())
    got = _sorted(hcc.score(con, inputs).to_polars())
    assert got.height == expected.height > 0
    assert got.select("person_id", "model_version", "performance_year", "hccs").equals(
        expected.select("person_id", "model_version", "performance_year", "hccs")
    )
    assert (got["risk_score"] - expected["risk_score"]).abs().max() < 1e-9


def test_each_call_reads_its_own_inputs(population: Path, tmp_path: Path) -> None:
    """Connections, and a derived input on the same connection, share the compiled SQL but each
    result reads the tables it was given."""
    first = connect()
    everyone = hcc.score(first, read_input(first, population))
    second = connect()
    inputs = read_input(second, population)
    scored = hcc.score(second, inputs).to_polars()["person_id"].unique().sort()
    some = scored.head(25).to_list()
    fewer = hcc.score(
        second,
        InputTables(
            eligibility=inputs.eligibility.filter(inputs.eligibility.person_id.isin(some)),
            medical_claim=inputs.medical_claim,
            pharmacy_claim=inputs.pharmacy_claim,
        ),
    )
    one_member = write_inputs(
        tmp_path,
        frame("eligibility", [member("only", date(1980, 3, 3))]),
        frame("medical_claim", [claim_line("only", ["I5022"])]),
    )
    third = connect()  # read_input names its tables: another folder on `second` would replace them
    alone = hcc.score(third, read_input(third, one_member)).to_polars()

    all_rows = _sorted(everyone.to_polars())
    few_rows = _sorted(fewer.to_polars())
    assert set(few_rows["person_id"]) <= set(some)
    assert 0 < few_rows["person_id"].n_unique() < all_rows["person_id"].n_unique()
    same_members = _sorted(all_rows.filter(pl.col("person_id").is_in(some)))
    exact = ["person_id", "model_version", "performance_year", "hccs"]
    assert few_rows.select(exact).equals(same_members.select(exact))
    # Sums of coefficients may add up in another order: equal to rounding.
    assert (few_rows["risk_score"] - same_members["risk_score"]).abs().max() < 1e-9
    assert set(alone["person_id"]) == {"only"}
    assert "HCC85" in alone.filter(pl.col("model_version") == "V24")["hccs"][0].to_list()
