from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.care_team import add_care_team_member, end_care_team_member
from caseboard.care.errors import CareError
from caseboard.care.models import CareTeamMember, Notification
from caseboard.orgs.models import Membership, Role
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for


def test_staff_of_the_organization_join_with_their_role(world: World) -> None:
    chw = f.make_user(world.practice_a, Role.COMMUNITY_HEALTH_WORKER)
    Membership.objects.filter(user=chw).update(phone="617-555-0142")
    member = add_care_team_member(actor_for(world.user_a), world.patient_a, user=chw)
    assert (member.organization, member.role) == (world.practice_a, Role.COMMUNITY_HEALTH_WORKER)
    assert member.phone == "(617) 555-0142"
    assert member.started_on == timezone.localdate()
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, patient_id=world.patient_a.pk, object_id=str(member.pk)
    ).exists()
    note = Notification.objects.get(user=chw, kind="care_team_added")
    assert world.patient_a.family_name not in note.title


def test_a_plan_adds_its_own_and_the_serving_practices_staff(world: World) -> None:
    practice_coordinator = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    actor = actor_for(world.plan_user)
    member = add_care_team_member(
        actor,
        world.patient_a,
        user=practice_coordinator,
        organization=world.practice_a,
        role=Role.DEDICATED_CARE_COORDINATOR,
    )
    assert member.role == Role.DEDICATED_CARE_COORDINATOR
    # Practice B is the plan's partner too, but does not serve this patient.
    with pytest.raises(CareError, match="Practice B does not serve this patient"):
        add_care_team_member(
            actor, world.patient_a, user=world.user_b, organization=world.practice_b
        )


def test_someone_outside_caseboard_needs_a_name_and_who_they_are(world: World) -> None:
    actor = actor_for(world.user_a)
    with pytest.raises(CareError, match="Say who they are") as refused:
        add_care_team_member(actor, world.patient_a, name="Rosa Alvarez")
    assert refused.value.field == "role_description"
    with pytest.raises(CareError, match="phone number"):
        add_care_team_member(
            actor, world.patient_a, name="Rosa", role_description="Daughter", phone="call her"
        )
    daughter = add_care_team_member(
        actor,
        world.patient_a,
        name="Rosa Alvarez",
        role_description="Daughter and caregiver",
        phone="6175550177",
    )
    assert (daughter.user, daughter.organization, daughter.phone) == (None, None, "(617) 555-0177")


def test_a_person_is_on_the_team_once(world: World) -> None:
    actor = actor_for(world.user_a)
    add_care_team_member(actor, world.patient_a, user=world.user_a)
    with pytest.raises(CareError, match="already on the care team"):
        add_care_team_member(actor, world.patient_a, user=world.user_a)


def test_one_lead_per_patient(world: World) -> None:
    actor = actor_for(world.user_a)
    first = add_care_team_member(actor, world.patient_a, user=world.user_a, is_lead=True)
    second = add_care_team_member(
        actor, world.patient_a, user=world.plan_user, organization=world.plan, is_lead=True
    )
    first.refresh_from_db()
    assert (first.is_lead, second.is_lead) == (False, True)


def test_ending_a_membership_keeps_its_dates(world: World) -> None:
    member = f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    ended = end_care_team_member(actor_for(world.user_a), member)
    assert ended.ended_on == timezone.localdate() and not ended.is_lead
    with pytest.raises(CareError, match="left the care team"):
        end_care_team_member(actor_for(world.user_a), member)
    # They may rejoin later.
    add_care_team_member(actor_for(world.user_a), world.patient_a, user=world.user_a)


# --- Pages --------------------------------------------------------------------------------


def test_team_page_shows_members_and_the_roles_of_seed_table_1(world: World) -> None:
    f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    f.make_care_team_member(world.patient_b, world.practice_b, world.user_b)
    pharmacist = f.make_user(world.practice_a, Role.CLINICAL_PHARMACIST)
    response = login(Client(), world.plan_user).get(f"/care/patients/{world.patient_a.pk}/team/")
    html = response.content.decode()
    assert [m.user for m in response.context["current"]] == [world.user_a]
    assert "Dedicated care coordinator (required)" in html and "Housing navigator" in html
    # The plan may add its own staff and practice A's, not practice B's.
    candidates = response.context["form"].candidates.values()
    assert {m.organization for m in candidates} == {world.plan, world.practice_a}
    # Those already on the team are not offered again.
    assert {m.user for m in candidates} == {world.plan_user, pharmacist}


def test_team_page_adds_a_partner_staff_member(world: World) -> None:
    client = login(Client(), world.user_a)
    page = client.get(f"/care/patients/{world.patient_a.pk}/team/")
    membership = Membership.objects.get(user=world.plan_user, organization=world.plan)
    assert str(membership.pk) in page.context["form"].candidates
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/team/",
        {"member": str(membership.pk), "role": "", "is_lead": "on"},
    )
    assert response.status_code == 302
    member = CareTeamMember.objects.get(patient=world.patient_a)
    assert (member.user, member.organization, member.role, member.is_lead) == (
        world.plan_user,
        world.plan,
        Role.CASE_MANAGER,
        True,
    )


def test_team_page_explains_a_missing_person(world: World) -> None:
    response = login(Client(), world.user_a).post(
        f"/care/patients/{world.patient_a.pk}/team/", {"member": "", "name": ""}
    )
    assert response.status_code == 400
    assert "Choose a staff member, or give the name" in response.content.decode()
    assert not CareTeamMember.objects.exists()


def test_ending_and_leading_from_the_page(world: World) -> None:
    member = f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    daughter = add_care_team_member(
        actor_for(world.user_a), world.patient_a, name="Rosa", role_description="Daughter"
    )
    client = login(Client(), world.user_a)
    assert client.post(f"/care/team-members/{daughter.pk}/lead/").status_code == 302
    member.refresh_from_db()
    daughter.refresh_from_db()
    assert (member.is_lead, daughter.is_lead) == (False, True)
    response = client.post(f"/care/team-members/{member.pk}/end/")
    assert response.status_code == 302
    assert response["Location"] == f"/care/patients/{world.patient_a.pk}/team/"
    member.refresh_from_db()
    assert member.ended_on == timezone.localdate()
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(member.pk)).exists()
    assert client.get(f"/care/team-members/{member.pk}/end/").status_code == 405


def test_another_practice_cannot_end_a_membership(world: World) -> None:
    member = f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    response = login(Client(), world.user_b).post(f"/care/team-members/{member.pk}/end/")
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.ended_on is None
