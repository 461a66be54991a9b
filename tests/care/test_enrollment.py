from __future__ import annotations

import datetime
import itertools

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.enrollment import ALLOWED_TRANSITIONS, enroll, transition
from caseboard.care.errors import CareError
from caseboard.care.models import Enrollment, EnrollmentStatus, Notification, PatientSurvey
from caseboard.orgs.models import Role
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for

S = EnrollmentStatus
TODAY = timezone.localdate()
LAST_MONTH = TODAY - datetime.timedelta(days=30)

# The lifecycle as issue 5 specifies it, kept apart from the code's table so a change to
# either is caught here.
EXPECTED = {
    "identified": {"outreach", "engaged", "enrolled", "declined", "unable_to_reach", "monitor"},
    "outreach": {"engaged", "enrolled", "declined", "unable_to_reach", "monitor"},
    "engaged": {"enrolled", "declined", "unable_to_reach", "monitor", "disenrolled"},
    "enrolled": {"graduated", "disenrolled", "monitor", "unable_to_reach"},
    "monitor": {"enrolled", "graduated", "disenrolled"},
    "unable_to_reach": {"outreach", "engaged", "enrolled", "disenrolled"},
    "declined": {"outreach", "disenrolled"},
    "graduated": set(),
    "disenrolled": set(),
}


def test_the_transition_table_is_the_lifecycle() -> None:
    assert {k: set(v) for k, v in ALLOWED_TRANSITIONS.items()} == EXPECTED


def test_enroll_opens_an_enrollment_with_its_first_transition(world: World) -> None:
    actor = actor_for(world.user_a)
    enrollment = enroll(
        actor,
        world.patient_a,
        program="practice_cm",
        acuity="high",
        care_manager=world.user_a,
        reason="On the combined high-risk list",
    )
    assert enrollment.lead_organization == world.practice_a
    assert (enrollment.status, enrollment.status_since) == ("identified", TODAY)
    [first] = enrollment.transitions.all()
    assert (first.from_status, first.to_status, first.by) == ("", "identified", world.user_a)
    assert first.reason == "On the combined high-risk list"
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, patient_id=world.patient_a.pk, object_id=str(enrollment.pk)
    ).exists()
    # The care manager joins the patient's care team.
    assert world.patient_a.care_team.filter(user=world.user_a, ended_on__isnull=True).exists()


def test_enrolling_as_enrolled_schedules_the_patient_surveys(world: World) -> None:
    enrollment = enroll(
        actor_for(world.user_a),
        world.patient_a,
        program="hmp",
        acuity="rising",
        care_manager=None,
        status="enrolled",
        on=LAST_MONTH,
    )
    due = sorted(
        PatientSurvey.objects.filter(enrollment=enrollment).values_list("due_on", flat=True)
    )
    assert due == [LAST_MONTH, LAST_MONTH + relativedelta(months=3)]


def test_a_second_open_enrollment_in_the_same_program_is_refused(world: World) -> None:
    actor = actor_for(world.user_a)
    enroll(actor, world.patient_a, program="hhp", acuity="high", care_manager=None)
    with pytest.raises(CareError, match="already has an open Health home") as refused:
        enroll(actor, world.patient_a, program="hhp", acuity="low", care_manager=None)
    assert refused.value.field == "program"
    assert Enrollment.objects.filter(patient=world.patient_a, program="hhp").count() == 1
    # Another program is another enrollment.
    enroll(actor, world.patient_a, program="substance_use", acuity="low", care_manager=None)


def test_after_graduation_the_patient_can_be_enrolled_again(world: World) -> None:
    actor = actor_for(world.user_a)
    first = enroll(
        actor, world.patient_a, program="hhp", acuity="high", care_manager=None, status="enrolled"
    )
    transition(actor, first, "graduated", reason="Goals met")
    again = enroll(actor, world.patient_a, program="hhp", acuity="rising", care_manager=None)
    assert again.pk != first.pk and again.is_open


def test_monitor_is_the_plans_status(world: World) -> None:
    with pytest.raises(CareError, match="Monitor is a health plan's status"):
        enroll(
            actor_for(world.user_a),
            world.patient_a,
            program="practice_cm",
            acuity="high",
            care_manager=None,
            status="monitor",
        )
    plan_case = enroll(
        actor_for(world.plan_user),
        world.patient_a,
        program="plan_complex",
        acuity="high",
        care_manager=world.plan_user,
        status="monitor",
        reason="Practice A leads; plan follows claims (conference decision)",
    )
    assert plan_case.status == "monitor" and plan_case.lead_organization == world.plan


def test_the_care_manager_works_for_the_lead_organization(world: World) -> None:
    with pytest.raises(CareError, match="not an active member of Practice A") as refused:
        enroll(
            actor_for(world.user_a),
            world.patient_a,
            program="practice_cm",
            acuity="high",
            care_manager=world.user_b,
        )
    assert refused.value.field == "care_manager"


