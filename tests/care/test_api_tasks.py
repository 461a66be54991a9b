from __future__ import annotations

import datetime
import json

from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.models import Task
from caseboard.care.queries.tasks import organization_today
from caseboard.orgs.models import Role
from tests import factories as f
from tests.conftest import World, login


def test_create_a_task_for_a_patient(world: World) -> None:
    client = login(Client(), world.user_a)
    due = organization_today(world.practice_a)
    goal = f.make_goal(world.patient_a, world.user_a, world.practice_a, "Fewer ED visits")
    response = client.post(
        "/api/tasks",
        json.dumps(
            {
                "title": "Follow up after ED visit",
                "due_on": due.isoformat(),
                "priority": "high",
                "source": "alert",
                "patient_id": world.patient_a.pk,
                "goal_id": goal.pk,
                "owner_organization_id": world.plan.pk,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["patient_name"] == "Maria Alvarez" and body["goal"] == "Fewer ED visits"
    assert body["owner_organization"] == {"id": world.plan.pk, "name": "Plan P"}
    assert body["owner_user"] is None and body["source"] == "alert"
    assert (body["due_on"], body["due_soon"], body["overdue"]) == (due.isoformat(), True, False)
    assert Task.objects.get(pk=body["id"]).created_by == world.user_a


def test_creating_refuses_bad_input_with_the_field_named(world: World) -> None:
    client = login(Client(), world.user_a)
    today = organization_today(world.practice_a)
    past = client.post(
        "/api/tasks",
        json.dumps({"title": "x", "due_on": (today - datetime.timedelta(days=1)).isoformat()}),
        content_type="application/json",
    )
    assert past.status_code == 400 and past.json()["field"] == "due_on"
    stranger = client.post(
        "/api/tasks",
        json.dumps(
            {"title": "x", "due_on": today.isoformat(), "owner_organization_id": world.plan_q.pk}
        ),
        content_type="application/json",
    )
    assert stranger.status_code == 400 and stranger.json()["field"] == "owner_organization"
    blank = client.post(
        "/api/tasks",
        json.dumps({"title": "  ", "due_on": today.isoformat()}),
        content_type="application/json",
    )
    assert blank.status_code == 400 and blank.json()["field"] == "title"
    assert not Task.objects.exists()


def test_creating_about_a_patient_of_another_practice_is_404(world: World) -> None:
    response = login(Client(), world.user_a).post(
        "/api/tasks",
        json.dumps(
            {
                "title": "x",
                "due_on": organization_today(world.practice_a).isoformat(),
                "patient_id": world.patient_b.pk,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Task.objects.exists()


def test_list_by_scope_and_status(world: World) -> None:
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    mine = f.make_task(world.practice_a, world.user_a, patient=world.patient_a, title="Mine")
    unassigned = f.make_task(world.practice_a, world.user_a, title="Anyone's")
    Task.objects.filter(pk=unassigned.pk).update(owner_user=None)
    handed = f.make_task(world.practice_a, world.user_a, title="Handed over")
    Task.objects.filter(pk=handed.pk).update(owner_user=colleague)
    done = f.make_task(world.practice_a, world.user_a, title="Done")
    Task.objects.filter(pk=done.pk).update(status="done")
    client = login(Client(), world.user_a)

    def titles(**params: str) -> list[str]:
        return [t["title"] for t in client.get("/api/tasks", params).json()]

    assert titles() == ["Mine"]
    assert titles(scope="organization") == ["Anyone's"]
    assert sorted(titles(scope="assigned_by_me")) == ["Anyone's", "Handed over"]
    assert titles(status="done") == ["Done"]
    assert titles(patient_id=str(world.patient_a.pk)) == ["Mine"]
    assert client.get("/api/tasks", {"scope": "everything"}).status_code == 422
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=mine.patient_id, detail__api="tasks"
    ).exists()


def test_get_one_task_records_a_view_and_hides_others(world: World) -> None:
    own = f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    other = f.make_task(world.practice_b, world.user_b, patient=world.patient_b)
    client = login(Client(), world.user_a)
    assert client.get(f"/api/tasks/{own.pk}").json()["id"] == own.pk
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(own.pk)).exists()
    assert client.get(f"/api/tasks/{other.pk}").status_code == 404


def test_complete_a_task_with_an_outcome(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/api/tasks/{task.pk}/complete",
        json.dumps({"outcome": "Reached; ride arranged"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["outcome"]) == ("done", "Reached; ride arranged")
    assert body["completed_by"]["id"] == world.user_a.pk
    again = client.post(f"/api/tasks/{task.pk}/complete")
    assert again.status_code == 400 and "already done" in again.json()["detail"]


def test_complete_with_no_body_or_bad_json(world: World) -> None:
    client = login(Client(), world.user_a)
    task = f.make_task(world.practice_a, world.user_a)
    bad = client.post(
        f"/api/tasks/{task.pk}/complete", "{not json", content_type="application/json"
    )
    assert bad.status_code == 400
    empty = client.post(f"/api/tasks/{task.pk}/complete", "", content_type="application/json")
    assert empty.status_code == 200 and empty.json()["status"] == "done"


def test_a_partner_that_only_follows_a_task_cannot_complete_it(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    client = login(Client(), world.plan_user)
    assert client.get(f"/api/tasks/{task.pk}").status_code == 200
    assert client.post(f"/api/tasks/{task.pk}/complete").status_code == 403


def test_the_api_requires_sign_in(world: World) -> None:
    assert Client().get("/api/tasks").status_code == 401
