from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.audit.models import AuditAction, AuditEvent
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import World
from tests.factories import make_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_care_manager_signs_in_searches_and_opens_a_profile(
    page: Page, live_server: LiveServer, world: World
) -> None:
    pcp = make_provider(world.practice_a)
    world.patient_a.attribution_spans.update(pcp=pcp)
    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()

    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Find a patient").fill("alva")
    # htmx swaps the results in as the user types: no page load, no button press.
    row = page.get_by_role("link", name="Alvarez, Maria")
    expect(row).to_be_visible()
    expect(page.get_by_text("Brightwater")).to_have_count(0)
    assert re.search(r"q=alva", page.url)

    row.click()
    expect(page.get_by_role("heading", name=re.compile("Alvarez, Maria"))).to_be_visible()
    expect(page.get_by_role("cell", name="Ada Morales, MD")).to_be_visible()
    expect(page.get_by_role("cell", name="MassHealth ACO")).to_be_visible()
    screenshot(page, "patient-profile")
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, username="a.rn"
    ).exists()


def test_wrong_password_then_lockout_in_the_browser(
    page: Page, live_server: LiveServer, world: World
) -> None:
    page.goto(f"{live_server.url}/account/login/")
    for _ in range(5):
        page.get_by_label("User name").fill("a.rn")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Too many failed sign-ins")).to_be_visible()


def test_organization_switcher_changes_the_active_organization(
    page: Page, live_server: LiveServer, world: World
) -> None:
    from caseboard.orgs.models import Membership, Role

    Membership.objects.create(
        user=world.user_a, organization=world.practice_b, role=Role.CARE_COORDINATOR
    )
    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("heading", name="Practice A")).to_be_visible()
    page.get_by_label("Acting for").select_option(label="Practice B — Care coordinator")
    expect(page.get_by_role("heading", name="Practice B")).to_be_visible()
    page.goto(f"{live_server.url}/patients/?q=Brightwater")
    expect(page.get_by_role("link", name="Brightwater, Beatrix")).to_be_visible()
    screenshot(page, "switched-organization")
