from __future__ import annotations

import datetime
import io
import zoneinfo
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from caseboard.care import jobs
from caseboard.care.actions.tasks import remind_task_owners
from caseboard.care.models import Notification, StaffSurvey, Task
from caseboard.care.queries.tasks import due_soon_cutoff
from caseboard.orgs.models import Membership, Role
from tests import factories as f
from tests.conftest import World

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CaptureCommits = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def at(day: str, hour: int = 12, zone: zoneinfo.ZoneInfo = NEW_YORK) -> datetime.datetime:
    return datetime.datetime.combine(
        datetime.date.fromisoformat(day), datetime.time(hour), tzinfo=zone
    )


def task_due(world: World, day: str, **kwargs: Any) -> Task:
    return f.make_task(
        world.practice_a, world.user_a, due_on=datetime.date.fromisoformat(day), **kwargs
    )


def kinds(task: Task) -> list[str]:
    return list(
        Notification.objects.filter(url=f"/care/tasks/{task.pk}/")
        .order_by("id")
        .values_list("kind", flat=True)
    )


# --- Business days --------------------------------------------------------------------------


def test_on_a_friday_tasks_due_through_monday_are_due_soon(world: World) -> None:
    friday = "2026-11-20"
    assert due_soon_cutoff(world.practice_a, datetime.date.fromisoformat(friday)) == (
        datetime.date(2026, 11, 23)
    )
    monday = task_due(world, "2026-11-23")
    tuesday = task_due(world, "2026-11-24")
    sweep = remind_task_owners(at(friday))
    assert (sweep.due_soon, sweep.overdue) == (1, 0)
    assert kinds(monday) == ["task_due_soon"] and kinds(tuesday) == []


def test_before_thanksgiving_due_soon_runs_to_the_friday_after(world: World) -> None:
    wednesday = datetime.date(2026, 11, 25)
    assert due_soon_cutoff(world.practice_a, wednesday) == datetime.date(2026, 11, 27)
    friday = task_due(world, "2026-11-27")
    next_monday = task_due(world, "2026-11-30")
    remind_task_owners(at("2026-11-25"))
    assert kinds(friday) == ["task_due_soon"] and kinds(next_monday) == []


def test_patriots_day_is_a_holiday_in_massachusetts_but_not_in_new_york(world: World) -> None:
    friday = datetime.date(2026, 4, 17)  # Patriots' Day is Monday, April 20
    assert due_soon_cutoff(world.practice_a, friday) == datetime.date(2026, 4, 21)
    world.practice_a.state = "NY"
    assert due_soon_cutoff(world.practice_a, friday) == datetime.date(2026, 4, 20)


def test_an_overdue_task_is_reminded_once_as_overdue(world: World) -> None:
    late = task_due(world, "2026-11-18")
    sweep = remind_task_owners(at("2026-11-23"))
    assert (sweep.due_soon, sweep.overdue, sweep.notifications) == (0, 1, 1)
    note = Notification.objects.get(url=f"/care/tasks/{late.pk}/")
    assert (note.user, note.kind) == (world.user_a, "task_overdue")
    assert note.title == "Your task is overdue (it was due Nov 18)"
    late.refresh_from_db()
    assert late.reminded_overdue_at == at("2026-11-23")


def test_a_task_is_reminded_when_due_soon_and_again_when_overdue(world: World) -> None:
    task = task_due(world, "2026-11-23")
    remind_task_owners(at("2026-11-20"))
    remind_task_owners(at("2026-11-23", 7))
    remind_task_owners(at("2026-11-24", 7))
    assert kinds(task) == ["task_due_soon", "task_overdue"]


def test_running_the_sweep_twice_sends_nothing_new(world: World) -> None:
    task_due(world, "2026-11-18")
    task_due(world, "2026-11-23")
    first = remind_task_owners(at("2026-11-23"))
    count = Notification.objects.count()
    second = remind_task_owners(at("2026-11-23", 15))
    assert (first.due_soon, first.overdue) == (1, 1)
    assert (second.due_soon, second.overdue, second.notifications) == (0, 0, 0)
    assert Notification.objects.count() == count


def test_done_and_cancelled_tasks_are_not_reminded(world: World) -> None:
    done = task_due(world, "2026-11-18")
    cancelled = task_due(world, "2026-11-23")
    Task.objects.filter(pk=done.pk).update(status="done")
    Task.objects.filter(pk=cancelled.pk).update(status="cancelled")
    assert remind_task_owners(at("2026-11-23")).notifications == 0


def test_today_is_the_owner_organizations_own(world: World) -> None:
    west = f.make_org(name="Practice West")
    west.time_zone = "America/Los_Angeles"
    west.save()
    west_user = f.make_user(west)
    east_task = task_due(world, "2026-11-23")
    west_task = f.make_task(west, west_user, due_on=datetime.date(2026, 11, 23))
    # 01:00 on Tuesday in Boston is still 22:00 on Monday in Los Angeles.
    remind_task_owners(at("2026-11-24", 1))
    assert kinds(east_task) == ["task_overdue"]
    assert kinds(west_task) == ["task_due_soon"]


