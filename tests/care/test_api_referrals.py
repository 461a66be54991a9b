"""Screening, the directory and referrals over the JSON API."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.models import Referral, Screening, Task
from caseboard.orgs.models import OrganizationKind, Role
from tests import factories as f
from tests.conftest import World, login


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def phq9(**changes: int) -> dict[str, int]:
    return {**{f"q{n}": 1 for n in range(1, 10)}, **changes}


# --- Screening ---------------------------------------------------------------------------------


def test_posting_answers_returns_the_scored_result(world: World) -> None:
    client = login(Client(), world.user_a)
    response = post(
        client,
        f"/api/patients/{world.patient_a.pk}/screenings",
        {"instrument": "phq9", "answers": phq9(q1=3, q2=3), "administered_on": "2026-01-05"},
    )
    assert response.status_code == 201
    data = response.json()
    assert data["score"] == 13
    assert data["max_score"] == 27
    assert data["positive"] is True
    assert data["safety_flag"] is True
    assert data["administered_on"] == "2026-01-05"
    assert data["suggestions"][0]["category"] == "behavioral_health"
    assert Task.objects.filter(patient=world.patient_a, priority="high").exists()


def test_an_invalid_answer_is_400_naming_the_item(world: World) -> None:
    client = login(Client(), world.user_a)
    url = f"/api/patients/{world.patient_a.pk}/screenings"
    answers = phq9()
    del answers["q7"]
    missing = post(client, url, {"instrument": "phq9", "answers": answers})
    assert missing.status_code == 400
    assert missing.json()["field"] == "q7"
    assert "item 7" in missing.json()["detail"]
    wrong = post(client, url, {"instrument": "gad7", "answers": {f"q{n}": 4 for n in range(1, 8)}})
    assert (wrong.status_code, wrong.json()["field"]) == (400, "q1")
    unknown = post(client, url, {"instrument": "phq-9", "answers": {}})
    assert (unknown.status_code, unknown.json()["field"]) == (400, "instrument")
    assert not Screening.objects.exists()


def test_listing_screenings_is_scoped_and_audited(world: World) -> None:
    client = login(Client(), world.user_a)
    post(
        client,
        f"/api/patients/{world.patient_a.pk}/screenings",
        {"instrument": "phq2", "answers": {"q1": 2, "q2": 2}},
    )
    listed = client.get(f"/api/patients/{world.patient_a.pk}/screenings").json()
    assert [(s["instrument"], s["score"], s["positive"]) for s in listed] == [("phq2", 4, True)]
    assert listed[0]["suggestions"][0]["instrument"] == "phq9"
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, path__startswith="/api/"
    ).exists()
    other = login(Client(), world.user_b)
    assert other.get(f"/api/patients/{world.patient_a.pk}/screenings").status_code == 404
    assert (
        post(
            other,
            f"/api/patients/{world.patient_a.pk}/screenings",
            {"instrument": "phq2", "answers": {"q1": 0, "q2": 0}},
        ).status_code
        == 404
    )


# --- Directory ---------------------------------------------------------------------------------


def test_resources_search_by_words_and_category(world: World) -> None:
    f.make_resource(world.plan, name="Food pantry")
    f.make_resource(world.plan, name="Shelter line", categories=("housing",))
    f.make_resource(world.plan_q, name="Plan Q pantry")
    client = login(Client(), world.user_a)
    assert [r["name"] for r in client.get("/api/resources").json()] == [
        "Food pantry",
        "Shelter line",
    ]
    housing = client.get("/api/resources", {"category": "housing"}).json()
    assert [r["name"] for r in housing] == ["Shelter line"]
    assert [r["name"] for r in client.get("/api/resources", {"q": "pantry"}).json()] == [
        "Food pantry"
    ]


# --- Referrals ---------------------------------------------------------------------------------


def test_refer_then_close_the_loop_over_the_api(world: World) -> None:
    resource = f.make_resource(world.plan)
    client = login(Client(), world.user_a)
    created = post(
        client,
        f"/api/patients/{world.patient_a.pk}/referrals",
        {"resource_id": resource.pk, "category": "food", "reason": "Food insecurity"},
    )
    assert created.status_code == 201
    referral = created.json()
    assert referral["status"] == "sent"
    assert referral["patient"]["id"] == world.patient_a.pk
    assert referral["next_statuses"] == ["accepted", "declined", "cancelled"]
    url = f"/api/referrals/{referral['id']}/updates"
    no_outcome = post(client, url, {"status": "declined"})
    assert (no_outcome.status_code, no_outcome.json()["field"]) == (400, "outcome")
    accepted = post(client, url, {"status": "accepted", "expected_status": "sent"})
    assert accepted.json()["status"] == "accepted"
    stale = post(
        client, url, {"status": "cancelled", "outcome": "not_met", "expected_status": "sent"}
    )
    assert stale.status_code == 409
    done = post(client, url, {"status": "completed", "outcome": "need_met", "note": "Groceries"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["outcome"]) == ("completed", "need_met")
    assert done.json()["closed_at"] is not None
    timeline = client.get(url).json()
    assert [u["status"] for u in timeline] == ["sent", "accepted", "completed"]
    assert timeline[2]["note"] == "Reported by phone by Greater Boston Food Bank: Groceries"
    assert [r["id"] for r in client.get("/api/referrals", {"status": "all"}).json()] == [
        referral["id"]
    ]
    assert client.get("/api/referrals").json() == []
    mine = client.get(f"/api/patients/{world.patient_a.pk}/referrals").json()
    assert [r["status"] for r in mine] == ["completed"]


def test_a_referral_to_another_plans_program_is_404(world: World) -> None:
    resource = f.make_resource(world.plan_q)
    response = post(
        login(Client(), world.user_a),
        f"/api/patients/{world.patient_a.pk}/referrals",
        {"resource_id": resource.pk, "category": "food", "reason": "Food"},
    )
    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_a_wrong_category_is_400(world: World) -> None:
    resource = f.make_resource(world.plan, categories=("housing",))
    response = post(
        login(Client(), world.user_a),
        f"/api/patients/{world.patient_a.pk}/referrals",
        {"resource_id": resource.pk, "category": "food", "reason": "Food"},
    )
    assert (response.status_code, response.json()["field"]) == (400, "category")


def test_a_community_organization_gets_its_referrals_without_chart_ids(world: World) -> None:
    cbo = f.make_org(OrganizationKind.CBO, "Pantry CBO")
    worker = f.make_user(cbo, Role.CARE_COORDINATOR)
    resource = f.make_resource(world.plan, receiving=cbo)
    referral = f.make_referral(world.patient_a, resource, world.practice_a, world.user_a)
    f.make_referral(world.patient_b, f.make_resource(world.plan), world.practice_b, world.user_b)
    client = login(Client(), worker)
    listed = client.get("/api/referrals").json()
    assert len(listed) == 1
    assert listed[0]["patient"] == {"id": None, "name": "Maria Alvarez", "phone": "(617) 555-0123"}
    assert listed[0]["screening_id"] is None
    assert listed[0]["next_statuses"] == ["accepted", "declined"]
    cancelled = post(
        client,
        f"/api/referrals/{referral.pk}/updates",
        {"status": "cancelled", "outcome": "not_met"},
    )
    assert cancelled.status_code == 400
    accepted = post(client, f"/api/referrals/{referral.pk}/updates", {"status": "accepted"})
    assert accepted.json()["status"] == "accepted"


def test_other_organizations_referrals_are_404_and_partners_403_on_update(world: World) -> None:
    referral = f.make_referral(
        world.patient_a, f.make_resource(world.plan), world.practice_a, world.user_a
    )
    b = login(Client(), world.user_b)
    assert b.get(f"/api/referrals/{referral.pk}/updates").status_code == 404
    assert (
        post(b, f"/api/referrals/{referral.pk}/updates", {"status": "accepted"}).status_code == 404
    )
    plan = login(Client(), world.plan_user)
    assert plan.get(f"/api/referrals/{referral.pk}/updates").status_code == 200
    assert (
        post(plan, f"/api/referrals/{referral.pk}/updates", {"status": "accepted"}).status_code
        == 403
    )


def test_a_malformed_body_is_400_naming_the_field_after_the_access_check(world: World) -> None:
    client = login(Client(), world.user_a)
    empty = post(client, f"/api/patients/{world.patient_a.pk}/screenings", {})
    assert (empty.status_code, empty.json()["field"]) == (400, "instrument")
    referral = f.make_referral(
        world.patient_a, f.make_resource(world.plan), world.practice_a, world.user_a
    )
    no_status = post(client, f"/api/referrals/{referral.pk}/updates", {"note": "x"})
    assert (no_status.status_code, no_status.json()["field"]) == (400, "status")
    # About another organization's patient, the body is never read.
    assert post(client, f"/api/patients/{world.patient_b.pk}/screenings", {}).status_code == 404
