from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions import tasks as actions
from caseboard.care.errors import CareError
from caseboard.care.models import Notification, Task, TaskStatus
from caseboard.care.queries import tasks as queries
from caseboard.orgs.models import Role
from tests import factories as f
from tests.conftest import World, login


def today_at(world: World) -> datetime.date:
    return queries.organization_today(world.practice_a)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def new_task_data(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Call about the cardiology referral",
        "detail": "",
        "due_on": (today_at(world) + days(3)).isoformat(),
        "priority": "normal",
        "owner": f"user:{world.practice_a.pk}:{world.user_a.pk}",
        "patient": "",
        "goal": "",
        "source": "manual",
    }
    data.update(overrides)
    return data


# --- New task -------------------------------------------------------------------------------


def test_care_manager_adds_a_task_about_a_patient(world: World) -> None:
    client = login(Client(), world.user_a)
    goal = f.make_goal(world.patient_a, world.user_a, world.practice_a)
    response = client.post(
        "/care/tasks/new/",
        new_task_data(world, patient=world.patient_a.pk, goal=goal.pk, priority="high"),
    )
    assert response.status_code == 302 and response["Location"] == "/care/tasks/"
    task = Task.objects.get()
    assert (task.patient, task.goal, task.priority) == (world.patient_a, goal, "high")
    assert (task.owner_organization, task.owner_user) == (world.practice_a, world.user_a)
    assert (task.created_by, task.source, task.status) == (world.user_a, "manual", "open")
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, patient_id=world.patient_a.pk, object_id=str(task.pk)
    ).exists()


def test_the_link_from_a_screening_prefills_patient_title_and_source(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.get(
        "/care/tasks/new/",
        {"patient": world.patient_a.pk, "source": "screening", "title": "Follow up PHQ-9 of 14"},
    )
    form = response.context["form"]
    assert form["patient"].value() == world.patient_a.pk
    assert form["title"].value() == "Follow up PHQ-9 of 14"
    assert form["source"].value() == "screening"
    assert "Source: Screening" in response.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk
    ).exists()
    client.post(
        f"/care/tasks/new/?patient={world.patient_a.pk}",
        new_task_data(
            world, patient=world.patient_a.pk, source="screening", title="Follow up PHQ-9"
        ),
    )
    assert Task.objects.get().source == "screening"


def test_an_unknown_source_in_the_link_falls_back_to_manual(world: World) -> None:
    response = login(Client(), world.user_a).get("/care/tasks/new/", {"source": "nonsense"})
    assert response.context["form"]["source"].value() == "manual"


def test_the_goal_in_the_link_brings_its_patient(world: World) -> None:
    goal = f.make_goal(world.patient_a, world.user_a, world.practice_a, "Walk to church")
    response = login(Client(), world.user_a).get("/care/tasks/new/", {"goal": goal.pk})
    assert response.context["form"]["patient"].value() == world.patient_a.pk
    assert response.context["form"]["goal"].value() == goal.pk
    assert "Walk to church" in response.content.decode()


def test_a_patient_the_actor_cannot_see_gives_404(world: World) -> None:
    client = login(Client(), world.user_a)
    assert client.get("/care/tasks/new/", {"patient": world.patient_b.pk}).status_code == 404
    goal_b = f.make_goal(world.patient_b, world.user_b, world.practice_b)
    assert client.get("/care/tasks/new/", {"goal": goal_b.pk}).status_code == 404


