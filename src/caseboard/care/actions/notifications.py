from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

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
