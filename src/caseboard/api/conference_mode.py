"""Conference mode over the API (seed 004, Attachment A, steps 6–8): starting a call, recording
each patient's discussion, ending the call, the summary and sending it, pre-work time, the
tracking list with its reports, and the conference measures.

As in the pages, the object is looked up through the access policy before the body is read, so
a request about another organization's object is answered 404 whatever its body holds.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import BaseModel, Field

from caseboard import access
from caseboard.access import conference as conference_access
from caseboard.api.conference import ErrorOut, _body, _json_body
from caseboard.api.context import actor_of
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.conference import decisions, summary, tracking
from caseboard.conference.decisions import DecisionInput, Engagement, NextStep
from caseboard.conference.errors import ConferenceError
from caseboard.conference.measures import conference_measures
from caseboard.conference.models import (
    Conference,
    ConferenceSummary,
    Discussion,
    TrackingEntry,
    TrackingReport,
)
from caseboard.conference.run import partnership_staff, summary_page
from caseboard.orgs.models import Membership, Partnership

router = Router(tags=["case conferences"])


# --- Bodies ---------------------------------------------------------------------------------


class NextStepIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    side: str = Field(pattern="^(plan|practice)$")
    due_on: datetime.date
    owner_membership_id: int | None = None


class DiscussionIn(BaseModel):
    """The call's questions in order: step 6a, 6c, 6b, then 5d or step 7."""

    still_practice_patient: bool
    last_seen_by_practice: datetime.date | None = None
    still_covered: bool | None = True
    new_insurer: str = ""
    engagement: str = Engagement.ENGAGED
    outreach_attempts: str = ""
    need_information: bool = False
    lead: str = ""
    plan_monitors: bool = False
    why_high_risk: str = ""
    barriers: str = ""
    plan_services: list[str] = []
    goal: str = ""
    next_steps: list[NextStepIn] = []
    report_back_cadence: str = Field(default="", max_length=200)
    next_update_on: datetime.date | None = None
    plan_case_manager_membership_id: int | None = None
    plan_social_care_manager_membership_id: int | None = None
    practice_care_manager_membership_id: int | None = None
    notes: str = ""
    started_at: datetime.datetime | None = None


class EndIn(BaseModel):
    attendee_membership_ids: list[int] = []


class SendIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class MinutesIn(BaseModel):
    minutes: int


class RemoveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


# --- Answers --------------------------------------------------------------------------------


class CallOut(Schema):
    id: int
    status: str
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None


class DiscussionOut(Schema):
    id: int
    agenda_item_id: int
    patient_id: int
    outcome: str
    outcome_label: str
    lead: str
    plan_monitors: bool
    plan_services: list[str]
    goal_id: int | None
    task_ids: list[int]
    enrollment_ids: list[int]
    next_update_on: datetime.date | None
    report_back_cadence: str
    seconds: int
    recorded_by: str
    recorded_at: datetime.datetime


class SummaryOut(Schema):
    conference_id: int
    drafted_at: datetime.datetime
    due_by: datetime.datetime
    sent_at: datetime.datetime | None
    sent_by: str | None
    late: bool
    note: str
    recipients: list[dict[str, Any]]
    content: dict[str, Any]


class MinutesOut(Schema):
    conference_id: int
    minutes: int


class TrackingReportOut(Schema):
    id: int
    tracking_id: int
    patient_id: int
    period_start: datetime.date
    period_end: datetime.date
    created_at: datetime.datetime
    content: dict[str, Any]


class TrackingOut(Schema):
    id: int
    partnership_id: int
    patient_id: int
    patient_name: str
    reason: str
    outreach_attempts: list[str]
    added_at: datetime.datetime
    next_report_on: datetime.date
    report_due: bool
    removed_at: datetime.datetime | None
    removal_reason: str
    last_report_id: int | None


class PersonTimeOut(Schema):
    name: str
    organization: str
    prework_minutes: int
    call_minutes: int


class ConferenceMeasuresOut(Schema):
    conference_id: int
    day: datetime.date
    status: str
    call_minutes: int | None
    agenda_patients: int
    patients_reviewed: int
    decisions_per_patient: float | None
    tasks_created: int
    average_minutes_per_patient: float | None
    outcomes: dict[str, int]
    prework_minutes: int
    staff_call_minutes: int
    summary_late: bool | None
    people: list[PersonTimeOut]


