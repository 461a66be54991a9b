"""Pages of the patient survey and the staff survey (seed 004 evaluation framework 2)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from caseboard import access
from caseboard.access import Actor
from caseboard.care.actions import surveys as actions
from caseboard.care.errors import CareError
from caseboard.care.forms.surveys import PatientSurveyForm, StaffSurveyForm
from caseboard.care.models import PatientSurvey, SurveyStatus
from caseboard.care.queries import surveys as queries
from caseboard.web.decorators import with_actor


@with_actor
@require_GET
def survey_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    overview = queries.survey_overview(actor, program=request.GET.get("program", ""))
    return render(request, "care/surveys/survey_list.html", {"overview": overview})


def _answers_as_initial(survey: PatientSurvey, today: Any) -> dict[str, Any]:
    if survey.status == SurveyStatus.DUE:
        return {"completed_on": today}
    return {
        "outcome": (
            PatientSurveyForm.DECLINED
            if survey.status == SurveyStatus.DECLINED
            else PatientSurveyForm.ANSWERED
        ),
        "self_rated_health": survey.self_rated_health,
        "would_recommend": survey.would_recommend,
        "completed_on": survey.completed_on,
    }


@with_actor
@require_http_methods(["GET", "POST"])
def survey_record(request: HttpRequest, actor: Actor, survey_id: int) -> HttpResponse:
    page = queries.patient_survey_page(actor, survey_id)
    today = timezone.localtime(timezone.now(), actor.organization.zone).date()
    if request.method == "POST":
        survey = actions.get_patient_survey_for_editor(actor, survey_id)
        form = PatientSurveyForm(request.POST, survey=survey)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["outcome"] == PatientSurveyForm.DECLINED:
                    actions.decline_patient_survey(actor, survey, on=data["completed_on"])
                else:
                    actions.record_patient_survey(
                        actor,
                        survey,
                        self_rated_health=data["self_rated_health"],
                        would_recommend=data.get("would_recommend", ""),
                        completed_on=data["completed_on"],
                    )
            except CareError as e:
                form.add_error(e.field if e.field in form.fields else None, e.message)
            else:
                messages.success(request, f"Survey {survey.get_kind_display().lower()} recorded.")
                return redirect("survey_list")
    else:
        form = PatientSurveyForm(
            survey=page.survey, initial=_answers_as_initial(page.survey, today)
        )
    return render(request, "care/surveys/survey_record.html", {"page": page, "form": form})


@with_actor
@require_GET
def staff_survey_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    may_see = access.care.may_see_staff_survey_results(actor)
    return render(
        request,
        "care/surveys/staff_survey_list.html",
        {
            "surveys": queries.my_staff_surveys(actor),
            "results": queries.staff_survey_results(actor) if may_see else None,
            "today": timezone.localtime(timezone.now(), actor.organization.zone).date(),
            "min_answers": queries.MIN_STAFF_ANSWERS_SHOWN,
        },
    )


@with_actor
@require_http_methods(["GET", "POST"])
def staff_survey_fill(request: HttpRequest, actor: Actor, staff_survey_id: int) -> HttpResponse:
    survey = access.care.get_staff_survey_for_user(actor, staff_survey_id)
    form = StaffSurveyForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "skip":
                actions.skip_staff_survey(actor, survey)
                messages.success(request, "Survey skipped.")
                return redirect("staff_survey_list")
            if form.is_valid():
                actions.submit_staff_survey(
                    actor, survey, ratings=form.ratings(), comments=form.comments()
                )
                messages.success(request, "Thank you: your answers were recorded.")
                return redirect("staff_survey_list")
        except CareError as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
    return render(
        request,
        "care/surveys/staff_survey_fill.html",
        {
            "survey": survey,
            "form": form,
            "answers": [(q.text, survey.answers.get(q.key, "")) for q in actions.STAFF_RATINGS]
            + [(text, survey.answers.get(key, "")) for key, text in actions.STAFF_COMMENTS],
        },
    )


urlpatterns: list[URLPattern] = [
    path("surveys/", survey_list, name="survey_list"),
    path("surveys/<int:survey_id>/", survey_record, name="survey_record"),
    path("staff-surveys/", staff_survey_list, name="staff_survey_list"),
    path("staff-surveys/<int:staff_survey_id>/", staff_survey_fill, name="staff_survey_fill"),
]
