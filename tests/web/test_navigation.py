"""The main menu and the patient profile lead to the care-management pages."""

from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from caseboard.orgs.models import OrganizationKind, Role
from tests import factories
from tests.conftest import World, login


def test_care_manager_menu_links_registry_tasks_referrals_and_counts_overdue(
    world: World,
) -> None:
    today = timezone.localdate()
    factories.make_task(
        world.practice_a,
        world.user_a,
        patient=world.patient_a,
        due_on=today - datetime.timedelta(days=3),
    )
    page = login(Client(), world.user_a).get("/").content.decode()
    for path in ("/care/registry/", "/care/tasks/", "/care/referrals/", "/care/resources/"):
        assert f'href="{path}"' in page
    assert '<span class="badge bad" title="Overdue">1</span>' in page


def test_community_organization_menu_has_referrals_but_no_panel(world: World) -> None:
    cbo = factories.make_org(OrganizationKind.CBO, "Food Pantry")
    user = factories.make_user(cbo, Role.ORG_ADMIN)
    page = login(Client(), user).get("/care/referrals/").content.decode()
    assert 'href="/care/referrals/"' in page
    assert 'href="/patients/"' not in page
    assert 'href="/care/registry/"' not in page


def test_profile_shows_enrollment_time_and_goals_with_links(world: World) -> None:
    enrollment = factories.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    factories.make_goal(world.patient_a, world.user_a, world.practice_a, "Walk to church")
    page = login(Client(), world.user_a).get(f"/patients/{world.patient_a.pk}/").content.decode()
    assert f'href="/care/enrollments/{enrollment.pk}/"' in page
    assert "Practice care management" in page
    assert "“Walk to church”" in page
    assert f'href="/care/patients/{world.patient_a.pk}/plan/"' in page
    assert f'href="/care/patients/{world.patient_a.pk}/screenings/"' in page


def test_practice_b_profile_shows_nothing_of_practice_a_care(world: World) -> None:
    factories.make_goal(world.patient_b, world.user_b, world.practice_b, "Secret goal of B")
    page = login(Client(), world.user_a).get(f"/patients/{world.patient_b.pk}/")
    assert page.status_code == 404
    assert b"Secret goal of B" not in page.content
