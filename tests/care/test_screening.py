"""Recording screenings and their pages: history, instrument forms, results and next steps."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote_plus

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care import screening as instruments
from caseboard.care.actions.screening import SAFETY_TASK_TITLE, record_screening
from caseboard.care.errors import CareError
from caseboard.care.models import Notification, Screening, Task
from caseboard.orgs.models import OrganizationKind, Role
from tests import factories as f
from tests.conftest import World, login

NEGATIVE_AHC: dict[str, Any] = {
    "q1": "steady",
    "q2": ["none"],
    "q3": "never",
    "q4": "never",
    "q5": "no",
    "q6": "no",
    "q7": 1,
    "q8": 1,
    "q9": 1,
    "q10": 1,
}


def phq9(total: int, item9: int = 0) -> dict[str, Any]:
    points = [0] * 9
    points[8] = item9
    left = total - item9
    for i in range(8):
        points[i] = min(3, left)
        left -= points[i]
    return {f"q{n}": p for n, p in enumerate(points, start=1)}


def today() -> datetime.date:
    return timezone.localdate()


# --- record_screening ---------------------------------------------------------------------


def test_recording_saves_the_scored_result_and_audits_it(world: World) -> None:
    actor = f.actor_for(world.user_a)
    screening = record_screening(actor, world.patient_a, "phq9", phq9(12))
    screening.refresh_from_db()
    assert screening.score == 12
    assert screening.positive
    assert not screening.safety_flag
    assert screening.interpretation.startswith("Moderate depression symptoms (PHQ-9 12/27)")
    assert screening.administered_on == today()
    assert screening.organization == world.practice_a
    assert screening.administered_by == world.user_a
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE,
        patient_id=world.patient_a.pk,
        object_type="care.screening",
        object_id=str(screening.pk),
    ).exists()


def test_an_incomplete_answer_set_saves_nothing(world: World) -> None:
    answers = phq9(12)
    del answers["q4"]
    with pytest.raises(CareError) as refused:
        record_screening(f.actor_for(world.user_a), world.patient_a, "phq9", answers)
    assert refused.value.field == "q4"
    assert not Screening.objects.exists()


def test_a_future_date_is_refused(world: World) -> None:
    with pytest.raises(CareError) as refused:
        record_screening(
            f.actor_for(world.user_a),
            world.patient_a,
            "phq2",
            {"q1": 0, "q2": 0},
            administered_on=today() + datetime.timedelta(days=2),
        )
    assert refused.value.field == "administered_on"


def test_an_earlier_date_is_kept(world: World) -> None:
    day = today() - datetime.timedelta(days=3)
    screening = record_screening(
        f.actor_for(world.user_a), world.patient_a, "phq2", {"q1": 0, "q2": 0}, administered_on=day
    )
    assert screening.administered_on == day


def test_another_practices_patient_cannot_be_screened(world: World) -> None:
    with pytest.raises(Http404):
        record_screening(f.actor_for(world.user_a), world.patient_b, "phq2", {"q1": 0, "q2": 0})


def test_a_read_only_role_cannot_record(world: World) -> None:
    facilitator = f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    with pytest.raises(PermissionDenied):
        record_screening(f.actor_for(facilitator), world.patient_a, "phq2", {"q1": 0, "q2": 0})


def test_audit_c_uses_the_patients_sex(world: World) -> None:
    actor = f.actor_for(world.user_a)
    answers = {"q1": 1, "q2": 1, "q3": 1}
    assert record_screening(actor, world.patient_a, "audit_c", answers).positive  # female: 3
    world.patient_a.sex = "male"
    world.patient_a.save()
    assert not record_screening(actor, world.patient_a, "audit_c", answers).positive


def test_item_9_creates_a_high_priority_task_due_today_for_the_screener(world: World) -> None:
    actor = f.actor_for(world.user_a)
    screening = record_screening(actor, world.patient_a, "phq9", phq9(3, item9=1))
    assert screening.safety_flag
    assert not screening.positive
    task = Task.objects.get(patient=world.patient_a)
    assert task.title == SAFETY_TASK_TITLE
    assert task.priority == "high"
    assert task.due_on == today()
    assert task.source == "screening"
    assert task.owner_user == world.user_a
    assert task.owner_organization == world.practice_a
    assert f"/care/screenings/{screening.pk}/" in task.detail


def test_item_9_notifies_the_lead_care_manager_when_someone_else_screened(world: World) -> None:
    lead = f.make_user(world.practice_a, Role.CLINICAL_CARE_MANAGER, username="lead.rn")
    f.make_care_team_member(world.patient_a, world.practice_a, lead)
    record_screening(f.actor_for(world.user_a), world.patient_a, "phq9", phq9(5, item9=2))
    note = Notification.objects.get(user=lead)
    assert note.kind == "screening_safety_flag"
    assert note.patient == world.patient_a
    # The title goes out by e-mail: it must not name the patient.
    assert "Alvarez" not in note.title and "Alvarez" in note.body


def test_item_9_finds_the_lead_through_the_open_enrollment(world: World) -> None:
    manager = f.make_user(world.plan, Role.CASE_MANAGER, username="plan.lead")
    f.make_enrollment(world.patient_a, world.plan, manager, program="plan_complex")
    record_screening(f.actor_for(world.user_a), world.patient_a, "phq9", phq9(5, item9=1))
    assert Notification.objects.filter(user=manager, organization=world.plan).exists()


def test_no_notification_when_the_screener_is_the_lead(world: World) -> None:
    f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    record_screening(f.actor_for(world.user_a), world.patient_a, "phq9", phq9(5, item9=1))
    assert not Notification.objects.exists()
    assert Task.objects.count() == 1


def test_no_task_without_the_safety_flag(world: World) -> None:
    record_screening(f.actor_for(world.user_a), world.patient_a, "phq9", phq9(24))
    assert not Task.objects.exists()


def test_ahc_positive_domains_join_the_patients_social_needs_once(world: World) -> None:
    world.patient_a.social_needs = ["Food insecurity"]
    world.patient_a.save()
    actor = f.actor_for(world.user_a)
    answers = {**NEGATIVE_AHC, "q3": "often", "q5": "yes"}
    screening = record_screening(actor, world.patient_a, "ahc_hrsn", answers)
    record_screening(actor, world.patient_a, "ahc_hrsn", answers)
    world.patient_a.refresh_from_db()
    assert screening.positive_domains == ["food", "transportation"]
    assert screening.score is None
    assert world.patient_a.social_needs == ["Food insecurity", "Transportation"]
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_type="patients.patient", patient_id=world.patient_a.pk
    ).exists()


def test_a_negative_ahc_screen_leaves_social_needs_alone(world: World) -> None:
    record_screening(f.actor_for(world.user_a), world.patient_a, "ahc_hrsn", NEGATIVE_AHC)
    world.patient_a.refresh_from_db()
    assert world.patient_a.social_needs == []


# --- Pages --------------------------------------------------------------------------------


def _url(world: World) -> str:
    return f"/care/patients/{world.patient_a.pk}/screenings/"


def test_history_lists_screenings_and_offers_each_instrument(world: World) -> None:
    record_screening(
        f.actor_for(world.user_a), world.patient_a, "gad7", {f"q{n}": 2 for n in range(1, 8)}
    )
    response = login(Client(), world.user_a).get(_url(world))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Moderate anxiety symptoms (GAD-7 14/21)" in html
    for d in instruments.DEFINITIONS.values():
        assert f"?instrument={d.code}" in html
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, username="a.rn"
    ).exists()


def test_the_phq9_form_shows_every_item_in_its_published_wording(world: World) -> None:
    html = login(Client(), world.user_a).get(_url(world), {"instrument": "phq9"}).content.decode()
    for item in instruments.definition("phq9").items:
        assert item.text.replace("'", "&#x27;") in html
    assert 'type="radio" name="q9" value="3"' in html
    assert "Nearly every day (3)" in html


def test_posting_the_form_records_and_redirects_to_the_result(world: World) -> None:
    client = login(Client(), world.user_a)
    data = {
        "instrument": "phq9",
        **{k: str(v) for k, v in phq9(10).items()},
        "difficulty": "somewhat",
    }
    response = client.post(_url(world), data)
    screening = Screening.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/care/screenings/{screening.pk}/"
    assert screening.score == 10
    assert screening.answers["difficulty"] == "somewhat"


def test_a_missing_answer_re_renders_the_form_naming_the_item(world: World) -> None:
    data = {"instrument": "phq9", **{k: str(v) for k, v in phq9(10).items()}}
    del data["q9"]
    response = login(Client(), world.user_a).post(_url(world), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Answer item 9 of the PHQ-9" in html
    assert 'id="id_q1_3" checked' in html  # what was chosen is kept
    assert not Screening.objects.exists()


def test_an_unknown_instrument_is_explained(world: World) -> None:
    response = login(Client(), world.user_a).get(_url(world), {"instrument": "phq10"})
    assert "is not an instrument caseboard scores" in response.content.decode()


def test_a_read_only_role_sees_history_but_cannot_post(world: World) -> None:
    facilitator = f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    client = login(Client(), facilitator)
    assert client.get(_url(world)).status_code == 200
    response = client.post(_url(world), {"instrument": "phq2", "q1": "0", "q2": "0"})
    assert response.status_code == 403
    assert not Screening.objects.exists()


def test_another_practice_gets_404_for_the_screenings_and_the_result(world: World) -> None:
    screening = record_screening(
        f.actor_for(world.user_a), world.patient_a, "phq2", {"q1": 1, "q2": 1}
    )
    client = login(Client(), world.user_b)
    assert client.get(_url(world)).status_code == 404
    assert client.get(f"/care/screenings/{screening.pk}/").status_code == 404


def test_the_plan_partner_sees_the_practices_screening(world: World) -> None:
    screening = record_screening(
        f.actor_for(world.user_a), world.patient_a, "phq2", {"q1": 1, "q2": 1}
    )
    response = login(Client(), world.plan_user).get(f"/care/screenings/{screening.pk}/")
    assert response.status_code == 200


def test_a_community_organization_sees_no_screening(world: World) -> None:
    cbo = f.make_org(OrganizationKind.CBO, "Food Pantry")
    worker = f.make_user(cbo, Role.COMMUNITY_HEALTH_WORKER)
    screening = record_screening(
        f.actor_for(world.user_a), world.patient_a, "phq2", {"q1": 1, "q2": 1}
    )
    client = login(Client(), worker)
    assert client.get(_url(world)).status_code == 404
    assert client.get(f"/care/screenings/{screening.pk}/").status_code == 404


def test_the_result_shows_the_safety_banner_and_the_task(world: World) -> None:
    screening = record_screening(
        f.actor_for(world.user_a), world.patient_a, "phq9", phq9(3, item9=1)
    )
    response = login(Client(), world.user_a).get(f"/care/screenings/{screening.pk}/")
    html = response.content.decode()
    assert 'data-testid="safety-banner"' in html
    assert "Urgent: assess the patient's safety today" in html
    assert "“Several days”" in html
    assert "A high-priority task due today" in html
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type="care.screening", object_id=str(screening.pk)
    ).exists()


def test_no_safety_banner_without_the_flag(world: World) -> None:
    screening = record_screening(f.actor_for(world.user_a), world.patient_a, "phq9", phq9(20))
    html = login(Client(), world.user_a).get(f"/care/screenings/{screening.pk}/").content.decode()
    assert 'data-testid="safety-banner"' not in html


def test_positive_phq9_offers_a_referral_and_a_task_as_buttons(world: World) -> None:
    screening = record_screening(f.actor_for(world.user_a), world.patient_a, "phq9", phq9(11))
    html = login(Client(), world.user_a).get(f"/care/screenings/{screening.pk}/").content.decode()
    pid = world.patient_a.pk
    assert (
        f"/care/patients/{pid}/referrals/?category=behavioral_health&amp;screening={screening.pk}"
        in html
    )
    title = quote_plus("Refer to behavioral health / warm hand-off to the BH provider")
    assert f"/care/tasks/new/?patient={pid}&amp;source=screening&amp;title={title}" in html


def test_food_need_links_to_the_directory_filtered_by_food(world: World) -> None:
    answers = {**NEGATIVE_AHC, "q4": "sometimes"}
    screening = record_screening(f.actor_for(world.user_a), world.patient_a, "ahc_hrsn", answers)
    html = login(Client(), world.user_a).get(f"/care/screenings/{screening.pk}/").content.decode()
    assert "Refer to a food resource" in html
    assert (
        f"/care/resources/?category=food&amp;screening={screening.pk}&amp;patient="
        f"{world.patient_a.pk}" in html
    )
    assert "Food insecurity" in html


def test_positive_phq2_offers_the_phq9_form(world: World) -> None:
    screening = record_screening(
        f.actor_for(world.user_a), world.patient_a, "phq2", {"q1": 2, "q2": 1}
    )
    html = login(Client(), world.user_a).get(f"/care/screenings/{screening.pk}/").content.decode()
    assert f"/care/patients/{world.patient_a.pk}/screenings/?instrument=phq9" in html
