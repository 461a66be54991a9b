"""Seed 004 "Proposed evaluation framework" 2: the patient survey at enrollment and three months
later, and the staff survey every six months."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.errors import CareError
from caseboard.care.models import (
    Enrollment,
    PatientSurvey,
    PatientSurveyKind,
    StaffSurvey,
    SurveyStatus,
    WouldRecommend,
)
from caseboard.orgs.models import Membership, OrganizationKind, Role

# Seed 004 evaluation framework: self-rated health and would-recommend at enrollment and
# again three months later.
FOLLOW_UP_AFTER = relativedelta(months=3)

# 2a: "For the last 4 weeks, would you say your health has been?"
SELF_RATED_HEALTH = {1: "Excellent", 2: "Very good", 3: "Good", 4: "Fair", 5: "Poor"}


def schedule_patient_surveys(
    enrollment: Enrollment, enrolled_on: datetime.date
) -> list[PatientSurvey]:
    """The enrollment and 3-month surveys of an enrollment; calling it again changes nothing."""
    due = {
        PatientSurveyKind.AT_ENROLLMENT: enrolled_on,
        PatientSurveyKind.THREE_MONTHS: enrolled_on + FOLLOW_UP_AFTER,
    }
    return [
        PatientSurvey.objects.get_or_create(
            enrollment=enrollment,
            kind=kind,
            defaults={"patient_id": enrollment.patient_id, "due_on": due_on},
        )[0]
        for kind, due_on in due.items()
    ]


def asks_would_recommend(survey: PatientSurvey) -> bool:
    # 2b: "Three months after enrollment, ask patients ... would you recommend this program".
    return survey.kind == PatientSurveyKind.THREE_MONTHS


def get_patient_survey_for_editor(actor: Actor, survey_id: int | str) -> PatientSurvey:
    """The lead organization's care team asks the patient and records the answers."""
    survey = access.care.get_patient_survey_for_user(actor, survey_id)
    access.care.require_editor(actor)
    if survey.enrollment.lead_organization_id != actor.organization.pk:
        raise PermissionDenied(
            f"{survey.enrollment.lead_organization} leads this patient's care management;"
            " its care team records the survey."
        )
    return survey


def _check_answer_date(actor: Actor, survey: PatientSurvey, on: datetime.date) -> None:
    today = timezone.localtime(timezone.now(), actor.organization.zone).date()
    if on > today:
        raise CareError(f"{on:%Y-%m-%d} is in the future.", field="completed_on")
    if on < survey.enrollment.identified_on:
        raise CareError(
            f"{on:%Y-%m-%d} is before the patient was identified for care management"
            f" ({survey.enrollment.identified_on:%Y-%m-%d}).",
            field="completed_on",
        )


@transaction.atomic
def record_patient_survey(
    actor: Actor,
    survey: PatientSurvey,
    *,
    self_rated_health: int,
    would_recommend: str = "",
    completed_on: datetime.date,
) -> PatientSurvey:
    """The patient's answers; a survey already recorded can be corrected."""
    survey = get_patient_survey_for_editor(actor, survey.pk)
    if self_rated_health not in SELF_RATED_HEALTH:
        raise CareError(
            "Self-rated health is 1 (excellent) to 5 (poor).", field="self_rated_health"
        )
    if asks_would_recommend(survey):
        if would_recommend not in WouldRecommend.values:
            raise CareError(
                "Record whether the patient would recommend the program: yes, no or maybe.",
                field="would_recommend",
            )
    else:
        would_recommend = ""
    _check_answer_date(actor, survey, completed_on)
    was = survey.status
    survey.status = SurveyStatus.COMPLETED
    survey.self_rated_health = self_rated_health
    survey.would_recommend = would_recommend
    survey.completed_on = completed_on
    survey.recorded_by = actor.user
    survey.save()
    log.record(
        actor,
        AuditAction.CREATE if was == SurveyStatus.DUE else AuditAction.UPDATE,
        patient=survey.patient,
        obj=survey,
        detail={"kind": survey.kind, "status": survey.status},
    )
    return survey


@transaction.atomic
def decline_patient_survey(
    actor: Actor, survey: PatientSurvey, *, on: datetime.date
) -> PatientSurvey:
    """The patient chose not to answer; nothing they did not say is kept."""
    survey = get_patient_survey_for_editor(actor, survey.pk)
    _check_answer_date(actor, survey, on)
    was = survey.status
    survey.status = SurveyStatus.DECLINED
    survey.self_rated_health = None
    survey.would_recommend = ""
    survey.completed_on = on
    survey.recorded_by = actor.user
    survey.save()
    log.record(
        actor,
        AuditAction.CREATE if was == SurveyStatus.DUE else AuditAction.UPDATE,
        patient=survey.patient,
        obj=survey,
        detail={"kind": survey.kind, "status": survey.status},
    )
    return survey


# --- Staff survey ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffQuestion:
    key: str
    text: str
    low: str
    high: str


