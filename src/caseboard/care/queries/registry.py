"""The care-management registry: enrolled patients with their status, program, care manager,
last contact, next follow-up, open tasks and time this month (seed 002 "Develop a CM
registry": track patients enrolled in CM services and the time spent per month, and use the
registry to discuss them in care-team meetings).

Callers record the audit events: a page records VIEW, the CSV download EXPORT.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.care.models import (
    ACTIVE_STATUSES,
    CLOSED_STATUSES,
    OPEN_TASK_STATUSES,
    Acuity,
    CareTeamMember,
    Enrollment,
    EnrollmentStatus,
    EnrollmentTransition,
    Interaction,
    PatientSurvey,
    Program,
)
from caseboard.care.queries.care_time import (
    CcmStatus,
    minutes_by_patient,
    month_start,
    monthly_minutes,
    organization_today,
)
from caseboard.care.queries.caseload import caseload
from caseboard.orgs.models import Organization
from caseboard.patients.models import Patient

__all__ = [
    "DEFAULT_NO_CONTACT_DAYS",
    "CareSummary",
    "RegistryFilters",
    "RegistryRow",
    "caseload",
    "monthly_minutes",
    "patient_care_summary",
    "registry_rows",
]

DEFAULT_NO_CONTACT_DAYS = 30


class StatusFilter:
    OPEN = ""  # every status but graduated and disenrolled (the default)
    ACTIVE = "active"  # outreach, engaged, enrolled: the caseload
    CLOSED = "closed"
    ALL = "all"


class LeadFilter:
    OURS = "ours"
    PARTNERS = "partners"
    ALL = "all"


class CareManagerFilter:
    ANY = ""
    MINE = "mine"
    NONE = "none"


_STATUS_ORDER = {value: i for i, value in enumerate(EnrollmentStatus.values)}
_ACUITY_ORDER = {value: i for i, value in enumerate(Acuity.values)}
_PROGRAM_LABELS = dict(Program.choices)


def _text_key(text: str) -> str:
    return text.casefold()


# Sortable columns: a whitelist, each with how to compare two rows. Rows missing the value
# (never contacted, no follow-up) sort last either way.
SORT_KEYS: dict[str, Callable[[RegistryRow], Any]] = {
    "patient": lambda r: _text_key(f"{r.patient.family_name} {r.patient.given_name}"),
    "program": lambda r: _text_key(_PROGRAM_LABELS.get(r.enrollment.program, "")),
    "status": lambda r: _STATUS_ORDER.get(r.enrollment.status, 99),
    "acuity": lambda r: _ACUITY_ORDER.get(r.enrollment.acuity, 99),
    "care_manager": lambda r: _text_key(r.care_manager_name) if r.care_manager_name else None,
    "last_contact": lambda r: r.last_contact.occurred_at if r.last_contact else None,
    "next_follow_up": lambda r: r.next_follow_up,
    "open_tasks": lambda r: r.open_tasks,
    "minutes": lambda r: r.minutes,
}
SORT_LABELS = {
    "patient": "Patient",
    "program": "Program",
    "status": "Status",
    "acuity": "Acuity",
    "care_manager": "Care manager",
    "last_contact": "Last contact",
    "next_follow_up": "Next follow-up",
    "open_tasks": "Open tasks",
    "minutes": "Minutes this month",
}


@dataclass(frozen=True)
class RegistryFilters:
    program: str = ""
    status: str = StatusFilter.OPEN
    care_manager: str = CareManagerFilter.ANY
    acuity: str = ""
    lead: str = LeadFilter.OURS
    # Only patients with no contact for this many days or more; None shows everyone.
    no_contact_days: int | None = None
    sort: str = "patient"

    @property
    def stale_after(self) -> int:
        return self.no_contact_days or DEFAULT_NO_CONTACT_DAYS


@dataclass(frozen=True)
class RegistryRow:
    enrollment: Enrollment
    last_contact: Interaction | None
    days_since_contact: int | None
    next_follow_up: datetime.date | None
    open_tasks: int
    minutes: int
    stale_after: int

    @property
    def patient(self) -> Patient:
        return self.enrollment.patient

    @property
    def care_manager_name(self) -> str:
        user = self.enrollment.care_manager
        if user is None:
            return ""
        return user.get_full_name() or user.get_username()

    @property
    def ccm(self) -> CcmStatus:
        return CcmStatus(self.minutes)

    @property
    def no_recent_contact(self) -> bool:
        return self.days_since_contact is None or self.days_since_contact >= self.stale_after

    @property
    def overdue_follow_up(self) -> bool:
        return self.next_follow_up is not None and self.next_follow_up < timezone.localdate(
            timezone=self.enrollment.lead_organization.zone
        )


def _filtered(actor: Actor, filters: RegistryFilters) -> QuerySet[Enrollment]:
    enrollments = access.care.visible_enrollments(actor).select_related(
        "lead_organization", "care_manager"
    )
    own = actor.organization.pk
    if filters.lead == LeadFilter.PARTNERS:
        enrollments = enrollments.exclude(lead_organization_id=own)
    elif filters.lead != LeadFilter.ALL:
        enrollments = enrollments.filter(lead_organization_id=own)
    status = filters.status
    if status == StatusFilter.ACTIVE:
        enrollments = enrollments.filter(status__in=ACTIVE_STATUSES)
    elif status == StatusFilter.CLOSED:
        enrollments = enrollments.filter(status__in=CLOSED_STATUSES)
    elif status in EnrollmentStatus.values:
        enrollments = enrollments.filter(status=status)
    elif status != StatusFilter.ALL:
        enrollments = enrollments.exclude(status__in=CLOSED_STATUSES)
    if filters.program:
        enrollments = enrollments.filter(program=filters.program)
    if filters.acuity:
        enrollments = enrollments.filter(acuity=filters.acuity)
    manager = filters.care_manager
    if manager == CareManagerFilter.MINE:
        enrollments = enrollments.filter(care_manager=actor.user)
    elif manager == CareManagerFilter.NONE:
        enrollments = enrollments.filter(care_manager__isnull=True)
    elif manager.isdigit():
        enrollments = enrollments.filter(care_manager_id=int(manager))
    return enrollments


def last_contacts(actor: Actor, patient_ids: list[int]) -> dict[int, Interaction]:
    """Each patient's latest interaction by the actor's organization or a partner."""
    latest = (
        access.care.visible_interactions(actor)
        .filter(patient_id=OuterRef("pk"))
        .order_by("-occurred_at", "-id")
        .values("pk")[:1]
    )
    pairs = (
        access.visible_patients(actor)
        .filter(pk__in=patient_ids)
        .annotate(last_id=Subquery(latest))
        .values_list("pk", "last_id")
    )
    wanted = {patient_id: last_id for patient_id, last_id in pairs if last_id is not None}
    found = access.care.visible_interactions(actor).in_bulk(list(wanted.values()))
    return {patient_id: found[last_id] for patient_id, last_id in wanted.items()}


def _open_tasks(actor: Actor, patient_ids: list[int]) -> dict[int, tuple[datetime.date, int]]:
    rows = (
        access.care.visible_tasks(actor)
        .filter(patient_id__in=patient_ids, status__in=OPEN_TASK_STATUSES)
        .values("patient_id")
        .annotate(next_due=Min("due_on"), n=Count("id"))
    )
    return {row["patient_id"]: (row["next_due"], row["n"]) for row in rows}


def _minutes(enrollments: list[Enrollment]) -> dict[tuple[int, int], int]:
    """Minutes this month by each lead organization's staff, in that organization's own
    calendar month: the lead bills the chronic care management time."""
    by_lead: dict[int, tuple[Organization, set[int]]] = {}
    for e in enrollments:
        by_lead.setdefault(e.lead_organization_id, (e.lead_organization, set()))[1].add(
            e.patient_id
        )
    found: dict[tuple[int, int], int] = {}
    for org_id, (organization, patient_ids) in by_lead.items():
        month = month_start(organization_today(organization))
        for patient_id, total in minutes_by_patient(
            organization, month, sorted(patient_ids)
        ).items():
            found[(org_id, patient_id)] = total
    return found


def _sorted(rows: list[RegistryRow], sort: str) -> list[RegistryRow]:
    descending = sort.startswith("-")
    key_name = sort.lstrip("-")
    key = SORT_KEYS.get(key_name, SORT_KEYS["patient"])
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    present.sort(key=SORT_KEYS["patient"])
    present.sort(key=key, reverse=descending)
    missing.sort(key=SORT_KEYS["patient"])
    return present + missing


def registry_rows(actor: Actor, filters: RegistryFilters) -> list[RegistryRow]:
    """The registry as the actor's organization sees it, filtered and sorted."""
    enrollments = list(_filtered(actor, filters))
    patient_ids = sorted({e.patient_id for e in enrollments})
    contacts = last_contacts(actor, patient_ids)
    tasks = _open_tasks(actor, patient_ids)
    minutes = _minutes(enrollments)
    today = organization_today(actor.organization)
    zone = actor.organization.zone
    rows = []
    for e in enrollments:
        contact = contacts.get(e.patient_id)
        days = (
            (today - timezone.localtime(contact.occurred_at, zone).date()).days
            if contact is not None
            else None
        )
        next_due, open_count = tasks.get(e.patient_id, (None, 0))
        rows.append(
            RegistryRow(
                enrollment=e,
                last_contact=contact,
                days_since_contact=days,
                next_follow_up=next_due,
                open_tasks=open_count,
                minutes=minutes.get((e.lead_organization_id, e.patient_id), 0),
                stale_after=filters.stale_after,
            )
        )
    if filters.no_contact_days is not None:
        rows = [r for r in rows if r.no_recent_contact]
    return _sorted(rows, filters.sort)


