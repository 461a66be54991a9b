"""Registry, enrollments, interactions and care team over the JSON API. The same queries and
actions as the pages, so the same access rules and audit events."""

from __future__ import annotations

import dataclasses
import datetime

import pydantic
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from caseboard import access
from caseboard.access import Actor
from caseboard.api.context import actor_of
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.enrollment import enroll, transition
from caseboard.care.actions.interactions import MAX_MINUTES, MIN_MINUTES, log_interaction
from caseboard.care.errors import CareError
from caseboard.care.models import (
    CareTeamMember,
    Direction,
    Enrollment,
    EnrollmentStatus,
    Interaction,
)
from caseboard.care.queries import registry as queries
from caseboard.care.queries.care_team import current_team, member_label
from caseboard.care.queries.registry import (
    SORT_KEYS,
    LeadFilter,
    RegistryFilters,
    RegistryRow,
    StatusFilter,
)
from caseboard.orgs.models import Membership

router = Router()
TAGS = ["care registry"]


# --- Schemas ------------------------------------------------------------------------------


class RegistryQuery(Schema):
    program: str = ""
    status: str = Field(
        StatusFilter.OPEN,
        description='"" = open (default), "active", "closed", "all", or one status',
    )
    care_manager: str = Field("", description='"", "mine", "none" or a user id')
    acuity: str = ""
    lead: str = Field(LeadFilter.OURS, description='"ours" (default), "partners" or "all"')
    no_contact_days: int | None = Field(
        None, ge=1, le=365, description="only patients with no contact for this many days"
    )
    sort: str = Field("patient", description="a column name; prefix with - to reverse")


class RegistryRowOut(Schema):
    enrollment_id: int
    patient_id: int
    family_name: str
    given_name: str
    birth_date: datetime.date
    program: str
    lead_organization: str
    status: str
    status_since: datetime.date
    acuity: str
    care_manager_id: int | None
    care_manager: str
    last_contact_at: datetime.datetime | None
    days_since_contact: int | None
    no_recent_contact: bool
    next_follow_up: datetime.date | None
    open_tasks: int
    minutes_this_month: int
    ccm_codes: list[str]


class TransitionOut(Schema):
    from_status: str
    to_status: str
    effective_on: datetime.date
    reason: str
    by: str
    organization: str
    at: datetime.datetime


class EnrollmentOut(Schema):
    id: int
    patient_id: int
    program: str
    lead_organization: str
    care_manager_id: int | None
    care_manager: str
    acuity: str
    status: str
    status_since: datetime.date
    identified_on: datetime.date
    ended_on: datetime.date | None
    transitions: list[TransitionOut]


class EnrollIn(Schema):
    program: str
    acuity: str = "rising"
    care_manager_id: int | None = None
    status: str = EnrollmentStatus.IDENTIFIED
    reason: str = ""
    on: datetime.date | None = None


class TransitionIn(Schema):
    to_status: str
    reason: str
    effective_on: datetime.date | None = None


class InteractionOut(Schema):
    id: int
    patient_id: int
    enrollment_id: int | None
    organization: str
    staff: str
    kind: str
    direction: str
    reached: bool | None
    occurred_at: datetime.datetime
    minutes: int
    note: str


class InteractionIn(Schema):
    kind: str
    minutes: int = Field(..., ge=MIN_MINUTES, le=MAX_MINUTES)
    occurred_at: datetime.datetime = Field(
        ..., description="with an offset; without one, read in the organization's time zone"
    )
    direction: str = Direction.NONE
    reached: bool | None = None
    note: str = ""
    enrollment_id: int | None = None


class CareTeamMemberOut(Schema):
    id: int
    name: str
    user_id: int | None
    organization: str | None
    role: str
    role_label: str
    role_description: str
    phone: str
    is_lead: bool
    started_on: datetime.date


# --- Conversions --------------------------------------------------------------------------


