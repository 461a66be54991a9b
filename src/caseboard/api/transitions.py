"""Hospital ADT messages and stays over the API: the same access policy and audit as the pages."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from caseboard import access
from caseboard.access import transitions as transitions_access
from caseboard.api.context import actor_of
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.transitions import actions, queries
from caseboard.transitions.models import Episode, InboundMessage

router = Router()
TAGS = ["transitions of care"]


class MessageOut(Schema):
    id: int
    received_at: datetime.datetime
    sending_application: str
    sending_facility: str
    control_id: str
    message_type: str
    trigger_event: str
    version: str
    status: str
    error: str
    patient_id: int | None
    attempts: int


class MessageDetailOut(MessageOut):
    raw: str
    ack: str


class MessageListParams(Schema):
    status: str = ""


class EpisodeEventOut(Schema):
    trigger_event: str
    occurred_at: datetime.datetime
    summary: str
    message_id: int | None


class EpisodeOut(Schema):
    id: int
    patient_id: int
    facility: str
    visit_number: str
    patient_class: str
    admitted_at: datetime.datetime | None
    discharged_at: datetime.datetime | None
    status: str
    discharge_disposition: str
    diagnoses: list[dict[str, str]]
    # "adt" from a hospital's feed, "claims" from the plan's claims hand-off.
    source: str
    events: list[EpisodeEventOut]


def _message_out(message: InboundMessage) -> MessageOut:
    return MessageOut.model_validate(message, from_attributes=True)


@router.get("/transitions/messages", response=list[MessageOut], tags=TAGS)
def list_messages(request: HttpRequest, params: Query[MessageListParams]) -> list[MessageOut]:
    actor = actor_of(request)
    found = list(queries.message_log(actor, params.status)[: queries.PAGE_SIZE])
    patient_ids = sorted({m.patient_id for m in found if m.patient_id is not None})
    if patient_ids:
        log.record_many(actor, AuditAction.VIEW, patient_ids, {"api": "ADT messages"})
    return [_message_out(m) for m in found]


@router.get("/transitions/messages/{message_id}", response=MessageDetailOut, tags=TAGS)
def get_message(request: HttpRequest, message_id: int) -> MessageDetailOut:
    actor = actor_of(request)
    message = transitions_access.get_message_for_user(actor, message_id)
    log.record(actor, AuditAction.VIEW, patient=message.patient, obj=message)
    return MessageDetailOut.model_validate(message, from_attributes=True)


@router.post("/transitions/messages/{message_id}/replay", response=MessageOut, tags=TAGS)
def replay_message(request: HttpRequest, message_id: int) -> MessageOut:
    """Process a failed (dead-letter) message again; administrators only."""
    actor = actor_of(request)
    message = transitions_access.get_message_for_admin(actor, message_id)
    return _message_out(actions.replay(actor, message))


@router.get("/patients/{patient_id}/episodes", response=list[EpisodeOut], tags=TAGS)
def list_episodes(request: HttpRequest, patient_id: int) -> list[EpisodeOut]:
    """The patient's hospital stays, newest first, each with its timeline."""
    actor = actor_of(request)
    patient = access.get_patient_for_user(actor, patient_id)
    episodes: list[Episode] = list(
        transitions_access.visible_episodes(actor)
        .filter(patient=patient)
        .prefetch_related("events")
    )
    log.record(actor, AuditAction.VIEW, patient=patient, detail={"api": "episodes"})
    return [
        EpisodeOut(
            id=e.pk,
            patient_id=e.patient_id,
            facility=e.facility,
            visit_number=e.visit_number,
            patient_class=e.patient_class,
            admitted_at=e.admitted_at,
            discharged_at=e.discharged_at,
            status=e.status,
            discharge_disposition=e.discharge_disposition,
            diagnoses=e.diagnoses,
            source=e.source,
            events=[
                EpisodeEventOut(
                    trigger_event=v.trigger_event,
                    occurred_at=v.occurred_at,
                    summary=v.summary,
                    message_id=v.message_id,
                )
                for v in e.events.all()
            ],
        )
        for e in episodes
    ]
