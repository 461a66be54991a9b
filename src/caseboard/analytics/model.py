"""The plan's predictive model: who will be admitted, and who will be among the costliest members,
in the next 12 months, and why (seed 004 steps 1–2: the plan's list comes from claims-based
predictive modeling with its drivers).

Design (docs/analytics/model.md):
- An *index date* is a month end. Features come from the 12 months up to and including it (the
  look-back window); outcomes from the 12 months after it: any inpatient stay, and total paid
  (medical + pharmacy) in the top 5 % of the cohort.
- The cohort at an index date is every member enrolled on it with at least 6 months of
  enrollment in the 12 months after it (so the outcome year is mostly observed).
- `train` fits on the index date 24 months before `as_of` and evaluates on the one 12 months
  before it, on members split in two at random (held out in time and in people). Each outcome
  gets a LightGBM classifier and, as the baseline, a logistic regression on the ranking model's
  HCC risk score alone.
- HCC scores need a calendar performance year while the look-back window straddles two. Every
  date of the window is moved by the same number of days so the index date lands on 31 Dec
  2024 (claims after the index date dropped first), and the window is scored as performance
  year 2024 with its payment year 2025: the diagnoses are exactly the window's, ages are the
  member's at the index date (plus a month for CMS's 1 Feb), and 2024, a leap year, holds any
  12-month window whole.

Features are Ibis expressions per member (one query per part, aggregated in the database) and
joined as polars frames; explanations come from LightGBM's TreeSHAP contributions.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import itertools
import json
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import lightgbm
import numpy as np
import numpy.typing as npt
import polars as pl
from ibis.backends import BaseBackend
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from caseboard.analytics import hcc
from caseboard.analytics.contributions import contributions
from caseboard.analytics.engine import InputTables
from caseboard.analytics.marts.chronic_conditions import CONDITIONS, chronic_conditions
from caseboard.analytics.marts.ed_classification import ed_classification
from caseboard.analytics.marts.encounters import encounters
from caseboard.analytics.marts.member_months import member_months
from caseboard.analytics.marts.pmpm import categorized_spend
from caseboard.analytics.marts.pqi import pqi_events

LOOKBACK_MONTHS = 12
OUTCOME_MONTHS = 12
MIN_MONTHS_AFTER = 6  # cohort rule: enrolled ≥ 6 of the 12 outcome months
TOP_COST_SHARE = 0.05
TRAIN_MONTHS_BEFORE = 24
TEST_MONTHS_BEFORE = 12
TEST_SHARE = 0.5  # members held out for evaluation
SEED = 20_260_930
CALIBRATION_BINS = 10
MIN_EFFECT = 0.01  # explanations name contributions of at least one percentage point
TOP_REASONS = 3

# The look-back window is scored as this performance year (see the module docstring).
HCC_PERFORMANCE_YEAR = 2024
HCC_PAYMENT_YEAR = 2025
_HCC_INDEX_DATE = datetime.date(HCC_PERFORMANCE_YEAR, 12, 31)

OUTCOMES: dict[str, str] = {
    "admission": "any inpatient admission in the 12 months after the index date",
    "top5_cost": "total paid in the 12 months after the index date in the cohort's top 5 %",
}

RISK_FEATURES: dict[str, str] = {"HHS-HCC": "risk_hhs_hcc", "V24": "risk_v24", "V28": "risk_v28"}
"""Feature column of each `hcc.score` model; the ranking model's is the baseline's only input."""
_RISK_WORDS = {"HHS-HCC": "HHS-HCC", "V24": "CMS-HCC V24", "V28": "CMS-HCC V28"}

_CATEGORIES = ("inpatient", "emergency_department", "outpatient", "professional", "pharmacy")
_CATEGORY_WORDS = {
    "inpatient": "inpatient",
    "emergency_department": "ED",
    "outpatient": "hospital outpatient",
    "professional": "professional",
    "pharmacy": "pharmacy",
}

FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------
def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def latest_month_end(day: datetime.date) -> datetime.date:
    """`day` if it ends its month, else the end of the month before: features use whole months."""
    if day == month_end(day):
        return day
    return day.replace(day=1) - datetime.timedelta(days=1)


def months_later(day: datetime.date, months: int) -> datetime.date:
    """The month end `months` months after (before, if negative) the month end `day`."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return month_end(datetime.date(year, month + 1, 1))


