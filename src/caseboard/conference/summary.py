"""Ending a call, its summary (step 8) and the time people gave it (issue measures).

Step 8: "within a day of the conference call, the health plan's Project Manager sends a brief
summary of decisions made and next steps for each patient, and the names of the patients to be
discussed during the next conference call." The summary is drafted when the call ends, the
plan's staff review it, add a note and send it to the participants in the app and by e-mail
(the e-mail names no patient: it links back here). A summary still unsent at the end of the
next business day after the call is flagged, and the plan's project managers are reminded once.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.queries.tasks import holiday_state, next_business_day
from caseboard.conference.calls import conference_day, follow_ups_by, next_slot
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import (
    AgendaItem,
    Conference,
    ConferenceStatus,
    ConferenceSummary,
    Discussion,
    Lead,
    ParticipantTime,
    PlanService,
    TimeActivity,
)
from caseboard.orgs.models import Membership, Role
from caseboard.patients.models import Patient

MAX_MINUTES = 600


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _contact(member: Membership | None, role: str) -> dict[str, str] | None:
    if member is None:
        return None
    return {
        "role": role,
        "name": _person(member.user),
        "phone": member.phone,
        "organization": member.organization.name,
    }


def _discussion_record(item: AgendaItem, discussion: Discussion) -> dict[str, Any]:
    tasks = [
        {
            "title": t.title,
            "organization": t.owner_organization.name,
            "owner": _person(t.owner_user),
            "due_on": t.due_on.isoformat(),
        }
        for t in discussion.tasks.select_related("owner_organization", "owner_user").order_by(
            "due_on", "pk"
        )
    ]
    contacts = [
        c
        for c in (
            _contact(discussion.plan_case_manager, "Plan case manager"),
            _contact(discussion.plan_social_care_manager, "Plan social care manager"),
            _contact(discussion.practice_care_manager, "Practice care manager"),
        )
        if c is not None
    ]
    return {
        "outcome": discussion.outcome,
        "outcome_label": discussion.get_outcome_display(),
        "lead": Lead(discussion.lead).label if discussion.lead else "",
        "plan_monitors": discussion.plan_monitors,
        "why_high_risk": discussion.why_high_risk,
        "barriers": discussion.barriers,
        "plan_services": [PlanService(s).label for s in discussion.plan_services],
        "goal": discussion.goal.statement if discussion.goal else "",
        "new_insurer": discussion.new_insurer,
        "last_seen_by_practice": (
            discussion.last_seen_by_practice.isoformat()
            if discussion.last_seen_by_practice
            else None
        ),
        "outreach_attempts": discussion.outreach_attempts,
        "tasks": tasks,
        "report_back_cadence": discussion.report_back_cadence,
        "next_update_on": (
            discussion.next_update_on.isoformat() if discussion.next_update_on else None
        ),
        "contacts": contacts,
        "notes": discussion.notes,
        "minutes": round(discussion.seconds / 60, 1),
    }


def summary_content(conference: Conference) -> dict[str, Any]:
    """The decisions, tasks, report-back dates and next patients of a call, as data. Patient
    ids ride along so that each reader sees only the patients the access policy lets them."""
    items = list(conference.agenda_items.select_related("patient").order_by("position"))
    discussions = {
        d.agenda_item_id: d
        for d in Discussion.objects.filter(agenda_item__conference=conference).select_related(
            "goal",
            "plan_case_manager__user",
            "plan_case_manager__organization",
            "plan_social_care_manager__user",
            "plan_social_care_manager__organization",
            "practice_care_manager__user",
            "practice_care_manager__organization",
        )
    }
    patients = []
    for item in items:
        record: dict[str, Any] = {
            "patient_id": item.patient_id,
            "name": item.patient.full_name,
            "position": item.position,
            "agenda_reason": item.reason,
        }
        discussion = discussions.get(item.pk)
        record["discussed"] = discussion is not None
        if discussion is not None:
            record.update(_discussion_record(item, discussion))
        patients.append(record)
    series = conference.series
    following = next_slot(series, conference.starts_at)
    zone = zoneinfo.ZoneInfo(series.time_zone)
    due = follow_ups_by(series, following, following.astimezone(zone).date())
    next_ids = [p["patient_id"] for p in patients if not p["discussed"]]
    next_ids += [pid for pid in sorted(due, key=lambda p: (due[p], p)) if pid not in next_ids]
    names = {p["patient_id"]: p["name"] for p in patients}
    for patient in Patient.objects.filter(pk__in=[i for i in next_ids if i not in names]):
        names[patient.pk] = patient.full_name
    times = ParticipantTime.objects.filter(conference=conference).select_related(
        "user", "organization"
    )
    return {
        "day": conference_day(conference).isoformat(),
        "partnership": str(series.partnership),
        "started_at": conference.started_at.isoformat() if conference.started_at else None,
        "ended_at": conference.ended_at.isoformat() if conference.ended_at else None,
        "minutes": call_minutes(conference),
        "patients": patients,
        "next_call": {
            "starts_at": following.isoformat(),
            "patients": [
                {
                    "patient_id": pid,
                    "name": names.get(pid, ""),
                    "why": (
                        f"Report back due {due[pid]:%Y-%m-%d}"
                        if pid in due
                        else "Not reached on this call"
                    ),
                }
                for pid in next_ids
            ],
        },
        "attendees": sorted(
            {
                f"{_person(t.user)} ({t.organization.name})"
                for t in times
                if t.activity == TimeActivity.CALL
            }
        ),
    }


def call_minutes(conference: Conference) -> int | None:
    if conference.started_at is None or conference.ended_at is None:
        return None
    seconds = (conference.ended_at - conference.started_at).total_seconds()
    return max(1, math.ceil(seconds / 60))


def summary_due_by(conference: Conference, ended_at: datetime.datetime) -> datetime.datetime:
    """The end of the next business day after the call, in the series' zone (holidays of the
    plan's state)."""
    zone = zoneinfo.ZoneInfo(conference.series.time_zone)
    day = ended_at.astimezone(zone).date()
    due_day = next_business_day(day, holiday_state(conference.series.partnership.plan))
    return datetime.datetime.combine(due_day, datetime.time(23, 59, 59), tzinfo=zone)


