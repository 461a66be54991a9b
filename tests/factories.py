"""Small builders for test data; each test makes just what it needs."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth.models import User

from caseboard.access import Actor
from caseboard.care.models import (
    Barrier,
    CarePlan,
    CareTeamMember,
    CommunityResource,
    Enrollment,
    Goal,
    Intervention,
    Notification,
    PatientSurvey,
    Referral,
    ReferralUpdate,
    Screening,
    StaffSurvey,
    Task,
)
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


# --- Care management ---------------------------------------------------------------------


def make_enrollment(
    patient: Patient,
    organization: Organization,
    care_manager: User,
    *,
    program: str = "practice_cm",
    status: str = "enrolled",
    on: datetime.date = datetime.date(2026, 9, 1),
) -> Enrollment:
    return Enrollment.objects.create(
        patient=patient,
        program=program,
        lead_organization=organization,
        care_manager=care_manager,
        status=status,
        status_since=on,
        identified_on=on,
        created_by=care_manager,
    )


def make_care_plan(patient: Patient) -> CarePlan:
    plan, _ = CarePlan.objects.get_or_create(patient=patient)
    return plan


def make_goal(
    patient: Patient, user: User, organization: Organization, statement: str = "Walk daily"
) -> Goal:
    return Goal.objects.create(
        care_plan=make_care_plan(patient),
        statement=statement,
        created_by=user,
        created_by_organization=organization,
    )


def make_barrier(patient: Patient, user: User) -> Barrier:
    return Barrier.objects.create(
        care_plan=make_care_plan(patient),
        kind="transportation",
        description="No car; bus takes 90 minutes",
        created_by=user,
    )


def make_intervention(patient: Patient, user: User) -> Intervention:
    return Intervention.objects.create(
        care_plan=make_care_plan(patient),
        description="Arrange rides to appointments",
        responsible_user=user,
        created_by=user,
    )


def make_task(
    organization: Organization,
    user: User,
    *,
    patient: Patient | None = None,
    due_on: datetime.date = datetime.date(2026, 12, 1),
    title: str = "Call patient",
) -> Task:
    return Task.objects.create(
        title=title,
        patient=patient,
        owner_organization=organization,
        owner_user=user,
        due_on=due_on,
        created_by=user,
        created_by_organization=organization,
    )


def make_notification(user: User, organization: Organization) -> Notification:
    return Notification.objects.create(
        user=user, organization=organization, kind="test", title="Something happened"
    )


def make_screening(patient: Patient, organization: Organization, user: User) -> Screening:
    return Screening.objects.create(
        patient=patient,
        instrument="phq2",
        answers={"q1": 1, "q2": 1},
        score=2,
        interpretation="Negative screen",
        positive=False,
        administered_on=datetime.date(2026, 10, 1),
        administered_by=user,
        organization=organization,
    )


def make_resource(
    maintained_by: Organization,
    *,
    name: str = "Greater Boston Food Bank",
    categories: tuple[str, ...] = ("food",),
    receiving: Organization | None = None,
) -> CommunityResource:
    return CommunityResource.objects.create(
        name=name,
        maintained_by=maintained_by,
        organization=receiving,
        categories=list(categories),
        city="Boston",
        phone="6175550199",
    )


def make_referral(
    patient: Patient, resource: CommunityResource, organization: Organization, user: User
) -> Referral:
    referral = Referral.objects.create(
        patient=patient,
        resource=resource,
        category=resource.categories[0] if resource.categories else "other",
        reason="Food insecurity on screening",
        referred_by=user,
        organization=organization,
    )
    ReferralUpdate.objects.create(
        referral=referral, status="sent", by=user, by_organization=organization
    )
    return referral


def make_care_team_member(
    patient: Patient, organization: Organization, user: User
) -> CareTeamMember:
    return CareTeamMember.objects.create(
        patient=patient,
        user=user,
        organization=organization,
        role=Role.CLINICAL_CARE_MANAGER,
        is_lead=True,
        started_on=datetime.date(2026, 9, 1),
        added_by=user,
        added_by_organization=organization,
    )


def make_patient_survey(enrollment: Enrollment) -> PatientSurvey:
    return PatientSurvey.objects.create(
        enrollment=enrollment,
        patient=enrollment.patient,
        kind="enrollment",
        due_on=enrollment.status_since,
    )


def make_staff_survey(user: User, organization: Organization) -> StaffSurvey:
    return StaffSurvey.objects.create(
        user=user,
        organization=organization,
        period_start=datetime.date(2026, 7, 1),
        due_on=datetime.date(2026, 12, 31),
    )