@dataclass(frozen=True)
class Window:
    """Look-back (start, index_date] and outcome (index_date, outcome_end], both month ends."""

    index_date: datetime.date
    start: datetime.date
    half: datetime.date  # the last 6 months of the look-back are (half, index_date]
    outcome_end: datetime.date

    @classmethod
    def at(cls, index_date: datetime.date) -> Window:
        if index_date != month_end(index_date):
            raise ValueError(f"index date {index_date} is not the last day of a month")
        return cls(
            index_date=index_date,
            start=months_later(index_date, -LOOKBACK_MONTHS),
            half=months_later(index_date, -LOOKBACK_MONTHS // 2),
            outcome_end=months_later(index_date, OUTCOME_MONTHS),
        )


def _ym(day: datetime.date) -> str:
    return day.strftime("%Y%m")


def _in_lookback(value: ir.DateValue, w: Window) -> ir.BooleanValue:
    return (value > w.start) & (value <= w.index_date)


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Feature:
    name: str
    sentence: Callable[[], pl.Expr]  # reads the feature frame's columns; one per member


def _dollars(expr: pl.Expr) -> pl.Expr:
    """'$12,345' for a non-negative amount (polars has no thousands separator)."""
    whole = expr.round(0).cast(pl.Int64)
    millions, thousands, units = whole // 1_000_000, (whole // 1000) % 1000, whole % 1000

    def pad(part: pl.Expr) -> pl.Expr:
        return part.cast(pl.String).str.zfill(3)

    return (
        pl.when(whole >= 1_000_000)
        .then(pl.format("${},{},{}", millions, pad(thousands), pad(units)))
        .when(whole >= 1000)
        .then(pl.format("${},{}", whole // 1000, pad(units)))
        .otherwise(pl.format("${}", whole))
    )


def _count(column: str, what: str) -> Callable[[], pl.Expr]:
    return lambda: pl.format("{} " + what + " in the past year", pl.col(column))


def _flag(column: str, yes: str, no: str) -> Callable[[], pl.Expr]:
    return lambda: pl.when(pl.col(column) > 0).then(pl.lit(yes)).otherwise(pl.lit(no))


def _spend(column: str, words: str) -> Callable[[], pl.Expr]:
    return lambda: pl.format("{} " + words + " spend in the past year", _dollars(pl.col(column)))


def _risk(column: str, model: str) -> Callable[[], pl.Expr]:
    return lambda: pl.format(_RISK_WORDS[model] + " risk score {}", pl.col(column).round(2))


FEATURES: tuple[Feature, ...] = (
    Feature(
        "age",
        lambda: (
            pl.when(pl.col("age").is_null())
            .then(pl.lit("Birth date not recorded"))
            .otherwise(pl.format("Age {}", "age"))
        ),
    ),
    Feature(
        "female",
        lambda: (
            pl.when(pl.col("female").is_null())
            .then(pl.lit("Sex not recorded"))
            .otherwise(
                pl.when(pl.col("female") == 1).then(pl.lit("Female")).otherwise(pl.lit("Male"))
            )
        ),
    ),
    Feature(
        "months_enrolled", lambda: pl.format("Enrolled {} of the past 12 months", "months_enrolled")
    ),
    *(Feature(column, _risk(column, model)) for model, column in RISK_FEATURES.items()),
    Feature(
        "hcc_count", lambda: pl.format("{} HCC(s) coded in the past year", pl.col("hcc_count"))
    ),
    Feature("admissions", _count("admissions", "inpatient admission(s)")),
    Feature("inpatient_days", _count("inpatient_days", "inpatient day(s)")),
    Feature(
        "days_since_discharge",
        lambda: (
            pl.when(pl.col("days_since_discharge").is_null())
            .then(pl.lit("No inpatient stay in the past year"))
            .otherwise(
                pl.format("Discharged {} day(s) before the index date", "days_since_discharge")
            )
        ),
    ),
    Feature("ed_visits", _count("ed_visits", "ED visit(s)")),
    Feature("observation_stays", _count("observation_stays", "observation stay(s)")),
    Feature(
        "office_visits",
        lambda: (
            pl.when(pl.col("office_visits") == 0)
            .then(pl.lit("No office visit in the past year"))
            .otherwise(pl.format("{} office visit(s) in the past year", "office_visits"))
        ),
    ),
    Feature("pharmacy_fills", _count("pharmacy_fills", "pharmacy fill(s)")),
    Feature("pqi_admissions", _count("pqi_admissions", "potentially avoidable (PQI) admission(s)")),
    Feature(
        "avoidable_ed_visits",
        lambda: pl.format(
            "{} likely avoidable ED visit(s) in the past year, by the NYU algorithm",
            pl.col("avoidable_ed_visits").round(1),
        ),
    ),
    Feature("paid_total", _spend("paid_total", "total")),
    *(Feature(f"paid_{c}", _spend(f"paid_{c}", _CATEGORY_WORDS[c])) for c in _CATEGORIES),
    Feature(
        "cost_trend",
        lambda: pl.format(
            "Spend {} in the last 6 months vs {} in the 6 before",
            _dollars(pl.col("paid_last_6m")),
            _dollars(pl.col("paid_prior_6m")),
        ),
    ),
    *(
        Feature(
            name,
            _flag(
                name,
                f"Diagnosed with {words} in the past year",
                f"No {words} diagnosis in the past year",
            ),
        )
        for name, (words, _) in CONDITIONS.items()
    ),
    Feature("chronic_conditions", _count("chronic_conditions", "chronic condition(s) diagnosed")),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


def sentences(frame: pl.DataFrame) -> pl.DataFrame:
    """Each feature of each row of `build_features`'s frame in words, a column per feature."""
    return frame.select(f.sentence().alias(f.name) for f in FEATURES)


def _shift_dates(table: ibis.Table, days: int) -> ibis.Table:
    delta = ibis.interval(days=days)
    return table.mutate(
        **{
            name: (table[name] + delta).cast("date")
            for name, dtype in table.schema().items()
            if dtype.is_date()
        }
    )


def risk_scores(con: BaseBackend, inputs: InputTables, index_date: datetime.date) -> ibis.Table:
    """`hcc.score` of the look-back window ending on `index_date`, every model, one row per
    member and model (the module docstring explains the date shift)."""
    w = Window.at(index_date)
    mc = inputs.medical_claim
    service = ibis.coalesce(mc.claim_end_date, mc.claim_start_date)
    claims = mc.filter((service > w.start) & (service <= w.index_date))
    shift = (_HCC_INDEX_DATE - w.index_date).days
    shifted = InputTables(
        eligibility=_shift_dates(inputs.eligibility, shift),
        medical_claim=_shift_dates(claims, shift),
        pharmacy_claim=inputs.pharmacy_claim,
    )
    return hcc.score(
        con,
        shifted,
        models=tuple(RISK_FEATURES),
        payment_year=HCC_PAYMENT_YEAR,
        performance_year=HCC_PERFORMANCE_YEAR,
    )


def cohort(eligibility: ibis.Table, index_date: datetime.date) -> ibis.Table:
    """Members enrolled on the index date: person_id, age (at the index date), female (1/0,
    null when unknown), from the enrollment span covering the index date (the latest starting)."""
    e = eligibility
    covering = e.filter(
        (e.enrollment_start_date <= index_date)
        & (e.enrollment_end_date.isnull() | (e.enrollment_end_date >= index_date))
        & e.person_id.notnull()
    )
    latest = covering.mutate(
        _n=ibis.row_number().over(
            group_by="person_id", order_by=[ibis.desc("enrollment_start_date"), "birth_date"]
        )
    ).filter(ibis._._n == 0)
    birth = latest.birth_date
    on = ibis.date(index_date)
    birthday_later = (on.month() * 100 + on.day()) < (birth.month() * 100 + birth.day())
    gender = latest.gender.lower()
    return latest.select(
        "person_id",
        age=(on.year() - birth.year() - birthday_later.cast("int64")).cast("int64"),
        female=ibis.cases(
            (gender.isin(["female", "f", "2"]), 1),
            (gender.isin(["male", "m", "1"]), 0),
            else_=ibis.null("int64"),
        ),
    )


def _enrolled_months(
    eligibility: ibis.Table, w: Window, months: ibis.Table | None = None
) -> ibis.Table:
    """`months`: the member_months mart, if computed through the outcome end or later."""
    if months is None:
        months = member_months(eligibility, w.outcome_end)
    ym = months.year_month
    return months.group_by("person_id").aggregate(
        months_enrolled=((ym > _ym(w.start)) & (ym <= _ym(w.index_date))).sum(),
        months_after=((ym > _ym(w.index_date)) & (ym <= _ym(w.outcome_end))).sum(),
    )


def _use(enc: ibis.Table, w: Window) -> ibis.Table:
    recent = enc.filter(_in_lookback(enc.start_date, w))
    kind = recent.encounter_type
    stay_days = ibis.greatest(recent.end_date.delta(recent.start_date, unit="day"), 1)
    return recent.group_by("person_id").aggregate(
        admissions=(kind == "inpatient").sum(),
        inpatient_days=stay_days.sum(where=kind == "inpatient"),
        last_discharge=recent.end_date.max(where=kind == "inpatient"),
        ed_visits=(kind == "ed").sum(),
        observation_stays=(kind == "observation").sum(),
        office_visits=(kind == "office_visit").sum(),
    )


def _paid(spend: ibis.Table, w: Window) -> ibis.Table:
    ym = spend.year_month
    window = spend.filter((ym > _ym(w.start)) & (ym <= _ym(w.index_date)))
    recent = window.year_month > _ym(w.half)
    cat = window.service_category
    return window.group_by("person_id").aggregate(
        paid_total=window.paid.sum(),
        paid_last_6m=window.paid.sum(where=recent),
        paid_prior_6m=window.paid.sum(where=~recent),
        **{f"paid_{c}": window.paid.sum(where=cat == c) for c in _CATEGORIES},
    )


def _conditions(medical_claim: ibis.Table, w: Window) -> ibis.Table:
    return chronic_conditions(medical_claim, since=w.start, until=w.index_date)


def _avoidable(shared: SharedMarts, w: Window) -> tuple[ibis.Table, ibis.Table]:
    pqi = shared.pqi_events
    # Individual PQIs only (composites 90–93 repeat them), each stay once.
    stays = (
        pqi.filter(_in_lookback(pqi.admit_date, w) & (pqi.pqi_number < "90"))
        .select("person_id", "encounter_id")
        .distinct()
        .group_by("person_id")
        .aggregate(pqi_admissions=ibis._.count())
    )
    ed = shared.ed_classification
    visits = (
        ed.filter(_in_lookback(ed.start_date, w))
        .group_by("person_id")
        .aggregate(avoidable_ed_visits=ibis.coalesce(ed.avoidable_probability, 0.0).sum())
    )
    return stays, visits


@dataclass(frozen=True)
class SharedMarts:
    """The marts every index date reads, over the whole history: the same expressions as the
    pipeline's `encounters`, `spend`, `pqi_events` and `ed_classification` marts."""

    encounters: ibis.Table
    spend: ibis.Table
    pqi_events: ibis.Table
    ed_classification: ibis.Table
    # The pipeline's member_months mart (through its as_of: enough for every window whose
    # outcomes it observes); without it each window counts its own months.
    member_months: ibis.Table | None = None


def shared_marts(inputs: InputTables, *, value_sets_dir: Path | None = None) -> SharedMarts:
    """The shared marts as expressions (computed wherever they are read)."""
    enc = encounters(inputs.medical_claim)
    return SharedMarts(
        encounters=enc,
        spend=categorized_spend(inputs.medical_claim, inputs.pharmacy_claim),
        pqi_events=pqi_events(
            enc, inputs.medical_claim, inputs.eligibility, value_sets_dir=value_sets_dir
        ),
        ed_classification=ed_classification(enc, value_sets_dir=value_sets_dir),
    )


_stored = itertools.count()


@contextlib.contextmanager
def stored_marts(
    inputs: InputTables,
    *,
    value_sets_dir: Path | None = None,
    shared: SharedMarts | None = None,
) -> Iterator[SharedMarts]:
    """`shared` if given (the pipeline passes the marts it has written), else the shared marts
    computed once (on DuckDB, as temporary tables dropped on leaving the block), so that the
    features of each index date and the outcomes read them instead of recomputing them."""
    if shared is not None:
        yield shared
        return
    marts = shared_marts(inputs, value_sets_dir=value_sets_dir)
    backend = inputs.medical_claim._find_backend(use_default=True)
    if backend.name != "duckdb":
        yield marts
        return
    tag = f"model_marts_{uuid.uuid4().hex[:12]}_{next(_stored)}"
    stored: dict[str, ibis.Table] = {}
    try:
        for name in ("encounters", "spend"):
            stored[name] = backend.create_table(f"{tag}_{name}", getattr(marts, name), temp=True)
        enc = stored["encounters"]
        later = {
            "pqi_events": pqi_events(
                enc, inputs.medical_claim, inputs.eligibility, value_sets_dir=value_sets_dir
            ),
            "ed_classification": ed_classification(enc, value_sets_dir=value_sets_dir),
        }
        for name, expr in later.items():
            stored[name] = backend.create_table(f"{tag}_{name}", expr, temp=True)
        yield SharedMarts(**stored)
    finally:
        # Ibis's drop_table renders the DROP without its name with the sqlglot locked here.
        for name in stored:
            backend.raw_sql(f'DROP TABLE IF EXISTS "{tag}_{name}"')


def _fills(pharmacy_claim: ibis.Table, w: Window) -> ibis.Table:
    rx = pharmacy_claim
    day = ibis.coalesce(rx.dispensing_date, rx.paid_date)
    return (
        rx.filter(_in_lookback(day, w))
        .group_by("person_id")
        .aggregate(pharmacy_fills=rx.claim_id.nunique())
    )


def build_features(
    con: BaseBackend,
    inputs: InputTables,
    index_date: datetime.date,
    *,
    ranking_model: str = "HHS-HCC",
    value_sets_dir: Path | None = None,
    shared: SharedMarts | None = None,
) -> pl.DataFrame:
    """One row per member enrolled on `index_date` (a month end): person_id, months_after
    (enrolled months of the following 12, for the cohort rule) and every feature in FEATURES,
    plus paid_last_6m and paid_prior_6m (behind cost_trend). `shared`: the shared marts
    (`stored_marts`), if already computed."""
    if ranking_model not in RISK_FEATURES:
        raise ValueError(f"ranking model must be one of {', '.join(RISK_FEATURES)}")
    w = Window.at(index_date)
    shared = shared or shared_marts(inputs, value_sets_dir=value_sets_dir)
    enc, spend = shared.encounters, shared.spend
    scores = risk_scores(con, inputs, index_date)
    risk = scores.group_by("person_id").aggregate(
        **{
            column: scores.risk_score.max(where=scores.model_version == model)
            for model, column in RISK_FEATURES.items()
        },
        hcc_count=scores.hccs.length().max(where=scores.model_version == ranking_model),
    )
    stays, visits = _avoidable(shared, w)
    parts = [
        _enrolled_months(inputs.eligibility, w, shared.member_months),
        risk,
        _use(enc, w),
        _paid(spend, w),
        _fills(inputs.pharmacy_claim, w),
        _conditions(inputs.medical_claim, w),
        stays,
        visits,
    ]
    frame = cohort(inputs.eligibility, index_date).to_polars()
    for part in parts:
        frame = frame.join(part.to_polars(), on="person_id", how="left")
    counts = [c for c in frame.columns if c not in {"person_id", "age", "female", "last_discharge"}]
    frame = frame.with_columns(pl.col(c).fill_null(0) for c in counts).with_columns(
        days_since_discharge=(pl.lit(w.index_date) - pl.col("last_discharge"))
        .dt.total_days()
        .clip(0),
        cost_trend=pl.col("paid_last_6m") - pl.col("paid_prior_6m"),
        chronic_conditions=pl.sum_horizontal(*CONDITIONS),
    )
    return frame.select(
        "person_id", "months_after", *FEATURE_NAMES, "paid_last_6m", "paid_prior_6m"
    ).sort("person_id")


def outcomes(
    inputs: InputTables, index_date: datetime.date, shared: SharedMarts | None = None
) -> pl.DataFrame:
    """Per member with any claim or stay after `index_date`: admission (1 if an inpatient stay
    starts in the 12 months after it) and paid_after (medical + pharmacy paid in those months).
    Members with neither are absent: their outcomes are 0."""
    w = Window.at(index_date)
    shared = shared or shared_marts(inputs)
    enc = shared.encounters
    after = enc.filter((enc.start_date > w.index_date) & (enc.start_date <= w.outcome_end))
    admitted = (
        after.filter(after.encounter_type == "inpatient")
        .select("person_id")
        .distinct()
        .mutate(admission=ibis.literal(1, type="int64"))
    )
    spend = shared.spend
    ym = spend.year_month
    paid = (
        spend.filter((ym > _ym(w.index_date)) & (ym <= _ym(w.outcome_end)))
        .group_by("person_id")
        .aggregate(paid_after=spend.paid.sum())
    )
    frame = paid.to_polars().join(admitted.to_polars(), on="person_id", how="full", coalesce=True)
    return frame.with_columns(
        pl.col("admission").fill_null(0), pl.col("paid_after").fill_null(0.0)
    ).sort("person_id")


def label(features: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The cohort among `build_features`'s members (at least MIN_MONTHS_AFTER enrolled months
    after the index date) with both outcomes from `outcomes`: admission, paid_after and
    top5_cost, the ceil(5 %) highest paid_after of the cohort (ties by person_id)."""
    frame = (
        features.filter(pl.col("months_after") >= MIN_MONTHS_AFTER)
        .join(after, on="person_id", how="left")
        .with_columns(pl.col("admission").fill_null(0), pl.col("paid_after").fill_null(0.0))
    )
    top = math.ceil(TOP_COST_SHARE * frame.height)
    return (
        frame.sort(["paid_after", "person_id"], descending=[True, False])
        .with_columns(top5_cost=(pl.int_range(pl.len()) < top).cast(pl.Int64))
        .sort("person_id")
    )


def labelled_cohort(
    con: BaseBackend,
    inputs: InputTables,
    index_date: datetime.date,
    *,
    ranking_model: str = "HHS-HCC",
    value_sets_dir: Path | None = None,
    shared: SharedMarts | None = None,
) -> pl.DataFrame:
    """The cohort at `index_date` with its features and outcomes (see `label`)."""
    with stored_marts(inputs, value_sets_dir=value_sets_dir, shared=shared) as marts:
        features = build_features(
            con,
            inputs,
            index_date,
            ranking_model=ranking_model,
            value_sets_dir=value_sets_dir,
            shared=marts,
        )
        return label(features, outcomes(inputs, index_date, marts))


# --------------------------------------------------------------------------------------------
# Models and their evaluation
# --------------------------------------------------------------------------------------------
LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    # 0.1 rather than 0.03: the same held-out AUC (within 0.001 on 100,000 members) with a
    # third of the trees, and every tree is paid again in each member's prediction.
    "learning_rate": 0.1,
    # Shallow trees: a plan's training year holds a few hundred events, not thousands.
    "num_leaves": 7,
    "min_data_in_leaf": 50,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    # Same data, same seed, same trees: one thread and LightGBM's deterministic mode.
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbosity": -1,
}
MAX_ROUNDS = 2000
EARLY_STOPPING_ROUNDS = 20
VALIDATION_SHARE = 0.2  # of the training members, to choose the number of boosting rounds
# Beyond this many training members, the models are fitted on a seeded random sample of them
# (evaluation still uses every held-out member): more rows add little to trees this shallow,
# but boosting then runs for more rounds, and every round costs again in each prediction and
# explanation of every member.
MAX_TRAIN_MEMBERS = 100_000


@dataclass(frozen=True)
class CalibrationBin:
    """One tenth of the held-out members, by predicted probability (lowest first)."""

    members: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True)
class Scores:
    auc: float
    brier: float
    top_decile_lift: float  # event rate in the top 10 % predicted / overall event rate
    mean_predicted: float  # against observed_rate: calibration in the large
    observed_rate: float
    calibration: list[CalibrationBin]


@dataclass(frozen=True)
class OutcomeReport:
    outcome: str
    definition: str
    train_members: int
    train_events: int
    test_members: int
    test_events: int
    model: Scores
    baseline: Scores


@dataclass(frozen=True)
class EvaluationReport:
    as_of: datetime.date
    train_index_date: datetime.date
    test_index_date: datetime.date
    ranking_model: str
    features: list[str]
    outcomes: dict[str, OutcomeReport]
    # Training members before sampling down to at most MAX_TRAIN_MEMBERS (`train_members`).
    train_candidates: int = 0
    max_train_members: int = MAX_TRAIN_MEMBERS

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, indent=2)


@dataclass(frozen=True)
class TrainedModels:
    ranking_model: str
    features: tuple[str, ...]
    models: dict[str, lightgbm.Booster]  # by outcome
    baselines: dict[str, LogisticRegression]  # by outcome: on the ranking model's risk score
    report: EvaluationReport

    @property
    def baseline_feature(self) -> str:
        return RISK_FEATURES[self.ranking_model]


def _matrix(frame: pl.DataFrame, columns: tuple[str, ...]) -> FloatArray:
    return frame.select(pl.col(c).cast(pl.Float64) for c in columns).to_numpy()


def _scores(y: npt.NDArray[np.int64], p: FloatArray) -> Scores:
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, math.ceil(len(p) / 10))]
    rate = float(y.mean())
    # Equal-count bins by predicted probability: with rare outcomes, fixed-width bins above
    # 0.3 would hold a handful of members each.
    bins = np.array_split(np.argsort(p, kind="stable"), CALIBRATION_BINS)
    return Scores(
        auc=round(float(roc_auc_score(y, p)), 4),
        brier=round(float(brier_score_loss(y, p)), 5),
        top_decile_lift=round(float(y[top].mean()) / rate, 3),
        mean_predicted=round(float(p.mean()), 4),
        observed_rate=round(rate, 4),
        calibration=[
            CalibrationBin(
                members=len(b),
                mean_predicted=round(float(p[b].mean()), 4),
                observed_rate=round(float(y[b].mean()), 4),
            )
            for b in bins
            if len(b)
        ],
    )


def _fit(x: FloatArray, y: npt.NDArray[np.int64], seed: int) -> lightgbm.Booster:
    """Boosting rounds chosen by early stopping on a seeded fifth of the training members (the
    held-out year is never looked at), then refit on all of them with that many rounds."""
    params = {**LGBM_PARAMS, "seed": seed}
    names = list(FEATURE_NAMES)
    val = np.random.default_rng(seed + 1).random(len(y)) < VALIDATION_SHARE
    fit = lightgbm.Dataset(x[~val], y[~val], feature_name=names)
    check = lightgbm.Dataset(x[val], y[val], reference=fit)
    probe = lightgbm.train(
        params,
        fit,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[check],
        callbacks=[lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    rounds = max(probe.best_iteration, 1)
    return lightgbm.train(
        params, lightgbm.Dataset(x, y, feature_name=names), num_boost_round=rounds
    )


def _member_split(people: pl.Series, seed: int) -> set[str]:
    """The held-out members: a seeded draw over the sorted IDs, so it is reproducible."""
    ids = people.unique().sort()
    held_out = np.random.default_rng(seed).random(len(ids)) < TEST_SHARE
    return set(ids.filter(pl.Series(held_out)).to_list())


def train(
    con: BaseBackend,
    inputs: InputTables,
    as_of: datetime.date,
    *,
    ranking_model: str = "HHS-HCC",
    value_sets_dir: Path | None = None,
    seed: int = SEED,
    shared: SharedMarts | None = None,
) -> TrainedModels:
    """Fit on the index date TRAIN_MONTHS_BEFORE `as_of`, evaluate on TEST_MONTHS_BEFORE it.

    `as_of` is the day the data runs through (a mid-month day counts from the month end before
    it); the test outcomes need claims through it. `shared`: the shared marts, if already
    computed (`stored_marts`, or the pipeline's own).
    """
    as_of = latest_month_end(as_of)
    train_date = months_later(as_of, -TRAIN_MONTHS_BEFORE)
    test_date = months_later(as_of, -TEST_MONTHS_BEFORE)
    with stored_marts(inputs, value_sets_dir=value_sets_dir, shared=shared) as marts:
        train_frame, test_frame = (
            labelled_cohort(
                con,
                inputs,
                day,
                ranking_model=ranking_model,
                value_sets_dir=value_sets_dir,
                shared=marts,
            )
            for day in (train_date, test_date)
        )
    held_out = _member_split(pl.concat([train_frame["person_id"], test_frame["person_id"]]), seed)
    train_frame = train_frame.filter(~pl.col("person_id").is_in(held_out))
    test_frame = test_frame.filter(pl.col("person_id").is_in(held_out))
    candidates = train_frame.height
    if candidates > MAX_TRAIN_MEMBERS:
        drawn = np.random.default_rng(seed + 2).permutation(candidates)[:MAX_TRAIN_MEMBERS]
        train_frame = train_frame[np.sort(drawn)]
    if train_frame.height == 0 or test_frame.height == 0:
        raise ValueError(
            f"no members to {'train' if train_frame.height == 0 else 'test'} on: the data must "
            f"cover {months_later(train_date, -LOOKBACK_MONTHS)} to {as_of} with members enrolled "
            f"on {train_date} and {test_date}"
        )

    baseline_feature = (RISK_FEATURES[ranking_model],)
    x_train, x_test = _matrix(train_frame, FEATURE_NAMES), _matrix(test_frame, FEATURE_NAMES)
    b_train, b_test = _matrix(train_frame, baseline_feature), _matrix(test_frame, baseline_feature)
    models: dict[str, lightgbm.Booster] = {}
    baselines: dict[str, LogisticRegression] = {}
    reports: dict[str, OutcomeReport] = {}
    for outcome, definition in OUTCOMES.items():
        y_train = train_frame[outcome].to_numpy()
        y_test = test_frame[outcome].to_numpy()
        if min(y_train.sum(), y_test.sum()) == 0 or max(y_train.mean(), y_test.mean()) == 1:
            raise ValueError(
                f"{outcome}: the training and held-out members each need members with and "
                "without the outcome; the population is too small to train on"
            )
        models[outcome] = _fit(x_train, y_train, seed)
        baselines[outcome] = LogisticRegression().fit(b_train, y_train)
        reports[outcome] = OutcomeReport(
            outcome=outcome,
            definition=definition,
            train_members=len(y_train),
            train_events=int(y_train.sum()),
            test_members=len(y_test),
            test_events=int(y_test.sum()),
            model=_scores(y_test, _probability(models[outcome], x_test)),
            baseline=_scores(y_test, baselines[outcome].predict_proba(b_test)[:, 1]),
        )
    report = EvaluationReport(
        as_of=as_of,
        train_index_date=train_date,
        test_index_date=test_date,
        ranking_model=ranking_model,
        features=list(FEATURE_NAMES),
        outcomes=reports,
        train_candidates=candidates,
        max_train_members=MAX_TRAIN_MEMBERS,
    )
    return TrainedModels(
        ranking_model=ranking_model,
        features=FEATURE_NAMES,
        models=models,
        baselines=baselines,
        report=report,
    )


# --------------------------------------------------------------------------------------------
# Prediction and explanations
# --------------------------------------------------------------------------------------------
def _sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


def _probability(model: lightgbm.Booster, x: FloatArray) -> FloatArray:
    # Each member's prediction is computed on its own: all cores (num_threads=0), same result.
    return np.asarray(model.predict(x, num_threads=0), dtype=np.float64)


def _contributions(model: lightgbm.Booster, x: FloatArray) -> FloatArray:
    if tuple(model.feature_name()) != FEATURE_NAMES:
        raise ValueError("the model was trained on other features; train it again")
    return contributions(model, x)


def explain(model: lightgbm.Booster, x: FloatArray, frame: pl.DataFrame) -> pl.Series:
    """The TOP_REASONS features pushing each member's prediction up most, in words.

    TreeSHAP contributions are additive in log-odds. Each is shown as the change in probability
    it makes: p minus the probability with that contribution removed (same sign and order as
    the contribution, and exact when it is the only one removed). Contributions that round to
    less than MIN_EFFECT are left out, so a low-risk member may have none.
    """
    return _reasons(_contributions(model, x), frame)


def _reasons(contrib: FloatArray, frame: pl.DataFrame) -> pl.Series:
    """`explain` from the TreeSHAP contributions (a last column for the expected value)."""
    shap, raw = contrib[:, :-1], contrib.sum(axis=1, keepdims=True)
    top = np.argsort(-shap, axis=1, kind="stable")[:, :TOP_REASONS]
    chosen = np.take_along_axis(shap, top, axis=1)
    hundredths = np.rint((_sigmoid(raw) - _sigmoid(raw - chosen)) * 100).astype(np.int64)
    shown = hundredths >= round(MIN_EFFECT * 100)
    member, rank = np.nonzero(shown)  # row-major: by member, then rank
    reasons = pl.DataFrame(
        {
            "member": member.astype(np.uint32),
            "rank": rank,
            "feature": top[shown],
            "points": hundredths[shown],
        }
    )
    # Only the sentences shown are written out: all of them for every member would be one
    # string per feature and member (tens of millions at a million members).
    lazy = frame.lazy().with_row_index("member")
    texts = [
        lazy.join(reasons.lazy().filter(pl.col("feature") == j), on="member", how="inner").select(
            "member", "rank", "points", text=feature.sentence()
        )
        for j, feature in enumerate(FEATURES)
    ]
    points = pl.col("points")
    said = (
        pl.concat(texts)
        .select(
            "member",
            "rank",
            reason=pl.format(
                "{} (+{}.{})", "text", points // 100, (points % 100).cast(pl.String).str.zfill(2)
            ),
        )
        .sort("member", "rank")
        .group_by("member", maintain_order=True)
        .agg("reason")
        .collect()
    )
    everyone = pl.DataFrame({"member": np.arange(len(contrib), dtype=np.uint32)})
    return (
        everyone.join(said, on="member", how="left")
        .sort("member")
        .select(explanations=pl.col("reason").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )["explanations"]


def predict(
    con: BaseBackend,
    inputs: InputTables,
    models: TrainedModels,
    index_date: datetime.date,
    *,
    value_sets_dir: Path | None = None,
    shared: SharedMarts | None = None,
) -> pl.DataFrame:
    """Every member enrolled on `index_date` (taken to its month end or the one before): person_id,
    index_date, p_admission, p_top5_cost, explanations (the admission model's top reasons) and
    cost_explanations (the cost model's), highest p_admission first."""
    day = latest_month_end(index_date)
    with stored_marts(inputs, value_sets_dir=value_sets_dir, shared=shared) as marts:
        frame = build_features(
            con,
            inputs,
            day,
            ranking_model=models.ranking_model,
            value_sets_dir=value_sets_dir,
            shared=marts,
        )
    x = _matrix(frame, models.features)
    # The contributions add up to each member's raw score: the probability comes from them
    # instead of a second pass of every member through every tree.
    admission = _contributions(models.models["admission"], x)
    cost = _contributions(models.models["top5_cost"], x)
    return (
        frame.select("person_id")
        .with_columns(
            index_date=pl.lit(day),
            p_admission=pl.Series(_sigmoid(admission.sum(axis=1))),
            p_top5_cost=pl.Series(_sigmoid(cost.sum(axis=1))),
            explanations=_reasons(admission, frame),
            cost_explanations=_reasons(cost, frame),
        )
        .sort(["p_admission", "person_id"], descending=[True, False])
    )
