from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions import surveys as actions
from caseboard.care.models import Enrollment, Notification, PatientSurvey, StaffSurvey
from caseboard.care.queries.surveys import program_results
from caseboard.orgs.models import Membership, OrganizationKind, Role
from caseboard.patients.models import Patient
from tests import factories as f
from tests.conftest import World, login

DAY = datetime.timedelta(days=1)


def today() -> datetime.date:
    return timezone.localdate()


def enrolled(world: World, on: datetime.date, *, patient: Patient | None = None) -> Enrollment:
    enrollment = f.make_enrollment(
        patient or world.patient_a, world.practice_a, world.user_a, on=on
    )
    actions.schedule_patient_surveys(enrollment, on)
    return enrollment


def survey_of(enrollment: Enrollment, kind: str) -> PatientSurvey:
    return PatientSurvey.objects.get(enrollment=enrollment, kind=kind)


# --- Patient surveys ------------------------------------------------------------------------


def test_surveys_are_scheduled_at_enrollment_and_three_months_once(world: World) -> None:
    enrollment = enrolled(world, datetime.date(2026, 9, 15))
    actions.schedule_patient_surveys(enrollment, datetime.date(2026, 9, 15))
    assert sorted(PatientSurvey.objects.values_list("kind", "due_on")) == [
        ("enrollment", datetime.date(2026, 9, 15)),
        ("three_months", datetime.date(2026, 12, 15)),
    ]


def test_the_list_shows_due_surveys_with_the_overdue_marked(world: World) -> None:
    enrollment = enrolled(world, today() - 10 * DAY)
    soon_patient = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Soon")
    soon = enrolled(world, today() - 80 * DAY, patient=soon_patient)
    survey_of(soon, "enrollment").delete()
    response = login(Client(), world.user_a).get("/care/surveys/")
    overview = response.context["overview"]
    assert overview.due == [survey_of(enrollment, "enrollment")]
    assert overview.coming_up == [survey_of(soon, "three_months")]
    html = response.content.decode()
    assert "care-overdue-row" in html and "Overdue" in html
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, detail__page="patient surveys"
    ).exists()


def test_surveys_of_enrollments_that_ended_are_no_longer_due(world: World) -> None:
    enrollment = enrolled(world, today() - 10 * DAY)
    Enrollment.objects.filter(pk=enrollment.pk).update(status="disenrolled")
    overview = login(Client(), world.user_a).get("/care/surveys/").context["overview"]
    assert overview.due == []


def test_another_practices_surveys_are_not_listed(world: World) -> None:
    other = f.make_enrollment(world.patient_b, world.practice_b, world.user_b, on=today())
    actions.schedule_patient_surveys(other, today())
    html = login(Client(), world.user_a).get("/care/surveys/").content.decode()
    assert "Brightwater" not in html


def test_recording_the_three_month_answers(world: World) -> None:
    enrollment = enrolled(world, today() - 95 * DAY)
    survey = survey_of(enrollment, "three_months")
    client = login(Client(), world.user_a)
    page = client.get(f"/care/surveys/{survey.pk}/")
    assert "Would you recommend this program" in page.content.decode()
    response = client.post(
        f"/care/surveys/{survey.pk}/",
        {
            "outcome": "answered",
            "self_rated_health": "2",
            "would_recommend": "yes",
            "completed_on": today().isoformat(),
        },
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.status, survey.self_rated_health, survey.would_recommend) == (
        "completed",
        2,
        "yes",
    )
    assert (survey.recorded_by, survey.completed_on) == (world.user_a, today())
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_id=str(survey.pk), patient_id=world.patient_a.pk
    ).exists()


