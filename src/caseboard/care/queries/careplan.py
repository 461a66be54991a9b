"""Reads of the shared care plan, each starting from `caseboard.access`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

import phonenumbers
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.careplan import (
    OPEN_GOAL_STATUSES,
    PATIENT_RESPONSIBLE,
    person,
    responsible_label,
)
from caseboard.care.models import (
    OPEN_TASK_STATUSES,
    Barrier,
    CarePlan,
    CarePlanRevision,
    ConfidenceRating,
    Goal,
    GoalProgress,
    GoalStatus,
    Intervention,
    InterventionStatus,
    SuccessStory,
    Task,
)
from caseboard.orgs.models import Membership, Organization
from caseboard.patients.models import Patient

# How many of a goal's confidence ratings the plan shows in its trail ("4 → 6 → 8").
TRAIL_LENGTH = 6
CLOSED_INTERVENTION_STATUSES = frozenset({InterventionStatus.DONE, InterventionStatus.STOPPED})


def _today(actor: Actor) -> datetime.date:
    return timezone.localdate(timezone=actor.organization.zone)


@dataclass(frozen=True)
class InterventionRow:
    intervention: Intervention
    responsible: str
    overdue: bool

    @property
    def by_patient(self) -> bool:
        return self.intervention.responsible_name.strip().lower() in {
            PATIENT_RESPONSIBLE.lower(),
            "the patient",
            "me",
            "self",
        }


@dataclass(frozen=True)
class GoalView:
    goal: Goal
    # Oldest first, as the scale moved.
    ratings: list[ConfidenceRating]
    # Newest first.
    progress: list[GoalProgress]
    barriers: list[Barrier]
    interventions: list[InterventionRow]
    open_tasks: list[Task]
    success_story: SuccessStory | None

    @property
    def latest_confidence(self) -> ConfidenceRating | None:
        return self.ratings[-1] if self.ratings else None

    @property
    def confidence_trail(self) -> str:
        return " → ".join(str(r.rating) for r in self.ratings[-TRAIL_LENGTH:])

    @property
    def is_open(self) -> bool:
        return self.goal.status in OPEN_GOAL_STATUSES

    @property
    def is_met(self) -> bool:
        return self.goal.status == GoalStatus.MET

    @property
    def open_barriers(self) -> list[Barrier]:
        return [b for b in self.barriers if b.resolved_on is None]


@dataclass(frozen=True)
class CarePlanView:
    """The patient's Health Action Plan as the page, the API and the profile summary show it."""

    patient: Patient
    plan: CarePlan | None
    goals: list[GoalView]
    barriers: list[Barrier]
    interventions: list[InterventionRow]
    can_edit: bool
    today: datetime.date
    goals_by_id: dict[int, GoalView] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """0 while the patient has no plan yet; the first change makes version 1."""
        return self.plan.version if self.plan is not None else 0

    @property
    def follow_up_plan(self) -> str:
        return self.plan.follow_up_plan if self.plan is not None else ""

    @property
    def updated_at(self) -> datetime.datetime | None:
        return self.plan.updated_at if self.plan is not None else None

    @property
    def updated_by(self) -> str:
        if self.plan is None or self.plan.updated_by is None:
            return ""
        who = person(self.plan.updated_by)
        if self.plan.updated_by_organization is not None:
            who += f" ({self.plan.updated_by_organization})"
        return who

    @property
    def active_goals(self) -> list[GoalView]:
        return [g for g in self.goals if g.is_open]

    @property
    def met_goals(self) -> list[GoalView]:
        return [g for g in self.goals if g.is_met]

    @property
    def other_goals(self) -> list[GoalView]:
        return [g for g in self.goals if not g.is_open and not g.is_met]

    @property
    def active_goals_count(self) -> int:
        return len(self.active_goals)

    @property
    def latest_confidence(self) -> ConfidenceRating | None:
        """The most recent rating on any goal still being worked on."""
        latest = [g.latest_confidence for g in self.active_goals if g.latest_confidence]
        return max(latest, key=lambda r: (r.recorded_on, r.at), default=None)

    @property
    def open_barriers(self) -> list[Barrier]:
        return [b for b in self.barriers if b.resolved_on is None]

    @property
    def resolved_barriers(self) -> list[Barrier]:
        return [b for b in self.barriers if b.resolved_on is not None]

    @property
    def open_interventions(self) -> list[InterventionRow]:
        return [
            i
            for i in self.interventions
            if i.intervention.status not in CLOSED_INTERVENTION_STATUSES
        ]

    @property
    def closed_interventions(self) -> list[InterventionRow]:
        return [
            i for i in self.interventions if i.intervention.status in CLOSED_INTERVENTION_STATUSES
        ]

    @property
    def is_empty(self) -> bool:
        return not (self.goals or self.barriers or self.interventions or self.follow_up_plan)


def _row(intervention: Intervention, today: datetime.date) -> InterventionRow:
    return InterventionRow(
        intervention=intervention,
        responsible=responsible_label(intervention),
        overdue=(
            intervention.due_on is not None
            and intervention.due_on < today
            and intervention.status not in CLOSED_INTERVENTION_STATUSES
        ),
    )