def test_an_unassigned_task_reminds_the_organizations_coordinators(world: World) -> None:
    coordinator = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    pcp = f.make_user(world.practice_a, Role.PCP)
    task = task_due(world, "2026-11-23")
    Task.objects.filter(pk=task.pk).update(owner_user=None)
    remind_task_owners(at("2026-11-23"))
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert told == {world.user_a.pk, coordinator.pk}
    assert pcp.pk not in told
    assert Notification.objects.first().title == (  # type: ignore[union-attr]
        "A task of Practice A that nobody has taken is due today"
    )


def test_a_task_whose_owner_left_reminds_the_coordinators(world: World) -> None:
    leaver = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    task = f.make_task(world.practice_a, leaver, due_on=datetime.date(2026, 11, 23))
    Membership.objects.filter(user=leaver).update(is_active=False)
    remind_task_owners(at("2026-11-23"))
    assert list(
        Notification.objects.filter(url=f"/care/tasks/{task.pk}/").values_list("user_id", flat=True)
    ) == [world.user_a.pk]


def test_reminders_are_emailed_without_the_patients_name(
    world: World, django_capture_on_commit_callbacks: CaptureCommits
) -> None:
    task_due(world, "2026-11-23", patient=world.patient_a, title="Call Mrs. Alvarez")
    with django_capture_on_commit_callbacks(execute=True):
        remind_task_owners(at("2026-11-23"))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[caseboard] Your task is due today"
    assert message.to == ["t@example.org"]
    assert "Alvarez" not in message.subject and "Alvarez" not in message.body
    assert "/care/tasks/" in message.body
    # In the app, where access is checked, the notification names the patient.
    assert "Maria Alvarez" in Notification.objects.get().body


# --- The job and its schedule ---------------------------------------------------------------


def test_the_job_reminds_and_opens_staff_surveys(
    world: World, django_capture_on_commit_callbacks: CaptureCommits
) -> None:
    task_due(world, "2000-01-03")
    with django_capture_on_commit_callbacks(execute=True):
        result = jobs.send_task_reminders.enqueue()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value is not None and result.return_value["overdue"] == 1
    assert StaffSurvey.objects.filter(user=world.user_a, organization=world.practice_a).exists()
    subjects = [m.subject for m in mail.outbox]
    assert "[caseboard] Your task is overdue (it was due Jan 3)" in subjects
    assert any("staff survey is open" in s for s in subjects)


def test_the_next_run_is_the_next_seven_oclock_in_new_york() -> None:
    assert jobs.next_reminder_run(at("2026-11-23", 6)) == at("2026-11-23", 7)
    assert jobs.next_reminder_run(at("2026-11-23", 7)) == at("2026-11-24", 7)
    # Across the spring change to daylight time, 07:00 is still 07:00 on the wall clock.
    run = jobs.next_reminder_run(at("2026-03-07", 8))
    assert run == at("2026-03-08", 7)
    assert run.astimezone(datetime.UTC).hour == 11


@override_settings(TASKS=DATABASE_TASKS)
def test_scheduling_queues_one_run_and_never_a_second(db: None) -> None:
    first = jobs.schedule_task_reminders(after=at("2026-11-23", 9))
    second = jobs.schedule_task_reminders(after=at("2026-11-23", 10))
    waiting = DBTaskResult.objects.get(task_path="caseboard.care.jobs.send_task_reminders")
    assert (first.newly_enqueued, second.newly_enqueued) == (True, False)
    assert waiting.status == TaskResultStatus.READY
    assert waiting.run_after == at("2026-11-24", 7) == second.run_after


def test_scheduling_is_refused_by_a_backend_that_runs_jobs_at_once(db: None) -> None:
    with pytest.raises(jobs.CannotSchedule, match="cannot schedule"):
        jobs.schedule_task_reminders()


# The worker closes its database connection after a job, as it would in production; a
# transactional test survives that on PostgreSQL too.
@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS)
def test_run_by_the_worker_the_job_queues_tomorrows_run(world: World) -> None:
    jobs.send_task_reminders.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", "--max-tasks", "1", verbosity=0)
    done = DBTaskResult.objects.get(status=TaskResultStatus.SUCCESSFUL)
    assert done.task_path == "caseboard.care.jobs.send_task_reminders"
    queued = DBTaskResult.objects.get(
        status=TaskResultStatus.READY, task_path="caseboard.care.jobs.send_task_reminders"
    )
    assert queued.run_after == jobs.next_reminder_run(done.started_at)  # type: ignore[arg-type]


def test_the_command_sweeps_now(world: World) -> None:
    task_due(world, "2000-01-03")
    out = io.StringIO()
    call_command("care_reminders", stdout=out)
    assert "1 overdue" in out.getvalue() and "opened" in out.getvalue()
    assert Notification.objects.filter(kind="task_overdue").count() == 1


def test_the_command_explains_when_the_backend_cannot_schedule(world: World) -> None:
    with pytest.raises(CommandError, match="runs jobs at once"):
        call_command("care_reminders", "--schedule", stdout=io.StringIO())


@override_settings(TASKS=DATABASE_TASKS)
def test_the_command_schedules_the_daily_run_once(world: World) -> None:
    out = io.StringIO()
    call_command("care_reminders", "--schedule", stdout=out)
    call_command("care_reminders", "--schedule", stdout=out)
    assert "Queued the next daily run" in out.getvalue()
    assert "already queued" in out.getvalue()
    assert (
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, task_path="caseboard.care.jobs.send_task_reminders"
        ).count()
        == 1
    )