def test_a_posted_patient_the_actor_cannot_see_is_refused(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.post("/care/tasks/new/", new_task_data(world, patient=world.patient_b.pk))
    assert response.status_code == 200
    assert "Choose a patient you care for." in response.context["form"].errors["patient"]
    assert not Task.objects.exists()


def test_choosing_a_patient_loads_their_goals_into_the_form(world: World) -> None:
    f.make_goal(world.patient_a, world.user_a, world.practice_a, "Sleep through the night")
    response = login(Client(), world.user_a).get(
        "/care/tasks/new/",
        {"patient": world.patient_a.pk, "partial": "goal"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="goal-field">')
    assert "Sleep through the night" in html and "<html" not in html


def test_a_due_date_in_the_past_is_refused_and_nothing_is_saved(world: World) -> None:
    client = login(Client(), world.user_a)
    yesterday = today_at(world) - days(1)
    response = client.post("/care/tasks/new/", new_task_data(world, due_on=yesterday.isoformat()))
    assert "has passed" in response.context["form"].errors["due_on"][0]
    assert not Task.objects.exists()


def test_the_goal_must_be_in_the_chosen_patients_care_plan(world: World) -> None:
    other = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Other")
    goal = f.make_goal(other, world.user_a, world.practice_a)
    response = login(Client(), world.user_a).post(
        "/care/tasks/new/", new_task_data(world, patient=world.patient_a.pk, goal=goal.pk)
    )
    assert response.context["form"].errors["goal"] == [
        "That goal belongs to another patient's care plan."
    ]
    assert not Task.objects.exists()


def test_a_task_can_go_to_the_partner_plan_but_not_to_another_practice(world: World) -> None:
    client = login(Client(), world.user_a)
    client.post(
        "/care/tasks/new/",
        new_task_data(world, patient=world.patient_a.pk, owner=f"org:{world.plan.pk}"),
    )
    task = Task.objects.get()
    assert (task.owner_organization, task.owner_user) == (world.plan, None)
    response = client.post(
        "/care/tasks/new/", new_task_data(world, owner=f"org:{world.practice_b.pk}")
    )
    assert response.context["form"].errors["owner"]
    assert Task.objects.count() == 1


def test_a_partner_that_does_not_serve_the_patient_cannot_own_the_task(world: World) -> None:
    plan = f.actor_for(world.plan_user)
    with pytest.raises(CareError, match="does not care for this patient"):
        actions.create_task(
            plan,
            title="Arrange transport",
            due_on=today_at(world) + days(2),
            patient=world.patient_a,
            owner_organization=world.practice_b,
        )


def test_read_only_staff_cannot_own_a_task(world: World) -> None:
    facilitator = f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    with pytest.raises(CareError, match="may read"):
        actions.create_task(
            f.actor_for(world.user_a),
            title="Chart review",
            due_on=today_at(world),
            owner_user=facilitator,
        )


def test_a_practice_facilitator_cannot_add_tasks(world: World) -> None:
    facilitator = f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    response = login(Client(), facilitator).post(
        "/care/tasks/new/",
        new_task_data(world, owner=f"org:{world.practice_a.pk}"),
    )
    assert response.status_code == 403
    assert not Task.objects.exists()


def test_assigning_a_colleague_notifies_them_without_the_patient_in_the_title(
    world: World,
) -> None:
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    login(Client(), world.user_a).post(
        "/care/tasks/new/",
        new_task_data(
            world,
            patient=world.patient_a.pk,
            owner=f"user:{world.practice_a.pk}:{colleague.pk}",
        ),
    )
    note = Notification.objects.get(user=colleague)
    assert note.kind == "task_assigned" and note.patient == world.patient_a
    assert "Alvarez" not in note.title
    assert note.url == f"/care/tasks/{Task.objects.get().pk}/"


# --- My tasks -------------------------------------------------------------------------------


def test_my_tasks_are_split_into_overdue_due_soon_and_later(world: World) -> None:
    today = today_at(world)
    late = f.make_task(world.practice_a, world.user_a, due_on=today - days(2), title="Late one")
    soon = f.make_task(world.practice_a, world.user_a, due_on=today, title="Today one")
    later = f.make_task(world.practice_a, world.user_a, due_on=today + days(30), title="Far one")
    response = login(Client(), world.user_a).get("/care/tasks/")
    board = response.context["board"]
    assert (board.overdue, board.due_soon, board.later) == ([late], [soon], [later])
    html = response.content.decode()
    assert f'id="task-{late.pk}" class="task-row overdue"' in html
    assert f'id="task-{soon.pk}" class="task-row"' in html


def test_the_organization_tab_shows_tasks_nobody_has_taken(world: World) -> None:
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    unassigned = f.make_task(world.practice_a, colleague, title="Anyone")
    Task.objects.filter(pk=unassigned.pk).update(owner_user=None)
    f.make_task(world.practice_a, colleague, title="Colleague's own")
    board = login(Client(), world.user_a).get("/care/tasks/?scope=organization").context["board"]
    assert [t.title for t in board.later + board.due_soon + board.overdue] == ["Anyone"]


def test_the_assigned_by_me_tab_shows_tasks_handed_to_others(world: World) -> None:
    actor = f.actor_for(world.user_a)
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    due = today_at(world) + days(20)
    actions.create_task(actor, title="For me", due_on=due, owner_user=world.user_a)
    actions.create_task(actor, title="For colleague", due_on=due, owner_user=colleague)
    actions.create_task(
        actor, title="For plan", due_on=due, patient=world.patient_a, owner_organization=world.plan
    )
    board = login(Client(), world.user_a).get("/care/tasks/?scope=assigned_by_me").context["board"]
    assert sorted(t.title for t in board.later) == ["For colleague", "For plan"]


def test_the_done_tab_shows_what_i_completed_recently(world: World) -> None:
    actor = f.actor_for(world.user_a)
    task = f.make_task(world.practice_a, world.user_a, title="Finished")
    actions.complete_task(actor, task, outcome="Reached her")
    f.make_task(world.practice_a, world.user_a, title="Still open")
    response = login(Client(), world.user_a).get("/care/tasks/?scope=done")
    assert [t.title for t in response.context["board"].done] == ["Finished"]
    assert "Reached her" in response.content.decode()


def test_my_tasks_can_be_filtered_by_patient(world: World) -> None:
    other = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Other")
    later = today_at(world) + days(30)
    for patient, title in ((world.patient_a, "About Alvarez"), (other, "About Other")):
        f.make_task(world.practice_a, world.user_a, patient=patient, title=title, due_on=later)
    client = login(Client(), world.user_a)
    board = client.get(f"/care/tasks/?patient={world.patient_a.pk}").context["board"]
    assert [t.title for t in board.later] == ["About Alvarez"]
    assert {p.pk for p in board.patients} == {world.patient_a.pk, other.pk}
    assert client.get(f"/care/tasks/?patient={world.patient_b.pk}").status_code == 404


def test_my_tasks_records_a_view_of_each_patient_shown(world: World) -> None:
    f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    login(Client(), world.user_a).get("/care/tasks/")
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, username="a.rn"
    ).exists()


def test_switching_tabs_with_htmx_returns_only_the_board(world: World) -> None:
    response = login(Client(), world.user_a).get(
        "/care/tasks/?scope=organization", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board">') and "<html" not in html


def test_my_tasks_never_shows_another_practices_tasks(world: World) -> None:
    f.make_task(world.practice_b, world.user_b, patient=world.patient_b, title="B's task")
    html = login(Client(), world.user_a).get("/care/tasks/?scope=organization").content.decode()
    assert "B&#x27;s task" not in html and "Beatrix" not in html


# --- Completing -----------------------------------------------------------------------------


def test_completing_inline_with_htmx_swaps_the_row(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    response = login(Client(), world.user_a).post(
        f"/care/tasks/{task.pk}/complete/",
        {"outcome": "Appointment booked"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="task-{task.pk}"') and "Done just now" in html
    task.refresh_from_db()
    assert (task.status, task.outcome, task.completed_by) == (
        "done",
        "Appointment booked",
        world.user_a,
    )
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(task.pk), detail={"status": "done"}
    ).exists()


def test_completing_twice_says_it_is_already_done(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a)
    client = login(Client(), world.user_a)
    client.post(f"/care/tasks/{task.pk}/complete/", HTTP_HX_REQUEST="true")
    again = client.post(f"/care/tasks/{task.pk}/complete/", HTTP_HX_REQUEST="true")
    assert "This task is already done." in again.content.decode()


def test_completing_without_htmx_goes_back_to_a_local_next_only(world: World) -> None:
    client = login(Client(), world.user_a)
    first = f.make_task(world.practice_a, world.user_a)
    response = client.post(f"/care/tasks/{first.pk}/complete/", {"next": "/care/tasks/?scope=done"})
    assert response["Location"] == "/care/tasks/?scope=done"
    second = f.make_task(world.practice_a, world.user_a)
    response = client.post(
        f"/care/tasks/{second.pk}/complete/", {"next": "https://evil.example/phish"}
    )
    assert response["Location"] == "/care/tasks/"


def test_completing_rejects_get(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a)
    assert login(Client(), world.user_a).get(f"/care/tasks/{task.pk}/complete/").status_code == 405


def test_a_partner_that_neither_owns_nor_assigned_a_task_cannot_complete_it(
    world: World,
) -> None:
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    client = login(Client(), world.plan_user)
    assert client.get(f"/care/tasks/{task.pk}/").status_code == 200
    assert client.post(f"/care/tasks/{task.pk}/complete/").status_code == 403
    task.refresh_from_db()
    assert task.status == "open"


def test_completing_a_task_someone_assigned_tells_them(world: World) -> None:
    plan = f.actor_for(world.plan_user)
    task = actions.create_task(
        plan,
        title="Book a PCP visit",
        due_on=today_at(world) + days(1),
        patient=world.patient_a,
        owner_organization=world.practice_a,
    )
    actions.complete_task(f.actor_for(world.user_a), task, outcome="Booked for Tuesday")
    note = Notification.objects.get(user=world.plan_user, kind="task_completed")
    assert note.organization == world.plan and "Booked for Tuesday" in note.body


# --- One task -------------------------------------------------------------------------------


def test_take_it_assigns_an_unassigned_task_to_me(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a)
    Task.objects.filter(pk=task.pk).update(owner_user=None)
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    client = login(Client(), colleague)
    assert "Take it" in client.get(f"/care/tasks/{task.pk}/").content.decode()
    response = client.post(f"/care/tasks/{task.pk}/", {"action": "take"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.owner_user == colleague
    assert "took the task" in client.get(f"/care/tasks/{task.pk}/").content.decode()


def test_a_partner_cannot_take_a_task_of_another_organization(world: World) -> None:
    plan = f.actor_for(world.plan_user)
    task = actions.create_task(
        plan,
        title="Send discharge summary",
        due_on=today_at(world),
        patient=world.patient_a,
        owner_organization=world.practice_a,
    )
    with pytest.raises(CareError, match="only its staff take it"):
        actions.take_task(plan, task)


def test_editing_a_task_changes_it_and_records_what_changed(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    Task.objects.filter(pk=task.pk).update(reminded_due_soon_at="2026-01-01T12:00Z")
    new_due = today_at(world) + days(10)
    response = login(Client(), world.user_a).post(
        f"/care/tasks/{task.pk}/",
        {
            "action": "update",
            "title": "Call about the new inhaler",
            "detail": "Pharmacy says prior authorization pending",
            "due_on": new_due.isoformat(),
            "priority": "high",
            "status": "in_progress",
            "owner": f"org:{world.plan.pk}",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_on, task.priority, task.status) == (
        "Call about the new inhaler",
        new_due,
        "high",
        "in_progress",
    )
    assert (task.owner_organization, task.owner_user) == (world.plan, None)
    # A new due date is reminded afresh.
    assert task.reminded_due_soon_at is None
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(task.pk))
    assert set(event.detail["changed"]) == {
        "title",
        "detail",
        "due_on",
        "priority",
        "status",
        "owner",
    }


def test_an_overdue_task_can_be_edited_without_moving_its_due_date(world: World) -> None:
    late = today_at(world) - days(5)
    task = f.make_task(world.practice_a, world.user_a, due_on=late)
    response = login(Client(), world.user_a).post(
        f"/care/tasks/{task.pk}/",
        {
            "action": "update",
            "title": "Renamed",
            "due_on": late.isoformat(),
            "priority": "normal",
            "status": "open",
            "owner": f"user:{world.practice_a.pk}:{world.user_a.pk}",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "Renamed"


def test_only_the_owning_or_assigning_organization_edits_a_task(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a)
    with pytest.raises(PermissionDenied):
        actions.update_task(
            f.actor_for(world.plan_user),
            task,
            title="x",
            detail="",
            due_on=task.due_on,
            priority="normal",
            status="open",
            owner_user=None,
            owner_organization=world.plan,
        )
    html = login(Client(), world.plan_user).get(f"/care/tasks/{task.pk}/").content.decode()
    assert "Change the task" not in html and "Practice A works this task" in html


def test_cancelling_needs_a_reason(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a)
    client = login(Client(), world.user_a)
    response = client.post(f"/care/tasks/{task.pk}/", {"action": "cancel", "reason": ""})
    assert response.context["cancel_form"].errors["reason"]
    task.refresh_from_db()
    assert task.status == "open"
    client.post(f"/care/tasks/{task.pk}/", {"action": "cancel", "reason": "Patient moved away"})
    task.refresh_from_db()
    assert (task.status, task.outcome) == (TaskStatus.CANCELLED, "Patient moved away")


def test_a_closed_task_can_be_reopened(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a)
    actions.complete_task(f.actor_for(world.user_a), task)
    login(Client(), world.user_a).post(f"/care/tasks/{task.pk}/", {"action": "reopen"})
    task.refresh_from_db()
    assert (task.status, task.completed_at) == ("open", None)


def test_the_task_page_shows_details_and_history_and_records_a_view(world: World) -> None:
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a, title="Call")
    actions.complete_task(f.actor_for(world.user_a), task, outcome="Left a voicemail")
    html = login(Client(), world.user_a).get(f"/care/tasks/{task.pk}/").content.decode()
    assert "created by Test User (Practice A)" in html
    assert "completed by Test User: “Left a voicemail”" in html
    assert "Alvarez, Maria" in html
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_id=str(task.pk), patient_id=world.patient_a.pk
    ).exists()


# --- Counts ---------------------------------------------------------------------------------


def test_counts_for_the_nav_bar(world: World) -> None:
    today = today_at(world)
    f.make_task(world.practice_a, world.user_a, due_on=today - days(1))
    f.make_task(world.practice_a, world.user_a, due_on=today - days(3))
    f.make_task(world.practice_a, world.user_a, due_on=today)
    f.make_task(world.practice_a, world.user_a, due_on=today + days(30))
    f.make_notification(world.user_a, world.practice_a)
    f.make_notification(world.user_a, world.plan)  # another organization's: not counted here
    counts = queries.counts(f.actor_for(world.user_a))
    assert counts == queries.TaskCounts(overdue=2, due_soon=1, unread_notifications=1)


def test_pages_require_sign_in(world: World) -> None:
    response = Client().get("/care/tasks/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]
