"""Tasks: next steps with an owner and a due date (004 step 7i: "next steps, each with the
person responsible and a due date"), and the reminders that keep them from slipping."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access.policy import READ_ONLY_ROLES
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.errors import CareError
from caseboard.care.models import (
    OPEN_TASK_STATUSES,
    Goal,
    Task,
    TaskPriority,
    TaskSource,
    TaskStatus,
)
from caseboard.care.queries.tasks import due_soon_cutoff, organization_today
from caseboard.orgs.models import Membership, Organization, Role
from caseboard.patients.models import Patient

# Who hears about a task the organization owns but nobody has taken yet: the people who
# coordinate care there, and its administrators.
COORDINATING_ROLES = frozenset(
    {
        Role.DIRECTOR_OF_CARE_MANAGEMENT,
        Role.PROJECT_MANAGER,
        Role.CASE_MANAGER,
        Role.SOCIAL_CARE_MANAGER,
        Role.CLINICAL_CARE_MANAGER,
        Role.CARE_COORDINATOR,
        Role.HHP_DIRECTOR,
        Role.DEDICATED_CARE_COORDINATOR,
        Role.ORG_ADMIN,
    }
)
WORKING_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


def _person(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _check_owner(
    actor: Actor, organization: Organization, user: User | None, patient: Patient | None
) -> None:
    if organization.pk not in access.sharing_organization_ids(actor):
        raise CareError(
            f"{organization} is not a partner of {actor.organization}; a task can only go to"
            " your organization or a partner.",
            field="owner_organization",
        )
    if (
        patient is not None
        and organization.pk != actor.organization.pk
        and not access.care.patient_visible_to_organization(patient, organization)
    ):
        raise CareError(
            f"{organization} does not care for this patient, so its staff could not open the"
            " task. Give it to your own organization or to a partner that serves the patient.",
            field="owner_organization",
        )
    if user is None:
        return
    membership = Membership.objects.filter(
        user=user, organization=organization, is_active=True, user__is_active=True
    ).first()
    if membership is None:
        raise CareError(f"{_person(user)} does not work for {organization}.", field="owner_user")
    if membership.role in READ_ONLY_ROLES:
        raise CareError(
            f"{_person(user)} is a {membership.get_role_display().lower()} and may read"
            " patients' records but not work tasks about them.",
            field="owner_user",
        )


def _notify_new_owner(actor: Actor, task: Task) -> None:
    if task.owner_user is None or task.owner_user.pk == actor.user.pk:
        return
    notify(
        task.owner_user,
        task.owner_organization,
        kind="task_assigned",
        title=f"New task for you, due {task.due_on:%b %-d}",
        body=f"{task.title} — from {_person(actor.user)} ({actor.organization})",
        url=reverse("task_detail", args=[task.pk]),
        patient=task.patient,
    )


@transaction.atomic
def create_task(
    actor: Actor,
    *,
    title: str,
    due_on: datetime.date,
    patient: Patient | None = None,
    goal: Goal | None = None,
    owner_organization: Organization | None = None,
    owner_user: User | None = None,
    priority: str = TaskPriority.NORMAL,
    source: str = TaskSource.MANUAL,
    detail: str = "",
) -> Task:
    """A task for the actor's organization or a partner's, optionally for one of its people.

    `patient` must come from the access policy; the task is checked against it again here so
    that no caller can attach a task to a patient the actor may not see.
    """
    access.care.require_editor(actor)
    if not title.strip():
        raise CareError("Say what needs doing.", field="title")
    if patient is not None:
        access.get_patient_for_user(actor, patient.pk)
    if goal is not None and (patient is None or goal.care_plan.patient_id != patient.pk):
        raise CareError("The goal belongs to another patient's care plan.", field="goal")
    if priority not in TaskPriority.values:
        raise CareError(f"{priority!r} is not a priority.", field="priority")
    if source not in TaskSource.values:
        raise CareError(f"{source!r} is not a task source.", field="source")
    organization = owner_organization or actor.organization
    _check_owner(actor, organization, owner_user, patient)
    task = Task.objects.create(
        title=title.strip(),
        detail=detail.strip(),
        patient=patient,
        goal=goal,
        owner_organization=organization,
        owner_user=owner_user,
        due_on=due_on,
        priority=priority,
        source=source,
        created_by=actor.user,
        created_by_organization=actor.organization,
    )
    log.record(actor, AuditAction.CREATE, patient=patient, obj=task, detail={"title": task.title})
    _notify_new_owner(actor, task)
    return task


@transaction.atomic
def update_task(
    actor: Actor,
    task: Task,
    *,
    title: str,
    detail: str,
    due_on: datetime.date,
    priority: str,
    status: str,
    owner_user: User | None,
    owner_organization: Organization,
) -> Task:
    """Change what, when, how urgent and whose; a closed task can be reopened by setting it
    back to open. A new due date or a new owner gets its reminders afresh."""
    task = access.care.get_task_for_editor(actor, task.pk)
    if not title.strip():
        raise CareError("Say what needs doing.", field="title")
    if priority not in TaskPriority.values:
        raise CareError(f"{priority!r} is not a priority.", field="priority")
    if status not in WORKING_STATUSES:
        raise CareError(
            "Mark a task done with “Complete”, or cancel it with a reason.", field="status"
        )
    owner_changed = (owner_organization.pk, getattr(owner_user, "pk", None)) != (
        task.owner_organization_id,
        task.owner_user_id,
    )
    if owner_changed:
        _check_owner(actor, owner_organization, owner_user, task.patient)
    new = {
        "title": title.strip(),
        "detail": detail.strip(),
        "due_on": due_on,
        "priority": priority,
        "status": status,
    }
    changed = [name for name, value in new.items() if getattr(task, name) != value]
    if owner_changed:
        changed.append("owner")
    if not changed:
        return task
    reopened = not task.is_open
    for name, value in new.items():
        setattr(task, name, value)
    task.owner_organization = owner_organization
    task.owner_user = owner_user
    if reopened:
        task.completed_at = None
        task.completed_by = None
    if "due_on" in changed or owner_changed or reopened:
        task.reminded_due_soon_at = None
        task.reminded_overdue_at = None
    task.save()
    log.record(
        actor,
        AuditAction.UPDATE,
        patient=task.patient,
        obj=task,
        detail={"changed": changed, "reopened": reopened} if reopened else {"changed": changed},
    )
    if owner_changed:
        _notify_new_owner(actor, task)
    return task


@transaction.atomic
def take_task(actor: Actor, task: Task) -> Task:
    """ "Take it": the actor becomes the task's owner within their organization."""
    task = access.care.get_task_for_editor(actor, task.pk)
    if task.owner_organization_id != actor.organization.pk:
        raise CareError(f"This task belongs to {task.owner_organization}; only its staff take it.")
    if not task.is_open:
        raise CareError(f"This task is already {task.get_status_display().lower()}.")
    if task.owner_user_id == actor.user.pk:
        return task
    previous = task.owner_user
    task.owner_user = actor.user
    task.save(update_fields=["owner_user", "updated_at"])
    log.record(actor, AuditAction.UPDATE, patient=task.patient, obj=task, detail={"taken": True})
    if previous is not None and previous.pk != actor.user.pk:
        notify(
            previous,
            task.owner_organization,
            kind="task_taken",
            title="A task of yours was taken over",
            body=f"{_person(actor.user)} took “{task.title}”.",
            url=reverse("task_detail", args=[task.pk]),
            patient=task.patient,
            email=False,
        )
    return task