# --- Helpers --------------------------------------------------------------------------------


def _member(partnership: Partnership, membership_id: int | None, field: str) -> Membership | None:
    """A membership of either side of the partnership, or a 400 naming the field."""
    if membership_id is None:
        return None
    staff = partnership_staff(partnership, "plan") | partnership_staff(partnership, "practice")
    found = staff.filter(pk=membership_id).first()
    if found is None:
        raise ConferenceError(
            f"Membership {membership_id} is not an active member of {partnership.plan} or"
            f" {partnership.partner}.",
            field=field,
        )
    return found


def _decision(partnership: Partnership, body: DiscussionIn) -> DecisionInput:
    steps = [
        NextStep(
            title=s.title,
            side=s.side,
            due_on=s.due_on,
            owner=_member(partnership, s.owner_membership_id, f"next_steps.{n}.owner"),
        )
        for n, s in enumerate(body.next_steps)
    ]
    return DecisionInput(
        still_practice_patient=body.still_practice_patient,
        last_seen_by_practice=body.last_seen_by_practice,
        still_covered=body.still_covered,
        new_insurer=body.new_insurer,
        engagement=body.engagement,
        outreach_attempts=body.outreach_attempts,
        need_information=body.need_information,
        lead=body.lead,
        plan_monitors=body.plan_monitors,
        why_high_risk=body.why_high_risk,
        barriers=body.barriers,
        plan_services=body.plan_services,
        goal=body.goal,
        next_steps=steps,
        report_back_cadence=body.report_back_cadence,
        next_update_on=body.next_update_on,
        plan_case_manager=_member(
            partnership, body.plan_case_manager_membership_id, "plan_case_manager"
        ),
        plan_social_care_manager=_member(
            partnership, body.plan_social_care_manager_membership_id, "plan_social_care_manager"
        ),
        practice_care_manager=_member(
            partnership, body.practice_care_manager_membership_id, "practice_care_manager"
        ),
        notes=body.notes,
        started_at=body.started_at,
    )


def _call(conference: Conference) -> CallOut:
    return CallOut(
        id=conference.pk,
        status=conference.status,
        started_at=conference.started_at,
        ended_at=conference.ended_at,
    )


def _discussion(d: Discussion) -> DiscussionOut:
    return DiscussionOut(
        id=d.pk,
        agenda_item_id=d.agenda_item_id,
        patient_id=d.agenda_item.patient_id,
        outcome=d.outcome,
        outcome_label=d.get_outcome_display(),
        lead=d.lead,
        plan_monitors=d.plan_monitors,
        plan_services=list(d.plan_services),
        goal_id=d.goal_id,
        task_ids=sorted(d.tasks.values_list("pk", flat=True)),
        enrollment_ids=sorted(d.enrollments.values_list("pk", flat=True)),
        next_update_on=d.next_update_on,
        report_back_cadence=d.report_back_cadence,
        seconds=d.seconds,
        recorded_by=d.recorded_by.get_full_name() or d.recorded_by.get_username(),
        recorded_at=d.recorded_at,
    )


def _summary_out(request: HttpRequest, conference_id: int) -> SummaryOut | None:
    page = summary_page(actor_of(request), conference_id)
    s: ConferenceSummary | None = page.summary
    if s is None:
        return None
    return SummaryOut(
        conference_id=page.conference.pk,
        drafted_at=s.drafted_at,
        due_by=s.due_by,
        sent_at=s.sent_at,
        sent_by=(s.sent_by.get_full_name() or s.sent_by.get_username()) if s.sent_by else None,
        late=page.is_late,
        note=s.note,
        recipients=list(s.recipients),
        content=page.content,
    )


def _drafted(request: HttpRequest, conference_id: int) -> SummaryOut:
    found = _summary_out(request, conference_id)
    assert found is not None, "ending a call drafts its summary"
    return found


