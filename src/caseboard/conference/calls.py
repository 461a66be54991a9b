"""Writes about a partnership's conference calls: the series, each call, its agenda and the
pre-work checklists. Each checks the access policy and is audited.

Seed 004, Attachment A: "Getting ready" (shared contact information, regular call times with
the same core people), step 3 (up to 10 patients per call), step 4 (each side's research before
the call) and step 5 (the order patients are discussed in, see `conference.agenda`).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.conference.agenda import Candidate, UrgentRequest, order_agenda
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import (
    DEFAULT_PRACTICE_GAP_MONTHS,
    MAX_AGENDA_SIZE,
    MAX_PRACTICE_GAP_MONTHS,
    MIN_PRACTICE_GAP_MONTHS,
    AgendaItem,
    AgendaKind,
    Conference,
    ConferenceSeries,
    ConferenceStatus,
    PreworkChecklist,
    PreworkItem,
)
from caseboard.conference.queries import combined_list
from caseboard.orgs.models import Membership, Partnership, validate_time_zone
from caseboard.patients.models import AttributionSpan, Patient, Provider

MAX_URGENT_NOTE = 1000
MAX_CHECKLIST_NOTE = 500


# --- Series -------------------------------------------------------------------------------


def _check_series_values(
    partnership: Partnership,
    *,
    duration_minutes: int,
    agenda_size: int,
    time_zone: str,
    participants: Iterable[Membership],
    practice_gap_months: int,
) -> list[Membership]:
    if not MIN_PRACTICE_GAP_MONTHS <= practice_gap_months <= MAX_PRACTICE_GAP_MONTHS:
        raise ConferenceError(
            f"The gap since the practice last saw a patient is {MIN_PRACTICE_GAP_MONTHS} to"
            f" {MAX_PRACTICE_GAP_MONTHS} months (the guideline suggests 12 to 18).",
            field="practice_gap_months",
        )
    if not 5 <= duration_minutes <= 240:
        raise ConferenceError("A call lasts from 5 to 240 minutes.", field="duration_minutes")
    if not 1 <= agenda_size <= MAX_AGENDA_SIZE:
        raise ConferenceError(
            f"An agenda holds from 1 to {MAX_AGENDA_SIZE} patients.", field="agenda_size"
        )
    try:
        validate_time_zone(time_zone)
    except Exception:
        raise ConferenceError(
            f"{time_zone!r} is not a time zone such as America/New_York.", field="time_zone"
        ) from None
    chosen = list(participants)
    sides = {partnership.plan_id, partnership.partner_id}
    strangers = [m for m in chosen if m.organization_id not in sides or not m.is_active]
    if strangers:
        raise ConferenceError(
            f"Core participants come from {partnership.plan} or {partnership.partner}'s "
            "active team.",
            field="core_participants",
        )
    return chosen


def create_series(
    actor: Actor,
    partnership: Partnership,
    *,
    weekday: int,
    start_time: datetime.time,
    duration_minutes: int = 30,
    agenda_size: int = 10,
    time_zone: str | None = None,
    participants: Iterable[Membership] = (),
    started_on: datetime.date | None = None,
    practice_gap_months: int = DEFAULT_PRACTICE_GAP_MONTHS,
) -> ConferenceSeries:
    """The partnership's regular call (Getting ready, step 2: "Weekly meetings for 30 minutes
    are recommended ... the same core people participate in each call")."""
    partnership = access.get_partnership_for_user(actor, partnership.pk)
    conference_access.require_editor(actor)
    zone = time_zone or actor.organization.time_zone
    chosen = _check_series_values(
        partnership,
        duration_minutes=duration_minutes,
        agenda_size=agenda_size,
        time_zone=zone,
        participants=participants,
        practice_gap_months=practice_gap_months,
    )
    if not 0 <= weekday <= 6:
        raise ConferenceError("Choose the day of the week.", field="weekday")
    try:
        with transaction.atomic():
            series = ConferenceSeries.objects.create(
                partnership=partnership,
                weekday=weekday,
                start_time=start_time,
                duration_minutes=duration_minutes,
                agenda_size=agenda_size,
                time_zone=zone,
                practice_gap_months=practice_gap_months,
                started_on=started_on or timezone.localdate(),
                created_by=actor.user,
            )
            series.core_participants.set(chosen)
    except IntegrityError:
        raise ConferenceError(
            "This partnership already has a call series; change it instead.", field=None
        ) from None
    log.record(
        actor,
        AuditAction.CREATE,
        obj=series,
        detail={"partnership": partnership.pk, "participants": [m.pk for m in chosen]},
    )
    return series


