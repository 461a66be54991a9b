"""The plan's high-risk ranking per attributed practice, with the drivers in words.

Seed 004 steps 1–2: the plan names its highest-risk members from claims-based modeling and
shares why. Each currently enrolled member is ranked within their attributed practice by the
plan's chosen score (a risk model's score or the predicted admission probability); drivers are
the facts a care manager checks first: top HCCs, recent admissions and ED visits, avoidable
events, rising cost and a missing PCP visit.
"""

from __future__ import annotations

import datetime

import ibis
import polars as pl
from ibis import _

RISING_COST_FACTOR = 1.5
RISING_COST_FLOOR = 1000.0
TOP_HCCS = 3
UNATTRIBUTED = "unattributed"


def months_before(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return datetime.date(year, month + 1, min(day.day, 28))


def current_attribution(
    attribution: ibis.Table | None,
    encounters: ibis.Table,
    medical_claim: ibis.Table,
    as_of: datetime.date,
) -> ibis.Table:
    """person_id → practice_id on `as_of`.

    From the plan's attribution file when there is one; otherwise by plurality of office
    visits in the last 24 months by billing NPI (the practice's group NPI), latest visit
    breaking ties, as claims-based attribution usually does.
    """
    if attribution is not None:
        a = attribution
        active = a.filter((a.start_date <= as_of) & (a.end_date.isnull() | (a.end_date >= as_of)))
        ranked = active.mutate(
            _n=ibis.row_number().over(group_by="person_id", order_by=ibis.desc("start_date"))
        )
        return ranked.filter(ranked._n == 0).select("person_id", "practice_id")
    since = months_before(as_of, 24)
    office = encounters.filter(
        (encounters.encounter_type == "office_visit") & (encounters.start_date >= since)
    )
    claims = medical_claim.select(
        "person_id",
        day=ibis.coalesce(medical_claim.claim_start_date, medical_claim.claim_line_start_date),
        practice_id=medical_claim.billing_npi,
    ).distinct()
    visits = office.join(
        claims, [office.person_id == claims.person_id, office.start_date == claims.day]
    ).select(person_id=office.person_id, practice_id=claims.practice_id, day=claims.day)
    counts = visits.group_by(["person_id", "practice_id"]).aggregate(
        visits=_.count(), latest=_.day.max()
    )
    ranked = counts.mutate(
        _n=ibis.row_number().over(
            group_by="person_id", order_by=[ibis.desc("visits"), ibis.desc("latest")]
        )
    )
    return ranked.filter(ranked._n == 0).select("person_id", "practice_id")


def member_facts(
    eligibility: ibis.Table,
    encounters: ibis.Table,
    spend: ibis.Table,
    as_of: datetime.date,
) -> ibis.Table:
    """Per currently enrolled member: utilization and cost over the last 12 months."""
    enrolled = (
        eligibility.filter(
            (eligibility.enrollment_start_date <= as_of)
            & (
                eligibility.enrollment_end_date.isnull()
                | (eligibility.enrollment_end_date >= as_of)
            )
        )
        .select("person_id")
        .distinct()
    )
    year_ago = months_before(as_of, 12)
    half_year_ago = months_before(as_of, 6)
    recent = encounters.filter(
        (encounters.start_date > year_ago) & (encounters.start_date <= as_of)
    )
    use = recent.group_by("person_id").aggregate(
        admits_12m=(recent.encounter_type == "inpatient").sum(),
        ed_visits_12m=(recent.encounter_type == "ed").sum(),
        last_admit=recent.start_date.max(where=recent.encounter_type == "inpatient"),
        last_ed_visit=recent.start_date.max(where=recent.encounter_type == "ed"),
        office_visits_12m=(recent.encounter_type == "office_visit").sum(),
    )
    ym_now = as_of.strftime("%Y%m")
    ym_year_ago = year_ago.strftime("%Y%m")
    ym_half = half_year_ago.strftime("%Y%m")
    window = spend.filter((spend.year_month > ym_year_ago) & (spend.year_month <= ym_now))
    cost = window.group_by("person_id").aggregate(
        paid_12m=window.paid.sum(),
        paid_last_6m=window.paid.sum(where=window.year_month > ym_half),
        paid_prior_6m=window.paid.sum(where=window.year_month <= ym_half),
    )
    out = enrolled.left_join(use, "person_id").left_join(cost, "person_id")
    return out.select(
        person_id=enrolled.person_id,
        admits_12m=ibis.coalesce(out.admits_12m, 0),
        ed_visits_12m=ibis.coalesce(out.ed_visits_12m, 0),
        office_visits_12m=ibis.coalesce(out.office_visits_12m, 0),
        last_admit=out.last_admit,
        last_ed_visit=out.last_ed_visit,
        paid_12m=ibis.coalesce(out.paid_12m, 0.0),
        paid_last_6m=ibis.coalesce(out.paid_last_6m, 0.0),
        paid_prior_6m=ibis.coalesce(out.paid_prior_6m, 0.0),
    )


def rank_members(
    facts: ibis.Table,
    practices: ibis.Table,
    scores: ibis.Table,
    avoidable: ibis.Table | None = None,
) -> ibis.Table:
    """Rank within practice by `scores.score` (person_id, score, hccs); ties by 12-month cost.

    `avoidable` (optional): person_id, avoidable_events — PQI admissions and likely-avoidable
    ED visits in the last 12 months.
    """
    # Members with no attributed practice are ranked too, in their own group: the plan still
    # needs to know them (and who should become their PCP).
    table = facts.left_join(practices, "person_id").left_join(
        scores.select("person_id", "score", "hccs"), "person_id"
    )
    table = table.select(
        facts.person_id,
        practice_id=ibis.coalesce(practices.practice_id, ibis.literal(UNATTRIBUTED)),
        **{c: facts[c] for c in facts.columns if c != "person_id"},
        score=ibis.coalesce(table.score, 0.0),
        hccs=table.hccs,
    )
    if avoidable is not None:
        table = table.left_join(avoidable, "person_id").select(
            *[c for c in table.columns],
            avoidable_events=ibis.coalesce(_.avoidable_events, 0),
        )
    else:
        table = table.mutate(avoidable_events=ibis.literal(0))
    ranked = table.mutate(
        rank=ibis.row_number().over(
            group_by="practice_id",
            order_by=[ibis.desc("score"), ibis.desc("paid_12m"), "person_id"],
        )
        + 1
    )
    return ranked


def with_drivers(ranked: pl.DataFrame, hcc_labels: dict[str, str] | None = None) -> pl.DataFrame:
    """Adds `drivers`: the reasons in words, most telling first (a list of strings)."""
    labels = hcc_labels or {}
    hccs = pl.col("hccs").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    count = hccs.list.len()
    named = hccs.list.head(TOP_HCCS).list.eval(
        pl.concat_str(
            [
                pl.element(),
                pl.element().replace_strict(labels, default="", return_dtype=pl.String)
                if labels
                else pl.lit(""),
            ],
            separator=" ",
        ).str.strip_chars()
    )
    conditions = pl.when(count > 0).then(
        pl.concat_str(
            [
                pl.lit("Conditions: "),
                named.list.join("; "),
                pl.when(count > TOP_HCCS)
                .then(pl.format(" (+{} more)", count - TOP_HCCS))
                .otherwise(pl.lit("")),
            ]
        )
    )
    rising = (pl.col("paid_last_6m") >= RISING_COST_FLOOR) & (
        pl.col("paid_last_6m") > RISING_COST_FACTOR * pl.col("paid_prior_6m")
    )
    parts = [
        conditions,
        pl.when(pl.col("admits_12m") > 0).then(
            pl.format(
                "{} inpatient admission(s) in 12 months, latest {}",
                pl.col("admits_12m"),
                pl.col("last_admit").dt.strftime("%Y-%m-%d"),
            )
        ),
        pl.when(pl.col("ed_visits_12m") > 0).then(
            pl.format(
                "{} ED visit(s) in 12 months, latest {}",
                pl.col("ed_visits_12m"),
                pl.col("last_ed_visit").dt.strftime("%Y-%m-%d"),
            )
        ),
        pl.when(pl.col("avoidable_events") > 0).then(
            pl.format("{} potentially avoidable event(s)", pl.col("avoidable_events").round(1))
        ),
        pl.when(rising).then(
            pl.format(
                "Rising cost: ${} in the last 6 months vs ${} before",
                pl.col("paid_last_6m").round(0).cast(pl.Int64),
                pl.col("paid_prior_6m").round(0).cast(pl.Int64),
            )
        ),
        pl.when(pl.col("office_visits_12m") == 0).then(pl.lit("No PCP office visit in 12 months")),
    ]
    return ranked.with_columns(drivers=pl.concat_list(parts).list.drop_nulls())