def _name(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _row(r: RegistryRow) -> RegistryRowOut:
    e = r.enrollment
    return RegistryRowOut(
        enrollment_id=e.pk,
        patient_id=r.patient.pk,
        family_name=r.patient.family_name,
        given_name=r.patient.given_name,
        birth_date=r.patient.birth_date,
        program=e.program,
        lead_organization=e.lead_organization.name,
        status=e.status,
        status_since=e.status_since,
        acuity=e.acuity,
        care_manager_id=e.care_manager_id,
        care_manager=r.care_manager_name,
        last_contact_at=r.last_contact.occurred_at if r.last_contact else None,
        days_since_contact=r.days_since_contact,
        no_recent_contact=r.no_recent_contact,
        next_follow_up=r.next_follow_up,
        open_tasks=r.open_tasks,
        minutes_this_month=r.minutes,
        ccm_codes=r.ccm.codes,
    )


def _enrollment(e: Enrollment) -> EnrollmentOut:
    return EnrollmentOut(
        id=e.pk,
        patient_id=e.patient_id,
        program=e.program,
        lead_organization=e.lead_organization.name,
        care_manager_id=e.care_manager_id,
        care_manager=_name(e.care_manager),
        acuity=e.acuity,
        status=e.status,
        status_since=e.status_since,
        identified_on=e.identified_on,
        ended_on=e.ended_on,
        transitions=[
            TransitionOut(
                from_status=t.from_status,
                to_status=t.to_status,
                effective_on=t.effective_on,
                reason=t.reason,
                by=_name(t.by),
                organization=t.by_organization.name,
                at=t.at,
            )
            for t in e.transitions.select_related("by", "by_organization")
        ],
    )


def _interaction(i: Interaction) -> InteractionOut:
    return InteractionOut(
        id=i.pk,
        patient_id=i.patient_id,
        enrollment_id=i.enrollment_id,
        organization=i.organization.name,
        staff=_name(i.staff),
        kind=i.kind,
        direction=i.direction,
        reached=i.reached,
        occurred_at=i.occurred_at,
        minutes=i.minutes,
        note=i.note,
    )


def _member(m: CareTeamMember) -> CareTeamMemberOut:
    return CareTeamMemberOut(
        id=m.pk,
        name=member_label(m),
        user_id=m.user_id,
        organization=m.organization.name if m.organization else None,
        role=m.role,
        role_label=m.get_role_display(),
        role_description=m.role_description,
        phone=m.phone,
        is_lead=m.is_lead,
        started_on=m.started_on,
    )


def _care_manager(actor: Actor, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    membership = (
        Membership.objects.select_related("user")
        .filter(organization=actor.organization, user_id=user_id, is_active=True)
        .first()
    )
    if membership is None:
        raise CareError(
            f"No active member of {actor.organization} has user id {user_id}.",
            field="care_manager_id",
        )
    return membership.user


# --- Operations ---------------------------------------------------------------------------


@router.get("/care/registry", response=list[RegistryRowOut], tags=TAGS)
def registry(request: HttpRequest, params: Query[RegistryQuery]) -> list[RegistryRowOut]:
    """The registry of the active organization, with the page's filters."""
    actor = actor_of(request)
    if params.sort.lstrip("-") not in SORT_KEYS:
        raise CareError(
            f"Sort by one of {', '.join(SORT_KEYS)} (prefix - to reverse).", field="sort"
        )
    filters = RegistryFilters(
        program=params.program,
        status=params.status,
        care_manager=params.care_manager,
        acuity=params.acuity,
        lead=params.lead,
        no_contact_days=params.no_contact_days,
        sort=params.sort,
    )
    rows = queries.registry_rows(actor, filters)
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({r.patient.pk for r in rows}),
        {"api": "care/registry", "filters": dataclasses.asdict(filters)},
    )
    return [_row(r) for r in rows]


@router.get("/patients/{patient_id}/enrollments", response=list[EnrollmentOut], tags=TAGS)
def list_enrollments(request: HttpRequest, patient_id: int) -> list[EnrollmentOut]:
    actor = actor_of(request)
    patient = access.get_patient_for_user(actor, patient_id)
    enrollments = access.care.visible_enrollments(actor).filter(patient=patient)
    log.record(actor, AuditAction.VIEW, patient=patient, detail={"api": "enrollments"})
    return [_enrollment(e) for e in enrollments]


@router.post("/patients/{patient_id}/enrollments", response={201: EnrollmentOut}, tags=TAGS)
def create_enrollment(
    request: HttpRequest, patient_id: int, payload: EnrollIn
) -> Status[EnrollmentOut]:
    actor = actor_of(request)
    patient = access.get_patient_for_editor(actor, patient_id)
    enrollment = enroll(
        actor,
        patient,
        program=payload.program,
        acuity=payload.acuity,
        care_manager=_care_manager(actor, payload.care_manager_id),
        status=payload.status,
        reason=payload.reason,
        on=payload.on,
    )
    return Status(201, _enrollment(enrollment))


@router.post(
    "/enrollments/{enrollment_id}/transitions",
    response=EnrollmentOut,
    tags=TAGS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": TransitionIn.model_json_schema()}},
        }
    },
)
def create_transition(request: HttpRequest, enrollment_id: int) -> EnrollmentOut:
    """Move an enrollment to a new status. The enrollment is looked up first, so a request
    about another organization's enrollment is answered 404 whatever its body."""
    actor = actor_of(request)
    enrollment = access.care.get_enrollment_for_editor(actor, enrollment_id)
    payload = _body(request, TransitionIn)
    moved = transition(
        actor,
        enrollment,
        payload.to_status,
        reason=payload.reason,
        effective_on=payload.effective_on,
    )
    return _enrollment(moved)