def test_the_enrollment_survey_asks_only_self_rated_health(world: World) -> None:
    survey = survey_of(enrolled(world, today()), "enrollment")
    client = login(Client(), world.user_a)
    assert "Would you recommend" not in client.get(f"/care/surveys/{survey.pk}/").content.decode()
    client.post(
        f"/care/surveys/{survey.pk}/",
        {
            "outcome": "answered",
            "self_rated_health": "4",
            "would_recommend": "no",
            "completed_on": today().isoformat(),
        },
    )
    survey.refresh_from_db()
    assert (survey.self_rated_health, survey.would_recommend) == (4, "")


def test_an_answered_survey_needs_the_answers(world: World) -> None:
    survey = survey_of(enrolled(world, today() - 95 * DAY), "three_months")
    response = login(Client(), world.user_a).post(
        f"/care/surveys/{survey.pk}/",
        {"outcome": "answered", "completed_on": today().isoformat()},
    )
    errors = response.context["form"].errors
    assert errors["self_rated_health"] == ["Record the patient's answer, 1 to 5."]
    assert errors["would_recommend"] == ["Record yes, no or maybe."]
    survey.refresh_from_db()
    assert survey.status == "due"


def test_a_survey_cannot_be_dated_in_the_future(world: World) -> None:
    survey = survey_of(enrolled(world, today()), "enrollment")
    response = login(Client(), world.user_a).post(
        f"/care/surveys/{survey.pk}/",
        {
            "outcome": "answered",
            "self_rated_health": "3",
            "completed_on": (today() + 2 * DAY).isoformat(),
        },
    )
    assert "is in the future" in response.context["form"].errors["completed_on"][0]
    survey.refresh_from_db()
    assert survey.status == "due"


def test_a_patient_may_decline(world: World) -> None:
    survey = survey_of(enrolled(world, today()), "enrollment")
    login(Client(), world.user_a).post(
        f"/care/surveys/{survey.pk}/",
        {"outcome": "declined", "self_rated_health": "3", "completed_on": today().isoformat()},
    )
    survey.refresh_from_db()
    assert (survey.status, survey.self_rated_health) == ("declined", None)


def test_the_partner_plan_sees_the_survey_but_the_lead_records_it(world: World) -> None:
    survey = survey_of(enrolled(world, today()), "enrollment")
    client = login(Client(), world.plan_user)
    page = client.get(f"/care/surveys/{survey.pk}/")
    assert page.status_code == 200 and "Record the answers" not in page.content.decode()
    response = client.post(
        f"/care/surveys/{survey.pk}/",
        {"outcome": "answered", "self_rated_health": "1", "completed_on": today().isoformat()},
    )
    assert response.status_code == 403
    survey.refresh_from_db()
    assert survey.status == "due"


def test_results_per_program_compare_enrollment_and_three_months(world: World) -> None:
    # Hand-computed: enrollment 4, 3, 5 (mean 4.00); three months 3, 3 (mean 3.00); the two
    # patients with both changed by -1 and 0 (mean -0.50); recommend yes 1, maybe 1, no 0.
    answers = [(4, 3, "yes"), (3, 3, "maybe"), (5, None, "")]
    for n, (at_start, at_three, recommend) in enumerate(answers):
        patient = f.make_patient(plan=world.plan, practice=world.practice_a, family_name=f"P{n}")
        enrollment = enrolled(world, datetime.date(2026, 1, 5), patient=patient)
        PatientSurvey.objects.filter(enrollment=enrollment, kind="enrollment").update(
            status="completed", self_rated_health=at_start
        )
        if at_three is not None:
            PatientSurvey.objects.filter(enrollment=enrollment, kind="three_months").update(
                status="completed", self_rated_health=at_three, would_recommend=recommend
            )
    declined = enrolled(world, datetime.date(2026, 1, 5), patient=world.patient_a)
    PatientSurvey.objects.filter(enrollment=declined, kind="enrollment").update(status="declined")
    [result] = program_results(PatientSurvey.objects.all())
    assert result.label == "Practice care management"
    assert (result.completed, result.declined) == (5, 1)
    assert (result.enrollment_mean, result.enrollment_n) == (4.0, 3)
    assert (result.three_month_mean, result.three_month_n) == (3.0, 2)
    assert (result.mean_change, result.paired_n, result.improved) == (-0.5, 2, True)
    assert result.recommend_percent == {"yes": 50.0, "no": 0, "maybe": 50.0}
    html = login(Client(), world.user_a).get("/care/surveys/").content.decode()
    assert "4.00" in html and "3.00" in html and "-0.50" in html and "50.0%" in html


