"""The plan's tracking list (seed 004, Attachment A, step 6b).

A patient unengaged for a long time, and still declining PCP engagement after the practice's
last face-to-face attempt, goes on the tracking list: "the health plan will place the patient on
a tracking list, track patient claims activity and report to the practice every six months"
(6b-iii). While the practice is making that last attempt, and while the patient is tracked,
"the health plan will notify the practice when the member is admitted to a facility" (6b-ii):
`alert_admission` runs for each stay the hospital feed or the claims hand-off opens.

Claims activity comes from the stays caseboard knows (hospital ADT and claims-based episodes)
and the plan's pre-work claims facts; each report is kept as sent.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.models import OPEN_TASK_STATUSES, Notification
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import (
    Discussion,
    DiscussionOutcome,
    TrackingEntry,
    TrackingReport,
)
from caseboard.orgs.models import Membership, Organization, Partnership, Role
from caseboard.patients.models import ClaimsFacts, Patient
from caseboard.transitions.models import Episode, PatientClass

REPORT_MONTHS = 6


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackingRow:
    entry: TrackingEntry
    attempts: list[str]
    last_report: TrackingReport | None
    report_due: bool


def tracking_list(
    actor: Actor, partnership: Partnership, *, include_removed: bool = False
) -> list[TrackingRow]:
    """The partnership's tracking list with the outreach attempts and the last report."""
    entries = conference_access.visible_tracking(actor).filter(partnership=partnership)
    if not include_removed:
        entries = entries.filter(removed_at__isnull=True)
    today = timezone.localdate()
    rows = []
    for entry in entries.order_by("patient__family_name", "patient__given_name"):
        attempts = [a.strip() for a in entry.outreach_attempts.splitlines() if a.strip()]
        last = entry.reports.order_by("-period_end").first()
        rows.append(
            TrackingRow(
                entry=entry,
                attempts=attempts,
                last_report=last,
                report_due=entry.is_active and entry.next_report_on <= today,
            )
        )
    log.record(
        actor,
        AuditAction.VIEW,
        obj=partnership,
        detail={"page": "tracking_list", "patients": [r.entry.patient_id for r in rows]},
    )
    return rows


# --- Claims activity reports (6b-iii) -------------------------------------------------------


def _stay(episode: Episode) -> dict[str, Any]:
    return {
        "kind": (
            "ED visit" if episode.patient_class == PatientClass.EMERGENCY else "Inpatient stay"
        ),
        "facility": episode.facility,
        "admitted": episode.admitted_at.date().isoformat() if episode.admitted_at else None,
        "discharged": (episode.discharged_at.date().isoformat() if episode.discharged_at else None),
        "diagnoses": [d.get("text") or d.get("code", "") for d in episode.diagnoses][:3],
    }


