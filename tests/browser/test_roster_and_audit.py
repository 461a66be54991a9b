from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.patients.models import Patient
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_ROSTER = (
    "mrn,first_name,last_name,birth_date,phone\n"
    "R-1,Lena,Okafor,1984-03-09,617-555-0134\n"
    "R-2,Tom,,2031-04-01,12\n"
)


def test_bad_roster_is_rejected_row_by_row_then_good_rows_import(
    page: Page, live_server: LiveServer, world: World, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(BAD_ROSTER)
    sign_in(page, live_server.url, "a.rn")
    page.get_by_role("link", name="Roster import").click()
    page.get_by_label("Roster CSV file").set_input_files(str(roster))
    page.get_by_role("button", name="Check and import").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported")
    expect(page.get_by_role("cell", name="2031-04-01 is in the future")).to_be_visible()
    expect(page.get_by_role("cell", name="is required")).to_be_visible()
    screenshot(page, "roster-rejected")
    assert not Patient.objects.filter(given_name="Lena").exists()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the problems as CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "row,field,value,reason" and len(lines) == 4

    page.get_by_role("link", name="Back to roster import").click()
    page.get_by_label("Roster CSV file").set_input_files(str(roster))
    page.get_by_label("Import the good rows").check()
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_role("status")).to_contain_text("1 new patients")
    assert Patient.objects.filter(given_name="Lena").exists()


def test_admin_reads_the_audit_log_of_a_profile_view(
    page: Page, live_server: LiveServer, world: World
) -> None:
    sign_in(page, live_server.url, "a.rn")
    page.goto(f"{live_server.url}/patients/{world.patient_a.pk}/")
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").select_option("view")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("#events tbody tr").first
    expect(row).to_contain_text("a.rn")
    expect(row).to_contain_text("Viewed")
    expect(row).to_contain_text(str(world.patient_a.pk))
    screenshot(page, "audit-log")
