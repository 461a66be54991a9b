"""Pre-work facts per member for the case conference (seed 004 step 3, items iv–xv).

Only what the seed lists (minimum necessary): the latest inpatient admission and ED visit with
dates and reasons, diagnoses, diagnostic history, prescriptions, providers including the PCP's
practice, and the plan's risk score. Contact details and coverage come from the app itself.
"""

from __future__ import annotations

import datetime

import ibis
import polars as pl
import simple_icd_10_cm as icd
from ibis import _

from caseboard.analytics.engine import InputTables
from caseboard.analytics.marts.high_risk import months_before

DIAGNOSES_SHOWN = 10
PRESCRIPTIONS_SHOWN = 12
PROVIDERS_SHOWN = 5


def describe(code: str | None) -> str | None:
    """'E11.65 Type 2 diabetes mellitus with hyperglycemia', or the bare code if unknown."""
    if not code:
        return None
    if icd.is_valid_item(code):
        return f"{icd.add_dot(code)} {icd.get_description(code)}"
    return code


def _latest(enc: ibis.Table, kind: str, as_of: datetime.date) -> ibis.Table:
    rows = enc.filter((enc.encounter_type == kind) & (enc.start_date <= as_of))
    rows = rows.mutate(
        _n=ibis.row_number().over(group_by="person_id", order_by=ibis.desc("start_date"))
    )
    return rows.filter(rows._n == 0).select(
        "person_id",
        **{
            f"last_{kind}_start": rows.start_date,
            f"last_{kind}_end": rows.end_date,
            f"last_{kind}_code": rows.primary_diagnosis_code,
            f"last_{kind}_facility_npi": rows.facility_npi,
        },
    )


def _diagnoses(medical_claim: ibis.Table, as_of: datetime.date) -> ibis.Table:
    columns = [f"diagnosis_code_{i}" for i in range(1, 26)]
    day = ibis.coalesce(medical_claim.claim_start_date, medical_claim.claim_line_start_date)
    parts = [
        medical_claim.select(
            "person_id", "claim_id", code=medical_claim[c], day=day.cast("date")
        ).filter(_.code.notnull())
        for c in columns
    ]
    coded = ibis.union(*parts).filter(_.day <= as_of)
    # Lines repeat their claim's codes: counting distinct claims needs no DISTINCT pass first.
    return coded.group_by(["person_id", "code"]).aggregate(
        claims=_.claim_id.nunique(), first_seen=_.day.min(), last_seen=_.day.max()
    )


def prework_facts(
    inputs: InputTables,
    encounters: ibis.Table,
    risk: ibis.Table,
    practices: ibis.Table,
    as_of: datetime.date,
) -> pl.DataFrame:
    """One row per member with any claim or score; list columns hold ready-to-read lines."""
    since_2y = months_before(as_of, 24)
    since_1y = months_before(as_of, 12)
    since_6m = months_before(as_of, 6)

    dx = _diagnoses(inputs.medical_claim, as_of).to_polars()
    codes = dx.select(pl.col("code").unique())
    codes = codes.with_columns(text=pl.col("code").map_elements(describe, return_dtype=pl.String))
    dx = dx.join(codes, on="code")
    recent = (
        dx.filter(pl.col("last_seen") >= since_2y)
        .sort(["person_id", "claims", "last_seen", "code"], descending=[False, True, True, False])
        .group_by("person_id", maintain_order=True)
        .agg(diagnoses=pl.col("text").head(DIAGNOSES_SHOWN))
    )
    history = (
        dx.sort(
            ["person_id", "claims", "first_seen", "code"], descending=[False, True, False, False]
        )
        .group_by("person_id", maintain_order=True)
        .head(DIAGNOSES_SHOWN)  # only the lines shown are written out
        .with_columns(
            line=pl.format(
                "{} — first {}, latest {} ({} claims)",
                pl.col("text"),
                pl.col("first_seen").dt.strftime("%Y-%m-%d"),
                pl.col("last_seen").dt.strftime("%Y-%m-%d"),
                pl.col("claims"),
            )
        )
        .group_by("person_id", maintain_order=True)
        .agg(diagnostic_history=pl.col("line"))
    )

    rx = inputs.pharmacy_claim
    fills = (
        rx.filter((rx.dispensing_date >= since_6m) & (rx.dispensing_date <= as_of))
        .group_by(["person_id", "ndc_code"])
        .aggregate(
            last_fill=_.dispensing_date.max(), fills=_.count(), days_supply=_.days_supply.max()
        )
        .to_polars()
        .sort(["person_id", "last_fill", "ndc_code"], descending=[False, True, False])
        .with_columns(
            line=pl.format(
                "NDC {} — last filled {}, {} fill(s), {} days' supply",
                pl.col("ndc_code"),
                pl.col("last_fill").cast(pl.Date).dt.strftime("%Y-%m-%d"),
                pl.col("fills"),
                pl.col("days_supply"),
            )
        )
        .group_by("person_id", maintain_order=True)
        .agg(prescriptions=pl.col("line").head(PRESCRIPTIONS_SHOWN))
    )

    mc = inputs.medical_claim
    visits = (
        mc.filter(
            (mc.claim_type == "professional")
            & (mc.claim_start_date >= since_1y)
            & (mc.claim_start_date <= as_of)
            & mc.rendering_npi.notnull()
        )
        .group_by(["person_id", "rendering_npi"])
        .aggregate(visits=_.claim_id.nunique(), latest=_.claim_start_date.max())
        .to_polars()
        .sort(
            ["person_id", "visits", "latest", "rendering_npi"],
            descending=[False, True, True, False],
        )
        .group_by("person_id", maintain_order=True)
        .agg(
            provider_npis=pl.col("rendering_npi").head(PROVIDERS_SHOWN),
            provider_visits=pl.col("visits").head(PROVIDERS_SHOWN),
        )
    )

    base = (
        risk.select("person_id", "risk_score", "hccs")
        .outer_join(practices, "person_id")
        .select(
            person_id=ibis.coalesce(_.person_id, _.person_id_right),
            risk_score=_.risk_score,
            hccs=_.hccs,
            practice_id=_.practice_id,
        )
    )
    facts = base.to_polars()
    latest = [_latest(encounters, kind, as_of).to_polars() for kind in ("inpatient", "ed")]
    for extra in (*latest, recent, history, fills, visits):
        facts = facts.join(extra, on="person_id", how="left")
    # Each distinct code is described once, not once per member.
    reasons = pl.concat([facts["last_inpatient_code"], facts["last_ed_code"]]).drop_nulls()
    described = {code: describe(code) for code in reasons.unique().to_list()}
    return facts.with_columns(
        last_inpatient_reason=pl.col("last_inpatient_code").replace_strict(
            described, default=None, return_dtype=pl.String
        ),
        last_ed_reason=pl.col("last_ed_code").replace_strict(
            described, default=None, return_dtype=pl.String
        ),
        as_of=pl.lit(as_of),
    ).sort("person_id")