def update_series(
    actor: Actor,
    series: ConferenceSeries,
    *,
    weekday: int,
    start_time: datetime.time,
    duration_minutes: int,
    agenda_size: int,
    time_zone: str,
    participants: Iterable[Membership],
    practice_gap_months: int | None = None,
) -> ConferenceSeries:
    series = conference_access.get_series_for_editor(actor, series.pk)
    gap = series.practice_gap_months if practice_gap_months is None else practice_gap_months
    chosen = _check_series_values(
        series.partnership,
        duration_minutes=duration_minutes,
        agenda_size=agenda_size,
        time_zone=time_zone,
        participants=participants,
        practice_gap_months=gap,
    )
    if not 0 <= weekday <= 6:
        raise ConferenceError("Choose the day of the week.", field="weekday")
    with transaction.atomic():
        series.weekday = weekday
        series.start_time = start_time
        series.duration_minutes = duration_minutes
        series.agenda_size = agenda_size
        series.time_zone = time_zone
        series.practice_gap_months = gap
        series.save()
        series.core_participants.set(chosen)
    log.record(
        actor,
        AuditAction.UPDATE,
        obj=series,
        detail={"participants": [m.pk for m in chosen], "weekday": weekday},
    )
    return series


def active_series(partnership: Partnership) -> ConferenceSeries | None:
    """The partnership's current series; callers have checked the partnership's access."""
    return (
        ConferenceSeries.objects.filter(partnership=partnership, ended_on__isnull=True)
        .prefetch_related("core_participants__user", "core_participants__organization")
        .first()
    )


# --- Calls --------------------------------------------------------------------------------


def next_slot(series: ConferenceSeries, after: datetime.datetime) -> datetime.datetime:
    """The first start of the series strictly after `after`, in the series' time zone."""
    zone = zoneinfo.ZoneInfo(series.time_zone)
    local = after.astimezone(zone)
    day = local.date() + datetime.timedelta(days=(series.weekday - local.weekday()) % 7)
    start = datetime.datetime.combine(day, series.start_time, tzinfo=zone)
    if start <= after:
        start = datetime.datetime.combine(
            day + datetime.timedelta(days=7), series.start_time, tzinfo=zone
        )
    return start


def schedule_conference(
    actor: Actor, series: ConferenceSeries, starts_at: datetime.datetime | None = None
) -> Conference:
    """A call of the series: at `starts_at`, or the series' next slot after the latest call
    already scheduled (or after now)."""
    series = conference_access.get_series_for_editor(actor, series.pk)
    if starts_at is None:
        latest = series.conferences.order_by("-starts_at").first()
        base = timezone.now()
        if latest is not None and latest.starts_at > base:
            base = latest.starts_at
        starts_at = next_slot(series, base)
    elif timezone.is_naive(starts_at):
        raise ConferenceError("Give the call's time with its time zone.", field="starts_at")
    try:
        with transaction.atomic():
            conference = Conference.objects.create(
                series=series, starts_at=starts_at, created_by=actor.user
            )
    except IntegrityError:
        raise ConferenceError(
            "A call of this series is already scheduled at that time.", field="starts_at"
        ) from None
    log.record(
        actor,
        AuditAction.CREATE,
        obj=conference,
        detail={"series": series.pk, "starts_at": starts_at.isoformat()},
    )
    return conference


def partner_pcps(partnership: Partnership) -> list[Provider]:
    """Physicians of the practice who can attend its calls (Provider rows of the partner)."""
    return list(Provider.objects.filter(organization_id=partnership.partner_id).order_by("name"))


def set_attending_pcps(
    actor: Actor, conference: Conference, providers: Sequence[Provider]
) -> Conference:
    """Step 5b: the physicians joining this call; their highest-risk patients go first."""
    conference = conference_access.get_conference_for_editor(actor, conference.pk)
    partnership = conference.series.partnership
    if any(p.organization_id != partnership.partner_id for p in providers):
        raise ConferenceError(
            f"Attending physicians are {partnership.partner}'s PCPs.", field="attending_pcps"
        )
    conference.attending_pcps.set(providers)
    log.record(
        actor,
        AuditAction.UPDATE,
        obj=conference,
        detail={"attending_pcps": [p.pk for p in providers]},
    )
    return conference


# --- Agenda -------------------------------------------------------------------------------


def conference_day(conference: Conference) -> datetime.date:
    return conference.starts_at.astimezone(zoneinfo.ZoneInfo(conference.series.time_zone)).date()


def follow_ups_due(conference: Conference) -> dict[int, datetime.date]:
    """Patients whose latest discussion on an earlier call of the series left a follow-up with
    a report-back date on or before this call's day (step 5d)."""
    return follow_ups_by(conference.series, conference.starts_at, conference_day(conference))


