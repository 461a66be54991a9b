"""`caseboard care_reminders [--schedule]`: task reminders and staff surveys, now and daily."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from caseboard.care import jobs


class Command(BaseCommand):
    help = (
        "Send the due-soon and overdue task reminders and open this period's staff surveys now."
        " With --schedule, also queue the daily run for the background worker"
        " (`caseboard db_worker`), which then queues each next day's run itself."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--schedule",
            action="store_true",
            help=f"queue the next daily run at {jobs.REMINDER_TIME:%H:%M} {settings.TIME_ZONE}"
            " unless one is already queued",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = jobs.run_reminder_sweep()
        self.stdout.write(
            f"Reminded {result.due_soon} task(s) due soon and {result.overdue} overdue"
            f" ({result.notifications} notification(s)); opened {result.staff_surveys}"
            f" staff survey(s); reminded {result.late_summaries} late conference summary(ies);"
            f" sent {result.tracking_reports} tracking-list report(s)."
        )
        if not options["schedule"]:
            return
        try:
            scheduled = jobs.schedule_task_reminders()
        except jobs.CannotSchedule as e:
            raise CommandError(str(e)) from e
        when = (
            f"{timezone.localtime(scheduled.run_after):%Y-%m-%d %H:%M %Z}"
            if scheduled.run_after
            else "as soon as a worker is free"
        )
        if scheduled.newly_enqueued:
            self.stdout.write(f"Queued the next daily run for {when}.")
        else:
            self.stdout.write(f"The next daily run is already queued for {when}.")
