"""What a stored ADT message does: find the patient, update the stay, tell the care manager.

Runs after the message is acknowledged, one message at a time in arrival order (an A03 must
not overtake its A01). A failure leaves the message in the dead-letter state with the reason,
to be replayed once the cause is fixed; nothing half-done stays behind (one transaction).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from caseboard.access.policy import Actor
from caseboard.care.actions.notifications import notify
from caseboard.care.actions.tasks import cancel_task, create_task
from caseboard.care.errors import CareError
from caseboard.care.models import ACTIVE_STATUSES, Enrollment, EnrollmentStatus, TaskSource
from caseboard.orgs.models import Membership, Organization
from caseboard.patients.matching import (
    MATCH_MARGIN,
    Candidate,
    MatchStatus,
    PersonRecord,
    match_person,
)
from caseboard.patients.models import IdentifierKind, Patient, PatientIdentifier
from caseboard.transitions import hl7v2, rules
from caseboard.transitions.models import (
    AlertKind,
    Episode,
    EpisodeAlert,
    EpisodeEvent,
    EpisodeStatus,
    InboundMessage,
    MessageStatus,
    PatientClass,
    PatientReview,
    ReviewStatus,
)

logger = logging.getLogger(__name__)

# An emergency visit that becomes an admission within this time is one stay, even when the
# hospital gives the admission a new visit number.
ED_TO_ADMISSION_WINDOW = datetime.timedelta(hours=36)
ENROLLMENT_STATUSES_ALERTED = frozenset({*ACTIVE_STATUSES, EnrollmentStatus.MONITOR})
ADMITTING_EVENTS = frozenset({"A01", "A04", "A05", "A06", "A07"})
EVENT_WORDS = {
    "A01": "Admitted",
    "A02": "Transferred",
    "A03": "Discharged",
    "A04": "Registered",
    "A05": "Pre-admitted",
    "A06": "Changed from outpatient to inpatient",
    "A07": "Changed from inpatient to outpatient",
    "A08": "Details updated",
    "A11": "Admission cancelled",
    "A12": "Transfer cancelled",
    "A13": "Discharge cancelled",
    "A40": "Patient records merged",
}
# HL7 table 0203 identifier types, as the kinds of identifier caseboard keeps.
IDENTIFIER_TYPES = {
    "MR": IdentifierKind.MRN,
    "MRN": IdentifierKind.MRN,
    "PI": IdentifierKind.MRN,
    "MB": IdentifierKind.MEMBER_ID,
    "MI": IdentifierKind.MEMBER_ID,
    "SN": IdentifierKind.MEMBER_ID,
    "MA": IdentifierKind.MEDICAID_ID,
    "MC": IdentifierKind.MEDICAID_ID,
}


class ProcessingError(Exception):
    """A message that cannot be applied as it stands; the reason is kept on the message."""


# --- Patient ------------------------------------------------------------------------------


def _issuers(identifiers: list[hl7v2.Identifier]) -> dict[str, Organization]:
    authorities = {i.assigning_authority for i in identifiers if i.assigning_authority}
    return {o.external_id: o for o in Organization.objects.filter(external_id__in=authorities)}


def known_identifiers(
    identifiers: list[hl7v2.Identifier],
) -> list[tuple[str, str, int | None]]:
    """The identifiers whose assigning authority is one of our organizations' external IDs,
    as that organization's identifiers; others mean nothing here."""
    issuers = _issuers(identifiers)
    found: list[tuple[str, str, int | None]] = []
    for identifier in identifiers:
        issuer = issuers.get(identifier.assigning_authority)
        if issuer is None:
            continue
        kind = IDENTIFIER_TYPES.get(identifier.type_code.upper()) or (
            IdentifierKind.MEMBER_ID if issuer.is_plan else IdentifierKind.MRN
        )
        found.append((str(kind), identifier.value, issuer.pk))
    return found


def person_of(adt: hl7v2.AdtMessage) -> PersonRecord:
    return PersonRecord(
        given_name=adt.given_name,
        family_name=adt.family_name,
        birth_date=adt.birth_date,
        identifiers=known_identifiers(adt.identifiers),
        sex=adt.sex,
        address=adt.address,
        city=adt.city,
        postal_code=adt.postal_code,
        phone=adt.phone,
    )


def _person_record(adt: hl7v2.AdtMessage) -> dict[str, object]:
    return {
        "given_name": adt.given_name,
        "family_name": adt.family_name,
        "birth_date": adt.birth_date.isoformat() if adt.birth_date else "",
        "sex": adt.sex,
        "address": adt.address,
        "city": adt.city,
        "state": adt.state,
        "postal_code": adt.postal_code,
        "phone": adt.phone,
        "identifiers": [asdict(i) for i in adt.identifiers],
    }