def follow_ups_by(
    series: ConferenceSeries, before: datetime.datetime, day: datetime.date
) -> dict[int, datetime.date]:
    """Patients whose latest discussion on a call of `series` that started before `before`
    left a follow-up due to report back on or before `day`."""
    earlier = (
        AgendaItem.objects.filter(conference__series=series, conference__starts_at__lt=before)
        .exclude(conference__status=ConferenceStatus.CANCELLED)
        .order_by("patient_id", "-conference__starts_at")
    )
    due: dict[int, datetime.date] = {}
    latest_seen: set[int] = set()
    for item in earlier:
        if item.patient_id in latest_seen:
            continue
        latest_seen.add(item.patient_id)
        if item.needs_follow_up and item.report_back_on and item.report_back_on <= day:
            due[item.patient_id] = item.report_back_on
    return due


def _current_pcps(partnership: Partnership, patient_ids: Iterable[int]) -> dict[int, Provider]:
    today = timezone.localdate()
    spans = (
        AttributionSpan.objects.select_related("pcp")
        .filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today),
            organization_id=partnership.partner_id,
            patient_id__in=list(patient_ids),
            start_date__lte=today,
            pcp__isnull=False,
        )
        .order_by("-start_date")
    )
    found: dict[int, Provider] = {}
    for span in spans:
        if span.pcp is not None:
            found.setdefault(span.patient_id, span.pcp)
    return found


def _regroup(conference: Conference) -> None:
    """Follow-ups first, urgent patients next, the rest in their order (see agenda.py)."""
    group: dict[str, int] = {AgendaKind.FOLLOW_UP: 0, AgendaKind.URGENT: 1}
    items = sorted(
        conference.agenda_items.all(), key=lambda i: (group.get(i.kind, 2), i.position, i.pk)
    )
    changed = []
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            changed.append(item)
    AgendaItem.objects.bulk_update(changed, ["position"])


def _urgent_request(item: AgendaItem) -> UrgentRequest:
    return UrgentRequest(
        added_by=item.added_by.get_full_name() or item.added_by.get_username(),
        organization=item.added_by_organization.name,
        note=item.urgent_note,
    )


def build_agenda(actor: Actor, conference: Conference) -> list[AgendaItem]:
    """The plan's project manager picks the call's patients from the combined list, the
    follow-ups due and the urgent requests (step 3; order by step 5, `order_agenda`).
    Urgent patients already added stay; the rest of the agenda is replaced."""
    conference = conference_access.get_conference_for_agenda_builder(actor, conference.pk)
    if conference.status != ConferenceStatus.SCHEDULED:
        raise ConferenceError("Only a scheduled call's agenda can be built.")
    partnership = conference.series.partnership
    rows = combined_list(actor, partnership)
    visible = access.visible_patients(actor)
    due = follow_ups_due(conference)
    due_ids = set(visible.filter(pk__in=list(due)).values_list("pk", flat=True))
    urgent_items = {
        i.patient_id: i
        for i in conference.agenda_items.select_related("added_by", "added_by_organization")
        if i.kind == AgendaKind.URGENT
    }
    ids = {r.patient.pk for r in rows} | due_ids | set(urgent_items)
    pcps = _current_pcps(partnership, ids)
    by_patient = {r.patient.pk: r for r in rows}
    candidates = []
    for pid in sorted(ids):
        row = by_patient.get(pid)
        pcp = pcps.get(pid)
        urgent = urgent_items.get(pid)
        candidates.append(
            Candidate(
                patient_id=pid,
                plan_rank=row.plan_rank if row else None,
                practice_rank=row.practice_rank if row else None,
                pcp_id=pcp.pk if pcp else None,
                pcp_name=str(pcp) if pcp else "",
                follow_up_due_on=due.get(pid) if pid in due_ids else None,
                urgent=_urgent_request(urgent) if urgent else None,
            )
        )
    choices = order_agenda(
        candidates,
        limit=conference.series.agenda_size,
        attending_pcp_ids=conference.attending_pcps.values_list("pk", flat=True),
    )
    with transaction.atomic():
        Conference.objects.select_for_update().get(pk=conference.pk)
        conference.agenda_items.exclude(kind=AgendaKind.URGENT).delete()
        items = []
        for position, choice in enumerate(choices, start=1):
            existing = urgent_items.get(choice.patient_id)
            if existing is not None:
                existing.position = position
                existing.reason = choice.reason[:500]
                existing.save(update_fields=["position", "reason"])
                items.append(existing)
                continue
            items.append(
                AgendaItem.objects.create(
                    conference=conference,
                    patient_id=choice.patient_id,
                    position=position,
                    kind=choice.kind,
                    reason=choice.reason[:500],
                    added_by=actor.user,
                    added_by_organization=actor.organization,
                )
            )
        conference.agenda_built_at = timezone.now()
        conference.agenda_built_by = actor.user
        conference.save(update_fields=["agenda_built_at", "agenda_built_by"])
        log.record(
            actor,
            AuditAction.UPDATE,
            obj=conference,
            detail={"agenda": [c.patient_id for c in choices], "built": True},
        )
    return items


