"""The demo's care-management state is made through the app's own actions and is usable."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from tests.conftest import login

from caseboard.care.models import (
    CarePlan,
    Enrollment,
    EnrollmentStatus,
    Interaction,
    PatientSurvey,
    Referral,
    ReferralStatus,
    StaffSurvey,
    Task,
)
from caseboard.conference.models import (
    AgendaItem,
    AgendaKind,
    Conference,
    ConferenceSeries,
    ConferenceStatus,
    Discussion,
    DiscussionOutcome,
    HighRiskEntry,
    TrackingEntry,
)
from caseboard.demo.care import load_care
from caseboard.demo.load import load_population
from caseboard.demo.population import Population, generate
from caseboard.orgs.models import Organization, OrganizationKind
from caseboard.patients.models import PlanRanking


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(members=600, seed=7)


def _rank_every_attributed_member(plan: Organization) -> None:
    """Stand-in for `analytics publish`: a ranking of each practice's attributed members."""
    ranked: set[int] = set()
    for practice in Organization.objects.filter(kind=OrganizationKind.PRACTICE):
        current = practice.attribution_spans.filter(end_date__isnull=True)
        patients = set(current.values_list("patient_id", flat=True)) - ranked
        ranked |= patients
        PlanRanking.objects.bulk_create(
            PlanRanking(
                plan=plan,
                practice=practice,
                patient_id=pid,
                rank=n,
                score=1.0 / n,
                model_version="test",
                drivers=["2 ED visits in 12 months"],
                as_of=datetime.date(2026, 9, 30),
            )
            for n, pid in enumerate(sorted(patients), start=1)
        )


@pytest.mark.django_db
def test_demo_care_builds_registries_plans_tasks_and_a_closed_referral(
    population: Population,
) -> None:
    load_population(population)
    plan = Organization.objects.get(kind=OrganizationKind.HEALTH_PLAN)
    _rank_every_attributed_member(plan)

    made = load_care(seed=3, per_practice=10)

    assert made.enrollments == Enrollment.objects.count() > 0
    statuses = set(Enrollment.objects.values_list("status", flat=True))
    assert {EnrollmentStatus.ENROLLED, EnrollmentStatus.MONITOR} <= statuses
    # Every enrollment past "identified" got there through recorded transitions.
    for enrollment in Enrollment.objects.exclude(status=EnrollmentStatus.IDENTIFIED):
        assert enrollment.transitions.last().to_status == enrollment.status
    assert Interaction.objects.count() == made.interactions > 0
    assert CarePlan.objects.filter(goals__isnull=False).distinct().count() == made.goals
    assert Task.objects.count() >= made.tasks > 0
    assert PatientSurvey.objects.filter(status="completed").exists()
    assert StaffSurvey.objects.exists()
    assert Referral.objects.filter(status=ReferralStatus.COMPLETED).exists()
    assert HighRiskEntry.objects.filter(removed_at__isnull=True).exists()
    assert made.series == ConferenceSeries.objects.count() > 0
    assert AgendaItem.objects.exists()
    # Last week's call: decided in conference mode, summarized and sent on time; its
    # follow-up opens this week's agenda (seed 004 step 5d).
    held = Conference.objects.get(status=ConferenceStatus.HELD)
    outcomes = set(
        Discussion.objects.filter(agenda_item__conference=held).values_list("outcome", flat=True)
    )
    assert outcomes == {DiscussionOutcome.DECIDED, DiscussionOutcome.TRACKING}
    assert held.summary.sent_at is not None and not held.summary.is_late(held.summary.sent_at)
    assert TrackingEntry.objects.filter(removed_at__isnull=True).count() == 1
    upcoming = Conference.objects.get(series=held.series, status=ConferenceStatus.SCHEDULED)
    first = upcoming.agenda_items.order_by("position").first()
    assert first is not None and first.kind == AgendaKind.FOLLOW_UP


@pytest.mark.django_db
def test_demo_care_manager_sees_the_registry_and_tasks(population: Population) -> None:
    load_population(population)
    _rank_every_attributed_member(Organization.objects.get(kind=OrganizationKind.HEALTH_PLAN))
    load_care(seed=3, per_practice=10)
    client = login(Client(), User.objects.get(username="p1.rn"))
    registry = client.get("/care/registry/")
    assert registry.status_code == 200
    enrolled = Enrollment.objects.filter(care_manager__username="p1.rn").first()
    assert enrolled is not None
    assert enrolled.patient.family_name.encode() in registry.content
    assert client.get("/care/tasks/").status_code == 200


def test_a_contact_made_today_is_never_later_than_now() -> None:
    from django.utils import timezone

    from caseboard.demo.care import _moment

    zone = timezone.get_current_timezone()
    latest = _moment(timezone.localdate(), 0, 23, zone)
    assert latest <= timezone.now()
    assert _moment(timezone.localdate(), 3, 9, zone).hour == 9