def _plan_of(patient: Patient) -> CarePlan | None:
    return (
        CarePlan.objects.select_related("updated_by", "updated_by_organization")
        .filter(patient=patient)
        .first()
    )


def care_plan_view(actor: Actor, patient: Patient) -> CarePlanView:
    """The patient's plan, checked against the access policy again. It records no audit event:
    the page or API that shows it does (the profile's summary is part of the profile's view)."""
    patient = access.get_patient_for_user(actor, patient.pk)
    today = _today(actor)
    plan = _plan_of(patient)
    if plan is None:
        return CarePlanView(
            patient=patient,
            plan=None,
            goals=[],
            barriers=[],
            interventions=[],
            can_edit=actor.can_edit_patients,
            today=today,
        )
    # Soonest target first, goals without a target date last (the same on every database).
    goals = sorted(
        plan.goals.select_related("created_by", "created_by_organization"),
        key=lambda g: (g.target_date is None, g.target_date or today, g.pk),
    )
    goal_ids = [g.pk for g in goals]
    ratings: dict[int, list[ConfidenceRating]] = defaultdict(list)
    for rating in ConfidenceRating.objects.select_related("by").filter(goal_id__in=goal_ids):
        ratings[rating.goal_id].append(rating)
    progress: dict[int, list[GoalProgress]] = defaultdict(list)
    for step in GoalProgress.objects.select_related("by", "by_organization").filter(
        goal_id__in=goal_ids
    ):
        progress[step.goal_id].append(step)
    barriers = list(plan.barriers.select_related("goal", "created_by"))
    interventions = [
        _row(i, today)
        for i in plan.interventions.select_related(
            "goal", "responsible_user", "responsible_organization"
        )
    ]
    tasks: dict[int, list[Task]] = defaultdict(list)
    for task in access.care.visible_tasks(actor).filter(
        goal_id__in=goal_ids, status__in=OPEN_TASK_STATUSES
    ):
        if task.goal_id is not None:
            tasks[task.goal_id].append(task)
    stories = {
        s.goal_id: s
        for s in access.care.visible_success_stories(actor)
        .select_related("by_organization")
        .filter(goal_id__in=goal_ids)
    }
    views = [
        GoalView(
            goal=g,
            ratings=ratings[g.pk],
            progress=progress[g.pk],
            barriers=[b for b in barriers if b.goal_id == g.pk],
            interventions=[i for i in interventions if i.intervention.goal_id == g.pk],
            open_tasks=tasks[g.pk],
            success_story=stories.get(g.pk),
        )
        for g in goals
    ]
    return CarePlanView(
        patient=patient,
        plan=plan,
        goals=views,
        barriers=barriers,
        interventions=interventions,
        can_edit=actor.can_edit_patients,
        today=today,
        goals_by_id={v.goal.pk: v for v in views},
    )


def care_plan_page(actor: Actor, patient_id: int | str, page: str = "care plan") -> CarePlanView:
    """The plan for a page or API read; records the read in the audit log."""
    patient = access.get_patient_for_user(actor, patient_id)
    view = care_plan_view(actor, patient)
    log.record(
        actor,
        AuditAction.VIEW,
        patient=patient,
        obj=view.plan or patient,
        detail={"page": page, "care_plan_version": view.version},
    )
    return view


def changes_since(actor: Actor, patient: Patient, version: int) -> list[CarePlanRevision]:
    """What others changed after `version`: shown when a save is refused as stale."""
    patient = access.get_patient_for_user(actor, patient.pk)
    return list(
        CarePlanRevision.objects.select_related("by", "by_organization")
        .filter(care_plan__patient=patient, version__gt=version)
        .order_by("version")
    )


# --- One goal -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalPage:
    plan: CarePlanView
    goal: GoalView

    @property
    def patient(self) -> Patient:
        return self.plan.patient


def goal_page(actor: Actor, goal_id: int | str, *, editing: bool = False) -> GoalPage:
    goal = (
        access.care.get_goal_for_editor(actor, goal_id)
        if editing
        else access.care.get_goal_for_user(actor, goal_id)
    )
    view = care_plan_view(actor, goal.care_plan.patient)
    log.record(
        actor,
        AuditAction.VIEW,
        patient=view.patient,
        obj=goal,
        detail={"page": "goal", "care_plan_version": view.version},
    )
    return GoalPage(plan=view, goal=view.goals_by_id[goal.pk])


# --- History ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarePlanHistory:
    patient: Patient
    plan: CarePlan | None
    revisions: list[CarePlanRevision]
    progress: list[GoalProgress]
    ratings: list[ConfidenceRating]


