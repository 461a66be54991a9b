"""Logging contacts with and work for a patient, with the minutes spent (seed 002: document
non-face-to-face and phone interactions and track the time per month)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.errors import CareError
from caseboard.care.models import Direction, Enrollment, Interaction, InteractionKind
from caseboard.patients.models import Patient

MIN_MINUTES = 1
MAX_MINUTES = 600
# Clocks of phones and servers differ a little; a contact logged "now" is not in the future.
CLOCK_SKEW = datetime.timedelta(minutes=2)


@transaction.atomic
def log_interaction(
    actor: Actor,
    patient: Patient,
    *,
    kind: str,
    minutes: int,
    occurred_at: datetime.datetime,
    direction: str = Direction.NONE,
    reached: bool | None = None,
    note: str = "",
    enrollment: Enrollment | None = None,
) -> Interaction:
    """Record a contact or a piece of work by the actor for the actor's organization.

    A naive `occurred_at` is read in the organization's time zone, where its calendar month
    (and so its CCM time) is counted.
    """
    patient = access.get_patient_for_editor(actor, patient.pk)
    if kind not in InteractionKind.values:
        raise CareError(f"{kind!r} is not a kind of interaction.", field="kind")
    if direction not in Direction.values:
        raise CareError(f"{direction!r} is not a direction.", field="direction")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise CareError(
            f"Minutes must be between {MIN_MINUTES} and {MAX_MINUTES}; {minutes} given.",
            field="minutes",
        )
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, actor.organization.zone)
    if occurred_at > timezone.now() + CLOCK_SKEW:
        local = timezone.localtime(occurred_at, actor.organization.zone)
        raise CareError(
            f"{local:%Y-%m-%d %H:%M} is in the future; log a contact once it has happened.",
            field="occurred_at",
        )
    if enrollment is not None:
        enrollment = access.care.get_enrollment_for_user(actor, enrollment.pk)
        if enrollment.patient_id != patient.pk:
            raise CareError("That enrollment is another patient's.", field="enrollment")
    interaction = Interaction.objects.create(
        patient=patient,
        enrollment=enrollment,
        organization=actor.organization,
        staff=actor.user,
        kind=kind,
        direction=direction,
        reached=reached,
        occurred_at=occurred_at,
        minutes=minutes,
        note=note.strip(),
    )
    log.record(
        actor,
        AuditAction.CREATE,
        patient=patient,
        obj=interaction,
        detail={"kind": kind, "minutes": minutes, "occurred_at": occurred_at.isoformat()},
    )
    return interaction
