"""A case conference in the browser: the plan's project manager builds the agenda, the
practice's RN adds an urgent patient, opens a pre-work packet and ticks a checklist item."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.conference.models import AgendaItem, AgendaKind, PreworkChecklist
from tests.browser.conftest import screenshot, sign_in
from tests.conference.call_makers import on_both_lists, with_claims
from tests.conference.makers import member_of_a, project_manager
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_plan_builds_the_agenda_and_the_practice_prepares(
    page: Page, live_server: LiveServer, world: World
) -> None:
    pm = project_manager(world, "p.pm")
    lena = member_of_a(world, "Lena", "Okafor")
    on_both_lists(world, pm, lena, 1)
    with_claims(world, world.patient_a)

    # The plan's project manager sets up the weekly call and builds the first agenda.
    sign_in(page, live_server.url, "p.pm")
    page.goto(f"{live_server.url}/conference/partnerships/{world.partnership_a.pk}/lists/")
    page.get_by_role("link", name="Conferences").click()
    page.get_by_label("Day of the week").select_option("Wednesday")
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("The call series is saved")
    page.get_by_role("button", name="Schedule the next one").click()
    expect(
        page.get_by_role("heading", name=re.compile("Case conference: Wednesday"))
    ).to_be_visible()
    page.get_by_role("button", name="Build agenda").click()
    rows = page.locator("#agenda tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Okafor, Lena")
    expect(rows.nth(0)).to_contain_text("On both lists; plan rank 1")
    conference_url = page.url
    page.get_by_role("button", name="Sign out").click()

    # The practice's RN brings an urgent patient, reads the packet, ticks pre-work item a.
    sign_in(page, live_server.url, "a.rn")
    page.goto(conference_url)
    page.get_by_role("link", name="Add urgent patient").click()
    page.get_by_label("Find a plan member").fill("alvar")
    choice = page.get_by_label("Alvarez, Maria")
    expect(choice).to_be_visible()
    choice.check()
    page.get_by_label("Why this patient cannot wait").fill("ED twice this week, no food at home")
    page.get_by_role("button", name="Add to the agenda").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Alvarez, Maria")
    expect(rows.nth(0)).to_contain_text("Urgent, added by")
    expect(rows.nth(1)).to_contain_text("Okafor, Lena")

    page.get_by_label("Note for item a").fill("Seen in clinic last month")
    page.get_by_role("button", name="Mark a done").click()
    practice_list = page.locator(f'ul.checklist[data-side="{world.practice_a.pk}"]')
    expect(practice_list).to_contain_text("Seen in clinic last month")
    expect(page.locator(f'ul.checklist[data-side="{world.plan.pk}"] .badge')).to_have_count(0)
    screenshot(page, "conference-agenda")

    rows.nth(0).get_by_role("link", name="Packet").click()
    expect(page.get_by_role("heading", name="Pre-work packet: Maria Alvarez")).to_be_visible()
    expect(page.get_by_text("I50.9 Heart failure")).to_be_visible()
    expect(page.locator("ol.prework-items > li")).to_have_count(15)
    screenshot(page, "conference-prework-packet")

    urgent = AgendaItem.objects.get(patient=world.patient_a)
    assert (urgent.kind, urgent.added_by_organization_id) == (
        AgendaKind.URGENT,
        world.practice_a.pk,
    )
    done = PreworkChecklist.objects.get()
    assert (done.side_id, done.item, done.completed_by.username) == (
        world.practice_a.pk,
        "a",
        "a.rn",
    )
