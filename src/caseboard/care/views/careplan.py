"""Pages of the shared care plan (Health Action Plan): the plan, its printable patient copy,
its history, and the forms that change it. Every form carries the plan version the user saw;
a save refused as stale re-renders the form with the user's input intact beside the current
plan, so nothing typed is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions import careplan as actions
from caseboard.care.errors import CareError, StaleVersion
from caseboard.care.forms.careplan import (
    BarrierEditForm,
    BarrierForm,
    ConfidenceForm,
    FollowUpForm,
    GoalEditForm,
    GoalForm,
    InterventionForm,
    SuccessStoryForm,
)
from caseboard.care.models import GoalStatus
from caseboard.care.queries import careplan as queries
from caseboard.patients.models import Patient
from caseboard.web.decorators import with_actor

STALE_STATUS = 409


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _write(form: forms.Form, change: Callable[[], Any]) -> StaleVersion | bool:
    """Runs the action; True when saved, the StaleVersion when refused as stale, False when the
    action refused the input (its message is put on the form)."""
    try:
        change()
    except StaleVersion as stale:
        return stale
    except CareError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return False
    return True


def _keep_input(
    actor: Actor, form: forms.Form, stale: StaleVersion, patient: Patient
) -> dict[str, Any]:
    """The user's input stays in the form, now carrying the current version so that saving
    again after a review goes through; the changes made since are listed beside it."""
    seen = form.cleaned_data.get("version") or 0
    current = queries.care_plan_view(actor, patient)
    data = QueryDict(mutable=True)
    if isinstance(form.data, QueryDict):
        data = form.data.copy()
    else:
        data.update(form.data)
    data["version"] = str(current.version)
    form.data = data
    form.add_error(None, stale.message)
    return {
        "view": current,
        "changes": queries.changes_since(actor, patient, seen),
        "stale": True,
    }


def _record_view(actor: Actor, patient: Patient, obj: Any, page: str) -> None:
    log.record(actor, AuditAction.VIEW, patient=patient, obj=obj, detail={"page": page})


# --- The plan, its print copy, its history ------------------------------------------------


@with_actor
@require_GET
def care_plan(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    view = queries.care_plan_page(actor, patient_id)
    template = "care/careplan/plan.html"
    if _is_htmx(request):
        template += "#plan-body"
    return render(request, template, {"view": view, "patient": view.patient})


@with_actor
@require_GET
def care_plan_print(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    printable = queries.printable_plan(actor, patient_id)
    return render(
        request,
        "care/careplan/print.html",
        {"plan": printable, "patient": printable.patient},
    )


@with_actor
@require_GET
def care_plan_history(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    history = queries.care_plan_history(actor, patient_id)
    return render(
        request,
        "care/careplan/history.html",
        {"history": history, "patient": history.patient},
    )


@with_actor
@require_GET
def wins(request: HttpRequest, actor: Actor) -> HttpResponse:
    team_meeting_only = request.GET.get("share") == "1"
    stories = queries.wins(actor, team_meeting_only=team_meeting_only)
    return render(
        request,
        "care/careplan/wins.html",
        {"stories": stories, "team_meeting_only": team_meeting_only},
    )


# --- Goals --------------------------------------------------------------------------------


@with_actor
@require_http_methods(["GET", "POST"])
def goal_new(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_editor(actor, patient_id)
    view = queries.care_plan_view(actor, patient)
    initial: dict[str, Any] = {"version": view.version}
    picked = request.GET.get("suggestion", "")
    if picked.isdigit() and int(picked) < len(actions.GOAL_SUGGESTIONS):
        initial["statement"] = actions.GOAL_SUGGESTIONS[int(picked)]
    form = GoalForm(request.POST or None, initial=initial)
    context: dict[str, Any] = {
        "patient": patient,
        "view": view,
        "form": form,
        "suggestions": list(enumerate(actions.GOAL_SUGGESTIONS)),
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.add_goal(
                actor,
                patient,
                statement=data["statement"],
                domain=data["domain"],
                target_date=data["target_date"],
                confidence=data["confidence"],
                expected_version=data["version"],
            ),
        )
        if result is True:
            messages.success(request, "Goal added to the care plan.")
            return redirect("care_plan", patient_id=patient.pk)
        if isinstance(result, StaleVersion):
            context |= _keep_input(actor, form, result, patient)
            return render(request, "care/careplan/goal_new.html", context, status=STALE_STATUS)
    elif request.method == "GET":
        _record_view(actor, patient, view.plan or patient, "new goal")
    return render(request, "care/careplan/goal_new.html", context)


def _goal_context(
    page: queries.GoalPage,
    form: GoalEditForm | None = None,
    confidence_form: ConfidenceForm | None = None,
) -> dict[str, Any]:
    version = page.plan.version
    goal = page.goal.goal
    return {
        "page": page,
        "patient": page.patient,
        "view": page.plan,
        "g": page.goal,
        "form": form or GoalEditForm(initial=GoalEditForm.initial_for(goal, version)),
        "confidence_form": confidence_form or ConfidenceForm(initial={"version": version}),
    }


@with_actor
@require_http_methods(["GET", "POST"])
def goal_detail(request: HttpRequest, actor: Actor, goal_id: int) -> HttpResponse:
    if request.method == "GET":
        page = queries.goal_page(actor, goal_id)
        return render(request, "care/careplan/goal_detail.html", _goal_context(page))
    goal = access.care.get_goal_for_editor(actor, goal_id)
    form = GoalEditForm(request.POST)
    status = 200
    extra: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.update_goal(
                actor,
                goal,
                expected_version=data["version"],
                statement=data["statement"],
                domain=data["domain"],
                target_date=data["target_date"],
                status=data["status"],
                achievement=data["achievement"],
                note=data["note"],
            ),
        )
        if result is True:
            if data["status"] == GoalStatus.MET and goal.status != GoalStatus.MET:
                messages.success(
                    request, "Goal met — a win to celebrate! Tell its story for the team."
                )
            else:
                messages.success(request, "Goal saved.")
            return redirect("goal_detail", goal_id=goal.pk)
        if isinstance(result, StaleVersion):
            extra = _keep_input(actor, form, result, goal.care_plan.patient)
            status = STALE_STATUS
    page = queries.goal_page(actor, goal_id, editing=True)
    context = _goal_context(page, form=form) | extra
    context["view"] = page.plan
    return render(request, "care/careplan/goal_detail.html", context, status=status)


@with_actor
@require_POST
def goal_confidence(request: HttpRequest, actor: Actor, goal_id: int) -> HttpResponse:
    # The goal is looked up before the form is read: another organization's goal is unknown.
    goal = access.care.get_goal_for_editor(actor, goal_id)
    patient = goal.care_plan.patient
    form = ConfidenceForm(request.POST)
    back_to_goal = request.POST.get("return_to") == "goal"
    status = 200
    extra: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.record_confidence(
                actor,
                goal,
                rating=data["rating"],
                note=data["note"],
                expected_version=data["version"],
            ),
        )
        if result is True:
            notice = f"Confidence {data['rating']}/10 recorded for today."
            if _is_htmx(request):
                view = queries.care_plan_page(actor, patient.pk)
                return render(
                    request,
                    "care/careplan/plan.html#plan-body",
                    {"view": view, "patient": patient, "notice": notice},
                )
            messages.success(request, notice)
            if back_to_goal:
                return redirect("goal_detail", goal_id=goal.pk)
            return redirect("care_plan", patient_id=patient.pk)
        if isinstance(result, StaleVersion):
            extra = _keep_input(actor, form, result, patient)
            status = STALE_STATUS
    if _is_htmx(request):
        # htmx swaps only successful responses: the refusal is shown in the plan it replaces.
        view = queries.care_plan_page(actor, patient.pk)
        return render(
            request,
            "care/careplan/plan.html#plan-body",
            {
                "view": view,
                "patient": patient,
                "confidence_form": form,
                "confidence_goal_id": goal.pk,
                **{k: v for k, v in extra.items() if k != "view"},
            },
        )
    page = queries.goal_page(actor, goal.pk, editing=True)
    context = _goal_context(page, confidence_form=form) | extra
    context["view"] = page.plan
    return render(request, "care/careplan/goal_detail.html", context, status=status)


@with_actor
@require_http_methods(["GET", "POST"])
def goal_success_story(request: HttpRequest, actor: Actor, goal_id: int) -> HttpResponse:
    if request.method == "POST":
        goal = access.care.get_goal_for_editor(actor, goal_id)
    else:
        goal = access.care.get_goal_for_user(actor, goal_id)
    patient = goal.care_plan.patient
    view = queries.care_plan_view(actor, patient)
    g = view.goals_by_id[goal.pk]
    story = g.success_story
    initial: dict[str, Any] = {"version": view.version}
    if story is not None:
        initial |= {"story": story.story, "share_at_team_meeting": story.share_at_team_meeting}
    form = SuccessStoryForm(request.POST or None, initial=initial)
    context: dict[str, Any] = {"patient": patient, "view": view, "g": g, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.record_success_story(
                actor,
                goal,
                story=data["story"],
                share_at_team_meeting=data["share_at_team_meeting"],
                expected_version=data["version"],
            ),
        )
        if result is True:
            messages.success(request, "Success story saved — thank you for celebrating this win.")
            return redirect("goal_detail", goal_id=goal.pk)
        if isinstance(result, StaleVersion):
            context |= _keep_input(actor, form, result, patient)
            return render(request, "care/careplan/success_story.html", context, status=STALE_STATUS)
    elif request.method == "GET":
        _record_view(actor, patient, goal, "success story")
    return render(request, "care/careplan/success_story.html", context)


# --- Barriers and interventions -----------------------------------------------------------


@with_actor
@require_http_methods(["GET", "POST"])
def barrier_new(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_editor(actor, patient_id)
    view = queries.care_plan_view(actor, patient)
    goals = [g.goal for g in view.goals]
    initial: dict[str, Any] = {"version": view.version}
    if request.GET.get("goal", "").isdigit():
        initial["goal"] = request.GET["goal"]
    form = BarrierForm(request.POST or None, initial=initial, goals=goals)
    context: dict[str, Any] = {"patient": patient, "view": view, "form": form, "editing": False}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.add_barrier(
                actor,
                patient,
                kind=data["kind"],
                description=data["description"],
                goal=data["goal"],
                expected_version=data["version"],
            ),
        )
        if result is True:
            messages.success(request, "Barrier added to the care plan.")
            return redirect("care_plan", patient_id=patient.pk)
        if isinstance(result, StaleVersion):
            context |= _keep_input(actor, form, result, patient)
            return render(request, "care/careplan/barrier_form.html", context, status=STALE_STATUS)
    elif request.method == "GET":
        _record_view(actor, patient, view.plan or patient, "new barrier")
    return render(request, "care/careplan/barrier_form.html", context)


@with_actor
@require_http_methods(["GET", "POST"])
def barrier_edit(request: HttpRequest, actor: Actor, barrier_id: int) -> HttpResponse:
    barrier = access.care.get_barrier_for_editor(actor, barrier_id)
    patient = barrier.care_plan.patient
    view = queries.care_plan_view(actor, patient)
    goals = [g.goal for g in view.goals]
    initial = {
        "version": view.version,
        "kind": barrier.kind,
        "description": barrier.description,
        "goal": str(barrier.goal_id or ""),
        "resolved": barrier.resolved_on is not None,
    }
    form = BarrierEditForm(request.POST or None, initial=initial, goals=goals)
    context: dict[str, Any] = {
        "patient": patient,
        "view": view,
        "form": form,
        "barrier": barrier,
        "editing": True,
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.update_barrier(
                actor,
                barrier,
                expected_version=data["version"],
                kind=data["kind"],
                description=data["description"],
                goal=data["goal"],
                resolved=data["resolved"],
            ),
        )
        if result is True:
            messages.success(request, "Barrier saved.")
            return redirect("care_plan", patient_id=patient.pk)
        if isinstance(result, StaleVersion):
            context |= _keep_input(actor, form, result, patient)
            context["barrier"] = access.care.get_barrier_for_editor(actor, barrier.pk)
            return render(request, "care/careplan/barrier_form.html", context, status=STALE_STATUS)
    elif request.method == "GET":
        _record_view(actor, patient, barrier, "barrier")
    return render(request, "care/careplan/barrier_form.html", context)


@with_actor
@require_http_methods(["GET", "POST"])
def intervention_new(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_editor(actor, patient_id)
    view = queries.care_plan_view(actor, patient)
    staff = queries.responsible_staff(actor)
    initial: dict[str, Any] = {"version": view.version}
    if request.GET.get("goal", "").isdigit():
        initial["goal"] = request.GET["goal"]
    form = InterventionForm(
        request.POST or None, initial=initial, goals=[g.goal for g in view.goals], staff=staff
    )
    context: dict[str, Any] = {"patient": patient, "view": view, "form": form, "editing": False}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.add_intervention(
                actor,
                patient,
                description=data["description"],
                goal=data["goal"],
                responsible_user=data["responsible_user"],
                responsible_organization=data["responsible_organization"],
                responsible_name=data["responsible_party_name"],
                due_on=data["due_on"],
                status=data["status"],
                expected_version=data["version"],
            ),
        )
        if result is True:
            messages.success(request, "Intervention added to the care plan.")
            return redirect("care_plan", patient_id=patient.pk)
        if isinstance(result, StaleVersion):
            context |= _keep_input(actor, form, result, patient)
            return render(
                request, "care/careplan/intervention_form.html", context, status=STALE_STATUS
            )
    elif request.method == "GET":
        _record_view(actor, patient, view.plan or patient, "new intervention")
    return render(request, "care/careplan/intervention_form.html", context)


@with_actor
@require_http_methods(["GET", "POST"])
def intervention_edit(request: HttpRequest, actor: Actor, intervention_id: int) -> HttpResponse:
    intervention = access.care.get_intervention_for_editor(actor, intervention_id)
    patient = intervention.care_plan.patient
    view = queries.care_plan_view(actor, patient)
    staff = queries.responsible_staff(actor)
    initial = {
        "version": view.version,
        "description": intervention.description,
        "goal": str(intervention.goal_id or ""),
        "responsible": InterventionForm.responsible_initial(intervention, staff),
        "responsible_name": (
            intervention.responsible_name
            if intervention.responsible_name != actions.PATIENT_RESPONSIBLE
            else ""
        ),
        "due_on": intervention.due_on,
        "status": intervention.status,
    }
    form = InterventionForm(
        request.POST or None, initial=initial, goals=[g.goal for g in view.goals], staff=staff
    )
    context: dict[str, Any] = {
        "patient": patient,
        "view": view,
        "form": form,
        "intervention": intervention,
        "responsible_now": actions.responsible_label(intervention),
        "editing": True,
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.update_intervention(
                actor,
                intervention,
                expected_version=data["version"],
                description=data["description"],
                goal=data["goal"],
                responsible_user=data["responsible_user"],
                responsible_organization=data["responsible_organization"],
                responsible_name=data["responsible_party_name"],
                due_on=data["due_on"],
                status=data["status"],
            ),
        )
        if result is True:
            messages.success(request, "Intervention saved.")
            return redirect("care_plan", patient_id=patient.pk)
        if isinstance(result, StaleVersion):
            context |= _keep_input(actor, form, result, patient)
            current = access.care.get_intervention_for_editor(actor, intervention.pk)
            context["intervention"] = current
            context["responsible_now"] = actions.responsible_label(current)
            return render(
                request, "care/careplan/intervention_form.html", context, status=STALE_STATUS
            )
    elif request.method == "GET":
        _record_view(actor, patient, intervention, "intervention")
    return render(request, "care/careplan/intervention_form.html", context)


# --- Follow-up plan -----------------------------------------------------------------------


@with_actor
@require_http_methods(["GET", "POST"])
def care_plan_follow_up(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_editor(actor, patient_id)
    view = queries.care_plan_view(actor, patient)
    form = FollowUpForm(
        request.POST or None,
        initial={"version": view.version, "follow_up_plan": view.follow_up_plan},
    )
    context: dict[str, Any] = {"patient": patient, "view": view, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(
            form,
            lambda: actions.set_follow_up_plan(
                actor,
                patient,
                text=data["follow_up_plan"],
                expected_version=data["version"],
            ),
        )
        if result is True:
            messages.success(request, "Follow-up plan saved.")
            return redirect("care_plan", patient_id=patient.pk)
        if isinstance(result, StaleVersion):
            context |= _keep_input(actor, form, result, patient)
            return render(request, "care/careplan/follow_up.html", context, status=STALE_STATUS)
    elif request.method == "GET":
        _record_view(actor, patient, view.plan or patient, "follow-up plan")
    return render(request, "care/careplan/follow_up.html", context)


urlpatterns: list[URLPattern] = [
    path("patients/<int:patient_id>/plan/", care_plan, name="care_plan"),
    path("patients/<int:patient_id>/plan/print/", care_plan_print, name="care_plan_print"),
    path("patients/<int:patient_id>/plan/history/", care_plan_history, name="care_plan_history"),
    path("patients/<int:patient_id>/plan/goals/new/", goal_new, name="goal_new"),
    path("patients/<int:patient_id>/plan/barriers/new/", barrier_new, name="barrier_new"),
    path(
        "patients/<int:patient_id>/plan/interventions/new/",
        intervention_new,
        name="intervention_new",
    ),
    path(
        "patients/<int:patient_id>/plan/follow-up/",
        care_plan_follow_up,
        name="care_plan_follow_up",
    ),
    path("goals/<int:goal_id>/", goal_detail, name="goal_detail"),
    path("goals/<int:goal_id>/confidence/", goal_confidence, name="goal_confidence"),
    path("goals/<int:goal_id>/success-story/", goal_success_story, name="goal_success_story"),
    path("barriers/<int:barrier_id>/", barrier_edit, name="barrier_edit"),
    path("interventions/<int:intervention_id>/", intervention_edit, name="intervention_edit"),
    path("wins/", wins, name="wins"),
]