# --- Staff surveys --------------------------------------------------------------------------


def test_staff_surveys_open_for_care_staff_of_partnered_organizations(world: World) -> None:
    it_admin = f.make_user(world.practice_a, Role.ORG_ADMIN)
    gone = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    Membership.objects.filter(user=gone).update(is_active=False)
    cbo = f.make_org(OrganizationKind.CBO, "Food Pantry")
    cbo_user = f.make_user(cbo, Role.CARE_COORDINATOR)
    lonely = f.make_org(OrganizationKind.PRACTICE, "Unpartnered Practice")
    lonely_user = f.make_user(lonely)
    opened = actions.open_staff_surveys(datetime.date(2026, 7, 1))
    surveyed = set(StaffSurvey.objects.values_list("user_id", flat=True))
    assert surveyed == {
        world.user_a.pk,
        world.user_b.pk,
        world.plan_user.pk,
        world.plan_q_user.pk,
    }
    assert opened == 4
    assert not {it_admin.pk, gone.pk, cbo_user.pk, lonely_user.pk} & surveyed
    survey = StaffSurvey.objects.get(user=world.user_a)
    assert (survey.period_start, survey.due_on) == (
        datetime.date(2026, 7, 1),
        datetime.date(2026, 7, 31),
    )
    note = Notification.objects.get(user=world.user_a, kind="staff_survey")
    assert note.url == f"/care/staff-surveys/{survey.pk}/"


def test_opening_staff_surveys_again_opens_nothing_new(world: World) -> None:
    actions.open_staff_surveys(datetime.date(2026, 7, 1))
    assert actions.open_staff_surveys(datetime.date(2026, 7, 20)) == 0
    assert StaffSurvey.objects.count() == 4
    assert Notification.objects.filter(kind="staff_survey").count() == 4


def test_staff_survey_periods_start_in_january_and_july(world: World) -> None:
    assert actions.survey_period_start(datetime.date(2026, 6, 30)) == datetime.date(2026, 1, 1)
    assert actions.survey_period_start(datetime.date(2026, 7, 1)) == datetime.date(2026, 7, 1)
    actions.open_staff_surveys(datetime.date(2026, 12, 31))
    actions.open_staff_surveys(datetime.date(2027, 1, 1))
    assert sorted(set(StaffSurvey.objects.values_list("period_start", flat=True))) == [
        datetime.date(2026, 7, 1),
        datetime.date(2027, 1, 1),
    ]


def test_someone_who_joins_mid_period_gets_thirty_days(world: World) -> None:
    actions.open_staff_surveys(datetime.date(2026, 7, 1))
    newcomer = f.make_user(world.practice_a, Role.COMMUNITY_HEALTH_WORKER)
    actions.open_staff_surveys(datetime.date(2026, 9, 10))
    assert StaffSurvey.objects.get(user=newcomer).due_on == datetime.date(2026, 10, 10)


def answers(**overrides: str) -> dict[str, str]:
    data = {
        "overall_success": "4",
        "conference_usefulness": "5",
        "lead_clarity": "3",
        "time_burden": "2",
        "what_is_working": "Weekly calls keep us on the same page",
        "how_to_improve": "Send the pre-work packet a day earlier",
    }
    data.update(overrides)
    return data