def _patient_by_identifiers(identifiers: list[hl7v2.Identifier]) -> Patient | None:
    known = known_identifiers(identifiers)
    if not known:
        return None
    query = Q(pk__in=[])
    for kind, value, issuer in known:
        query |= Q(kind=kind, value__iexact=value, organization_id=issuer)
    ids = set(PatientIdentifier.objects.filter(query).values_list("patient_id", flat=True))
    return Patient.objects.get(pk=ids.pop()) if len(ids) == 1 else None


# --- Episode ------------------------------------------------------------------------------


def _event_time(message: InboundMessage, adt: hl7v2.AdtMessage) -> datetime.datetime:
    return adt.event_at or message.received_at


def _find_episode(patient: Patient, adt: hl7v2.AdtMessage, at: datetime.datetime) -> Episode | None:
    stays = Episode.objects.filter(patient=patient, facility=adt.facility)
    if adt.visit_number:
        same = stays.filter(visit_number=adt.visit_number).first()
        if same is not None:
            return same
    trigger = adt.header.trigger_event
    if trigger in ("A01", "A06") or (trigger in ADMITTING_EVENTS and not adt.visit_number):
        # An ED visit turning into an admission: the emergency episode of the last 36 hours.
        return (
            stays.filter(
                patient_class=PatientClass.EMERGENCY,
                admitted_at__gte=at - ED_TO_ADMISSION_WINDOW,
                admitted_at__lte=at + datetime.timedelta(minutes=1),
            )
            .exclude(status=EpisodeStatus.CANCELLED)
            .order_by("-admitted_at")
            .first()
        )
    if not adt.visit_number:
        # Without a visit number, a later message speaks of the current or latest stay.
        current = stays.exclude(status=EpisodeStatus.CANCELLED).order_by("-admitted_at", "-pk")
        return current.filter(status=EpisodeStatus.OPEN).first() or current.first()
    return None


def _apply(episode: Episode, adt: hl7v2.AdtMessage, at: datetime.datetime) -> str:
    """Update the stay from one message; returns the words of its timeline row."""
    trigger = adt.header.trigger_event
    words = EVENT_WORDS.get(trigger, trigger)
    if adt.visit_number and not episode.visit_number:
        episode.visit_number = adt.visit_number
    if adt.patient_class and trigger != "A11":
        previous = episode.patient_class
        # An admission makes the ED visit an inpatient stay; a later ED-only message does not
        # turn it back.
        if not (previous == PatientClass.INPATIENT and adt.patient_class == "E"):
            episode.patient_class = (
                adt.patient_class if adt.patient_class in PatientClass.values else ""
            )
    if adt.location:
        episode.location = adt.location
    if adt.diagnoses:
        episode.diagnoses = [d.as_record() for d in adt.diagnoses]
    if trigger in ADMITTING_EVENTS or trigger == "A08":
        if episode.admitted_at is None or trigger in ("A04", "A05"):
            episode.admitted_at = adt.admitted_at or episode.admitted_at or at
        elif trigger == "A08" and adt.admitted_at:
            episode.admitted_at = adt.admitted_at
    if trigger in ("A01", "A04", "A06", "A07", "A05") and episode.status != EpisodeStatus.CLOSED:
        episode.status = EpisodeStatus.OPEN
    if trigger == "A03":
        episode.discharged_at = adt.discharged_at or at
        episode.status = EpisodeStatus.CLOSED
        episode.discharge_disposition = adt.discharge_disposition
        if episode.admitted_at is None:
            episode.admitted_at = adt.admitted_at or at
    elif trigger == "A08" and adt.discharged_at:
        episode.discharged_at = adt.discharged_at
        episode.discharge_disposition = adt.discharge_disposition or episode.discharge_disposition
    elif trigger == "A11":
        episode.status = EpisodeStatus.CANCELLED
    elif trigger == "A13":
        episode.status = EpisodeStatus.OPEN
        episode.discharged_at = None
        episode.discharge_disposition = ""
    if trigger == "A02" and adt.location:
        words = f"{words} to {adt.location}"
    elif trigger == "A03" and adt.discharge_disposition:
        words = f"{words} (disposition {adt.discharge_disposition})"
    return words


