from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from caseboard.orgs.models import Organization, OrganizationKind, Partnership, Role
from caseboard.patients.models import Patient
from tests import factories


@dataclass
class World:
    """One plan partnered with practices A and B; a second plan Q with its own practice C."""

    plan: Organization
    practice_a: Organization
    practice_b: Organization
    plan_q: Organization
    practice_c: Organization
    partnership_a: Partnership
    partnership_b: Partnership
    partnership_c: Partnership
    patient_a: Patient
    patient_b: Patient
    patient_c: Patient
    user_a: User
    user_b: User
    plan_user: User
    plan_q_user: User


@pytest.fixture
def world(db: None) -> World:
    plan = factories.make_org(OrganizationKind.HEALTH_PLAN, "Plan P")
    a = factories.make_org(OrganizationKind.PRACTICE, "Practice A")
    b = factories.make_org(OrganizationKind.PRACTICE, "Practice B")
    plan_q = factories.make_org(OrganizationKind.HEALTH_PLAN, "Plan Q")
    c = factories.make_org(OrganizationKind.PRACTICE, "Practice C")
    return World(
        plan=plan,
        practice_a=a,
        practice_b=b,
        plan_q=plan_q,
        practice_c=c,
        partnership_a=factories.make_partnership(plan, a),
        partnership_b=factories.make_partnership(plan, b),
        partnership_c=factories.make_partnership(plan_q, c),
        patient_a=factories.make_patient(plan=plan, practice=a, family_name="Alvarez"),
        patient_b=factories.make_patient(
            plan=plan, practice=b, given_name="Beatrix", family_name="Brightwater"
        ),
        patient_c=factories.make_patient(
            plan=plan_q, practice=c, given_name="Cosima", family_name="Castellano"
        ),
        user_a=factories.make_user(a, Role.CLINICAL_CARE_MANAGER, username="a.rn", admin=True),
        user_b=factories.make_user(b, Role.CLINICAL_CARE_MANAGER, username="b.rn", admin=True),
        plan_user=factories.make_user(plan, Role.CASE_MANAGER, username="p.cm", admin=True),
        plan_q_user=factories.make_user(plan_q, Role.CASE_MANAGER, username="q.cm", admin=True),
    )


def login(client: Client, user: User) -> Client:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