def _tell_assigner(actor: Actor, task: Task, what: str) -> None:
    """Close the loop with whoever handed the task over (in the app, not by e-mail)."""
    if task.created_by_id == actor.user.pk:
        return
    if not Membership.objects.filter(
        user_id=task.created_by_id, organization_id=task.created_by_organization_id, is_active=True
    ).exists():
        return
    notify(
        task.created_by,
        task.created_by_organization,
        kind=f"task_{what}",
        title=f"A task you assigned was {what}",
        body=f"{_person(actor.user)} ({actor.organization}): “{task.title}”"
        + (f" — {task.outcome}" if task.outcome else ""),
        url=reverse("task_detail", args=[task.pk]),
        patient=task.patient,
        email=False,
    )


@transaction.atomic
def complete_task(actor: Actor, task: Task, *, outcome: str = "") -> Task:
    task = access.care.get_task_for_editor(actor, task.pk)
    if not task.is_open:
        raise CareError(f"This task is already {task.get_status_display().lower()}.")
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    task.completed_by = actor.user
    task.outcome = outcome.strip()
    task.save(update_fields=["status", "completed_at", "completed_by", "outcome", "updated_at"])
    log.record(
        actor, AuditAction.UPDATE, patient=task.patient, obj=task, detail={"status": task.status}
    )
    _tell_assigner(actor, task, "completed")
    return task