def _merge(message: InboundMessage, adt: hl7v2.AdtMessage, survivor: Patient) -> str:
    """A40: the hospital merged two of its records. When both are our patients, the stays of
    the retired one move to the survivor; our own patient records stay as they are (merging
    charts is a person's decision, not a feed's)."""
    retired = _patient_by_identifiers(adt.merged_identifiers)
    if retired is None or retired.pk == survivor.pk:
        return "Merge noted; the retired record is not one of our patients."
    moved = list(Episode.objects.filter(patient=retired))
    Episode.objects.filter(pk__in=[e.pk for e in moved]).update(patient=survivor)
    at = _event_time(message, adt)
    for episode in moved:
        EpisodeEvent.objects.create(
            episode=episode,
            message=message,
            trigger_event="A40",
            occurred_at=at,
            summary="Moved here from a record the hospital merged into this one",
        )
    return f"Merge: {len(moved)} stay(s) moved to the surviving patient."


# --- Alerts -------------------------------------------------------------------------------


def _alert_kind(trigger: str, episode: Episode) -> str | None:
    if trigger == "A03" and episode.status == EpisodeStatus.CLOSED:
        return AlertKind.DISCHARGE
    if trigger in ("A01", "A06") or (
        trigger == "A04" and episode.patient_class == PatientClass.EMERGENCY
    ):
        return AlertKind.ADMISSION
    return None


def alert_care_managers(
    episode: Episode, kind: str, at: datetime.datetime, *, late: bool = False
) -> list[EpisodeAlert]:
    """Tell each enrolled patient's care manager once per stay and kind, with follow-up tasks
    due by `rules`. News that arrives `late` (claims, weeks after the stay) whose follow-ups
    are all past due is only recorded (the measures count it), with no notice and no task."""
    made = []
    enrollments = Enrollment.objects.select_related("lead_organization", "care_manager").filter(
        patient=episode.patient,
        status__in=ENROLLMENT_STATUSES_ALERTED,
        care_manager__isnull=False,
    )
    for enrollment in enrollments:
        manager: User = enrollment.care_manager  # type: ignore[assignment]
        organization = enrollment.lead_organization
        alert, created = EpisodeAlert.objects.get_or_create(
            episode=episode,
            kind=kind,
            organization=organization,
            defaults={"recipient": manager},
        )
        if not created:
            continue
        day = timezone.localtime(at, organization.zone).date()
        follow_ups = rules.follow_ups(episode, kind, enrollment, day)
        today = timezone.localdate(timezone=organization.zone)
        if late and not rules.window_open(follow_ups, today):
            made.append(alert)
            continue
        what = "admission" if kind == AlertKind.ADMISSION else "discharge"
        origin = " (from the plan's claims)" if episode.from_claims else ""
        url = reverse("patient_profile", args=[episode.patient_id])
        notify(
            manager,
            organization,
            kind="adt",
            title=f"Hospital {what} for a patient you manage",
            body=(
                f"{episode.patient.full_name}: {episode.get_patient_class_display().lower()}"
                f" {what} at {episode.facility} on {day:%b %-d}{origin}."
            ),
            url=url,
            patient=episode.patient,
        )
        membership = Membership.objects.filter(
            user=manager, organization=organization, is_active=True
        ).first()
        if membership is None:
            logger.warning("Care manager %s is no longer in %s", manager.pk, organization.pk)
            made.append(alert)
            continue
        actor = Actor(user=manager, membership=membership)
        for follow_up in follow_ups:
            try:
                task = create_task(
                    actor,
                    title=follow_up.title,
                    due_on=follow_up.due_on,
                    patient=episode.patient,
                    owner_user=manager,
                    priority=follow_up.priority,
                    source=TaskSource.ALERT,
                    detail=follow_up.detail,
                )
            except (CareError, Http404) as error:
                logger.warning("No follow-up task for alert %s: %s", alert.pk, error)
                continue
            if alert.task_id is None:
                alert.task = task
                alert.save(update_fields=["task"])
        made.append(alert)
    return made


# --- Processing ---------------------------------------------------------------------------


def apply_to_patient(message: InboundMessage, adt: hl7v2.AdtMessage, patient: Patient) -> None:
    trigger = adt.header.trigger_event
    at = _event_time(message, adt)
    message.patient = patient
    if trigger == "A40":
        message.error = _merge(message, adt, patient)
        return
    episode = _find_episode(patient, adt, at)
    if episode is None:
        if trigger in ("A11", "A12", "A13"):
            message.error = f"{EVENT_WORDS[trigger]}: no stay on record to correct."
            return
        episode = Episode(patient=patient, facility=adt.facility or "(unknown facility)")
    words = _apply(episode, adt, at)
    episode.save()
    EpisodeEvent.objects.create(
        episode=episode, message=message, trigger_event=trigger, occurred_at=at, summary=words
    )
    if trigger == "A11":
        _withdraw_alerts(episode)
    kind = _alert_kind(trigger, episode)
    if kind is not None:
        alert_care_managers(episode, kind, at)
    if kind == AlertKind.ADMISSION:
        _alert_tracking_list(episode)


