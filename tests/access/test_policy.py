from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from caseboard import access
from caseboard.orgs.models import Membership, OrganizationKind, Role
from caseboard.patients.models import CoverageSpan, IdentifierKind, PatientIdentifier
from tests import factories
from tests.conftest import World


def test_practice_sees_only_patients_attributed_to_it(world: World) -> None:
    actor = factories.actor_for(world.user_a)
    assert list(access.visible_patients(actor)) == [world.patient_a]


def test_plan_sees_its_members_across_its_partnerships_but_not_another_plans(world: World) -> None:
    actor = factories.actor_for(world.plan_user)
    assert set(access.visible_patients(actor)) == {world.patient_a, world.patient_b}


def test_missing_and_forbidden_patients_raise_the_same_404(world: World) -> None:
    actor = factories.actor_for(world.user_a)
    with pytest.raises(Http404) as forbidden:
        access.get_patient_for_user(actor, world.patient_b.pk)
    with pytest.raises(Http404) as missing:
        access.get_patient_for_user(actor, 999_999)
    assert str(forbidden.value) == str(missing.value)


def test_ended_attribution_hides_the_patient_from_the_practice(world: World) -> None:
    gone = factories.make_patient(
        plan=world.plan, practice=world.practice_a, attribution_end=datetime.date(2021, 1, 1)
    )
    actor = factories.actor_for(world.user_a)
    assert gone not in access.visible_patients(actor)
    assert gone in access.visible_patients(factories.actor_for(world.plan_user))


def test_plan_keeps_seeing_a_member_whose_coverage_ended(world: World) -> None:
    lapsed = factories.make_patient(plan=world.plan, coverage_end=datetime.date(2022, 6, 30))
    assert lapsed in access.visible_patients(factories.actor_for(world.plan_user))


def test_practice_sees_identifiers_only_from_partners(world: World) -> None:
    # Patient A is also a member of plan Q, which is not practice A's partner.
    CoverageSpan.objects.create(
        patient=world.patient_a, plan=world.plan_q, start_date=datetime.date(2020, 1, 1)
    )
    PatientIdentifier.objects.create(
        patient=world.patient_a,
        organization=world.plan_q,
        kind=IdentifierKind.MEMBER_ID,
        value="QSECRET",
    )
    actor = factories.actor_for(world.user_a)
    values = {i.value for i in access.visible_identifiers(actor, world.patient_a)}
    assert "QSECRET" not in values
    assert len(values) == 2  # plan P's member ID and practice A's own MRN
    plans = {c.plan for c in access.visible_coverage(actor, world.patient_a)}
    assert plans == {world.plan}


def test_plan_does_not_see_a_non_partner_practices_mrn(world: World) -> None:
    outsider = factories.make_org(OrganizationKind.PRACTICE, "Outside Practice")
    patient = factories.make_patient(plan=world.plan, practice=outsider, mrn="OUT-1")
    actor = factories.actor_for(world.plan_user)
    assert "OUT-1" not in {i.value for i in access.visible_identifiers(actor, patient)}


def test_community_organization_sees_no_patients(world: World) -> None:
    cbo = factories.make_org(OrganizationKind.CBO)
    user = factories.make_user(cbo, Role.ORG_ADMIN)
    assert not access.visible_patients(factories.actor_for(user)).exists()


def test_ended_partnership_stops_sharing(world: World) -> None:
    world.partnership_a.ended_on = datetime.date(2021, 1, 1)
    world.partnership_a.save()
    actor = factories.actor_for(world.user_a)
    assert world.plan.pk not in access.sharing_organization_ids(actor)
    assert (
        not access.visible_identifiers(actor, world.patient_a)
        .filter(organization=world.plan)
        .exists()
    )


def test_read_only_role_may_read_but_not_edit(world: World) -> None:
    facilitator = factories.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    actor = factories.actor_for(facilitator)
    assert access.get_patient_for_user(actor, world.patient_a.pk) == world.patient_a
    with pytest.raises(PermissionDenied):
        access.get_patient_for_editor(actor, world.patient_a.pk)


def test_user_in_two_organizations_acts_for_the_chosen_one(world: World) -> None:
    Membership.objects.create(
        user=world.user_a, organization=world.practice_b, role=Role.CARE_COORDINATOR
    )
    as_a = access.Actor.for_user(world.user_a, world.practice_a.pk)
    as_b = access.Actor.for_user(world.user_a, world.practice_b.pk)
    assert list(access.visible_patients(as_a)) == [world.patient_a]
    assert list(access.visible_patients(as_b)) == [world.patient_b]


def test_membership_in_an_organization_not_ones_own_is_not_honoured(world: World) -> None:
    actor = access.Actor.for_user(world.user_a, world.practice_b.pk)
    assert actor.organization == world.practice_a


def test_plan_results_reach_only_the_plan_and_its_partners(world: World) -> None:
    from caseboard.patients.models import RiskScore

    today = datetime.date(2026, 9, 30)
    for plan in (world.plan, world.plan_q):
        RiskScore.objects.create(
            patient=world.patient_a,
            plan=plan,
            model_version="HHS-HCC",
            performance_year=2025,
            score=1.5,
            as_of=today,
        )
    # Patient A is also a member of plan Q, which is not practice A's partner.
    CoverageSpan.objects.create(
        patient=world.patient_a, plan=world.plan_q, start_date=datetime.date(2020, 1, 1)
    )
    practice_a = factories.actor_for(world.user_a)
    assert {s.plan for s in access.visible_risk_scores(practice_a, world.patient_a)} == {world.plan}
    plan_q = factories.actor_for(world.plan_q_user)
    assert {s.plan for s in access.visible_risk_scores(plan_q, world.patient_a)} == {world.plan_q}
