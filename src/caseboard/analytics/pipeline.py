"""`caseboard analytics run`: the input layer in, every mart out as Parquet.

Output contract (docs/analytics/marts.md documents every column):
  risk_scores.parquet    person_id, model_version, performance_year, risk_score, hccs
  member_months.parquet  person_id, year_month, year_quarter, payer, plan
  encounters.parquet     one row per inpatient stay, ED visit, observation stay, office visit
  recent_encounters.parquet   stays and ED visits of the last `recent_days`, for app episodes
  utilization.parquet    per year: admits, ED visits, readmissions, per 1,000 member-years
  pmpm.parquet           year_quarter, service_category, observed_pmpm, expected_pmpm, ...
  pqi_events, pqi_rates, ed_classification, ed_classification_by_year   avoidable use
  chronic_conditions.parquet   person_id and a 0/1 flag per condition, diagnoses of 24 months
  predictions.parquet    person_id, p_admission, p_top5_cost, explanations
  high_risk.parquet      person_id, practice_id, rank, score, drivers, and the facts behind them
  prework.parquet        per member: pre-work packet facts (seed 004 step 3 items iv–xv)
  member_index.parquet   person_id, member_id, name and birth date, for the hand-off to the app
  data_quality.json      rejected input rows and why
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import polars as pl
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from caseboard.analytics import hcc, model
from caseboard.analytics.engine import Engine, InputTables, connect, read_input
from caseboard.analytics.hcc_labels import labels as hcc_labels
from caseboard.analytics.marts import high_risk, prework
from caseboard.analytics.marts.chronic_conditions import chronic_conditions
from caseboard.analytics.marts.ed_classification import ed_classification, ed_classification_by_year
from caseboard.analytics.marts.encounters import encounters
from caseboard.analytics.marts.member_months import member_months
from caseboard.analytics.marts.pmpm import categorized_spend, pmpm, read_benchmark
from caseboard.analytics.marts.pqi import pqi_events, pqi_rates
from caseboard.analytics.marts.recent_encounters import RECENT_DAYS, recent_encounters
from caseboard.analytics.marts.utilization import utilization

RISK_MODELS = ("HHS-HCC", "V24", "V28")
PREDICTED_ADMISSION = "predicted-admission"
RANKING_SCORES = (*RISK_MODELS, PREDICTED_ADMISSION)


def step_count(config: RunConfig) -> int:
    """How many marts a run writes, for progress bars."""
    return 16 if config.predict else 15


@dataclass
class RunConfig:
    input_dir: Path
    out_dir: Path
    engine: Engine = "duckdb"
    # The day the data runs through; by default the latest claim or enrollment date.
    as_of: datetime.date | None = None
    # CMS tables of this payment year score diagnoses of `performance_year`: by default the
    # last complete calendar year of data (so old claims, like DE-SynPUF's, still score).
    payment_year: int = 2026
    performance_year: int | None = None
    # What the high-risk ranking sorts by: a risk model's score (HHS-HCC's all-ages model fits
    # Medicaid children and adults better than Medicare's) or the predicted admission risk.
    ranking_model: str = "HHS-HCC"
    # Train the predictive model (needs about three years of claims); off for quick runs.
    predict: bool = True
    benchmark: Path | None = None
    # AHRQ PQI and NYU ED value sets (default: CASEBOARD_VALUE_SETS or ../shared/data/value-sets).
    value_sets_dir: Path | None = None
    # Stays and ED visits that ended this many days before as_of or later become episodes in
    # the app (claims-based transitions for plans without an ADT feed).
    recent_days: int = RECENT_DAYS


@dataclass
class RunResult:
    out_dir: Path
    as_of: datetime.date
    outputs: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


Progress = Callable[[str], None]


def _as_of(inputs: InputTables) -> datetime.date:
    mc = inputs.medical_claim
    latest = mc.aggregate(
        d=ibis.coalesce(mc.claim_end_date, mc.claim_start_date).max()
    ).to_pyarrow()
    day = latest.column("d")[0].as_py()
    if day is None:
        elig = inputs.eligibility
        day = elig.aggregate(d=elig.enrollment_end_date.max()).to_pyarrow().column("d")[0].as_py()
    if day is None:
        raise ValueError("the input has no claim or enrollment dates to run through")
    return day if isinstance(day, datetime.date) else day.date()


class _Writer:
    """Writes each mart once and reads it back, so later marts reuse it instead of recomputing."""

    def __init__(self, con: BaseBackend, out_dir: Path, result: RunResult, progress: Progress):
        self.con = con
        self.out_dir = out_dir
        self.result = result
        self.progress = progress

    def write(self, name: str, expr: ibis.Table | pl.DataFrame) -> ibis.Table:
        started = time.perf_counter()
        self.progress(name)
        path = self.out_dir / f"{name}.parquet"
        if isinstance(expr, pl.DataFrame):
            expr.write_parquet(path)
        elif self.con.name == "duckdb":
            expr.to_parquet(path)
        else:
            pq.write_table(expr.to_pyarrow(), path)
        self.result.outputs[name] = path
        self.result.seconds[name] = time.perf_counter() - started
        return self.con.read_parquet(str(path), table_name=f"mart_{name}")


def run(config: RunConfig, progress: Progress = lambda step: None) -> RunResult:
    if config.ranking_model not in RANKING_SCORES:
        raise ValueError(f"ranking model must be one of {', '.join(RANKING_SCORES)}")
    config.out_dir.mkdir(parents=True, exist_ok=True)
    con = connect(config.engine)
    inputs = read_input(con, config.input_dir)
    as_of = config.as_of or _as_of(inputs)
    result = RunResult(out_dir=config.out_dir, as_of=as_of)
    out = _Writer(con, config.out_dir, result, progress)

    months = out.write("member_months", member_months(inputs.eligibility, as_of))
    enc = out.write("encounters", encounters(inputs.medical_claim))
    out.write(
        "recent_encounters",
        recent_encounters(enc, inputs.medical_claim, as_of, days=config.recent_days),
    )
    out.write("utilization", utilization(enc, months))
    performance_year = config.performance_year or (
        as_of.year if (as_of.month, as_of.day) == (12, 31) else as_of.year - 1
    )
    risk = out.write(
        "risk_scores",
        hcc.score(con, inputs, payment_year=config.payment_year, performance_year=performance_year),
    )
    risk_model = config.ranking_model if config.ranking_model in RISK_MODELS else "HHS-HCC"
    chosen = risk.filter(risk.model_version == risk_model).select("person_id", "risk_score", "hccs")
    spend = out.write("spend", categorized_spend(inputs.medical_claim, inputs.pharmacy_claim))
    benchmark = read_benchmark(config.benchmark) if config.benchmark else None
    out.write("pmpm", pmpm(spend, months, chosen, benchmark=benchmark))
    vs = config.value_sets_dir
    pqi = out.write(
        "pqi_events",
        pqi_events(enc, inputs.medical_claim, inputs.eligibility, value_sets_dir=vs),
    )
    out.write("pqi_rates", pqi_rates(pqi, months, inputs.eligibility, value_sets_dir=vs))
    ed = out.write("ed_classification", ed_classification(enc, value_sets_dir=vs))
    out.write("ed_classification_by_year", ed_classification_by_year(ed))
    avoidable = _avoidable_events(pqi, ed, as_of)
    out.write(
        "chronic_conditions",
        chronic_conditions(
            inputs.medical_claim, since=high_risk.months_before(as_of, 24), until=as_of
        ),
    )

    attribution_path = config.input_dir / "attribution.parquet"
    attribution = (
        con.read_parquet(str(attribution_path), table_name="input_attribution")
        if attribution_path.exists()
        else None
    )
    practices = high_risk.current_attribution(attribution, enc, inputs.medical_claim, as_of)
    facts = high_risk.member_facts(inputs.eligibility, enc, spend, as_of)
    # The model reads the marts written above instead of computing them again.
    shared = model.SharedMarts(
        encounters=enc,
        spend=spend,
        pqi_events=pqi,
        ed_classification=ed,
        member_months=months,
    )
    predictions = (
        _predict(con, inputs, as_of, risk_model, config, out, shared) if config.predict else None
    )
    if config.ranking_model == PREDICTED_ADMISSION:
        if predictions is None:
            raise ValueError("ranking by predicted admission needs the predictive model")
        p = predictions.select("person_id", "p_admission")
        scores = chosen.join(p, "person_id", how="right").select(
            person_id=p.person_id, score=p.p_admission, hccs=chosen.hccs
        )
    else:
        scores = chosen.select("person_id", score=chosen.risk_score, hccs=chosen.hccs)
    ranked = high_risk.rank_members(facts, practices, scores, avoidable).to_polars()
    ranked = high_risk.with_drivers(ranked, hcc_labels(risk_model))
    if predictions is not None:
        ranked = ranked.join(
            predictions.select(
                "person_id", "p_admission", "p_top5_cost", "explanations"
            ).to_polars(),
            on="person_id",
            how="left",
        )
    out.write("high_risk", ranked)
    out.write("prework", prework.prework_facts(inputs, enc, chosen, practices, as_of))
    elig = inputs.eligibility
    index = elig.select("person_id", "member_id", "first_name", "last_name", "birth_date").distinct(
        on="person_id", keep="first"
    )
    out.write("member_index", index)

    (config.out_dir / "run.json").write_text(
        json.dumps(
            {
                "as_of": as_of.isoformat(),
                "engine": config.engine,
                "payment_year": config.payment_year,
                "performance_year": performance_year,
                "ranking_model": config.ranking_model,
                "risk_model": risk_model,
                "recent_days": config.recent_days,
                "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
            },
            indent=2,
        )
    )
    return result


def _avoidable_events(pqi: ibis.Table, ed: ibis.Table, as_of: datetime.date) -> ibis.Table:
    """Per member, in the 12 months to `as_of`: PQI admissions (individual measures, each stay
    once) plus the expected number of avoidable ED visits (sum of NYU probabilities)."""
    since = high_risk.months_before(as_of, 12)
    stays = (
        pqi.filter((pqi.admit_date > since) & (pqi.admit_date <= as_of) & (pqi.pqi_number < "90"))
        .select("person_id", "encounter_id")
        .distinct()
        .group_by("person_id")
        .aggregate(events=ibis._.count().cast("float64"))
    )
    visits = (
        ed.filter((ed.start_date > since) & (ed.start_date <= as_of))
        .group_by("person_id")
        .aggregate(events=ibis.coalesce(ed.avoidable_probability, 0.0).sum().cast("float64"))
    )
    both = ibis.union(stays, visits)
    return both.group_by("person_id").aggregate(avoidable_events=both.events.sum())


def _predict(
    con: BaseBackend,
    inputs: InputTables,
    as_of: datetime.date,
    risk_model: str,
    config: RunConfig,
    out: _Writer,
    shared: model.SharedMarts,
) -> ibis.Table:
    """Train on the plan's own history, report held-out performance, score everyone now."""
    vs = config.value_sets_dir
    trained = model.train(
        con, inputs, as_of, ranking_model=risk_model, value_sets_dir=vs, shared=shared
    )
    (config.out_dir / "model_report.json").write_text(trained.report.to_json())
    scored = model.predict(con, inputs, trained, as_of, value_sets_dir=vs, shared=shared)
    return out.write("predictions", scored)