def test_answering_the_staff_survey(world: World) -> None:
    survey = f.make_staff_survey(world.user_a, world.practice_a)
    client = login(Client(), world.user_a)
    page = client.get(f"/care/staff-surveys/{survey.pk}/").content.decode()
    assert "how successful is the coordination of care management" in page
    response = client.post(f"/care/staff-surveys/{survey.pk}/", answers())
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.status == "completed" and survey.completed_at is not None
    assert survey.answers["overall_success"] == 4
    assert survey.answers["how_to_improve"] == "Send the pre-work packet a day earlier"
    again = client.post(f"/care/staff-surveys/{survey.pk}/", answers(overall_success="1"))
    assert "You already answered this survey" in again.content.decode()
    survey.refresh_from_db()
    assert survey.answers["overall_success"] == 4


def test_every_rating_is_required_and_one_to_five(world: World) -> None:
    survey = f.make_staff_survey(world.user_a, world.practice_a)
    response = login(Client(), world.user_a).post(
        f"/care/staff-surveys/{survey.pk}/", answers(lead_clarity="", time_burden="9")
    )
    errors = response.context["form"].errors
    assert errors["lead_clarity"] == ["Choose a number from 1 to 5."]
    assert "time_burden" in errors
    survey.refresh_from_db()
    assert survey.status == "due"


def test_skipping_the_staff_survey(world: World) -> None:
    survey = f.make_staff_survey(world.user_a, world.practice_a)
    login(Client(), world.user_a).post(f"/care/staff-surveys/{survey.pk}/", {"action": "skip"})
    survey.refresh_from_db()
    assert survey.status == "declined"


def test_a_colleagues_staff_survey_is_404(world: World) -> None:
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    survey = f.make_staff_survey(colleague, world.practice_a)
    assert login(Client(), world.user_a).get(f"/care/staff-surveys/{survey.pk}/").status_code == 404


def answered_staff(world: World, count: int) -> None:
    for n in range(count):
        user = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
        survey = f.make_staff_survey(user, world.practice_a)
        actions.submit_staff_survey(
            f.actor_for(user),
            survey,
            ratings={
                "overall_success": 3 + n % 2,
                "conference_usefulness": 5,
                "lead_clarity": 2,
                "time_burden": 4,
            },
            comments={"what_is_working": f"Idea {n}", "how_to_improve": ""},
        )


def test_directors_see_the_organizations_results_without_names(world: World) -> None:
    answered_staff(world, 3)
    f.make_staff_survey(world.user_a, world.practice_a)
    response = login(Client(), world.user_a).get("/care/staff-surveys/")
    [period] = response.context["results"]
    assert (period.sent, period.answered) == (4, 3)
    assert [r.mean for r in period.ratings] == [3.33, 5.0, 2.0, 4.0]
    assert period.ratings[0].distribution == [0, 0, 2, 1, 0]
    assert period.working == ["Idea 0", "Idea 1", "Idea 2"]
    html = response.content.decode()
    assert "3 of 4 answered" in html and "Idea 1" in html


def test_results_wait_until_three_colleagues_have_answered(world: World) -> None:
    answered_staff(world, 2)
    response = login(Client(), world.user_a).get("/care/staff-surveys/")
    [period] = response.context["results"]
    assert not period.shown and period.working == []
    assert "Too few answers to show yet." in response.content.decode()


def test_staff_without_a_directing_role_see_only_their_own_surveys(world: World) -> None:
    answered_staff(world, 3)
    colleague = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    f.make_staff_survey(colleague, world.practice_a)
    response = login(Client(), colleague).get("/care/staff-surveys/")
    assert response.context["results"] is None
    assert len(response.context["surveys"]) == 1
    assert "Idea 0" not in response.content.decode()


@pytest.mark.parametrize("role", [Role.DIRECTOR_OF_CARE_MANAGEMENT, Role.PROJECT_MANAGER])
def test_plan_directors_and_project_managers_see_results(world: World, role: str) -> None:
    director = f.make_user(world.plan, role)
    assert login(Client(), director).get("/care/staff-surveys/").context["results"] == []
