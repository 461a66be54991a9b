from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from django.core import mail
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.notifications import notify
from caseboard.care.models import Notification
from tests import factories as f
from tests.conftest import World, login

CaptureCommits = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def note(world: World, title: str, *, url: str = "", read: bool = False, **kw: Any) -> Notification:
    return Notification.objects.create(
        user=world.user_a,
        organization=world.practice_a,
        kind="test",
        title=title,
        url=url,
        read_at=timezone.now() if read else None,
        **kw,
    )


def test_the_list_shows_unread_first_then_newest(world: World) -> None:
    older_unread = note(world, "Older unread")
    read = note(world, "Read one", read=True)
    newer_unread = note(world, "Newer unread")
    response = login(Client(), world.user_a).get("/care/notifications/")
    assert list(response.context["page"].object_list) == [newer_unread, older_unread, read]
    assert response.context["unread"] == 2
    assert "Mark all 2 read" in response.content.decode()


def test_the_list_shows_only_my_notifications_for_the_active_organization(world: World) -> None:
    note(world, "Mine here")
    Notification.objects.create(
        user=world.user_a, organization=world.plan, kind="test", title="Mine at the plan"
    )
    Notification.objects.create(
        user=world.user_b, organization=world.practice_b, kind="test", title="Someone else's"
    )
    html = login(Client(), world.user_a).get("/care/notifications/").content.decode()
    assert "Mine here" in html
    assert "Mine at the plan" not in html and "Someone else" not in html


def test_showing_a_notification_about_a_patient_records_a_view(world: World) -> None:
    note(world, "Task due", patient=world.patient_a)
    html = login(Client(), world.user_a).get("/care/notifications/").content.decode()
    assert "About Alvarez, Maria" in html
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, username="a.rn"
    ).exists()


def test_mark_all_read(world: World) -> None:
    note(world, "One")
    note(world, "Two")
    other = Notification.objects.create(
        user=world.user_b, organization=world.practice_b, kind="test", title="B's"
    )
    response = login(Client(), world.user_a).post("/care/notifications/")
    assert response.status_code == 302 and response["Location"] == "/care/notifications/"
    assert not Notification.objects.filter(user=world.user_a, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(world: World) -> None:
    n = note(world, "Task due", url="/care/tasks/")
    response = login(Client(), world.user_a).post(f"/care/notifications/{n.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/care/tasks/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_a_notification_never_redirects_off_site(world: World) -> None:
    client = login(Client(), world.user_a)
    for url in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        n = note(world, "Odd", url=url)
        response = client.post(f"/care/notifications/{n.pk}/read/")
        assert response["Location"] == "/care/notifications/", url


def test_another_users_notification_is_404(world: World) -> None:
    theirs = Notification.objects.create(
        user=world.user_b, organization=world.practice_b, kind="test", title="B's"
    )
    response = login(Client(), world.user_a).post(f"/care/notifications/{theirs.pk}/read/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_reading_rejects_get(world: World) -> None:
    n = note(world, "x")
    assert login(Client(), world.user_a).get(f"/care/notifications/{n.pk}/read/").status_code == (
        405
    )


def test_notify_emails_once_after_the_write_commits(
    world: World, django_capture_on_commit_callbacks: CaptureCommits
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        n = notify(world.user_a, world.practice_a, kind="test", title="Something is due")
        assert not mail.outbox  # nothing leaves before the commit
    assert len(callbacks) == 1 and len(mail.outbox) == 1
    n.refresh_from_db()
    assert n.emailed_at is not None
    callbacks[0]()  # a repeated job finds it already sent
    assert len(mail.outbox) == 1


def test_notify_without_email_sends_none(
    world: World, django_capture_on_commit_callbacks: CaptureCommits
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify(world.user_a, world.practice_a, kind="test", title="Quiet", email=False)
    assert not mail.outbox


def test_the_api_lists_my_notifications(world: World) -> None:
    note(world, "Unread one", patient=world.patient_a)
    note(world, "Read one", read=True)
    f.make_notification(world.user_b, world.practice_b)
    client = login(Client(), world.user_a)
    titles = [n["title"] for n in client.get("/api/notifications").json()]
    assert titles == ["Unread one", "Read one"]
    unread = client.get("/api/notifications", {"unread": "true"}).json()
    assert [n["title"] for n in unread] == ["Unread one"]
    assert unread[0]["patient_id"] == world.patient_a.pk
