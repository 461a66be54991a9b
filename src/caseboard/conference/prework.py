"""Reads for the conference calls: the pre-work packet of an agenda patient, the call page and
the series page. Each starts from the access policy; each showing of patient data is audited.

The packet carries exactly what seed 004, Attachment A, step 3 lists (items i–xv), shared in
the app rather than by e-mail ("through a HIPAA-compliant process"). DESIGN §5, minimum
necessary: nothing else goes in it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from typing import Any

from django.db.models import Q
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.models import ACTIVE_STATUSES, EnrollmentStatus
from caseboard.conference.calls import active_series, partner_pcps
from caseboard.conference.models import (
    AgendaItem,
    Conference,
    ConferenceSeries,
    ConferenceSummary,
    PreworkChecklist,
    PreworkItem,
)
from caseboard.orgs.models import Membership, Organization, Partnership
from caseboard.orgs.queries import team_directory
from caseboard.patients.models import Patient, Provider
from caseboard.patients.queries import matching_words

# The plan still follows a patient it monitors while the practice leads (step 7g-v).
PLAN_CASE_MANAGEMENT_STATUSES = ACTIVE_STATUSES | {EnrollmentStatus.MONITOR}


@dataclass(frozen=True)
class PreworkPacket:
    """Seed 004 step 3, items i–xv, in that order. Claims items are None or empty when the
    plan's analytics hold nothing for the patient."""

    name: str  # i
    birth_date: datetime.date  # ii
    contact: dict[str, str]  # iii: address and telephone number
    last_admission: dict[str, Any] | None  # iv: dates and reason
    last_ed_visit: dict[str, Any] | None  # v: dates and reason
    diagnoses: list[str]  # vi
    diagnostic_history: list[str]  # vii
    prescriptions: list[str]  # viii
    providers: dict[str, Any]  # ix: {"pcp": str, "others": [{"npi", "name", "visits_12m"}]}
    plan_case_management: list[str]  # x: the plan's open programs, empty when none
    case_manager: str  # xi: name of the plan's case manager, if any
    social_needs: list[str]  # xii
    primary_language: str  # xiii
    plan_risk: dict[str, Any] | None  # xiv: {"score", "rank", "drivers", "as_of"}
    medicaid_coverage_level: str  # xv

    @classmethod
    def item_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def prework_packet(actor: Actor, agenda_item: AgendaItem) -> PreworkPacket:
    """The packet of one agenda patient, as the actor may see it; records the viewing."""
    item = conference_access.get_agenda_item_for_user(actor, agenda_item.pk)
    patient = item.patient
    partnership = item.conference.series.partnership
    plan_id = partnership.plan_id
    today = timezone.localdate()
    facts = access.visible_claims_facts(actor, patient).filter(plan_id=plan_id).first()
    ranking = access.visible_plan_ranking(actor, patient).filter(plan_id=plan_id).first()
    coverage = (
        access.visible_coverage(actor, patient)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today), plan_id=plan_id)
        .filter(start_date__lte=today)
        .first()
    )
    attribution = (
        access.visible_attribution(actor, patient)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today), start_date__lte=today)
        .filter(organization_id=partnership.partner_id)
        .first()
    )
    enrollments = list(
        access.care.visible_enrollments(actor).filter(
            patient=patient,
            lead_organization_id=plan_id,
            status__in=PLAN_CASE_MANAGEMENT_STATUSES,
        )
    )
    managers = sorted(
        {
            e.care_manager.get_full_name() or e.care_manager.get_username()
            for e in enrollments
            if e.care_manager is not None
        }
    )
    address = ", ".join(
        part
        for part in (
            patient.address,
            " ".join(x for x in (patient.city, patient.state, patient.postal_code) if x),
        )
        if part
    )
    packet = PreworkPacket(
        name=patient.full_name,
        birth_date=patient.birth_date,
        contact={"address": address, "phone": patient.phone},
        last_admission=facts.last_admission if facts else None,
        last_ed_visit=facts.last_ed_visit if facts else None,
        diagnoses=list(facts.diagnoses) if facts else [],
        diagnostic_history=list(facts.diagnostic_history) if facts else [],
        prescriptions=list(facts.prescriptions) if facts else [],
        providers={
            "pcp": str(attribution.pcp) if attribution and attribution.pcp else "",
            "others": list(facts.providers) if facts else [],
        },
        plan_case_management=[
            f"{e.get_program_display()} ({e.get_status_display()})" for e in enrollments
        ],
        case_manager=", ".join(managers),
        social_needs=[str(n) for n in patient.social_needs],
        primary_language=patient.primary_language,
        plan_risk=(
            {
                "score": ranking.score,
                "rank": ranking.rank,
                "drivers": list(ranking.drivers),
                "as_of": ranking.as_of,
            }
            if ranking
            else None
        ),
        medicaid_coverage_level=(
            coverage.get_medicaid_coverage_level_display() if coverage else ""
        ),
    )
    log.record(
        actor,
        AuditAction.VIEW,
        patient=patient,
        obj=item,
        detail={"page": "prework_packet", "conference": item.conference_id},
    )
    return packet


