from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.conference import actions, queries
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import EntrySource, HighRiskEntry
from caseboard.orgs.models import Role
from caseboard.patients.models import Patient, PlanRanking
from tests import factories
from tests.conference.makers import lists, member_of_a, project_manager, rank
from tests.conftest import World, login
from tests.factories import actor_for

PREGNANCY_ENDED = "high-risk pregnancy ended, mother and baby healthy"


def test_refresh_puts_the_top_n_ranked_members_on_the_plans_list(world: World) -> None:
    members = [member_of_a(world, "M", f"Member{i}") for i in range(5)]
    for position, patient in enumerate(members, start=1):
        rank(world, patient, position, drivers=("CHF", "3 ED visits"), score=5.0 - position / 10)
    result = actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a, size=3)
    entries = list(result.high_risk_list.entries.order_by("rank"))
    assert [e.patient for e in entries] == members[:3]
    assert [e.rank for e in entries] == [1, 2, 3]
    assert entries[0].reasons == ["CHF", "3 ED visits", "risk score 4.90 (model v24)"]
    assert entries[0].source == EntrySource.ANALYTICS and entries[0].risk_score == 4.9
    assert result.added == 3 and result.high_risk_list.target_size == 3
    assert result.high_risk_list.ranking_as_of == datetime.date(2026, 10, 1)
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, patient_id=members[0].pk).exists()


def test_refresh_uses_only_the_rankings_for_this_partnerships_practice(world: World) -> None:
    rank(world, world.patient_b, 1, practice=world.practice_b)
    mine = member_of_a(world, "Ida", "Moss")
    rank(world, mine, 2)
    result = actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)
    assert [e.patient for e in result.high_risk_list.entries.all()] == [mine]


def test_members_who_drop_out_stay_marked_until_removed_with_a_reason(world: World) -> None:
    a, b, c = (member_of_a(world, "M", n) for n in ("Ames", "Boyd", "Cruz"))
    rank(world, a, 1)
    rank(world, b, 2)
    plan = actor_for(world.plan_user)
    actions.refresh_plan_list(plan, world.partnership_a, size=2)
    # The next publication ranks C above B: B is out of the top 2, yet still listed.
    rank(world, c, 2)
    rank(world, b, 3)
    result = actions.refresh_plan_list(plan, world.partnership_a)
    active = {e.patient: e for e in result.high_risk_list.entries.filter(removed_at=None)}
    assert set(active) == {a, b, c}
    assert active[b].out_of_ranking_since == timezone.localdate()
    assert active[b].rank == 3, "the ranked top N come first"
    assert active[c].out_of_ranking_since is None
    assert result.no_longer_ranked == 1
    # Back in the top N, the mark goes.
    rank(world, b, 1)
    rank(world, a, 4)
    actions.refresh_plan_list(plan, world.partnership_a)
    active[b].refresh_from_db()
    assert active[b].out_of_ranking_since is None and active[b].rank == 1


def test_a_member_removed_with_a_reason_is_not_put_back_by_the_next_refresh(world: World) -> None:
    mother, other, next_one = (member_of_a(world, "M", n) for n in ("Ode", "Pak", "Quinn"))
    rank(world, mother, 1, drivers=("high-risk pregnancy",))
    rank(world, other, 2)
    rank(world, next_one, 3)
    plan = actor_for(world.plan_user)
    result = actions.refresh_plan_list(plan, world.partnership_a, size=2)
    entry = result.high_risk_list.entries.get(patient=mother)
    actions.remove_from_list(plan, entry, reason=PREGNANCY_ENDED)
    again = actions.refresh_plan_list(plan, world.partnership_a)
    active = [e.patient for e in again.high_risk_list.entries.filter(removed_at=None)]
    assert active == [other, next_one], "the list is filled up to its size from further down"
    assert [e.patient for e in again.held_back] == [mother]


def test_only_the_plans_staff_refresh_its_list(world: World) -> None:
    rank(world, world.patient_a, 1)
    with pytest.raises(PermissionDenied):
        actions.refresh_plan_list(actor_for(world.user_a), world.partnership_a)
    with pytest.raises(Http404):
        actions.refresh_plan_list(actor_for(world.plan_q_user), world.partnership_a)


