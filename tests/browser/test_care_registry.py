from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.models import Enrollment, Interaction
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_care_manager_enrolls_logs_time_and_finds_the_patient_in_the_registry(
    page: Page, live_server: LiveServer, world: World
) -> None:
    base = live_server.url
    patient = world.patient_a
    sign_in(page, base, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()

    page.goto(f"{base}/care/patients/{patient.pk}/enroll/")
    page.get_by_label("Program").select_option(label="Health home (HHP)")
    page.get_by_label("Acuity").select_option(label="Tier 1 — high")
    page.get_by_label("Care manager").select_option(label="Test User — Clinical care manager (RN)")
    page.get_by_label("Start as").select_option(label="Enrolled (active)")
    page.get_by_label("Why now").fill("Three ED visits since August")
    page.get_by_role("button", name="Enroll").click()
    expect(page.get_by_test_id("enrollment-status")).to_have_text("Enrolled (active)")
    expect(page.get_by_test_id("transition-history")).to_contain_text(
        "Three ED visits since August"
    )
    enrollment = Enrollment.objects.get(patient=patient)
    assert enrollment.program == "hhp" and enrollment.care_manager == world.user_a

    page.get_by_role("link", name="Interactions and time").click()
    page.get_by_label("Kind").select_option(label="Phone")
    page.get_by_label("Minutes").fill("25")
    page.get_by_label("Note").fill("Reviewed medications; booked PCP follow-up")
    page.get_by_role("button", name="Log").click()
    expect(page.get_by_text("Logged 25 min (phone).")).to_be_visible()
    expect(page.get_by_test_id("interactions")).to_contain_text("booked PCP follow-up")
    expect(page.get_by_test_id("month-totals")).to_contain_text("99490")
    assert Interaction.objects.get(patient=patient).minutes == 25

    page.goto(f"{base}/care/registry/")
    row = page.locator(f"tr[data-enrollment='{enrollment.pk}']")
    expect(row).to_contain_text("Alvarez, Maria")
    expect(row).to_contain_text("25 min")
    expect(row).to_contain_text("99490")
    screenshot(page, "care-registry")

    # The filter form swaps the table in place (htmx) and keeps the address shareable.
    page.get_by_label("Status").select_option(label="Graduated")
    expect(page.get_by_text("No enrollment matches these filters.")).to_be_visible()
    assert re.search(r"status=graduated", page.url)
    page.get_by_label("Status").select_option(label="Open (all but graduated and disenrolled)")
    expect(row).to_contain_text("Alvarez, Maria")

    # The care manager joined the care team when assigned.
    page.goto(f"{base}/care/patients/{patient.pk}/team/")
    expect(page.get_by_test_id("care-team")).to_contain_text("Clinical care manager (RN)")
    page.goto(f"{base}/care/caseload/")
    expect(page.get_by_test_id("caseload")).to_contain_text("1 / 60")
    screenshot(page, "care-caseload")
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=patient.pk, username="a.rn", path="/care/registry/"
    ).exists()


def test_a_refused_transition_is_explained_in_the_browser(
    page: Page, live_server: LiveServer, world: World
) -> None:
    from tests.factories import make_enrollment

    enrollment = make_enrollment(world.patient_a, world.practice_a, world.user_a)
    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()
    page.goto(f"{live_server.url}/care/enrollments/{enrollment.pk}/")
    page.get_by_label("New status").select_option(label="Graduated")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Say why the status changes.")).to_be_visible()
    page.get_by_label("Why").fill("Goals met; stable for three months")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("enrollment-status")).to_have_text("Graduated")
    screenshot(page, "care-enrollment-graduated")
