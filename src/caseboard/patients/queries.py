"""Reads of patient data, each starting from the access policy."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.patients.models import (
    AttributionSpan,
    ClaimsFacts,
    CoverageSpan,
    Patient,
    PatientIdentifier,
    PlanRanking,
    RiskScore,
)

SEARCH_LIMIT = 50
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")


def parse_date(text: str) -> datetime.date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def matching_words(actor: Actor, patients: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """`patients` narrowed to those matching every word of `query`: a date is a date of birth,
    any other word starts a given or family name or is an identifier a sharing organization
    issued. `patients` must already come from the access policy."""
    sharing = access.sharing_organization_ids(actor)
    for word in query.split():
        born = parse_date(word)
        if born is not None:
            patients = patients.filter(birth_date=born)
            continue
        identified = PatientIdentifier.objects.filter(
            value__iexact=word, organization_id__in=sharing
        ).values("patient_id")
        patients = patients.filter(
            Q(family_name__istartswith=word)
            | Q(given_name__istartswith=word)
            | Q(pk__in=identified)
        )
    return patients


def search_patients(actor: Actor, query: str) -> list[Patient]:
    """Patients matching every word of `query` (name, date of birth or identifier).

    Each patient shown is recorded in the audit log: a result list is a read of their data.
    """
    if not query.split():
        return []
    patients = matching_words(actor, access.visible_patients(actor), query)
    found = list(patients.order_by("family_name", "given_name", "birth_date")[:SEARCH_LIMIT])
    log.record_many(actor, AuditAction.SEARCH, [p.pk for p in found], {"query": query})
    return found


@dataclass(frozen=True)
class PatientProfile:
    patient: Patient
    identifiers: list[PatientIdentifier]
    coverage: list[CoverageSpan]
    attribution: list[AttributionSpan]
    risk_scores: list[RiskScore]
    rankings: list[PlanRanking]
    claims_facts: list[ClaimsFacts]
    today: datetime.date

    @property
    def age(self) -> int:
        return self.patient.age_on(self.today)

    @property
    def current_coverage(self) -> CoverageSpan | None:
        return next((c for c in self.coverage if c.is_active_on(self.today)), None)

    @property
    def current_attribution(self) -> AttributionSpan | None:
        return next((a for a in self.attribution if a.is_active_on(self.today)), None)

    @property
    def months_since_last_seen(self) -> int | None:
        span = self.current_attribution
        if span is None or span.last_seen_on is None:
            return None
        seen = span.last_seen_on
        return (self.today.year - seen.year) * 12 + self.today.month - seen.month


def patient_profile(actor: Actor, patient_id: int | str) -> PatientProfile:
    patient = access.get_patient_for_user(actor, patient_id)
    log.record(actor, AuditAction.VIEW, patient=patient, obj=patient, detail={"page": "profile"})
    return PatientProfile(
        patient=patient,
        identifiers=list(access.visible_identifiers(actor, patient)),
        coverage=list(access.visible_coverage(actor, patient)),
        attribution=list(access.visible_attribution(actor, patient)),
        risk_scores=list(access.visible_risk_scores(actor, patient)),
        rankings=list(access.visible_plan_ranking(actor, patient)),
        claims_facts=list(access.visible_claims_facts(actor, patient)),
        today=timezone.localdate(),
    )
