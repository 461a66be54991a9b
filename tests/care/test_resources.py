"""The community-resource directory: search, adding and changing listings, and its scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.referrals import ResourceFields, add_resource, change_resource
from caseboard.care.errors import CareError
from caseboard.care.models import CommunityResource
from caseboard.care.queries.referrals import DirectorySearch, search_resources
from caseboard.orgs.models import OrganizationKind, Role
from tests import factories as f
from tests.conftest import World, login


def listing(world: World, **fields: Any) -> CommunityResource:
    values = {
        "name": "Greater Boston Food Bank",
        "maintained_by": world.plan,
        "categories": ["food"],
        "city": "Boston",
        "languages": "English, Spanish",
        "description": "Emergency groceries and a weekly pantry",
        "phone": "(617) 555-0199",
        **fields,
    }
    return CommunityResource.objects.create(**values)


def names(actor_user: Any, **search: str) -> list[str]:
    found = search_resources(f.actor_for(actor_user), DirectorySearch(**search))
    return [r.name for r in found]


# --- Search ---------------------------------------------------------------------------------


def test_search_matches_every_word_in_name_description_or_services(world: World) -> None:
    listing(world)
    listing(world, name="Rides to Care", categories=["transportation"], description="Van rides")
    listing(world, name="Heat Share", categories=["utilities"], description="Help with bills")
    assert names(world.user_a, words="pantry") == ["Greater Boston Food Bank"]
    assert names(world.user_a, words="rides van") == ["Rides to Care"]
    # A service's name finds programs offering it even when their words do not say so.
    assert names(world.user_a, words="utilities") == ["Heat Share"]
    assert names(world.user_a, words="transport") == ["Rides to Care"]
    assert names(world.user_a, words="pantry rides") == []


def test_search_by_category_city_and_language(world: World) -> None:
    listing(world)
    listing(world, name="Casa Comida", city="Lawrence", languages="Spanish, Portuguese")
    listing(
        world,
        name="Shelter Now",
        categories=["housing", "food"],
        city="Lowell",
        languages="English",
    )
    assert names(world.user_a, category="food") == [
        "Casa Comida",
        "Greater Boston Food Bank",
        "Shelter Now",
    ]
    assert names(world.user_a, category="housing") == ["Shelter Now"]
    assert names(world.user_a, city="lawr") == ["Casa Comida"]
    assert names(world.user_a, language="portuguese") == ["Casa Comida"]
    assert names(world.user_a, category="food", language="spanish") == [
        "Casa Comida",
        "Greater Boston Food Bank",
    ]


def test_the_directory_is_the_partners_and_not_another_plans(world: World) -> None:
    listing(world, name="Plan P pantry")
    listing(world, name="Practice A list", maintained_by=world.practice_a)
    listing(world, name="Plan Q pantry", maintained_by=world.plan_q)
    assert names(world.user_a) == ["Plan P pantry", "Practice A list"]
    assert names(world.user_b) == ["Plan P pantry"]
    assert names(world.plan_q_user) == ["Plan Q pantry"]


def test_programs_no_longer_taking_referrals_are_left_out(world: World) -> None:
    listing(world, is_active=False)
    assert names(world.user_a) == []


def test_directory_page_and_htmx_partial(world: World) -> None:
    listing(world)
    client = login(Client(), world.user_a)
    page = client.get("/care/resources/", {"category": "food"})
    assert page.status_code == 200
    assert "Greater Boston Food Bank" in page.content.decode()
    partial = client.get("/care/resources/", {"q": "nothing-like-this"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "No program matches" in html and "<html" not in html


def test_directory_for_a_patient_offers_refer_buttons(world: World) -> None:
    food = listing(world)
    client = login(Client(), world.user_a)
    html = client.get(
        "/care/resources/", {"category": "food", "patient": world.patient_a.pk}
    ).content.decode()
    assert (
        f"/care/patients/{world.patient_a.pk}/referrals/?resource={food.pk}&amp;category=food"
        in html
    )
    assert client.get("/care/resources/", {"patient": world.patient_b.pk}).status_code == 404


# --- Adding and changing listings ------------------------------------------------------------


def form_data(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Lawrence Community Pantry",
        "categories": ["food"],
        "description": "Groceries twice a week",
        "city": "Lawrence",
        "phone": "978-555-0142",
        "website": "https://pantry.example.org",
        "languages": "English, Spanish",
        **changes,
    }


def test_adding_a_listing_keeps_it_for_the_actors_organization(world: World) -> None:
    response = login(Client(), world.user_a).post("/care/resources/new/", form_data())
    resource = CommunityResource.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/care/resources/{resource.pk}/"
    assert resource.maintained_by == world.practice_a
    assert resource.phone == "(978) 555-0142"
    assert resource.categories == ["food"]
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="care.communityresource"
    ).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "555-01"}, "is not a valid US phone number"),
        ({"phone": "call us"}, "is not a phone number"),
        ({"categories": []}, "Choose at least one service category."),
        ({"website": "not a url"}, "Enter a valid URL."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_a_bad_listing_is_refused_and_nothing_saved(
    world: World, changes: dict[str, Any], message: str
) -> None:
    response = login(Client(), world.user_a).post("/care/resources/new/", form_data(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CommunityResource.objects.exists()


def test_the_categories_must_be_known(world: World) -> None:
    with pytest.raises(CareError) as refused:
        add_resource(f.actor_for(world.user_a), ResourceFields(name="X", categories=["legal_aid"]))
    assert refused.value.field == "categories"


def test_a_community_organization_lists_its_own_program_as_itself(world: World) -> None:
    cbo = f.make_org(OrganizationKind.CBO, "Merrimack Pantry")
    worker = f.make_user(cbo, Role.COMMUNITY_HEALTH_WORKER)
    resource = add_resource(f.actor_for(worker), ResourceFields(name="Pantry", categories=["food"]))
    assert (resource.maintained_by, resource.organization) == (cbo, cbo)
    other = f.make_org(OrganizationKind.CBO, "Another CBO")
    with pytest.raises(CareError):
        add_resource(
            f.actor_for(worker),
            ResourceFields(name="Not ours", categories=["food"], organization=other),
        )


def test_only_a_community_organization_can_receive_referrals(world: World) -> None:
    with pytest.raises(CareError) as refused:
        add_resource(
            f.actor_for(world.user_a),
            ResourceFields(name="X", categories=["food"], organization=world.practice_b),
        )
    assert refused.value.field == "organization"


def test_the_maintainer_changes_the_listing(world: World) -> None:
    resource = listing(world)
    client = login(Client(), world.plan_user)
    page = client.get(f"/care/resources/{resource.pk}/")
    assert "Change the listing" in page.content.decode()
    response = client.post(
        f"/care/resources/{resource.pk}/",
        form_data(name="Greater Boston Food Bank", hours="Mon–Fri 9–5", is_active="on"),
    )
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.hours == "Mon–Fri 9–5"
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_id=str(resource.pk), username="p.cm"
    ).exists()


def test_a_partner_reads_the_listing_but_cannot_change_it(world: World) -> None:
    resource = listing(world)
    client = login(Client(), world.user_a)
    page = client.get(f"/care/resources/{resource.pk}/")
    assert page.status_code == 200
    assert "Change the listing" not in page.content.decode()
    assert client.post(f"/care/resources/{resource.pk}/", form_data()).status_code == 403
    with pytest.raises(PermissionDenied):
        change_resource(
            f.actor_for(world.user_a), resource, ResourceFields(name="X", categories=["food"])
        )
    resource.refresh_from_db()
    assert resource.name == "Greater Boston Food Bank"


def test_another_plans_listing_is_404(world: World) -> None:
    resource = listing(world, maintained_by=world.plan_q)
    assert login(Client(), world.user_a).get(f"/care/resources/{resource.pk}/").status_code == 404


def test_refer_a_patient_from_the_listing_finds_only_visible_patients(world: World) -> None:
    resource = listing(world)
    client = login(Client(), world.user_a)
    html = client.get(
        f"/care/resources/{resource.pk}/", {"q": "a"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert html.lstrip().startswith('<div id="patients">')
    assert f"/care/patients/{world.patient_a.pk}/referrals/?resource={resource.pk}" in html
    assert "Brightwater" not in html
    assert AuditEvent.objects.filter(action=AuditAction.SEARCH, username="a.rn").exists()