def add_urgent_patient(
    actor: Actor, conference: Conference, patient: Patient, note: str
) -> AgendaItem:
    """Step 5c: either side may always bring a patient with urgent needs, on the shared list or
    not. A patient already on the agenda is moved up among the urgent ones."""
    conference = conference_access.get_conference_for_editor(actor, conference.pk)
    patient = access.get_patient_for_user(actor, patient.pk)
    partnership = conference.series.partnership
    if actor.organization.pk not in (partnership.plan_id, partnership.partner_id):
        raise ConferenceError("Only the two sides of the partnership add patients to its calls.")
    if conference.status != ConferenceStatus.SCHEDULED:
        raise ConferenceError("Patients are added to scheduled calls only.")
    if not access.visible_coverage(actor, patient).filter(plan_id=partnership.plan_id).exists():
        raise ConferenceError(
            f"{patient.full_name} is not a member of {partnership.plan}; its calls discuss its "
            "members.",
            field="patient",
        )
    cleaned = " ".join(note.split())
    if not cleaned:
        raise ConferenceError("Say in a few words why this patient cannot wait.", field="note")
    if len(cleaned) > MAX_URGENT_NOTE:
        raise ConferenceError(f"Keep the note under {MAX_URGENT_NOTE} characters.", field="note")
    who = actor.user.get_full_name() or actor.user.get_username()
    reason = f"Urgent, added by {who} ({actor.organization.name}): {cleaned}"[:500]
    with transaction.atomic():
        Conference.objects.select_for_update().get(pk=conference.pk)
        item = conference.agenda_items.filter(patient=patient).first()
        if item is None:
            item = AgendaItem.objects.create(
                conference=conference,
                patient=patient,
                position=conference.agenda_items.count() + 1,
                kind=AgendaKind.URGENT,
                reason=reason,
                urgent_note=cleaned,
                added_by=actor.user,
                added_by_organization=actor.organization,
            )
            action = AuditAction.CREATE
        else:
            item.kind = AgendaKind.URGENT
            item.reason = reason
            item.urgent_note = cleaned
            item.added_by = actor.user
            item.added_by_organization = actor.organization
            item.save()
            action = AuditAction.UPDATE
        _regroup(conference)
        log.record(
            actor,
            action,
            patient=patient,
            obj=item,
            detail={"conference": conference.pk, "urgent": True},
        )
    item.refresh_from_db()
    return item


# --- Pre-work checklist -------------------------------------------------------------------


def complete_checklist_item(
    actor: Actor, conference: Conference, item: str, note: str = ""
) -> PreworkChecklist:
    """Step 4: one side's research item done before the call, with who and when. Each side
    ticks its own list."""
    conference = conference_access.get_conference_for_editor(actor, conference.pk)
    partnership = conference.series.partnership
    side = actor.organization
    if side.pk not in (partnership.plan_id, partnership.partner_id):
        raise ConferenceError("Only the two sides of the partnership keep pre-work checklists.")
    if item not in PreworkItem.values:
        raise ConferenceError("Choose a pre-work item from a to f.", field="item")
    cleaned = " ".join(note.split())
    if len(cleaned) > MAX_CHECKLIST_NOTE:
        raise ConferenceError(f"Keep the note under {MAX_CHECKLIST_NOTE} characters.", field="note")
    existing = PreworkChecklist.objects.filter(conference=conference, side=side, item=item).first()
    if existing is not None:
        who = existing.completed_by.get_full_name() or existing.completed_by.get_username()
        raise ConferenceError(
            f"{who} already completed item {item} on "
            f"{timezone.localtime(existing.completed_at):%Y-%m-%d %H:%M}.",
            field="item",
        )
    try:
        with transaction.atomic():
            row = PreworkChecklist.objects.create(
                conference=conference,
                side=side,
                item=item,
                completed_by=actor.user,
                completed_at=timezone.now(),
                note=cleaned,
            )
    except IntegrityError:
        raise ConferenceError(
            f"Item {item} was just completed by someone else.", field="item"
        ) from None
    log.record(
        actor,
        AuditAction.CREATE,
        obj=row,
        detail={"conference": conference.pk, "item": item, "side": side.pk},
    )
    return row


def series_zone(series: ConferenceSeries) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(series.time_zone)
