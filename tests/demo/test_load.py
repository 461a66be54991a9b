from __future__ import annotations

import polars as pl
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from caseboard import access
from caseboard.demo.load import DemoAlreadyLoaded, load_population
from caseboard.demo.population import generate
from caseboard.orgs.models import Membership, Organization, OrganizationKind, Partnership, Role
from caseboard.patients.models import AttributionSpan, CoverageSpan, IdentifierKind, Patient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def population():  # type: ignore[no-untyped-def]
    return generate(members=600, seed=7)


def test_every_member_becomes_one_patient_with_a_member_id(population) -> None:  # type: ignore[no-untyped-def]
    load_population(population)
    members = population.tables["members"]
    assert Patient.objects.count() == members.height
    plan = Organization.objects.get(kind=OrganizationKind.HEALTH_PLAN)
    ids = set(
        plan.issued_identifiers.filter(kind=IdentifierKind.MEMBER_ID).values_list(
            "value", flat=True
        )
    )
    assert ids == set(members["member_id"].to_list())


def test_coverage_and_attribution_spans_follow_the_files(population) -> None:  # type: ignore[no-untyped-def]
    load_population(population)
    assert CoverageSpan.objects.count() == population.tables["eligibility"].height
    practice_spans = population.tables["attribution"].height
    health_home = population.tables["members"].filter(pl.col("health_home_id").is_not_null()).height
    assert AttributionSpan.objects.count() == practice_spans + health_home
    lost = CoverageSpan.objects.exclude(patient__coverage_spans__end_date__isnull=True)
    assert lost.exists(), "some members lost coverage"


def test_plan_is_partnered_with_every_practice_and_the_cbcme(population) -> None:  # type: ignore[no-untyped-def]
    load_population(population)
    partners = Organization.objects.filter(
        kind__in=[OrganizationKind.PRACTICE, OrganizationKind.CBCME]
    )
    assert Partnership.objects.count() == partners.count() == population.tables["practices"].height


def test_demo_logins_cover_each_role_and_see_their_own_panel(population) -> None:  # type: ignore[no-untyped-def]
    logins = load_population(population)
    roles = {login.role for login in logins}
    for role in (
        Role.PROJECT_MANAGER,
        Role.CLINICAL_CARE_MANAGER,
        Role.PCP,
        Role.HHP_DIRECTOR,
        Role.HOUSING_NAVIGATOR,
        Role.PRACTICE_FACILITATOR,
        Role.ORG_ADMIN,
    ):
        assert role.label in roles
    rn = User.objects.get(username="p1.rn")
    actor = access.Actor.for_user(rn)
    practice_id = actor.organization.external_id
    current = population.tables["attribution"].filter(
        (pl.col("practice_id") == practice_id) & pl.col("end_date").is_null()
    )
    assert access.visible_patients(actor).count() == current["person_id"].n_unique()
    assert Membership.objects.filter(user__username="facilitator").count() == 2
    assert User.objects.get(username="plan.pm").check_password("caseboard-demo-2026")


def test_loading_twice_is_refused(population) -> None:  # type: ignore[no-untyped-def]
    load_population(population)
    with pytest.raises(DemoAlreadyLoaded):
        load_population(population)


def test_command_writes_the_input_layer_and_loads(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("demo-data", members=300, seed=3, out=tmp_path)
    for table in ("eligibility", "medical_claim", "pharmacy_claim"):
        assert (tmp_path / f"{table}.parquet").exists()
    assert Patient.objects.count() == 300
    assert "plan.director" in capsys.readouterr().out