def test_refresh_without_a_published_ranking_says_so(world: World) -> None:
    with pytest.raises(ConferenceError, match="No ranking"):
        actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)


def test_the_practice_adds_a_patient_with_its_reasons_at_a_rank(world: World) -> None:
    first = member_of_a(world, "Ida", "Moss")
    practice = actor_for(world.user_a)
    _, practice_list = lists(world.partnership_a)
    actions.add_to_list(practice, practice_list, first, reasons=["falls at home"])
    entry = actions.add_to_list(
        practice, practice_list, world.patient_a, reasons=["lives alone", "new CHF"], rank=1
    )
    assert entry.rank == 1 and entry.source == EntrySource.PICKED
    assert entry.reasons == ["lives alone", "new CHF"]
    first_entry = practice_list.entries.get(patient=first)
    assert first_entry.rank == 2
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, patient_id=world.patient_a.pk, object_id=str(entry.pk)
    ).exists()


def test_adding_needs_a_reason_a_visible_member_and_a_free_place(world: World) -> None:
    practice = actor_for(world.user_a)
    plan_list, practice_list = lists(world.partnership_a)
    with pytest.raises(ConferenceError, match="Say why") as no_reason:
        actions.add_to_list(practice, practice_list, world.patient_a, reasons=["  "])
    assert no_reason.value.field == "reasons"
    with pytest.raises(Http404):
        actions.add_to_list(practice, practice_list, world.patient_b, reasons=["x"])
    not_member = factories.make_patient(practice=world.practice_a, family_name="Uninsured")
    with pytest.raises(ConferenceError, match="not a member of Plan P"):
        actions.add_to_list(practice, practice_list, not_member, reasons=["x"])
    actions.add_to_list(practice, practice_list, world.patient_a, reasons=["x"])
    with pytest.raises(ConferenceError, match="already on this list at #1"):
        actions.add_to_list(practice, practice_list, world.patient_a, reasons=["y"])
    with pytest.raises(PermissionDenied):
        actions.add_to_list(practice, plan_list, world.patient_a, reasons=["x"])


def test_removal_needs_a_reason_and_keeps_the_entry_in_history(world: World) -> None:
    practice = actor_for(world.user_a)
    _, practice_list = lists(world.partnership_a)
    entry = actions.add_to_list(practice, practice_list, world.patient_a, reasons=["pregnancy"])
    other = actions.add_to_list(
        practice, practice_list, member_of_a(world, "Ida", "Moss"), reasons=["falls"]
    )
    with pytest.raises(ConferenceError, match="Say why") as missing:
        actions.remove_from_list(practice, entry, reason="   ")
    assert missing.value.field == "reason"
    entry.refresh_from_db()
    assert entry.removed_at is None

    actions.remove_from_list(practice, entry, reason=PREGNANCY_ENDED)
    entry.refresh_from_db()
    assert entry.removed_at is not None and entry.removed_by == world.user_a
    assert entry.removal_reason == PREGNANCY_ENDED
    other.refresh_from_db()
    assert other.rank == 1, "the rest of the list closes up"
    with pytest.raises(ConferenceError, match="already taken off"):
        actions.remove_from_list(practice, entry, reason="again")

    history = queries.list_history(practice, world.partnership_a)
    removed = [e for e in history if e.what == "removed"]
    assert removed[0].patient == world.patient_a and removed[0].why == [PREGNANCY_ENDED]
    assert removed[0].by == world.user_a
    assert {(e.what, e.patient) for e in history} >= {
        ("added", world.patient_a),
        ("added", other.patient),
    }
    # Back on the list later: a new entry, the old one stays in history.
    again = actions.add_to_list(practice, practice_list, world.patient_a, reasons=["new admission"])
    assert again.pk != entry.pk