def care_plan_history(actor: Actor, patient_id: int | str) -> CarePlanHistory:
    patient = access.get_patient_for_user(actor, patient_id)
    plan = _plan_of(patient)
    revisions: list[CarePlanRevision] = []
    progress: list[GoalProgress] = []
    ratings: list[ConfidenceRating] = []
    if plan is not None:
        revisions = list(plan.revisions.select_related("by", "by_organization"))
        progress = list(
            GoalProgress.objects.select_related("goal", "by", "by_organization")
            .filter(goal__care_plan=plan)
            .order_by("-at", "-id")
        )
        ratings = list(
            ConfidenceRating.objects.select_related("goal", "by")
            .filter(goal__care_plan=plan)
            .order_by("-recorded_on", "-id")
        )
    log.record(
        actor,
        AuditAction.VIEW,
        patient=patient,
        obj=plan or patient,
        detail={"page": "care plan history"},
    )
    return CarePlanHistory(
        patient=patient, plan=plan, revisions=revisions, progress=progress, ratings=ratings
    )


# --- The printable plan -------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    name: str
    role: str
    organization: str
    phone: str


@dataclass(frozen=True)
class PrintGoal:
    statement: str
    target_date: datetime.date | None
    confidence: int | None
    i_will: list[InterventionRow]
    team_will: list[InterventionRow]
    in_the_way: list[Barrier]


@dataclass(frozen=True)
class PrintablePlan:
    """ "My Health Action Plan": what the patient takes home, in plain words."""

    patient: Patient
    goals: list[PrintGoal]
    wins: list[GoalView]
    other_i_will: list[InterventionRow]
    other_team_will: list[InterventionRow]
    other_in_the_way: list[Barrier]
    contacts: list[Contact]
    follow_up_plan: str
    printed_on: datetime.date
    version: int


def _readable_phone(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _phone(user: User | None, organization: Organization | None, own: str) -> str:
    """The member's own number, else their work number, else their organization's."""
    number = own
    if not number and user is not None and organization is not None:
        membership = Membership.objects.filter(
            user=user, organization=organization, is_active=True
        ).first()
        number = membership.phone if membership is not None else ""
    if not number and organization is not None:
        number = organization.phone
    return _readable_phone(number) if number else ""


def _contacts(actor: Actor, patient: Patient) -> list[Contact]:
    team = access.care.visible_care_team(actor, patient).filter(ended_on__isnull=True)
    leads = [m for m in team if m.is_lead]
    contacts = [
        Contact(
            name=person(m.user) if m.user is not None else m.name,
            role=m.role_description or (m.get_role_display() if m.role else "Care team lead"),
            organization=m.organization.name if m.organization else "",
            phone=_phone(m.user, m.organization, m.phone),
        )
        for m in leads
    ]
    if not contacts:
        # No lead named yet: the organization printing the plan is the one to call.
        org = actor.organization
        contacts.append(
            Contact(
                name=org.name,
                role="your care team",
                organization="",
                phone=_readable_phone(org.phone) if org.phone else "",
            )
        )
    return contacts


def printable_plan(actor: Actor, patient_id: int | str) -> PrintablePlan:
    view = care_plan_page(actor, patient_id, page="printable care plan")

    def open_rows(rows: list[InterventionRow]) -> list[InterventionRow]:
        return [r for r in rows if r.intervention.status not in CLOSED_INTERVENTION_STATUSES]

    goals = [
        PrintGoal(
            statement=g.goal.statement,
            target_date=g.goal.target_date,
            confidence=g.latest_confidence.rating if g.latest_confidence else None,
            i_will=[r for r in open_rows(g.interventions) if r.by_patient],
            team_will=[r for r in open_rows(g.interventions) if not r.by_patient],
            in_the_way=g.open_barriers,
        )
        for g in view.active_goals
        if g.goal.status == GoalStatus.ACTIVE
    ]
    unlinked = open_rows([r for r in view.interventions if r.intervention.goal_id is None])
    return PrintablePlan(
        patient=view.patient,
        goals=goals,
        wins=view.met_goals,
        other_i_will=[r for r in unlinked if r.by_patient],
        other_team_will=[r for r in unlinked if not r.by_patient],
        other_in_the_way=[b for b in view.open_barriers if b.goal_id is None],
        contacts=_contacts(actor, view.patient),
        follow_up_plan=view.follow_up_plan,
        printed_on=view.today,
        version=view.version,
    )


# --- Wins and staff -----------------------------------------------------------------------


def wins(actor: Actor, *, team_meeting_only: bool = False) -> list[SuccessStory]:
    """Success stories to share at team meetings (seed 002), newest first."""
    stories: QuerySet[SuccessStory] = access.care.visible_success_stories(actor).select_related(
        "by_organization", "goal__created_by_organization"
    )
    if team_meeting_only:
        stories = stories.filter(share_at_team_meeting=True)
    found = list(stories.order_by("-at", "-id"))
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({s.goal.care_plan.patient_id for s in found}),
        {"page": "wins"},
    )
    return found


def responsible_staff(actor: Actor) -> list[Membership]:
    """Who may be named responsible for an intervention: active staff of the actor's
    organization and its partners."""
    return list(
        Membership.objects.select_related("user", "organization")
        .filter(organization_id__in=access.sharing_organization_ids(actor), is_active=True)
        .order_by("organization__name", "user__last_name", "user__first_name")
    )
