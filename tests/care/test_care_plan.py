"""The shared care plan (Health Action Plan): goals in the patient's words, confidence over
time, barriers, interventions, follow-up plan and celebrated wins (seed 002), one plan for the
care team of every partner (seed 003)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions import careplan as actions
from caseboard.care.errors import CareError
from caseboard.care.models import (
    Barrier,
    CarePlan,
    CarePlanRevision,
    ConfidenceRating,
    Goal,
    GoalProgress,
    Intervention,
    Notification,
    SuccessStory,
)
from caseboard.care.queries.careplan import care_plan_view
from caseboard.orgs.models import Membership, Role
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for


def _today() -> datetime.date:
    return timezone.localdate()


def _soon(days: int = 60) -> datetime.date:
    return _today() + datetime.timedelta(days=days)


def _plan_url(world: World) -> str:
    return f"/care/patients/{world.patient_a.pk}/plan/"


def _goal(world: World, statement: str = "I want to walk to church on Sundays") -> Goal:
    return actions.add_goal(
        actor_for(world.user_a), world.patient_a, statement=statement, target_date=_soon()
    )


def _version(world: World) -> int:
    return CarePlan.objects.get(patient=world.patient_a).version


# --- Goals --------------------------------------------------------------------------------


def test_care_manager_adds_a_goal_in_the_patients_words_and_the_plan_starts(
    world: World,
) -> None:
    client = login(Client(), world.user_a)
    form = client.get(f"/care/patients/{world.patient_a.pk}/plan/goals/new/")
    assert form.status_code == 200
    assert form.context["form"]["version"].value() == 0

    response = client.post(
        f"/care/patients/{world.patient_a.pk}/plan/goals/new/",
        {
            "version": "0",
            "statement": "I want to walk my granddaughter to school",
            "domain": "functioning",
            "target_date": _soon().isoformat(),
            "confidence": "4",
        },
    )

    assert response.status_code == 302 and response["Location"] == _plan_url(world)
    goal = Goal.objects.get(care_plan__patient=world.patient_a)
    assert goal.statement == "I want to walk my granddaughter to school"
    assert goal.domain == "functioning" and goal.status == "active"
    assert [r.rating for r in goal.confidence_ratings.all()] == [4]
    plan = goal.care_plan
    assert plan.version == 1 and plan.updated_by == world.user_a
    revision = plan.revisions.get()
    assert revision.version == 1 and "Added goal" in revision.summary
    assert revision.snapshot["goals"][0]["statement"] == goal.statement
    assert GoalProgress.objects.filter(goal=goal, note="Goal set").exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, patient_id=world.patient_a.pk, object_type="care.goal"
    ).exists()


def test_goal_with_a_target_date_in_the_past_is_refused_and_nothing_is_saved(
    world: World,
) -> None:
    client = login(Client(), world.user_a)
    yesterday = _today() - datetime.timedelta(days=1)
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/plan/goals/new/",
        {"version": "0", "statement": "Walk daily", "domain": "other", "target_date": yesterday},
    )
    assert response.status_code == 200
    assert "is in the past" in response.context["form"].errors["target_date"][0]
    assert not Goal.objects.exists() and not CarePlan.objects.exists()


def test_goal_needs_the_patients_words_and_a_confidence_from_0_to_10(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/plan/goals/new/",
        {"version": "0", "statement": "  ", "domain": "other", "confidence": "11"},
    )
    errors = response.context["form"].errors
    assert errors["statement"] == ["Write the goal in the patient's own words."]
    assert "from 0 (not at all sure) to 10" in errors["confidence"][0]
    assert not Goal.objects.exists()


def test_new_goal_form_offers_the_shared_goals_to_start_from(world: World) -> None:
    client = login(Client(), world.user_a)
    url = f"/care/patients/{world.patient_a.pk}/plan/goals/new/"
    page = client.get(url).content.decode()
    assert "Maximize patient access to needed care" in page
    assert "Increase patient engagement in care decisions" in page
    index = actions.GOAL_SUGGESTIONS.index("Increase patient engagement in care decisions")
    picked = client.get(url, {"suggestion": index})
    assert (
        picked.context["form"]["statement"].value()
        == "Increase patient engagement in care decisions"
    )


def test_goal_recorded_without_a_version_is_appended(world: World) -> None:
    """The case conference records its shared goal this way (004 step 7g-iv)."""
    actor = actor_for(world.plan_user)
    _goal(world)
    goal = actions.add_goal(
        actor,
        world.patient_a,
        statement="Maximize patient access to needed care",
        source="conference",
    )
    assert goal.source == "conference" and goal.care_plan.version == 2
    assert goal.created_by_organization == world.plan


def test_marking_a_goal_met_dates_it_keeps_its_progress_and_offers_to_celebrate(
    world: World,
) -> None:
    goal = _goal(world)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/goals/{goal.pk}/",
        {
            "version": str(_version(world)),
            "statement": goal.statement,
            "domain": goal.domain,
            "target_date": goal.target_date.isoformat() if goal.target_date else "",
            "status": "met",
            "achievement": "mostly",
            "note": "Walked to church three Sundays in a row",
        },
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.status == "met" and goal.met_on == _today()
    assert goal.achievement == "achieved"
    latest = GoalProgress.objects.filter(goal=goal).first()
    assert latest is not None
    assert (latest.status, latest.note) == ("met", "Walked to church three Sundays in a row")
    page = client.get(f"/care/goals/{goal.pk}/").content.decode()
    assert "Celebrate this win" in page
    assert "Walked to church three Sundays in a row" in page


def test_goal_edit_that_changes_nothing_keeps_the_version(world: World) -> None:
    goal = _goal(world)
    before = _version(world)
    actions.update_goal(
        actor_for(world.user_a),
        goal,
        expected_version=before,
        statement=goal.statement,
        domain=goal.domain,
        target_date=goal.target_date,
        status=goal.status,
        achievement=goal.achievement,
    )
    assert _version(world) == before


def test_an_old_target_date_may_stay_but_not_be_moved_into_the_past(world: World) -> None:
    goal = _goal(world)
    last_month = _today() - datetime.timedelta(days=30)
    Goal.objects.filter(pk=goal.pk).update(target_date=last_month)
    goal.refresh_from_db()
    actor = actor_for(world.user_a)
    actions.update_goal(
        actor,
        goal,
        expected_version=_version(world),
        statement=goal.statement,
        domain=goal.domain,
        target_date=last_month,
        status="on_hold",
        achievement=goal.achievement,
    )
    with pytest.raises(CareError, match="in the past"):
        actions.update_goal(
            actor,
            goal,
            expected_version=_version(world),
            statement=goal.statement,
            domain=goal.domain,
            target_date=last_month - datetime.timedelta(days=1),
            status="on_hold",
            achievement=goal.achievement,
        )


# --- Confidence ---------------------------------------------------------------------------


def test_confidence_is_recorded_for_today_and_shown_as_a_trail(world: World) -> None:
    goal = _goal(world)
    client = login(Client(), world.user_a)
    for rating in (4, 6, 8):
        response = client.post(
            f"/care/goals/{goal.pk}/confidence/",
            {"version": str(_version(world)), "rating": str(rating), "note": "asked by phone"},
        )
        assert response.status_code == 302
    ratings = list(ConfidenceRating.objects.filter(goal=goal))
    assert [r.rating for r in ratings] == [4, 6, 8]
    assert {r.recorded_on for r in ratings} == {_today()}
    page = client.get(_plan_url(world)).content.decode()
    assert "4 → 6 → 8" in page and "8/10" in page


def test_confidence_outside_0_to_10_is_a_clear_error_and_saves_nothing(world: World) -> None:
    goal = _goal(world)
    before = _version(world)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/goals/{goal.pk}/confidence/", {"version": str(before), "rating": "11"}
    )
    assert response.status_code == 200
    assert "Confidence is a number from 0 (not at all sure) to 10" in response.content.decode()
    assert not ConfidenceRating.objects.exists() and _version(world) == before
    with pytest.raises(CareError, match="outside that scale"):
        actions.record_confidence(actor_for(world.user_a), goal, rating=-1)


def test_confidence_from_the_plan_page_by_htmx_returns_the_refreshed_plan(world: World) -> None:
    goal = _goal(world)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/goals/{goal.pk}/confidence/",
        {"version": str(_version(world)), "rating": "7", "return_to": "plan"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="plan-body">') and "<html" not in html
    assert "Confidence 7/10 recorded" in html and f"Version {_version(world)}" in html


def test_confidence_is_not_asked_about_a_met_goal(world: World) -> None:
    goal = _goal(world)
    Goal.objects.filter(pk=goal.pk).update(status="met")
    with pytest.raises(CareError, match="still working on"):
        actions.record_confidence(actor_for(world.user_a), goal, rating=9)


# --- Barriers, interventions, follow-up plan ----------------------------------------------


def test_barrier_is_added_to_a_goal_then_resolved_and_reopened(world: World) -> None:
    goal = _goal(world)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/plan/barriers/new/",
        {
            "version": str(_version(world)),
            "kind": "transportation",
            "description": "No car; the bus takes 90 minutes",
            "goal": str(goal.pk),
        },
    )
    assert response.status_code == 302
    barrier = Barrier.objects.get()
    assert barrier.goal == goal and barrier.resolved_on is None

    def save(resolved: bool) -> None:
        data = {
            "version": str(_version(world)),
            "kind": "transportation",
            "description": barrier.description,
            "goal": str(goal.pk),
        }
        if resolved:
            data["resolved"] = "on"
        assert client.post(f"/care/barriers/{barrier.pk}/", data).status_code == 302

    save(resolved=True)
    barrier.refresh_from_db()
    assert barrier.resolved_on == _today()
    page = client.get(_plan_url(world)).content.decode()
    assert "No open barriers." in page and "Resolved barriers (1)" in page
    save(resolved=False)
    barrier.refresh_from_db()
    assert barrier.resolved_on is None
    summaries = list(CarePlanRevision.objects.values_list("summary", flat=True))
    assert any(s.startswith("Resolved barrier") for s in summaries)
    assert any(s.startswith("Reopened barrier") for s in summaries)


def test_intervention_names_a_partners_staff_member_or_someone_in_words(world: World) -> None:
    goal = _goal(world)
    client = login(Client(), world.user_a)
    url = f"/care/patients/{world.patient_a.pk}/plan/interventions/new/"
    form = client.get(url).context["form"]
    plan_member = Membership.objects.get(user=world.plan_user, organization=world.plan)
    labels = str(form["responsible"])
    assert "Plan P" in labels and "Practice B" not in labels

    staff = client.post(
        url,
        {
            "version": str(_version(world)),
            "description": "Find a cardiologist closer to home",
            "goal": str(goal.pk),
            "responsible": f"staff:{plan_member.pk}",
            "due_on": _soon(14).isoformat(),
            "status": "planned",
        },
    )
    assert staff.status_code == 302
    family = client.post(
        url,
        {
            "version": str(_version(world)),
            "description": "Drive her to the Tuesday appointments",
            "responsible": "other",
            "responsible_name": "Daughter Rosa",
            "status": "in_progress",
        },
    )
    assert family.status_code == 302
    unnamed = client.post(
        url,
        {
            "version": str(_version(world)),
            "description": "Bring the pill bottles",
            "responsible": "other",
            "status": "planned",
        },
    )
    assert "Type the person's name" in unnamed.context["form"].errors["responsible_name"][0]

    by_staff, by_family = Intervention.objects.order_by("id")
    assert (by_staff.responsible_user, by_staff.responsible_organization) == (
        world.plan_user,
        world.plan,
    )
    assert by_family.responsible_name == "Daughter Rosa" and by_family.responsible_user is None
    page = client.get(_plan_url(world)).content.decode()
    assert "Test User (Plan P)" in page and "Daughter Rosa" in page


def test_intervention_cannot_go_to_staff_outside_the_partnership(world: World) -> None:
    with pytest.raises(CareError, match="does not work for"):
        actions.add_intervention(
            actor_for(world.user_a),
            world.patient_a,
            description="Call the patient",
            responsible_user=world.user_b,
        )
    assert not Intervention.objects.exists()


def test_intervention_is_edited_and_marked_done(world: World) -> None:
    intervention = actions.add_intervention(
        actor_for(world.user_a),
        world.patient_a,
        description="Arrange rides to appointments",
        responsible_name="Patient",
    )
    client = login(Client(), world.user_a)
    page = client.get(f"/care/interventions/{intervention.pk}/")
    assert page.context["form"]["responsible"].value() == "patient"
    response = client.post(
        f"/care/interventions/{intervention.pk}/",
        {
            "version": str(_version(world)),
            "description": "Arrange rides to appointments",
            "responsible": "patient",
            "status": "done",
        },
    )
    assert response.status_code == 302
    intervention.refresh_from_db()
    assert intervention.status == "done" and intervention.responsible_name == "Patient"


def test_follow_up_plan_is_written_and_shown(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/plan/follow-up/",
        {"version": "0", "follow_up_plan": "Call every Tuesday for a month, then monthly."},
    )
    assert response.status_code == 302
    assert CarePlan.objects.get().follow_up_plan == "Call every Tuesday for a month, then monthly."
    assert "Call every Tuesday for a month" in client.get(_plan_url(world)).content.decode()


# --- Versions, history and the audit log --------------------------------------------------


def test_every_change_raises_the_version_and_leaves_a_revision(world: World) -> None:
    actor = actor_for(world.user_a)
    goal = _goal(world)
    actions.record_confidence(actor, goal, rating=5, expected_version=1)
    barrier = actions.add_barrier(
        actor, world.patient_a, kind="cost", description="Copays", expected_version=2
    )
    actions.add_intervention(
        actor,
        world.patient_a,
        description="Apply for the copay assistance program",
        responsible_user=world.user_a,
        expected_version=3,
    )
    actions.set_follow_up_plan(actor, world.patient_a, text="Weekly calls", expected_version=4)
    actions.update_barrier(
        actor,
        barrier,
        expected_version=5,
        kind="cost",
        description="Copays",
        goal=goal,
        resolved=True,
    )
    actions.update_goal(
        actor,
        goal,
        expected_version=6,
        statement=goal.statement,
        domain=goal.domain,
        target_date=goal.target_date,
        status="met",
        achievement="achieved",
    )
    actions.record_success_story(actor, goal, story="She made it!", expected_version=7)

    plan = CarePlan.objects.get()
    assert plan.version == 8
    revisions = list(plan.revisions.order_by("version"))
    assert [r.version for r in revisions] == list(range(1, 9))
    assert all(r.by == world.user_a and r.by_organization == world.practice_a for r in revisions)
    last = revisions[-1].snapshot
    assert last["follow_up_plan"] == "Weekly calls"
    assert last["goals"][0]["status"] == "met"
    assert last["goals"][0]["confidence"][0]["rating"] == 5
    assert last["goals"][0]["success_story"] == "She made it!"
    assert last["barriers"][0]["resolved_on"] == _today().isoformat()
    assert last["interventions"][0]["responsible_user_id"] == world.user_a.pk
    writes = AuditEvent.objects.filter(
        patient_id=world.patient_a.pk, action__in=[AuditAction.CREATE, AuditAction.UPDATE]
    )
    assert writes.count() == 8


def test_history_lists_every_version_and_the_goal_progress(world: World) -> None:
    goal = _goal(world)
    actions.update_goal(
        actor_for(world.plan_user),
        goal,
        expected_version=1,
        statement=goal.statement,
        domain=goal.domain,
        target_date=goal.target_date,
        status="active",
        achievement="some_progress",
        note="Walked twice this week",
    )
    client = login(Client(), world.user_a)
    response = client.get(f"/care/patients/{world.patient_a.pk}/plan/history/")
    history = response.context["history"]
    assert [r.version for r in history.revisions] == [2, 1]
    assert history.revisions[0].by_organization == world.plan
    page = response.content.decode()
    assert "achievement Not started → Some progress" in page
    assert "Walked twice this week" in page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, detail__page="care plan history"
    ).exists()


# --- The plan page and who may change it --------------------------------------------------


def test_plan_page_groups_goals_and_shows_tasks_barriers_and_interventions(
    world: World,
) -> None:
    actor = actor_for(world.user_a)
    active = _goal(world, "I want to cook at home again")
    met = _goal(world, "I want to sleep through the night")
    stopped = _goal(world, "I want to lose 20 pounds")
    for goal, status in ((met, "met"), (stopped, "discontinued")):
        actions.update_goal(
            actor,
            goal,
            expected_version=_version(world),
            statement=goal.statement,
            domain=goal.domain,
            target_date=goal.target_date,
            status=status,
            achievement=goal.achievement,
        )
    task = f.make_task(world.practice_a, world.user_a, patient=world.patient_a, title="Book PT")
    task.goal = active
    task.save()

    client = login(Client(), world.user_a)
    response = client.get(_plan_url(world))
    view = response.context["view"]
    assert [g.goal for g in view.active_goals] == [active]
    assert [g.goal for g in view.met_goals] == [met]
    assert [g.goal for g in view.other_goals] == [stopped]
    page = response.content.decode()
    assert "Book PT" in page
    assert f"/care/tasks/new/?patient={world.patient_a.pk}&amp;goal={active.pk}" in page
    assert f"Version {_version(world)}" in page and "last changed by Test User" in page
    assert "Celebrate this win" in page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, detail__page="care plan"
    ).exists()


def test_a_patient_without_a_plan_shows_an_empty_plan_at_version_0(world: World) -> None:
    response = login(Client(), world.user_a).get(_plan_url(world))
    assert response.status_code == 200
    assert response.context["view"].version == 0
    assert "No care plan yet" in response.content.decode()


def test_read_only_role_reads_the_plan_without_edit_buttons_and_cannot_write(
    world: World,
) -> None:
    goal = _goal(world)
    facilitator = f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    client = login(Client(), facilitator)
    page = client.get(_plan_url(world)).content.decode()
    assert goal.statement in page
    assert "Add a goal" not in page and "Record</button>" not in page
    assert "may read this care plan but not change it" in page
    assert client.get(f"/care/patients/{world.patient_a.pk}/plan/goals/new/").status_code == 403
    refused = client.post(
        f"/care/goals/{goal.pk}/confidence/", {"version": str(_version(world)), "rating": "5"}
    )
    assert refused.status_code == 403
    with pytest.raises(PermissionDenied):
        actions.add_goal(actor_for(facilitator), world.patient_a, statement="Walk")
    assert not ConfidenceRating.objects.exists()


def test_partner_plan_staff_share_the_plan_and_other_practices_do_not(world: World) -> None:
    _goal(world)
    plan_client = login(Client(), world.plan_user)
    assert plan_client.get(_plan_url(world)).status_code == 200
    response = plan_client.post(
        f"/care/patients/{world.patient_a.pk}/plan/goals/new/",
        {"version": str(_version(world)), "statement": "Keep my own apartment", "domain": "social"},
    )
    assert response.status_code == 302
    assert Goal.objects.filter(created_by_organization=world.plan).exists()
    assert login(Client(), world.user_b).get(_plan_url(world)).status_code == 404


def test_profile_summary_counts_active_goals_and_latest_confidence(world: World) -> None:
    actor = actor_for(world.user_a)
    goal = _goal(world)
    _goal(world, "Take my pills every morning")
    actions.record_confidence(actor, goal, rating=7)
    view = care_plan_view(actor, world.patient_a)
    assert view.active_goals_count == 2
    assert view.latest_confidence is not None and view.latest_confidence.rating == 7
    assert view.version == 3


# --- Celebrating wins ---------------------------------------------------------------------


def test_success_story_waits_until_the_goal_is_met(world: World) -> None:
    goal = _goal(world)
    client = login(Client(), world.user_a)
    page = client.get(f"/care/goals/{goal.pk}/success-story/")
    assert page.status_code == 200 and "not met yet" in page.content.decode()
    refused = client.post(
        f"/care/goals/{goal.pk}/success-story/",
        {"version": str(_version(world)), "story": "Too early"},
    )
    assert "mark the goal met first" in refused.context["form"].errors["story"][0]
    assert not SuccessStory.objects.exists()


def test_met_goal_is_celebrated_shared_with_the_team_and_listed_as_a_win(world: World) -> None:
    actor = actor_for(world.user_a)
    goal = _goal(world)
    actions.update_goal(
        actor,
        goal,
        expected_version=_version(world),
        statement=goal.statement,
        domain=goal.domain,
        target_date=goal.target_date,
        status="met",
        achievement="achieved",
    )
    f.make_care_team_member(world.patient_a, world.plan, world.plan_user)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/goals/{goal.pk}/success-story/",
        {
            "version": str(_version(world)),
            "story": "Mrs. Alvarez walked to church with her sister for the first time in a year.",
            "share_at_team_meeting": "on",
        },
    )
    assert response.status_code == 302
    story = SuccessStory.objects.get(goal=goal)
    assert story.share_at_team_meeting and story.by_organization == world.practice_a
    notice = Notification.objects.get(user=world.plan_user, kind="care_plan_win")
    assert "Alvarez" not in notice.title and "Alvarez" in notice.body

    wins = login(Client(), world.plan_user).get("/care/wins/")
    assert "walked to church with her sister" in wins.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, username="p.cm"
    ).exists()
    assert (
        "walked to church" not in login(Client(), world.user_b).get("/care/wins/").content.decode()
    )


def test_wins_can_be_narrowed_to_those_for_the_team_meeting(world: World) -> None:
    actor = actor_for(world.user_a)
    for statement, share in (("Walk daily", True), ("Quit smoking", False)):
        goal = _goal(world, statement)
        actions.update_goal(
            actor,
            goal,
            expected_version=None,
            statement=goal.statement,
            domain=goal.domain,
            target_date=goal.target_date,
            status="met",
            achievement="achieved",
        )
        actions.record_success_story(
            actor, goal, story=f"Story of {statement}", share_at_team_meeting=share
        )
    client = login(Client(), world.user_a)
    every = client.get("/care/wins/").context["stories"]
    assert [s.story for s in every] == ["Story of Quit smoking", "Story of Walk daily"]
    shared = client.get("/care/wins/", {"share": "1"}).context["stories"]
    assert [s.story for s in shared] == ["Story of Walk daily"]


# --- The patient's printable copy ---------------------------------------------------------


def test_printable_plan_speaks_to_the_patient(world: World) -> None:
    actor = actor_for(world.user_a)
    goal = _goal(world, "I want to walk my granddaughter to school")
    actions.record_confidence(actor, goal, rating=6)
    actions.add_barrier(
        actor, world.patient_a, kind="transportation", description="The bus is slow", goal=goal
    )
    actions.add_intervention(
        actor,
        world.patient_a,
        description="Walk 10 minutes after lunch",
        goal=goal,
        responsible_name="Patient",
    )
    actions.add_intervention(
        actor,
        world.patient_a,
        description="Set up physical therapy",
        goal=goal,
        responsible_user=world.user_a,
    )
    actions.set_follow_up_plan(
        actor, world.patient_a, text="Nurse calls you next Tuesday.", expected_version=None
    )
    member = f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    member.phone = "6175550142"
    member.save()

    response = login(Client(), world.user_a).get(f"/care/patients/{world.patient_a.pk}/plan/print/")
    page = response.content.decode()
    assert "My Health Action Plan" in page
    assert "“I want to walk my granddaughter to school”" in page
    assert "6 out of 10" in page
    plan = response.context["plan"]
    assert [r.intervention.description for r in plan.goals[0].i_will] == [
        "Walk 10 minutes after lunch"
    ]
    assert [r.intervention.description for r in plan.goals[0].team_will] == [
        "Set up physical therapy"
    ]
    assert "What might get in the way" in page and "The bus is slow" in page
    assert "(617) 555-0142" in page
    assert "Nurse calls you next Tuesday." in page
    assert "data-print-page" in page
    for jargon in ("risk", "Risk", "Version", "achievement"):
        assert jargon not in page.split('<div class="hap-print">')[1]
    assert "<script>" not in page and 'style="' not in page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, detail__page="printable care plan"
    ).exists()


def test_printable_plan_without_a_lead_names_the_care_team_to_call(world: World) -> None:
    _goal(world)
    page = (
        login(Client(), world.user_a)
        .get(f"/care/patients/{world.patient_a.pk}/plan/print/")
        .content.decode()
    )
    assert "Practice A" in page and "(617) 555-0100" in page
