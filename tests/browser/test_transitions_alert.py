"""A hospital message sent over MLLP becomes an alert; the care manager does the follow-up."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from caseboard.care.models import Task, TaskStatus
from caseboard.transitions.listener import send
from tests import factories as f
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import World
from tests.transitions.messages import hospital_knows, member_message
from tests.transitions.test_mllp_listener import Running

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_ed_discharge_over_mllp_alerts_the_care_manager_who_follows_up(
    page: Page, live_server: LiveServer, world: World
) -> None:
    feed = hospital_knows(world)
    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    visit = {"patient_class": "E", "visit_number": "V90"}
    with Running() as listener:
        acks = listener.run(
            send(
                [
                    member_message("A04", **visit),
                    member_message(
                        "A03",
                        **visit,
                        discharged="20261102150000",
                        event_time="20261102150000",
                        diagnoses=(("J45.901", "Asthma with acute exacerbation"),),
                    ),
                ],
                "127.0.0.1",
                listener.port,
            )
        )
        listener.drain()
    assert all("MSA|AA|" in ack for ack in acks)

    sign_in(page, live_server.url, "a.rn")
    expect(page.get_by_role("link", name=re.compile(r"Notifications: \d+ unread"))).to_be_visible()
    page.get_by_role("link", name="Transitions").click()
    row = page.get_by_test_id("transitions-inbox").get_by_role(
        "row", name=re.compile("Alvarez, Maria")
    )
    expect(row.first).to_contain_text("GENHOSP")
    screenshot(page, "transitions-inbox")

    follow_up = Task.objects.filter(patient=feed.patient_a, source="alert").order_by("due_on")[0]
    row.get_by_role("link", name=follow_up.title).first.click()
    page.get_by_label("Outcome").fill("Reached by phone; inhaler refilled, PCP visit booked")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_text(f"Done: “{follow_up.title}”.")).to_be_visible()
    follow_up.refresh_from_db()
    assert follow_up.status == TaskStatus.DONE
    assert follow_up.completed_by == feed.user_a

    page.goto(f"{live_server.url}/patients/{feed.patient_a.pk}/")
    expect(page.get_by_test_id("episodes")).to_contain_text("A03")
    screenshot(page, "transitions-episode-on-profile")