def _body(request: HttpRequest, schema: type[TransitionIn]) -> TransitionIn:
    try:
        return schema.model_validate_json(request.body or b"{}")
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise CareError(f"The request body is not valid: {problems}.") from None


@router.get("/patients/{patient_id}/interactions", response=list[InteractionOut], tags=TAGS)
def list_interactions(request: HttpRequest, patient_id: int) -> list[InteractionOut]:
    actor = actor_of(request)
    patient = access.get_patient_for_user(actor, patient_id)
    interactions = (
        access.care.visible_interactions(actor)
        .filter(patient=patient)
        .order_by("-occurred_at", "-id")
    )
    log.record(actor, AuditAction.VIEW, patient=patient, detail={"api": "interactions"})
    return [_interaction(i) for i in interactions]


@router.post("/patients/{patient_id}/interactions", response={201: InteractionOut}, tags=TAGS)
def create_interaction(
    request: HttpRequest, patient_id: int, payload: InteractionIn
) -> Status[InteractionOut]:
    actor = actor_of(request)
    patient = access.get_patient_for_editor(actor, patient_id)
    enrollment = None
    if payload.enrollment_id is not None:
        try:
            enrollment = access.care.get_enrollment_for_user(actor, payload.enrollment_id)
        except Http404:
            raise CareError(
                f"No enrollment {payload.enrollment_id} that you can see.", field="enrollment_id"
            ) from None
    interaction = log_interaction(
        actor,
        patient,
        kind=payload.kind,
        minutes=payload.minutes,
        occurred_at=payload.occurred_at,
        direction=payload.direction,
        reached=payload.reached,
        note=payload.note,
        enrollment=enrollment,
    )
    return Status(201, _interaction(interaction))


@router.get("/patients/{patient_id}/care-team", response=list[CareTeamMemberOut], tags=TAGS)
def list_care_team(request: HttpRequest, patient_id: int) -> list[CareTeamMemberOut]:
    actor = actor_of(request)
    patient = access.get_patient_for_user(actor, patient_id)
    log.record(actor, AuditAction.VIEW, patient=patient, detail={"api": "care-team"})
    return [_member(m) for m in current_team(actor, patient)]
