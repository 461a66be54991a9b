"""Background work for care management, run by the django-tasks worker (`caseboard
db_worker`); in tests the immediate backend runs it inline."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import TaskContext, TaskResultStatus, task, task_backends

from caseboard.care.models import Notification

# The daily reminder run: before the working day starts, so the morning's list is complete.
REMINDER_TIME = datetime.time(7, 0)


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


# --- Daily reminders ------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    due_soon: int
    overdue: int
    notifications: int
    staff_surveys: int
    late_summaries: int = 0
    tracking_reports: int = 0


def run_reminder_sweep(now: datetime.datetime | None = None) -> SweepResult:
    """Due-soon and overdue task reminders, this period's staff surveys, late conference
    summaries and due tracking-list reports, once each."""
    # Imported here: the actions notify through this module's jobs.
    from caseboard.care.actions.surveys import open_staff_surveys
    from caseboard.care.actions.tasks import remind_task_owners
    from caseboard.conference.summary import remind_late_summaries
    from caseboard.conference.tracking import send_due_reports

    now = now or timezone.now()
    reminded = remind_task_owners(now)
    opened = open_staff_surveys(timezone.localtime(now).date())
    return SweepResult(
        due_soon=reminded.due_soon,
        overdue=reminded.overdue,
        notifications=reminded.notifications,
        staff_surveys=opened,
        late_summaries=remind_late_summaries(now),
        tracking_reports=send_due_reports(timezone.localtime(now).date()),
    )


def next_reminder_run(after: datetime.datetime) -> datetime.datetime:
    """The first REMINDER_TIME in settings.TIME_ZONE strictly after `after` (DST-aware)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = after.astimezone(zone)
    candidate = datetime.datetime.combine(local.date(), REMINDER_TIME, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.datetime.combine(
            local.date() + datetime.timedelta(days=1), REMINDER_TIME, tzinfo=zone
        )
    return candidate


class CannotSchedule(Exception):
    """The configured task backend runs jobs at once and cannot hold one for later."""


@dataclass(frozen=True)
class Scheduled:
    run_after: datetime.datetime | None
    newly_enqueued: bool


def schedule_task_reminders(after: datetime.datetime | None = None) -> Scheduled:
    """Queue the next daily reminder run, unless one is already waiting in the queue."""
    backend = task_backends[send_task_reminders.backend]
    if not backend.supports_defer:
        raise CannotSchedule(
            f"The task backend {type(backend).__name__} runs jobs at once and cannot schedule"
            " them; configure django_tasks_db's DatabaseBackend and run `caseboard db_worker`,"
            " or run `caseboard care_reminders` daily from your own scheduler."
        )
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    if isinstance(backend, DatabaseBackend):
        waiting = (
            DBTaskResult.objects.filter(
                status=TaskResultStatus.READY,
                task_path=send_task_reminders.module_path,
                backend_name=backend.alias,
            )
            .order_by("run_after")
            .first()
        )
        if waiting is not None:
            # A job queued without a time waits under the far-future sentinel: it runs next.
            run_after = None if waiting.run_after == get_date_max() else waiting.run_after
            return Scheduled(run_after=run_after, newly_enqueued=False)
    run_after = next_reminder_run(after or timezone.now())
    send_task_reminders.using(run_after=run_after).enqueue()
    return Scheduled(run_after=run_after, newly_enqueued=True)


@task(takes_context=True)
def send_task_reminders(context: TaskContext) -> dict[str, int]:
    """The daily sweep. Run by a worker that can hold jobs for later, it queues tomorrow's run
    itself, even when today's fails, so reminders need no cron."""
    now = timezone.now()
    try:
        return asdict(run_reminder_sweep(now))
    finally:
        if task_backends[context.task_result.backend].supports_defer:
            schedule_task_reminders(after=now)