def _tracking_out(entry: TrackingEntry, last: TrackingReport | None, due: bool) -> TrackingOut:
    return TrackingOut(
        id=entry.pk,
        partnership_id=entry.partnership_id,
        patient_id=entry.patient_id,
        patient_name=entry.patient.full_name,
        reason=entry.reason,
        outreach_attempts=[a for a in entry.outreach_attempts.splitlines() if a.strip()],
        added_at=entry.added_at,
        next_report_on=entry.next_report_on,
        report_due=due,
        removed_at=entry.removed_at,
        removal_reason=entry.removal_reason,
        last_report_id=last.pk if last else None,
    )


def _report_out(report: TrackingReport) -> TrackingReportOut:
    return TrackingReportOut(
        id=report.pk,
        tracking_id=report.entry_id,
        patient_id=report.entry.patient_id,
        period_start=report.period_start,
        period_end=report.period_end,
        created_at=report.created_at,
        content=report.content,
    )


# --- Endpoints ------------------------------------------------------------------------------


@router.post(
    "/conferences/{conference_id}/start",
    response={200: CallOut, 400: ErrorOut},
    summary="Start a call's clock (its agenda must be built)",
)
def start_call(request: HttpRequest, conference_id: int) -> CallOut:
    actor = actor_of(request)
    conference = conference_access.get_conference_for_user(actor, conference_id)
    return _call(decisions.start_conference(actor, conference))


@router.get(
    "/agenda-items/{item_id}/discussion",
    response=DiscussionOut | None,
    summary="What the call decided for an agenda patient; null until it is discussed",
)
def get_discussion(request: HttpRequest, item_id: int) -> DiscussionOut | None:
    actor = actor_of(request)
    item = conference_access.get_agenda_item_for_user(actor, item_id)
    found = Discussion.objects.filter(agenda_item=item).first()
    if found is None:
        return None
    log.record(
        actor, AuditAction.VIEW, patient=item.patient, obj=found, detail={"api": "discussion"}
    )
    return _discussion(found)


@router.post(
    "/agenda-items/{item_id}/discussion",
    response={201: DiscussionOut, 400: ErrorOut},
    summary="Record the discussion of one agenda patient (steps 6–7); it carries into care"
    " management",
    openapi_extra=_json_body(DiscussionIn),
)
def record_discussion(request: HttpRequest, item_id: int) -> Status[DiscussionOut]:
    actor = actor_of(request)
    item = conference_access.get_agenda_item_for_user(actor, item_id)
    body: DiscussionIn = _body(request, DiscussionIn)
    partnership = item.conference.series.partnership
    discussion = decisions.record_discussion(actor, item, _decision(partnership, body))
    return Status(201, _discussion(discussion))


@router.post(
    "/conferences/{conference_id}/end",
    response={200: SummaryOut, 400: ErrorOut},
    summary="End the call: attendees' time is recorded and the summary drafted",
    openapi_extra=_json_body(EndIn),
)
def end_call(request: HttpRequest, conference_id: int) -> SummaryOut:
    actor = actor_of(request)
    conference = conference_access.get_conference_for_user(actor, conference_id)
    body: EndIn = _body(request, EndIn)
    partnership = conference.series.partnership
    attendees = [
        member
        for n, pk in enumerate(body.attendee_membership_ids)
        if (member := _member(partnership, pk, f"attendee_membership_ids.{n}")) is not None
    ]
    summary.end_conference(actor, conference, attendees)
    return _drafted(request, conference.pk)


@router.get(
    "/conferences/{conference_id}/summary",
    response=SummaryOut | None,
    summary="The call's summary, with the patients the caller may see; null until the call ends",
)
def get_summary(request: HttpRequest, conference_id: int) -> SummaryOut | None:
    return _summary_out(request, conference_id)


@router.post(
    "/conferences/{conference_id}/summary/send",
    response={200: SummaryOut, 400: ErrorOut, 403: ErrorOut},
    summary="Send the summary to the participants (the plan's staff, step 8)",
    openapi_extra=_json_body(SendIn),
)
def send_summary(request: HttpRequest, conference_id: int) -> SummaryOut:
    actor = actor_of(request)
    conference = conference_access.get_conference_for_user(actor, conference_id)
    body: SendIn = _body(request, SendIn)
    summary.send_summary(actor, conference, body.note)
    return _drafted(request, conference.pk)