# --- One patient --------------------------------------------------------------------------


@dataclass(frozen=True)
class CareSummary:
    """What the patient profile shows of care management."""

    patient: Patient
    enrollments: list[Enrollment]
    care_team: list[CareTeamMember]
    last_contact: Interaction | None
    month: datetime.date
    minutes_this_month: int
    organization: Organization

    @property
    def ccm(self) -> CcmStatus:
        return CcmStatus(self.minutes_this_month)

    @property
    def lead(self) -> CareTeamMember | None:
        return next((m for m in self.care_team if m.is_lead), None)


def patient_care_summary(actor: Actor, patient: Patient) -> CareSummary:
    """Open enrollments the actor may see, the current care team, the latest contact and the
    actor's organization's minutes with the patient this month (in its own zone)."""
    patient = access.get_patient_for_user(actor, patient.pk)
    organization = actor.organization
    month = month_start(organization_today(organization))
    enrollments = list(
        access.care.visible_enrollments(actor)
        .filter(patient=patient)
        .exclude(status__in=CLOSED_STATUSES)
        .select_related("lead_organization", "care_manager")
        .order_by("program", "lead_organization__name")
    )
    team = list(
        access.care.visible_care_team(actor, patient)
        .filter(ended_on__isnull=True)
        .select_related("user", "organization")
    )
    latest = (
        access.care.visible_interactions(actor)
        .filter(patient=patient)
        .order_by("-occurred_at", "-id")
        .first()
    )
    minutes = minutes_by_patient(organization, month, [patient.pk]).get(patient.pk, 0)
    return CareSummary(
        patient=patient,
        enrollments=enrollments,
        care_team=team,
        last_contact=latest,
        month=month,
        minutes_this_month=minutes,
        organization=organization,
    )


