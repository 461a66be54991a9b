"""Marts checked against figures worked out by hand for a handful of members."""

from __future__ import annotations

import datetime

import ibis
import pytest

from caseboard.analytics.marts.chronic_conditions import chronic_conditions
from caseboard.analytics.marts.encounters import encounters, inpatient_stays
from caseboard.analytics.marts.member_months import member_months
from caseboard.analytics.marts.pmpm import categorized_spend, pmpm
from caseboard.analytics.marts.utilization import readmissions, utilization
from tests.analytics.claims_builder import d, ed_facility, fill, inpatient, office, span, table

THROUGH = datetime.date(2025, 12, 31)


def test_member_counts_in_every_month_touched_by_a_span_once() -> None:
    elig = table(
        "eligibility",
        [
            span("A", "2025-01-15", "2025-03-02"),  # Jan, Feb, Mar
            span("A", "2025-03-01", "2025-04-30"),  # overlaps March: still one March
            span("B", "2025-11-01", None),  # open: Nov, Dec through the close date
        ],
    )
    months = member_months(elig, THROUGH).to_polars().sort(["person_id", "year_month"])
    assert months["year_month"].to_list() == [
        "202501",
        "202502",
        "202503",
        "202504",
        "202511",
        "202512",
    ]
    assert months["year_quarter"].to_list()[-1] == "2025-Q4"


def test_a_month_in_overlapping_spans_takes_the_latest_starting_spans_payer_and_plan() -> None:
    def plan(person: str, start: str, end: str, name: str) -> dict[str, object]:
        return {**span(person, start, end), "payer": f"{name} payer", "plan": f"{name} plan"}

    elig = table(
        "eligibility",
        [
            plan("A", "2025-01-01", "2025-06-30", "long"),
            plan("A", "2025-03-10", "2025-04-05", "nested"),  # inside the long span
            plan("A", "2025-06-01", "2025-08-31", "later"),  # meets the long one in June only
            plan("B", "2025-01-01", "2025-02-28", "first"),  # B's spans do not share a month
            plan("B", "2025-04-01", "2025-04-30", "second"),
        ],
    )
    months = member_months(elig, THROUGH).to_polars().sort(["person_id", "year_month"])
    assert months.select("person_id", "year_month", "plan").rows() == [
        ("A", "202501", "long plan"),
        ("A", "202502", "long plan"),
        ("A", "202503", "nested plan"),
        ("A", "202504", "nested plan"),
        ("A", "202505", "long plan"),
        ("A", "202506", "later plan"),
        ("A", "202507", "later plan"),
        ("A", "202508", "later plan"),
        ("B", "202501", "first plan"),
        ("B", "202502", "first plan"),
        ("B", "202504", "second plan"),
    ]
    assert set(months["payer"]) == {
        f"{name} payer" for name in ("long", "nested", "later", "first", "second")
    }
    assert (
        months["payer"].str.replace(" payer", "") == months["plan"].str.replace(" plan", "")
    ).all()


def test_interim_bills_and_transfers_are_one_stay_and_a_gap_starts_another() -> None:
    claims = table(
        "medical_claim",
        [
            inpatient("A", "c1", "2025-02-01", "2025-02-05", 5000),
            inpatient("A", "c2", "2025-02-06", "2025-02-09", 3000, disposition="02"),  # adjacent
            inpatient("A", "c3", "2025-02-03", "2025-02-04", 100),  # inside the first
            inpatient("A", "c4", "2025-02-20", "2025-02-22", 4000),  # 11 days later: new stay
        ],
    )
    stays = inpatient_stays(claims).to_polars().sort("start_date")
    assert stays["start_date"].to_list() == [d("2025-02-01"), d("2025-02-20")]
    assert stays["end_date"].to_list() == [d("2025-02-09"), d("2025-02-22")]
    assert stays["paid_amount"].to_list() == [8100.0, 4000.0]
    assert stays["discharge_disposition_code"].to_list()[0] == "02"  # from the last bill


def test_ed_visit_that_leads_to_admission_belongs_to_the_stay() -> None:
    claims = table(
        "medical_claim",
        [
            ed_facility("A", "e1", "2025-02-01", 800),  # admitted from the ED the same day
            inpatient("A", "c1", "2025-02-01", "2025-02-05", 5000),
            ed_facility("A", "e2", "2025-03-10", 900),  # treated and released
            office("A", "o1", "2025-03-15", 120),
        ],
    )
    enc = encounters(claims).to_polars()
    kinds = sorted(enc["encounter_type"].to_list())
    assert kinds == ["ed", "inpatient", "office_visit"]
    assert enc.filter(enc["encounter_type"] == "ed")["start_date"].to_list() == [d("2025-03-10")]


