"""Screening, the community-resource directory and closed-loop referrals over the API: the
same scoring, actions, access policy and audit as the pages.

A community organization's staff get the referrals sent to it with the patient's name, phone
and the reason only (minimum necessary): no patient ID, no screening.
"""

from __future__ import annotations

import datetime
from typing import Any, TypeVar

import pydantic
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from caseboard import access
from caseboard.api.context import actor_of
from caseboard.care import screening as instruments
from caseboard.care.actions import referrals as actions
from caseboard.care.actions.screening import record_screening
from caseboard.care.errors import CareError
from caseboard.care.models import Referral, Screening
from caseboard.care.queries import referrals as queries

router = Router()
SCREENING = ["screening"]
REFERRALS = ["referrals"]
In = TypeVar("In", bound=Schema)


def _body(request: HttpRequest, schema: type[In]) -> In:
    """The JSON body, read only after the patient or referral was looked up through the access
    policy: a request about another organization's record is 404 whatever its body, and a bad
    body is 400 naming the field."""
    try:
        return schema.model_validate_json(request.body or b"{}")
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise CareError(
            f"The request body is not valid: {where}: {first['msg']}.", field=where
        ) from None


def _documented(schema: type[Schema]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema.model_json_schema()}},
        }
    }


# --- Screening ---------------------------------------------------------------------------


class SuggestionOut(Schema):
    kind: str
    title: str
    category: str
    instrument: str


class ScreeningOut(Schema):
    id: int
    patient_id: int
    instrument: str
    administered_on: datetime.date
    answers: dict[str, Any]
    score: int | None
    max_score: int | None
    interpretation: str
    positive: bool
    safety_flag: bool
    positive_domains: list[str]
    administered_by: str
    organization: str
    suggestions: list[SuggestionOut]


class ScreeningIn(Schema):
    instrument: str
    answers: dict[str, Any]
    administered_on: datetime.date | None = None


def _screening_out(s: Screening) -> ScreeningOut:
    steps = instruments.suggest(
        s.instrument,
        score=s.score,
        positive=s.positive,
        safety_flag=s.safety_flag,
        positive_domains=s.positive_domains,
    )
    return ScreeningOut(
        id=s.pk,
        patient_id=s.patient_id,
        instrument=s.instrument,
        administered_on=s.administered_on,
        answers=s.answers,
        score=s.score,
        max_score=instruments.definition(s.instrument).max_score,
        interpretation=s.interpretation,
        positive=s.positive,
        safety_flag=s.safety_flag,
        positive_domains=list(s.positive_domains),
        administered_by=s.administered_by.get_full_name() or s.administered_by.get_username(),
        organization=s.organization.name,
        suggestions=[
            SuggestionOut(kind=x.kind, title=x.title, category=x.category, instrument=x.instrument)
            for x in steps
        ],
    )


@router.get("/patients/{patient_id}/screenings", response=list[ScreeningOut], tags=SCREENING)
def list_screenings(request: HttpRequest, patient_id: int) -> list[ScreeningOut]:
    actor = actor_of(request)
    patient = access.get_patient_for_user(actor, patient_id)
    return [_screening_out(s) for s in queries.patient_screenings(actor, patient)]


@router.post(
    "/patients/{patient_id}/screenings",
    response={201: ScreeningOut},
    tags=SCREENING,
    openapi_extra=_documented(ScreeningIn),
)
def create_screening(request: HttpRequest, patient_id: int) -> Status[ScreeningOut]:
    """Score the answers by the instrument's published rules and record them; a missing or
    invalid answer is refused with 400 naming the item (`field`)."""
    actor = actor_of(request)
    patient = access.get_patient_for_editor(actor, patient_id)
    payload = _body(request, ScreeningIn)
    screening = record_screening(
        actor,
        patient,
        payload.instrument,
        payload.answers,
        administered_on=payload.administered_on,
    )
    return Status(201, _screening_out(screening))


# --- Directory ---------------------------------------------------------------------------


class ResourceOut(Schema):
    id: int
    name: str
    categories: list[str]
    description: str
    eligibility: str
    languages: str
    hours: str
    address: str
    city: str
    postal_code: str
    phone: str
    email: str
    website: str
    in_caseboard: bool
    maintained_by: str
    is_active: bool


class ResourceParams(Schema):
    q: str = ""
    category: str = ""
    city: str = ""
    language: str = ""


@router.get("/resources", response=list[ResourceOut], tags=REFERRALS)
def list_resources(request: HttpRequest, params: Query[ResourceParams]) -> list[ResourceOut]:
    found = queries.search_resources(
        actor_of(request),
        queries.DirectorySearch(
            words=params.q, category=params.category, city=params.city, language=params.language
        ),
    )[: queries.DIRECTORY_LIMIT]
    return [
        ResourceOut(
            id=r.pk,
            name=r.name,
            categories=list(r.categories),
            description=r.description,
            eligibility=r.eligibility,
            languages=r.languages,
            hours=r.hours,
            address=r.address,
            city=r.city,
            postal_code=r.postal_code,
            phone=r.phone,
            email=r.email,
            website=r.website,
            in_caseboard=r.organization_id is not None,
            maintained_by=r.maintained_by.name,
            is_active=r.is_active,
        )
        for r in found
    ]


