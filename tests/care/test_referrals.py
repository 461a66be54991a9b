"""Closed-loop referrals: sending, the status lifecycle, who may move it, outcomes, the pages
of the referring side and of the receiving community organization."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.referrals import (
    ALLOWED_TRANSITIONS,
    OUTCOMES_FOR,
    next_statuses,
    refer,
    update_referral,
)
from caseboard.care.actions.screening import record_screening
from caseboard.care.errors import CareError, StaleVersion
from caseboard.care.models import (
    CommunityResource,
    Notification,
    Referral,
    ReferralStatus,
    ReferralUpdate,
)
from caseboard.orgs.models import Organization, OrganizationKind, Role
from tests import factories as f
from tests.conftest import World, login

S = ReferralStatus


@dataclass
class Cbo:
    org: Organization
    worker: User
    resource: CommunityResource


@pytest.fixture
def cbo(world: World) -> Cbo:
    """A food bank that uses caseboard, listed in plan P's directory."""
    org = f.make_org(OrganizationKind.CBO, "Merrimack Food Bank")
    worker = f.make_user(org, Role.CARE_COORDINATOR, username="cbo.intake")
    resource = f.make_resource(world.plan, name="Merrimack Food Bank pantry", receiving=org)
    return Cbo(org, worker, resource)


def send(world: World, resource: CommunityResource) -> Referral:
    return refer(
        f.actor_for(world.user_a),
        world.patient_a,
        resource,
        category="food",
        reason="Runs out of food before the end of the month",
    )


# --- The lifecycle table ---------------------------------------------------------------------


def test_the_allowed_transitions_are_the_closed_loop() -> None:
    table = {status: set(targets) for status, targets in ALLOWED_TRANSITIONS.items()}
    assert table == {
        S.SENT: {S.ACCEPTED, S.DECLINED, S.CANCELLED},
        S.ACCEPTED: {S.IN_PROGRESS, S.COMPLETED, S.DECLINED, S.CANCELLED},
        S.IN_PROGRESS: {S.COMPLETED, S.CANCELLED},
        S.COMPLETED: set(),
        S.DECLINED: set(),
        S.CANCELLED: set(),
    }
    assert set(OUTCOMES_FOR[S.COMPLETED]) == {"need_met", "partly_met", "not_met"}


PATHS = {
    S.SENT: [],
    S.ACCEPTED: [S.ACCEPTED],
    S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS],
    S.COMPLETED: [S.ACCEPTED, S.COMPLETED],
    S.DECLINED: [S.DECLINED],
    S.CANCELLED: [S.CANCELLED],
}


def _outcome(status: str) -> str:
    return OUTCOMES_FOR[status][0] if status in OUTCOMES_FOR else ""


@pytest.mark.parametrize("start", list(S.values))
@pytest.mark.parametrize("target", list(S.values))
def test_every_transition_follows_the_table(world: World, start: str, target: str) -> None:
    # The food bank is not in caseboard, so the referring side records every step.
    referral = send(world, f.make_resource(world.plan))
    actor = f.actor_for(world.user_a)
    for step in PATHS[start]:
        update_referral(actor, referral, step, outcome=_outcome(step))
    if target in ALLOWED_TRANSITIONS[start]:
        updated = update_referral(actor, referral, target, outcome=_outcome(target))
        assert updated.status == target
    else:
        with pytest.raises(CareError) as refused:
            update_referral(actor, referral, target, outcome=_outcome(target))
        assert refused.value.field == "status"
        referral.refresh_from_db()
        assert referral.status == start


# --- Sending ---------------------------------------------------------------------------------


def test_refer_sends_the_referral_and_tells_the_receiving_organization(
    world: World, cbo: Cbo
) -> None:
    referral = send(world, cbo.resource)
    assert referral.status == S.SENT
    assert referral.organization == world.practice_a
    assert referral.referred_by == world.user_a
    update = ReferralUpdate.objects.get(referral=referral)
    assert (update.status, update.by_organization) == (S.SENT, world.practice_a)
    note = Notification.objects.get(user=cbo.worker)
    assert note.organization == cbo.org
    assert note.url == f"/care/referrals/{referral.pk}/"
    assert "Alvarez" not in note.title and "Alvarez" in note.body
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="care.referral", patient_id=world.patient_a.pk
    ).exists()


