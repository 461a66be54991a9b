from __future__ import annotations

import datetime

from django.test import Client

from caseboard.patients.models import CoverageSpan
from tests import factories
from tests.conftest import World, login


def test_search_finds_by_name_prefix(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.get("/patients/", {"q": "alva"})
    assert [p.pk for p in response.context["results"]] == [world.patient_a.pk]


def test_search_by_birth_date_and_identifier(world: World) -> None:
    client = login(Client(), world.plan_user)
    mrn = world.patient_a.identifiers.get(organization=world.practice_a).value
    by_mrn = client.get("/patients/", {"q": mrn})
    assert [p.pk for p in by_mrn.context["results"]] == [world.patient_a.pk]
    by_dob = client.get("/patients/", {"q": "05/17/1970 bright"})
    assert [p.pk for p in by_dob.context["results"]] == [world.patient_b.pk]


def test_htmx_search_returns_only_the_results_partial(world: World) -> None:
    client = login(Client(), world.user_a)
    response = client.get("/patients/", {"q": "Alvarez"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "Alvarez" in html and "<html" not in html


def test_profile_shows_coverage_attribution_and_last_seen_warning(world: World) -> None:
    pcp = factories.make_provider(world.practice_a)
    patient = factories.make_patient(
        plan=world.plan,
        practice=world.practice_a,
        pcp=pcp,
        last_seen_on=datetime.date(2024, 1, 10),
        family_name="Quinn",
    )
    page = login(Client(), world.user_a).get(f"/patients/{patient.pk}/").content.decode()
    assert "Plan P" in page and "MassHealth ACO" in page and "Standard" in page
    assert "Ada Morales, MD" in page
    assert "Last seen by Practice A" in page


def test_profile_warns_when_coverage_has_ended_and_names_the_new_insurer(world: World) -> None:
    CoverageSpan.objects.filter(patient=world.patient_a).update(
        end_date=datetime.date(2025, 12, 31), next_insurer="Tufts Health Together"
    )
    page = login(Client(), world.user_a).get(f"/patients/{world.patient_a.pk}/").content.decode()
    assert "No current coverage" in page and "Tufts Health Together" in page


def test_api_patient_matches_the_profile(world: World) -> None:
    data = login(Client(), world.user_a).get(f"/api/patients/{world.patient_a.pk}").json()
    assert data["family_name"] == "Alvarez"
    assert {i["organization"] for i in data["identifiers"]} == {"Plan P", "Practice A"}
    assert data["coverage"][0]["medicaid_coverage_level"] == "Standard"


def test_api_requires_sign_in(world: World) -> None:
    assert Client().get(f"/api/patients/{world.patient_a.pk}").status_code == 401


def test_pages_require_sign_in(world: World) -> None:
    response = Client().get(f"/patients/{world.patient_a.pk}/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]