def _project_managers(conference: Conference) -> list[Membership]:
    staff = Membership.objects.select_related("user").filter(
        organization_id=conference.series.partnership.plan_id, is_active=True
    )
    managers = list(staff.filter(role=Role.PROJECT_MANAGER))
    return managers or list(staff.filter(role=Role.DIRECTOR_OF_CARE_MANAGEMENT))


@transaction.atomic
def end_conference(
    actor: Actor, conference: Conference, attendees: Iterable[Membership]
) -> ConferenceSummary:
    """End the call: it counts as held, each attendee's call time is recorded, and the summary
    is drafted for the plan to review and send."""
    conference = conference_access.get_conference_for_editor(actor, conference.pk)
    conference = Conference.objects.select_for_update().get(pk=conference.pk)
    if conference.started_at is None:
        raise ConferenceError("The call has not started.")
    if conference.ended_at is not None:
        raise ConferenceError("The call has already ended.")
    partnership = conference.series.partnership
    sides = {partnership.plan_id, partnership.partner_id}
    attendees = list(attendees)
    for member in attendees:
        if member.organization_id not in sides or not member.is_active:
            raise ConferenceError(
                f"{_person(member.user)} does not work for either side of this partnership.",
                field="attendees",
            )
    now = timezone.now()
    conference.ended_at = now
    conference.status = ConferenceStatus.HELD
    conference.save(update_fields=["ended_at", "status"])
    minutes = call_minutes(conference) or 1
    for member in attendees:
        ParticipantTime.objects.update_or_create(
            conference=conference,
            user=member.user,
            activity=TimeActivity.CALL,
            defaults={
                "organization_id": member.organization_id,
                "minutes": min(minutes, MAX_MINUTES),
                "recorded_by": actor.user,
            },
        )
    summary = ConferenceSummary.objects.create(
        conference=conference,
        content=summary_content(conference),
        drafted_at=now,
        due_by=summary_due_by(conference, now),
    )
    log.record(actor, AuditAction.UPDATE, obj=conference, detail={"ended": True})
    for member in _project_managers(conference):
        notify(
            member.user,
            member.organization,
            kind="conference_summary_draft",
            title="A case conference summary is ready to review and send",
            body=f"Due by {timezone.localtime(summary.due_by):%Y-%m-%d %H:%M}.",
            url=reverse("conference_summary", args=[conference.pk]),
        )
    return summary


