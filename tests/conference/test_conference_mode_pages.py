"""Conference mode in the browser's terms: the call screen, a decision posted as a form, ending
the call, the summary page, sending it and its PDF."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from caseboard.conference import calls
from caseboard.conference.models import ConferenceSummary, Discussion, DiscussionOutcome
from caseboard.orgs.models import Membership
from tests.conference.run_makers import started_call
from tests.conftest import World, login

pytestmark = pytest.mark.django_db


def _decision_post(world: World, day: datetime.date, **changes: str) -> dict[str, object]:
    practice_rn = Membership.objects.get(user=world.user_a)
    plan_cm = Membership.objects.get(user=world.plan_user)
    data: dict[str, object] = {
        "still_practice_patient": "yes",
        "last_seen_by_practice": (day - datetime.timedelta(days=30)).isoformat(),
        "still_covered": "yes",
        "engagement": "engaged",
        "lead": "practice",
        "plan_monitors": "on",
        "why_high_risk": "Frequent ED use for asthma",
        "goal_choice": "Maximize patient access to needed care",
        "step_title": ["Book an asthma visit", ""],
        "step_side": ["practice", ""],
        "step_owner": [str(practice_rn.pk), ""],
        "step_due": [(day + datetime.timedelta(days=5)).isoformat(), ""],
        "report_back_cadence": "Weekly for one month, then monthly",
        "next_update_on": (day + datetime.timedelta(days=7)).isoformat(),
        "plan_case_manager": str(plan_cm.pk),
        "practice_care_manager": str(practice_rn.pk),
    }
    data.update(changes)
    return data


def test_a_call_runs_from_the_screen_to_the_sent_summary(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    pm, conference, items = started_call(world)
    client = login(Client(), pm)
    page = client.get(reverse("conference_run", args=[conference.pk]))
    assert page.status_code == 200
    assert items[0].patient.full_name in page.content.decode()
    day = calls.conference_day(conference)
    bad = client.post(
        reverse("agenda_item_discussion", args=[items[0].pk]),
        _decision_post(world, day, goal_choice=""),
    )
    assert bad.status_code == 400
    assert "patient-centered goal" in bad.content.decode()
    assert not Discussion.objects.exists()
    done = client.post(
        reverse("agenda_item_discussion", args=[items[0].pk]), _decision_post(world, day)
    )
    assert done.status_code == 302
    assert Discussion.objects.get().outcome == DiscussionOutcome.DECIDED
    stopped = client.post(
        reverse("agenda_item_discussion", args=[items[1].pk]),
        {"still_practice_patient": "no", "engagement": "engaged"},
    )
    assert stopped.status_code == 302
    assert Discussion.objects.get(agenda_item=items[1]).outcome == (
        DiscussionOutcome.NOT_PRACTICE_PATIENT
    )
    attendees = Membership.objects.filter(user__in=[pm, world.user_a]).values_list("pk", flat=True)
    ended = client.post(
        reverse("conference_end", args=[conference.pk]),
        {"attendees": [str(pk) for pk in attendees]},
    )
    assert ended.status_code == 302
    summary_page = client.get(reverse("conference_summary", args=[conference.pk]))
    text = summary_page.content.decode()
    assert "Book an asthma visit" in text and "Draft, not sent yet" in text
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            reverse("conference_summary_send", args=[conference.pk]), {"note": "Thanks"}
        )
    assert sent.status_code == 302
    summary = ConferenceSummary.objects.get()
    assert summary.sent_at is not None and summary.note == "Thanks"
    assert [m.to for m in mail.outbox] == [[world.user_a.email]]
    assert items[0].patient.family_name not in mail.outbox[0].subject
    pdf = client.get(reverse("conference_summary_pdf", args=[conference.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_screen_prefills_the_last_visit_and_warns_past_the_series_gap(world: World) -> None:
    pm, conference, items = started_call(world)
    day = calls.conference_day(conference)
    seen = day - datetime.timedelta(days=400)
    items[0].patient.attribution_spans.filter(organization=world.practice_a).update(
        last_seen_on=seen
    )
    conference.series.practice_gap_months = 18
    conference.series.save()
    page = login(Client(), pm).get(reverse("conference_run", args=[conference.pk]))
    text = page.content.decode()
    assert f'value="{seen.isoformat()}"' in text
    assert 'data-gap-months="18"' in text and "More than 18 months" in text
