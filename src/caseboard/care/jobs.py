"""Background work for care management, run by the django-tasks worker (`caseboard
db_worker`); in tests the immediate backend runs it inline."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task

from caseboard.care.models import Notification


@task()
def email_notification(notification_id: int) -> bool:
    """Send a notification by e-mail once. The message names no patient: e-mail leaves the
    system, so it only points back to caseboard, where access is checked (minimum necessary)."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.emailed_at is not None:
        return False
    if not notification.user.email:
        return False
    send_mail(
        subject=f"[caseboard] {notification.title}",
        message=(
            f"{notification.title}\n\nOpen caseboard to see the details:"
            f" {settings.CASEBOARD_BASE_URL.rstrip('/')}{notification.url or '/'}\n"
        ),
        from_email=None,
        recipient_list=[notification.user.email],
    )
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return True
