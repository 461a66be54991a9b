"""Who may see hospital ADT messages, the stays they describe, and the patient reviews.

A message, a stay or a review speaks of one person. Staff see a message or stay whose patient
they can see; a review when one of its candidate patients is theirs to see. What the matcher
could tie to nobody (rejected messages, reviews without a candidate) is for the health plan's
administrators, who run the hospital feed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from caseboard.access.policy import Actor, one_or_404, visible_patients
from caseboard.transitions.models import Episode, InboundMessage, PatientReview


def sees_unmatched(actor: Actor) -> bool:
    return actor.is_admin and actor.organization.is_plan


def visible_messages(actor: Actor) -> QuerySet[InboundMessage]:
    mine = Q(patient__in=visible_patients(actor))
    if sees_unmatched(actor):
        mine |= Q(patient__isnull=True)
    return InboundMessage.objects.select_related("patient").filter(mine)


def get_message_for_user(actor: Actor, message_id: int | str) -> InboundMessage:
    return one_or_404(visible_messages(actor), message_id, "message")


def get_message_for_admin(actor: Actor, message_id: int | str) -> InboundMessage:
    """Replaying a message changes records of whoever it names: administrators only."""
    message = get_message_for_user(actor, message_id)
    if not actor.is_admin or not actor.can_edit_patients:
        raise PermissionDenied("Only your organization's administrators replay messages.")
    return message


def visible_episodes(actor: Actor) -> QuerySet[Episode]:
    return Episode.objects.select_related("patient").filter(patient__in=visible_patients(actor))


def visible_reviews(actor: Actor) -> QuerySet[PatientReview]:
    mine = Q(pk__in=PatientReview.objects.filter(candidate_patients__in=visible_patients(actor)))
    if sees_unmatched(actor):
        mine |= Q(candidate_patients__isnull=True)
    return PatientReview.objects.select_related("message").filter(mine).distinct()


def get_review_for_user(actor: Actor, review_id: int | str) -> PatientReview:
    return one_or_404(visible_reviews(actor), review_id, "patient review")


def get_review_for_editor(actor: Actor, review_id: int | str) -> PatientReview:
    review = get_review_for_user(actor, review_id)
    if not actor.can_edit_patients:
        raise PermissionDenied("Your role may read reviews but not decide them.")
    return review