def _withdraw_alerts(episode: Episode) -> None:
    """A11: the hospital cancelled the admission (entered in error). Its alerts are withdrawn:
    each open follow-up task is cancelled through the care code, and the care manager told."""
    url = reverse("patient_profile", args=[episode.patient_id])
    for alert in episode.alerts.select_related("task", "organization", "recipient"):
        membership = Membership.objects.filter(
            user=alert.recipient, organization=alert.organization, is_active=True
        ).first()
        task = alert.task
        if task is not None and task.is_open and membership is not None:
            try:
                cancel_task(
                    Actor(user=alert.recipient, membership=membership),
                    task,
                    "The hospital cancelled the admission (A11).",
                )
            except (CareError, Http404) as error:
                logger.warning("Follow-up task %s stays open: %s", task.pk, error)
        notify(
            alert.recipient,
            alert.organization,
            kind="adt",
            title="A hospital admission was cancelled",
            body=(
                f"{episode.patient.full_name}: {episode.facility} cancelled the"
                f" {alert.get_kind_display().lower()} it had sent; its follow-up is withdrawn."
            ),
            url=url,
            patient=episode.patient,
        )


def _alert_tracking_list(episode: Episode) -> None:
    """Seed 004 step 6b-ii: the plan hears when a tracked patient is admitted."""
    # Imported here: the conference app builds on this one.
    from caseboard.conference.tracking import alert_admission

    alert_admission(episode)


def leading_candidates(candidates: list[Candidate]) -> list[Patient]:
    """The candidates close to the best one. Their organizations' staff may see the review
    and decide it: a distant candidate's organization has no business seeing who else the
    hospital admitted."""
    if not candidates:
        return []
    best = max(c.score for c in candidates)
    return [c.patient for c in candidates if c.score >= best - MATCH_MARGIN]


def _process(message: InboundMessage) -> None:
    try:
        _, adt = hl7v2.read_adt(message.raw)
    except hl7v2.MessageProblem as problem:
        raise ProcessingError(problem.reason) from None
    review = PatientReview.objects.filter(message=message).first()
    if review is not None and review.status == ReviewStatus.MATCHED:
        patient = review.resolved_patient
    elif review is not None and review.status == ReviewStatus.DISMISSED:
        message.status = MessageStatus.PROCESSED
        message.error = "Not one of our patients (review dismissed)."
        return
    else:
        result = match_person(person_of(adt), Patient.objects.all())
        patient = result.patient if result.status == MatchStatus.MATCHED else None
        if patient is None:
            pending, _ = PatientReview.objects.update_or_create(
                message=message,
                defaults={
                    "person": _person_record(adt),
                    "matcher_status": str(result.status),
                    "candidates": [c.as_record() for c in result.candidates],
                    "status": ReviewStatus.PENDING,
                },
            )
            pending.candidate_patients.set(leading_candidates(result.candidates))
            message.status = MessageStatus.REVIEW
            message.error = ""
            return
    assert patient is not None  # a matched review names its patient (check constraint)
    message.error = ""
    apply_to_patient(message, adt, patient)
    message.status = MessageStatus.PROCESSED


def process_message(message_id: int) -> InboundMessage:
    """Apply one stored message; on failure, move it to the dead-letter state with why."""
    message = InboundMessage.objects.get(pk=message_id)
    if message.status in (MessageStatus.DUPLICATE, MessageStatus.REJECTED):
        return message
    try:
        with transaction.atomic():
            locked = InboundMessage.objects.select_for_update().get(pk=message_id)
            locked.attempts += 1
            _process(locked)
            locked.processed_at = timezone.now()
            locked.save()
            return locked
    except Exception as error:  # any failure is kept on the message, not lost
        logger.exception("ADT message %s failed", message_id)
        reason = str(error) or type(error).__name__
        InboundMessage.objects.filter(pk=message_id).update(
            status=MessageStatus.DEAD_LETTER,
            error=f"{type(error).__name__}: {reason}"[:2000],
            attempts=message.attempts + 1,
            processed_at=timezone.now(),
        )
        message.refresh_from_db()
        return message


def pending_message_ids() -> list[int]:
    """Messages stored but not yet processed (e.g. the listener stopped between the two)."""
    return list(
        InboundMessage.objects.filter(status=MessageStatus.RECEIVED)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
