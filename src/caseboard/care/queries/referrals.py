"""Reads for screening, the community-resource directory and referrals, each starting from
`caseboard.access`, with the audit events the reads call for."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.models import (
    CLOSED_REFERRAL_STATUSES,
    CommunityResource,
    Referral,
    ReferralStatus,
    Screening,
    ServiceCategory,
)
from caseboard.orgs.models import OrganizationKind
from caseboard.patients.models import Patient

DIRECTORY_LIMIT = 100
LIST_LIMIT = 200
OPEN = "open"
ALL = "all"


# --- Screening ---------------------------------------------------------------------------


def patient_screenings(actor: Actor, patient: Patient) -> list[Screening]:
    """The patient's screenings the actor may see, newest first (one audited read)."""
    found = list(access.care.visible_screenings(actor).filter(patient=patient))
    log.record(
        actor, AuditAction.VIEW, patient=patient, obj=patient, detail={"screenings": len(found)}
    )
    return found


def screening_for_user(actor: Actor, screening_id: int | str) -> Screening:
    screening = access.care.get_screening_for_user(actor, screening_id)
    log.record(actor, AuditAction.VIEW, patient=screening.patient, obj=screening)
    return screening


# --- Directory ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectorySearch:
    words: str = ""
    category: str = ""
    city: str = ""
    language: str = ""
    include_inactive: bool = False


def _with_category(category: str) -> Q:
    # Stored as a JSON list; matching its text form works the same on SQLite and PostgreSQL.
    return Q(categories_text__contains=f'"{category}"')


def search_resources(actor: Actor, search: DirectorySearch) -> QuerySet[CommunityResource]:
    """Listings the actor may see matching every word (name, description, eligibility, hours,
    services) and the category, city and language chosen."""
    resources = (
        access.care.visible_resources(actor)
        .select_related("maintained_by", "organization")
        .annotate(categories_text=Cast("categories", TextField()))
    )
    if not search.include_inactive:
        resources = resources.filter(is_active=True)
    for word in search.words.split():
        services = Q()
        for value, label in ServiceCategory.choices:
            if word.lower() in str(label).lower() or word.lower() in value:
                services |= _with_category(value)
        resources = resources.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(eligibility__icontains=word)
            | Q(maintained_by__name__icontains=word)
            | services
        )
    if search.category:
        resources = resources.filter(_with_category(search.category))
    if search.city.strip():
        resources = resources.filter(city__icontains=search.city.strip())
    if search.language.strip():
        resources = resources.filter(languages__icontains=search.language.strip())
    return resources.order_by("name", "pk")


# --- Referrals ---------------------------------------------------------------------------


def _open_first(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.annotate(
        closed_rank=Case(
            When(status__in=list(CLOSED_REFERRAL_STATUSES), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("closed_rank", "-sent_at", "-pk")


def _by_status(referrals: QuerySet[Referral], status: str) -> QuerySet[Referral]:
    if status == OPEN:
        return referrals.exclude(status__in=list(CLOSED_REFERRAL_STATUSES))
    if status in ReferralStatus.values:
        return referrals.filter(status=status)
    return referrals


def patient_referrals(actor: Actor, patient: Patient) -> list[Referral]:
    """The patient's referrals the actor may see, open ones first (one audited read)."""
    found = list(
        _open_first(
            access.care.visible_referrals(actor)
            .filter(patient=patient)
            .select_related("resource__organization", "screening")
        )
    )
    log.record(
        actor, AuditAction.VIEW, patient=patient, obj=patient, detail={"referrals": len(found)}
    )
    return found


def receives_referrals(actor: Actor) -> bool:
    return actor.organization.kind == OrganizationKind.CBO


def referral_worklist(actor: Actor, *, status: str = OPEN) -> list[Referral]:
    """A community organization's referrals received; anyone else's sent by their own
    organization. Open ones first; each patient listed is an audited read."""
    referrals = access.care.visible_referrals(actor).select_related("resource__organization")
    if receives_referrals(actor):
        referrals = referrals.filter(resource__organization_id=actor.organization.pk)
    else:
        referrals = referrals.filter(organization_id=actor.organization.pk)
    found = list(_open_first(_by_status(referrals, status))[:LIST_LIMIT])
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({r.patient_id for r in found}),
        {"referrals": [r.pk for r in found], "status": status},
    )
    return found


def referral_for_user(actor: Actor, referral_id: int | str) -> Referral:
    referral = access.care.get_referral_for_user(actor, referral_id)
    log.record(actor, AuditAction.VIEW, patient=referral.patient, obj=referral)
    return referral