def test_the_service_must_be_one_the_program_offers(world: World) -> None:
    resource = f.make_resource(world.plan, categories=("housing",))
    with pytest.raises(CareError) as refused:
        send(world, resource)
    assert refused.value.field == "category"
    assert "offers housing" in refused.value.message
    assert not Referral.objects.exists()


def test_a_program_not_taking_referrals_is_refused(world: World) -> None:
    resource = f.make_resource(world.plan)
    resource.is_active = False
    resource.save()
    with pytest.raises(CareError) as refused:
        send(world, resource)
    assert refused.value.field == "resource"


def test_a_reason_is_required(world: World) -> None:
    with pytest.raises(CareError) as refused:
        refer(
            f.actor_for(world.user_a),
            world.patient_a,
            f.make_resource(world.plan),
            category="food",
            reason="  ",
        )
    assert refused.value.field == "reason"


def test_the_screening_must_be_the_patients(world: World) -> None:
    other = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Other")
    screening = record_screening(f.actor_for(world.user_a), other, "phq2", {"q1": 0, "q2": 0})
    with pytest.raises(CareError) as refused:
        refer(
            f.actor_for(world.user_a),
            world.patient_a,
            f.make_resource(world.plan),
            category="food",
            reason="Food",
            screening=screening,
        )
    assert refused.value.field == "screening"


def test_another_plans_program_is_not_reachable(world: World) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        send(world, f.make_resource(world.plan_q))


# --- Updating: who may do what ----------------------------------------------------------------


def test_the_receiving_organization_accepts_and_completes_with_an_outcome(
    world: World, cbo: Cbo
) -> None:
    referral = send(world, cbo.resource)
    worker = f.actor_for(cbo.worker)
    assert next_statuses(worker, referral) == [S.ACCEPTED, S.DECLINED]
    update_referral(worker, referral, S.ACCEPTED, note="Intake call booked")
    accepted = Notification.objects.get(user=world.user_a)
    assert accepted.title == "Referral accepted"
    with pytest.raises(CareError) as refused:
        update_referral(worker, referral, S.COMPLETED)
    assert refused.value.field == "outcome"
    with pytest.raises(CareError):
        update_referral(worker, referral, S.COMPLETED, outcome="not_eligible")
    done = update_referral(worker, referral, S.COMPLETED, outcome="need_met", note="Enrolled")
    assert done.status == S.COMPLETED
    assert done.outcome == "need_met"
    assert done.outcome_note == "Enrolled"
    assert done.closed_at is not None
    assert [u.status for u in done.updates.all()] == [S.SENT, S.ACCEPTED, S.COMPLETED]
    assert ReferralUpdate.objects.filter(referral=done, by_organization=cbo.org).count() == 2
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.UPDATE, object_type="care.referral", username="cbo.intake"
        ).count()
        == 2
    )


def test_the_receiving_organization_cannot_cancel(world: World, cbo: Cbo) -> None:
    referral = send(world, cbo.resource)
    with pytest.raises(CareError) as refused:
        update_referral(f.actor_for(cbo.worker), referral, S.CANCELLED, outcome="not_met")
    assert "decline it instead" in refused.value.message


def test_the_referring_side_only_cancels_when_the_organization_is_in_caseboard(
    world: World, cbo: Cbo
) -> None:
    referral = send(world, cbo.resource)
    actor = f.actor_for(world.user_a)
    assert next_statuses(actor, referral) == [S.CANCELLED]
    with pytest.raises(CareError):
        update_referral(actor, referral, S.ACCEPTED)
    update_referral(actor, referral, S.CANCELLED, outcome="patient_declined", note="Moved away")
    # The food bank hears of it.
    assert Notification.objects.filter(user=cbo.worker, title__startswith="Referral cancelled")


def test_on_behalf_updates_say_how_the_organization_reported_them(world: World) -> None:
    referral = send(world, f.make_resource(world.plan))
    actor = f.actor_for(world.user_a)
    assert next_statuses(actor, referral) == [S.ACCEPTED, S.DECLINED, S.CANCELLED]
    update_referral(actor, referral, S.ACCEPTED)
    done = update_referral(
        actor, referral, S.COMPLETED, outcome="partly_met", note="Got a box", reported_via="fax"
    )
    notes = [u.note for u in done.updates.all()]
    assert notes[1] == "Reported by phone by Greater Boston Food Bank"
    assert notes[2] == "Reported by fax by Greater Boston Food Bank: Got a box"
    assert done.outcome == "partly_met"


