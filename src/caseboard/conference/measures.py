"""Measures kept from the first call: time spent per conference and in pre-work per
participant (it feeds net savings later: staff time is a cost of the program), patients reviewed
per call and decisions per patient.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.conference.calls import conference_day
from caseboard.conference.models import (
    Conference,
    ConferenceStatus,
    Discussion,
    DiscussionOutcome,
    ParticipantTime,
    TimeActivity,
)
from caseboard.conference.summary import call_minutes
from caseboard.orgs.models import Partnership


@dataclass(frozen=True)
class PersonTime:
    name: str
    organization: str
    prework_minutes: int
    call_minutes: int


@dataclass(frozen=True)
class ConferenceMeasures:
    conference: Conference
    day: datetime.date
    call_minutes: int | None
    agenda_patients: int
    patients_reviewed: int
    # Things the call settled per patient reviewed: a lead, a goal, each next step (task), each
    # plan service, a tracking-list placement or a stop at steps 6a/6c.
    decisions_per_patient: float | None
    tasks_created: int
    outcomes: dict[str, int]
    average_minutes_per_patient: float | None
    people: list[PersonTime]
    prework_minutes: int
    staff_call_minutes: int
    # Sent after, or still unsent past, the end of the next business day (step 8).
    summary_late: bool | None

    @property
    def staff_minutes(self) -> int:
        return self.prework_minutes + self.staff_call_minutes


@dataclass(frozen=True)
class SeriesMeasures:
    partnership: Partnership
    conferences: list[ConferenceMeasures] = field(default_factory=list)

    @property
    def held(self) -> list[ConferenceMeasures]:
        return [c for c in self.conferences if c.conference.status == ConferenceStatus.HELD]

    @property
    def patients_reviewed(self) -> int:
        return sum(c.patients_reviewed for c in self.conferences)

    @property
    def staff_minutes(self) -> int:
        return sum(c.staff_minutes for c in self.conferences)

    @property
    def average_patients_per_call(self) -> float | None:
        held = self.held
        return round(sum(c.patients_reviewed for c in held) / len(held), 1) if held else None


def _decision_count(discussion: Discussion, tasks: int) -> int:
    if discussion.outcome != DiscussionOutcome.DECIDED:
        return 1 + tasks
    return 1 + (1 if discussion.goal_id else 0) + tasks + len(discussion.plan_services)


def conference_measures(actor: Actor, partnership_id: int | str) -> SeriesMeasures:
    """Every call of the partnership, newest first, with its time and decision measures."""
    partnership = access.get_partnership_for_user(actor, partnership_id)
    conferences = list(
        conference_access.visible_conferences(actor)
        .filter(series__partnership=partnership)
        .exclude(status=ConferenceStatus.CANCELLED)
        .select_related("series", "summary")
        .order_by("-starts_at")
    )
    ids = [c.pk for c in conferences]
    discussions: dict[int, list[Discussion]] = defaultdict(list)
    task_counts: dict[int, int] = {}
    held_discussions = (
        Discussion.objects.filter(agenda_item__conference_id__in=ids)
        .select_related("agenda_item")
        .annotate(task_count=Count("tasks"))
    )
    for discussion in held_discussions:
        discussions[discussion.agenda_item.conference_id].append(discussion)
        task_counts[discussion.pk] = discussion.task_count
    agenda_sizes = Counter(
        conference_access.visible_agenda_items(actor)
        .filter(conference_id__in=ids)
        .values_list("conference_id", flat=True)
    )
    times: dict[int, dict[tuple[str, str], dict[str, int]]] = defaultdict(dict)
    for time in ParticipantTime.objects.filter(conference_id__in=ids).select_related(
        "user", "organization"
    ):
        key = (time.user.get_full_name() or time.user.get_username(), time.organization.name)
        times[time.conference_id].setdefault(key, {})[time.activity] = time.minutes
    now = timezone.now()
    rows = []
    for conference in conferences:
        held = discussions.get(conference.pk, [])
        reviewed = len(held)
        tasks = sum(task_counts[d.pk] for d in held)
        decided = sum(_decision_count(d, task_counts[d.pk]) for d in held)
        seconds = sum(d.seconds for d in held)
        people = [
            PersonTime(
                name=name,
                organization=organization,
                prework_minutes=spent.get(TimeActivity.PREWORK, 0),
                call_minutes=spent.get(TimeActivity.CALL, 0),
            )
            for (name, organization), spent in sorted(times.get(conference.pk, {}).items())
        ]
        summary = getattr(conference, "summary", None)
        rows.append(
            ConferenceMeasures(
                conference=conference,
                day=conference_day(conference),
                call_minutes=call_minutes(conference),
                agenda_patients=agenda_sizes.get(conference.pk, 0),
                patients_reviewed=reviewed,
                decisions_per_patient=round(decided / reviewed, 1) if reviewed else None,
                tasks_created=tasks,
                outcomes=dict(Counter(d.get_outcome_display() for d in held)),
                average_minutes_per_patient=(
                    round(seconds / 60 / reviewed, 1) if reviewed else None
                ),
                people=people,
                prework_minutes=sum(p.prework_minutes for p in people),
                staff_call_minutes=sum(p.call_minutes for p in people),
                summary_late=summary.is_late(now) if summary else None,
            )
        )
    return SeriesMeasures(partnership=partnership, conferences=rows)
