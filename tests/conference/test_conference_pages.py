"""A conference call's page and API: building the agenda, urgent patients, attending
physicians and the pre-work checklists (seed 004, Attachment A, steps 3–5)."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.conference import calls
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import AgendaItem, AgendaKind, PreworkChecklist
from tests import factories
from tests.conference.call_makers import call_for_a, on_both_lists
from tests.conference.makers import lists, member_of_a, rank
from tests.conftest import World, login
from tests.factories import actor_for

pytestmark = pytest.mark.django_db


def _kinds(conference) -> list[tuple[int, str]]:
    return list(conference.agenda_items.order_by("position").values_list("patient_id", "kind"))


def test_plan_project_manager_builds_the_agenda_from_the_combined_list(world: World) -> None:
    pm, call = call_for_a(world)
    common = member_of_a(world, "Carmen", "Common")
    plan_only = member_of_a(world, "Paula", "Planonly")
    on_both_lists(world, pm, common, 4)
    rank(world, plan_only, 1)
    plan_list, _ = lists(world.partnership_a)
    from caseboard.conference import actions

    actions.add_to_list(actor_for(pm), plan_list, plan_only, reasons=["3 ED visits"])

    response = login(Client(), pm).post(reverse("conference_build_agenda", args=[call.pk]))

    assert response.status_code == 302
    assert _kinds(call) == [(common.pk, "common"), (plan_only.pk, "unique_plan")]
    page = login(Client(), pm).get(reverse("conference_detail", args=[call.pk]))
    assert b"On both lists; plan rank" in page.content
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=common.pk, detail__page="conference_agenda"
    ).exists()


def test_practice_cannot_build_the_agenda(world: World) -> None:
    pm, call = call_for_a(world)
    on_both_lists(world, pm, world.patient_a, 1)
    response = login(Client(), world.user_a).post(
        reverse("conference_build_agenda", args=[call.pk]), follow=True
    )
    assert b"project manager builds the agenda" in response.content
    assert not call.agenda_items.exists()
    with pytest.raises(Exception, match="build the agenda"):
        calls.build_agenda(actor_for(world.user_a), call)


def test_agenda_size_is_respected_and_follow_ups_come_first(world: World) -> None:
    pm = factories.make_user(world.plan, "project_manager")
    _, first = call_for_a(world, pm)
    patients = [member_of_a(world, f"P{i}", f"Member{i}") for i in range(4)]
    plan_list, _ = lists(world.partnership_a)
    from caseboard.conference import actions

    for i, p in enumerate(patients, start=1):
        rank(world, p, i)
        actions.add_to_list(actor_for(pm), plan_list, p, reasons=["high cost"])
    calls.build_agenda(actor_for(pm), first)
    # The first call left a follow-up on the lowest-ranked patient discussed.
    item = first.agenda_items.get(patient=patients[3])
    item.needs_follow_up, item.report_back_on = True, first.starts_at.date()
    item.save()
    series = first.series
    series.agenda_size = 2
    series.save()
    second = calls.schedule_conference(
        actor_for(pm), series, first.starts_at + datetime.timedelta(days=7)
    )
    calls.build_agenda(actor_for(pm), second)
    assert _kinds(second) == [(patients[3].pk, "follow_up"), (patients[0].pk, "unique_plan")]


def test_attending_physicians_patients_go_first(world: World) -> None:
    pm, call = call_for_a(world)
    pcp = factories.make_provider(world.practice_a)
    first, theirs = (member_of_a(world, "Ann", "First"), member_of_a(world, "Tom", "Theirs"))
    span = theirs.attribution_spans.get()
    span.pcp = pcp
    span.save()
    on_both_lists(world, pm, first, 1)
    on_both_lists(world, pm, theirs, 2)
    client = login(Client(), world.user_a)
    response = client.post(
        reverse("conference_attending", args=[call.pk]), {"attending_pcps": [str(pcp.pk)]}
    )
    assert response.status_code == 302
    calls.build_agenda(actor_for(pm), call)
    assert _kinds(call) == [(theirs.pk, "physician"), (first.pk, "common")]
    assert call.agenda_items.get(patient=theirs).reason == "Ada Morales, MD attends; plan rank 2"


def test_practice_adds_an_urgent_patient_with_search(world: World) -> None:
    pm, call = call_for_a(world)
    on_both_lists(world, pm, member_of_a(world, "Carmen", "Common"), 1)
    calls.build_agenda(actor_for(pm), call)
    client = login(Client(), world.user_a)
    url = reverse("conference_urgent", args=[call.pk])
    found = client.get(url, {"q": "Alvarez"}, HTTP_HX_REQUEST="true")
    assert found.status_code == 200
    assert b"Alvarez" in found.content
    assert b"<html" not in found.content
    # Practice A never finds practice B's patient.
    assert b"Beatrix" not in client.get(url, {"q": "Brightwater"}).content

    response = client.post(url, {"patient": world.patient_a.pk, "note": "evicted yesterday"})

    assert response.status_code == 302
    item = call.agenda_items.get(patient=world.patient_a)
    assert (item.kind, item.position) == (AgendaKind.URGENT, 1)
    assert item.added_by_organization == world.practice_a
    assert "evicted yesterday" in item.reason
    # Rebuilding keeps the urgent patient.
    calls.build_agenda(actor_for(pm), call)
    assert call.agenda_items.get(patient=world.patient_a).kind == AgendaKind.URGENT


def test_urgent_form_needs_a_note_and_saves_nothing_without_it(world: World) -> None:
    _, call = call_for_a(world)
    response = login(Client(), world.user_a).post(
        reverse("conference_urgent", args=[call.pk]), {"patient": world.patient_a.pk}
    )
    assert response.status_code == 400
    assert b"cannot wait" in response.content
    assert not AgendaItem.objects.exists()


def test_urgent_patient_must_be_visible_to_the_side_adding_it(world: World) -> None:
    _, call = call_for_a(world)
    with pytest.raises(Exception, match="No such patient"):
        calls.add_urgent_patient(actor_for(world.user_a), call, world.patient_b, "x")
    with pytest.raises(ConferenceError, match="not a member"):
        calls.add_urgent_patient(
            actor_for(world.user_a),
            call,
            factories.make_patient(practice=world.practice_a),
            "x",
        )


def test_each_side_ticks_its_own_checklist_with_who_and_when(world: World) -> None:
    pm, call = call_for_a(world)
    client = login(Client(), world.user_a)
    url = reverse("conference_checklist", args=[call.pk])
    assert client.post(url, {"item": "a", "note": "still ours"}).status_code == 302
    assert client.post(url, {"item": "a"}, follow=True).content.count(b"already completed") == 1
    assert client.post(url, {"item": "z"}).status_code == 302
    done = PreworkChecklist.objects.get()
    assert (done.side, done.item, done.completed_by, done.note) == (
        world.practice_a,
        "a",
        world.user_a,
        "still ours",
    )
    calls.complete_checklist_item(actor_for(pm), call, "a")
    page = client.get(reverse("conference_detail", args=[call.pk]))
    assert page.content.count(b"badge good") == 2
    assert b"Mark b done" in page.content
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, detail__item="a").count() == 2


def test_conference_of_another_partnership_is_hidden(world: World) -> None:
    _, call = call_for_a(world)
    for user in (world.user_b, world.plan_q_user):
        client = login(Client(), user)
        assert client.get(reverse("conference_detail", args=[call.pk])).status_code == 404
        assert client.get(f"/api/conferences/{call.pk}").status_code == 404
        assert client.post(reverse("conference_checklist", args=[call.pk])).status_code == 404


def test_api_shows_the_agenda_with_reasons_and_adds_urgent_patients(world: World) -> None:
    pm, call = call_for_a(world)
    on_both_lists(world, pm, member_of_a(world, "Carmen", "Common"), 2)
    calls.build_agenda(actor_for(pm), call)
    client = login(Client(), world.user_a)
    added = client.post(
        f"/api/conferences/{call.pk}/urgent",
        json.dumps({"patient_id": world.patient_a.pk, "note": "new oxygen order"}),
        content_type="application/json",
    )
    assert added.status_code == 201
    assert added.json()["kind"] == "urgent"
    bad = client.post(
        f"/api/conferences/{call.pk}/urgent",
        json.dumps({"patient_id": world.patient_a.pk, "note": " "}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    body = client.get(f"/api/conferences/{call.pk}").json()
    assert [i["kind"] for i in body["agenda"]] == ["urgent", "common"]
    assert body["agenda"][1]["reason"] == "On both lists; plan rank 1"
    assert len(body["checklists"]) == 12
    packet = client.get(f"/api/agenda-items/{added.json()['id']}/prework").json()
    assert packet["name"] == world.patient_a.full_name
    assert packet["medicaid_coverage_level"] == "Standard"


def test_lists_page_links_to_conferences(world: World) -> None:
    response = login(Client(), world.user_a).get(
        reverse("high_risk_lists", args=[world.partnership_a.pk])
    )
    assert reverse("conference_series", args=[world.partnership_a.pk]).encode() in (
        response.content
    )