def test_a_colleague_closing_the_loop_tells_the_referrer(world: World) -> None:
    referral = send(world, f.make_resource(world.plan))
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    update_referral(f.actor_for(colleague), referral, S.DECLINED, outcome="not_eligible")
    assert Notification.objects.filter(user=world.user_a, patient=world.patient_a).exists()


def test_a_partner_sees_the_referral_but_cannot_update_it(world: World) -> None:
    referral = send(world, f.make_resource(world.plan))
    plan = f.actor_for(world.plan_user)
    assert next_statuses(plan, referral) == []
    with pytest.raises(PermissionDenied):
        update_referral(plan, referral, S.ACCEPTED)


def test_a_stale_status_is_not_overwritten(world: World, cbo: Cbo) -> None:
    referral = send(world, cbo.resource)
    update_referral(f.actor_for(cbo.worker), referral, S.DECLINED, outcome="not_eligible")
    with pytest.raises(StaleVersion):
        update_referral(
            f.actor_for(world.user_a),
            referral,
            S.CANCELLED,
            outcome="not_met",
            expected_status=S.SENT,
        )


# --- Pages: the referring side ----------------------------------------------------------------


def test_patient_referrals_page_prefills_from_a_screening(world: World) -> None:
    resource = f.make_resource(world.plan, categories=("food", "housing"))
    screening = record_screening(
        f.actor_for(world.user_a),
        world.patient_a,
        "ahc_hrsn",
        {
            "q1": "steady",
            "q2": ["none"],
            "q3": "often",
            "q4": "never",
            "q5": "no",
            "q6": "no",
            "q7": 1,
            "q8": 1,
            "q9": 1,
            "q10": 1,
        },
    )
    response = login(Client(), world.user_a).get(
        f"/care/patients/{world.patient_a.pk}/referrals/",
        {"resource": resource.pk, "category": "food", "screening": screening.pk},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{resource.pk}" data-categories="food housing" selected>' in html
    assert '<option value="food" selected>' in html
    assert "AHC HRSN on" in html and "Positive for: Food insecurity" in html
    assert f'name="screening" value="{screening.pk}"' in html


def test_posting_a_referral_sends_it_and_opens_it(world: World) -> None:
    resource = f.make_resource(world.plan)
    response = login(Client(), world.user_a).post(
        f"/care/patients/{world.patient_a.pk}/referrals/",
        {"resource": resource.pk, "category": "food", "reason": "Food insecurity"},
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/care/referrals/{referral.pk}/"
    assert referral.reason == "Food insecurity"


def test_a_bad_referral_re_renders_with_the_reason_and_saves_nothing(world: World) -> None:
    resource = f.make_resource(world.plan, categories=("housing",))
    response = login(Client(), world.user_a).post(
        f"/care/patients/{world.patient_a.pk}/referrals/",
        {"resource": resource.pk, "category": "food", "reason": "Food"},
    )
    assert response.status_code == 200
    assert "does not offer food services" in response.content.decode()
    assert not Referral.objects.exists()


def test_another_plans_program_cannot_be_posted(world: World) -> None:
    f.make_resource(world.plan)
    resource = f.make_resource(world.plan_q)
    response = login(Client(), world.user_a).post(
        f"/care/patients/{world.patient_a.pk}/referrals/",
        {"resource": resource.pk, "category": "food", "reason": "Food"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Referral.objects.exists()


def test_the_sent_list_puts_open_referrals_first_and_filters(world: World) -> None:
    actor = f.actor_for(world.user_a)
    first = send(world, f.make_resource(world.plan, name="Closed pantry"))
    update_referral(actor, first, S.DECLINED, outcome="not_eligible")
    send(world, f.make_resource(world.plan, name="Open pantry"))
    f.make_referral(world.patient_b, f.make_resource(world.plan), world.practice_b, world.user_b)
    client = login(Client(), world.user_a)
    everything = client.get("/care/referrals/", {"status": "all"}).content.decode()
    assert everything.index("Open pantry") < everything.index("Closed pantry")
    assert "Brightwater" not in everything
    open_only = client.get("/care/referrals/").content.decode()
    assert "Open pantry" in open_only and "Closed pantry" not in open_only
    declined = client.get("/care/referrals/", {"status": "declined"}).content.decode()
    assert "Closed pantry" in declined and "Open pantry" not in declined
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW,
        patient_id=world.patient_a.pk,
        path="/care/referrals/",
    ).exists()


def test_the_referrer_closes_the_loop_on_the_detail_page(world: World) -> None:
    referral = send(world, f.make_resource(world.plan))
    client = login(Client(), world.user_a)
    page = client.get(f"/care/referrals/{referral.pk}/").content.decode()
    assert "How the organization reported it" in page
    assert f'href="/patients/{world.patient_a.pk}/"' in page
    refused = client.post(
        f"/care/referrals/{referral.pk}/",
        {"status": "declined", "expected_status": "sent"},
    )
    assert refused.status_code == 200
    assert "Choose an outcome to close the referral." in refused.content.decode()
    referral.refresh_from_db()
    assert referral.status == S.SENT
    response = client.post(
        f"/care/referrals/{referral.pk}/",
        {
            "status": "declined",
            "outcome": "not_eligible",
            "note": "Outside the service area",
            "reported_via": "phone",
            "expected_status": "sent",
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (S.DECLINED, "not_eligible")
    closed = client.get(f"/care/referrals/{referral.pk}/").content.decode()
    assert "Reported by phone by Greater Boston Food Bank: Outside the service area" in closed
    assert "Refer elsewhere" in closed


def test_a_stale_form_is_refused_with_a_message(world: World, cbo: Cbo) -> None:
    referral = send(world, cbo.resource)
    update_referral(f.actor_for(cbo.worker), referral, S.ACCEPTED)
    response = login(Client(), world.user_a).post(
        f"/care/referrals/{referral.pk}/",
        {"status": "cancelled", "outcome": "not_met", "expected_status": "sent"},
    )
    assert "Someone changed this referral" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED


def test_another_practice_gets_404_and_a_partner_403_on_update(world: World) -> None:
    referral = send(world, f.make_resource(world.plan))
    assert login(Client(), world.user_b).get(f"/care/referrals/{referral.pk}/").status_code == 404
    plan = login(Client(), world.plan_user)
    assert plan.get(f"/care/referrals/{referral.pk}/").status_code == 200
    forbidden = plan.post(
        f"/care/referrals/{referral.pk}/", {"status": "accepted", "expected_status": "sent"}
    )
    assert forbidden.status_code == 403


# --- Pages: the receiving community organization -----------------------------------------------


def test_a_community_organization_sees_only_its_referrals(world: World, cbo: Cbo) -> None:
    ours = send(world, cbo.resource)
    theirs = send(world, f.make_resource(world.plan, name="Other pantry"))
    client = login(Client(), cbo.worker)
    worklist = client.get("/care/referrals/").content.decode()
    assert "Referrals received" in worklist
    assert "Alvarez, Maria" in worklist and "(617) 555-0123" in worklist
    assert "Other pantry" not in worklist
    assert client.get(f"/care/referrals/{theirs.pk}/").status_code == 404
    assert client.get(f"/care/referrals/{ours.pk}/").status_code == 200


def test_a_community_organization_sees_who_and_why_but_not_the_chart(
    world: World, cbo: Cbo
) -> None:
    referral = send(world, cbo.resource)
    client = login(Client(), cbo.worker)
    html = client.get(f"/care/referrals/{referral.pk}/").content.decode()
    assert "Maria Alvarez" in html
    assert "(617) 555-0123" in html
    assert "Runs out of food before the end of the month" in html
    assert f"/patients/{world.patient_a.pk}/" not in html
    assert "1970-05-17" not in html
    assert client.get(f"/patients/{world.patient_a.pk}/").status_code == 404
    assert client.get(f"/care/patients/{world.patient_a.pk}/referrals/").status_code == 404
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, username="cbo.intake", patient_id=world.patient_a.pk
    ).exists()


def test_a_community_organization_closes_the_loop_in_the_browser_form(
    world: World, cbo: Cbo
) -> None:
    referral = send(world, cbo.resource)
    client = login(Client(), cbo.worker)
    page = client.get(f"/care/referrals/{referral.pk}/").content.decode()
    assert '<option value="accepted">Accepted</option>' in page
    assert '<option value="cancelled">' not in page
    assert "How the organization reported it" not in page
    client.post(
        f"/care/referrals/{referral.pk}/", {"status": "accepted", "expected_status": "sent"}
    )
    client.post(
        f"/care/referrals/{referral.pk}/",
        {"status": "completed", "outcome": "need_met", "expected_status": "accepted"},
    )
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (S.COMPLETED, "need_met")
    assert Notification.objects.filter(user=world.user_a).count() == 2