@dataclass(frozen=True)
class MonthTotal:
    month: datetime.date
    own_minutes: int
    partner_minutes: int
    contacts: int

    @property
    def ccm(self) -> CcmStatus:
        return CcmStatus(self.own_minutes)


@dataclass(frozen=True)
class PatientInteractions:
    patient: Patient
    interactions: list[Interaction]
    months: list[MonthTotal]
    shown_limit: int
    total_count: int
    organization: Organization
    open_enrollments: list[Enrollment] = field(default_factory=list)

    @property
    def this_month(self) -> MonthTotal | None:
        current = month_start(organization_today(self.organization))
        return next((m for m in self.months if m.month == current), None)


INTERACTIONS_SHOWN = 300


def patient_interactions(actor: Actor, patient: Patient) -> PatientInteractions:
    """The patient's interactions the actor may see, newest first, with totals per calendar
    month of the actor's organization (its own minutes apart from its partners')."""
    patient = access.get_patient_for_user(actor, patient.pk)
    organization = actor.organization
    zone = organization.zone
    everything = (
        access.care.visible_interactions(actor)
        .filter(patient=patient)
        .select_related("staff", "organization", "enrollment")
        .order_by("-occurred_at", "-id")
    )
    totals: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for occurred_at, minutes, org_id in everything.values_list(
        "occurred_at", "minutes", "organization_id"
    ):
        month = month_start(timezone.localtime(occurred_at, zone).date())
        totals[month][0 if org_id == organization.pk else 1] += minutes
        totals[month][2] += 1
    months = [
        MonthTotal(month=m, own_minutes=v[0], partner_minutes=v[1], contacts=v[2])
        for m, v in sorted(totals.items(), reverse=True)
    ]
    shown = list(everything[:INTERACTIONS_SHOWN])
    open_enrollments = list(
        access.care.visible_enrollments(actor)
        .filter(patient=patient)
        .exclude(status__in=CLOSED_STATUSES)
        .select_related("lead_organization")
    )
    return PatientInteractions(
        patient=patient,
        interactions=shown,
        months=months,
        shown_limit=INTERACTIONS_SHOWN,
        total_count=sum(m.contacts for m in months),
        organization=organization,
        open_enrollments=open_enrollments,
    )


@dataclass(frozen=True)
class EnrollmentDetail:
    enrollment: Enrollment
    transitions: list[EnrollmentTransition]
    surveys: list[PatientSurvey]
    can_change: bool


def enrollment_detail(actor: Actor, enrollment_id: int | str) -> EnrollmentDetail:
    enrollment = access.care.get_enrollment_for_user(actor, enrollment_id)
    transitions = list(
        EnrollmentTransition.objects.filter(enrollment=enrollment).select_related(
            "by", "by_organization"
        )
    )
    surveys = list(access.care.visible_patient_surveys(actor).filter(enrollment=enrollment))
    can_change = (
        actor.can_edit_patients and enrollment.lead_organization_id == actor.organization.pk
    )
    return EnrollmentDetail(
        enrollment=enrollment, transitions=transitions, surveys=surveys, can_change=can_change
    )
