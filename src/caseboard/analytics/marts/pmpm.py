"""PMPM by quarter and service category, observed against risk-adjusted expected.

Service categories (docs/analytics/marts.md): inpatient (institutional bills 11x), emergency
department (institutional claims with an ED revenue centre, and professional lines in the ED:
place of service 23 or CPT 99281–99285), outpatient (other institutional), professional (other
professional), pharmacy, and total.

Expected PMPM = base PMPM at risk 1.0 × the mean risk score of the quarter's member months.
The base is either the plan's own cost per unit of risk over the whole period (so expected
shows what each quarter would cost at the plan's average efficiency) or a regional benchmark
file with columns service_category, pmpm (at risk 1.0) and optionally year_quarter.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import polars as pl
from ibis import _

from caseboard.analytics.marts.encounters import ED_CPT, ED_REVENUE

CATEGORIES = ("inpatient", "emergency_department", "outpatient", "professional", "pharmacy")


def categorized_spend(medical_claim: ibis.Table, pharmacy_claim: ibis.Table) -> ibis.Table:
    """person_id, year_month, service_category, paid for every claim line."""
    mc = medical_claim
    ed_claims = (
        mc.filter((mc.claim_type == "institutional") & mc.revenue_center_code.isin(ED_REVENUE))
        .select("claim_id")
        .distinct()
        .mutate(ed_claim=ibis.literal(True))
    )
    lines = mc.left_join(ed_claims, "claim_id")
    bill2 = lines.bill_type_code.cast("string").lpad(3, "0").left(2)
    category = ibis.cases(
        ((lines.claim_type == "institutional") & (bill2 == "11"), "inpatient"),
        ((lines.claim_type == "institutional") & lines.ed_claim.notnull(), "emergency_department"),
        (lines.claim_type == "institutional", "outpatient"),
        (
            (lines.place_of_service_code == "23") | lines.hcpcs_code.isin(ED_CPT),
            "emergency_department",
        ),
        else_="professional",
    )
    day = ibis.coalesce(lines.admission_date, lines.claim_start_date).cast("date")
    medical = lines.select(
        person_id=lines.person_id,
        year_month=day.strftime("%Y%m"),
        service_category=category,
        paid=ibis.coalesce(lines.paid_amount.cast("float64"), 0.0),
    )
    rx = pharmacy_claim
    pharmacy = rx.select(
        person_id=rx.person_id,
        year_month=ibis.coalesce(rx.dispensing_date, rx.paid_date).cast("date").strftime("%Y%m"),
        service_category=ibis.literal("pharmacy"),
        paid=ibis.coalesce(rx.paid_amount.cast("float64"), 0.0),
    )
    return ibis.union(medical, pharmacy)


def read_benchmark(path: Path) -> ibis.Table:
    frame = pl.read_csv(path)
    missing = {"service_category", "pmpm"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: benchmark file needs columns {sorted(missing)}")
    unknown = set(frame["service_category"]) - set(CATEGORIES) - {"total"}
    if unknown:
        raise ValueError(f"{path}: unknown service_category {sorted(unknown)}; use {CATEGORIES}")
    return ibis.memtable(frame.to_arrow())


def pmpm(
    spend: ibis.Table,
    member_months: ibis.Table,
    member_risk: ibis.Table,
    *,
    benchmark: ibis.Table | None = None,
) -> ibis.Table:
    """Columns: year_quarter, service_category, observed_pmpm, expected_pmpm, member_months,
    paid_amount, mean_risk.

    `member_risk` has person_id and risk_score (the plan's chosen model); members without a
    score count at 1.0.
    """
    mm = member_months.left_join(member_risk.select("person_id", "risk_score"), "person_id")
    mm = mm.mutate(risk=ibis.coalesce(mm.risk_score, 1.0))
    exposure = mm.group_by("year_quarter").aggregate(
        member_months=_.count(), risk_months=_.risk.sum()
    )
    # Spend counts only in months the member was enrolled: PMPM's numerator and denominator
    # must describe the same people.
    enrolled = spend.join(
        member_months.select("person_id", "year_month", "year_quarter"),
        ["person_id", "year_month"],
    )
    by_category = enrolled.group_by(["year_quarter", "service_category"]).aggregate(
        paid_amount=_.paid.sum()
    )
    totals = (
        enrolled.group_by("year_quarter")
        .aggregate(paid_amount=_.paid.sum())
        .mutate(service_category=ibis.literal("total"))
    )
    categories = ibis.memtable({"service_category": [*CATEGORIES, "total"]})
    grid = exposure.cross_join(categories)
    paid = ibis.union(by_category, totals.select("year_quarter", "service_category", "paid_amount"))
    out = grid.left_join(paid, ["year_quarter", "service_category"]).select(
        "year_quarter",
        "service_category",
        "member_months",
        "risk_months",
        paid_amount=ibis.coalesce(_.paid_amount, 0.0),
    )
    out = out.mutate(
        observed_pmpm=out.paid_amount / out.member_months,
        mean_risk=out.risk_months / out.member_months,
    )
    if benchmark is None:
        base = out.group_by("service_category").aggregate(
            base_pmpm=out.paid_amount.sum() / out.risk_months.sum()
        )
        out = out.join(base, "service_category")
    else:
        cols = benchmark.columns
        keys = (
            ["service_category", "year_quarter"] if "year_quarter" in cols else ["service_category"]
        )
        bench = benchmark.select(*keys, base_pmpm=benchmark.pmpm.cast("float64"))
        out = out.left_join(bench, keys)
    return out.select(
        "year_quarter",
        "service_category",
        "observed_pmpm",
        expected_pmpm=out.base_pmpm * out.mean_risk,
        member_months=out.member_months,
        paid_amount=out.paid_amount,
        mean_risk=out.mean_risk,
    ).order_by(["year_quarter", "service_category"])