@router.post(
    "/conferences/{conference_id}/prework-time",
    response={200: MinutesOut, 400: ErrorOut},
    summary="The caller's own pre-work time for a call, in minutes",
    openapi_extra=_json_body(MinutesIn),
)
def prework_time(request: HttpRequest, conference_id: int) -> MinutesOut:
    actor = actor_of(request)
    conference = conference_access.get_conference_for_user(actor, conference_id)
    body: MinutesIn = _body(request, MinutesIn)
    time = summary.record_prework_time(actor, conference, body.minutes)
    return MinutesOut(conference_id=conference.pk, minutes=time.minutes)


@router.get(
    "/partnerships/{partnership_id}/tracking",
    response=list[TrackingOut],
    summary="The partnership's tracking list (step 6b) with the last report of each patient",
)
def get_tracking(request: HttpRequest, partnership_id: int) -> list[TrackingOut]:
    actor = actor_of(request)
    partnership = access.get_partnership_for_user(actor, partnership_id)
    rows = tracking.tracking_list(actor, partnership, include_removed=True)
    return [_tracking_out(r.entry, r.last_report, r.report_due) for r in rows]


@router.post(
    "/tracking/{tracking_id}/report",
    response={201: TrackingReportOut, 400: ErrorOut, 403: ErrorOut},
    summary="Report the patient's claims activity to the practice now (the plan's staff)",
)
def report_now(request: HttpRequest, tracking_id: int) -> Status[TrackingReportOut]:
    actor = actor_of(request)
    entry = conference_access.get_tracking_entry_for_user(actor, tracking_id)
    return Status(201, _report_out(tracking.report_now(actor, entry)))


@router.post(
    "/tracking/{tracking_id}/remove",
    response={200: TrackingOut, 400: ErrorOut},
    summary="Take a patient off the tracking list, with the reason",
    openapi_extra=_json_body(RemoveIn),
)
def remove_from_tracking(request: HttpRequest, tracking_id: int) -> TrackingOut:
    actor = actor_of(request)
    entry = conference_access.get_tracking_entry_for_user(actor, tracking_id)
    body: RemoveIn = _body(request, RemoveIn)
    entry = tracking.remove_from_tracking(actor, entry, body.reason)
    return _tracking_out(entry, entry.reports.order_by("-period_end").first(), False)


@router.get(
    "/tracking-reports/{report_id}",
    response=TrackingReportOut,
    summary="One six-month claims-activity report",
)
def get_tracking_report(request: HttpRequest, report_id: int) -> TrackingReportOut:
    actor = actor_of(request)
    report = conference_access.get_tracking_report_for_user(actor, report_id)
    log.record(
        actor,
        AuditAction.VIEW,
        patient=report.entry.patient,
        obj=report,
        detail={"api": "tracking_report"},
    )
    return _report_out(report)


@router.get(
    "/partnerships/{partnership_id}/conference-measures",
    response=list[ConferenceMeasuresOut],
    summary="Per call: length, patients reviewed, decisions per patient, staff time",
)
def get_measures(request: HttpRequest, partnership_id: int) -> list[ConferenceMeasuresOut]:
    measures = conference_measures(actor_of(request), partnership_id)
    return [
        ConferenceMeasuresOut(
            conference_id=m.conference.pk,
            day=m.day,
            status=m.conference.status,
            call_minutes=m.call_minutes,
            agenda_patients=m.agenda_patients,
            patients_reviewed=m.patients_reviewed,
            decisions_per_patient=m.decisions_per_patient,
            tasks_created=m.tasks_created,
            average_minutes_per_patient=m.average_minutes_per_patient,
            outcomes=m.outcomes,
            prework_minutes=m.prework_minutes,
            staff_call_minutes=m.staff_call_minutes,
            summary_late=m.summary_late,
            people=[
                PersonTimeOut(
                    name=p.name,
                    organization=p.organization,
                    prework_minutes=p.prework_minutes,
                    call_minutes=p.call_minutes,
                )
                for p in m.people
            ],
        )
        for m in measures.conferences
    ]
