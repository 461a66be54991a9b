"""The order patients are discussed in (seed 004, Attachment A, steps 3 and 5), over plain
values: no database."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from caseboard.conference.agenda import Candidate, UrgentRequest, order_agenda
from caseboard.conference.models import AgendaKind

NOV_30 = datetime.date(2026, 11, 30)


def ids(choices: list) -> list[int]:
    return [c.patient_id for c in choices]


def test_common_patients_come_first_then_unique_by_plan_rank_then_practice_only() -> None:
    candidates = [
        Candidate(1, plan_rank=1),
        Candidate(2, plan_rank=5, practice_rank=2),
        Candidate(3, practice_rank=1),
        Candidate(4, plan_rank=3, practice_rank=1),
        Candidate(5, plan_rank=2),
    ]
    agenda = order_agenda(candidates, limit=10)
    assert ids(agenda) == [4, 2, 1, 5, 3]
    assert [c.kind for c in agenda] == [
        AgendaKind.COMMON,
        AgendaKind.COMMON,
        AgendaKind.UNIQUE_PLAN,
        AgendaKind.UNIQUE_PLAN,
        AgendaKind.UNIQUE_PRACTICE,
    ]
    assert agenda[0].reason == "On both lists; plan rank 3"
    assert agenda[2].reason == "Unique to the plan's list; plan rank 1"
    assert agenda[4].reason == "Unique to the practice's list; practice rank 1"


def test_follow_ups_come_before_common_patients() -> None:
    candidates = [
        Candidate(1, plan_rank=1, practice_rank=1),
        Candidate(2, plan_rank=9, follow_up_due_on=NOV_30),
        Candidate(3, practice_rank=4, follow_up_due_on=datetime.date(2026, 11, 20)),
    ]
    agenda = order_agenda(candidates, limit=10)
    assert ids(agenda) == [3, 2, 1]
    assert agenda[1].kind == AgendaKind.FOLLOW_UP
    assert agenda[1].reason == "Follow-up due: report back set for 2026-11-30"


def test_physicians_patients_first_when_they_attend() -> None:
    candidates = [
        Candidate(1, plan_rank=1, practice_rank=1, pcp_id=20, pcp_name="Dr. Lee"),
        Candidate(2, plan_rank=7, pcp_id=10, pcp_name="Dr. Morales"),
        Candidate(3, plan_rank=4, pcp_id=10, pcp_name="Dr. Morales"),
        Candidate(4, practice_rank=2, pcp_id=10, pcp_name="Dr. Morales"),
    ]
    without = order_agenda(candidates, limit=10)
    assert ids(without) == [1, 3, 2, 4]
    attending = order_agenda(candidates, limit=10, attending_pcp_ids=[10])
    assert ids(attending) == [3, 2, 4, 1]
    assert attending[1].reason == "Dr. Morales attends; plan rank 7"
    assert attending[2].reason == "Dr. Morales attends; practice rank 2"
    assert {c.kind for c in attending[:3]} == {AgendaKind.PHYSICIAN}


def test_urgent_patient_always_added() -> None:
    request = UrgentRequest("Ana Reyes", "Practice A", "evicted, insulin at risk")
    candidates = [Candidate(i, plan_rank=i) for i in range(1, 12)] + [Candidate(99, urgent=request)]
    agenda = order_agenda(candidates, limit=3)
    assert ids(agenda) == [99, 1, 2]
    assert agenda[0].reason == "Urgent, added by Ana Reyes (Practice A): evicted, insulin at risk"


def test_urgent_patients_show_even_when_follow_ups_fill_the_agenda() -> None:
    follow_ups = [Candidate(i, follow_up_due_on=NOV_30) for i in range(1, 4)]
    urgent = [Candidate(50 + i, urgent=UrgentRequest("A", "Plan P", "x")) for i in range(3)]
    agenda = order_agenda(follow_ups + urgent, limit=2)
    # The urgent ones alone need more than the two places: all three show, no follow-up does.
    assert ids(agenda) == [50, 51, 52]


def test_urgent_follow_up_patient_shows_once_and_says_both() -> None:
    agenda = order_agenda(
        [Candidate(1, follow_up_due_on=NOV_30, urgent=UrgentRequest("Ana", "Practice A", ""))],
        limit=5,
    )
    assert len(agenda) == 1
    assert agenda[0].kind == AgendaKind.URGENT
    assert "also a follow-up due 2026-11-30" in agenda[0].reason


def test_limit_is_respected() -> None:
    candidates = [Candidate(i, plan_rank=i) for i in range(1, 31)]
    agenda = order_agenda(candidates, limit=10)
    assert ids(agenda) == list(range(1, 11))


def test_no_patient_twice() -> None:
    candidates = [
        Candidate(1, plan_rank=2, practice_rank=1, pcp_id=10, follow_up_due_on=NOV_30),
        Candidate(2, plan_rank=1, pcp_id=10),
    ]
    agenda = order_agenda(candidates, limit=10, attending_pcp_ids={10})
    assert ids(agenda) == [1, 2]
    assert agenda[0].kind == AgendaKind.FOLLOW_UP
    assert agenda[1].kind == AgendaKind.PHYSICIAN


def test_candidates_on_neither_list_are_left_out_unless_due_or_urgent() -> None:
    agenda = order_agenda([Candidate(1), Candidate(2, plan_rank=1)], limit=10)
    assert ids(agenda) == [2]


dates = st.dates(min_value=datetime.date(2026, 1, 1), max_value=datetime.date(2026, 12, 31))
candidate_strategy = st.builds(
    Candidate,
    patient_id=st.integers(min_value=1, max_value=40),
    plan_rank=st.none() | st.integers(min_value=1, max_value=30),
    practice_rank=st.none() | st.integers(min_value=1, max_value=30),
    pcp_id=st.none() | st.integers(min_value=1, max_value=3),
    follow_up_due_on=st.none() | dates,
    urgent=st.none() | st.just(UrgentRequest("Ana Reyes", "Practice A", "urgent")),
)


@given(
    candidates=st.lists(candidate_strategy, max_size=40),
    limit=st.integers(min_value=1, max_value=15),
    attending=st.sets(st.integers(min_value=1, max_value=3), max_size=2),
)
def test_agenda_properties(candidates: list[Candidate], limit: int, attending: set[int]) -> None:
    agenda = order_agenda(candidates, limit=limit, attending_pcp_ids=attending)
    urgent_ids = {c.patient_id for c in candidates if c.urgent is not None}
    chosen = ids(agenda)
    assert len(chosen) == len(set(chosen))
    assert len(agenda) <= max(limit, len(urgent_ids))
    assert len(agenda) <= limit + len(urgent_ids)
    # Every urgent patient is on the agenda, whatever the limit.
    assert urgent_ids <= set(chosen)
    # Follow-ups come before any other patient.
    kinds = [c.kind for c in agenda]
    if AgendaKind.FOLLOW_UP in kinds:
        last_follow_up = max(i for i, k in enumerate(kinds) if k == AgendaKind.FOLLOW_UP)
        assert all(k == AgendaKind.FOLLOW_UP for k in kinds[: last_follow_up + 1])
    # When there is room, every follow-up due is on the agenda.
    due = {c.patient_id for c in candidates if c.follow_up_due_on is not None} - urgent_ids
    if len(due) + len(urgent_ids) <= limit:
        assert due <= set(chosen)
    # Nothing is left out while places remain.
    eligible = {
        c.patient_id
        for c in candidates
        if c.plan_rank is not None
        or c.practice_rank is not None
        or c.follow_up_due_on is not None
        or c.urgent is not None
    }
    assert len(agenda) == max(min(limit, len(eligible)), len(urgent_ids))
