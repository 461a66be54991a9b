"""Builders for conference-mode tests: a call of partnership A with an agenda, started."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User

from caseboard.conference import calls, decisions
from caseboard.conference.decisions import DecisionInput, NextStep
from caseboard.conference.models import AgendaItem, Conference, Lead
from caseboard.orgs.models import Membership
from caseboard.patients.models import Patient
from tests.conference.call_makers import call_for_a, on_both_lists
from tests.conference.makers import member_of_a
from tests.conftest import World
from tests.factories import actor_for


def started_call(world: World, *patients: Patient) -> tuple[User, Conference, list[AgendaItem]]:
    """A call whose agenda holds `patients` (default: two new members of A), started."""
    pm, conference = call_for_a(world)
    chosen = list(patients) or [
        member_of_a(world, "Rosa", "Quintero"),
        member_of_a(world, "Tomas", "Ekwueme", datetime.date(1958, 2, 3)),
    ]
    for position, patient in enumerate(chosen, start=1):
        on_both_lists(world, pm, patient, position)
    items = calls.build_agenda(actor_for(pm), conference)
    decisions.start_conference(actor_for(pm), conference)
    conference.refresh_from_db()
    return pm, conference, items


def next_call(pm: User, conference: Conference, *, start: bool = True) -> Conference:
    """The series' call a week after `conference`, its agenda built (and started)."""
    following = calls.schedule_conference(
        actor_for(pm), conference.series, conference.starts_at + datetime.timedelta(days=7)
    )
    calls.build_agenda(actor_for(pm), following)
    if start:
        decisions.start_conference(actor_for(pm), following)
    following.refresh_from_db()
    return following


def membership(user: User) -> Membership:
    return Membership.objects.get(user=user)


def lead_decision(
    world: World, pm: User, conference: Conference, **changes: object
) -> DecisionInput:
    """A complete step-7 decision: the practice leads, the plan monitors."""
    day = calls.conference_day(conference)
    values: dict[str, object] = {
        "still_practice_patient": True,
        "last_seen_by_practice": day - datetime.timedelta(days=40),
        "lead": Lead.PRACTICE,
        "plan_monitors": True,
        "why_high_risk": "Three ED visits for asthma; no controller medication filled.",
        "barriers": "Works nights; no phone minutes at month end.",
        "plan_services": ["social_care"],
        "goal": "Maximize patient access to needed care",
        "next_steps": [
            NextStep(
                title="Call the patient to book an asthma visit",
                side="practice",
                due_on=day + datetime.timedelta(days=7),
                owner=membership(world.user_a),
            ),
            NextStep(
                title="Check pharmacy fills for the controller inhaler",
                side="plan",
                due_on=day + datetime.timedelta(days=14),
                owner=membership(world.plan_user),
            ),
        ],
        "report_back_cadence": "Weekly for one month, then monthly",
        "next_update_on": day + datetime.timedelta(days=7),
        "plan_case_manager": membership(world.plan_user),
        "plan_social_care_manager": membership(world.plan_user),
        "practice_care_manager": membership(world.user_a),
    }
    values.update(changes)
    return DecisionInput(**values)  # type: ignore[arg-type]
