"""The pre-work packet of an agenda patient (seed 004, Attachment A, step 3 items i–xv)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.conference import calls
from caseboard.conference.prework import PreworkPacket, prework_packet
from caseboard.orgs.models import Role
from tests import factories
from tests.conference.call_makers import call_for_a, with_claims
from tests.conference.makers import rank
from tests.conftest import World, login
from tests.factories import actor_for

FIFTEEN_ITEMS = [
    "name",  # i
    "birth_date",  # ii
    "contact",  # iii
    "last_admission",  # iv
    "last_ed_visit",  # v
    "diagnoses",  # vi
    "diagnostic_history",  # vii
    "prescriptions",  # viii
    "providers",  # ix
    "plan_case_management",  # x
    "case_manager",  # xi
    "social_needs",  # xii
    "primary_language",  # xiii
    "plan_risk",  # xiv
    "medicaid_coverage_level",  # xv
]

pytestmark = pytest.mark.django_db


def test_packet_holds_exactly_the_fifteen_items() -> None:
    assert PreworkPacket.item_names() == FIFTEEN_ITEMS


def _urgent_a(world: World):
    pm, call = call_for_a(world)
    item = calls.add_urgent_patient(actor_for(world.user_a), call, world.patient_a, "fell")
    return pm, call, item


def test_packet_fills_every_item_from_its_source(world: World) -> None:
    patient = world.patient_a
    pcp = factories.make_provider(world.practice_a)
    span = patient.attribution_spans.get()
    span.pcp = pcp
    span.save()
    patient.address, patient.postal_code = "12 Elm St", "02118"
    patient.social_needs = ["housing instability"]
    patient.primary_language = "Spanish"
    patient.save()
    with_claims(world, patient)
    rank(world, patient, 3, drivers=("3 ED visits in 6 months",), score=4.5)
    plan_cm = factories.make_user(world.plan, Role.CASE_MANAGER)
    plan_cm.first_name, plan_cm.last_name = "Rosa", "Diaz"
    plan_cm.save()
    factories.make_enrollment(patient, world.plan, plan_cm, program="plan_cm", status="monitor")
    _, _, item = _urgent_a(world)

    packet = prework_packet(actor_for(world.user_a), item)

    assert packet.name == patient.full_name
    assert packet.birth_date == patient.birth_date
    assert packet.contact == {"address": "12 Elm St, Boston MA 02118", "phone": patient.phone}
    assert packet.last_admission["reason"] == "Heart failure"
    assert packet.last_ed_visit["start"] == "2026-10-11"
    assert packet.diagnoses == ["I50.9 Heart failure"]
    assert packet.diagnostic_history == ["Echocardiogram 2026-09-03"]
    assert packet.prescriptions == ["furosemide 40 mg"]
    assert packet.providers["pcp"] == "Ada Morales, MD"
    assert packet.providers["others"][0]["name"] == "Cardiology Group"
    assert len(packet.plan_case_management) == 1
    assert "Monitor" in packet.plan_case_management[0]
    assert packet.case_manager == "Rosa Diaz"
    assert packet.social_needs == ["housing instability"]
    assert packet.primary_language == "Spanish"
    assert packet.plan_risk["rank"] == 3
    assert packet.plan_risk["drivers"] == ["3 ED visits in 6 months"]
    assert packet.medicaid_coverage_level == "Standard"


def test_packet_without_claims_or_case_management_says_so(world: World) -> None:
    _, _, item = _urgent_a(world)
    packet = prework_packet(actor_for(world.user_a), item)
    assert packet.last_admission is None
    assert packet.plan_case_management == []
    assert packet.case_manager == ""
    assert packet.plan_risk is None


def test_practice_enrollments_are_not_plan_case_management(world: World) -> None:
    factories.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    _, _, item = _urgent_a(world)
    assert prework_packet(actor_for(world.user_a), item).plan_case_management == []


def test_viewing_a_packet_is_audited(world: World) -> None:
    _, _, item = _urgent_a(world)
    client = login(Client(), world.user_a)
    response = client.get(reverse("agenda_item_prework", args=[item.pk]))
    assert response.status_code == 200
    assert b"Medicaid coverage level" in response.content
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, detail__page="prework_packet"
    ).exists()


def test_practice_sees_only_its_attributed_patients_packets(world: World) -> None:
    pm, call = call_for_a(world)
    # A plan member attributed to practice B, put on practice A's call by the plan.
    item = calls.add_urgent_patient(actor_for(pm), call, world.patient_b, "transferred")
    assert (
        login(Client(), world.user_a)
        .get(reverse("agenda_item_prework", args=[item.pk]))
        .status_code
        == 404
    )
    assert (
        login(Client(), pm).get(reverse("agenda_item_prework", args=[item.pk])).status_code == 200
    )


def test_packet_is_404_across_partnerships(world: World) -> None:
    _, _, item = _urgent_a(world)
    for user in (world.user_b, world.plan_q_user):
        response = login(Client(), user).get(reverse("agenda_item_prework", args=[item.pk]))
        assert response.status_code == 404
        assert world.patient_a.family_name.encode() not in response.content
