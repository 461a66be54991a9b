"""Reads for conference mode: the call screen, one patient at a time, and the summary page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.conference.calls import conference_day
from caseboard.conference.decisions import practice_gap_exceeded
from caseboard.conference.models import (
    AgendaItem,
    Conference,
    ConferenceSummary,
    Discussion,
)
from caseboard.conference.prework import PreworkPacket, prework_packet
from caseboard.conference.summary import visible_summary_patients
from caseboard.orgs.models import Membership, Partnership


def partnership_staff(partnership: Partnership, side: str) -> QuerySet[Membership]:
    """Active people of one side, for the contact and owner pickers."""
    organization_id = partnership.plan_id if side == "plan" else partnership.partner_id
    return (
        Membership.objects.select_related("user", "organization")
        .filter(organization_id=organization_id, is_active=True)
        .order_by("user__last_name", "user__first_name")
    )


@dataclass(frozen=True)
class RunPage:
    conference: Conference
    partnership: Partnership
    day: datetime.date
    items: list[AgendaItem]
    discussions: dict[int, Discussion]
    hidden_items: int
    current: AgendaItem | None
    packet: PreworkPacket | None
    # Step 6a-i, for the current patient: the practice has not seen them for the series' gap.
    gap_months: int
    last_seen: datetime.date | None
    gap_exceeded: bool | None
    can_edit: bool
    is_plan_staff: bool
    summary: ConferenceSummary | None

    @property
    def rows(self) -> list[tuple[AgendaItem, Discussion | None]]:
        return [(i, self.discussions.get(i.pk)) for i in self.items]

    @property
    def current_discussion(self) -> Discussion | None:
        return self.discussions.get(self.current.pk) if self.current else None

    @property
    def remaining(self) -> int:
        return sum(1 for i in self.items if i.pk not in self.discussions)

    @property
    def discussed(self) -> int:
        return len(self.discussions)


def run_page(actor: Actor, conference_id: int | str, item_id: str | None = None) -> RunPage:
    """The call screen: the agenda with what each patient's discussion ended in, and the
    patient in hand — `item_id` if given, else the first not yet discussed."""
    conference = conference_access.get_conference_for_user(actor, conference_id)
    partnership = conference.series.partnership
    items = list(
        conference_access.visible_agenda_items(actor)
        .filter(conference=conference)
        .order_by("position")
    )
    discussions = {
        d.agenda_item_id: d
        for d in Discussion.objects.filter(agenda_item__in=items).select_related(
            "goal", "recorded_by"
        )
    }
    current = None
    if item_id and item_id.isdigit():
        current = next((i for i in items if i.pk == int(item_id)), None)
    if current is None:
        current = next((i for i in items if i.pk not in discussions), None)
    packet = prework_packet(actor, current) if current is not None else None
    day = conference_day(conference)
    gap = conference.series.practice_gap_months
    last_seen = None
    if current is not None and current.pk in discussions:
        last_seen = discussions[current.pk].last_seen_by_practice
    elif current is not None:
        # Step 6a: the practice's own record of the last visit, when the roster carries it.
        span = (
            access.visible_attribution(actor, current.patient)
            .filter(organization_id=partnership.partner_id, last_seen_on__isnull=False)
            .order_by("-start_date")
            .first()
        )
        last_seen = span.last_seen_on if span else None
    return RunPage(
        conference=conference,
        partnership=partnership,
        day=day,
        items=items,
        discussions=discussions,
        hidden_items=conference.agenda_items.count() - len(items),
        current=current,
        packet=packet,
        gap_months=gap,
        last_seen=last_seen,
        gap_exceeded=practice_gap_exceeded(last_seen, day, gap) if last_seen else None,
        can_edit=actor.can_edit_patients,
        is_plan_staff=conference_access.is_plan_staff(actor, partnership),
        summary=ConferenceSummary.objects.filter(conference=conference).first(),
    )


@dataclass(frozen=True)
class SummaryPage:
    conference: Conference
    partnership: Partnership
    summary: ConferenceSummary | None
    content: dict[str, Any]
    is_late: bool
    can_send: bool


def summary_page(actor: Actor, conference_id: int | str) -> SummaryPage:
    """The call's summary as the actor may read it (patients they may see only); audited."""
    conference = conference_access.get_conference_for_user(actor, conference_id)
    partnership = conference.series.partnership
    summary = (
        ConferenceSummary.objects.select_related("sent_by").filter(conference=conference).first()
    )
    content = visible_summary_patients(actor, summary.content) if summary else {}
    shown = [p["patient_id"] for p in content.get("patients", [])]
    if shown:
        log.record_many(
            actor,
            AuditAction.VIEW,
            shown,
            {"page": "conference_summary", "conference": conference.pk},
        )
    return SummaryPage(
        conference=conference,
        partnership=partnership,
        summary=summary,
        content=content,
        is_late=summary.is_late(timezone.now()) if summary else False,
        can_send=(
            summary is not None
            and summary.sent_at is None
            and conference_access.is_plan_staff(actor, partnership)
            and actor.can_edit_patients
        ),
    )
