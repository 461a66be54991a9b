"""Conference mode (seed 004 steps 6–7): what each kind of decision does to care records."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from caseboard.care.models import (
    Enrollment,
    EnrollmentStatus,
    Goal,
    Notification,
    Program,
    Task,
    TaskPriority,
    TaskSource,
)
from caseboard.conference import calls, decisions
from caseboard.conference.decisions import (
    DecisionInput,
    Engagement,
    NextStep,
    practice_gap_exceeded,
    record_discussion,
)
from caseboard.conference.errors import ConferenceError
from caseboard.conference.measures import conference_measures
from caseboard.conference.models import (
    AgendaKind,
    Conference,
    ConferenceStatus,
    ConferenceSummary,
    Discussion,
    DiscussionOutcome,
    Lead,
    ParticipantTime,
    TimeActivity,
    TrackingEntry,
    TrackingReport,
)
from caseboard.conference.summary import (
    call_minutes,
    end_conference,
    recipients,
    record_prework_time,
    remind_late_summaries,
    send_summary,
    summary_due_by,
    visible_summary_patients,
)
from caseboard.conference.tracking import remove_from_tracking, report_now, send_due_reports
from caseboard.patients.models import AttributionSpan, Patient
from caseboard.transitions.models import Episode, EpisodeStatus, MessageStatus, PatientClass
from tests import factories
from tests.conference.call_makers import call_for_a, on_both_lists
from tests.conference.makers import member_of_a, project_manager
from tests.conference.run_makers import lead_decision, membership, next_call, started_call
from tests.conftest import World
from tests.factories import actor_for
from tests.transitions.messages import deliver, hospital_knows, member_message

pytestmark = pytest.mark.django_db


def test_a_lead_decision_opens_cases_goal_and_tasks_through_care_management(world: World) -> None:
    pm, conference, items = started_call(world)
    discussion = record_discussion(actor_for(pm), items[0], lead_decision(world, pm, conference))
    assert discussion.outcome == DiscussionOutcome.DECIDED
    patient = items[0].patient
    cases = {
        (e.lead_organization_id, e.program): e.status
        for e in Enrollment.objects.filter(patient=patient)
    }
    assert cases == {
        (world.practice_a.pk, Program.PRACTICE_CARE_MANAGEMENT): EnrollmentStatus.IDENTIFIED,
        (world.plan.pk, Program.PLAN_COMPLEX_CASE_MANAGEMENT): EnrollmentStatus.MONITOR,
        (world.plan.pk, Program.PLAN_SOCIAL_CARE_MANAGEMENT): EnrollmentStatus.IDENTIFIED,
    }
    goal = Goal.objects.get(care_plan__patient=patient)
    assert goal.statement == "Maximize patient access to needed care"
    tasks = Task.objects.filter(patient=patient, source=TaskSource.CONFERENCE)
    assert sorted((t.owner_organization_id, t.goal_id) for t in tasks) == sorted(
        [(world.practice_a.pk, goal.pk), (world.plan.pk, goal.pk)]
    )
    items[0].refresh_from_db()
    assert items[0].needs_follow_up and items[0].report_back_on == discussion.next_update_on


def test_unengaged_after_the_last_attempt_goes_on_the_tracking_list(world: World) -> None:
    pm, conference, items = started_call(world)
    decision = lead_decision(
        world,
        pm,
        conference,
        engagement=Engagement.DECLINED_AFTER_ATTEMPT,
        outreach_attempts="Home visit 2026-10-02, no answer\nLetter 2026-10-09",
    )
    discussion = record_discussion(actor_for(world.user_a), items[1], decision)
    assert discussion.outcome == DiscussionOutcome.TRACKING
    entry = TrackingEntry.objects.get(patient=items[1].patient)
    assert entry.partnership == world.partnership_a and entry.is_active
    assert not Enrollment.objects.filter(patient=items[1].patient).exists()


# --- Helpers --------------------------------------------------------------------------------


def _day(conference: Conference) -> datetime.date:
    return calls.conference_day(conference)


def _counts(patient: Patient) -> dict[str, int]:
    return {
        "enrollments": Enrollment.objects.filter(patient=patient).count(),
        "tasks": Task.objects.filter(patient=patient).count(),
        "goals": Goal.objects.filter(care_plan__patient=patient).count(),
        "discussions": Discussion.objects.filter(agenda_item__patient=patient).count(),
        "tracking": TrackingEntry.objects.filter(patient=patient).count(),
        "notifications": Notification.objects.count(),
    }


def _stop(**values: object) -> DecisionInput:
    return DecisionInput(**values)  # type: ignore[arg-type]


# --- Each outcome ---------------------------------------------------------------------------


def test_not_the_practices_patient_leaves_the_plan_a_task_to_check_a_pcp_change(
    world: World,
) -> None:
    _pm, conference, items = started_call(world)
    day = _day(conference)
    decision = _stop(
        still_practice_patient=False,
        last_seen_by_practice=day - datetime.timedelta(days=500),
        plan_case_manager=membership(world.plan_user),
    )
    discussion = record_discussion(actor_for(world.user_a), items[0], decision)
    assert discussion.outcome == DiscussionOutcome.NOT_PRACTICE_PATIENT
    patient = items[0].patient
    task = Task.objects.get(patient=patient)
    assert task.owner_organization == world.plan and task.owner_user == world.plan_user
    assert "primary care provider" in task.title
    assert task.source == TaskSource.CONFERENCE and task.due_on > day
    assert list(discussion.tasks.all()) == [task]
    assert not Enrollment.objects.filter(patient=patient).exists()
    assert not Goal.objects.filter(care_plan__patient=patient).exists()
    items[0].refresh_from_db()
    assert not items[0].needs_follow_up


def test_the_series_gap_decides_whether_the_practice_still_has_the_patient() -> None:
    on = datetime.date(2026, 11, 20)
    assert practice_gap_exceeded(datetime.date(2025, 11, 20), on, 12)
    assert not practice_gap_exceeded(datetime.date(2025, 11, 21), on, 12)
    assert practice_gap_exceeded(None, on, 12)
    assert not practice_gap_exceeded(datetime.date(2025, 6, 1), on, 18)


def test_not_covered_gives_the_practice_a_task_and_names_the_new_insurer(world: World) -> None:
    pm, _conference, items = started_call(world)
    patient = items[0].patient
    before = _counts(patient)
    missing = _stop(
        still_practice_patient=True,
        still_covered=False,
        practice_care_manager=membership(world.user_a),
    )
    with pytest.raises(ConferenceError) as refused:
        record_discussion(actor_for(pm), items[0], missing)
    assert refused.value.field == "new_insurer"
    assert _counts(patient) == before

    decision = replace(missing, new_insurer="Harbor Health Plan")
    discussion = record_discussion(actor_for(pm), items[0], decision)
    assert discussion.outcome == DiscussionOutcome.NOT_COVERED
    task = Task.objects.get(patient=patient)
    assert task.owner_organization == world.practice_a and task.owner_user == world.user_a
    assert "Harbor Health Plan" in task.detail
    note = Notification.objects.get(kind="coverage_ended")
    assert note.user == world.user_a and note.patient == patient
    assert "Harbor Health Plan" in note.body and patient.full_name not in note.title
    assert not Enrollment.objects.filter(patient=patient).exists()


def test_a_final_face_to_face_attempt_is_a_high_priority_practice_task_and_a_follow_up(
    world: World,
) -> None:
    pm, conference, items = started_call(world)
    decision = _stop(
        still_practice_patient=True,
        engagement=Engagement.FINAL_ATTEMPT,
        outreach_attempts="Phone x3 in October; letter 2026-10-20",
        practice_care_manager=membership(world.user_a),
    )
    discussion = record_discussion(actor_for(pm), items[0], decision)
    assert discussion.outcome == DiscussionOutcome.FINAL_ATTEMPT
    task = Task.objects.get(patient=items[0].patient)
    assert task.priority == TaskPriority.HIGH
    assert task.owner_organization == world.practice_a and task.owner_user == world.user_a
    assert task.due_on == _day(conference) + datetime.timedelta(days=30)
    items[0].refresh_from_db()
    assert items[0].needs_follow_up and items[0].report_back_on == task.due_on
    assert not TrackingEntry.objects.exists()

    no_attempts = replace(decision, outreach_attempts="  ")
    with pytest.raises(ConferenceError) as refused:
        record_discussion(actor_for(pm), items[1], no_attempts)
    assert refused.value.field == "outreach_attempts"


def test_a_patient_goes_on_the_tracking_list_once_across_calls(world: World) -> None:
    pm, conference, items = started_call(world)
    decision = _stop(
        still_practice_patient=True,
        engagement=Engagement.DECLINED_AFTER_ATTEMPT,
        outreach_attempts="Home visit 2026-10-02, no answer",
    )
    record_discussion(actor_for(pm), items[0], decision)
    entry = TrackingEntry.objects.get()
    assert entry.next_report_on == _day(conference) + relativedelta(months=6)
    assert entry.outreach_attempts == "Home visit 2026-10-02, no answer"
    end_conference(actor_for(pm), conference, [])

    following = next_call(pm, conference)
    again = following.agenda_items.get(patient=items[0].patient)
    second = record_discussion(actor_for(pm), again, decision)
    assert second.outcome == DiscussionOutcome.TRACKING
    assert TrackingEntry.objects.get() == entry
    assert not Task.objects.exists() and not Enrollment.objects.exists()


def test_a_discussion_stopped_for_information_continues_at_the_set_date(world: World) -> None:
    pm, conference, items = started_call(world)
    day = _day(conference)
    decision = _stop(still_practice_patient=True, need_information=True)
    before = _counts(items[0].patient)
    with pytest.raises(ConferenceError) as refused:
        record_discussion(actor_for(pm), items[0], decision)
    assert refused.value.field == "next_update_on"
    assert _counts(items[0].patient) == before

    later = day + datetime.timedelta(days=14)
    discussion = record_discussion(actor_for(pm), items[0], replace(decision, next_update_on=later))
    assert discussion.outcome == DiscussionOutcome.NEED_INFORMATION
    items[0].refresh_from_db()
    assert items[0].needs_follow_up and items[0].report_back_on == later
    assert not Enrollment.objects.exists() and not Goal.objects.exists()


def test_the_plan_leading_opens_the_plans_case_only(world: World) -> None:
    pm, conference, items = started_call(world)
    decision = lead_decision(
        world, pm, conference, lead=Lead.PLAN, plan_monitors=False, plan_services=[]
    )
    discussion = record_discussion(actor_for(pm), items[0], decision)
    cases = Enrollment.objects.filter(patient=items[0].patient)
    assert [(e.lead_organization, e.program, e.status, e.care_manager) for e in cases] == [
        (
            world.plan,
            Program.PLAN_COMPLEX_CASE_MANAGEMENT,
            EnrollmentStatus.IDENTIFIED,
            world.plan_user,
        )
    ]
    assert set(discussion.enrollments.all()) == set(cases)
    assert discussion.goal is not None and discussion.tasks.count() == 2


def test_a_joint_lead_opens_a_case_on_each_side(world: World) -> None:
    pm, conference, items = started_call(world)
    decision = lead_decision(world, pm, conference, lead=Lead.JOINT, plan_monitors=False)
    discussion = record_discussion(actor_for(world.user_a), items[0], decision)
    cases = {
        (e.lead_organization_id, e.program): (e.status, e.care_manager)
        for e in Enrollment.objects.filter(patient=items[0].patient)
    }
    assert cases == {
        (world.practice_a.pk, Program.PRACTICE_CARE_MANAGEMENT): (
            EnrollmentStatus.IDENTIFIED,
            world.user_a,
        ),
        (world.plan.pk, Program.PLAN_COMPLEX_CASE_MANAGEMENT): (
            EnrollmentStatus.IDENTIFIED,
            world.plan_user,
        ),
        (world.plan.pk, Program.PLAN_SOCIAL_CARE_MANAGEMENT): (
            EnrollmentStatus.IDENTIFIED,
            world.plan_user,
        ),
    }
    assert discussion.enrollments.count() == 3


def test_the_plan_recording_moves_its_open_case_to_monitor(world: World) -> None:
    pm, conference, items = started_call(world)
    patient = items[0].patient
    existing = factories.make_enrollment(
        patient, world.plan, world.plan_user, program=Program.PLAN_COMPLEX_CASE_MANAGEMENT
    )
    record_discussion(actor_for(pm), items[0], lead_decision(world, pm, conference))
    existing.refresh_from_db()
    assert existing.status == EnrollmentStatus.MONITOR
    plan_cases = Enrollment.objects.filter(
        patient=patient, program=Program.PLAN_COMPLEX_CASE_MANAGEMENT
    )
    assert list(plan_cases) == [existing]


def test_the_practice_recording_leaves_the_plans_open_case_as_it_is(world: World) -> None:
    pm, conference, items = started_call(world)
    patient = items[0].patient
    existing = factories.make_enrollment(
        patient, world.plan, world.plan_user, program=Program.PLAN_COMPLEX_CASE_MANAGEMENT
    )
    discussion = record_discussion(
        actor_for(world.user_a), items[0], lead_decision(world, pm, conference)
    )
    existing.refresh_from_db()
    assert existing.status == EnrollmentStatus.ENROLLED
    assert existing in discussion.enrollments.all()
    assert Enrollment.objects.filter(
        patient=patient, lead_organization=world.practice_a, status=EnrollmentStatus.IDENTIFIED
    ).exists()


# --- Refusals change nothing ----------------------------------------------------------------

INVALID: dict[str, tuple[Callable[[World, User, Conference], dict[str, object]], str]] = {
    "missing lead": (lambda w, pm, c: {"lead": ""}, "lead"),
    "plan monitors its own lead": (
        lambda w, pm, c: {"lead": Lead.PLAN, "plan_monitors": True},
        "plan_monitors",
    ),
    "missing goal": (lambda w, pm, c: {"goal": "  "}, "goal"),
    "no next steps": (lambda w, pm, c: {"next_steps": []}, "next_steps"),
    "step due before the call": (
        lambda w, pm, c: {
            "next_steps": [
                NextStep(
                    title="Call the patient",
                    side="practice",
                    due_on=_day(c) - datetime.timedelta(days=1),
                )
            ]
        },
        "next_steps",
    ),
    "practice contact from the plan": (
        lambda w, pm, c: {"practice_care_manager": membership(w.plan_user)},
        "practice_care_manager",
    ),
    "contact from another practice": (
        lambda w, pm, c: {"practice_care_manager": membership(w.user_b)},
        "practice_care_manager",
    ),
    "step owner from the other side": (
        lambda w, pm, c: {
            "next_steps": [
                NextStep(
                    title="Check pharmacy fills",
                    side="plan",
                    due_on=_day(c) + datetime.timedelta(days=3),
                    owner=membership(w.user_a),
                )
            ]
        },
        "next_steps",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_decision_is_refused_and_changes_nothing(world: World, case: str) -> None:
    pm, conference, items = started_call(world)
    changes, field_name = INVALID[case]
    decision = lead_decision(world, pm, conference, **changes(world, pm, conference))
    before = _counts(items[0].patient)
    with pytest.raises(ConferenceError) as refused:
        record_discussion(actor_for(pm), items[0], decision)
    assert refused.value.field == field_name
    assert _counts(items[0].patient) == before
    items[0].refresh_from_db()
    assert not items[0].needs_follow_up


def test_a_patient_is_recorded_once_per_call(world: World) -> None:
    pm, conference, items = started_call(world)
    decision = lead_decision(world, pm, conference)
    record_discussion(actor_for(pm), items[0], decision)
    before = _counts(items[0].patient)
    with pytest.raises(ConferenceError, match="already discussed"):
        record_discussion(actor_for(world.user_a), items[0], decision)
    assert _counts(items[0].patient) == before


def test_decisions_are_recorded_only_while_the_call_runs(world: World) -> None:
    pm, conference = call_for_a(world)
    patient = member_of_a(world, "Ines", "Okafor")
    on_both_lists(world, pm, patient, 1)
    (item,) = calls.build_agenda(actor_for(pm), conference)
    decision = lead_decision(world, pm, conference)
    before = _counts(patient)
    with pytest.raises(ConferenceError, match="Start the call"):
        record_discussion(actor_for(pm), item, decision)
    assert _counts(patient) == before

    decisions.start_conference(actor_for(pm), conference)
    end_conference(actor_for(pm), conference, [])
    before = _counts(patient)
    with pytest.raises(ConferenceError, match="has ended"):
        record_discussion(actor_for(pm), item, decision)
    assert _counts(patient) == before


def test_another_practice_cannot_record_on_this_call(world: World) -> None:
    pm, conference, items = started_call(world)
    decision = lead_decision(world, pm, conference)
    with pytest.raises(Http404):
        record_discussion(actor_for(world.user_b), items[0], decision)
    assert not Discussion.objects.exists()


# --- Follow-ups (step 5d) -------------------------------------------------------------------


def test_a_report_back_date_puts_the_patient_first_on_the_next_call(world: World) -> None:
    pm, conference, items = started_call(world)
    day = _day(conference)
    # The second patient, not the first, comes back: order alone would not put them first.
    decision = lead_decision(world, pm, conference, next_update_on=day + datetime.timedelta(days=7))
    record_discussion(actor_for(pm), items[1], decision)
    end_conference(actor_for(pm), conference, [])
    following = next_call(pm, conference, start=False)
    assert calls.follow_ups_due(following) == {
        items[1].patient_id: day + datetime.timedelta(days=7)
    }
    first = following.agenda_items.order_by("position").first()
    assert first is not None
    assert (first.patient_id, first.kind) == (items[1].patient_id, AgendaKind.FOLLOW_UP)
    assert following.agenda_items.filter(kind=AgendaKind.FOLLOW_UP).count() == 1


# --- Ending the call and its summary (step 8) -----------------------------------------------


def test_ending_the_call_holds_it_records_time_and_drafts_the_summary(world: World) -> None:
    pm, conference, items = started_call(world)
    record_discussion(actor_for(pm), items[0], lead_decision(world, pm, conference))
    attendees = [membership(pm), membership(world.user_a)]
    drafted = end_conference(actor_for(pm), conference, attendees)
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.HELD and conference.ended_at is not None
    assert drafted.sent_at is None
    assert drafted.due_by == summary_due_by(conference, conference.ended_at)
    rows = ParticipantTime.objects.filter(conference=conference, activity=TimeActivity.CALL)
    assert sorted((r.user_id, r.organization_id) for r in rows) == sorted(
        [(pm.pk, world.plan.pk), (world.user_a.pk, world.practice_a.pk)]
    )
    assert {r.minutes for r in rows} == {call_minutes(conference)}
    patients = drafted.content["patients"]
    assert [(p["patient_id"], p["discussed"]) for p in patients] == [
        (items[0].patient_id, True),
        (items[1].patient_id, False),
    ]
    assert patients[0]["goal"] == "Maximize patient access to needed care"
    # The patient not reached is the first named for the next call.
    assert drafted.content["next_call"]["patients"][0]["patient_id"] == items[1].patient_id
    draft_notes = Notification.objects.filter(kind="conference_summary_draft")
    assert [n.user for n in draft_notes] == [pm]
    with pytest.raises(ConferenceError, match="already ended"):
        end_conference(actor_for(pm), conference, attendees)


def test_an_attendee_from_outside_the_partnership_is_refused(world: World) -> None:
    pm, conference, _items = started_call(world)
    with pytest.raises(ConferenceError) as refused:
        end_conference(actor_for(pm), conference, [membership(world.user_b)])
    assert refused.value.field == "attendees"
    conference.refresh_from_db()
    assert conference.ended_at is None and not ConferenceSummary.objects.exists()
    assert not ParticipantTime.objects.exists()


def test_a_friday_calls_summary_is_due_at_the_end_of_monday(world: World) -> None:
    _pm, conference = call_for_a(world)
    zone = zoneinfo.ZoneInfo("America/New_York")
    friday = datetime.datetime(2026, 10, 16, 10, 45, tzinfo=zone)
    assert friday.weekday() == 4
    conference.starts_at = friday - datetime.timedelta(minutes=45)
    conference.save(update_fields=["starts_at"])
    due = summary_due_by(conference, friday)
    assert due == datetime.datetime(2026, 10, 19, 23, 59, 59, tzinfo=zone)
    # A Tuesday call's summary is due on Wednesday.
    tuesday = friday + datetime.timedelta(days=4)
    assert summary_due_by(conference, tuesday).date() == datetime.date(2026, 10, 21)


def test_the_plan_sends_the_summary_once_in_the_app_and_by_email(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    pm, conference, items = started_call(world)
    record_discussion(actor_for(pm), items[0], lead_decision(world, pm, conference))
    end_conference(actor_for(pm), conference, [membership(pm), membership(world.user_a)])
    with pytest.raises(PermissionDenied):
        send_summary(actor_for(world.user_a), conference, "From the practice")
    assert ConferenceSummary.objects.get().sent_at is None

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_summary(actor_for(pm), conference, "  Thanks, all.  ")
    assert sent.sent_at is not None and sent.sent_by == pm and sent.note == "Thanks, all."
    assert [r["user_id"] for r in sent.recipients] == [world.user_a.pk]
    assert {r.user for r in recipients(conference)} == {pm, world.user_a}
    note = Notification.objects.get(kind="conference_summary")
    assert note.user == world.user_a and note.organization == world.practice_a
    assert [m.to for m in mail.outbox] == [[world.user_a.email]]
    names = [i.patient.given_name for i in items] + [i.patient.family_name for i in items]
    assert not any(name in mail.outbox[0].subject for name in names)
    with pytest.raises(ConferenceError, match="was sent on"):
        send_summary(actor_for(pm), conference)
    assert Notification.objects.filter(kind="conference_summary").count() == 1


def test_a_late_summary_reminds_the_project_managers_once(world: World) -> None:
    pm, conference, _items = started_call(world)
    drafted = end_conference(actor_for(pm), conference, [])
    assert remind_late_summaries(drafted.due_by - datetime.timedelta(minutes=1)) == 0
    late = drafted.due_by + datetime.timedelta(minutes=1)
    assert remind_late_summaries(late) == 1
    assert remind_late_summaries(late + datetime.timedelta(days=1)) == 0
    reminders = Notification.objects.filter(kind="conference_summary_late")
    assert [n.user for n in reminders] == [pm]
    drafted.refresh_from_db()
    assert drafted.is_late(late) and drafted.late_reminded_at == late


def test_a_sent_summary_is_not_a_late_one(world: World) -> None:
    pm, conference, _items = started_call(world)
    drafted = end_conference(actor_for(pm), conference, [])
    send_summary(actor_for(pm), conference)
    assert remind_late_summaries(drafted.due_by + datetime.timedelta(days=2)) == 0


def test_the_summary_shows_a_reader_only_the_patients_they_may_see(world: World) -> None:
    pm, conference, items = started_call(world)
    drafted = end_conference(actor_for(pm), conference, [])
    # The second patient leaves practice A: its staff no longer see them in the summary.
    AttributionSpan.objects.filter(patient=items[1].patient, organization=world.practice_a).update(
        end_date=datetime.date(2026, 1, 31)
    )
    shown = visible_summary_patients(actor_for(world.user_a), drafted.content)
    assert [p["patient_id"] for p in shown["patients"]] == [items[0].patient_id]
    assert items[1].patient_id not in [p["patient_id"] for p in shown["next_call"]["patients"]]
    whole = visible_summary_patients(actor_for(pm), drafted.content)
    assert [p["patient_id"] for p in whole["patients"]] == [i.patient_id for i in items]


# --- Tracking list (step 6b) ----------------------------------------------------------------


def _tracked(world: World) -> tuple[User, TrackingEntry]:
    pm, _conference, items = started_call(world)
    decision = _stop(
        still_practice_patient=True,
        engagement=Engagement.DECLINED_AFTER_ATTEMPT,
        outreach_attempts="Two home visits\nLetter",
    )
    record_discussion(actor_for(pm), items[0], decision)
    return pm, TrackingEntry.objects.get()


def _episode(
    patient: Patient, patient_class: str, admitted: datetime.datetime, visit: str
) -> Episode:
    return Episode.objects.create(
        patient=patient,
        facility="Mercy Hospital",
        visit_number=visit,
        patient_class=patient_class,
        admitted_at=admitted,
        discharged_at=admitted + datetime.timedelta(hours=30),
        status=EpisodeStatus.CLOSED,
    )


def test_due_reports_count_the_stays_of_the_six_months_and_tell_the_practice(
    world: World,
) -> None:
    _pm, entry = _tracked(world)
    due = datetime.date(2027, 6, 1)
    entry.next_report_on = due
    entry.save(update_fields=["next_report_on"])
    utc = datetime.UTC
    _episode(entry.patient, PatientClass.EMERGENCY, datetime.datetime(2027, 1, 10, tzinfo=utc), "1")
    _episode(entry.patient, PatientClass.INPATIENT, datetime.datetime(2027, 3, 2, tzinfo=utc), "2")
    _episode(entry.patient, PatientClass.EMERGENCY, datetime.datetime(2027, 4, 9, tzinfo=utc), "3")
    # Before the window: not counted.
    _episode(entry.patient, PatientClass.INPATIENT, datetime.datetime(2026, 10, 1, tzinfo=utc), "4")
    assert send_due_reports(due - datetime.timedelta(days=1)) == 0
    assert send_due_reports(due) == 1
    report = TrackingReport.objects.get()
    assert (report.period_start, report.period_end) == (datetime.date(2026, 12, 1), due)
    assert (report.content["ed_visits"], report.content["inpatient_stays"]) == (2, 1)
    entry.refresh_from_db()
    assert entry.next_report_on == datetime.date(2027, 12, 1)
    told = Notification.objects.filter(kind="tracking_report")
    assert [(n.user, n.organization) for n in told] == [(world.user_a, world.practice_a)]
    assert send_due_reports(due) == 0  # the next one is six months on


def test_a_removed_patient_gets_no_more_reports(world: World) -> None:
    _pm, entry = _tracked(world)
    with pytest.raises(ConferenceError) as refused:
        remove_from_tracking(actor_for(world.user_a), entry, "   ")
    assert refused.value.field == "reason"
    entry.refresh_from_db()
    assert entry.is_active
    removed = remove_from_tracking(actor_for(world.user_a), entry, "Saw the PCP on 2026-12-01")
    assert removed.removed_by == world.user_a and not removed.is_active
    assert send_due_reports(entry.next_report_on + datetime.timedelta(days=1)) == 0
    with pytest.raises(ConferenceError, match="no longer"):
        remove_from_tracking(actor_for(world.user_a), entry, "Again")


def test_only_the_plan_reports_claims_activity_on_demand(world: World) -> None:
    pm, entry = _tracked(world)
    with pytest.raises(PermissionDenied):
        report_now(actor_for(world.user_a), entry)
    assert not TrackingReport.objects.exists()
    report = report_now(actor_for(world.plan_user), entry)
    assert report.created_by == world.plan_user
    assert report.period_end == timezone.localdate()
    with pytest.raises(ConferenceError, match="already sent today"):
        report_now(actor_for(pm), entry)
    with pytest.raises(Http404):
        report_now(actor_for(world.user_b), entry)


def test_a_tracked_patients_admission_alerts_the_plan_once_per_stay(world: World) -> None:
    hospital_knows(world)
    pm, _conference, items = started_call(world, world.patient_a)
    decision = _stop(
        still_practice_patient=True,
        engagement=Engagement.DECLINED_AFTER_ATTEMPT,
        outreach_attempts="Home visit 2026-10-02",
    )
    record_discussion(actor_for(pm), items[0], decision)
    first = deliver(member_message("A01", patient_class="I", visit_number="V77"))
    assert (first.status, first.error) == (MessageStatus.PROCESSED, "")
    alerts = Notification.objects.filter(kind="tracking_admission")
    assert [(n.user, n.patient) for n in alerts] == [(pm, world.patient_a)]
    # The same stay again (a resent admission, then an update): no second alert.
    for trigger in ("A01", "A08"):
        again = deliver(member_message(trigger, patient_class="I", visit_number="V77"))
        assert (again.status, again.error) == (MessageStatus.PROCESSED, ""), trigger
    assert Episode.objects.filter(patient=world.patient_a).count() == 1
    assert Notification.objects.filter(kind="tracking_admission").count() == 1


def test_an_untracked_patients_admission_alerts_no_one_on_the_plan(world: World) -> None:
    hospital_knows(world)
    project_manager(world)
    deliver(member_message("A01", patient_class="I", visit_number="V78"))
    assert Episode.objects.filter(patient=world.patient_a).exists()
    assert not Notification.objects.filter(kind="tracking_admission").exists()


# --- Measures -------------------------------------------------------------------------------


def test_measures_count_patients_decisions_and_each_persons_time(world: World) -> None:
    pm, conference, items = started_call(world)
    record_discussion(actor_for(pm), items[0], lead_decision(world, pm, conference))
    tracking = _stop(
        still_practice_patient=True,
        engagement=Engagement.DECLINED_AFTER_ATTEMPT,
        outreach_attempts="Letter",
    )
    record_discussion(actor_for(pm), items[1], tracking)
    record_prework_time(actor_for(pm), conference, 25)
    record_prework_time(actor_for(world.user_a), conference, 40)
    record_prework_time(actor_for(world.user_a), conference, 35)  # replaces the 40
    with pytest.raises(ConferenceError) as refused:
        record_prework_time(actor_for(world.user_a), conference, 0)
    assert refused.value.field == "minutes"
    end_conference(actor_for(pm), conference, [membership(pm), membership(world.user_a)])

    conference.refresh_from_db()
    measures = conference_measures(actor_for(pm), world.partnership_a.pk)
    (row,) = measures.conferences
    minutes = call_minutes(conference)
    assert minutes is not None
    assert (row.agenda_patients, row.patients_reviewed, row.tasks_created) == (2, 2, 2)
    # Decided: itself, the goal, two next steps, one plan service = 5; tracking: 1.
    assert row.decisions_per_patient == 3.0
    assert row.outcomes == {
        DiscussionOutcome.DECIDED.label: 1,
        DiscussionOutcome.TRACKING.label: 1,
    }
    assert [(p.organization, p.prework_minutes, p.call_minutes) for p in row.people] == sorted(
        [("Plan P", 25, minutes), ("Practice A", 35, minutes)]
    )
    assert (row.prework_minutes, row.staff_call_minutes) == (60, 2 * minutes)
    assert measures.patients_reviewed == 2 and measures.average_patients_per_call == 2.0
    assert row.summary_late is False
