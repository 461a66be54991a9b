"""The predictive model: features counted by hand on a tiny input, and the trained models held
out in time and in members on a generated population."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hccpy.hhshcc import HHSHCCEngine

from caseboard.analytics import model
from caseboard.analytics.engine import InputTables, connect, read_input
from caseboard.demo.population import generate, write
from tests.analytics.claims_builder import d, ed_facility, fill, inpatient, office, span, table

INDEX = datetime.date(2025, 6, 30)  # look-back 1 Jul 2024 – 30 Jun 2025
AS_OF = datetime.date(2026, 9, 30)  # the generated population's last day


def _person(pid: str, start: str, end: str | None, birth: str, gender: str) -> dict[str, Any]:
    return {**span(pid, start, end), "birth_date": d(birth), "gender": gender}


def _tiny() -> InputTables:
    eligibility = table(
        "eligibility",
        [
            _person("A", "2024-01-01", None, "1960-07-01", "female"),  # 65 the day after INDEX
            _person("B", "2025-02-01", None, "1990-03-15", "male"),  # joined in February
            _person("C", "2023-01-01", "2025-03-31", "1980-01-01", "female"),  # gone by INDEX
            _person("D", "2024-01-01", "2025-09-30", "2000-01-01", "male"),  # 3 months after
        ],
    )
    medical = table(
        "medical_claim",
        [
            ed_facility("A", "a0", "2024-06-15", 500),  # before the look-back
            office("A", "a1", "2024-09-10", 150),  # E11.9, the prior six months
            inpatient("A", "a2", "2025-03-01", "2025-03-05", 20000),  # I50.23
            ed_facility("A", "a3", "2025-05-01", 900),  # J45.901
            office("A", "a4", "2025-05-10", 150),
            # After INDEX: an outcome, never a feature (sickle-cell crisis).
            {
                **inpatient("A", "a5", "2025-08-01", "2025-08-03", 10000),
                "diagnosis_code_1": "D5700",
            },
            office("B", "b1", "2025-03-01", 100),
            office("D", "d1", "2025-03-01", 100),
        ],
    )
    pharmacy = table(
        "pharmacy_claim", [fill("A", "r1", "2025-04-01", 60), fill("A", "r2", "2025-08-01", 60)]
    )
    return InputTables(eligibility=eligibility, medical_claim=medical, pharmacy_claim=pharmacy)


@pytest.fixture(scope="module")
def tiny_frame() -> pl.DataFrame:
    return model.build_features(connect(), _tiny(), INDEX)


@pytest.fixture(scope="module")
def tiny_features(tiny_frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["person_id"]: row for row in tiny_frame.iter_rows(named=True)}


def test_features_count_the_look_back_window(tiny_features: dict[str, dict[str, Any]]) -> None:
    a = tiny_features["A"]
    assert {k: a[k] for k in ("age", "female", "months_enrolled")} == {
        "age": 64,
        "female": 1,
        "months_enrolled": 12,
    }
    # The June 2024 ED visit is before the window; the August 2025 stay after it.
    assert {
        k: a[k]
        for k in (
            "admissions",
            "inpatient_days",
            "days_since_discharge",
            "ed_visits",
            "observation_stays",
            "office_visits",
            "pharmacy_fills",
        )
    } == {
        "admissions": 1,
        "inpatient_days": 4,
        "days_since_discharge": 117,  # 5 Mar to 30 Jun 2025
        "ed_visits": 1,
        "observation_stays": 0,
        "office_visits": 2,
        "pharmacy_fills": 1,
    }
    assert {k: a[k] for k in a if k.startswith("paid_")} == {
        "paid_total": 21260.0,
        "paid_inpatient": 20000.0,
        "paid_emergency_department": 900.0,
        "paid_outpatient": 0.0,
        "paid_professional": 300.0,
        "paid_pharmacy": 60.0,
        "paid_last_6m": 21110.0,  # January–June 2025
        "paid_prior_6m": 150.0,  # the September office visit
    }
    assert a["cost_trend"] == 21110.0 - 150.0


def test_conditions_and_avoidable_use_come_from_window_diagnoses(
    tiny_features: dict[str, dict[str, Any]],
) -> None:
    a = tiny_features["A"]
    flagged = {name for name in model.CONDITIONS if a[name]}
    assert flagged == {"diabetes", "heart_failure", "asthma"}  # not sickle cell: after INDEX
    assert a["chronic_conditions"] == 3
    assert a["pqi_admissions"] == 1  # PQI 08: heart failure as principal diagnosis
    # J45.901 in Johnston's table: 0.981 emergent-preventable + 0.019 primary-care treatable.
    assert a["avoidable_ed_visits"] == pytest.approx(1.0)


def test_hcc_score_is_the_windows_diagnoses_at_the_age_on_the_index_date(
    tiny_features: dict[str, dict[str, Any]],
) -> None:
    # hccpy, the reference, on A's look-back diagnoses (one from 2024, two from 2025), aged 64
    # on the index date and enrolled all 12 months; the post-index D57.00 is left out.
    reference = HHSHCCEngine("2022").profile(["E119", "I5023", "J45901"], age=64, sex="F")
    a = tiny_features["A"]
    assert a["hcc_count"] == len(reference["hcc_lst"]) == 3
    assert a["risk_hhs_hcc"] == pytest.approx(float(reference["risk_score"]), abs=1e-3)


def test_features_cover_members_enrolled_on_the_index_date(
    tiny_features: dict[str, dict[str, Any]],
) -> None:
    assert sorted(tiny_features) == ["A", "B", "D"]  # C left before INDEX
    b = tiny_features["B"]
    assert (b["months_enrolled"], b["female"], b["days_since_discharge"]) == (5, 0, None)
    assert (b["office_visits"], b["paid_total"], b["cost_trend"]) == (1, 100.0, 100.0)


def test_cohort_needs_six_enrolled_months_after_the_index_date(tiny_frame: pl.DataFrame) -> None:
    labelled = model.label(tiny_frame, model.outcomes(_tiny(), INDEX))
    # D has 3 enrolled months after INDEX; A's August stay is an admission, and A alone is
    # the top 5 % (ceil(5 % of 2 members) = 1).
    assert labelled.select(
        "person_id", "months_after", "admission", "paid_after", "top5_cost"
    ).rows() == [
        ("A", 12, 1, 10060.0, 1),
        ("B", 12, 0, 0.0, 0),
    ]


def test_reasons_read_as_sentences_with_dollars_and_counts() -> None:
    row = {name: 0 for name in model.FEATURE_NAMES} | {
        "age": 58,
        "female": None,
        "ed_visits": 3,
        "paid_total": 1_234_567.4,
        "paid_last_6m": 1_000_000.0,
        "paid_prior_6m": 45.5,
        "heart_failure": 1,
        "days_since_discharge": None,
    }
    said = model.sentences(pl.DataFrame([row])).row(0, named=True)
    assert said["age"] == "Age 58"
    assert said["female"] == "Sex not recorded"
    assert said["ed_visits"] == "3 ED visit(s) in the past year"
    assert said["office_visits"] == "No office visit in the past year"
    assert said["paid_total"] == "$1,234,567 total spend in the past year"
    assert said["cost_trend"] == "Spend $1,000,000 in the last 6 months vs $46 in the 6 before"
    assert said["heart_failure"] == "Diagnosed with heart failure in the past year"
    assert said["diabetes"] == "No diabetes diagnosis in the past year"
    assert said["days_since_discharge"] == "No inpatient stay in the past year"


def test_unknown_ranking_model_is_refused() -> None:
    with pytest.raises(ValueError, match="ranking model must be one of HHS-HCC, V24, V28"):
        model.build_features(connect(), _tiny(), INDEX, ranking_model="V22")


def test_index_dates_are_month_ends() -> None:
    with pytest.raises(ValueError, match="not the last day of a month"):
        model.Window.at(datetime.date(2025, 6, 15))
    assert model.latest_month_end(datetime.date(2026, 9, 12)) == datetime.date(2026, 8, 31)
    assert model.months_later(datetime.date(2024, 2, 29), 12) == datetime.date(2025, 2, 28)


# --------------------------------------------------------------------------------------------
# A generated population of 4,000 members
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> InputTables:
    folder: Path = tmp_path_factory.mktemp("population")
    write(generate(members=4000, seed=11), folder)
    return read_input(connect(), folder)


@pytest.fixture(scope="module")
def trained(population: InputTables) -> model.TrainedModels:
    return model.train(connect(), population, AS_OF)


@pytest.fixture(scope="module")
def predictions(population: InputTables, trained: model.TrainedModels) -> pl.DataFrame:
    return model.predict(connect(), population, trained, AS_OF)


def test_admission_model_beats_the_hcc_baseline_on_held_out_members(
    trained: model.TrainedModels,
) -> None:
    report = trained.report
    assert (report.train_index_date, report.test_index_date) == (
        datetime.date(2024, 9, 30),
        datetime.date(2025, 9, 30),
    )
    admission = report.outcomes["admission"]
    assert admission.test_events >= 30
    assert admission.model.auc > admission.baseline.auc
    assert admission.model.auc > 0.6
    cost = report.outcomes["top5_cost"]
    assert cost.model.auc > max(cost.baseline.auc, 0.6)


def test_report_has_calibration_and_lift(trained: model.TrainedModels) -> None:
    saved = json.loads(trained.report.to_json())
    assert saved["ranking_model"] == "HHS-HCC"
    for outcome in ("admission", "top5_cost"):
        for side in ("model", "baseline"):
            scores = saved["outcomes"][outcome][side]
            bins = scores["calibration"]
            assert len(bins) == model.CALIBRATION_BINS
            assert sum(b["members"] for b in bins) == saved["outcomes"][outcome]["test_members"]
            predicted = [b["mean_predicted"] for b in bins]
            assert predicted == sorted(predicted)
            assert 0 < scores["brier"] < 0.25
        assert saved["outcomes"][outcome]["model"]["top_decile_lift"] > 2


def test_predictions_are_probabilities_for_every_enrolled_member(
    population: InputTables, predictions: pl.DataFrame
) -> None:
    e = population.eligibility
    enrolled = (
        e.filter((e.enrollment_start_date <= AS_OF) & (e.enrollment_end_date >= AS_OF))
        .person_id.nunique()
        .to_pyarrow()
        .as_py()
    )
    assert predictions.height == enrolled == predictions["person_id"].n_unique()
    for column in ("p_admission", "p_top5_cost"):
        assert predictions[column].is_between(0.0, 1.0).all()
    assert predictions["p_admission"].to_list() == sorted(
        predictions["p_admission"].to_list(), reverse=True
    )


def test_probabilities_are_the_boosters_own(
    population: InputTables, trained: model.TrainedModels, predictions: pl.DataFrame
) -> None:
    # predict() takes them from the TreeSHAP contributions: they must be LightGBM's scores.
    frame = model.build_features(connect(), population, model.latest_month_end(AS_OF))
    x = model._matrix(frame, model.FEATURE_NAMES)
    ours = frame.select("person_id").join(predictions, on="person_id", how="left")
    for outcome in ("admission", "top5_cost"):
        expected = trained.models[outcome].predict(x)
        np.testing.assert_allclose(ours[f"p_{outcome}"].to_numpy(), expected, rtol=0, atol=1e-12)


def test_top_risk_members_are_explained_by_their_own_features(
    population: InputTables, predictions: pl.DataFrame
) -> None:
    top = predictions.head(20)
    features = model.build_features(connect(), population, AS_OF).filter(
        pl.col("person_id").is_in(top["person_id"].implode())
    )
    own = dict(
        zip(
            features["person_id"],
            (set(row) for row in model.sentences(features).iter_rows()),
            strict=True,
        )
    )
    reason = re.compile(r"^(?P<sentence>.+) \(\+(?P<effect>0\.\d\d|1\.00)\)$")
    for person, explanations, cost_explanations in top.select(
        "person_id", "explanations", "cost_explanations"
    ).iter_rows():
        assert 1 <= len(explanations) <= model.TOP_REASONS
        for text in [*explanations, *cost_explanations]:
            match = reason.match(text)
            assert match, text
            assert match["sentence"] in own[person], (person, text)
            assert float(match["effect"]) >= model.MIN_EFFECT


def test_training_is_deterministic(population: InputTables, trained: model.TrainedModels) -> None:
    again = model.train(connect(), population, AS_OF)
    assert again.report.to_json() == trained.report.to_json()


def test_explanations_name_the_largest_contributions_in_order(
    population: InputTables, trained: model.TrainedModels
) -> None:
    frame = model.build_features(connect(), population, model.latest_month_end(AS_OF))
    x = model._matrix(frame, model.FEATURE_NAMES)
    words = model.sentences(frame).rows()
    for outcome in ("admission", "top5_cost"):
        booster = trained.models[outcome]
        contrib = np.asarray(booster.predict(x, pred_contrib=True))[:, :-1]
        explained = model.explain(booster, x, frame).to_list()
        longest = 0
        for i, texts in enumerate(explained):
            largest = np.argsort(-contrib[i], kind="stable")[: model.TOP_REASONS]
            named = [re.sub(r" \(\+\d\.\d\d\)$", "", text) for text in texts]
            assert named == [words[i][j] for j in largest][: len(named)], (outcome, i)
            longest = max(longest, len(named))
        assert longest == model.TOP_REASONS


def test_a_large_training_set_is_sampled_and_the_evaluation_is_not(
    population: InputTables, trained: model.TrainedModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = trained.report
    assert full.train_candidates == full.outcomes["admission"].train_members > 600
    monkeypatch.setattr(model, "MAX_TRAIN_MEMBERS", 600)
    sampled = model.train(connect(), population, AS_OF).report
    assert sampled.train_candidates == full.train_candidates
    for outcome in ("admission", "top5_cost"):
        assert sampled.outcomes[outcome].train_members == 600
        assert sampled.outcomes[outcome].test_members == full.outcomes[outcome].test_members
        assert sampled.outcomes[outcome].test_events == full.outcomes[outcome].test_events
    assert sampled.max_train_members == 600