# --- Referrals ---------------------------------------------------------------------------


class ReferralPatientOut(Schema):
    # None for a receiving community organization: it has no access to the chart.
    id: int | None
    name: str
    phone: str


class ReferralOut(Schema):
    id: int
    patient: ReferralPatientOut
    resource_id: int
    resource: str
    category: str
    reason: str
    status: str
    outcome: str
    outcome_note: str
    screening_id: int | None
    referred_by: str
    organization: str
    sent_at: datetime.datetime
    closed_at: datetime.datetime | None
    next_statuses: list[str]


class ReferralIn(Schema):
    resource_id: int
    category: str
    reason: str
    screening_id: int | None = None


class ReferralUpdateIn(Schema):
    status: str
    outcome: str = ""
    note: str = ""
    # How the organization told the referring side, when it does not use caseboard.
    reported_via: str = "phone"
    # The status the client last read; a change made since is refused with 409.
    expected_status: str | None = None


class ReferralUpdateOut(Schema):
    status: str
    note: str
    by: str
    organization: str
    at: datetime.datetime


class ReferralParams(Schema):
    status: str = queries.OPEN


def _referral_out(request: HttpRequest, r: Referral) -> ReferralOut:
    actor = actor_of(request)
    sees_chart = not queries.receives_referrals(actor)
    return ReferralOut(
        id=r.pk,
        patient=ReferralPatientOut(
            id=r.patient_id if sees_chart else None,
            name=r.patient.full_name,
            phone=r.patient.phone,
        ),
        resource_id=r.resource_id,
        resource=r.resource.name,
        category=r.category,
        reason=r.reason,
        status=r.status,
        outcome=r.outcome,
        outcome_note=r.outcome_note,
        screening_id=r.screening_id if sees_chart else None,
        referred_by=r.referred_by.get_full_name() or r.referred_by.get_username(),
        organization=r.organization.name,
        sent_at=r.sent_at,
        closed_at=r.closed_at,
        next_statuses=actions.next_statuses(actor, r),
    )


@router.get("/referrals", response=list[ReferralOut], tags=REFERRALS)
def list_referrals(request: HttpRequest, params: Query[ReferralParams]) -> list[ReferralOut]:
    """A community organization's referrals received; anyone else's sent by their
    organization. `status` is `open` (default), `all` or one status."""
    found = queries.referral_worklist(actor_of(request), status=params.status)
    return [_referral_out(request, r) for r in found]


@router.get("/patients/{patient_id}/referrals", response=list[ReferralOut], tags=REFERRALS)
def patient_referrals(request: HttpRequest, patient_id: int) -> list[ReferralOut]:
    actor = actor_of(request)
    patient = access.get_patient_for_user(actor, patient_id)
    return [_referral_out(request, r) for r in queries.patient_referrals(actor, patient)]


@router.post(
    "/patients/{patient_id}/referrals",
    response={201: ReferralOut},
    tags=REFERRALS,
    openapi_extra=_documented(ReferralIn),
)
def create_referral(request: HttpRequest, patient_id: int) -> Status[ReferralOut]:
    """Refer the patient to a program of the directory (status `sent`)."""
    actor = actor_of(request)
    patient = access.get_patient_for_editor(actor, patient_id)
    payload = _body(request, ReferralIn)
    resource = access.care.get_resource_for_user(actor, payload.resource_id)
    screening = (
        access.care.get_screening_for_user(actor, payload.screening_id)
        if payload.screening_id is not None
        else None
    )
    referral = actions.refer(
        actor,
        patient,
        resource,
        category=payload.category,
        reason=payload.reason,
        screening=screening,
    )
    return Status(201, _referral_out(request, referral))


@router.get("/referrals/{referral_id}/updates", response=list[ReferralUpdateOut], tags=REFERRALS)
def referral_updates(request: HttpRequest, referral_id: int) -> list[ReferralUpdateOut]:
    """The referral's timeline, oldest first."""
    referral = queries.referral_for_user(actor_of(request), referral_id)
    return [
        ReferralUpdateOut(
            status=u.status,
            note=u.note,
            by=u.by.get_full_name() or u.by.get_username(),
            organization=u.by_organization.name,
            at=u.at,
        )
        for u in referral.updates.select_related("by", "by_organization")
    ]


@router.post(
    "/referrals/{referral_id}/updates",
    response=ReferralOut,
    tags=REFERRALS,
    openapi_extra=_documented(ReferralUpdateIn),
)
def update_referral(request: HttpRequest, referral_id: int) -> ReferralOut:
    """Move the referral along its loop (`next_statuses` says where it may go); closing it
    (completed, declined, cancelled) needs an `outcome`."""
    actor = actor_of(request)
    referral = access.care.get_referral_for_editor(actor, referral_id)
    payload = _body(request, ReferralUpdateIn)
    updated = actions.update_referral(
        actor,
        referral,
        payload.status,
        outcome=payload.outcome,
        note=payload.note,
        reported_via=payload.reported_via,
        expected_status=payload.expected_status,
    )
    return _referral_out(request, updated)
