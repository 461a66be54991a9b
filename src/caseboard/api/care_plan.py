"""The shared care plan over the API: the same actions, access policy and audit as the pages.

Writes carry the plan `version` the client last read; a write against an older version is
refused with 409 and a message naming who changed the plan and when. Each response carries the
plan's version after the write, so a client can go on without reading the plan again.
"""

from __future__ import annotations

import datetime
from typing import Any, TypeVar

import pydantic
from django.http import HttpRequest
from ninja import Router, Schema, Status

from caseboard import access
from caseboard.api.context import actor_of
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions import careplan as actions
from caseboard.care.errors import CareError
from caseboard.care.models import (
    Achievement,
    Barrier,
    BarrierKind,
    CarePlan,
    Goal,
    GoalDomain,
    GoalStatus,
)
from caseboard.care.queries import careplan as queries

router = Router()
TAGS = ["care plan"]
S = TypeVar("S", bound=Schema)


class ConfidenceOut(Schema):
    rating: int
    recorded_on: datetime.date
    note: str


class ProgressOut(Schema):
    status: str
    achievement: str
    note: str
    by: str
    organization: str
    at: datetime.datetime


class GoalOut(Schema):
    id: int
    statement: str
    domain: str
    target_date: datetime.date | None
    status: str
    achievement: str
    met_on: datetime.date | None
    source: str
    confidence: list[ConfidenceOut]
    progress: list[ProgressOut]
    success_story: str | None
    care_plan_version: int


class BarrierOut(Schema):
    id: int
    kind: str
    description: str
    goal_id: int | None
    resolved_on: datetime.date | None
    care_plan_version: int


class InterventionOut(Schema):
    id: int
    description: str
    goal_id: int | None
    responsible: str
    responsible_user_id: int | None
    responsible_organization_id: int | None
    due_on: datetime.date | None
    status: str


class CarePlanOut(Schema):
    patient_id: int
    version: int
    updated_at: datetime.datetime | None
    updated_by: str
    follow_up_plan: str
    goals: list[GoalOut]
    barriers: list[BarrierOut]
    interventions: list[InterventionOut]


class GoalIn(Schema):
    version: int
    statement: str
    domain: GoalDomain = GoalDomain.OTHER
    target_date: datetime.date | None = None
    confidence: int | None = None


class GoalPatch(Schema):
    version: int
    statement: str | None = None
    domain: GoalDomain | None = None
    target_date: datetime.date | None = None
    status: GoalStatus | None = None
    achievement: Achievement | None = None
    note: str = ""


class ConfidenceIn(Schema):
    # Appending a rating overwrites nothing, so the version check is optional here.
    version: int | None = None
    rating: int
    note: str = ""


class BarrierIn(Schema):
    version: int | None = None
    kind: BarrierKind
    description: str
    goal_id: int | None = None


def _goal_out(g: queries.GoalView, version: int) -> GoalOut:
    goal = g.goal
    return GoalOut(
        id=goal.pk,
        statement=goal.statement,
        domain=goal.domain,
        target_date=goal.target_date,
        status=goal.status,
        achievement=goal.achievement,
        met_on=goal.met_on,
        source=goal.source,
        confidence=[
            ConfidenceOut(rating=r.rating, recorded_on=r.recorded_on, note=r.note)
            for r in g.ratings
        ],
        progress=[
            ProgressOut(
                status=p.status,
                achievement=p.achievement,
                note=p.note,
                by=actions.person(p.by),
                organization=p.by_organization.name,
                at=p.at,
            )
            for p in g.progress
        ],
        success_story=g.success_story.story if g.success_story else None,
        care_plan_version=version,
    )


def _barrier_out(barrier: Barrier, version: int) -> BarrierOut:
    return BarrierOut(
        id=barrier.pk,
        kind=barrier.kind,
        description=barrier.description,
        goal_id=barrier.goal_id,
        resolved_on=barrier.resolved_on,
        care_plan_version=version,
    )


def _plan_out(view: queries.CarePlanView) -> CarePlanOut:
    return CarePlanOut(
        patient_id=view.patient.pk,
        version=view.version,
        updated_at=view.updated_at,
        updated_by=view.updated_by,
        follow_up_plan=view.follow_up_plan,
        goals=[_goal_out(g, view.version) for g in view.goals],
        barriers=[_barrier_out(b, view.version) for b in view.barriers],
        interventions=[
            InterventionOut(
                id=r.intervention.pk,
                description=r.intervention.description,
                goal_id=r.intervention.goal_id,
                responsible=r.responsible,
                responsible_user_id=r.intervention.responsible_user_id,
                responsible_organization_id=r.intervention.responsible_organization_id,
                due_on=r.intervention.due_on,
                status=r.intervention.status,
            )
            for r in view.interventions
        ],
    )


