"""The high-risk ranking and its drivers, worked out by hand for a few members."""

from __future__ import annotations

import datetime

import ibis
import polars as pl

from caseboard.analytics.marts.encounters import encounters
from caseboard.analytics.marts.high_risk import (
    current_attribution,
    member_facts,
    rank_members,
    with_drivers,
)
from caseboard.analytics.marts.pmpm import categorized_spend
from tests.analytics.claims_builder import ed_facility, inpatient, office, span, table

AS_OF = datetime.date(2026, 6, 30)


def _world() -> dict[str, ibis.Table]:
    elig = table(
        "eligibility",
        [
            span("A", "2024-01-01", None),
            span("B", "2024-01-01", None),
            span("C", "2024-01-01", None),
            span("D", "2024-01-01", "2026-01-31"),  # no longer enrolled: not ranked
            span("E", "2025-01-01", None),  # enrolled, no practice: ranked on their own
        ],
    )
    claims = table(
        "medical_claim",
        [
            inpatient("A", "a1", "2026-03-01", "2026-03-05", 20000),
            ed_facility("A", "a2", "2026-05-01", 900),
            office("A", "a3", "2026-05-10", 150),
            # B's cost jumps: $300 a year ago, $6,000 in the last six months.
            office("B", "b1", "2025-08-01", 300),
            ed_facility("B", "b2", "2026-02-01", 3000),
            ed_facility("B", "b3", "2026-04-01", 3000),
            office("C", "c1", "2025-05-01", 120),  # over a year ago
            office("D", "d1", "2025-06-01", 100),
        ],
    )
    return {"elig": elig, "claims": claims, "rx": table("pharmacy_claim", [])}


def test_ranks_current_members_within_their_practice_by_score() -> None:
    w = _world()
    enc = encounters(w["claims"])
    facts = member_facts(w["elig"], enc, categorized_spend(w["claims"], w["rx"]), AS_OF)
    practices = ibis.memtable(
        {"person_id": ["A", "B", "C", "D"], "practice_id": ["P1", "P1", "P2", "P1"]}
    )
    scores = ibis.memtable(
        {
            "person_id": ["A", "B", "C"],
            "score": [2.5, 3.1, 0.4],
            "hccs": [["HHS_HCC130"], ["HHS_HCC021", "HHS_HCC082"], []],
        }
    )
    ranked = rank_members(facts, practices, scores).to_polars().sort(["practice_id", "rank"])
    assert ranked.select("practice_id", "person_id", "rank").rows() == [
        ("P1", "B", 1),
        ("P1", "A", 2),
        ("P2", "C", 1),
        ("unattributed", "E", 1),
    ]
    drivers = dict(
        zip(
            ranked["person_id"],
            with_drivers(ranked, {"HHS_HCC130": "Congestive Heart Failure"})["drivers"],
            strict=True,
        )
    )
    assert drivers["A"].to_list() == [
        "Conditions: HHS_HCC130 Congestive Heart Failure",
        "1 inpatient admission(s) in 12 months, latest 2026-03-01",
        "1 ED visit(s) in 12 months, latest 2026-05-01",
        "Rising cost: $21050 in the last 6 months vs $0 before",
    ]
    assert "Rising cost: $6000 in the last 6 months vs $300 before" in drivers["B"].to_list()
    assert "No PCP office visit in 12 months" not in drivers["B"].to_list()
    assert drivers["C"].to_list() == ["No PCP office visit in 12 months"]


def test_attribution_file_wins_and_claims_decide_without_one() -> None:
    w = _world()
    enc = encounters(w["claims"])
    claims = w["claims"].mutate(billing_npi=ibis.literal("1234567893"))
    by_claims = current_attribution(None, encounters(claims), claims, AS_OF).to_polars()
    assert set(by_claims["practice_id"]) == {"1234567893"}
    assert set(by_claims["person_id"]) == {"A", "B", "C", "D"}
    spans = ibis.memtable(
        pl.DataFrame(
            {
                "person_id": ["A", "A"],
                "practice_id": ["OLD", "NEW"],
                "start_date": [datetime.date(2024, 1, 1), datetime.date(2026, 1, 1)],
                "end_date": [datetime.date(2025, 12, 31), None],
            }
        ).to_arrow()
    )
    from_file = current_attribution(spans, enc, w["claims"], AS_OF).to_polars()
    assert from_file.rows() == [("A", "NEW")]
