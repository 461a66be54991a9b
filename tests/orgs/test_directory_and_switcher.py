from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from caseboard.orgs.models import Membership, Role
from tests import factories
from tests.conftest import World, login


def test_directory_lists_both_sides_with_position_email_and_phone(world: World) -> None:
    Membership.objects.filter(user=world.plan_user).update(
        position="RN Case Manager", phone="(617) 555-0199"
    )
    page = (
        login(Client(), world.user_a)
        .get(f"/partnerships/{world.partnership_a.pk}/directory/")
        .content.decode()
    )
    assert "Test User" in page and "t@example.org" in page
    assert "RN Case Manager" in page and "(617) 555-0199" in page
    assert "Plan P" in page and "Practice A" in page
    assert "Practice B" not in page  # the plan's other partner is not on this team


def test_api_directory(world: World) -> None:
    rows = (
        login(Client(), world.plan_user)
        .get(f"/api/partnerships/{world.partnership_b.pk}/directory")
        .json()
    )
    assert {r["organization"] for r in rows} == {"Plan P", "Practice B"}


def test_switching_organization_changes_what_the_user_sees(world: World) -> None:
    Membership.objects.create(
        user=world.user_a, organization=world.practice_b, role=Role.PRACTICE_FACILITATOR
    )
    client = login(Client(), world.user_a)
    assert client.get(f"/patients/{world.patient_b.pk}/").status_code == 404
    client.post("/partnerships/switch/", {"organization": world.practice_b.pk, "next": "/"})
    assert client.get(f"/patients/{world.patient_b.pk}/").status_code == 200
    assert client.get(f"/patients/{world.patient_a.pk}/").status_code == 404
    assert client.get("/api/me").json()["active_organization"]["name"] == "Practice B"


def test_cannot_switch_to_an_organization_without_membership(world: World) -> None:
    client = login(Client(), world.user_a)
    client.post("/partnerships/switch/", {"organization": world.practice_b.pk})
    assert client.get("/api/me").json()["active_organization"]["name"] == "Practice A"


def test_switch_never_redirects_off_site(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.post(
        "/partnerships/switch/",
        {"organization": world.practice_a.pk, "next": "https://evil.example"},
    )
    assert response["Location"] == "/"


def test_user_without_organization_is_refused(db: None) -> None:
    user = User.objects.create_user("loner", password=factories.PASSWORD)
    client = login(Client(), user)
    assert client.get("/").status_code == 403
