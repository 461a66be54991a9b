"""A care manager screens with the PHQ-9 and the social-needs screen, refers to a food bank and
closes the loop; a food bank that uses caseboard closes it from its side."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.referrals import refer
from caseboard.care.models import Notification, Referral, Screening, Task
from caseboard.orgs.models import OrganizationKind, Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import World
from tests.factories import actor_for, make_org, make_resource, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def item(page: Page, number: int) -> Locator:
    return page.get_by_role("group", name=re.compile(rf"^{number}\. "))


def test_care_manager_screens_with_the_phq9_and_sees_the_safety_banner(
    page: Page, live_server: LiveServer, world: World
) -> None:
    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()
    page.goto(f"{live_server.url}/care/patients/{world.patient_a.pk}/screenings/")
    expect(page.get_by_text("No screening recorded yet.")).to_be_visible()
    page.get_by_role("link", name="PHQ-9", exact=True).click()
    expect(
        page.get_by_role("heading", name=re.compile("Patient Health Questionnaire-9"))
    ).to_be_visible()

    answers = {1: "More than half the days", 2: "More than half the days", 3: "Several days"}
    answers |= {4: "Nearly every day", 5: "Several days", 6: "Several days"}
    answers |= {7: "Not at all", 8: "Not at all", 9: "Several days"}
    for number, label in answers.items():
        item(page, number).get_by_label(label).check()
    # The running total follows the answers (2+2+1+3+1+1+0+0+1).
    expect(page.locator("[data-screening-total] output")).to_have_text("11")
    item(page, 10).get_by_label("Somewhat difficult").check()
    screenshot(page, "care-phq9-form")
    page.get_by_role("button", name="Score and save").click()

    expect(page.get_by_role("heading", name=re.compile(r"^PHQ-9"))).to_be_visible()
    result = page.get_by_test_id("screening-result")
    expect(result.locator(".screening-score")).to_have_text("11")
    expect(result).to_contain_text("Moderate depression symptoms")
    banner = page.get_by_test_id("safety-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("“Several days”")
    expect(banner).to_contain_text("A high-priority task due today")
    steps = page.get_by_test_id("next-steps")
    expect(steps).to_contain_text("warm hand-off to the BH provider")
    task_link = steps.get_by_role("link", name="Create a task").first
    expect(task_link).to_have_attribute(
        "href", re.compile(rf"^/care/tasks/new/\?patient={world.patient_a.pk}&source=screening")
    )
    expect(steps.get_by_role("link", name="Start a referral")).to_have_attribute(
        "href", re.compile(r"category=behavioral_health")
    )
    screenshot(page, "care-phq9-result-safety")

    screening = Screening.objects.get()
    assert (screening.score, screening.safety_flag, screening.positive) == (11, True, True)
    assert screening.answers["difficulty"] == "somewhat"
    task = Task.objects.get(patient=world.patient_a)
    assert (task.priority, task.owner_user_id) == ("high", world.user_a.pk)

    page.get_by_role("link", name="Screenings").click()
    expect(page.get_by_test_id("screening-history")).to_contain_text("Safety flag")


def test_a_missing_answer_is_named_and_nothing_is_saved(
    page: Page, live_server: LiveServer, world: World
) -> None:
    sign_in(page, live_server.url, "a.rn")
    page.goto(f"{live_server.url}/care/patients/{world.patient_a.pk}/screenings/?instrument=phq2")
    item(page, 1).get_by_label("Several days").check()
    page.get_by_role("button", name="Score and save").click()
    expect(page.get_by_text("Answer item 2 of the PHQ-2")).to_be_visible()
    expect(item(page, 1).get_by_label("Several days")).to_be_checked()
    assert not Screening.objects.exists()


def test_care_manager_refers_to_a_food_bank_and_closes_the_loop(
    page: Page, live_server: LiveServer, world: World
) -> None:
    food_bank = make_resource(world.plan, name="Greater Boston Food Bank")
    make_resource(world.plan, name="Warm Homes Fund", categories=("utilities",))
    sign_in(page, live_server.url, "a.rn")
    page.goto(f"{live_server.url}/care/patients/{world.patient_a.pk}/screenings/")
    page.get_by_role("link", name="AHC HRSN").click()

    item(page, 1).get_by_label("I have a steady place to live").check()
    item(page, 2).get_by_label("None of the above").check()
    item(page, 3).get_by_label("Often true").check()
    item(page, 4).get_by_label("Sometimes true").check()
    item(page, 5).get_by_label("No", exact=True).check()
    item(page, 6).get_by_label("No", exact=True).check()
    for number in (7, 8, 9, 10):
        item(page, number).get_by_label("Never").check()
    page.get_by_role("button", name="Score and save").click()

    result = page.get_by_test_id("screening-result")
    expect(result).to_contain_text("Positive for: Food insecurity")
    steps = page.get_by_test_id("next-steps")
    expect(steps).to_contain_text("Refer to a food resource")
    steps.get_by_role("link", name="Find a program").click()

    # The directory opens filtered to food, for this patient.
    expect(page.get_by_role("heading", name="Community resources")).to_be_visible()
    expect(page.get_by_label("Service")).to_have_value("food")
    results = page.get_by_test_id("directory-results")
    expect(results).to_contain_text("Greater Boston Food Bank")
    expect(results).not_to_contain_text("Warm Homes Fund")
    page.get_by_label("Search the directory").fill("boston")
    expect(results.get_by_role("link", name="Greater Boston Food Bank")).to_be_visible()
    screenshot(page, "care-directory-food")
    results.get_by_role("link", name="Refer").click()

    expect(page.get_by_role("heading", name="Referrals")).to_be_visible()
    expect(page.get_by_label("Program")).to_have_value(str(food_bank.pk))
    expect(page.get_by_label("Service needed")).to_have_value("food")
    expect(page.get_by_label("Reason for referral")).to_have_value(
        re.compile("Positive for: Food insecurity")
    )
    page.get_by_role("button", name="Send the referral").click()

    expect(page.get_by_test_id("referral-status")).to_have_text("Sent")
    expect(page.get_by_text("Referral sent to Greater Boston Food Bank.")).to_be_visible()
    # The food bank is not in caseboard: the care manager records what it said by phone.
    page.get_by_label("New status").select_option("accepted")
    expect(page.get_by_label("Outcome")).to_be_hidden()
    page.get_by_label("Note").fill("Intake booked for Tuesday")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("referral-status")).to_have_text("Accepted")

    page.get_by_label("New status").select_option("completed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Choose an outcome to close the referral.")).to_be_visible()
    page.get_by_label("Outcome").select_option(label="Need met")
    page.get_by_label("Note").fill("Weekly groceries started")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("referral-status")).to_have_text("Completed")
    timeline = page.get_by_test_id("referral-timeline")
    expect(timeline).to_contain_text("Reported by phone by Greater Boston Food Bank: Intake booked")
    expect(timeline).to_contain_text("Weekly groceries started")
    expect(page.get_by_text("This referral is closed: need met.")).to_be_visible()
    screenshot(page, "care-referral-closed-loop")

    referral = Referral.objects.get()
    assert (referral.status, referral.outcome) == ("completed", "need_met")
    assert referral.screening is not None and referral.screening.positive_domains == ["food"]
    world.patient_a.refresh_from_db()
    assert "Food insecurity" in world.patient_a.social_needs
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.UPDATE, object_type="care.referral", username="a.rn"
        ).count()
        == 2
    )


def test_a_food_bank_in_caseboard_accepts_and_completes_the_referral(
    page: Page, live_server: LiveServer, world: World
) -> None:
    bank = make_org(OrganizationKind.CBO, "Merrimack Valley Food Bank")
    make_user(bank, Role.CARE_COORDINATOR, username="cbo.intake")
    pantry = make_resource(world.plan, name="Merrimack pantry", receiving=bank)
    referral = refer(
        actor_for(world.user_a),
        world.patient_a,
        pantry,
        category="food",
        reason="Food runs out before the end of the month",
    )
    sign_in(page, live_server.url, "cbo.intake")
    page.goto(f"{live_server.url}/care/referrals/")
    expect(page.get_by_role("heading", name="Referrals received")).to_be_visible()
    worklist = page.get_by_test_id("referral-worklist")
    expect(worklist).to_contain_text("Alvarez, Maria")
    expect(worklist).to_contain_text("(617) 555-0123")
    worklist.get_by_role("link").first.click()

    facts = page.get_by_test_id("referral-facts")
    expect(facts).to_contain_text("Food runs out before the end of the month")
    # Who and why only: no link into the chart.
    expect(facts.get_by_role("link")).to_have_count(0)
    page.get_by_label("New status").select_option("accepted")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("referral-status")).to_have_text("Accepted")
    page.get_by_label("New status").select_option("completed")
    page.get_by_label("Outcome").select_option(label="Need met")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("referral-status")).to_have_text("Completed")
    screenshot(page, "care-referral-closed-by-cbo")

    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("completed", "need_met")
    assert Notification.objects.filter(user=world.user_a, kind="referral_updated").count() == 2
