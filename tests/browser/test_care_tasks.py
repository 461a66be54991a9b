from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.models import Task
from caseboard.care.queries.tasks import organization_today
from caseboard.orgs.models import Role
from tests import factories as f
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_care_manager_creates_a_task_and_completes_it_inline(
    page: Page, live_server: LiveServer, world: World
) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    f.make_goal(world.patient_a, world.user_a, world.practice_a, "Walk to the park every day")
    due = organization_today(world.practice_a) + datetime.timedelta(days=14)
    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()

    page.goto(f"{live_server.url}/care/tasks/")
    expect(page.get_by_text("Nothing on your list.")).to_be_visible()
    page.get_by_role("link", name="New task").click()
    page.get_by_label("What needs doing").fill("Call about the podiatry appointment")
    page.get_by_label("Due").fill(due.isoformat())
    page.get_by_label("Priority").select_option(label="High")
    page.get_by_label("Patient").select_option(label=str(world.patient_a))
    # htmx fetches the patient's care-plan goals as soon as the patient is chosen.
    goal_list = page.get_by_label("Care-plan goal")
    expect(goal_list.get_by_role("option", name="Walk to the park every day")).to_be_attached()
    goal_list.select_option(label="Walk to the park every day")
    page.get_by_role("button", name="Add task").click()

    expect(page.get_by_text("Task “Call about the podiatry appointment” added")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Call about the podiatry appointment"))
    expect(row).to_be_visible()
    expect(row.get_by_role("link", name="Alvarez, Maria")).to_be_visible()
    expect(row.get_by_text("Walk to the park every day")).to_be_visible()
    expect(row.get_by_text("High priority")).to_be_visible()
    screenshot(page, "care-tasks-created")

    url_before = page.url
    row.get_by_label(re.compile("Outcome of")).fill("Booked for next Tuesday")
    row.get_by_role("button", name="Complete").click()
    # The row is swapped in place: no page load.
    done_row = page.locator(f"#task-{Task.objects.get().pk}")
    expect(done_row.get_by_text("Done just now")).to_be_visible()
    expect(done_row.get_by_text("Booked for next Tuesday")).to_be_visible()
    assert page.url == url_before
    screenshot(page, "care-tasks-completed")

    task = Task.objects.get()
    assert (task.status, task.outcome, task.priority) == ("done", "Booked for next Tuesday", "high")
    assert task.goal is not None and task.patient == world.patient_a
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_id=str(task.pk), username="a.rn"
    ).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(task.pk), detail={"status": "done"}
    ).exists()

    page.get_by_role("link", name=re.compile("Done recently")).click()
    expect(page.get_by_role("row", name=re.compile("Call about the podiatry"))).to_be_visible()


def test_a_colleague_takes_an_unassigned_task_from_its_page(
    page: Page, live_server: LiveServer, world: World
) -> None:
    f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="a.cc")
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a, title="Fax records")
    Task.objects.filter(pk=task.pk).update(owner_user=None)
    sign_in(page, live_server.url, "a.cc")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()
    page.goto(f"{live_server.url}/care/tasks/?scope=organization")
    page.get_by_role("link", name="Fax records").click()
    page.get_by_role("button", name="Take it").click()
    expect(page.get_by_text("The task is yours now.")).to_be_visible()
    expect(page.get_by_text("took the task")).to_be_visible()
    screenshot(page, "care-task-taken")
    page.get_by_role("link", name="← My tasks").click()
    expect(page.get_by_role("row", name=re.compile("Fax records"))).to_be_visible()
    task.refresh_from_db()
    assert task.owner_user is not None and task.owner_user.username == "a.cc"


def test_care_manager_records_a_patient_survey_and_sees_the_results(
    page: Page, live_server: LiveServer, world: World
) -> None:
    from caseboard.care.actions.surveys import schedule_patient_surveys
    from caseboard.care.models import PatientSurvey

    enrolled_on = organization_today(world.practice_a) - datetime.timedelta(days=100)
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a, on=enrolled_on)
    schedule_patient_surveys(enrollment, enrolled_on)
    PatientSurvey.objects.filter(kind="enrollment").update(
        status="completed", self_rated_health=4, completed_on=enrolled_on
    )
    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()
    page.goto(f"{live_server.url}/care/surveys/")
    due_row = page.get_by_role("row", name=re.compile("Alvarez, Maria.*At 3 months"))
    expect(due_row.get_by_text("Overdue")).to_be_visible()
    due_row.get_by_role("link", name="Record answers").click()
    page.get_by_label("2 — Very good").check()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Survey at 3 months recorded.")).to_be_visible()
    results = page.get_by_role("row", name=re.compile("Practice care management"))
    expect(results.get_by_text("-2.00")).to_be_visible()
    expect(results.get_by_text("100.0% / 0.0% / 0.0%")).to_be_visible()
    screenshot(page, "care-patient-surveys")
    survey = PatientSurvey.objects.get(kind="three_months")
    assert (survey.status, survey.self_rated_health, survey.would_recommend) == (
        "completed",
        2,
        "yes",
    )
