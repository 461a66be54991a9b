"""A lived-in care-management state for the demo: the practice care managers' registries, care
plans, calls, tasks, screenings and referrals, made through the same actions the app uses.

Dates are relative to today, so the demo always shows this month's time, overdue tasks and
surveys due, whenever it is built. The choices are random but seeded: the same seed builds the
same state.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from caseboard.access import Actor
from caseboard.care.actions import (
    careplan,
    enrollment,
    interactions,
    referrals,
    screening,
    surveys,
    tasks,
)
from caseboard.care.actions.care_team import make_care_team_lead
from caseboard.care.models import (
    CarePlan,
    CareTeamMember,
    CommunityResource,
    Enrollment,
    EnrollmentStatus,
    InteractionKind,
    PatientSurveyKind,
    Program,
    ReferralOutcome,
    ReferralStatus,
)
from caseboard.conference import calls
from caseboard.conference.actions import refresh_plan_list
from caseboard.demo.conference_call import hold_last_weeks_call
from caseboard.demo.load import CBO_NAME
from caseboard.orgs.models import Membership, Organization, OrganizationKind, Partnership, Role
from caseboard.patients.models import Patient, PlanRanking

# Fictional listings in the demo plan's service area, one or more services each.
RESOURCES = [
    ("Merrimack Valley Food Pantry Network", ["food"], "Lawrence", "English, Spanish"),
    ("Greater Lowell Emergency Housing Line", ["housing"], "Lowell", "English, Khmer, Spanish"),
    ("RideWell Medical Transportation", ["transportation"], "Boston", "English, Portuguese"),
    ("Heat & Light Fuel Assistance", ["utilities"], "Lawrence", "English, Spanish"),
    ("SafeHarbor Domestic Violence Services", ["safety"], "Boston", "English, Spanish, Haitian"),
    ("Harbor Counseling Center", ["behavioral_health"], "Quincy", "English, Vietnamese"),
    ("Bridge Recovery Peer Center", ["behavioral_health"], "Worcester", "English, Spanish"),
    ("Neighborhood Meals on Wheels", ["food"], "Lowell", "English"),
    ("Tenant Advocacy Project", ["housing"], "Boston", "English, Cape Verdean Creole"),
]

GOALS = [
    ("I want to walk to church on Sundays without getting out of breath.", "physical"),
    ("I want to keep my sugar under control so I can see my grandkids grow up.", "self_management"),
    ("I want a safe place to live before winter.", "social"),
    ("I want to stop ending up in the ER when my breathing gets bad.", "access"),
    ("I want to feel less down and get out of the house more.", "behavioral"),
]
BARRIERS = [
    ("transportation", "No car; the bus to the clinic takes 90 minutes each way."),
    ("cost", "Copays for inhalers are hard to afford at the end of the month."),
    ("language", "Prefers Spanish; written instructions are in English."),
    ("housing", "Staying with a cousin; may have to leave soon."),
]
CALL_KINDS = [
    InteractionKind.PHONE,
    InteractionKind.PHONE,
    InteractionKind.IN_PERSON,
    InteractionKind.NON_FACE_TO_FACE,
]
CALL_NOTES = [
    "Reviewed medications; patient reports taking them as prescribed.",
    "Left voicemail with call-back number.",
    "Discussed upcoming appointment and arranged a ride.",
    "Patient reports feeling better; reviewed warning signs.",
    "Coordinated with pharmacy about refill timing.",
]


@dataclass
class DemoCareSummary:
    enrollments: int
    interactions: int
    goals: int
    tasks: int
    referrals: int
    resources: int
    series: int = 0


def _actor(username: str, organization: Organization) -> Actor:
    user = User.objects.get(username=username)
    return Actor(user=user, membership=Membership.objects.get(user=user, organization=organization))


def _moment(
    today: datetime.date, days_ago: int, hour: int, zone: datetime.tzinfo
) -> datetime.datetime:
    """A working hour `days_ago` days back; a contact "today" is never later than now."""
    day = today - datetime.timedelta(days=days_ago)
    moment = datetime.datetime.combine(day, datetime.time(hour, 15), tzinfo=zone)
    return min(moment, timezone.now() - datetime.timedelta(minutes=5))


@transaction.atomic
def load_care(seed: int = 42, *, per_practice: int = 25) -> DemoCareSummary:
    rng = random.Random(seed)
    today = timezone.localdate()
    plan = Organization.objects.get(kind=OrganizationKind.HEALTH_PLAN)
    cbo = Organization.objects.get(name=CBO_NAME)
    directory = [
        CommunityResource.objects.create(
            name=name,
            maintained_by=plan,
            # The demo CBO works in caseboard: referrals to its pantry reach its intake staff.
            organization=cbo if n == 0 else None,
            categories=categories,
            city=city,
            languages=languages,
            phone=f"(978) 555-01{n + 10:02d}",
            hours="Mon–Fri 9–5",
            description=f"Serves MassHealth members in and around {city}.",
        )
        for n, (name, categories, city, languages) in enumerate(RESOURCES)
    ]
    food_bank = directory[0]
    counts = DemoCareSummary(0, 0, 0, 0, 0, len(directory))
    practices = Organization.objects.filter(
        kind=OrganizationKind.PRACTICE, memberships__role=Role.CLINICAL_CARE_MANAGER
    ).distinct()
    plan_cm = _actor("plan.cm", plan)
    for practice in practices:
        rn_membership = Membership.objects.select_related("user").get(
            organization=practice, role=Role.CLINICAL_CARE_MANAGER
        )
        rn = Actor(user=rn_membership.user, membership=rn_membership)
        zone = practice.zone
        ranked = (
            PlanRanking.objects.filter(plan=plan, practice=practice)
            .select_related("patient")
            .order_by("rank")[:per_practice]
        )
        for position, ranking in enumerate(ranked):
            patient: Patient = ranking.patient
            status = _status_for(position)
            opened = today - datetime.timedelta(days=rng.randint(20, 120))
            made = enrollment.enroll(
                rn,
                patient,
                program=Program.PRACTICE_CARE_MANAGEMENT,
                acuity="high" if position < 8 else "rising",
                care_manager=rn.user,
                status=EnrollmentStatus.IDENTIFIED,
                reason="Top of the plan's risk ranking for this practice.",
                on=opened,
            )
            counts.enrollments += 1
            for step, to_status in enumerate(_path_to(status), start=1):
                enrollment.transition(
                    rn,
                    made,
                    to_status,
                    reason=_why(to_status),
                    effective_on=min(today, opened + datetime.timedelta(days=7 * step)),
                )
            # Enrolling with a care manager puts them on the care team; they lead it.
            make_care_team_lead(
                rn, CareTeamMember.objects.get(patient=patient, user=rn.user, ended_on=None)
            )
            for _ in range(rng.randint(1, 6)):
                days_ago = rng.randint(0, 75)
                reached = rng.random() > 0.3
                interactions.log_interaction(
                    rn,
                    patient,
                    kind=rng.choice(CALL_KINDS),
                    minutes=rng.choice([5, 10, 15, 20, 25, 30]),
                    occurred_at=_moment(today, days_ago, rng.randint(8, 16), zone),
                    direction="outbound",
                    reached=reached,
                    note=rng.choice(CALL_NOTES),
                    enrollment=made,
                )
                counts.interactions += 1
            if status == EnrollmentStatus.ENROLLED and position % 3 == 0:
                at_enrollment = made.surveys.get(kind=PatientSurveyKind.AT_ENROLLMENT)
                surveys.record_patient_survey(
                    rn,
                    at_enrollment,
                    self_rated_health=rng.randint(3, 5),
                    completed_on=min(today, at_enrollment.due_on + datetime.timedelta(days=2)),
                )
            if status not in (EnrollmentStatus.ENROLLED, EnrollmentStatus.ENGAGED):
                continue
            statement, domain = rng.choice(GOALS)
            goal = careplan.add_goal(
                rn,
                patient,
                statement=statement,
                domain=domain,
                target_date=today + datetime.timedelta(days=rng.randint(30, 120)),
                confidence=rng.randint(3, 7),
            )
            counts.goals += 1
            kind, description = rng.choice(BARRIERS)
            careplan.add_barrier(rn, patient, kind=kind, description=description, goal=goal)
            tasks.create_task(
                rn,
                title="Follow-up call: review goal progress",
                due_on=today + datetime.timedelta(days=rng.randint(-4, 10)),
                patient=patient,
                goal=goal,
                owner_user=rn.user,
            )
            counts.tasks += 1
            if position % 4 == 0:
                screening.record_screening(
                    rn,
                    patient,
                    "ahc_hrsn",
                    _hrsn_food_insecure(),
                    administered_on=today - datetime.timedelta(days=rng.randint(5, 30)),
                )
                referral = referrals.refer(
                    rn,
                    patient,
                    food_bank,
                    category="food",
                    reason="Screened positive for food insecurity.",
                )
                counts.referrals += 1
                if position % 8 == 0:
                    cbo_actor = _actor("cbo.intake", cbo)
                    referrals.update_referral(cbo_actor, referral, ReferralStatus.ACCEPTED)
                    referrals.update_referral(
                        cbo_actor,
                        referral,
                        ReferralStatus.COMPLETED,
                        outcome=ReferralOutcome.NEED_MET,
                        note="Enrolled in the weekly pantry delivery.",
                    )
        # The plan's case manager follows the top patients of each practice in monitor status
        # while the practice leads (004 step 7g-v).
        for ranking in ranked[:3]:
            enrollment.enroll(
                plan_cm,
                ranking.patient,
                program=Program.PLAN_COMPLEX_CASE_MANAGEMENT,
                acuity="high",
                care_manager=plan_cm.user,
                status=EnrollmentStatus.MONITOR,
                reason="Practice leads; plan follows claims and utilization.",
                on=today - datetime.timedelta(days=30),
            )
            counts.enrollments += 1
        # Steps 1–2 of seed 004: the plan's list for each partner practice, from the ranking.
        partnership = Partnership.objects.get(plan=plan, partner=practice)
        project_manager = _actor("plan.pm", plan)
        refresh_plan_list(project_manager, partnership)
        # Getting ready: a weekly 30-minute call with a stable core team, and the next call's
        # agenda built from the combined list.
        core = Membership.objects.filter(
            organization__in=[plan, practice],
            role__in=[
                Role.DIRECTOR_OF_CARE_MANAGEMENT,
                Role.PROJECT_MANAGER,
                Role.CASE_MANAGER,
                Role.CLINICAL_CARE_MANAGER,
                Role.PCP,
            ],
        )
        series = calls.create_series(
            project_manager,
            partnership,
            weekday=2,
            start_time=datetime.time(10 + counts.series, 0),
            participants=list(core),
        )
        counts.series += 1
        if counts.series == 1:
            # Steps 6–8 for the first practice: last week's call, decided and summarized.
            enrollments_before = Enrollment.objects.count()
            plans_before = CarePlan.objects.filter(goals__isnull=False).distinct().count()
            hold_last_weeks_call(
                project_manager,
                series,
                plan_cm.membership,
                Membership.objects.get(user__username="plan.social", organization=plan),
                rn_membership,
            )
            counts.enrollments += Enrollment.objects.count() - enrollments_before
            counts.goals += (
                CarePlan.objects.filter(goals__isnull=False).distinct().count() - plans_before
            )
        calls.build_agenda(project_manager, calls.schedule_conference(project_manager, series))
    surveys.open_staff_surveys(today)
    return counts


def _status_for(position: int) -> str:
    cycle = [
        EnrollmentStatus.ENROLLED,
        EnrollmentStatus.ENROLLED,
        EnrollmentStatus.ENGAGED,
        EnrollmentStatus.OUTREACH,
        EnrollmentStatus.ENROLLED,
        EnrollmentStatus.UNABLE_TO_REACH,
        EnrollmentStatus.ENROLLED,
        EnrollmentStatus.IDENTIFIED,
        EnrollmentStatus.DECLINED,
        EnrollmentStatus.ENROLLED,
    ]
    return cycle[position % len(cycle)]


def _path_to(status: str) -> list[str]:
    paths = {
        EnrollmentStatus.IDENTIFIED: [],
        EnrollmentStatus.OUTREACH: [EnrollmentStatus.OUTREACH],
        EnrollmentStatus.ENGAGED: [EnrollmentStatus.OUTREACH, EnrollmentStatus.ENGAGED],
        EnrollmentStatus.ENROLLED: [
            EnrollmentStatus.OUTREACH,
            EnrollmentStatus.ENGAGED,
            EnrollmentStatus.ENROLLED,
        ],
        EnrollmentStatus.UNABLE_TO_REACH: [
            EnrollmentStatus.OUTREACH,
            EnrollmentStatus.UNABLE_TO_REACH,
        ],
        EnrollmentStatus.DECLINED: [EnrollmentStatus.OUTREACH, EnrollmentStatus.DECLINED],
    }
    return [str(s) for s in paths[EnrollmentStatus(status)]]


def _why(status: str) -> str:
    return {
        EnrollmentStatus.OUTREACH: "First outreach call placed.",
        EnrollmentStatus.ENGAGED: "Patient agreed to talk about a care plan.",
        EnrollmentStatus.ENROLLED: "Patient consented to care management.",
        EnrollmentStatus.UNABLE_TO_REACH: "Three attempts by phone and one letter, no answer.",
        EnrollmentStatus.DECLINED: "Patient prefers not to take part for now.",
    }[EnrollmentStatus(status)]


def _hrsn_food_insecure() -> dict[str, object]:
    """AHC HRSN core answers of someone whose only need is food."""
    return {
        "q1": "steady",
        "q2": ["none"],
        "q3": "often",
        "q4": "sometimes",
        "q5": "no",
        "q6": "no",
        "q7": 1,
        "q8": 1,
        "q9": 1,
        "q10": 1,
    }