def claims_activity(
    entry: TrackingEntry, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    """What the plan knows of the patient's use of care from `start` up to `end`."""
    stays = (
        Episode.objects.filter(patient=entry.patient)
        .filter(
            Q(admitted_at__date__gte=start, admitted_at__date__lt=end)
            | Q(discharged_at__date__gte=start, discharged_at__date__lt=end)
        )
        .order_by("admitted_at", "pk")
    )
    stays_list = [_stay(e) for e in stays]
    facts = ClaimsFacts.objects.filter(
        plan_id=entry.partnership.plan_id, patient=entry.patient
    ).first()
    return {
        "ed_visits": sum(1 for s in stays_list if s["kind"] == "ED visit"),
        "inpatient_stays": sum(1 for s in stays_list if s["kind"] == "Inpatient stay"),
        "stays": stays_list,
        "last_admission": facts.last_admission if facts else None,
        "last_ed_visit": facts.last_ed_visit if facts else None,
        "providers": list(facts.providers)[:5] if facts else [],
        "claims_as_of": facts.as_of.isoformat() if facts else None,
    }


def _practice_recipients(partnership: Partnership) -> list[Membership]:
    """The practice's people in the partnership's call, else its clinical care managers."""
    staff = Membership.objects.select_related("user", "organization").filter(
        organization_id=partnership.partner_id, is_active=True
    )
    core = list(staff.filter(conference_series__partnership=partnership).distinct())
    return core or list(staff.filter(role=Role.CLINICAL_CARE_MANAGER))


def _make_report(entry: TrackingEntry, end: datetime.date, by: Any | None) -> TrackingReport | None:
    start = end - relativedelta(months=REPORT_MONTHS)
    try:
        with transaction.atomic():
            report = TrackingReport.objects.create(
                entry=entry,
                period_start=start,
                period_end=end,
                content=claims_activity(entry, start, end),
                created_by=by,
            )
    except IntegrityError:
        return None
    for member in _practice_recipients(entry.partnership):
        notify(
            member.user,
            member.organization,
            kind="tracking_report",
            title="Six-month claims activity report on a tracked patient",
            body=f"{entry.patient.full_name}: {start:%Y-%m-%d} to {end:%Y-%m-%d}.",
            url=reverse("tracking_report", args=[report.pk]),
            patient=entry.patient,
        )
    return report


def report_now(actor: Actor, entry: TrackingEntry) -> TrackingReport:
    """The plan reports claims activity up to today without waiting for the six months."""
    entry = conference_access.get_tracking_entry_for_user(actor, entry.pk)
    conference_access.require_plan_staff(actor, entry.partnership, "report claims activity")
    if not entry.is_active:
        raise ConferenceError("This patient is no longer on the tracking list.")
    today = timezone.localdate()
    report = _make_report(entry, today, actor.user)
    if report is None:
        raise ConferenceError(f"A report up to {today:%Y-%m-%d} was already sent today.")
    log.record(actor, AuditAction.CREATE, patient=entry.patient, obj=report, detail={})
    return report


def send_due_reports(today: datetime.date | None = None) -> int:
    """The daily run: each tracked patient whose six months are up gets a report, and the next
    one is due six months later."""
    today = today or timezone.localdate()
    made = 0
    due = TrackingEntry.objects.select_related("patient", "partnership").filter(
        removed_at__isnull=True, next_report_on__lte=today
    )
    for entry in due:
        if _make_report(entry, entry.next_report_on, None) is not None:
            made += 1
        entry.next_report_on = entry.next_report_on + relativedelta(months=REPORT_MONTHS)
        entry.save(update_fields=["next_report_on"])
    return made


def remove_from_tracking(actor: Actor, entry: TrackingEntry, reason: str) -> TrackingEntry:
    """The patient engaged, changed plans or practices: off the list, with who and why."""
    entry = conference_access.get_tracking_entry_for_user(actor, entry.pk)
    conference_access.require_editor(actor)
    if not entry.is_active:
        raise ConferenceError("This patient is no longer on the tracking list.")
    if not reason.strip():
        raise ConferenceError("Say why the patient comes off the tracking list.", field="reason")
    entry.removed_at = timezone.now()
    entry.removed_by = actor.user
    entry.removal_reason = reason.strip()
    entry.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    log.record(
        actor, AuditAction.UPDATE, patient=entry.patient, obj=entry, detail={"removed": True}
    )
    return entry


# --- Admissions (6b-ii) -------------------------------------------------------------------


def _plan_recipients(partnership: Partnership, discussion: Discussion | None) -> list[Membership]:
    staff = Membership.objects.select_related("user", "organization").filter(
        organization_id=partnership.plan_id, is_active=True
    )
    people = {m.pk: m for m in staff.filter(role=Role.PROJECT_MANAGER)}
    if discussion is not None and discussion.plan_case_manager_id:
        manager = staff.filter(pk=discussion.plan_case_manager_id).first()
        if manager is not None:
            people[manager.pk] = manager
    return list(people.values())


def _watchers(patient: Patient) -> list[tuple[Partnership, str, list[Membership]]]:
    """Who hears of this patient's admissions: the plan for each tracking list the patient is
    on, and the practice while it makes its last face-to-face attempt."""
    found: list[tuple[Partnership, str, list[Membership]]] = []
    for entry in TrackingEntry.objects.select_related("partnership", "discussion").filter(
        patient=patient, removed_at__isnull=True
    ):
        found.append(
            (entry.partnership, "tracking", _plan_recipients(entry.partnership, entry.discussion))
        )
    latest: dict[int, Discussion] = {}
    for discussion in (
        Discussion.objects.select_related("agenda_item__conference__series__partnership")
        .filter(agenda_item__patient=patient)
        .order_by("-recorded_at")
    ):
        partnership = discussion.agenda_item.conference.series.partnership
        latest.setdefault(partnership.pk, discussion)
    for discussion in latest.values():
        if discussion.outcome != DiscussionOutcome.FINAL_ATTEMPT:
            continue
        if not discussion.tasks.filter(status__in=OPEN_TASK_STATUSES).exists():
            continue
        partnership = discussion.agenda_item.conference.series.partnership
        people = _plan_recipients(partnership, discussion)
        task_owners = Membership.objects.select_related("user", "organization").filter(
            organization_id=partnership.partner_id,
            is_active=True,
            user_id__in=discussion.tasks.values("owner_user_id"),
        )
        people += list(task_owners) or _practice_recipients(partnership)
        found.append((partnership, "final_attempt", people))
    return found


def alert_admission(episode: Episode) -> int:
    """Tell the plan (and, during the practice's last attempt, the practice) that a tracked
    patient was admitted or seen in the ED; once per stay. Returns the notifications sent."""
    sent = 0
    for _partnership, why, people in _watchers(episode.patient):
        kind = "ED visit" if episode.patient_class == PatientClass.EMERGENCY else "admission"
        for member in people:
            # A stay's many messages (or a second feed) alert each person once.
            if Notification.objects.filter(
                user=member.user,
                kind="tracking_admission",
                patient=episode.patient,
                created_at__gte=episode.created_at,
            ).exists():
                continue
            organization: Organization = member.organization
            notify(
                member.user,
                organization,
                kind="tracking_admission",
                title=(
                    "A patient on the tracking list was admitted"
                    if why == "tracking"
                    else "A patient awaiting a face-to-face meeting was admitted"
                ),
                body=f"{episode.patient.full_name}: {kind} at {episode.facility}.",
                url=reverse("patient_profile", args=[episode.patient_id]),
                patient=episode.patient,
            )
            sent += 1
    return sent