def test_an_enrollment_cannot_start_in_the_future_or_as_graduated(world: World) -> None:
    actor = actor_for(world.user_a)
    with pytest.raises(CareError, match="is in the future"):
        enroll(
            actor,
            world.patient_a,
            program="practice_cm",
            acuity="high",
            care_manager=None,
            on=TODAY + datetime.timedelta(days=1),
        )
    with pytest.raises(CareError, match="starts as identified"):
        enroll(
            actor,
            world.patient_a,
            program="practice_cm",
            acuity="high",
            care_manager=None,
            status="graduated",
        )


def test_nobody_enrolls_a_patient_they_cannot_see(world: World) -> None:
    with pytest.raises(Http404):
        enroll(
            actor_for(world.user_a),
            world.patient_b,
            program="hhp",
            acuity="high",
            care_manager=None,
        )


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(S.values, S.values)))
def test_each_transition_is_allowed_or_refused_by_the_table(
    world: World, from_status: str, to_status: str
) -> None:
    # Plan-led, so that "monitor" is a possible status at all.
    enrollment = f.make_enrollment(
        world.patient_a, world.plan, world.plan_user, status=from_status, on=LAST_MONTH
    )
    actor = actor_for(world.plan_user)
    if to_status in EXPECTED[from_status]:
        moved = transition(actor, enrollment, to_status, reason="Care-team meeting")
        assert (moved.status, moved.status_since) == (to_status, TODAY)
        [row] = moved.transitions.all()
        assert (row.from_status, row.to_status, row.reason) == (
            from_status,
            to_status,
            "Care-team meeting",
        )
    else:
        with pytest.raises(CareError) as refused:
            transition(actor, enrollment, to_status, reason="Care-team meeting")
        message = refused.value.message
        assert S(from_status).label.lower() in message and S(to_status).label.lower() in message
        enrollment.refresh_from_db()
        assert enrollment.status == from_status and not enrollment.transitions.exists()


@pytest.mark.parametrize("final", ["graduated", "disenrolled"])
def test_final_statuses_end_the_enrollment(world: World, final: str) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a, on=LAST_MONTH)
    day = LAST_MONTH + datetime.timedelta(days=10)
    moved = transition(actor_for(world.user_a), enrollment, final, reason="x", effective_on=day)
    assert moved.ended_on == day and not moved.is_open


def test_moving_to_enrolled_schedules_surveys_from_the_effective_date(world: World) -> None:
    enrollment = f.make_enrollment(
        world.patient_a, world.practice_a, world.user_a, status="engaged", on=LAST_MONTH
    )
    day = LAST_MONTH + datetime.timedelta(days=3)
    transition(actor_for(world.user_a), enrollment, "enrolled", reason="Agreed", effective_on=day)
    assert set(enrollment.surveys.values_list("kind", "due_on")) == {
        ("enrollment", day),
        ("three_months", day + relativedelta(months=3)),
    }


def test_practice_led_enrollment_cannot_move_to_monitor(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    with pytest.raises(CareError, match="Monitor is a health plan's status"):
        transition(actor_for(world.user_a), enrollment, "monitor", reason="x")


def test_effective_date_is_neither_future_nor_before_the_current_status(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a, on=LAST_MONTH)
    actor = actor_for(world.user_a)
    with pytest.raises(CareError, match="in the future") as future:
        transition(
            actor, enrollment, "graduated", reason="x", effective_on=TODAY + datetime.timedelta(1)
        )
    assert future.value.field == "effective_on"
    with pytest.raises(CareError, match="before the current status began"):
        transition(
            actor,
            enrollment,
            "graduated",
            reason="x",
            effective_on=LAST_MONTH - datetime.timedelta(days=1),
        )
    enrollment.refresh_from_db()
    assert enrollment.status == "enrolled"


def test_a_transition_needs_a_reason(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    with pytest.raises(CareError, match="Say why") as refused:
        transition(actor_for(world.user_a), enrollment, "graduated", reason="  ")
    assert refused.value.field == "reason"


def test_only_the_lead_organizations_staff_move_an_enrollment(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    with pytest.raises(PermissionDenied, match="Practice A leads this enrollment"):
        transition(actor_for(world.plan_user), enrollment, "graduated", reason="x")
    with pytest.raises(Http404):
        transition(actor_for(world.user_b), enrollment, "graduated", reason="x")
    facilitator = f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    with pytest.raises(PermissionDenied):
        transition(actor_for(facilitator), enrollment, "graduated", reason="x")


# --- Pages --------------------------------------------------------------------------------


def test_enroll_page_enrolls_and_shows_the_enrollment(world: World) -> None:
    coordinator = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="a.cc")
    client = login(Client(), world.user_a)
    page = client.get(f"/care/patients/{world.patient_a.pk}/enroll/")
    assert page.status_code == 200
    assert "monitor" not in [v for v, _ in page.context["form"].fields["status"].choices]
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/enroll/",
        {
            "program": "practice_cm",
            "acuity": "high",
            "care_manager": coordinator.pk,
            "status": "enrolled",
            "reason": "Two ED visits in a month",
        },
    )
    enrollment = Enrollment.objects.get(patient=world.patient_a)
    assert response.status_code == 302
    assert response["Location"] == f"/care/enrollments/{enrollment.pk}/"
    assert enrollment.care_manager == coordinator and enrollment.status == "enrolled"
    # The new care manager hears of it (no patient name in the title, which goes by e-mail).
    note = Notification.objects.get(user=coordinator, kind="enrollment_assigned")
    assert world.patient_a.family_name not in note.title
    detail = client.get(response["Location"]).content.decode()
    assert "Two ED visits in a month" in detail and "At 3 months" in detail


def test_enroll_page_refuses_a_duplicate_with_a_clear_message(world: World) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a, program="hhp")
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/enroll/",
        {"program": "hhp", "acuity": "high", "status": "identified"},
    )
    assert response.status_code == 400
    assert "already has an open Health home (HHP) enrollment" in response.content.decode()
    assert Enrollment.objects.filter(patient=world.patient_a).count() == 1


