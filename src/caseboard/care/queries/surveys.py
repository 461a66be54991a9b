"""Reads of the patient and staff surveys and their results (seed 004 "Proposed evaluation
framework" 2)."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from statistics import mean

from django.db.models import QuerySet
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.surveys import (
    SELF_RATED_HEALTH,
    STAFF_RATINGS,
    StaffQuestion,
    asks_would_recommend,
)
from caseboard.care.models import (
    EnrollmentStatus,
    PatientSurvey,
    PatientSurveyKind,
    Program,
    StaffSurvey,
    SurveyStatus,
    WouldRecommend,
)

# A due survey of an enrollment that never started or was ended is no longer asked.
NOT_ASKED = (
    EnrollmentStatus.DECLINED,
    EnrollmentStatus.UNABLE_TO_REACH,
    EnrollmentStatus.DISENROLLED,
)
COMING_UP = datetime.timedelta(days=30)
RECENT_LIMIT = 100
# Staff-survey results are shown once this many colleagues have answered, so no one's answers
# can be picked out of a small team's.
MIN_STAFF_ANSWERS_SHOWN = 3


@dataclass(frozen=True)
class ProgramResults:
    program: str
    label: str
    completed: int
    declined: int
    enrollment_mean: float | None
    enrollment_n: int
    three_month_mean: float | None
    three_month_n: int
    paired_n: int
    # Three months minus enrollment, for patients with both; below zero is better (1 =
    # excellent, 5 = poor).
    mean_change: float | None
    recommend_n: int
    recommend_percent: dict[str, float]

    @property
    def improved(self) -> bool | None:
        return None if self.mean_change is None else self.mean_change < 0


@dataclass(frozen=True)
class SurveyOverview:
    today: datetime.date
    due: list[PatientSurvey]
    coming_up: list[PatientSurvey]
    recorded: list[PatientSurvey]
    results: list[ProgramResults]
    program: str
    programs: list[tuple[str, str]]


def _mean(values: list[int]) -> float | None:
    return round(mean(values), 2) if values else None


def program_results(surveys: QuerySet[PatientSurvey]) -> list[ProgramResults]:
    """Per program: mean self-rated health at enrollment and at three months, the change for
    patients answering both, and the share who would recommend the program."""
    answered = surveys.exclude(status=SurveyStatus.DUE).select_related("enrollment")
    by_program: dict[str, list[PatientSurvey]] = defaultdict(list)
    for survey in answered:
        by_program[survey.enrollment.program].append(survey)
    results = []
    labels = dict(Program.choices)
    for program in sorted(by_program, key=lambda p: str(labels.get(p, p))):
        rows = by_program[program]
        completed = [r for r in rows if r.status == SurveyStatus.COMPLETED]
        health: dict[str, dict[int, int]] = {
            PatientSurveyKind.AT_ENROLLMENT: {},
            PatientSurveyKind.THREE_MONTHS: {},
        }
        for r in completed:
            if r.self_rated_health is not None:
                health[r.kind][r.enrollment_id] = r.self_rated_health
        at_start = health[PatientSurveyKind.AT_ENROLLMENT]
        at_three = health[PatientSurveyKind.THREE_MONTHS]
        paired = sorted(set(at_start) & set(at_three))
        recommend = Counter(r.would_recommend for r in completed if r.would_recommend)
        recommend_n = sum(recommend.values())
        results.append(
            ProgramResults(
                program=program,
                label=str(labels.get(program, program)),
                completed=len(completed),
                declined=len(rows) - len(completed),
                enrollment_mean=_mean(list(at_start.values())),
                enrollment_n=len(at_start),
                three_month_mean=_mean(list(at_three.values())),
                three_month_n=len(at_three),
                paired_n=len(paired),
                mean_change=_mean([at_three[e] - at_start[e] for e in paired]),
                recommend_n=recommend_n,
                recommend_percent={
                    choice: round(100 * recommend[choice] / recommend_n, 1) if recommend_n else 0
                    for choice in WouldRecommend.values
                },
            )
        )
    return results


def survey_overview(actor: Actor, *, program: str = "") -> SurveyOverview:
    surveys = access.care.visible_patient_surveys(actor).select_related(
        "enrollment__lead_organization", "recorded_by"
    )
    if program and program in Program.values:
        surveys = surveys.filter(enrollment__program=program)
    else:
        program = ""
    today = timezone.localtime(timezone.now(), actor.organization.zone).date()
    waiting = surveys.filter(status=SurveyStatus.DUE).exclude(enrollment__status__in=NOT_ASKED)
    due = list(waiting.filter(due_on__lte=today).order_by("due_on", "id")[:RECENT_LIMIT])
    coming_up = list(
        waiting.filter(due_on__gt=today, due_on__lte=today + COMING_UP).order_by("due_on", "id")[
            :RECENT_LIMIT
        ]
    )
    recorded = list(
        surveys.exclude(status=SurveyStatus.DUE).order_by("-completed_on", "-id")[:RECENT_LIMIT]
    )
    shown = {s.patient_id for s in (*due, *coming_up, *recorded)}
    log.record_many(actor, AuditAction.VIEW, sorted(shown), {"page": "patient surveys"})
    present = set(
        access.care.visible_patient_surveys(actor).values_list("enrollment__program", flat=True)
    )
    return SurveyOverview(
        today=today,
        due=due,
        coming_up=coming_up,
        recorded=recorded,
        results=program_results(surveys),
        program=program,
        programs=[(value, label) for value, label in Program.choices if value in present],
    )


@dataclass(frozen=True)
class PatientSurveyPage:
    survey: PatientSurvey
    can_record: bool
    asks_would_recommend: bool
    other: PatientSurvey | None

    @property
    def health_label(self) -> str:
        return SELF_RATED_HEALTH.get(self.survey.self_rated_health or 0, "")


def patient_survey_page(actor: Actor, survey_id: int) -> PatientSurveyPage:
    survey = access.care.get_patient_survey_for_user(actor, survey_id)
    log.record(actor, AuditAction.VIEW, patient=survey.patient, obj=survey)
    other = (
        access.care.visible_patient_surveys(actor)
        .filter(enrollment_id=survey.enrollment_id)
        .exclude(pk=survey.pk)
        .first()
    )
    return PatientSurveyPage(
        survey=survey,
        can_record=actor.can_edit_patients
        and survey.enrollment.lead_organization_id == actor.organization.pk,
        asks_would_recommend=asks_would_recommend(survey),
        other=other,
    )


# --- Staff survey ---------------------------------------------------------------------------


def my_staff_surveys(actor: Actor) -> list[StaffSurvey]:
    return list(access.care.visible_staff_surveys(actor).order_by("-period_start"))


@dataclass(frozen=True)
class RatingSummary:
    question: StaffQuestion
    mean: float | None
    answers: int
    distribution: list[int]  # how many chose 1, 2, 3, 4, 5


@dataclass(frozen=True)
class StaffPeriodResults:
    period_start: datetime.date
    sent: int
    answered: int
    skipped: int
    shown: bool
    ratings: list[RatingSummary]
    working: list[str]
    improve: list[str]

    @property
    def response_percent(self) -> float:
        return round(100 * self.answered / self.sent, 1) if self.sent else 0.0


def staff_survey_results(actor: Actor) -> list[StaffPeriodResults]:
    """The organization's answers by period, without names; for its directors and admins."""
    surveys = access.care.organization_staff_surveys(actor)
    periods: dict[datetime.date, list[StaffSurvey]] = defaultdict(list)
    for s in surveys.order_by("-period_start", "id"):
        periods[s.period_start].append(s)
    results = []
    for period_start, in_period in periods.items():
        answered = [s for s in in_period if s.status == SurveyStatus.COMPLETED]
        shown = len(answered) >= MIN_STAFF_ANSWERS_SHOWN
        ratings = []
        for question in STAFF_RATINGS:
            values = [
                int(s.answers[question.key])
                for s in answered
                if isinstance(s.answers.get(question.key), int)
            ]
            ratings.append(
                RatingSummary(
                    question=question,
                    mean=_mean(values) if shown else None,
                    answers=len(values),
                    distribution=[values.count(n) for n in range(1, 6)] if shown else [],
                )
            )

        def texts(key: str, answered: list[StaffSurvey] = answered) -> list[str]:
            return sorted(str(s.answers[key]) for s in answered if s.answers.get(key))

        results.append(
            StaffPeriodResults(
                period_start=period_start,
                sent=len(in_period),
                answered=len(answered),
                skipped=sum(s.status == SurveyStatus.DECLINED for s in in_period),
                shown=shown,
                ratings=ratings,
                working=texts("what_is_working") if shown else [],
                improve=texts("how_to_improve") if shown else [],
            )
        )
    return results
