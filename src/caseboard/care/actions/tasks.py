from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.errors import CareError
from caseboard.care.models import Goal, Task, TaskPriority, TaskSource, TaskStatus
from caseboard.orgs.models import Membership, Organization
from caseboard.patients.models import Patient


def _check_owner(actor: Actor, organization: Organization, user: User | None) -> None:
    if organization.pk not in access.sharing_organization_ids(actor):
        raise CareError(
            f"{organization} is not a partner of {actor.organization}; a task can only go to"
            " your organization or a partner.",
            field="owner_organization",
        )
    if (
        user is not None
        and not Membership.objects.filter(
            user=user, organization=organization, is_active=True
        ).exists()
    ):
        raise CareError(
            f"{user.get_full_name() or user.get_username()} does not work for {organization}.",
            field="owner_user",
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
    organization = owner_organization or actor.organization
    _check_owner(actor, organization, owner_user)
    task = Task.objects.create(
        title=title.strip(),
        detail=detail,
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
    if owner_user is not None and owner_user.pk != actor.user.pk:
        notify(
            owner_user,
            organization,
            kind="task_assigned",
            title=f"New task due {due_on:%b %-d}",
            body=task.title,
            url=reverse("task_detail", args=[task.pk]),
            patient=patient,
        )
    return task


@transaction.atomic
def complete_task(actor: Actor, task: Task, *, outcome: str = "") -> Task:
    task = access.care.get_task_for_editor(actor, task.pk)
    if not task.is_open:
        raise CareError(f"This task is already {task.get_status_display().lower()}.")
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    task.completed_by = actor.user
    task.outcome = outcome
    task.save(update_fields=["status", "completed_at", "completed_by", "outcome", "updated_at"])
    log.record(
        actor, AuditAction.UPDATE, patient=task.patient, obj=task, detail={"status": task.status}
    )
    return task