def test_enrollment_page_shows_history_and_the_allowed_next_statuses(world: World) -> None:
    enrollment = enroll(
        actor_for(world.user_a),
        world.patient_a,
        program="practice_cm",
        acuity="high",
        care_manager=world.user_a,
        status="outreach",
        reason="Left a voicemail",
    )
    response = login(Client(), world.user_a).get(f"/care/enrollments/{enrollment.pk}/")
    choices = [v for v, _ in response.context["form"].fields["to_status"].choices]
    assert choices == ["engaged", "enrolled", "declined", "unable_to_reach"]
    assert "Left a voicemail" in response.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, object_id=str(enrollment.pk)
    ).exists()


def test_partner_sees_the_enrollment_read_only(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    response = login(Client(), world.plan_user).get(f"/care/enrollments/{enrollment.pk}/")
    assert response.status_code == 200 and response.context["form"] is None
    assert "only its staff change it" in response.content.decode()
    posted = login(Client(), world.plan_user).post(
        f"/care/enrollments/{enrollment.pk}/transition/",
        {"to_status": "graduated", "reason": "x"},
    )
    assert posted.status_code == 403


def test_transition_form_moves_the_status(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a, on=LAST_MONTH)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/enrollments/{enrollment.pk}/transition/",
        {"to_status": "graduated", "reason": "All goals met", "effective_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.ended_on) == ("graduated", TODAY)


def test_transition_form_without_a_reason_changes_nothing(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a, on=LAST_MONTH)
    response = login(Client(), world.user_a).post(
        f"/care/enrollments/{enrollment.pk}/transition/", {"to_status": "graduated"}
    )
    assert response.status_code == 400
    assert "Say why the status changes." in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "enrolled"


def test_transition_form_refuses_a_date_before_the_current_status(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a, on=LAST_MONTH)
    early = LAST_MONTH - datetime.timedelta(days=5)
    response = login(Client(), world.user_a).post(
        f"/care/enrollments/{enrollment.pk}/transition/",
        {"to_status": "graduated", "reason": "x", "effective_on": early.isoformat()},
    )
    assert response.status_code == 400
    assert "before the current status began" in response.content.decode()


def test_changing_the_care_manager_is_audited_and_tells_the_new_one(world: World) -> None:
    coordinator = f.make_user(world.practice_a, Role.CARE_COORDINATOR, username="a.cc")
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    client = login(Client(), world.user_a)
    assert client.get(f"/care/enrollments/{enrollment.pk}/edit/").status_code == 200
    response = client.post(
        f"/care/enrollments/{enrollment.pk}/edit/",
        {"care_manager": coordinator.pk, "acuity": "low"},
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.care_manager, enrollment.acuity) == (coordinator, "low")
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(enrollment.pk))
    assert event.detail["care_manager"] == {"from": "a.rn", "to": "a.cc"}
    assert event.detail["acuity"] == {"from": "rising", "to": "low"}
    assert Notification.objects.filter(user=coordinator, kind="enrollment_assigned").exists()
    assert world.patient_a.care_team.filter(user=coordinator).exists()


def test_edit_refuses_a_care_manager_of_another_organization(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    response = login(Client(), world.user_a).post(
        f"/care/enrollments/{enrollment.pk}/edit/",
        {"care_manager": world.user_b.pk, "acuity": "low"},
    )
    assert response.status_code == 400
    enrollment.refresh_from_db()
    assert enrollment.care_manager == world.user_a
