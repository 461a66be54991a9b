from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.care import jobs
from caseboard.care.models import Notification
from caseboard.orgs.models import Organization
from caseboard.patients.models import Patient


def notify(
    user: User,
    organization: Organization,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    patient: Patient | None = None,
    email: bool = True,
) -> Notification:
    """An in-app notification, and an e-mail sent in the background once the write commits.

    `title` goes out by e-mail, so it must not name the patient; put that in `body`.
    """
    notification = Notification.objects.create(
        user=user,
        organization=organization,
        patient=patient,
        kind=kind,
        title=title,
        body=body,
        url=url,
    )
    if email:
        transaction.on_commit(lambda: jobs.email_notification.enqueue(notification.pk))
    return notification


def mark_read(actor: Actor, notification: Notification) -> Notification:
    notification = access.care.get_notification_for_user(actor, notification.pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(actor: Actor) -> int:
    """Every unread notification of the actor's, for the organization they act for."""
    return (
        access.care.visible_notifications(actor)
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )
