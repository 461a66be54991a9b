"""Builders for conference-call tests: a series, a call and an agenda for partnership A."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from caseboard.conference import actions, calls
from caseboard.conference.models import Conference, ConferenceSeries
from caseboard.orgs.models import Membership
from caseboard.patients.models import ClaimsFacts, Patient
from tests.conference.makers import AS_OF, lists, member_of_a, project_manager, rank
from tests.conftest import World
from tests.factories import actor_for


def series_for_a(world: World, pm: User, **values: object) -> ConferenceSeries:
    participants = Membership.objects.filter(user__in=[pm, world.user_a])
    return calls.create_series(
        actor_for(pm),
        world.partnership_a,
        weekday=int(values.get("weekday", 2)),  # type: ignore[call-overload]
        start_time=values.get("start_time", datetime.time(10, 0)),  # type: ignore[arg-type]
        duration_minutes=30,
        agenda_size=int(values.get("agenda_size", 10)),  # type: ignore[call-overload]
        time_zone="America/New_York",
        participants=participants,
    )


def call_for_a(world: World, pm: User | None = None) -> tuple[User, Conference]:
    pm = pm or project_manager(world)
    series = series_for_a(world, pm)
    starts = timezone.now() + datetime.timedelta(days=3)
    return pm, calls.schedule_conference(actor_for(pm), series, starts)


def on_both_lists(world: World, pm: User, patient: Patient, plan_rank: int) -> None:
    plan_list, practice_list = lists(world.partnership_a)
    rank(world, patient, plan_rank)
    actions.add_to_list(actor_for(pm), plan_list, patient, reasons=["2 admissions"])
    actions.add_to_list(actor_for(world.user_a), practice_list, patient, reasons=["ED use"])


def with_claims(world: World, patient: Patient) -> ClaimsFacts:
    return ClaimsFacts.objects.create(
        plan=world.plan,
        patient=patient,
        as_of=AS_OF,
        last_admission={
            "start": "2026-09-02",
            "end": "2026-09-06",
            "reason": "Heart failure",
            "facility": "Mercy Hospital",
        },
        last_ed_visit={
            "start": "2026-10-11",
            "end": "2026-10-11",
            "reason": "Chest pain",
            "facility": "Mercy Hospital",
        },
        diagnoses=["I50.9 Heart failure"],
        diagnostic_history=["Echocardiogram 2026-09-03"],
        prescriptions=["furosemide 40 mg"],
        providers=[{"npi": "1999999999", "name": "Cardiology Group", "visits_12m": 4}],
    )


__all__ = ["call_for_a", "member_of_a", "on_both_lists", "series_for_a", "with_claims"]
