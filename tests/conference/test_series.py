"""The partnership's call series and its calendar invitation (seed 004, Getting ready)."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caseboard.conference import calls
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import ConferenceSeries
from caseboard.orgs.models import Membership
from tests import factories
from tests.conference.call_makers import on_both_lists, series_for_a
from tests.conference.makers import project_manager
from tests.conftest import World, login
from tests.factories import actor_for

pytestmark = pytest.mark.django_db


def test_series_defaults_to_weekly_thirty_minutes_and_ten_patients(world: World) -> None:
    series = calls.create_series(
        actor_for(world.user_a), world.partnership_a, weekday=1, start_time=datetime.time(9)
    )
    assert (series.duration_minutes, series.agenda_size) == (30, 10)


def test_one_active_series_per_partnership(world: World) -> None:
    pm = project_manager(world)
    series_for_a(world, pm)
    with pytest.raises(ConferenceError, match="already has a call series"):
        series_for_a(world, pm)


def test_core_participants_come_from_the_two_sides(world: World) -> None:
    outsider = Membership.objects.get(user=world.user_b)
    with pytest.raises(ConferenceError, match="Core participants"):
        calls.create_series(
            actor_for(world.user_a),
            world.partnership_a,
            weekday=1,
            start_time=datetime.time(9),
            participants=[outsider],
        )
    assert not ConferenceSeries.objects.exists()


def test_next_slot_is_the_series_weekday_and_time(world: World) -> None:
    series = series_for_a(world, project_manager(world), weekday=2)  # Wednesday
    monday = datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC)
    slot = calls.next_slot(series, monday)
    local = slot.astimezone(calls.series_zone(series))
    assert (local.date(), local.time()) == (datetime.date(2026, 11, 25), datetime.time(10))
    assert calls.next_slot(series, slot) == slot + datetime.timedelta(days=7)


def test_schedule_the_next_one_follows_the_latest_call(world: World) -> None:
    pm = project_manager(world)
    series = series_for_a(world, pm)
    first = calls.schedule_conference(actor_for(pm), series)
    second = calls.schedule_conference(actor_for(pm), series)
    assert first.starts_at > timezone.now()
    assert second.starts_at - first.starts_at == datetime.timedelta(days=7)


def test_invitation_is_a_weekly_event_with_the_core_participants_and_no_patients(
    world: World,
) -> None:
    pm = project_manager(world)
    pm.email = "pm@plan.example.org"
    pm.save()
    world.user_a.email = "rn@practice-a.example.org"
    world.user_a.save()
    on_both_lists(world, pm, world.patient_a, 1)
    series = series_for_a(world, pm, weekday=3, start_time=datetime.time(14, 30))
    calls.schedule_conference(actor_for(pm), series)

    response = login(Client(), world.user_a).get(
        reverse("conference_series_invite", args=[series.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["BYDAY"] == ["TH"]
    start = event.decoded("DTSTART")
    assert start.weekday() == 3 and start.time() == datetime.time(14, 30)
    assert str(start.tzinfo) == "America/New_York"
    assert event.decoded("DURATION") == datetime.timedelta(minutes=30)
    attendees = {str(a) for a in event.get("ATTENDEE")}
    assert attendees == {"mailto:pm@plan.example.org", "mailto:rn@practice-a.example.org"}
    text = response.content.decode()
    for patient in (world.patient_a, world.patient_b):
        assert patient.family_name not in text
        assert patient.given_name not in text
    assert list(calendar.walk("VTIMEZONE"))


def test_series_page_creates_and_changes_the_series(world: World) -> None:
    client = login(Client(), world.user_a)
    url = reverse("conference_series", args=[world.partnership_a.pk])
    pm = project_manager(world)
    pm_membership = Membership.objects.get(user=pm)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "weekday": "4",
            "start_time": "11:00",
            "duration_minutes": "30",
            "agenda_size": "8",
            "time_zone": "America/New_York",
            "core_participants": [str(pm_membership.pk)],
        },
    )
    assert response.status_code == 302
    series = ConferenceSeries.objects.get(partnership=world.partnership_a)
    assert (series.weekday, series.agenda_size) == (4, 8)
    assert list(series.core_participants.all()) == [pm_membership]
    response = client.post(
        url,
        {
            "weekday": "4",
            "start_time": "11:00",
            "duration_minutes": "45",
            "agenda_size": "8",
            "time_zone": "America/New_York",
        },
    )
    series.refresh_from_db()
    assert series.duration_minutes == 45
    assert ConferenceSeries.objects.count() == 1


def test_series_page_rejects_a_bad_time_zone_and_saves_nothing(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.post(
        reverse("conference_series", args=[world.partnership_a.pk]),
        {
            "weekday": "4",
            "start_time": "11:00",
            "duration_minutes": "30",
            "agenda_size": "10",
            "time_zone": "Mars/Olympus",
        },
    )
    assert response.status_code == 400
    assert b"not a time zone" in response.content
    assert not ConferenceSeries.objects.exists()


def test_other_partnerships_series_is_hidden(world: World) -> None:
    series = calls.create_series(
        actor_for(world.user_b), world.partnership_b, weekday=1, start_time=datetime.time(9)
    )
    client = login(Client(), world.user_a)
    assert client.get(reverse("conference_series_invite", args=[series.pk])).status_code == 404
    assert client.post(reverse("conference_schedule", args=[series.pk])).status_code == 404
    assert factories.actor_for(world.user_a).organization == world.practice_a
