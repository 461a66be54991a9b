"""A care manager builds a patient's Health Action Plan in the browser: a goal in the patient's
words, confidence over time, a barrier, who does what, and the patient's printable copy."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.models import Barrier, CarePlan, ConfidenceRating, Goal, Intervention
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_care_manager_builds_a_care_plan_and_records_confidence(
    page: Page, live_server: LiveServer, world: World
) -> None:
    patient = world.patient_a
    target = timezone.localdate() + datetime.timedelta(days=90)
    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()

    page.goto(f"{live_server.url}/care/patients/{patient.pk}/plan/")
    expect(page.get_by_role("heading", name=re.compile("Health Action Plan"))).to_be_visible()
    expect(page.get_by_text("No care plan yet")).to_be_visible()

    # A goal: start from a shared goal, then put it in the patient's words.
    page.get_by_role("link", name="Add a goal").click()
    statement = page.get_by_label("Goal, in the patient's own words")
    page.get_by_role("link", name="Increase patient engagement in care decisions").click()
    expect(statement).to_have_value("Increase patient engagement in care decisions")
    statement.fill("I want to walk my granddaughter to school")
    page.get_by_label("Area").select_option(label="Daily functioning")
    page.get_by_label("Target date").fill(target.isoformat())
    page.get_by_label("Starting confidence (0–10)").fill("4")
    screenshot(page, "care-plan-new-goal")
    page.get_by_role("button", name="Add goal").click()

    expect(page.get_by_text("Goal added to the care plan.")).to_be_visible()
    card = page.get_by_test_id("goal-card").filter(has_text="walk my granddaughter")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("confidence")).to_contain_text("4/10")
    expect(page.get_by_test_id("care-plan-version")).to_contain_text("Version 1")

    # Confidence asked again: recorded in place (htmx), the trail shows it moving.
    card.get_by_label("Confidence today (0–10)").fill("6")
    card.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_have_text("Confidence 6/10 recorded for today.")
    card = page.get_by_test_id("goal-card").filter(has_text="walk my granddaughter")
    expect(card.get_by_test_id("confidence")).to_contain_text("4 → 6")
    expect(page.get_by_test_id("care-plan-version")).to_contain_text("Version 2")

    # A barrier standing in the way of the goal.
    page.get_by_role("link", name="Add a barrier").click()
    page.get_by_label("Kind of barrier").select_option(label="Transportation")
    page.get_by_label("What gets in the way").fill("No car; the bus to the clinic takes 90 minutes")
    page.get_by_label("Goal it stands in the way of").select_option(
        label="I want to walk my granddaughter to school"
    )
    page.get_by_role("button", name="Add barrier").click()
    expect(page.get_by_test_id("barriers")).to_contain_text("No car; the bus to the clinic")

    # Who does what: the patient, and the care manager.
    page.get_by_role("link", name="Add an intervention").click()
    page.get_by_label("What will be done").fill("Walk 10 minutes after lunch, 5 days a week")
    page.get_by_label("Goal it serves").select_option(
        label="I want to walk my granddaughter to school"
    )
    page.get_by_label("Who is responsible").select_option(label="The patient")
    screenshot(page, "care-plan-new-intervention")
    page.get_by_role("button", name="Add intervention").click()
    expect(page.get_by_test_id("interventions")).to_contain_text("Walk 10 minutes after lunch")

    page.get_by_role("link", name="Follow-up plan").first.click()
    page.get_by_label("Follow-up plan").fill("Call every Tuesday for a month, then monthly.")
    page.get_by_role("button", name="Save follow-up plan").click()
    expect(page.get_by_test_id("follow-up-plan")).to_have_text(
        "Call every Tuesday for a month, then monthly."
    )
    expect(page.get_by_test_id("care-plan-version")).to_contain_text("Version 5")
    screenshot(page, "care-plan")

    # The patient's copy, in plain words.
    page.get_by_role("link", name="Patient copy (print)").click()
    expect(page.get_by_role("heading", name="My Health Action Plan")).to_be_visible()
    expect(page.get_by_text("“I want to walk my granddaughter to school”")).to_be_visible()
    expect(page.get_by_text("How sure I am that I can do it: 6 out of 10.")).to_be_visible()
    expect(page.get_by_role("heading", name="What I will do")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    screenshot(page, "care-plan-patient-copy")
    # Printed, the page drops the navigation and the buttons.
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("heading", name="My Health Action Plan")).to_be_visible()
    screenshot(page, "care-plan-patient-copy-printed")
    page.emulate_media(media="screen")

    # The goal is met: the win is celebrated and shared with the team.
    page.get_by_role("link", name="Back to the care plan").click()
    page.get_by_role("link", name="Update progress").click()
    page.get_by_label("Status").select_option(label="Met")
    page.get_by_label("Progress note").fill("Walked her to school every day this week")
    page.get_by_role("button", name="Save goal").click()
    expect(page.get_by_text("Goal met — a win to celebrate!")).to_be_visible()
    expect(page.get_by_test_id("progress-history")).to_contain_text(
        "Walked her to school every day this week"
    )
    screenshot(page, "care-plan-goal")
    page.get_by_role("link", name="Celebrate this win").click()
    page.get_by_label("The story of this win").fill(
        "Maria walked her granddaughter to school all week; the bus pass made it possible."
    )
    page.get_by_role("button", name="Save success story").click()
    page.get_by_role("link", name="Health Action Plan").click()
    page.get_by_role("link", name="Wins").click()
    expect(page.get_by_test_id("win")).to_contain_text("the bus pass made it possible")
    screenshot(page, "care-plan-wins")

    goal = Goal.objects.get(care_plan__patient=patient)
    assert goal.statement == "I want to walk my granddaughter to school"
    assert goal.domain == "functioning" and goal.target_date == target
    assert [r.rating for r in ConfidenceRating.objects.filter(goal=goal)] == [4, 6]
    assert Barrier.objects.get().goal == goal
    assert Intervention.objects.get().responsible_name == "Patient"
    assert CarePlan.objects.get(patient=patient).version == 7
    assert goal.status == "met" and goal.success_story.share_at_team_meeting
    # Goal, confidence, barrier, intervention, success story.
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, patient_id=patient.pk, username="a.rn"
        ).count()
        == 5
    )


def test_second_editor_is_told_who_changed_the_plan_and_keeps_their_words(
    page: Page, live_server: LiveServer, world: World
) -> None:
    world.user_a.first_name, world.user_a.last_name = "Ana", "Reyes"
    world.user_a.save()
    sign_in(page, live_server.url, "p.cm")
    follow_up = f"{live_server.url}/care/patients/{world.patient_a.pk}/plan/follow-up/"
    page.goto(follow_up)

    other = page.context.browser.new_context() if page.context.browser else None
    assert other is not None
    try:
        ana = other.new_page()
        sign_in(ana, live_server.url, "a.rn")
        ana.goto(follow_up)
        ana.get_by_label("Follow-up plan").fill("Weekly calls on Tuesdays.")
        ana.get_by_role("button", name="Save follow-up plan").click()
        expect(ana.get_by_test_id("follow-up-plan")).to_have_text("Weekly calls on Tuesdays.")
    finally:
        other.close()

    page.get_by_label("Follow-up plan").fill("Home visit on the 12th with the social worker.")
    page.get_by_role("button", name="Save follow-up plan").click()
    expect(page.get_by_test_id("form-refused")).to_contain_text(
        "Ana Reyes (Practice A) changed this care plan at"
    )
    expect(page.get_by_test_id("saved-now")).to_contain_text("Weekly calls on Tuesdays.")
    expect(page.get_by_label("Follow-up plan")).to_have_value(
        "Home visit on the 12th with the social worker."
    )
    screenshot(page, "care-plan-refused-stale-save")
    assert CarePlan.objects.get(patient=world.patient_a).follow_up_plan == (
        "Weekly calls on Tuesdays."
    )
