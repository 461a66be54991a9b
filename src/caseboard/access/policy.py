from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from caseboard.orgs.models import Membership, Organization, OrganizationKind, Partnership, Role
from caseboard.patients.models import (
    AttributionSpan,
    ClaimsFacts,
    CoverageSpan,
    Patient,
    PatientIdentifier,
    PlanRanking,
    RiskScore,
)

# Practice facilitators support quality improvement (seed 000), not individual patients' care:
# they may read, never change, patient records.
READ_ONLY_ROLES = frozenset({Role.PRACTICE_FACILITATOR})


class NoActiveOrganization(PermissionDenied):
    """The user belongs to no active organization, so sees no patient at all."""


@dataclass(frozen=True)
class Actor:
    """A signed-in user acting for one of their organizations."""

    user: User
    membership: Membership

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def is_admin(self) -> bool:
        return self.membership.is_admin

    @cached_property
    def sharing_ids(self) -> frozenset[int]:
        # One query per request: a profile asks for it for every kind of record it shows.
        return _sharing_ids(self)

    @property
    def can_edit_patients(self) -> bool:
        return self.membership.role not in READ_ONLY_ROLES

    @classmethod
    def for_user(cls, user: User | AnonymousUser, organization_id: int | None = None) -> Actor:
        """The user's membership in `organization_id`, or their first active one."""
        if isinstance(user, AnonymousUser) or not user.is_authenticated:
            raise NoActiveOrganization("Sign in first.")
        memberships = Membership.objects.select_related("organization").filter(
            user=user, is_active=True
        )
        if organization_id is not None:
            chosen = memberships.filter(organization_id=organization_id).first()
            if chosen is not None:
                return cls(user=user, membership=chosen)
        first = memberships.order_by("organization__name").first()
        if first is None:
            raise NoActiveOrganization("Your account belongs to no active organization.")
        return cls(user=user, membership=first)


M = TypeVar("M", bound=Model)


def one_or_404(queryset: QuerySet[M], pk: int | str, what: str) -> M:
    """The object of `queryset` with this key, or Http404 alike for missing and forbidden ones,
    so that object IDs leak nothing."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None
    found = queryset.filter(pk=key).first()
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def _today() -> datetime.date:
    return timezone.localdate()


def _active_on(day: datetime.date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


def visible_partnerships(actor: Actor) -> QuerySet[Partnership]:
    today = _today()
    org = actor.organization
    return (
        Partnership.objects.select_related("plan", "partner")
        .filter(Q(plan=org) | Q(partner=org))
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today), started_on__lte=today)
    )


def sharing_organization_ids(actor: Actor) -> frozenset[int]:
    """The actor's organization and every organization it is in an active partnership with."""
    return actor.sharing_ids


def _sharing_ids(actor: Actor) -> frozenset[int]:
    ids = {actor.organization.pk}
    for plan_id, partner_id in visible_partnerships(actor).values_list("plan_id", "partner_id"):
        ids.update((plan_id, partner_id))
    return frozenset(ids)


def visible_patients(actor: Actor) -> QuerySet[Patient]:
    org = actor.organization
    if org.kind == OrganizationKind.HEALTH_PLAN:
        # A plan keeps seeing members whose coverage ended: it follows up on them (004 step 6a).
        matching = Patient.objects.filter(coverage_spans__plan=org)
    elif org.kind in (OrganizationKind.PRACTICE, OrganizationKind.CBCME):
        spans = AttributionSpan.objects.filter(_active_on(_today()), organization=org)
        matching = Patient.objects.filter(pk__in=spans.values("patient_id"))
    else:
        # Community organizations receive referrals, not panels.
        return Patient.objects.none()
    return Patient.objects.filter(pk__in=matching.values("pk"))


def get_patient_for_user(actor: Actor, patient_id: int | str) -> Patient:
    """The patient, or Http404 when it does not exist or the actor may not see it."""
    try:
        pk = int(patient_id)
    except (TypeError, ValueError):
        raise Http404("No such patient.") from None
    patient = visible_patients(actor).filter(pk=pk).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def get_patient_for_editor(actor: Actor, patient_id: int | str) -> Patient:
    """Like `get_patient_for_user`, and PermissionDenied for a visible but read-only patient."""
    patient = get_patient_for_user(actor, patient_id)
    if not actor.can_edit_patients:
        raise PermissionDenied("Your role may read this patient's record but not change it.")
    return patient


def get_partnership_for_user(actor: Actor, partnership_id: int | str) -> Partnership:
    try:
        pk = int(partnership_id)
    except (TypeError, ValueError):
        raise Http404("No such partnership.") from None
    partnership = visible_partnerships(actor).filter(pk=pk).first()
    if partnership is None:
        raise Http404("No such partnership.")
    return partnership


def visible_identifiers(actor: Actor, patient: Patient) -> QuerySet[PatientIdentifier]:
    return patient.identifiers.select_related("organization").filter(
        organization_id__in=sharing_organization_ids(actor)
    )


def visible_coverage(actor: Actor, patient: Patient) -> QuerySet[CoverageSpan]:
    return patient.coverage_spans.select_related("plan").filter(
        plan_id__in=sharing_organization_ids(actor)
    )


def visible_attribution(actor: Actor, patient: Patient) -> QuerySet[AttributionSpan]:
    spans = patient.attribution_spans.select_related("organization", "pcp")
    if actor.organization.kind == OrganizationKind.HEALTH_PLAN:
        # The plan assigns PCPs to its members, so it knows every attribution of theirs.
        return spans
    return spans.filter(organization_id__in=sharing_organization_ids(actor))


def visible_risk_scores(actor: Actor, patient: Patient) -> QuerySet[RiskScore]:
    """The plan's claims-based results reach its own staff and its partners' for the patient."""
    return patient.risk_scores.filter(plan_id__in=sharing_organization_ids(actor))


def visible_plan_ranking(actor: Actor, patient: Patient) -> QuerySet[PlanRanking]:
    return patient.plan_rankings.select_related("plan", "practice").filter(
        plan_id__in=sharing_organization_ids(actor)
    )


def visible_claims_facts(actor: Actor, patient: Patient) -> QuerySet[ClaimsFacts]:
    return patient.claims_facts.select_related("plan").filter(
        plan_id__in=sharing_organization_ids(actor)
    )