# 2c: "survey health plan and practice staff regarding their assessment of the success of the
# initiative to coordinate care management services and collect their ideas as to how the
# coordination could be improved." Rated 1 (low) to 5 (high).
STAFF_RATINGS = (
    StaffQuestion(
        "overall_success",
        "Overall, how successful is the coordination of care management between the health"
        " plan and the practice?",
        "Not at all successful",
        "Very successful",
    ),
    StaffQuestion(
        "conference_usefulness",
        "How useful are the case conferences for the patients you care for?",
        "Not useful",
        "Very useful",
    ),
    StaffQuestion(
        "lead_clarity",
        "How clear is it who leads each patient's care management?",
        "Never clear",
        "Always clear",
    ),
    StaffQuestion(
        "time_burden",
        "Is the time the coordination takes (calls, pre-work, follow-up) acceptable?",
        "Not acceptable",
        "Fully acceptable",
    ),
)
STAFF_COMMENTS = (
    ("what_is_working", "What is working well?"),
    ("how_to_improve", "How could the coordination be improved?"),
)
# Everyone who takes part in care, not accounts that only administer the system.
STAFF_SURVEY_ROLES = frozenset(Role) - {Role.ORG_ADMIN}
STAFF_SURVEY_ORGANIZATIONS = (
    OrganizationKind.HEALTH_PLAN,
    OrganizationKind.PRACTICE,
    OrganizationKind.CBCME,
)
STAFF_SURVEY_OPEN_DAYS = 30


def survey_period_start(day: datetime.date) -> datetime.date:
    """Staff surveys run every six months, in periods starting January 1 and July 1."""
    return datetime.date(day.year, 1 if day.month < 7 else 7, 1)


def open_staff_surveys(today: datetime.date) -> int:
    """Open this period's staff survey for every active care-team member of a plan, practice or
    CB-CME in an active partnership, and tell them; returns how many were opened.

    Due 30 days after the period opens; for someone who joins later in the period, 30 days
    after it opens for them. Running it again opens nothing new.
    """
    period = survey_period_start(today)
    due_on = max(period, today) + datetime.timedelta(days=STAFF_SURVEY_OPEN_DAYS)
    in_partnership = Q(
        organization__plan_partnerships__started_on__lte=today,
    ) & (
        Q(organization__plan_partnerships__ended_on__isnull=True)
        | Q(organization__plan_partnerships__ended_on__gte=today)
    ) | Q(organization__partner_partnerships__started_on__lte=today) & (
        Q(organization__partner_partnerships__ended_on__isnull=True)
        | Q(organization__partner_partnerships__ended_on__gte=today)
    )
    members = (
        Membership.objects.select_related("user", "organization")
        .filter(
            in_partnership,
            is_active=True,
            user__is_active=True,
            organization__kind__in=STAFF_SURVEY_ORGANIZATIONS,
            role__in=STAFF_SURVEY_ROLES,
        )
        .distinct()
        .order_by("organization_id", "user_id")
    )
    already = set(
        StaffSurvey.objects.filter(period_start=period).values_list("user_id", "organization_id")
    )
    opened = 0
    for member in members:
        if (member.user_id, member.organization_id) in already:
            continue
        with transaction.atomic():
            survey, created = StaffSurvey.objects.get_or_create(
                user=member.user,
                organization=member.organization,
                period_start=period,
                defaults={"due_on": due_on},
            )
            if not created:
                continue
            notify(
                member.user,
                member.organization,
                kind="staff_survey",
                title=f"Your six-monthly staff survey is open until {due_on:%b %-d}",
                body="Five minutes: how well is care management coordinated, and what would"
                " make it better?",
                url=reverse("staff_survey_fill", args=[survey.pk]),
            )
            opened += 1
    return opened


def _staff_survey_to_answer(actor: Actor, survey: StaffSurvey) -> StaffSurvey:
    survey = access.care.get_staff_survey_for_user(actor, survey.pk)
    if survey.status != SurveyStatus.DUE:
        when = timezone.localtime(survey.completed_at) if survey.completed_at else None
        raise CareError(
            "You already "
            + ("answered" if survey.status == SurveyStatus.COMPLETED else "skipped")
            + " this survey"
            + (f" on {when:%b %-d, %Y}." if when else ".")
        )
    return survey


@transaction.atomic
def submit_staff_survey(
    actor: Actor, survey: StaffSurvey, *, ratings: dict[str, int], comments: dict[str, str]
) -> StaffSurvey:
    survey = _staff_survey_to_answer(actor, survey)
    answers: dict[str, int | str] = {}
    for question in STAFF_RATINGS:
        value = ratings.get(question.key)
        if value not in (1, 2, 3, 4, 5):
            raise CareError("Answer with a number from 1 to 5.", field=question.key)
        answers[question.key] = value
    for key, _ in STAFF_COMMENTS:
        answers[key] = comments.get(key, "").strip()
    survey.answers = answers
    survey.status = SurveyStatus.COMPLETED
    survey.completed_at = timezone.now()
    survey.save(update_fields=["answers", "status", "completed_at"])
    return survey


@transaction.atomic
def skip_staff_survey(actor: Actor, survey: StaffSurvey) -> StaffSurvey:
    survey = _staff_survey_to_answer(actor, survey)
    survey.status = SurveyStatus.DECLINED
    survey.completed_at = timezone.now()
    survey.save(update_fields=["status", "completed_at"])
    return survey
