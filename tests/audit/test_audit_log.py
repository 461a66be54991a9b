from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from caseboard.audit.models import AppendOnlyError, AuditAction, AuditEvent
from caseboard.orgs.models import Role
from tests import factories
from tests.conftest import World, login


def test_profile_view_is_recorded_with_who_what_and_where(world: World) -> None:
    client = login(Client(REMOTE_ADDR="10.1.2.3"), world.user_a)
    assert client.get(f"/patients/{world.patient_a.pk}/").status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert event.user_id == world.user_a.pk
    assert event.username == "a.rn"
    assert event.organization_id == world.practice_a.pk
    assert event.patient_id == world.patient_a.pk
    assert event.object_type == "patients.patient"
    assert event.client_address == "10.1.2.3"
    assert event.path == f"/patients/{world.patient_a.pk}/"


def test_api_read_is_recorded_too(world: World) -> None:
    client = login(Client(), world.plan_user)
    assert client.get(f"/api/patients/{world.patient_b.pk}").status_code == 200
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_b.pk, username="p.cm"
    ).exists()


def test_each_patient_in_search_results_is_recorded(world: World) -> None:
    client = login(Client(), world.plan_user)
    client.get("/patients/", {"q": "1970-05-17"})  # every test patient was born then
    seen = set(
        AuditEvent.objects.filter(action=AuditAction.SEARCH).values_list("patient_id", flat=True)
    )
    assert seen == {world.patient_a.pk, world.patient_b.pk}


def test_denied_view_records_nothing_about_the_other_patient(world: World) -> None:
    client = login(Client(), world.user_a)
    client.get(f"/patients/{world.patient_b.pk}/")
    assert not AuditEvent.objects.filter(patient_id=world.patient_b.pk).exists()


def test_model_refuses_update_and_delete(world: World) -> None:
    client = login(Client(), world.user_a)
    client.get(f"/patients/{world.patient_a.pk}/")
    event = AuditEvent.objects.get()
    event.action = AuditAction.DELETE
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get().action == AuditAction.VIEW


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_raw_update_and_delete(world: World) -> None:
    client = login(Client(), world.user_a)
    client.get(f"/patients/{world.patient_a.pk}/")
    for statement in (
        "UPDATE audit_auditevent SET action = 'delete'",
        "DELETE FROM audit_auditevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.get().action == AuditAction.VIEW
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().update(action="delete")


def test_admin_browses_and_filters_own_organizations_events(world: World) -> None:
    other = factories.make_patient(plan=world.plan, practice=world.practice_a, family_name="Ogden")
    login(Client(), world.user_a).get(f"/patients/{world.patient_a.pk}/")
    login(Client(), world.user_a).get(f"/patients/{other.pk}/")
    login(Client(), world.user_b).get(f"/patients/{world.patient_b.pk}/")
    admin = login(Client(), world.user_a)
    everything = admin.get("/audit/")
    assert everything.context["page"].paginator.count == 2
    filtered = admin.get("/audit/", {"patient_id": other.pk, "action": "view"})
    assert [e.patient_id for e in filtered.context["page"]] == [other.pk]


def test_audit_log_is_for_admins_only(world: World) -> None:
    staff = factories.make_user(world.practice_a, Role.CARE_COORDINATOR)
    assert login(Client(), staff).get("/audit/").status_code == 403


def test_audit_page_offers_no_way_to_change_events(world: World) -> None:
    admin = login(Client(), world.user_a)
    admin.get(f"/patients/{world.patient_a.pk}/")
    assert admin.post("/audit/", {"action": "delete"}).status_code in (200, 405)
    assert AuditEvent.objects.count() == 1
    page = admin.get("/audit/").content.decode()
    assert 'method="post"' not in page.split("<main>")[1]
