"""Tasks and notifications over the API: the same actions, access policy and audit as the pages."""

from __future__ import annotations

import datetime
from typing import Literal

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ValidationError

from caseboard import access
from caseboard.api.context import actor_of
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions import tasks as actions
from caseboard.care.errors import CareError
from caseboard.care.models import Notification, Task
from caseboard.care.queries import tasks as queries
from caseboard.orgs.models import Organization

router = Router()
TAGS = ["tasks"]


class OrganizationRef(Schema):
    id: int
    name: str


class PersonRef(Schema):
    id: int
    name: str


class TaskOut(Schema):
    id: int
    title: str
    detail: str
    patient_id: int | None
    patient_name: str | None
    goal_id: int | None
    goal: str | None
    owner_organization: OrganizationRef
    owner_user: PersonRef | None
    due_on: datetime.date
    priority: str
    status: str
    source: str
    overdue: bool
    due_soon: bool
    created_by: PersonRef
    created_by_organization: OrganizationRef
    created_at: datetime.datetime
    completed_at: datetime.datetime | None
    completed_by: PersonRef | None
    outcome: str


class TaskIn(Schema):
    title: str
    due_on: datetime.date
    detail: str = ""
    priority: Literal["high", "normal", "low"] = "normal"
    source: str = "manual"
    patient_id: int | None = None
    goal_id: int | None = None
    # Empty means the actor's own organization; with no user, anyone there may take it.
    owner_organization_id: int | None = None
    owner_user_id: int | None = None


class CompleteIn(Schema):
    outcome: str = ""


class TaskListParams(Schema):
    scope: Literal["mine", "organization", "assigned_by_me"] = "mine"
    status: Literal["open", "done"] = "open"
    patient_id: int | None = None


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    patient_id: int | None
    created_at: datetime.datetime
    read_at: datetime.datetime | None


class NotificationParams(Schema):
    unread: bool = False


def _person(user: User | None) -> PersonRef | None:
    if user is None:
        return None
    return PersonRef(id=user.pk, name=user.get_full_name() or user.get_username())


def _org(org: Organization) -> OrganizationRef:
    return OrganizationRef(id=org.pk, name=org.name)


def _task_out(task: Task, today: datetime.date, cutoff: datetime.date) -> TaskOut:
    urgency = queries.urgency(task, today, cutoff)
    created_by = _person(task.created_by)
    assert created_by is not None
    return TaskOut(
        id=task.pk,
        title=task.title,
        detail=task.detail,
        patient_id=task.patient_id,
        patient_name=task.patient.full_name if task.patient else None,
        goal_id=task.goal_id,
        goal=task.goal.statement if task.goal else None,
        owner_organization=_org(task.owner_organization),
        owner_user=_person(task.owner_user),
        due_on=task.due_on,
        priority=task.priority,
        status=task.status,
        source=task.source,
        overdue=urgency == "overdue",
        due_soon=urgency == "due_soon",
        created_by=created_by,
        created_by_organization=_org(task.created_by_organization),
        created_at=task.created_at,
        completed_at=task.completed_at,
        completed_by=_person(task.completed_by),
        outcome=task.outcome,
    )


def _dates(request: HttpRequest) -> tuple[datetime.date, datetime.date]:
    org = actor_of(request).organization
    today = queries.organization_today(org)
    return today, queries.due_soon_cutoff(org, today)


@router.get("/tasks", response=list[TaskOut], tags=TAGS)
def list_tasks(request: HttpRequest, params: Query[TaskListParams]) -> list[TaskOut]:
    actor = actor_of(request)
    tasks = queries.tasks_in_scope(actor, params.scope, status=params.status).select_related(
        "created_by_organization"
    )
    if params.patient_id is not None:
        tasks = tasks.filter(patient=access.get_patient_for_user(actor, params.patient_id))
    found = list(tasks[: queries.LIST_LIMIT])
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({t.patient_id for t in found if t.patient_id is not None}),
        {"api": "tasks", "scope": params.scope, "status": params.status},
    )
    today, cutoff = _dates(request)
    return [_task_out(t, today, cutoff) for t in found]


@router.post("/tasks", response={201: TaskOut}, tags=TAGS)
def create_task(request: HttpRequest, payload: TaskIn) -> Status[TaskOut]:
    actor = actor_of(request)
    patient = (
        access.get_patient_for_user(actor, payload.patient_id)
        if payload.patient_id is not None
        else None
    )
    goal = (
        access.care.get_goal_for_user(actor, payload.goal_id)
        if payload.goal_id is not None
        else None
    )
    owner_organization = None
    if payload.owner_organization_id is not None:
        owner_organization = Organization.objects.filter(
            pk=payload.owner_organization_id, pk__in=access.sharing_organization_ids(actor)
        ).first()
        if owner_organization is None:
            raise CareError(
                "That organization is not yours or a partner's.", field="owner_organization"
            )
    owner_user = None
    if payload.owner_user_id is not None:
        owner_user = User.objects.filter(pk=payload.owner_user_id).first()
        if owner_user is None:
            raise CareError("No such person.", field="owner_user")
    today, cutoff = _dates(request)
    if payload.due_on < today:
        raise CareError(
            f"{payload.due_on} has passed; a task is due today or later.", field="due_on"
        )
    task = actions.create_task(
        actor,
        title=payload.title,
        due_on=payload.due_on,
        detail=payload.detail,
        priority=payload.priority,
        source=payload.source,
        patient=patient,
        goal=goal,
        owner_organization=owner_organization,
        owner_user=owner_user,
    )
    return Status(201, _task_out(access.care.get_task_for_user(actor, task.pk), today, cutoff))


@router.get("/tasks/{task_id}", response=TaskOut, tags=TAGS)
def get_task(request: HttpRequest, task_id: int) -> TaskOut:
    actor = actor_of(request)
    task = access.care.get_task_for_user(actor, task_id)
    log.record(actor, AuditAction.VIEW, patient=task.patient, obj=task, detail={"api": "task"})
    return _task_out(task, *_dates(request))


def _completion(request: HttpRequest) -> CompleteIn:
    if request.content_type != "application/json":
        # A form post (or none at all) works too: curl -d outcome=...
        return CompleteIn(outcome=request.POST.get("outcome", ""))
    if not request.body.strip():
        return CompleteIn()
    try:
        return CompleteIn.model_validate_json(request.body)
    except ValidationError:
        raise CareError(
            'Send JSON such as {"outcome": "Reached the patient; appointment booked"}, or nothing.'
        ) from None


@router.post(
    "/tasks/{task_id}/complete",
    response=TaskOut,
    tags=TAGS,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": CompleteIn.model_json_schema()}},
        }
    },
)
def complete_task(request: HttpRequest, task_id: int) -> TaskOut:
    actor = actor_of(request)
    # The task is looked up before the body is read: another organization's task is unknown,
    # whatever was sent.
    task = access.care.get_task_for_editor(actor, task_id)
    task = actions.complete_task(actor, task, outcome=_completion(request).outcome)
    return _task_out(access.care.get_task_for_user(actor, task.pk), *_dates(request))


@router.get("/notifications", response=list[NotificationOut], tags=TAGS)
def list_notifications(
    request: HttpRequest, params: Query[NotificationParams]
) -> list[Notification]:
    actor = actor_of(request)
    found = list(queries.notifications(actor, unread_only=params.unread)[:200])
    queries.record_notification_views(actor, found)
    return found
