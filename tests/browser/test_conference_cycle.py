"""A whole case-conference cycle across two logins (seed 004, Attachment A, steps 1–8): the
practice's RN uploads the practice's list, the plan's project manager combines it with the
plan's, sets up the call and builds the agenda; both sides prepare; the call runs in conference
mode with a lead decision, a tracking-list decision and a not-our-patient decision; the plan
sends the summary and the practice reads it."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.care.models import Enrollment, EnrollmentStatus, Goal, Task, TaskSource
from caseboard.conference import calls
from caseboard.conference.models import (
    Conference,
    ConferenceSummary,
    Discussion,
    DiscussionOutcome,
    ParticipantTime,
    TrackingEntry,
)
from caseboard.orgs.models import Membership
from tests.browser.conftest import screenshot, sign_in
from tests.conference.call_makers import with_claims
from tests.conference.makers import member_of_a, project_manager, rank
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRACTICE_LIST = (
    "mrn,first_name,last_name,birth_date,reason\n"
    "A-100,Lena,Okafor,1984-03-09,CHF; lives alone\n"
    "A-200,Jonathan,Reyes,1990-03-15,3 ED visits in 6 months\n"
)


def test_a_whole_conference_cycle_from_lists_to_the_sent_summary(
    page: Page, live_server: LiveServer, world: World, tmp_path: Path
) -> None:
    lena = member_of_a(world, "Lena", "Okafor", datetime.date(1984, 3, 9), mrn="A-100")
    jon = member_of_a(world, "Jonathan", "Reyes", datetime.date(1990, 3, 15), mrn="A-200")
    maria = member_of_a(world, "Maria", "Santos", datetime.date(1980, 6, 1))
    rank(world, lena, 1, drivers=("CHF with 2 admissions in 12 months",))
    rank(world, jon, 2, drivers=("5 ED visits in 12 months",))
    rank(world, maria, 3, drivers=("rising cost",))
    with_claims(world, lena)
    pm = project_manager(world, "p.pm")
    pm.first_name, pm.last_name = "Paula", "Manning"
    pm.save()
    rn = Membership.objects.get(user=world.user_a)
    plan_cm = Membership.objects.get(user=world.plan_user)
    csv_file = tmp_path / "practice-top-30.csv"
    csv_file.write_text(PRACTICE_LIST)
    base = live_server.url
    lists_url = f"{base}/conference/partnerships/{world.partnership_a.pk}/lists/"

    # Steps 1–2: the practice sends its list ...
    sign_in(page, base, "a.rn")
    page.goto(lists_url)
    page.get_by_role("link", name="Upload CSV").click()
    page.get_by_label("High-risk list CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check and upload").click()
    expect(page.get_by_role("status")).to_contain_text("2 of 2 rows matched")
    page.get_by_role("button", name="Sign out").click()

    # ... the plan adds its own, and the combined list puts the common patients first.
    sign_in(page, base, "p.pm")
    page.goto(lists_url)
    page.get_by_role("button", name="Refresh from analytics").click()
    combined = page.locator("#combined tbody tr")
    expect(combined).to_have_count(3)
    expect(combined.nth(0)).to_contain_text("Okafor, Lena")
    expect(combined.nth(0)).to_contain_text("On both lists")
    expect(combined.nth(2)).to_contain_text("Plan only")

    # Getting ready and step 3: the weekly call and its agenda.
    page.get_by_role("link", name="Conferences").click()
    page.get_by_label("Day of the week").select_option("Wednesday")
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label(re.compile("Paula Manning")).check()
    page.get_by_label(re.compile("Test User — Clinical care manager")).check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Schedule the next one").click()
    page.get_by_role("button", name="Build agenda").click()
    agenda = page.locator("#agenda tbody tr")
    expect(agenda).to_have_count(3)
    expect(agenda.nth(0)).to_contain_text("Okafor, Lena")
    expect(agenda.nth(1)).to_contain_text("Reyes, Jonathan")
    expect(agenda.nth(2)).to_contain_text("Santos, Maria")
    conference_url = page.url
    page.get_by_role("button", name="Sign out").click()
    conference = Conference.objects.get()
    day = calls.conference_day(conference)

    # Step 4: the practice prepares — packet, checklist, its pre-work time.
    sign_in(page, base, "a.rn")
    page.goto(conference_url)
    agenda.nth(0).get_by_role("link", name="Packet").click()
    expect(page.get_by_text("I50.9 Heart failure")).to_be_visible()
    page.go_back()
    page.get_by_label("Note for item a").fill("All three seen in clinic this year")
    page.get_by_role("button", name="Mark a done").click()
    page.get_by_label("Minutes").fill("25")
    page.get_by_role("button", name="Save my time").click()
    expect(page.locator(".messages")).to_contain_text("Pre-work time saved: 25 minutes")
    page.get_by_role("button", name="Sign out").click()

    # Steps 6–7: the plan's project manager runs the call in conference mode.
    sign_in(page, base, "p.pm")
    page.goto(conference_url)
    page.get_by_role("link", name="Conference mode").click()
    page.get_by_role("button", name="Start the call").click()
    expect(page.locator("#call-timer output")).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(page.locator("#patient-heading")).to_contain_text("Lena Okafor")

    # Lena: the practice leads, the plan monitors and adds social care management.
    form = page.locator("#discussion-form")
    form.get_by_label("Last seen by a provider of the practice").fill(
        (day - datetime.timedelta(days=40)).isoformat()
    )
    form.locator('input[name="still_practice_patient"][value="yes"]').check()
    form.locator('input[name="lead"][value="practice"]').check()
    form.get_by_label(re.compile("monitor status")).check()
    form.get_by_label("Why the patient is high risk").fill(
        "CHF with 2 admissions; misses cardiology visits"
    )
    form.get_by_label("Social care management").check()
    form.get_by_label("Shared patient-centered goal").select_option(
        "Maximize patient access to needed care"
    )
    form.locator("#step-title-1").fill("Book a cardiology visit near home")
    form.get_by_label("Side of step 1").select_option("practice")
    form.get_by_label("Owner of step 1").select_option(str(rn.pk))
    form.get_by_label("Due date of step 1").fill((day + datetime.timedelta(days=5)).isoformat())
    form.get_by_label("Report-back cadence").fill("Weekly for one month, then monthly")
    form.get_by_label("Date of the next update").fill(
        (day + datetime.timedelta(days=7)).isoformat()
    )
    form.get_by_label("Plan case manager").select_option(str(plan_cm.pk))
    form.get_by_label("Plan social care manager").select_option(str(plan_cm.pk))
    form.get_by_label("Practice care manager").select_option(str(rn.pk))
    screenshot(page, "conference-mode")
    form.get_by_role("button", name="Record and go to the next patient").click()
    expect(page.locator(".messages")).to_contain_text("Lena Okafor: care-management decision")

    # Jonathan: unengaged even after the last face-to-face attempt — the tracking list.
    expect(page.locator("#patient-heading")).to_contain_text("Jonathan Reyes")
    form.locator('input[name="still_practice_patient"][value="yes"]').check()
    form.locator('input[name="engagement"][value="declined"]').check()
    expect(form.locator('fieldset[data-step="decision"]')).to_be_hidden()
    form.get_by_label(re.compile("Outreach attempts")).fill(
        "Home visit 2026-09-12, nobody home\nMet in the ED 2026-10-03, declined a visit"
    )
    form.get_by_role("button", name="Record and go to the next patient").click()
    expect(page.locator(".messages")).to_contain_text("tracking list")

    # Maria: the practice has not seen her — the plan checks for a PCP change; discussion ends.
    expect(page.locator("#patient-heading")).to_contain_text("Maria Santos")
    form.get_by_label("Last seen by a provider of the practice").fill(
        (day - datetime.timedelta(days=600)).isoformat()
    )
    expect(page.locator("#gap-warning")).to_be_visible()
    form.locator('input[name="still_practice_patient"][value="no"]').check()
    expect(form.locator('fieldset[data-step="coverage"]')).to_be_hidden()
    form.get_by_role("button", name="Record and go to the next patient").click()
    outcomes = page.locator(".run-agenda .outcome")
    expect(outcomes).to_have_count(3)

    # Step 8: end the call, review the summary and send it.
    page.get_by_role("button", name="End the call and draft the summary").click()
    expect(page.locator("#summary-status")).to_contain_text("Draft, not sent yet")
    expect(page.locator(".conference-summary")).to_contain_text("Book a cardiology visit near home")
    page.get_by_label("Note to the participants (optional)").fill("Thanks all — next week: Lena.")
    page.get_by_role("button", name="Send the summary").click()
    expect(page.locator("#summary-status")).to_contain_text("Sent")
    screenshot(page, "conference-summary")
    page.get_by_role("button", name="Sign out").click()

    # The practice reads the sent summary and sees Jonathan on the tracking list.
    sign_in(page, base, "a.rn")
    page.goto(conference_url)
    page.get_by_role("link", name="Summary").first.click()
    expect(page.locator("#summary-status")).to_contain_text("Sent")
    expect(page.locator(".conference-summary")).to_contain_text("Maximize patient access")
    expect(page.locator(".conference-summary")).to_contain_text("Thanks all")
    page.goto(f"{base}/conference/partnerships/{world.partnership_a.pk}/tracking/")
    expect(page.locator("#tracking tbody tr")).to_have_count(1)
    expect(page.locator("#tracking")).to_contain_text("Reyes, Jonathan")
    expect(page.locator("#tracking")).to_contain_text("declined a visit")
    screenshot(page, "conference-tracking-list")

    outcomes_by_patient = {
        d.agenda_item.patient_id: d.outcome
        for d in Discussion.objects.select_related("agenda_item")
    }
    assert outcomes_by_patient == {
        lena.pk: DiscussionOutcome.DECIDED,
        jon.pk: DiscussionOutcome.TRACKING,
        maria.pk: DiscussionOutcome.NOT_PRACTICE_PATIENT,
    }
    cases = {(e.lead_organization_id, e.status) for e in Enrollment.objects.filter(patient=lena)}
    assert (world.practice_a.pk, EnrollmentStatus.IDENTIFIED) in cases
    assert (world.plan.pk, EnrollmentStatus.MONITOR) in cases
    assert Goal.objects.get(care_plan__patient=lena).statement.startswith("Maximize")
    assert Task.objects.filter(patient=lena, source=TaskSource.CONFERENCE, owner_user=world.user_a)
    assert Task.objects.filter(patient=maria, owner_organization=world.plan).exists()
    assert TrackingEntry.objects.get().patient == jon
    summary = ConferenceSummary.objects.get()
    assert summary.sent_at is not None and summary.sent_by == pm
    prework = ParticipantTime.objects.get(activity="prework")
    assert (prework.user, prework.minutes) == (world.user_a, 25)