def test_readmission_within_30_days_counts_and_death_is_not_an_index() -> None:
    claims = table(
        "medical_claim",
        [
            inpatient("A", "c1", "2025-01-01", "2025-01-05", 1),
            inpatient("A", "c2", "2025-02-04", "2025-02-06", 1),  # 30 days after: readmission
            inpatient("B", "c3", "2025-01-01", "2025-01-05", 1),
            inpatient("B", "c4", "2025-02-05", "2025-02-06", 1),  # 31 days: not
            inpatient("C", "c5", "2025-01-01", "2025-01-05", 1, disposition="20"),
        ],
    )
    flags = readmissions(inpatient_stays(claims)).to_polars().sort(["person_id", "end_date"])
    assert flags["readmitted"].to_list() == [True, False, False, False]  # C's stay is no index
    assert flags["person_id"].to_list() == ["A", "A", "B", "B"]


def test_utilization_per_thousand_member_years() -> None:
    elig = table(
        "eligibility", [span("A", "2025-01-01", "2025-12-31"), span("B", "2025-07-01", None)]
    )
    claims = table(
        "medical_claim",
        [
            inpatient("A", "c1", "2025-03-01", "2025-03-04", 1),
            ed_facility("B", "e1", "2025-08-01", 1),
            ed_facility("B", "e2", "2025-09-01", 1),
        ],
    )
    out = utilization(encounters(claims), member_months(elig, THROUGH)).to_polars()
    row = out.row(0, named=True)
    # 12 + 6 member months = 1.5 member-years: 1 admit → 666.7 per 1,000; 2 ED → 1,333.3.
    assert row["member_months"] == 18
    assert row["admits_per_1000"] == pytest.approx(1000 / 1.5)
    assert row["ed_visits_per_1000"] == pytest.approx(2000 / 1.5)


def test_pmpm_hand_computed_for_five_members() -> None:
    # Five members enrolled all of 2025-Q1 (15 member months).
    elig = table("eligibility", [span(p, "2025-01-01", "2025-03-31") for p in "ABCDE"])
    claims = table(
        "medical_claim",
        [
            inpatient("A", "c1", "2025-01-10", "2025-01-12", 9000),
            ed_facility("B", "e1", "2025-02-01", 600),
            office("C", "o1", "2025-03-01", 150),
            office("D", "o2", "2025-04-02", 999),  # after enrolment ended: not counted
        ],
    )
    rx = table("pharmacy_claim", [fill("E", "r1", "2025-01-05", 300)])
    risk = ibis.memtable(
        {"person_id": ["A", "B", "C", "D", "E"], "risk_score": [3.0, 1.0, 0.5, 0.5, 1.0]}
    )
    out = pmpm(categorized_spend(claims, rx), member_months(elig, THROUGH), risk).to_polars()
    observed = {r["service_category"]: r["observed_pmpm"] for r in out.iter_rows(named=True)}
    assert observed["inpatient"] == pytest.approx(9000 / 15)
    assert observed["emergency_department"] == pytest.approx(600 / 15)
    assert observed["professional"] == pytest.approx(150 / 15)
    assert observed["pharmacy"] == pytest.approx(300 / 15)
    assert observed["total"] == pytest.approx(10050 / 15)
    # With one quarter and the plan's own base, expected equals observed.
    total = out.filter(out["service_category"] == "total").row(0, named=True)
    assert total["expected_pmpm"] == pytest.approx(total["observed_pmpm"])
    assert total["mean_risk"] == pytest.approx(6.0 / 5)


def test_pmpm_expected_follows_a_benchmark_times_risk() -> None:
    elig = table("eligibility", [span("A", "2025-01-01", "2025-03-31")])
    claims = table("medical_claim", [office("A", "o1", "2025-01-10", 300)])
    rx = table("pharmacy_claim", [])
    bench = ibis.memtable({"service_category": ["total", "professional"], "pmpm": [80.0, 40.0]})
    risk = ibis.memtable({"person_id": ["A"], "risk_score": [1.5]})
    out = pmpm(categorized_spend(claims, rx), member_months(elig, THROUGH), risk, benchmark=bench)
    rows = {r["service_category"]: r for r in out.to_polars().iter_rows(named=True)}
    assert rows["total"]["expected_pmpm"] == pytest.approx(120.0)
    assert rows["professional"]["observed_pmpm"] == pytest.approx(100.0)


def test_chronic_condition_flags_come_from_any_diagnosis_position_in_the_window() -> None:
    row = office("A", "o1", "2025-06-01", 100)
    row["diagnosis_code_3"] = "I5022"  # heart failure, third position
    old = office("B", "o2", "2022-01-01", 100)  # before the window: not counted
    old["diagnosis_code_1"] = "J449"
    claims = table("medical_claim", [row, old, office("B", "o3", "2025-02-01", 90)])
    flags = chronic_conditions(claims, since=d("2024-01-01"), until=THROUGH).to_polars()
    a = flags.filter(flags["person_id"] == "A").row(0, named=True)
    b = flags.filter(flags["person_id"] == "B").row(0, named=True)
    assert (a["diabetes"], a["heart_failure"], a["copd"]) == (1, 1, 0)  # E119 on line 1
    assert (b["diabetes"], b["copd"]) == (1, 0)
