"""The recent-encounters mart: the stays and ED visits the app turns into claims-based episodes,
checked against dates and keys worked out by hand."""

from __future__ import annotations

import datetime

import pytest

from caseboard.analytics.marts.encounters import encounters
from caseboard.analytics.marts.recent_encounters import COLUMNS, recent_encounters
from tests.analytics.claims_builder import d, ed_facility, inpatient, office, table

AS_OF = datetime.date(2025, 12, 31)


def _mart(rows: list[dict[str, object]], days: int = 180) -> list[dict[str, object]]:
    claims = table("medical_claim", rows)
    return recent_encounters(encounters(claims), claims, AS_OF, days=days).to_dicts()


def test_recent_stays_and_ed_visits_with_stable_keys_and_their_claims() -> None:
    found = _mart(
        [
            inpatient("A", "c1", "2025-11-01", "2025-11-05", 5000),
            inpatient("A", "c2", "2025-11-06", "2025-11-09", 3000, disposition="06"),  # adjacent
            ed_facility("A", "e2", "2025-12-10", 900),
            office("A", "o1", "2025-12-15", 120),  # not a hospital visit
        ]
    )
    assert [
        (r["encounter_id"], r["encounter_type"], r["admit_date"], r["discharge_date"])
        for r in found
    ] == [
        ("IP-A-20251101", "inpatient", d("2025-11-01"), d("2025-11-09")),
        ("ED-A-20251210", "ed", d("2025-12-10"), d("2025-12-10")),
    ]
    stay, visit = found
    assert stay["claim_ids"] == ["c1", "c2"]
    assert stay["discharge_disposition_code"] == "06"  # the last bill's
    assert stay["primary_diagnosis_code"] == "I5023"
    # ICD-10-CM's own description (simple_icd_10_cm), not a retyped one.
    assert stay["primary_diagnosis_text"] == "Acute on chronic systolic (congestive) heart failure"
    assert visit["claim_ids"] == ["e2"]
    assert visit["discharge_disposition_code"] is None
    assert list(found[0]) == list(COLUMNS)


def test_the_window_counts_back_from_the_discharge_and_is_configurable() -> None:
    rows = [
        # Admitted before the window, discharged inside it: in.
        inpatient("A", "c1", "2025-06-30", "2025-07-06", 5000),
        # Ended 180 days before as_of (2025-07-04): out.
        ed_facility("B", "e1", "2025-07-04", 900),
        # Ended 179 days before: in.
        ed_facility("B", "e2", "2025-07-05", 900),
        # After as_of: not yet.
        ed_facility("C", "e3", "2026-01-02", 900),
    ]
    assert [r["encounter_id"] for r in _mart(rows)] == ["IP-A-20250630", "ED-B-20250705"]
    assert _mart(rows, days=30) == []
    with pytest.raises(ValueError, match="at least one day"):
        _mart(rows, days=0)


def test_an_older_stay_arriving_late_does_not_change_a_stays_key() -> None:
    recent = inpatient("A", "c2", "2025-12-01", "2025-12-03", 3000)
    before = _mart([recent])
    after = _mart([inpatient("A", "c0", "2025-03-01", "2025-03-04", 100), recent])
    assert [r["encounter_id"] for r in before] == [r["encounter_id"] for r in after]