def test_the_practice_cannot_remove_the_plans_entries(world: World) -> None:
    rank(world, world.patient_a, 1)
    result = actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)
    entry = result.high_risk_list.entries.get()
    with pytest.raises(PermissionDenied):
        actions.remove_from_list(actor_for(world.user_a), entry, reason=PREGNANCY_ENDED)
    response = login(Client(), world.user_a).post(
        f"/conference/entries/{entry.pk}/remove/", {"reason": PREGNANCY_ENDED}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.removed_at is None


def test_a_read_only_role_cannot_change_a_list(world: World) -> None:
    facilitator = factories.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    _, practice_list = lists(world.partnership_a)
    with pytest.raises(PermissionDenied):
        actions.add_to_list(actor_for(facilitator), practice_list, world.patient_a, reasons=["x"])
    page = login(Client(), facilitator).get(
        f"/conference/partnerships/{world.partnership_a.pk}/lists/"
    )
    assert page.status_code == 200
    assert b"Add a patient" not in page.content and b"Upload CSV" not in page.content


def test_the_database_keeps_one_active_entry_per_patient_and_a_reason_per_removal(
    world: World,
) -> None:
    _, practice_list = lists(world.partnership_a)
    entry = actions.add_to_list(
        actor_for(world.user_a), practice_list, world.patient_a, reasons=["x"]
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        HighRiskEntry.objects.create(
            high_risk_list=practice_list,
            patient=world.patient_a,
            rank=2,
            source=EntrySource.PICKED,
            added_by=world.user_a,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        HighRiskEntry.objects.filter(pk=entry.pk).update(
            removed_at=timezone.now(), removed_by=world.user_a
        )


def _both_lists(world: World) -> dict[str, Patient]:
    """Plan: common1 (1), plan_only (2), common2 (3). Practice: practice_only (1),
    common2 (2), common1 (3)."""
    common1, plan_only, common2, practice_only = (
        member_of_a(world, "M", n) for n in ("Common-One", "PlanOnly", "Common-Two", "PracOnly")
    )
    for position, patient in enumerate((common1, plan_only, common2), start=1):
        rank(world, patient, position, drivers=(f"driver {position}",))
    actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)
    _, practice_list = lists(world.partnership_a)
    practice = actor_for(world.user_a)
    for patient in (practice_only, common2, common1):
        actions.add_to_list(
            practice, practice_list, patient, reasons=[f"why {patient.family_name}"]
        )
    return {
        "common1": common1,
        "plan_only": plan_only,
        "common2": common2,
        "practice_only": practice_only,
    }


def test_combined_list_puts_common_patients_first_then_plan_then_practice_only(
    world: World,
) -> None:
    p = _both_lists(world)
    rows = queries.combined_list(actor_for(world.plan_user), world.partnership_a)
    assert [r.patient for r in rows] == [
        p["common1"],
        p["common2"],
        p["plan_only"],
        p["practice_only"],
    ]
    assert [r.presence for r in rows] == ["common", "common", "plan_only", "practice_only"]
    assert [(r.plan_rank, r.practice_rank) for r in rows] == [(1, 3), (3, 2), (2, None), (None, 1)]
    assert rows[0].plan_reasons[0] == "driver 1"
    assert rows[0].practice_reasons == ["why Common-One"]


def test_removed_entries_leave_the_combined_list(world: World) -> None:
    p = _both_lists(world)
    plan = actor_for(world.plan_user)
    entry = HighRiskEntry.objects.get(patient=p["common1"], high_risk_list__owner=world.plan)
    actions.remove_from_list(plan, entry, reason=PREGNANCY_ENDED)
    rows = queries.combined_list(plan, world.partnership_a)
    first = rows[-1] if rows[-1].patient == p["common1"] else None
    assert first is not None and first.presence == "practice_only"
    assert [r.patient for r in rows][:1] == [p["common2"]]


def test_a_practice_sees_only_its_own_patients_of_the_plans_list(world: World) -> None:
    elsewhere = factories.make_patient(plan=world.plan, family_name="Elsewhere")
    rank(world, elsewhere, 1)
    rank(world, world.patient_a, 2)
    actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)
    practice_view = queries.lists_overview(actor_for(world.user_a), world.partnership_a.pk)
    assert [r.patient for r in practice_view.combined] == [world.patient_a]
    assert practice_view.hidden_entries == 1
    plan_view = queries.lists_overview(actor_for(world.plan_user), world.partnership_a.pk)
    assert [(r.patient, r.attributed_to_practice) for r in plan_view.combined] == [
        (elsewhere, False),
        (world.patient_a, True),
    ]


def test_lists_page_shows_both_lists_and_the_combined_list_and_audits(world: World) -> None:
    p = _both_lists(world)
    client = login(Client(), world.plan_user)
    response = client.get(f"/conference/partnerships/{world.partnership_a.pk}/lists/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Plan P's list" in page and "Practice A's list" in page
    assert "On both lists" in page and "Refresh from analytics" in page
    assert page.index("Common-One") < page.index("PlanOnly") < page.index("PracOnly")
    viewed = set(
        AuditEvent.objects.filter(
            action=AuditAction.VIEW, detail__page="high_risk_lists"
        ).values_list("patient_id", flat=True)
    )
    assert viewed == {pt.pk for pt in p.values()}


def test_practice_page_offers_add_and_upload_and_remove_only_on_its_own_list(
    world: World,
) -> None:
    rank(world, world.patient_a, 1)
    actions.refresh_plan_list(actor_for(world.plan_user), world.partnership_a)
    client = login(Client(), world.user_a)
    page = client.get(f"/conference/partnerships/{world.partnership_a.pk}/lists/").content
    assert b"Upload CSV" in page and b"Add a patient" in page
    assert b"Refresh from analytics" not in page
    assert b"Remove from the list" not in page, "the plan's entries are the plan's to remove"


def test_practice_removes_through_the_page_and_an_empty_reason_changes_nothing(
    world: World,
) -> None:
    _, practice_list = lists(world.partnership_a)
    entry = actions.add_to_list(
        actor_for(world.user_a), practice_list, world.patient_a, reasons=["x"]
    )
    client = login(Client(), world.user_a)
    url = f"/conference/entries/{entry.pk}/remove/"
    empty = client.post(url, {"reason": "  "}, follow=True)
    assert "Say why" in empty.content.decode()
    entry.refresh_from_db()
    assert entry.removed_at is None
    done = client.post(url, {"reason": PREGNANCY_ENDED}, follow=True)
    assert "history keeps who, when and why" in done.content.decode()
    entry.refresh_from_db()
    assert entry.removal_reason == PREGNANCY_ENDED
    history = client.get(f"/conference/partnerships/{world.partnership_a.pk}/lists/history/")
    assert PREGNANCY_ENDED in history.content.decode()


def test_refresh_through_the_page(world: World) -> None:
    rank(world, world.patient_a, 1)
    url = f"/conference/partnerships/{world.partnership_a.pk}/lists/refresh/"
    plan = login(Client(), world.plan_user).post(url, {"size": "40"}, follow=True)
    assert "1 added" in plan.content.decode()
    assert PlanRanking.objects.count() == 1
    _, practice_list = lists(world.partnership_a)
    assert practice_list.entries.count() == 0
    practice = login(Client(), world.user_a).post(url, {}, follow=True)
    assert "Only Plan P&#x27;s staff refresh" in practice.content.decode()


def test_add_page_searches_plan_members_with_htmx_and_adds(world: World) -> None:
    uninsured = factories.make_patient(practice=world.practice_a, family_name="Alvarado")
    client = login(Client(), world.user_a)
    url = f"/conference/partnerships/{world.partnership_a.pk}/lists/add/"
    partial = client.get(url, {"q": "alva"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and "Alvarez, Maria" in body
    assert uninsured.family_name not in body, "only the plan's members can be on its lists"
    bad = client.post(url, {"q": "alva", "patient": world.patient_a.pk, "reasons": ""})
    assert bad.status_code == 400 and "Say why" in bad.content.decode()
    ok = client.post(url, {"patient": world.patient_a.pk, "reasons": "CHF\nlives alone"})
    assert ok.status_code == 302
    entry = HighRiskEntry.objects.get(patient=world.patient_a)
    assert entry.reasons == ["CHF", "lives alone"]
    assert entry.high_risk_list.owner == world.practice_a


def test_combined_list_csv_is_exported_and_audited(world: World) -> None:
    p = _both_lists(world)
    pm = project_manager(world)
    response = login(Client(), pm).get(
        f"/conference/partnerships/{world.partnership_a.pk}/lists/combined.csv"
    )
    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("position,on_lists,plan_rank,practice_rank,last_name")
    assert lines[1].startswith("1,On both lists,1,3,Common-One,M,")
    assert len(lines) == 5
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT,
        patient_id=p["common1"].pk,
    ).exists()


def test_another_organization_gets_404_for_the_lists(world: World) -> None:
    client = login(Client(), world.user_b)
    assert (
        client.get(f"/conference/partnerships/{world.partnership_a.pk}/lists/").status_code == 404
    )
