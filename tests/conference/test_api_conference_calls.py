"""Conference mode over the JSON API: start, record, end, summary, send, tracking, measures."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from caseboard.care.models import Goal, Task
from caseboard.conference import calls
from caseboard.conference.models import Discussion, TrackingReport
from caseboard.orgs.models import Membership
from tests.conference.call_makers import call_for_a
from tests.conference.run_makers import started_call
from tests.conftest import World, login

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_the_api_runs_a_call_from_start_to_the_sent_summary(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    pm, conference, items = started_call(world)
    day = calls.conference_day(conference)
    client = login(Client(), pm)
    rn = Membership.objects.get(user=world.user_a)
    plan_cm = Membership.objects.get(user=world.plan_user)
    url = f"/api/agenda-items/{items[0].pk}/discussion"
    assert client.get(url).json() is None
    decided = {
        "still_practice_patient": True,
        "lead": "joint",
        "why_high_risk": "Three admissions for COPD this year",
        "goal": "Increase patient engagement in care decisions",
        "next_steps": [
            {
                "title": "Pulmonary rehab referral",
                "side": "practice",
                "due_on": (day + datetime.timedelta(days=4)).isoformat(),
                "owner_membership_id": rn.pk,
            }
        ],
        "next_update_on": (day + datetime.timedelta(days=14)).isoformat(),
        "plan_case_manager_membership_id": plan_cm.pk,
        "practice_care_manager_membership_id": rn.pk,
    }
    stranger = Membership.objects.get(user=world.user_b)
    wrong = _post(client, url, {**decided, "practice_care_manager_membership_id": stranger.pk})
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "practice_care_manager"
    assert not Discussion.objects.exists() and not Goal.objects.exists()

    made = _post(client, url, decided)
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["outcome"] == "decided" and body["lead"] == "joint"
    assert len(body["enrollment_ids"]) == 2 and len(body["task_ids"]) == 1
    assert Task.objects.get(pk=body["task_ids"][0]).owner_user == world.user_a
    assert client.get(url).json()["id"] == body["id"]
    assert _post(client, url, decided).status_code == 400  # recorded once

    tracked = _post(
        client,
        f"/api/agenda-items/{items[1].pk}/discussion",
        {
            "still_practice_patient": True,
            "engagement": "declined",
            "outreach_attempts": "Two home visits\nLetter",
        },
    )
    assert tracked.json()["outcome"] == "tracking"

    summary_url = f"/api/conferences/{conference.pk}/summary"
    assert client.get(summary_url).json() is None
    ended = _post(
        client, f"/api/conferences/{conference.pk}/end", {"attendee_membership_ids": [rn.pk]}
    )
    assert ended.status_code == 200
    assert ended.json()["sent_at"] is None
    assert [p["discussed"] for p in ended.json()["content"]["patients"]] == [True, True]

    practice = login(Client(), world.user_a)
    refused = _post(practice, f"/api/conferences/{conference.pk}/summary/send")
    assert refused.status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        sent = _post(client, f"/api/conferences/{conference.pk}/summary/send", {"note": "Ok"})
    assert sent.status_code == 200 and sent.json()["sent_at"] is not None
    names = [i.patient.family_name for i in items]
    assert mail.outbox and not any(n in m.subject for m in mail.outbox for n in names)
    assert practice.get(summary_url).json()["note"] == "Ok"

    tracking = practice.get(f"/api/partnerships/{world.partnership_a.pk}/tracking").json()
    assert [t["patient_id"] for t in tracking] == [items[1].patient_id]
    assert tracking[0]["outreach_attempts"] == ["Two home visits", "Letter"]
    assert _post(practice, f"/api/tracking/{tracking[0]['id']}/report").status_code == 403
    report = _post(client, f"/api/tracking/{tracking[0]['id']}/report")
    assert report.status_code == 201
    assert TrackingReport.objects.get().pk == report.json()["id"]
    assert practice.get(f"/api/tracking-reports/{report.json()['id']}").status_code == 200
    no_reason = _post(practice, f"/api/tracking/{tracking[0]['id']}/remove", {"reason": ""})
    assert no_reason.status_code == 400
    removed = _post(
        practice, f"/api/tracking/{tracking[0]['id']}/remove", {"reason": "Saw the PCP"}
    )
    assert removed.json()["removal_reason"] == "Saw the PCP"

    minutes = _post(practice, f"/api/conferences/{conference.pk}/prework-time", {"minutes": 20})
    assert minutes.json() == {"conference_id": conference.pk, "minutes": 20}
    assert (
        _post(
            practice, f"/api/conferences/{conference.pk}/prework-time", {"minutes": 0}
        ).status_code
        == 400
    )
    measures = client.get(f"/api/partnerships/{world.partnership_a.pk}/conference-measures")
    row = measures.json()[0]
    assert (row["patients_reviewed"], row["tasks_created"], row["prework_minutes"]) == (2, 1, 20)
    assert row["summary_late"] is False


def test_a_call_cannot_start_without_an_agenda(world: World) -> None:
    pm, conference = call_for_a(world)
    started = _post(login(Client(), pm), f"/api/conferences/{conference.pk}/start")
    assert started.status_code == 400
    assert "agenda" in started.json()["detail"]
