"""Two people editing the same care plan at once: the second save is refused with a message
naming who changed the plan and when, their input is kept, and nothing of the first is lost
(DESIGN §6, optimistic locking on `CarePlan.version`)."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from caseboard.care.actions import careplan as actions
from caseboard.care.errors import StaleVersion
from caseboard.care.models import CarePlan, CarePlanRevision, Goal, GoalProgress
from tests.conftest import World, login
from tests.factories import actor_for

REFUSED = re.compile(
    r"Ana Reyes \(Practice A\) changed this care plan at \d{1,2}:\d\d [AP]M, after you opened"
    r" it\. Your changes have not been saved; they are kept below — review the current plan"
    r" and save again\."
)


@pytest.fixture
def named(world: World) -> World:
    world.user_a.first_name, world.user_a.last_name = "Ana", "Reyes"
    world.user_a.save()
    world.plan_user.first_name, world.plan_user.last_name = "Paul", "Chen"
    world.plan_user.save()
    return world


def _goal(world: World) -> Goal:
    return actions.add_goal(
        actor_for(world.user_a),
        world.patient_a,
        statement="I want to walk to church on Sundays",
        target_date=timezone.localdate() + datetime.timedelta(days=90),
    )


def _goal_post(goal: Goal, version: int, **changes: str) -> dict[str, str]:
    data = {
        "version": str(version),
        "statement": goal.statement,
        "domain": goal.domain,
        "target_date": goal.target_date.isoformat() if goal.target_date else "",
        "status": goal.status,
        "achievement": goal.achievement,
        "note": "",
    }
    data.update(changes)
    return data


def _plan(world: World) -> CarePlan:
    return CarePlan.objects.get(patient=world.patient_a)


def test_second_save_of_the_same_version_is_refused_and_nothing_is_lost(named: World) -> None:
    goal = _goal(named)
    ana = login(Client(), named.user_a)
    paul = login(Client(), named.plan_user)
    # Both open the goal at the same version.
    seen_by_ana = ana.get(f"/care/goals/{goal.pk}/").context["form"]["version"].value()
    seen_by_paul = paul.get(f"/care/goals/{goal.pk}/").context["form"]["version"].value()
    assert seen_by_ana == seen_by_paul == 1

    first = ana.post(
        f"/care/goals/{goal.pk}/",
        _goal_post(goal, seen_by_ana, achievement="some_progress", note="Went twice"),
    )
    assert first.status_code == 302

    second = paul.post(
        f"/care/goals/{goal.pk}/",
        _goal_post(
            goal,
            seen_by_paul,
            statement="I want to walk to church and to the market",
            status="on_hold",
            note="Paul's note",
        ),
    )

    assert second.status_code == 409
    page = second.content.decode()
    assert REFUSED.search(page), page
    # Paul's input is still in the form, now carrying the current version for a re-save.
    form = second.context["form"]
    assert form["statement"].value() == "I want to walk to church and to the market"
    assert form["status"].value() == "on_hold" and form["note"].value() == "Paul's note"
    assert form["version"].value() == "2"
    # The current plan and what changed since are shown beside it.
    assert "Some progress" in page
    assert [r.version for r in second.context["changes"]] == [2]
    # The database holds Ana's change and nothing of Paul's.
    goal.refresh_from_db()
    assert goal.statement == "I want to walk to church on Sundays"
    assert (goal.status, goal.achievement) == ("active", "some_progress")
    assert _plan(named).version == 2 and _plan(named).updated_by == named.user_a
    assert not GoalProgress.objects.filter(note="Paul's note").exists()
    assert CarePlanRevision.objects.filter(by=named.plan_user).count() == 0


def test_refused_save_goes_through_once_resubmitted_after_review(named: World) -> None:
    goal = _goal(named)
    ana = login(Client(), named.user_a)
    paul = login(Client(), named.plan_user)
    ana.post(f"/care/goals/{goal.pk}/", _goal_post(goal, 1, achievement="some_progress"))
    refused = paul.post(f"/care/goals/{goal.pk}/", _goal_post(goal, 1, note="Saw her Monday"))
    assert refused.status_code == 409

    # Paul saves again from the refused page: its form now carries version 2.
    again = {name: str(refused.context["form"][name].value() or "") for name in _goal_post(goal, 0)}
    again["achievement"] = "some_progress"
    assert paul.post(f"/care/goals/{goal.pk}/", again).status_code == 302
    assert _plan(named).version == 3
    assert GoalProgress.objects.filter(note="Saw her Monday", by=named.plan_user).exists()


def test_two_people_adding_to_the_plan_at_once(named: World) -> None:
    _goal(named)
    ana = login(Client(), named.user_a)
    paul = login(Client(), named.plan_user)
    url = f"/care/patients/{named.patient_a.pk}/plan/barriers/new/"
    version = ana.get(url).context["form"]["version"].value()
    assert paul.get(url).context["form"]["version"].value() == version

    ana_saved = ana.post(
        url, {"version": version, "kind": "cost", "description": "Copays for the inhaler"}
    )
    assert ana_saved.status_code == 302
    paul_refused = paul.post(
        url, {"version": version, "kind": "housing", "description": "Eviction notice"}
    )

    assert paul_refused.status_code == 409
    assert "changed this care plan" in paul_refused.content.decode()
    assert paul_refused.context["form"]["description"].value() == "Eviction notice"
    assert "Copays for the inhaler" in paul_refused.content.decode()
    descriptions = list(_plan(named).barriers.values_list("description", flat=True))
    assert descriptions == ["Copays for the inhaler"]


def test_follow_up_plan_edited_by_two_people_keeps_the_first_and_shows_the_second(
    named: World,
) -> None:
    ana = login(Client(), named.user_a)
    paul = login(Client(), named.plan_user)
    url = f"/care/patients/{named.patient_a.pk}/plan/follow-up/"
    assert ana.get(url).context["form"]["version"].value() == 0
    assert paul.get(url).context["form"]["version"].value() == 0
    ana.post(url, {"version": "0", "follow_up_plan": "Weekly calls on Tuesdays"})
    refused = paul.post(url, {"version": "0", "follow_up_plan": "Home visit on the 12th"})
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Home visit on the 12th" in page and "Weekly calls on Tuesdays" in page
    assert _plan(named).follow_up_plan == "Weekly calls on Tuesdays"


def test_confidence_recorded_against_an_old_version_is_refused_in_place(named: World) -> None:
    goal = _goal(named)
    actions.add_barrier(actor_for(named.user_a), named.patient_a, kind="cost", description="Copays")
    paul = login(Client(), named.plan_user)
    refused = paul.post(
        f"/care/goals/{goal.pk}/confidence/",
        {"version": "1", "rating": "6", "note": "after the walk"},
        HTTP_HX_REQUEST="true",
    )
    html = refused.content.decode()
    assert refused.status_code == 200  # htmx swaps only successful answers
    assert REFUSED.search(html)
    assert 'value="6"' in html and 'value="after the walk"' in html
    assert 'name="version" value="2"' in html
    assert not goal.confidence_ratings.exists()


def test_the_action_refuses_a_stale_version_and_writes_nothing(named: World) -> None:
    goal = _goal(named)
    actions.record_confidence(actor_for(named.user_a), goal, rating=4, expected_version=1)
    with pytest.raises(StaleVersion) as refused:
        actions.update_goal(
            actor_for(named.plan_user),
            goal,
            expected_version=1,
            statement="Something else",
            domain=goal.domain,
            target_date=goal.target_date,
            status="met",
            achievement="achieved",
        )
    assert REFUSED.search(refused.value.message)
    goal.refresh_from_db()
    assert goal.statement == "I want to walk to church on Sundays" and goal.status == "active"
    assert goal.met_on is None
    assert _plan(named).version == 2 and CarePlanRevision.objects.count() == 2


def test_two_first_edits_race_to_start_the_plan(named: World) -> None:
    """Both saw "no plan yet" (version 0): the first starts it, the second is refused."""
    actions.set_follow_up_plan(
        actor_for(named.user_a), named.patient_a, text="Call weekly", expected_version=0
    )
    with pytest.raises(StaleVersion):
        actions.add_goal(
            actor_for(named.plan_user),
            named.patient_a,
            statement="Keep my apartment",
            expected_version=0,
        )
    assert _plan(named).version == 1 and not Goal.objects.exists()


def test_the_same_user_in_another_tab_is_told_it_was_them(named: World) -> None:
    goal = _goal(named)
    actor = actor_for(named.user_a)
    actions.record_confidence(actor, goal, rating=5, expected_version=1)
    with pytest.raises(StaleVersion, match="You changed this care plan in another window"):
        actions.record_confidence(actor, goal, rating=6, expected_version=1)


def test_api_answers_409_when_the_plan_changed_after_the_version_sent(named: World) -> None:
    goal = _goal(named)
    ana = login(Client(), named.user_a)
    paul = login(Client(), named.plan_user)
    seen = paul.get(f"/api/patients/{named.patient_a.pk}/care-plan").json()["version"]
    ok = ana.patch(
        f"/api/goals/{goal.pk}",
        {"version": seen, "achievement": "mostly"},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["care_plan_version"] == seen + 1

    stale = paul.patch(
        f"/api/goals/{goal.pk}",
        {"version": seen, "status": "on_hold", "statement": "Paul's words"},
        content_type="application/json",
    )

    assert stale.status_code == 409
    assert REFUSED.search(stale.json()["detail"])
    goal.refresh_from_db()
    assert (goal.statement, goal.status, goal.achievement) == (
        "I want to walk to church on Sundays",
        "active",
        "mostly",
    )
    added = paul.post(
        f"/api/patients/{named.patient_a.pk}/care-plan/goals",
        {"version": seen, "statement": "Keep my apartment"},
        content_type="application/json",
    )
    assert added.status_code == 409 and Goal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_truly_simultaneous_saves_let_exactly_one_through(named: World) -> None:
    """Two transactions at once on PostgreSQL: the conditional update locks the plan's row,
    the second waits for the first to commit, then finds the version moved on."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent write transactions need PostgreSQL")
    goal = _goal(named)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(user: User, status: str) -> None:
        try:
            start.wait(timeout=10)
            actions.update_goal(
                actor_for(user),
                goal,
                expected_version=1,
                statement=goal.statement,
                domain=goal.domain,
                target_date=goal.target_date,
                status=status,
                achievement=goal.achievement,
            )
            outcomes[status] = "saved"
        except StaleVersion:
            outcomes[status] = "refused"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(named.user_a, "on_hold")),
        threading.Thread(target=save, args=(named.plan_user, "met")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["refused", "saved"]
    saved = next(status for status, outcome in outcomes.items() if outcome == "saved")
    goal.refresh_from_db()
    assert goal.status == saved
    assert _plan(named).version == 2 and CarePlanRevision.objects.count() == 2
