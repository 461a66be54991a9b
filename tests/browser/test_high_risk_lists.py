from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.conference.models import HighRiskEntry, MatchReview, ReviewStatus
from tests import factories
from tests.browser.conftest import screenshot, sign_in
from tests.conference.makers import member_of_a, project_manager, rank
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRACTICE_LIST = (
    "mrn,first_name,last_name,birth_date,reason\n"
    "A-100,Lena,Okafor,1984-03-09,CHF; lives alone\n"
    ",Jonathon,Reyez,1990-03-15,3 ED visits in 6 months\n"
    ",Maria,Santos,1980-06-01,insulin pump\n"
)


def test_practice_uploads_plan_reviews_and_the_combined_list_puts_common_first(
    page: Page, live_server: LiveServer, world: World, tmp_path: Path
) -> None:
    lena = member_of_a(world, "Lena", "Okafor", datetime.date(1984, 3, 9), mrn="A-100")
    member_of_a(world, "Jonathan", "Reyes", datetime.date(1990, 3, 15))
    santos = member_of_a(
        world, "Maria", "Santos", datetime.date(1980, 6, 1), phone="(617) 555-0101"
    )
    # Another member with the same name and birth date, not the practice's patient.
    factories.make_patient(
        plan=world.plan,
        given_name="Maria",
        family_name="Santos",
        birth_date=datetime.date(1980, 6, 1),
    )
    rank(world, lena, 1, drivers=("CHF with 2 admissions",))
    rank(world, santos, 2, drivers=("uncontrolled diabetes",))
    rank(world, world.patient_a, 3)
    project_manager(world, "p.pm")
    csv_file = tmp_path / "practice-top-30.csv"
    csv_file.write_text(PRACTICE_LIST)

    # The practice's RN uploads the list.
    sign_in(page, live_server.url, "a.rn")
    page.get_by_role("link", name="Partnerships").click()
    page.get_by_role("link", name="High-risk lists").click()
    page.get_by_role("link", name="Upload CSV").click()
    page.get_by_label("High-risk list CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check and upload").click()
    expect(page.get_by_role("status")).to_contain_text("2 of 3 rows matched")
    rows = page.locator("#rows tbody tr")
    expect(rows.nth(0)).to_contain_text("Matched")
    expect(rows.nth(1)).to_contain_text("Matched")  # "Jonathon Reyez" is Jonathan Reyes
    expect(rows.nth(2)).to_contain_text("Waiting for the plan's review")
    expect(page.get_by_text("555-0101")).to_have_count(0)
    screenshot(page, "high-risk-upload")
    page.get_by_role("button", name="Sign out").click()

    # The plan's project manager refreshes the plan's list and settles the ambiguous row.
    sign_in(page, live_server.url, "p.pm")
    page.goto(f"{live_server.url}/conference/partnerships/{world.partnership_a.pk}/lists/")
    page.get_by_role("button", name="Refresh from analytics").click()
    expect(page.locator(".messages")).to_contain_text("3 added")
    page.get_by_role("link", name="Match reviews").click()
    expect(page.get_by_text("Close candidates (no clear winner)")).to_be_visible()
    page.get_by_role("link", name="Review row 4").click()
    expect(page.locator("#candidates tbody tr")).to_have_count(2)
    screenshot(page, "high-risk-review")
    page.locator(f"#candidate-{santos.pk}").check()
    page.get_by_label("Note for the practice").fill("Confirmed by phone number on file")
    page.get_by_role("button", name="Save the decision").click()
    expect(page.locator(".messages")).to_contain_text("Row 4 of practice-top-30.csv is settled")
    review = MatchReview.objects.get()
    assert review.status == ReviewStatus.MATCHED and review.resolved_patient == santos

    # The combined list: the two patients on both lists first, by the plan's rank.
    page.get_by_role("link", name="Back to the lists").click()
    combined = page.locator("#combined tbody tr")
    expect(combined).to_have_count(4)
    expect(combined.nth(0)).to_contain_text("Okafor, Lena")
    expect(combined.nth(0)).to_contain_text("On both lists")
    expect(combined.nth(1)).to_contain_text("Santos, Maria")
    expect(combined.nth(1)).to_contain_text("On both lists")
    expect(combined.nth(2)).to_contain_text("Plan only")
    expect(combined.nth(3)).to_contain_text("Practice only")
    expect(combined.nth(3)).to_contain_text("Reyes, Jonathan")
    screenshot(page, "high-risk-combined")
    assert HighRiskEntry.objects.filter(patient=santos, removed_at=None).count() == 2
