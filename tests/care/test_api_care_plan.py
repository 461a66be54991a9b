"""The care plan over the JSON API: same actions, access policy and audit as the pages."""

from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions import careplan as actions
from caseboard.care.models import Barrier, CarePlan, ConfidenceRating, Goal
from caseboard.orgs.models import Role
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for


def _soon() -> str:
    return (timezone.localdate() + datetime.timedelta(days=45)).isoformat()


def _plan_url(world: World) -> str:
    return f"/api/patients/{world.patient_a.pk}/care-plan"


def test_a_patient_without_a_plan_reads_as_version_0(world: World) -> None:
    data = login(Client(), world.user_a).get(_plan_url(world)).json()
    assert data["version"] == 0 and data["goals"] == [] and data["follow_up_plan"] == ""


def test_goal_confidence_and_barrier_are_added_and_read_back(world: World) -> None:
    client = login(Client(), world.user_a)
    added = client.post(
        f"{_plan_url(world)}/goals",
        {
            "version": 0,
            "statement": "I want to cook at home again",
            "domain": "functioning",
            "target_date": _soon(),
            "confidence": 3,
        },
        content_type="application/json",
    )
    assert added.status_code == 201
    goal = added.json()
    assert goal["care_plan_version"] == 1 and goal["confidence"][0]["rating"] == 3

    rated = client.post(
        f"/api/goals/{goal['id']}/confidence",
        {"rating": 6, "note": "shopping helped"},
        content_type="application/json",
    )
    assert rated.status_code == 201
    assert [r["rating"] for r in rated.json()["confidence"]] == [3, 6]

    barrier = client.post(
        f"{_plan_url(world)}/barriers",
        {
            "version": 2,
            "kind": "food",
            "description": "No grocery store nearby",
            "goal_id": goal["id"],
        },
        content_type="application/json",
    )
    assert barrier.status_code == 201 and barrier.json()["care_plan_version"] == 3

    plan = client.get(_plan_url(world)).json()
    assert plan["version"] == 3 and plan["updated_by"] == "Test User (Practice A)"
    assert plan["goals"][0]["statement"] == "I want to cook at home again"
    assert [c["rating"] for c in plan["goals"][0]["confidence"]] == [3, 6]
    assert plan["barriers"][0]["goal_id"] == goal["id"]
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, detail__page="api care plan"
    ).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="care.confidencerating"
    ).exists()


def test_plan_lists_interventions_with_who_is_responsible(world: World) -> None:
    actions.add_intervention(
        actor_for(world.user_a),
        world.patient_a,
        description="Drive her to the Tuesday appointments",
        responsible_name="Daughter Rosa",
    )
    plan = login(Client(), world.plan_user).get(_plan_url(world)).json()
    assert plan["interventions"][0]["responsible"] == "Daughter Rosa"
    assert plan["interventions"][0]["status"] == "planned"


def test_goal_is_patched_field_by_field(world: World) -> None:
    goal = actions.add_goal(
        actor_for(world.user_a), world.patient_a, statement="Walk daily", target_date=None
    )
    client = login(Client(), world.user_a)
    patched = client.patch(
        f"/api/goals/{goal.pk}",
        {"version": 1, "status": "met", "note": "Every day this week"},
        content_type="application/json",
    )
    body = patched.json()
    assert patched.status_code == 200
    assert (body["status"], body["achievement"], body["statement"]) == (
        "met",
        "achieved",
        "Walk daily",
    )
    assert body["met_on"] == timezone.localdate().isoformat()
    assert body["progress"][0]["note"] == "Every day this week"
    assert client.get(f"/api/goals/{goal.pk}").json()["care_plan_version"] == 2


def test_bad_input_is_a_400_with_the_reason_and_saves_nothing(world: World) -> None:
    client = login(Client(), world.user_a)
    no_version = client.post(
        f"{_plan_url(world)}/goals", {"statement": "Walk"}, content_type="application/json"
    )
    assert no_version.status_code == 400 and "version" in no_version.json()["detail"]
    past = client.post(
        f"{_plan_url(world)}/goals",
        {"version": 0, "statement": "Walk", "target_date": "2020-01-01"},
        content_type="application/json",
    )
    assert past.status_code == 400 and "in the past" in past.json()["detail"]
    assert past.json()["field"] == "target_date"
    assert not Goal.objects.exists() and not CarePlan.objects.exists()

    goal = actions.add_goal(actor_for(world.user_a), world.patient_a, statement="Walk")
    too_high = client.post(
        f"/api/goals/{goal.pk}/confidence", {"rating": 12}, content_type="application/json"
    )
    assert too_high.status_code == 400
    assert "from 0 (not at all sure) to 10 (completely sure)" in too_high.json()["detail"]
    assert not ConfidenceRating.objects.exists()


def test_barrier_cannot_point_at_another_patients_goal(world: World) -> None:
    other = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Ortiz")
    goal = actions.add_goal(actor_for(world.user_a), other, statement="Walk")
    response = login(Client(), world.user_a).post(
        f"{_plan_url(world)}/barriers",
        {"kind": "cost", "description": "Copays", "goal_id": goal.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "another patient" in response.json()["detail"]
    assert not Barrier.objects.exists()


def test_other_practices_get_404_and_read_only_roles_403(world: World) -> None:
    goal = actions.add_goal(actor_for(world.user_a), world.patient_a, statement="Walk")
    outsider = login(Client(), world.user_b)
    assert outsider.get(_plan_url(world)).status_code == 404
    assert outsider.get(f"/api/goals/{goal.pk}").status_code == 404
    assert (
        outsider.patch(
            f"/api/goals/{goal.pk}",
            {"version": 1, "status": "met"},
            content_type="application/json",
        ).status_code
        == 404
    )
    reader = login(Client(), f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR))
    assert reader.get(_plan_url(world)).status_code == 200
    refused = reader.post(
        f"/api/goals/{goal.pk}/confidence", {"rating": 5}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert not ConfidenceRating.objects.exists()


def test_openapi_documents_the_request_bodies(world: World) -> None:
    schema = login(Client(), world.user_a).get("/api/openapi.json").json()
    operation = schema["paths"]["/api/patients/{patient_id}/care-plan/goals"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "version" in body["required"] and "statement" in body["properties"]
    assert "care plan" in operation["tags"]
    assert "patch" in schema["paths"]["/api/goals/{goal_id}"]
