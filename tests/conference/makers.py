"""Builders for high-risk list tests: plan rankings, plan members of practice A, staff."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User

from caseboard.conference import actions
from caseboard.conference.models import HighRiskList
from caseboard.orgs.models import Organization, Partnership, Role
from caseboard.patients.models import Patient, PlanRanking
from tests import factories
from tests.conftest import World

AS_OF = datetime.date(2026, 10, 1)


def member_of_a(
    world: World,
    given: str,
    family: str,
    born: datetime.date = datetime.date(1970, 5, 17),
    *,
    mrn: str | None = None,
    member_id: str | None = None,
    phone: str = "(617) 555-0123",
    address: str = "",
) -> Patient:
    patient = factories.make_patient(
        plan=world.plan,
        practice=world.practice_a,
        given_name=given,
        family_name=family,
        birth_date=born,
        mrn=mrn,
        member_id=member_id,
    )
    patient.phone, patient.address = phone, address
    patient.save()
    return patient


def rank(
    world: World,
    patient: Patient,
    position: int,
    *,
    drivers: tuple[str, ...] = ("2 inpatient admissions in 12 months",),
    score: float = 3.2,
    practice: Organization | None = None,
) -> PlanRanking:
    ranking, _ = PlanRanking.objects.update_or_create(
        plan=world.plan,
        patient=patient,
        defaults={
            "practice": practice or world.practice_a,
            "rank": position,
            "score": score,
            "model_version": "v24",
            "drivers": list(drivers),
            "as_of": AS_OF,
        },
    )
    return ranking


def project_manager(world: World, username: str = "p.pm") -> User:
    return factories.make_user(world.plan, Role.PROJECT_MANAGER, username=username)


def lists(partnership: Partnership) -> tuple[HighRiskList, HighRiskList]:
    return actions.lists_of(partnership)
