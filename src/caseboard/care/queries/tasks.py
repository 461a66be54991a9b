"""Reads of tasks and notifications: "my tasks", a task's page, the counts in the nav bar.

Dates are the owning organization's own: a task due "today" is due today where its staff work,
and "due soon" runs to the next business day of its state's calendar (the `holidays`
package), so a Friday reminder covers the weekend and Monday.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import holidays
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.models import OPEN_TASK_STATUSES, Notification, Task, TaskStatus
from caseboard.orgs.models import Organization
from caseboard.patients.models import Patient

# The seeds describe Massachusetts partnerships; an organization elsewhere uses its own state's
# holidays when its address names a state the calendar knows.
DEFAULT_HOLIDAY_STATE = "MA"
# "Done recently" on the my-tasks page.
RECENTLY_DONE = datetime.timedelta(days=14)
LIST_LIMIT = 500


class Scope:
    MINE = "mine"
    ORGANIZATION = "organization"
    ASSIGNED_BY_ME = "assigned_by_me"
    DONE = "done"

    LABELS = {
        MINE: "Mine",
        ORGANIZATION: "Unassigned in my organization",
        ASSIGNED_BY_ME: "Assigned by me to others",
        DONE: "Done recently",
    }


# --- Business days --------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _holiday_calendar(state: str) -> holidays.HolidayBase:
    return holidays.country_holidays("US", subdiv=state)


def holiday_state(organization: Organization) -> str:
    state = (organization.state or "").upper()
    return state if state in holidays.US.subdivisions else DEFAULT_HOLIDAY_STATE


def is_business_day(day: datetime.date, state: str = DEFAULT_HOLIDAY_STATE) -> bool:
    return day.weekday() < 5 and day not in _holiday_calendar(state)


def next_business_day(day: datetime.date, state: str = DEFAULT_HOLIDAY_STATE) -> datetime.date:
    following = day + datetime.timedelta(days=1)
    while not is_business_day(following, state):
        following += datetime.timedelta(days=1)
    return following


def organization_today(
    organization: Organization, now: datetime.datetime | None = None
) -> datetime.date:
    return timezone.localtime(now or timezone.now(), organization.zone).date()


def due_soon_cutoff(organization: Organization, today: datetime.date) -> datetime.date:
    """The last due date that counts as "due soon" on `today`: the organization's next
    business day (Friday → Monday; the day before Thanksgiving → the Friday after)."""
    return next_business_day(today, holiday_state(organization))


def urgency(task: Task, today: datetime.date, cutoff: datetime.date) -> str:
    if not task.is_open:
        return "closed"
    if task.due_on < today:
        return "overdue"
    if task.due_on <= cutoff:
        return "due_soon"
    return "later"


# --- Lists ----------------------------------------------------------------------------------


def tasks_in_scope(actor: Actor, scope: str, *, status: str = "open") -> QuerySet[Task]:
    """Tasks of one tab: the actor's own, the organization's unassigned ones, or the ones the
    actor handed to others; `status` "open" or "done"."""
    tasks = access.care.visible_tasks(actor).select_related("created_by", "completed_by")
    me, org = actor.user, actor.organization
    if scope == Scope.MINE:
        tasks = tasks.filter(owner_user=me, owner_organization=org)
    elif scope == Scope.ORGANIZATION:
        tasks = tasks.filter(owner_organization=org, owner_user__isnull=True)
    elif scope == Scope.ASSIGNED_BY_ME:
        tasks = tasks.filter(created_by=me, created_by_organization=org).exclude(
            owner_user=me, owner_organization=org
        )
    else:
        raise ValueError(f"unknown scope {scope!r}")
    if status == "done":
        return tasks.filter(status=TaskStatus.DONE).order_by("-completed_at", "-id")
    return tasks.filter(status__in=OPEN_TASK_STATUSES).order_by("due_on", "priority", "id")


def recently_done(actor: Actor, now: datetime.datetime | None = None) -> QuerySet[Task]:
    since = (now or timezone.now()) - RECENTLY_DONE
    return (
        access.care.visible_tasks(actor)
        .select_related("created_by", "completed_by")
        .filter(status=TaskStatus.DONE, completed_at__gte=since)
        .filter(Q(owner_user=actor.user) | Q(completed_by=actor.user))
        .order_by("-completed_at", "-id")
    )


@dataclass(frozen=True)
class TaskBoard:
    scope: str
    today: datetime.date
    cutoff: datetime.date
    overdue: list[Task]
    due_soon: list[Task]
    later: list[Task]
    done: list[Task]
    patient: Patient | None
    patients: list[Patient]
    tab_counts: dict[str, int]
    scopes: dict[str, str] = field(default_factory=lambda: dict(Scope.LABELS))

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.due_soon or self.later or self.done)

    @property
    def tabs(self) -> list[tuple[str, str, int | None]]:
        return [(s, label, self.tab_counts.get(s)) for s, label in self.scopes.items()]

    @property
    def sections(self) -> list[tuple[str, str, list[Task]]]:
        if self.scope == Scope.DONE:
            return [("done", "Done in the last two weeks", self.done)]
        return [
            ("overdue", "Overdue", self.overdue),
            ("due_soon", f"Due soon (today to {self.cutoff:%a, %b %-d})", self.due_soon),
            ("later", "Later", self.later),
        ]


def task_board(actor: Actor, scope: str, *, patient_id: str | None = None) -> TaskBoard:
    """The my-tasks page: overdue, due soon and later, or the recently done; optionally one
    patient's only. Each patient shown is recorded in the audit log."""
    if scope not in Scope.LABELS:
        scope = Scope.MINE
    today = organization_today(actor.organization)
    cutoff = due_soon_cutoff(actor.organization, today)
    tasks = recently_done(actor) if scope == Scope.DONE else tasks_in_scope(actor, scope)
    patient_ids = tasks.filter(patient__isnull=False).values("patient_id")
    patients = list(
        access.visible_patients(actor)
        .filter(pk__in=patient_ids)
        .order_by("family_name", "given_name")[:LIST_LIMIT]
    )
    patient = access.get_patient_for_user(actor, patient_id) if patient_id else None
    if patient is not None:
        tasks = tasks.filter(patient=patient)
    shown = list(tasks[:LIST_LIMIT])
    sections: dict[str, list[Task]] = {"overdue": [], "due_soon": [], "later": [], "closed": []}
    for task in shown:
        sections[urgency(task, today, cutoff)].append(task)
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({t.patient_id for t in shown if t.patient_id is not None}),
        {"page": "my tasks", "scope": scope},
    )
    tab_counts = {
        s: tasks_in_scope(actor, s).count()
        for s in (Scope.MINE, Scope.ORGANIZATION, Scope.ASSIGNED_BY_ME)
    }
    return TaskBoard(
        scope=scope,
        today=today,
        cutoff=cutoff,
        overdue=sections["overdue"],
        due_soon=sections["due_soon"],
        later=sections["later"],
        done=sections["closed"],
        patient=patient,
        patients=patients,
        tab_counts=tab_counts,
    )