@transaction.atomic
def cancel_task(actor: Actor, task: Task, reason: str) -> Task:
    """A task no longer needed, with the reason kept as its outcome."""
    task = access.care.get_task_for_editor(actor, task.pk)
    if not task.is_open:
        raise CareError(f"This task is already {task.get_status_display().lower()}.")
    if not reason.strip():
        raise CareError("Say why the task is no longer needed.", field="reason")
    task.status = TaskStatus.CANCELLED
    task.completed_at = timezone.now()
    task.completed_by = actor.user
    task.outcome = reason.strip()
    task.save(update_fields=["status", "completed_at", "completed_by", "outcome", "updated_at"])
    log.record(
        actor, AuditAction.UPDATE, patient=task.patient, obj=task, detail={"status": task.status}
    )
    _tell_assigner(actor, task, "cancelled")
    return task


# --- Reminders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderSweep:
    due_soon: int
    overdue: int
    notifications: int


def reminder_recipients(task: Task) -> list[User]:
    """The owner; for a task nobody has taken, the organization's care coordinators and
    administrators."""
    members = Membership.objects.select_related("user").filter(
        organization_id=task.owner_organization_id, is_active=True, user__is_active=True
    )
    if task.owner_user_id is not None:
        owner = members.filter(user_id=task.owner_user_id).first()
        if owner is not None:
            return [owner.user]
    coordinators = members.filter(Q(administers=True) | Q(role__in=COORDINATING_ROLES))
    return [m.user for m in coordinators.order_by("user_id")]


def _remind(task: Task, kind: str, when: str, stamp: str, now: datetime.datetime) -> int:
    """One reminder, once: the stamp is set only if no other run set it first."""
    with transaction.atomic():
        claimed = Task.objects.filter(
            pk=task.pk, status__in=OPEN_TASK_STATUSES, **{f"{stamp}__isnull": True}
        ).update(**{stamp: now})
        if not claimed:
            return 0
        recipients = reminder_recipients(task)
        if [u.pk for u in recipients] == [task.owner_user_id]:
            title = f"Your task {when}"
        else:
            title = f"A task of {task.owner_organization} that nobody has taken {when}"
        body = task.title + (f" — {task.patient.full_name}" if task.patient else "")
        for user in recipients:
            # The title goes out by e-mail: it says when, never whom.
            notify(
                user,
                task.owner_organization,
                kind=kind,
                title=title,
                body=body,
                url=reverse("task_detail", args=[task.pk]),
                patient=task.patient,
            )
        return len(recipients)


def remind_task_owners(now: datetime.datetime | None = None) -> ReminderSweep:
    """Tell owners once when an open task becomes due soon, and once when it is overdue.

    Running it again sends nothing new; a task whose due date or owner changes is reminded
    afresh (update_task clears the stamps).
    """
    now = now or timezone.now()
    # Every organization's "next business day" lies within a week and a half of any clock.
    horizon = timezone.localdate(now) + datetime.timedelta(days=10)
    candidates = (
        Task.objects.select_related("owner_organization", "patient")
        .filter(status__in=OPEN_TASK_STATUSES, due_on__lte=horizon)
        .filter(reminded_overdue_at__isnull=True)
        .order_by("due_on", "id")
    )
    due_soon = overdue = sent = 0
    for task in candidates:
        today = organization_today(task.owner_organization, now)
        if task.due_on < today:
            when = f"is overdue (it was due {task.due_on:%b %-d})"
            count = _remind(task, "task_overdue", when, "reminded_overdue_at", now)
            overdue += bool(count)
        elif task.reminded_due_soon_at is None and task.due_on <= due_soon_cutoff(
            task.owner_organization, today
        ):
            day = "today" if task.due_on == today else f"on {task.due_on:%A, %b %-d}"
            count = _remind(task, "task_due_soon", f"is due {day}", "reminded_due_soon_at", now)
            due_soon += bool(count)
        else:
            continue
        sent += count
    return ReminderSweep(due_soon=due_soon, overdue=overdue, notifications=sent)
