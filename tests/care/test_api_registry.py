from __future__ import annotations

import datetime
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.interactions import log_interaction
from caseboard.care.models import Enrollment, Interaction
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_registry_api_matches_the_page_filters(world: World) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    other = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Zimmer")
    f.make_enrollment(other, world.practice_a, world.user_a, program="hhp")
    client = login(Client(), world.user_a)
    everyone = client.get("/api/care/registry").json()
    assert [r["family_name"] for r in everyone] == ["Alvarez", "Zimmer"]
    assert everyone[0]["ccm_codes"] == [] and everyone[0]["no_recent_contact"] is True
    hhp = client.get("/api/care/registry", {"program": "hhp", "sort": "-patient"}).json()
    assert [r["family_name"] for r in hhp] == ["Zimmer"]
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, patient_id=other.pk).exists()
    bad = client.get("/api/care/registry", {"sort": "password"})
    assert bad.status_code == 400 and "Sort by one of" in bad.json()["detail"]


def test_enrollments_api_lists_and_creates(world: World) -> None:
    client = login(Client(), world.user_a)
    created = post(
        client,
        f"/api/patients/{world.patient_a.pk}/enrollments",
        {
            "program": "practice_cm",
            "acuity": "high",
            "care_manager_id": world.user_a.pk,
            "status": "enrolled",
            "reason": "Conference decision: practice leads",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["lead_organization"], body["care_manager"]) == (
        "enrolled",
        "Practice A",
        "Test User",
    )
    assert body["transitions"][0]["reason"] == "Conference decision: practice leads"
    listed = client.get(f"/api/patients/{world.patient_a.pk}/enrollments").json()
    assert [e["id"] for e in listed] == [body["id"]]
    again = post(
        client,
        f"/api/patients/{world.patient_a.pk}/enrollments",
        {"program": "practice_cm"},
    )
    assert again.status_code == 400
    assert "already has an open" in again.json()["detail"]


def test_enrollments_api_refuses_a_care_manager_of_another_organization(world: World) -> None:
    response = post(
        login(Client(), world.user_a),
        f"/api/patients/{world.patient_a.pk}/enrollments",
        {"program": "hhp", "care_manager_id": world.user_b.pk},
    )
    assert response.status_code == 400
    detail = response.json()
    assert detail["field"] == "care_manager_id"
    # The other organization's staff member is not named.
    assert world.user_b.username not in detail["detail"]
    assert not Enrollment.objects.exists()


def test_enrollments_api_hides_other_organizations_patients(world: World) -> None:
    client = login(Client(), world.user_a)
    assert client.get(f"/api/patients/{world.patient_b.pk}/enrollments").status_code == 404
    response = post(client, f"/api/patients/{world.patient_b.pk}/enrollments", {"program": "hhp"})
    assert response.status_code == 404


def test_transition_api(world: World) -> None:
    enrollment = f.make_enrollment(
        world.patient_a, world.practice_a, world.user_a, on=TODAY - datetime.timedelta(days=40)
    )
    client = login(Client(), world.user_a)
    url = f"/api/enrollments/{enrollment.pk}/transitions"
    refused = post(client, url, {"to_status": "identified", "reason": "oops"})
    assert refused.status_code == 400
    message = refused.json()["detail"]
    assert "from enrolled (active) to identified" in message
    empty = client.post(url, "", content_type="application/json")
    assert empty.status_code == 400 and "to_status" in empty.json()["detail"]
    moved = post(
        client,
        url,
        {"to_status": "graduated", "reason": "Goals met", "effective_on": str(YESTERDAY)},
    )
    assert moved.status_code == 200
    assert moved.json()["ended_on"] == str(YESTERDAY)
    plan = post(login(Client(), world.plan_user), url, {"to_status": "monitor", "reason": "x"})
    assert plan.status_code == 403
    other = post(login(Client(), world.user_b), url, {"to_status": "monitor", "reason": "x"})
    assert other.status_code == 404


def test_interactions_api(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    client = login(Client(), world.user_a)
    url = f"/api/patients/{world.patient_a.pk}/interactions"
    created = post(
        client,
        url,
        {
            "kind": "phone",
            "minutes": 18,
            "occurred_at": f"{YESTERDAY}T23:30:00",
            "direction": "outbound",
            "reached": True,
            "enrollment_id": enrollment.pk,
        },
    )
    assert created.status_code == 201
    saved = Interaction.objects.get()
    # No offset given: the organization's clock.
    assert saved.occurred_at == datetime.datetime.combine(
        YESTERDAY, datetime.time(23, 30), tzinfo=ZoneInfo("America/New_York")
    )
    assert saved.enrollment == enrollment and saved.staff == world.user_a
    log_interaction(
        actor_for(world.plan_user),
        world.patient_a,
        kind="text",
        minutes=3,
        occurred_at=timezone.now(),
    )
    listed = client.get(url).json()
    assert [(i["kind"], i["organization"]) for i in listed] == [
        ("text", "Plan P"),
        ("phone", "Practice A"),
    ]
    too_long = post(
        client, url, {"kind": "phone", "minutes": 601, "occurred_at": f"{YESTERDAY}T10:00:00"}
    )
    assert too_long.status_code == 422
    future = post(
        client, url, {"kind": "phone", "minutes": 5, "occurred_at": "2099-01-01T10:00:00-05:00"}
    )
    assert future.status_code == 400
    assert "in the future" in future.json()["detail"]
    assert Interaction.objects.count() == 2
    assert client.get(f"/api/patients/{world.patient_b.pk}/interactions").status_code == 404


def test_care_team_api(world: World) -> None:
    f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    client = login(Client(), world.plan_user)
    [member] = client.get(f"/api/patients/{world.patient_a.pk}/care-team").json()
    assert (member["organization"], member["is_lead"], member["role"]) == (
        "Practice A",
        True,
        "clinical_care_manager",
    )
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, username="p.cm"
    ).exists()
    assert (
        login(Client(), world.user_b)
        .get(f"/api/patients/{world.patient_a.pk}/care-team")
        .status_code
        == 404
    )
