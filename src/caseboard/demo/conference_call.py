"""A case conference held last week in the demo: decisions recorded in conference mode, the
summary sent, a patient on the tracking list, and follow-ups that open this week's call."""

from __future__ import annotations

import datetime

from django.utils import timezone

from caseboard.access import Actor
from caseboard.conference import calls, decisions, summary
from caseboard.conference.decisions import DecisionInput, Engagement, NextStep
from caseboard.conference.models import (
    Conference,
    ConferenceSeries,
    ConferenceSummary,
    Discussion,
    Lead,
    PlanService,
)
from caseboard.orgs.models import Membership


def hold_last_weeks_call(
    project_manager: Actor,
    series: ConferenceSeries,
    plan_cm: Membership,
    plan_social: Membership,
    practice_rn: Membership,
) -> Conference:
    """Last week's call of `series`: three patients discussed, one left for this week."""
    now = timezone.now()
    starts = calls.next_slot(series, now - datetime.timedelta(days=14))
    conference = calls.schedule_conference(project_manager, series, starts)
    items = calls.build_agenda(project_manager, conference)[:4]
    decisions.start_conference(project_manager, conference)
    day = calls.conference_day(conference)
    after = datetime.timedelta
    choices = [
        DecisionInput(
            still_practice_patient=True,
            last_seen_by_practice=day - after(days=35),
            lead=Lead.PRACTICE,
            plan_monitors=True,
            why_high_risk="Repeated admissions for heart failure; misses follow-up visits.",
            barriers="No car; the cardiologist is two buses away.",
            plan_services=[PlanService.SOCIAL_CARE],
            goal="Improve the patient's ability to manage a chronic condition and get"
            " treatment and follow-up in a timely manner",
            next_steps=[
                NextStep("Find a cardiologist near home", "plan", day + after(days=3), plan_cm),
                NextStep(
                    "Book the visit and send records", "practice", day + after(days=5), practice_rn
                ),
            ],
            report_back_cadence="Weekly for one month, then monthly",
            next_update_on=day + after(days=7),
            plan_case_manager=plan_cm,
            plan_social_care_manager=plan_social,
            practice_care_manager=practice_rn,
        ),
        DecisionInput(
            still_practice_patient=True,
            engagement=Engagement.DECLINED_AFTER_ATTEMPT,
            outreach_attempts="Home visit, nobody home\nMet in the ED, declined a clinic visit",
        ),
        DecisionInput(
            still_practice_patient=True,
            last_seen_by_practice=day - after(days=200),
            lead=Lead.PLAN,
            why_high_risk="Many specialists outside the practice; little contact with the PCP.",
            plan_services=[PlanService.BEHAVIORAL_HEALTH],
            goal="Maximize patient access to needed care",
            next_steps=[
                NextStep(
                    "Outreach call to enroll in complex case management",
                    "plan",
                    day + after(days=2),
                    plan_cm,
                ),
            ],
            report_back_cadence="Monthly",
            next_update_on=day + after(days=28),
            plan_case_manager=plan_cm,
        ),
    ]
    for item, choice in zip(items, choices, strict=False):
        decisions.record_discussion(project_manager, item, choice)
    core = list(series.core_participants.all())
    summary.end_conference(project_manager, conference, core)
    summary.send_summary(project_manager, conference, "Thanks, everyone.")
    _as_if_held_on_time(conference)
    return conference


def _as_if_held_on_time(conference: Conference) -> None:
    """Move the call's clock to its scheduled slot: the demo runs it today, a week late."""
    started = Conference.objects.get(pk=conference.pk).started_at
    assert started is not None
    shift = conference.starts_at - started
    Conference.objects.filter(pk=conference.pk).update(
        started_at=conference.starts_at,
        ended_at=conference.starts_at + datetime.timedelta(minutes=27),
    )
    for discussion in Discussion.objects.filter(agenda_item__conference=conference):
        Discussion.objects.filter(pk=discussion.pk).update(
            started_at=discussion.started_at + shift, ended_at=discussion.ended_at + shift
        )
    held = Conference.objects.get(pk=conference.pk)
    assert held.ended_at is not None
    ConferenceSummary.objects.filter(conference=conference).update(
        drafted_at=held.ended_at,
        due_by=summary.summary_due_by(held, held.ended_at),
        sent_at=held.ended_at + datetime.timedelta(hours=3),
    )