def _current_goal(request: HttpRequest, goal_id: int) -> GoalOut:
    actor = actor_of(request)
    goal = access.care.get_goal_for_user(actor, goal_id)
    view = queries.care_plan_view(actor, goal.care_plan.patient)
    return _goal_out(view.goals_by_id[goal.pk], view.version)


def _body(request: HttpRequest, schema: type[S]) -> S:
    """The JSON body, read only after the object was looked up through the access policy, so
    a request about another organization's object is answered 404 whatever its body."""
    try:
        return schema.model_validate_json(request.body or b"{}")
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise CareError(f"The request body is not valid: {problems}.") from None


def _documented(schema: type[Schema]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema.model_json_schema()}},
        }
    }


@router.get("/patients/{patient_id}/care-plan", response=CarePlanOut, tags=TAGS)
def get_care_plan(request: HttpRequest, patient_id: int) -> CarePlanOut:
    """The patient's shared care plan; `version` is 0 while it has no content yet."""
    return _plan_out(queries.care_plan_page(actor_of(request), patient_id, page="api care plan"))


@router.post(
    "/patients/{patient_id}/care-plan/goals",
    response={201: GoalOut},
    tags=TAGS,
    openapi_extra=_documented(GoalIn),
)
def add_goal(request: HttpRequest, patient_id: int) -> Status[GoalOut]:
    """A patient-centered goal; `version` is the plan version the client last read."""
    actor = actor_of(request)
    patient = access.get_patient_for_editor(actor, patient_id)
    payload = _body(request, GoalIn)
    goal = actions.add_goal(
        actor,
        patient,
        statement=payload.statement,
        domain=payload.domain,
        target_date=payload.target_date,
        confidence=payload.confidence,
        expected_version=payload.version,
    )
    return Status(201, _current_goal(request, goal.pk))


@router.get("/goals/{goal_id}", response=GoalOut, tags=TAGS)
def get_goal(request: HttpRequest, goal_id: int) -> GoalOut:
    actor = actor_of(request)
    goal = access.care.get_goal_for_user(actor, goal_id)
    log.record(
        actor,
        AuditAction.VIEW,
        patient=goal.care_plan.patient,
        obj=goal,
        detail={"page": "api goal"},
    )
    return _current_goal(request, goal.pk)


@router.patch("/goals/{goal_id}", response=GoalOut, tags=TAGS, openapi_extra=_documented(GoalPatch))
def change_goal(request: HttpRequest, goal_id: int) -> GoalOut:
    """Changes only the fields sent; 409 when the plan changed after `version`."""
    actor = actor_of(request)
    goal = access.care.get_goal_for_editor(actor, goal_id)
    payload = _body(request, GoalPatch)
    sent = payload.model_dump(exclude_unset=True)

    def new(name: str, current: Any) -> Any:
        # Only the fields sent change; an explicit null clears the target date alone.
        if name not in sent or (sent[name] is None and name != "target_date"):
            return current
        return sent[name]

    actions.update_goal(
        actor,
        goal,
        expected_version=payload.version,
        statement=new("statement", goal.statement),
        domain=new("domain", goal.domain),
        target_date=new("target_date", goal.target_date),
        status=new("status", goal.status),
        achievement=new("achievement", goal.achievement),
        note=payload.note,
    )
    return _current_goal(request, goal.pk)


@router.post(
    "/goals/{goal_id}/confidence",
    response={201: GoalOut},
    tags=TAGS,
    openapi_extra=_documented(ConfidenceIn),
)
def record_confidence(request: HttpRequest, goal_id: int) -> Status[GoalOut]:
    """Today's 0–10 confidence rating for the goal; answers with the goal and its history."""
    actor = actor_of(request)
    goal = access.care.get_goal_for_editor(actor, goal_id)
    payload = _body(request, ConfidenceIn)
    actions.record_confidence(
        actor, goal, rating=payload.rating, note=payload.note, expected_version=payload.version
    )
    return Status(201, _current_goal(request, goal.pk))


@router.post(
    "/patients/{patient_id}/care-plan/barriers",
    response={201: BarrierOut},
    tags=TAGS,
    openapi_extra=_documented(BarrierIn),
)
def add_barrier(request: HttpRequest, patient_id: int) -> Status[BarrierOut]:
    """A barrier, optionally tied to one of the plan's goals."""
    actor = actor_of(request)
    patient = access.get_patient_for_editor(actor, patient_id)
    payload = _body(request, BarrierIn)
    goal: Goal | None = None
    if payload.goal_id is not None:
        goal = access.care.get_goal_for_user(actor, payload.goal_id)
    barrier = actions.add_barrier(
        actor,
        patient,
        kind=payload.kind,
        description=payload.description,
        goal=goal,
        expected_version=payload.version,
    )
    version = CarePlan.objects.values_list("version", flat=True).get(pk=barrier.care_plan_id)
    return Status(201, _barrier_out(barrier, version))