# --- One task -------------------------------------------------------------------------------

FIELD_LABELS = {
    "title": "title",
    "detail": "details",
    "due_on": "due date",
    "priority": "priority",
    "status": "status",
    "owner": "owner",
}


@dataclass(frozen=True)
class TaskChange:
    at: datetime.datetime
    who: str
    organization: str
    what: str


@dataclass(frozen=True)
class TaskPage:
    task: Task
    today: datetime.date
    cutoff: datetime.date
    can_edit: bool
    can_take: bool
    changes: list[TaskChange]

    @property
    def urgency(self) -> str:
        return urgency(self.task, self.today, self.cutoff)


def _describe_change(detail: dict[str, Any]) -> str:
    if detail.get("taken"):
        return "took the task"
    status = detail.get("status")
    if status == TaskStatus.DONE:
        return "marked it done"
    if status == TaskStatus.CANCELLED:
        return "cancelled it"
    changed = [FIELD_LABELS.get(name, name) for name in detail.get("changed", [])]
    return f"changed the {', '.join(changed)}" if changed else "changed it"


def task_changes(actor: Actor, task: Task) -> list[TaskChange]:
    """Who changed the task and how, from the audit log, by the partners who share it."""
    events = AuditEvent.objects.filter(
        object_type=Task._meta.label_lower,
        object_id=str(task.pk),
        action=AuditAction.UPDATE,
        organization_id__in=access.sharing_organization_ids(actor),
    ).order_by("at", "id")
    return [
        TaskChange(
            at=e.at,
            who=e.username,
            organization=e.organization_name,
            what=_describe_change(e.detail),
        )
        for e in events
    ]


def can_edit(actor: Actor, task: Task) -> bool:
    return actor.can_edit_patients and actor.organization.pk in (
        task.owner_organization_id,
        task.created_by_organization_id,
    )


def can_take(actor: Actor, task: Task) -> bool:
    return (
        task.is_open
        and actor.can_edit_patients
        and task.owner_organization_id == actor.organization.pk
        and task.owner_user_id != actor.user.pk
    )


def task_page(actor: Actor, task_id: int) -> TaskPage:
    task = access.care.get_task_for_user(actor, task_id)
    today = organization_today(actor.organization)
    log.record(actor, AuditAction.VIEW, patient=task.patient, obj=task)
    return TaskPage(
        task=task,
        today=today,
        cutoff=due_soon_cutoff(actor.organization, today),
        can_edit=can_edit(actor, task),
        can_take=can_take(actor, task),
        changes=task_changes(actor, task),
    )


# --- Counts and notifications ---------------------------------------------------------------


@dataclass(frozen=True)
class TaskCounts:
    overdue: int
    due_soon: int
    unread_notifications: int


def counts(actor: Actor) -> TaskCounts:
    """For the nav bar: the actor's own open tasks overdue and due soon, unread notifications."""
    today = organization_today(actor.organization)
    cutoff = due_soon_cutoff(actor.organization, today)
    mine = tasks_in_scope(actor, Scope.MINE)
    return TaskCounts(
        overdue=mine.filter(due_on__lt=today).count(),
        due_soon=mine.filter(due_on__gte=today, due_on__lte=cutoff).count(),
        unread_notifications=unread_notifications(actor).count(),
    )


def unread_notifications(actor: Actor) -> QuerySet[Notification]:
    return access.care.visible_notifications(actor).filter(read_at__isnull=True)


def notifications(actor: Actor, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The actor's notifications, unread first, newest first within each."""
    found = access.care.visible_notifications(actor).select_related("patient")
    if unread_only:
        found = found.filter(read_at__isnull=True)
    unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1))
    return found.order_by(unread_first, "-created_at", "-id")


def record_notification_views(actor: Actor, shown: list[Notification]) -> None:
    """Notifications name the patient they are about; showing them is a read."""
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({n.patient_id for n in shown if n.patient_id is not None}),
        {"page": "notifications"},
    )
