"""Writing and reading the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import QuerySet

from caseboard.access import Actor
from caseboard.audit.context import current_origin
from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.patients.models import Patient


def record(
    actor: Actor,
    action: AuditAction,
    *,
    patient: Patient | None = None,
    obj: models.Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    origin = current_origin.get()
    return AuditEvent.objects.create(
        user_id=actor.user.pk,
        username=actor.user.get_username(),
        organization_id=actor.organization.pk,
        organization_name=actor.organization.name,
        patient_id=patient.pk if patient is not None else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
        client_address=origin.client_address,
        path=origin.path,
    )


def record_many(
    actor: Actor, action: AuditAction, patient_ids: Iterable[int], detail: dict[str, Any]
) -> int:
    """One event per patient whose data was shown, e.g. in a search result list."""
    origin = current_origin.get()
    events = [
        AuditEvent(
            user_id=actor.user.pk,
            username=actor.user.get_username(),
            organization_id=actor.organization.pk,
            organization_name=actor.organization.name,
            patient_id=pid,
            action=action,
            object_type="patients.patient",
            object_id=str(pid),
            detail=detail,
            client_address=origin.client_address,
            path=origin.path,
        )
        for pid in patient_ids
    ]
    AuditEvent.objects.bulk_create(events)
    return len(events)


def events_for_admin(
    actor: Actor,
    *,
    username: str = "",
    patient_id: int | None = None,
    action: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """Events by the admin's own organization's users (an admin audits their own staff)."""
    events = AuditEvent.objects.filter(organization_id=actor.organization.pk)
    if username:
        events = events.filter(username__icontains=username)
    if patient_id is not None:
        events = events.filter(patient_id=patient_id)
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(at__date__gte=since)
    if until is not None:
        events = events.filter(at__date__lte=until)
    return events
