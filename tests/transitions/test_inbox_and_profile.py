"""The transitions inbox and the episode timeline on the patient profile."""

from __future__ import annotations

from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from tests import factories as f
from tests.conftest import World, login
from tests.transitions.messages import deliver, member_message


def _ed_visit_and_discharge() -> None:
    deliver(member_message("A04", patient_class="E", visit_number="V77"))
    deliver(
        member_message(
            "A03",
            patient_class="E",
            visit_number="V77",
            discharged="20261102150000",
            event_time="20261102150000",
            diagnoses=(("J45.901", "Asthma with acute exacerbation"),),
        )
    )


def test_inbox_lists_the_alert_with_its_follow_up_task(feed: World) -> None:
    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    _ed_visit_and_discharge()
    page = login(Client(), feed.user_a).get("/transitions/").content.decode()
    assert "Alvarez, Maria" in page
    assert "GENHOSP" in page
    assert "J45.901 Asthma with acute exacerbation" in page
    assert "/care/tasks/" in page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=feed.patient_a.pk, path="/transitions/"
    ).exists()


def test_inbox_shows_another_practice_nothing(feed: World) -> None:
    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    _ed_visit_and_discharge()
    page = login(Client(), feed.user_b).get("/transitions/?show=all").content.decode()
    assert "Alvarez" not in page
    assert "No alert yet." in page


def test_completed_follow_ups_leave_the_open_view(feed: World) -> None:
    from caseboard.care.actions.tasks import complete_task
    from caseboard.care.models import Task

    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    _ed_visit_and_discharge()
    for task in Task.objects.filter(source="alert"):
        complete_task(f.actor_for(feed.user_a), task, outcome="Called; inhaler refilled")
    client = login(Client(), feed.user_a)
    assert "Alvarez" not in client.get("/transitions/").content.decode()
    assert "Alvarez" in client.get("/transitions/?show=all").content.decode()


def test_profile_shows_the_episode_timeline(feed: World) -> None:
    _ed_visit_and_discharge()
    page = login(Client(), feed.user_a).get(f"/patients/{feed.patient_a.pk}/").content.decode()
    assert 'data-testid="episodes"' in page
    assert "A04" in page and "A03" in page
    assert "GENHOSP" in page


def test_measures_count_follow_ups_done_by_their_due_date(feed: World) -> None:
    import datetime

    from caseboard.care.models import Task, TaskStatus
    from caseboard.transitions.measures import transition_measures

    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    _ed_visit_and_discharge()
    deliver(
        member_message(
            "A03",
            patient_class="E",
            visit_number="V78",
            admitted="20261105090000",
            discharged="20261105120000",
            event_time="20261105120000",
        )
    )
    contacts = Task.objects.filter(source="alert", title__startswith="Follow up").order_by("pk")
    assert contacts.count() == 2
    on_time, late = contacts
    # One contact made on its due date, the other a day after it.
    for task, day in ((on_time, on_time.due_on), (late, late.due_on + datetime.timedelta(1))):
        task.status = TaskStatus.DONE
        task.completed_at = datetime.datetime.combine(
            day, datetime.time(12), tzinfo=feed.practice_a.zone
        )
        task.save()
    measures = transition_measures(f.actor_for(feed.user_a))
    [ed] = measures.follow_up
    assert (ed.month, ed.setting) == (datetime.date(2026, 11, 1), "ED visits")
    assert (ed.discharges, ed.in_window, round(ed.percent)) == (2, 1, 50)
    assert measures.alerts_timed >= 2
    assert 0 <= (measures.median_seconds_to_alert or 0) < 60
    page = login(Client(), feed.user_a).get("/transitions/?show=all").content.decode()
    assert "1 (50%)" in page