# --- Pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistRow:
    item: str
    label: str
    done: PreworkChecklist | None


@dataclass(frozen=True)
class SideChecklist:
    side: Organization
    rows: list[ChecklistRow]
    is_own: bool

    @property
    def done_count(self) -> int:
        return sum(1 for r in self.rows if r.done is not None)


@dataclass(frozen=True)
class ConferencePage:
    conference: Conference
    partnership: Partnership
    items: list[AgendaItem]
    # Agenda patients the actor may not see (the plan's members attributed elsewhere).
    hidden_items: int
    checklists: list[SideChecklist]
    attending_pcps: list[Provider]
    pcps: list[Provider]
    is_plan_staff: bool
    can_edit: bool


def _checklists(actor: Actor, conference: Conference) -> list[SideChecklist]:
    partnership = conference.series.partnership
    done = {
        (c.side_id, c.item): c
        for c in PreworkChecklist.objects.select_related("completed_by").filter(
            conference=conference
        )
    }
    return [
        SideChecklist(
            side=side,
            rows=[
                ChecklistRow(item=value, label=label, done=done.get((side.pk, value)))
                for value, label in PreworkItem.choices
            ],
            is_own=side.pk == actor.organization.pk,
        )
        for side in partnership.organizations()
    ]


def conference_page(actor: Actor, conference_id: int | str) -> ConferencePage:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    partnership = conference.series.partnership
    items = list(
        conference_access.visible_agenda_items(actor)
        .filter(conference=conference)
        .order_by("position")
    )
    total = conference.agenda_items.count()
    page = ConferencePage(
        conference=conference,
        partnership=partnership,
        items=items,
        hidden_items=total - len(items),
        checklists=_checklists(actor, conference),
        attending_pcps=list(conference.attending_pcps.order_by("name")),
        pcps=partner_pcps(partnership),
        is_plan_staff=conference_access.is_plan_staff(actor, partnership),
        can_edit=actor.can_edit_patients,
    )
    if items:
        log.record_many(
            actor,
            AuditAction.VIEW,
            [i.patient_id for i in items],
            {"page": "conference_agenda", "conference": conference.pk},
        )
    return page


@dataclass(frozen=True)
class SeriesPage:
    partnership: Partnership
    series: ConferenceSeries | None
    directory: list[Membership]
    participants: list[Membership]
    upcoming: list[Conference]
    past: list[Conference]
    can_edit: bool
    # Step 8: calls whose summary is past its one-business-day deadline unsent, or sent late.
    late_summaries: frozenset[int] = frozenset()
    unsent_summaries: frozenset[int] = frozenset()


PAST_SHOWN = 20


def series_page(actor: Actor, partnership_id: int | str) -> SeriesPage:
    partnership, members = team_directory(actor, int(partnership_id))
    series = active_series(partnership)
    now = timezone.now()
    conferences = (
        list(
            conference_access.visible_conferences(actor).filter(series=series).order_by("starts_at")
        )
        if series
        else []
    )
    summaries = ConferenceSummary.objects.filter(conference__in=[c.pk for c in conferences])
    return SeriesPage(
        partnership=partnership,
        series=series,
        directory=list(members),
        participants=list(series.core_participants.all()) if series else [],
        upcoming=[c for c in conferences if c.starts_at >= now],
        past=[c for c in conferences if c.starts_at < now][::-1][:PAST_SHOWN],
        can_edit=actor.can_edit_patients,
        late_summaries=frozenset(s.conference_id for s in summaries if s.is_late(now)),
        unsent_summaries=frozenset(s.conference_id for s in summaries if s.sent_at is None),
    )


URGENT_SEARCH_LIMIT = 25


def urgent_candidates(
    actor: Actor, conference: Conference, query: str
) -> list[tuple[Patient, bool]]:
    """The plan's members the actor may see matching every word of `query`, for an urgent
    addition (step 5c: "a patient with urgent needs that may not be on the shared list"), each
    with whether the patient is already on this call's agenda."""
    if not query.split():
        return []
    partnership = conference.series.partnership
    members = access.visible_patients(actor).filter(
        pk__in=conference_access.plan_members(partnership)
    )
    found = list(
        matching_words(actor, members, query).order_by("family_name", "given_name", "birth_date")[
            :URGENT_SEARCH_LIMIT
        ]
    )
    on_agenda = set(
        conference.agenda_items.filter(patient__in=found).values_list("patient_id", flat=True)
    )
    log.record_many(
        actor,
        AuditAction.SEARCH,
        [p.pk for p in found],
        {"query": query, "for": "urgent_agenda_item", "conference": conference.pk},
    )
    return [(p, p.pk in on_agenda) for p in found]
