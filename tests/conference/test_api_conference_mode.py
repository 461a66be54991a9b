"""Conference mode over the JSON API, endpoint by endpoint: answers, refusals with the field,
the plan-only actions, and another partnership's objects answering 404."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.models import Enrollment, Goal, Task
from caseboard.conference import calls
from caseboard.conference.models import (
    ConferenceStatus,
    ConferenceSummary,
    Discussion,
    ParticipantTime,
    TrackingEntry,
    TrackingReport,
)
from caseboard.patients.models import AttributionSpan
from caseboard.transitions.models import Episode, EpisodeStatus, PatientClass
from tests.conference.call_makers import call_for_a, on_both_lists
from tests.conference.makers import member_of_a
from tests.conference.run_makers import membership, started_call
from tests.conftest import World, login
from tests.factories import actor_for

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _decided(world: World, day: datetime.date) -> dict[str, Any]:
    return {
        "still_practice_patient": True,
        "last_seen_by_practice": (day - datetime.timedelta(days=60)).isoformat(),
        "lead": "practice",
        "plan_monitors": True,
        "why_high_risk": "Four ED visits for asthma in six months",
        "plan_services": ["social_care"],
        "goal": "Maximize patient access to needed care",
        "next_steps": [
            {
                "title": "Book an asthma visit",
                "side": "practice",
                "due_on": (day + datetime.timedelta(days=5)).isoformat(),
                "owner_membership_id": membership(world.user_a).pk,
            },
            {
                "title": "Arrange a ride to the visit",
                "side": "plan",
                "due_on": (day + datetime.timedelta(days=3)).isoformat(),
                "owner_membership_id": None,
            },
        ],
        "report_back_cadence": "Every two weeks",
        "next_update_on": (day + datetime.timedelta(days=14)).isoformat(),
        "plan_case_manager_membership_id": membership(world.plan_user).pk,
        "plan_social_care_manager_membership_id": membership(world.plan_user).pk,
        "practice_care_manager_membership_id": membership(world.user_a).pk,
    }


def _counts() -> tuple[int, ...]:
    return (
        Discussion.objects.count(),
        Enrollment.objects.count(),
        Goal.objects.count(),
        Task.objects.count(),
    )


def test_starting_a_call_answers_its_clock(world: World) -> None:
    pm, conference = call_for_a(world)
    client = login(Client(), pm)
    url = f"/api/conferences/{conference.pk}/start"
    no_agenda = _post(client, url)
    assert no_agenda.status_code == 400 and "agenda" in no_agenda.json()["detail"]
    on_both_lists(world, pm, member_of_a(world, "Ada", "Nwosu"), 1)
    calls.build_agenda(actor_for(pm), conference)
    answer = _post(client, url)
    assert answer.status_code == 200
    body = answer.json()
    conference.refresh_from_db()
    assert conference.started_at is not None
    assert (body["id"], body["status"], body["ended_at"]) == (
        conference.pk,
        ConferenceStatus.SCHEDULED,
        None,
    )
    started = datetime.datetime.fromisoformat(body["started_at"])
    assert abs(started - conference.started_at) < datetime.timedelta(milliseconds=1)
    # Starting again keeps the first start.
    assert _post(client, url).json()["started_at"] == body["started_at"]


def test_a_discussion_is_recorded_and_read_back(world: World) -> None:
    pm, conference, items = started_call(world)
    day = calls.conference_day(conference)
    practice = login(Client(), world.user_a)
    url = f"/api/agenda-items/{items[0].pk}/discussion"
    assert practice.get(url).json() is None
    made = _post(practice, url, _decided(world, day))
    assert made.status_code == 201, made.content
    body = made.json()
    discussion = Discussion.objects.get()
    assert body["id"] == discussion.pk and body["patient_id"] == items[0].patient_id
    assert (body["outcome"], body["lead"], body["plan_monitors"]) == ("decided", "practice", True)
    assert body["goal_id"] == Goal.objects.get().pk
    assert body["task_ids"] == sorted(Task.objects.values_list("pk", flat=True))
    assert len(body["task_ids"]) == 2
    assert body["enrollment_ids"] == sorted(Enrollment.objects.values_list("pk", flat=True))
    assert len(body["enrollment_ids"]) == 3
    plan_task = Task.objects.get(owner_organization=world.plan)
    assert plan_task.owner_user is None and plan_task.title == "Arrange a ride to the visit"
    read = login(Client(), pm).get(url)
    assert read.status_code == 200 and read.json() == body


def test_membership_ids_outside_the_partnership_are_refused_with_their_field(
    world: World,
) -> None:
    pm, conference, items = started_call(world)
    day = calls.conference_day(conference)
    client = login(Client(), pm)
    url = f"/api/agenda-items/{items[0].pk}/discussion"
    other_practice = membership(world.user_b).pk
    other_plan = membership(world.plan_q_user).pk
    decided = _decided(world, day)
    steps = decided["next_steps"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"practice_care_manager_membership_id": other_practice}, "practice_care_manager"),
        ({"plan_case_manager_membership_id": other_plan}, "plan_case_manager"),
        ({"plan_social_care_manager_membership_id": 999_999}, "plan_social_care_manager"),
        (
            {"next_steps": [steps[0], {**steps[1], "owner_membership_id": other_plan}]},
            "next_steps.1.owner",
        ),
        # A member of the partnership, but of the other side than the step's.
        (
            {"next_steps": [{**steps[1], "owner_membership_id": membership(world.user_a).pk}]},
            "next_steps",
        ),
        ({"lead": ""}, "lead"),
        ({"goal": ""}, "goal"),
    ]
    for change, field in cases:
        refused = _post(client, url, {**decided, **change})
        assert refused.status_code == 400, (field, refused.content)
        assert refused.json()["field"] == field
        assert _counts() == (0, 0, 0, 0)


def test_another_partnerships_staff_get_404_for_every_conference_mode_object(
    world: World,
) -> None:
    pm, conference, items = started_call(world)
    day = calls.conference_day(conference)
    own = login(Client(), pm)
    recorded = _post(own, f"/api/agenda-items/{items[0].pk}/discussion", _decided(world, day))
    assert recorded.status_code == 201
    entry = TrackingEntry.objects.create(
        partnership=world.partnership_a,
        patient=items[1].patient,
        reason="Declines PCP engagement",
        added_by=pm,
        next_report_on=day,
    )
    report = TrackingReport.objects.create(
        entry=entry,
        period_start=day - datetime.timedelta(days=182),
        period_end=day,
        content={"ed_visits": 0, "inpatient_stays": 0, "stays": []},
    )
    stranger = login(Client(), world.user_b)
    c = conference.pk
    gets = [
        f"/api/agenda-items/{items[0].pk}/discussion",
        f"/api/conferences/{c}/summary",
        f"/api/partnerships/{world.partnership_a.pk}/tracking",
        f"/api/tracking-reports/{report.pk}",
        f"/api/partnerships/{world.partnership_a.pk}/conference-measures",
    ]
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/api/conferences/{c}/start", {}),
        (f"/api/agenda-items/{items[1].pk}/discussion", _decided(world, day)),
        (f"/api/conferences/{c}/end", {"attendee_membership_ids": []}),
        (f"/api/conferences/{c}/summary/send", {"note": "x"}),
        (f"/api/conferences/{c}/prework-time", {"minutes": 10}),
        (f"/api/tracking/{entry.pk}/report", {}),
        (f"/api/tracking/{entry.pk}/remove", {"reason": "Moved away"}),
    ]
    for url in gets:
        assert stranger.get(url).status_code == 404, url
    for url, body in posts:
        assert _post(stranger, url, body).status_code == 404, url
    conference.refresh_from_db()
    entry.refresh_from_db()
    assert conference.ended_at is None and entry.is_active
    assert not ParticipantTime.objects.exists() and TrackingReport.objects.count() == 1
    assert Discussion.objects.count() == 1


def test_ending_the_call_answers_the_drafted_summary(world: World) -> None:
    pm, conference, items = started_call(world)
    client = login(Client(), pm)
    summary_url = f"/api/conferences/{conference.pk}/summary"
    assert client.get(summary_url).json() is None
    end_url = f"/api/conferences/{conference.pk}/end"
    outsider = _post(client, end_url, {"attendee_membership_ids": [membership(world.user_b).pk]})
    assert outsider.status_code == 400
    assert outsider.json()["field"] == "attendee_membership_ids.0"
    assert not ConferenceSummary.objects.exists()

    ended = _post(
        client,
        end_url,
        {"attendee_membership_ids": [membership(pm).pk, membership(world.user_a).pk]},
    )
    assert ended.status_code == 200
    body = ended.json()
    summary = ConferenceSummary.objects.get()
    assert datetime.datetime.fromisoformat(body["due_by"]) == summary.due_by
    assert (body["sent_at"], body["late"], body["recipients"]) == (None, False, [])
    assert [p["patient_id"] for p in body["content"]["patients"]] == [i.patient_id for i in items]
    assert ParticipantTime.objects.filter(conference=conference).count() == 2
    assert _post(client, end_url, {"attendee_membership_ids": []}).status_code == 400


def test_the_summary_shows_each_reader_their_patients_and_is_audited(world: World) -> None:
    pm, conference, items = started_call(world)
    plan = login(Client(), pm)
    _post(plan, f"/api/conferences/{conference.pk}/end")
    AttributionSpan.objects.filter(patient=items[1].patient, organization=world.practice_a).update(
        end_date=datetime.date(2026, 1, 31)
    )
    practice = login(Client(), world.user_a)
    shown = practice.get(f"/api/conferences/{conference.pk}/summary").json()
    assert [p["patient_id"] for p in shown["content"]["patients"]] == [items[0].patient_id]
    seen = AuditEvent.objects.filter(user_id=world.user_a.pk, action=AuditAction.VIEW)
    assert set(seen.values_list("patient_id", flat=True)) == {items[0].patient_id}


def test_only_the_plan_sends_the_summary(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    pm, conference, _items = started_call(world)
    plan = login(Client(), pm)
    send_url = f"/api/conferences/{conference.pk}/summary/send"
    assert _post(plan, send_url).status_code == 400  # not ended, nothing drafted
    _post(plan, f"/api/conferences/{conference.pk}/end", {"attendee_membership_ids": []})
    refused = _post(login(Client(), world.user_a), send_url, {"note": "ok"})
    assert refused.status_code == 403
    assert ConferenceSummary.objects.get().sent_at is None
    with django_capture_on_commit_callbacks(execute=True):
        sent = _post(plan, send_url, {"note": "Next call moves to 11:00."})
    assert sent.status_code == 200
    assert sent.json()["note"] == "Next call moves to 11:00."
    assert [r["user_id"] for r in sent.json()["recipients"]] == [world.user_a.pk]
    again = _post(plan, send_url)
    assert again.status_code == 400 and "was sent" in again.json()["detail"]


def test_prework_time_is_the_callers_own(world: World) -> None:
    pm, conference, _items = started_call(world)
    url = f"/api/conferences/{conference.pk}/prework-time"
    practice = login(Client(), world.user_a)
    assert _post(practice, url, {"minutes": 30}).json()["minutes"] == 30
    assert _post(practice, url, {"minutes": 45}).json()["minutes"] == 45
    too_long = _post(practice, url, {"minutes": 601})
    assert too_long.status_code == 400 and too_long.json()["field"] == "minutes"
    assert _post(login(Client(), pm), url, {"minutes": 20}).status_code == 200
    rows = ParticipantTime.objects.filter(conference=conference).order_by("minutes")
    assert [(r.user, r.minutes) for r in rows] == [(pm, 20), (world.user_a, 45)]


def test_the_tracking_list_its_reports_and_removal(world: World) -> None:
    pm, _conference, items = started_call(world)
    plan = login(Client(), pm)
    practice = login(Client(), world.user_a)
    _post(
        plan,
        f"/api/agenda-items/{items[0].pk}/discussion",
        {
            "still_practice_patient": True,
            "engagement": "declined",
            "outreach_attempts": "Home visit\n\nPhone x2",
        },
    )
    entry = TrackingEntry.objects.get()
    Episode.objects.create(
        patient=entry.patient,
        facility="Mercy Hospital",
        patient_class=PatientClass.EMERGENCY,
        admitted_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=20),
        discharged_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=20),
        status=EpisodeStatus.CLOSED,
    )
    listing = practice.get(f"/api/partnerships/{world.partnership_a.pk}/tracking").json()
    assert [(t["id"], t["outreach_attempts"], t["last_report_id"]) for t in listing] == [
        (entry.pk, ["Home visit", "Phone x2"], None)
    ]
    assert listing[0]["report_due"] is False

    report_url = f"/api/tracking/{entry.pk}/report"
    assert _post(practice, report_url).status_code == 403
    made = _post(plan, report_url)
    assert made.status_code == 201
    report = made.json()
    assert (report["tracking_id"], report["content"]["ed_visits"]) == (entry.pk, 1)
    assert _post(plan, report_url).status_code == 400  # one report per day

    read = practice.get(f"/api/tracking-reports/{report['id']}")
    assert read.status_code == 200 and read.json() == report
    assert AuditEvent.objects.filter(
        user_id=world.user_a.pk,
        action=AuditAction.VIEW,
        patient_id=entry.patient_id,
        object_id=str(report["id"]),
    ).exists()
    listing = plan.get(f"/api/partnerships/{world.partnership_a.pk}/tracking").json()
    assert listing[0]["last_report_id"] == report["id"]

    remove_url = f"/api/tracking/{entry.pk}/remove"
    blank = _post(practice, remove_url, {"reason": ""})
    assert blank.status_code == 400 and blank.json()["field"] == "reason"
    spaces = _post(practice, remove_url, {"reason": "   "})
    assert spaces.status_code == 400 and spaces.json()["field"] == "reason"
    removed = _post(practice, remove_url, {"reason": "Seen by the PCP"})
    assert removed.status_code == 200
    assert removed.json()["removed_at"] is not None
    assert removed.json()["last_report_id"] == report["id"]
    entry.refresh_from_db()
    assert entry.removal_reason == "Seen by the PCP"
    assert _post(plan, report_url).status_code == 400


def test_conference_measures_per_call_and_person(world: World) -> None:
    pm, conference, items = started_call(world)
    day = calls.conference_day(conference)
    plan = login(Client(), pm)
    practice = login(Client(), world.user_a)
    _post(practice, f"/api/agenda-items/{items[0].pk}/discussion", _decided(world, day))
    _post(practice, f"/api/conferences/{conference.pk}/prework-time", {"minutes": 15})
    _post(plan, f"/api/conferences/{conference.pk}/prework-time", {"minutes": 50})
    _post(
        plan,
        f"/api/conferences/{conference.pk}/end",
        {"attendee_membership_ids": [membership(world.user_a).pk]},
    )
    rows = practice.get(f"/api/partnerships/{world.partnership_a.pk}/conference-measures")
    assert rows.status_code == 200
    (row,) = rows.json()
    assert row["conference_id"] == conference.pk and row["status"] == ConferenceStatus.HELD
    assert (row["agenda_patients"], row["patients_reviewed"], row["tasks_created"]) == (2, 1, 2)
    # The decision itself, its goal, two next steps and one plan service.
    assert row["decisions_per_patient"] == 5.0
    call = row["call_minutes"]
    assert call >= 1
    people = {(p["organization"], p["prework_minutes"], p["call_minutes"]) for p in row["people"]}
    assert people == {("Plan P", 50, 0), ("Practice A", 15, call)}
    assert (row["prework_minutes"], row["staff_call_minutes"]) == (65, call)
