"""Small builders for test data; each test makes just what it needs."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth.models import User

from caseboard.access import Actor
from caseboard.orgs.models import Membership, Organization, OrganizationKind, Partnership, Role
from caseboard.patients.models import (
    AttributionSpan,
    CoverageSpan,
    IdentifierKind,
    Patient,
    PatientIdentifier,
    Provider,
)

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)
LONG_AGO = datetime.date(2020, 1, 1)


def make_org(kind: str = OrganizationKind.PRACTICE, name: str | None = None) -> Organization:
    n = next(_seq)
    return Organization.objects.create(kind=kind, name=name or f"{kind} {n}", phone="6175550100")


def make_partnership(plan: Organization, partner: Organization) -> Partnership:
    return Partnership.objects.create(plan=plan, partner=partner, started_on=LONG_AGO)


def make_user(
    org: Organization,
    role: str = Role.CLINICAL_CARE_MANAGER,
    *,
    username: str | None = None,
    admin: bool = False,
) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}",
        password=PASSWORD,
        first_name="Test",
        last_name="User",
        email="t@example.org",
    )
    Membership.objects.create(user=user, organization=org, role=role, administers=admin)
    return user


def actor_for(user: User, org: Organization | None = None) -> Actor:
    return Actor.for_user(user, org.pk if org else None)


def make_patient(
    *,
    plan: Organization | None = None,
    practice: Organization | None = None,
    given_name: str = "Maria",
    family_name: str | None = None,
    birth_date: datetime.date = datetime.date(1970, 5, 17),
    member_id: str | None = None,
    mrn: str | None = None,
    coverage_end: datetime.date | None = None,
    attribution_end: datetime.date | None = None,
    pcp: Provider | None = None,
    last_seen_on: datetime.date | None = None,
) -> Patient:
    n = next(_seq)
    patient = Patient.objects.create(
        given_name=given_name,
        family_name=family_name or f"Family{n}",
        birth_date=birth_date,
        sex="female",
        phone="(617) 555-0123",
        city="Boston",
        state="MA",
    )
    if plan is not None:
        CoverageSpan.objects.create(
            patient=patient,
            plan=plan,
            start_date=LONG_AGO,
            end_date=coverage_end,
            product="MassHealth ACO",
            medicaid_coverage_level="Standard",
        )
        PatientIdentifier.objects.create(
            patient=patient,
            organization=plan,
            kind=IdentifierKind.MEMBER_ID,
            value=member_id or f"M{n:07d}",
        )
    if practice is not None:
        AttributionSpan.objects.create(
            patient=patient,
            organization=practice,
            start_date=LONG_AGO,
            end_date=attribution_end,
            pcp=pcp,
            last_seen_on=last_seen_on,
        )
        PatientIdentifier.objects.create(
            patient=patient,
            organization=practice,
            kind=IdentifierKind.MRN,
            value=mrn or f"MRN{n:06d}",
        )
    return patient


def make_provider(practice: Organization, npi: str = "1234567893") -> Provider:
    return Provider.objects.create(
        npi=npi, name="Ada Morales", credential="MD", organization=practice
    )
