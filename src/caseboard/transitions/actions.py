"""What staff do with the hospital feed: decide who a message speaks of, replay a failure."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import transitions as transitions_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.errors import CareError
from caseboard.patients.models import Patient
from caseboard.transitions.models import (
    InboundMessage,
    MessageStatus,
    PatientReview,
    ReviewStatus,
)
from caseboard.transitions.processing import process_message

REPLAYABLE = frozenset({MessageStatus.DEAD_LETTER, MessageStatus.RECEIVED})


def replay(actor: Actor, message: InboundMessage) -> InboundMessage:
    """Process a failed (dead-letter) message again, e.g. once a missing record exists."""
    message = transitions_access.get_message_for_admin(actor, message.pk)
    if message.status not in REPLAYABLE:
        raise CareError(
            f"This message is {message.get_status_display().lower()}; only failed messages are"
            " replayed."
        )
    with transaction.atomic():
        InboundMessage.objects.filter(pk=message.pk).update(status=MessageStatus.RECEIVED)
        log.record(
            actor,
            AuditAction.UPDATE,
            patient=message.patient,
            obj=message,
            detail={"replayed": True, "previous_error": message.error[:500]},
        )
    return process_message(message.pk)


def resolve_review(actor: Actor, review: PatientReview, patient: Patient) -> InboundMessage:
    """The message speaks of `patient` (one the actor can see); it is processed now."""
    review = transitions_access.get_review_for_editor(actor, review.pk)
    patient = access.get_patient_for_editor(actor, patient.pk)
    if review.status != ReviewStatus.PENDING:
        raise CareError("This review was already decided.")
    with transaction.atomic():
        review.status = ReviewStatus.MATCHED
        review.resolved_patient = patient
        review.resolved_by = actor.user
        review.resolved_at = timezone.now()
        review.save()
        InboundMessage.objects.filter(pk=review.message_id).update(status=MessageStatus.RECEIVED)
        log.record(
            actor,
            AuditAction.UPDATE,
            patient=patient,
            obj=review,
            detail={"matched_message": review.message_id},
        )
    return process_message(review.message_id)


def dismiss_review(actor: Actor, review: PatientReview) -> InboundMessage:
    """None of the candidates is the person: the message is closed without a patient."""
    review = transitions_access.get_review_for_editor(actor, review.pk)
    if review.status != ReviewStatus.PENDING:
        raise CareError("This review was already decided.")
    with transaction.atomic():
        review.status = ReviewStatus.DISMISSED
        review.resolved_by = actor.user
        review.resolved_at = timezone.now()
        review.save()
        InboundMessage.objects.filter(pk=review.message_id).update(
            status=MessageStatus.PROCESSED,
            error="Not one of our patients (review dismissed).",
            processed_at=timezone.now(),
        )
        log.record(actor, AuditAction.UPDATE, obj=review, detail={"dismissed": True})
    return InboundMessage.objects.get(pk=review.message_id)