def recipients(conference: Conference) -> list[Membership]:
    """The core participants of the series and everyone who attended, active ones only."""
    attended = ParticipantTime.objects.filter(
        conference=conference, activity=TimeActivity.CALL
    ).values_list("user_id", flat=True)
    partnership = conference.series.partnership
    members = Membership.objects.select_related("user", "organization").filter(
        is_active=True, organization_id__in=[partnership.plan_id, partnership.partner_id]
    )
    core = set(conference.series.core_participants.values_list("pk", flat=True))
    attended_ids = set(attended)
    ordered = members.order_by("organization__name", "user__last_name")
    return [m for m in ordered if m.pk in core or m.user_id in attended_ids]


@transaction.atomic
def send_summary(actor: Actor, conference: Conference, note: str = "") -> ConferenceSummary:
    """Send the summary to the participants (the plan's staff do: its project manager sends it,
    step 8). The content is refreshed first, so tasks changed since the call show as they are."""
    conference = conference_access.get_conference_for_user(actor, conference.pk)
    conference_access.require_plan_staff(
        actor, conference.series.partnership, "send the conference summary"
    )
    summary = ConferenceSummary.objects.select_for_update().filter(conference=conference).first()
    if summary is None:
        raise ConferenceError("End the call first: its summary is drafted then.")
    if summary.sent_at is not None:
        raise ConferenceError(
            f"This summary was sent on {timezone.localtime(summary.sent_at):%Y-%m-%d %H:%M}"
            f" by {_person(summary.sent_by)}."
        )
    people = [m for m in recipients(conference) if m.user_id != actor.user.pk]
    summary.content = summary_content(conference)
    summary.note = note.strip()
    summary.sent_at = timezone.now()
    summary.sent_by = actor.user
    summary.recipients = [
        {"user_id": m.user_id, "name": _person(m.user), "organization": m.organization.name}
        for m in people
    ]
    summary.save()
    for member in people:
        notify(
            member.user,
            member.organization,
            kind="conference_summary",
            title="Case conference summary",
            body=(
                f"Decisions for {sum(1 for p in summary.content['patients'] if p['discussed'])}"
                f" patient(s); next call {summary.content['next_call']['starts_at'][:10]}."
            ),
            url=reverse("conference_summary", args=[conference.pk]),
        )
    log.record(
        actor,
        AuditAction.UPDATE,
        obj=summary,
        detail={"sent": True, "recipients": [m.user_id for m in people]},
    )
    return summary


def visible_summary_patients(actor: Actor, content: dict[str, Any]) -> dict[str, Any]:
    """The summary with only the patients the actor may see."""
    ids = {p["patient_id"] for p in content.get("patients", [])} | {
        p["patient_id"] for p in content.get("next_call", {}).get("patients", [])
    }
    seen = set(access.visible_patients(actor).filter(pk__in=ids).values_list("pk", flat=True))
    shown = dict(content)
    shown["patients"] = [p for p in content.get("patients", []) if p["patient_id"] in seen]
    next_call = dict(content.get("next_call", {}))
    next_call["patients"] = [p for p in next_call.get("patients", []) if p["patient_id"] in seen]
    shown["next_call"] = next_call
    return shown


def remind_late_summaries(now: datetime.datetime | None = None) -> int:
    """Remind the plan's project managers, once, of each summary past its due time unsent."""
    now = now or timezone.now()
    late = ConferenceSummary.objects.select_related("conference__series__partnership").filter(
        sent_at__isnull=True, due_by__lt=now, late_reminded_at__isnull=True
    )
    count = 0
    for summary in late:
        for member in _project_managers(summary.conference):
            notify(
                member.user,
                member.organization,
                kind="conference_summary_late",
                title="A case conference summary was not sent within one business day",
                url=reverse("conference_summary", args=[summary.conference_id]),
            )
            count += 1
        ConferenceSummary.objects.filter(pk=summary.pk).update(late_reminded_at=now)
    return count


def record_prework_time(actor: Actor, conference: Conference, minutes: int) -> ParticipantTime:
    """The actor's own pre-work time for a call (step 4), replacing what they entered before."""
    conference = conference_access.get_conference_for_editor(actor, conference.pk)
    if not 1 <= minutes <= MAX_MINUTES:
        raise ConferenceError(
            f"Pre-work time is between 1 and {MAX_MINUTES} minutes, not {minutes}.",
            field="minutes",
        )
    time, _ = ParticipantTime.objects.update_or_create(
        conference=conference,
        user=actor.user,
        activity=TimeActivity.PREWORK,
        defaults={
            "organization": actor.organization,
            "minutes": minutes,
            "recorded_by": actor.user,
        },
    )
    log.record(actor, AuditAction.UPDATE, obj=conference, detail={"prework_minutes": minutes})
    return time
