"""What the hospital-feed screens show, always through the access policy."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import transitions as transitions_access
from caseboard.care.models import TaskStatus
from caseboard.patients.models import Patient
from caseboard.transitions.models import (
    Episode,
    EpisodeAlert,
    EpisodeEvent,
    InboundMessage,
    MessageStatus,
    PatientReview,
    ReviewStatus,
)

PAGE_SIZE = 100
INBOX_LIMIT = 200
EPISODES_ON_PROFILE = 10


def message_log(actor: Actor, status: str = "") -> QuerySet[InboundMessage]:
    messages = transitions_access.visible_messages(actor)
    if status in MessageStatus.values:
        messages = messages.filter(status=status)
    return messages.order_by("-received_at", "-pk")


def message_events(actor: Actor, message: InboundMessage) -> QuerySet[EpisodeEvent]:
    episodes = transitions_access.visible_episodes(actor)
    return EpisodeEvent.objects.select_related("episode").filter(
        message=message, episode__in=episodes
    )


@dataclass(frozen=True)
class ReviewRow:
    review: PatientReview
    # (patient, score, reasons) for the candidates the actor may see, best first.
    candidates: list[tuple[Patient, float, list[str]]]


def review_rows(actor: Actor, status: str = ReviewStatus.PENDING) -> list[ReviewRow]:
    reviews = list(
        transitions_access.visible_reviews(actor)
        .filter(status=status)
        .order_by("created_at", "pk")[:PAGE_SIZE]
    )
    return [ReviewRow(review=r, candidates=visible_candidates(actor, r)) for r in reviews]


def visible_candidates(
    actor: Actor, review: PatientReview
) -> list[tuple[Patient, float, list[str]]]:
    # Only the leading candidates, so the choice stays among the people the review is about.
    ids = list(review.candidate_patients.values_list("pk", flat=True))
    patients = access.visible_patients(actor).in_bulk(ids)
    return [
        (patients[c["patient_id"]], float(c["score"]), list(c["reasons"]))
        for c in review.candidates
        if c["patient_id"] in patients
    ]


@dataclass(frozen=True)
class InboxRow:
    alert: EpisodeAlert

    @property
    def episode(self) -> Episode:
        return self.alert.episode

    @property
    def overdue(self) -> bool:
        task = self.alert.task
        return task is not None and task.is_open and task.due_on < timezone.localdate()


def inbox(actor: Actor, *, open_only: bool = True) -> list[InboxRow]:
    """The alerts sent to the actor's organization about patients it may see, newest first;
    by default those whose follow-up task is still open (the work to do)."""
    alerts = (
        EpisodeAlert.objects.filter(
            organization=actor.organization,
            episode__in=transitions_access.visible_episodes(actor),
        )
        .select_related("episode__patient", "task", "recipient")
        .order_by("-created_at", "-id")
    )
    if open_only:
        alerts = alerts.filter(task__status__in=[TaskStatus.OPEN, TaskStatus.IN_PROGRESS])
    return [InboxRow(a) for a in alerts[:INBOX_LIMIT]]


def patient_episodes(actor: Actor, patient: Patient) -> list[Episode]:
    """The patient's hospital and ED episodes with their timelines, newest first."""
    return list(
        transitions_access.visible_episodes(actor)
        .filter(patient=patient)
        .prefetch_related("events")
        .order_by("-admitted_at", "-id")[:EPISODES_ON_PROFILE]
    )
