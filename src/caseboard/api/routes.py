"""The JSON API. Same access policy and audit as the pages; session auth."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Schema
from ninja.security import django_auth

from caseboard import access
from caseboard.api import (
    care_plan,
    care_referrals,
    care_registry,
    care_tasks,
    conference,
    conference_mode,
    transitions,
)
from caseboard.api.context import actor_of
from caseboard.api.schemas import (
    AttributionOut,
    CoverageOut,
    DirectoryEntryOut,
    IdentifierOut,
    MeOut,
    OrganizationOut,
    PartnershipOut,
    PatientOut,
    PatientSummaryOut,
)
from caseboard.care.errors import CareError, StaleVersion
from caseboard.orgs import queries as org_queries
from caseboard.orgs.models import Membership, Organization
from caseboard.patients import queries as patient_queries

api = NinjaAPI(title="caseboard", version="1", auth=django_auth)


_actor = actor_of


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(StaleVersion)
def _stale(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=409)


@api.exception_handler(CareError)
def _refused(request: HttpRequest, exc: CareError) -> HttpResponse:
    body = {"detail": exc.message, "field": exc.field}
    return api.create_response(request, body, status=400)


for _router in (
    care_registry.router,
    care_plan.router,
    care_tasks.router,
    care_referrals.router,
    conference.router,
    conference_mode.router,
    transitions.router,
):
    api.add_router("", _router)


def _org(org: Organization) -> OrganizationOut:
    return OrganizationOut(id=org.pk, name=org.name, kind=org.kind)


class SearchParams(Schema):
    q: str = ""


@api.get("/me", response=MeOut, tags=["account"])
def me(request: HttpRequest) -> MeOut:
    actor = _actor(request)
    memberships = Membership.objects.select_related("organization").filter(
        user=actor.user, is_active=True
    )
    return MeOut(
        username=actor.user.get_username(),
        active_organization=_org(actor.organization),
        role=actor.role,
        organizations=[_org(m.organization) for m in memberships],
    )


@api.get("/patients", response=list[PatientSummaryOut], tags=["patients"])
def search_patients(request: HttpRequest, params: Query[SearchParams]) -> list[PatientSummaryOut]:
    found = patient_queries.search_patients(_actor(request), params.q)
    return [PatientSummaryOut.from_orm(p) for p in found]


@api.get("/patients/{patient_id}", response=PatientOut, tags=["patients"])
def get_patient(request: HttpRequest, patient_id: int) -> PatientOut:
    profile = patient_queries.patient_profile(_actor(request), patient_id)
    p = profile.patient
    return PatientOut(
        id=p.pk,
        given_name=p.given_name,
        family_name=p.family_name,
        birth_date=p.birth_date,
        sex=p.sex,
        address=p.address,
        city=p.city,
        state=p.state,
        postal_code=p.postal_code,
        phone=p.phone,
        email=p.email,
        primary_language=p.primary_language,
        social_needs=list(p.social_needs),
        identifiers=[
            IdentifierOut(organization=i.organization.name, kind=i.kind, value=i.value)
            for i in profile.identifiers
        ],
        coverage=[
            CoverageOut(
                plan=c.plan.name,
                product=c.product,
                medicaid_coverage_level=c.medicaid_coverage_level,
                start_date=c.start_date,
                end_date=c.end_date,
                next_insurer=c.next_insurer,
            )
            for c in profile.coverage
        ],
        attribution=[
            AttributionOut(
                organization=a.organization.name,
                pcp=str(a.pcp) if a.pcp else None,
                pcp_npi=a.pcp.npi if a.pcp else None,
                start_date=a.start_date,
                end_date=a.end_date,
                last_seen_on=a.last_seen_on,
            )
            for a in profile.attribution
        ],
    )


@api.get("/partnerships", response=list[PartnershipOut], tags=["organizations"])
def list_partnerships(request: HttpRequest) -> list[PartnershipOut]:
    return [
        PartnershipOut(id=p.pk, plan=_org(p.plan), partner=_org(p.partner), started_on=p.started_on)
        for p in access.visible_partnerships(_actor(request))
    ]


@api.get(
    "/partnerships/{partnership_id}/directory",
    response=list[DirectoryEntryOut],
    tags=["organizations"],
)
def team_directory(request: HttpRequest, partnership_id: int) -> list[DirectoryEntryOut]:
    _, members = org_queries.team_directory(_actor(request), partnership_id)
    return [
        DirectoryEntryOut(
            name=m.user.get_full_name() or m.user.get_username(),
            organization=m.organization.name,
            role=m.get_role_display(),
            position=m.position,
            email=m.user.email,
            phone=m.phone,
        )
        for m in members
    ]
