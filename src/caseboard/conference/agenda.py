"""Which patients a conference call discusses, in which order, and why.

Seed 004, Attachment A, step 3: the plan sends "the combined list ... with up to 10 patients
identified to discuss"; step 5, the "rules of thumb":

a. start with the commonly identified high-risk patients, then the unique patients, "starting
   with patients with highest risk score assigned by health plan";
b. "if there are physicians participating in a conference call, prioritize their highest risk
   patients first";
c. "always provide the opportunity for the practice or the health plan to discuss a patient
   with urgent needs that may not be on the shared list";
d. "When follow-up action items result from a conference call, always start the next
   conference call with updates on the follow-up items."

`order_agenda` applies them over plain values so the rules can be read and tested in one
place; the caller gathers the candidates from the lists, earlier calls and urgent requests.

Choices made where the seed leaves room:

- Follow-ups due come first (5d "always start the next conference call" with them), urgent
  patients right after them, then the physicians' patients, the common ones and the unique
  ones.
- Urgent patients are never dropped. They take places of the agenda like any other patient,
  but when urgent patients alone outnumber the places, they all still show and the agenda runs
  over its size: a side that says a patient cannot wait is heard (5c "always").
- Follow-ups due that do not fit stay due: the next agenda picks them up again, since an
  earlier call's follow-up item stays open until a later call settles it.
- Practice-only patients have no plan risk rank; they follow the ranked ones in the practice's
  own order (the combined list's order, seed 004 step 2).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from caseboard.conference.models import AgendaKind


@dataclass(frozen=True)
class UrgentRequest:
    """Someone on either side asked to discuss the patient on this call (step 5c)."""

    added_by: str
    organization: str
    note: str


@dataclass(frozen=True)
class Candidate:
    """One patient who could be on the agenda, with what the rules look at."""

    patient_id: int
    # Position on the plan's list (1 = highest risk), None when not on it.
    plan_rank: int | None = None
    # Position on the practice's list, None when not on it.
    practice_rank: int | None = None
    # The patient's current PCP, and how to name them ("Ada Morales, MD").
    pcp_id: int | None = None
    pcp_name: str = ""
    # The earliest report-back date of an open follow-up from an earlier call that is due.
    follow_up_due_on: datetime.date | None = None
    urgent: UrgentRequest | None = None

    @property
    def is_common(self) -> bool:
        return self.plan_rank is not None and self.practice_rank is not None


@dataclass(frozen=True)
class AgendaChoice:
    patient_id: int
    kind: AgendaKind
    reason: str


def _rank_words(candidate: Candidate) -> str:
    if candidate.plan_rank is not None:
        return f"plan rank {candidate.plan_rank}"
    if candidate.practice_rank is not None:
        return f"practice rank {candidate.practice_rank}"
    return "not ranked"


def _urgent_reason(candidate: Candidate, request: UrgentRequest) -> str:
    reason = f"Urgent, added by {request.added_by} ({request.organization})"
    if request.note:
        reason += f": {request.note}"
    if candidate.follow_up_due_on is not None:
        reason += f" (also a follow-up due {candidate.follow_up_due_on.isoformat()})"
    return reason


def _by_risk(candidate: Candidate) -> tuple[int, int, int]:
    """Plan-ranked patients by the plan's rank first, then the practice's by its rank."""
    if candidate.plan_rank is not None:
        return (0, candidate.plan_rank, candidate.patient_id)
    if candidate.practice_rank is not None:
        return (1, candidate.practice_rank, candidate.patient_id)
    return (2, 0, candidate.patient_id)


def _list_choices(
    candidates: Sequence[Candidate], attending_pcp_ids: frozenset[int]
) -> Iterable[AgendaChoice]:
    """Every non-urgent candidate as a choice, best first (rules 5d, 5b, 5a)."""
    due = sorted(
        (c for c in candidates if c.follow_up_due_on is not None),
        key=lambda c: (c.follow_up_due_on, _by_risk(c)),
    )
    for c in due:
        assert c.follow_up_due_on is not None
        yield AgendaChoice(
            c.patient_id,
            AgendaKind.FOLLOW_UP,
            f"Follow-up due: report back set for {c.follow_up_due_on.isoformat()}",
        )
    physicians = sorted(
        (
            c
            for c in candidates
            if c.pcp_id is not None
            and c.pcp_id in attending_pcp_ids
            and (c.plan_rank is not None or c.practice_rank is not None)
        ),
        key=_by_risk,
    )
    for c in physicians:
        yield AgendaChoice(
            c.patient_id,
            AgendaKind.PHYSICIAN,
            f"{c.pcp_name or 'Their PCP'} attends; {_rank_words(c)}",
        )
    common = sorted((c for c in candidates if c.is_common), key=_by_risk)
    for c in common:
        yield AgendaChoice(
            c.patient_id, AgendaKind.COMMON, f"On both lists; plan rank {c.plan_rank}"
        )
    plan_only = sorted(
        (c for c in candidates if c.plan_rank is not None and c.practice_rank is None),
        key=_by_risk,
    )
    for c in plan_only:
        yield AgendaChoice(
            c.patient_id,
            AgendaKind.UNIQUE_PLAN,
            f"Unique to the plan's list; plan rank {c.plan_rank}",
        )
    practice_only = sorted(
        (c for c in candidates if c.plan_rank is None and c.practice_rank is not None),
        key=_by_risk,
    )
    for c in practice_only:
        yield AgendaChoice(
            c.patient_id,
            AgendaKind.UNIQUE_PRACTICE,
            f"Unique to the practice's list; practice rank {c.practice_rank}",
        )


def order_agenda(
    candidates: Sequence[Candidate], *, limit: int, attending_pcp_ids: Iterable[int] = ()
) -> list[AgendaChoice]:
    """The agenda: follow-ups due, urgent patients, attending physicians' patients, common
    patients, then unique ones; each patient once; at most `limit` places unless urgent
    patients alone need more (see the module's notes)."""
    if limit < 1:
        raise ValueError("An agenda has at least one place.")
    pcps = frozenset(attending_pcp_ids)
    urgent: list[AgendaChoice] = []
    urgent_ids: set[int] = set()
    for c in candidates:
        if c.urgent is not None and c.patient_id not in urgent_ids:
            urgent_ids.add(c.patient_id)
            urgent.append(
                AgendaChoice(c.patient_id, AgendaKind.URGENT, _urgent_reason(c, c.urgent))
            )
    room = max(0, limit - len(urgent))
    others = [c for c in candidates if c.patient_id not in urgent_ids]
    picked: list[AgendaChoice] = []
    seen: set[int] = set()
    for choice in _list_choices(others, pcps):
        if len(picked) >= room:
            break
        if choice.patient_id in seen:
            continue
        seen.add(choice.patient_id)
        picked.append(choice)
    follow_ups = [c for c in picked if c.kind == AgendaKind.FOLLOW_UP]
    rest = [c for c in picked if c.kind != AgendaKind.FOLLOW_UP]
    return [*follow_ups, *urgent, *rest]
