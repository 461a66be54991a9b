"""Registry, enrollment, interactions and time, care team and caseload pages."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import re
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions import care_team as team_actions
from caseboard.care.actions import enrollment as enrollment_actions
from caseboard.care.actions.interactions import log_interaction
from caseboard.care.errors import CareError
from caseboard.care.forms.registry import (
    CareTeamForm,
    EnrollForm,
    EnrollmentEditForm,
    InteractionForm,
    Reached,
    RegistryFilterForm,
    TransitionForm,
    sort_columns,
)
from caseboard.care.models import CLOSED_STATUSES, Acuity
from caseboard.care.queries import care_team as team_queries
from caseboard.care.queries import registry as queries
from caseboard.care.queries.care_time import (
    CCM_ADD_ON,
    CCM_ADD_ON_MAX_UNITS,
    CCM_FIRST,
    COMPLEX_ADD_ON,
    COMPLEX_FIRST,
    month_start,
    monthly_minutes,
    next_month,
    organization_today,
    previous_month,
)
from caseboard.care.queries.caseload import (
    WARNING_SHARE,
    Band,
    caseload,
    is_supervisor,
    unassigned_active,
)
from caseboard.care.queries.registry import DEFAULT_NO_CONTACT_DAYS, RegistryFilters, StatusFilter
from caseboard.patients.models import Patient
from caseboard.web.decorators import with_actor

CCM_FACTS = {
    "first": CCM_FIRST,
    "add_on": CCM_ADD_ON,
    "add_on_max": CCM_ADD_ON_MAX_UNITS,
    "complex_first": COMPLEX_FIRST,
    "complex_add_on": COMPLEX_ADD_ON,
}


def _show_error(form: Form, error: CareError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _patient_context(patient: Patient, section: str) -> dict[str, Any]:
    return {"patient": patient, "section": section}


# --- Registry -----------------------------------------------------------------------------


def _registry(request: HttpRequest, actor: Actor) -> tuple[RegistryFilterForm, RegistryFilters]:
    form = RegistryFilterForm(actor, request.GET or None, initial={"days": DEFAULT_NO_CONTACT_DAYS})
    return form, form.filters()


def _filter_query(request: HttpRequest, form: RegistryFilterForm) -> dict[str, str]:
    found = {name: request.GET.get(name, "") for name in form.fields}
    return {name: value for name, value in found.items() if value}


@with_actor
@require_GET
def registry(request: HttpRequest, actor: Actor) -> HttpResponse:
    with timezone.override(actor.organization.zone):
        form, filters = _registry(request, actor)
        rows = queries.registry_rows(actor, filters)
        log.record_many(
            actor,
            AuditAction.VIEW,
            sorted({r.patient.pk for r in rows}),
            {"page": "registry", "filters": dataclasses.asdict(filters)},
        )
        query = _filter_query(request, form)
        without_sort = {k: v for k, v in query.items() if k != "sort"}
        context = {
            "form": form,
            "filters": filters,
            "rows": rows,
            "columns": [
                {**c, "href": "?" + urlencode(c["params"])}
                for c in sort_columns(without_sort, filters.sort)
            ],
            "csv_href": reverse("registry_csv") + ("?" + urlencode(query) if query else ""),
            "today": organization_today(actor.organization),
            "ccm": CCM_FACTS,
        }
        template = "care/registry/registry.html"
        if request.htmx:  # type: ignore[attr-defined]
            template += "#table"
        return render(request, template, context)


def _csv_cell(value: object) -> str:
    """Spreadsheet programs run a cell that starts with =, +, - or @ as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@with_actor
@require_GET
def registry_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    with timezone.override(actor.organization.zone):
        _, filters = _registry(request, actor)
        rows = queries.registry_rows(actor, filters)
        log.record_many(
            actor,
            AuditAction.EXPORT,
            sorted({r.patient.pk for r in rows}),
            {"page": "registry.csv", "filters": dataclasses.asdict(filters)},
        )
        today = organization_today(actor.organization)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", actor.organization.name).strip("-").lower()
        response["Content-Disposition"] = f'attachment; filename="registry-{slug}-{today}.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "patient_id",
                "family_name",
                "given_name",
                "birth_date",
                "program",
                "lead_organization",
                "status",
                "status_since",
                "acuity",
                "care_manager",
                "last_contact",
                "days_since_contact",
                "next_follow_up",
                "open_tasks",
                "minutes_this_month",
                "ccm_codes",
            ]
        )
        for r in rows:
            e = r.enrollment
            last = (
                timezone.localtime(r.last_contact.occurred_at).strftime("%Y-%m-%d %H:%M")
                if r.last_contact
                else ""
            )
            writer.writerow(
                [
                    _csv_cell(v)
                    for v in (
                        r.patient.pk,
                        r.patient.family_name,
                        r.patient.given_name,
                        r.patient.birth_date.isoformat(),
                        e.get_program_display(),
                        e.lead_organization.name,
                        e.get_status_display(),
                        e.status_since.isoformat(),
                        e.get_acuity_display(),
                        r.care_manager_name,
                        last,
                        r.days_since_contact,
                        r.next_follow_up.isoformat() if r.next_follow_up else "",
                        r.open_tasks,
                        r.minutes,
                        r.ccm.label,
                    )
                ]
            )
        return response


# --- Enrollment ---------------------------------------------------------------------------


@with_actor
@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(actor, patient_id)
    form = EnrollForm(actor, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrollment = enrollment_actions.enroll(
                actor,
                patient,
                program=data["program"],
                acuity=data["acuity"],
                care_manager=data["care_manager"],
                status=data["status"],
                reason=data["reason"],
                on=data["on"],
            )
        except CareError as error:
            _show_error(form, error)
        else:
            messages.success(
                request,
                f"{patient.full_name} is {enrollment.get_status_display().lower()} in"
                f" {enrollment.get_program_display()}.",
            )
            return redirect("enrollment_detail", enrollment_id=enrollment.pk)
    existing = list(
        access.care.visible_enrollments(actor)
        .filter(patient=patient)
        .exclude(status__in=CLOSED_STATUSES)
        .select_related("lead_organization", "care_manager")
    )
    log.record(actor, AuditAction.VIEW, patient=patient, obj=patient, detail={"page": "enroll"})
    return render(
        request,
        "care/registry/enroll.html",
        {**_patient_context(patient, "enroll"), "form": form, "existing": existing},
        status=400 if form.errors else 200,
    )


def _survey_links(surveys: list[Any]) -> list[tuple[Any, str | None]]:
    """Each survey with the page where it is recorded, when that page exists."""
    links = []
    for survey in surveys:
        try:
            url: str | None = reverse("survey_record", args=[survey.pk])
        except NoReverseMatch:
            url = None
        links.append((survey, url))
    return links


def _enrollment_page(
    request: HttpRequest,
    actor: Actor,
    enrollment_id: int,
    form: TransitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    with timezone.override(actor.organization.zone):
        detail = queries.enrollment_detail(actor, enrollment_id)
        enrollment = detail.enrollment
        if form is None and detail.can_change and enrollment.is_open:
            form = TransitionForm(enrollment)
        log.record(
            actor,
            AuditAction.VIEW,
            patient=enrollment.patient,
            obj=enrollment,
            detail={"page": "enrollment"},
        )
        return render(
            request,
            "care/registry/enrollment_detail.html",
            {
                **_patient_context(enrollment.patient, "enrollment"),
                "detail": detail,
                "enrollment": enrollment,
                "form": form,
                "surveys": _survey_links(detail.surveys),
            },
            status=status,
        )


@with_actor
@require_GET
def enrollment_detail(request: HttpRequest, actor: Actor, enrollment_id: int) -> HttpResponse:
    return _enrollment_page(request, actor, enrollment_id)


@with_actor
@require_POST
def enrollment_transition(request: HttpRequest, actor: Actor, enrollment_id: int) -> HttpResponse:
    enrollment = access.care.get_enrollment_for_editor(actor, enrollment_id)
    form = TransitionForm(enrollment, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            moved = enrollment_actions.transition(
                actor,
                enrollment,
                data["to_status"],
                reason=data["reason"],
                effective_on=data["effective_on"],
            )
        except CareError as error:
            _show_error(form, error)
        else:
            messages.success(
                request,
                f"Status changed to {moved.get_status_display().lower()} as of"
                f" {moved.status_since:%Y-%m-%d}.",
            )
            return redirect("enrollment_detail", enrollment_id=moved.pk)
    return _enrollment_page(request, actor, enrollment.pk, form=form, status=400)


@with_actor
@require_http_methods(["GET", "POST"])
def enrollment_edit(request: HttpRequest, actor: Actor, enrollment_id: int) -> HttpResponse:
    enrollment = access.care.get_enrollment_for_editor(actor, enrollment_id)
    form = EnrollmentEditForm(enrollment, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrollment_actions.update_enrollment(
                actor,
                enrollment,
                care_manager=form.cleaned_data["care_manager"],
                acuity=form.cleaned_data["acuity"],
            )
        except CareError as error:
            _show_error(form, error)
        else:
            messages.success(request, "Enrollment updated.")
            return redirect("enrollment_detail", enrollment_id=enrollment.pk)
    log.record(
        actor,
        AuditAction.VIEW,
        patient=enrollment.patient,
        obj=enrollment,
        detail={"page": "enrollment edit"},
    )
    return render(
        request,
        "care/registry/enrollment_edit.html",
        {
            **_patient_context(enrollment.patient, "enrollment"),
            "enrollment": enrollment,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


# --- Interactions and time ----------------------------------------------------------------


@with_actor
@require_http_methods(["GET", "POST"])
def patient_interactions(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(actor, patient_id)
    organization = actor.organization
    with timezone.override(organization.zone):
        history = queries.patient_interactions(actor, patient)
        form = InteractionForm(organization, history.open_enrollments, request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                interaction = log_interaction(
                    actor,
                    patient,
                    kind=data["kind"],
                    minutes=data["minutes"],
                    occurred_at=data["occurred_at"],
                    direction=data["direction"],
                    reached=Reached.as_bool(data["reached"]),
                    note=data["note"],
                    enrollment=data["enrollment"],
                )
            except CareError as error:
                _show_error(form, error)
            else:
                messages.success(
                    request,
                    f"Logged {interaction.minutes} min ({interaction.get_kind_display().lower()}).",
                )
                return redirect("patient_interactions", patient_id=patient.pk)
        log.record(
            actor, AuditAction.VIEW, patient=patient, obj=patient, detail={"page": "interactions"}
        )
        return render(
            request,
            "care/registry/interactions.html",
            {
                **_patient_context(patient, "interactions"),
                "history": history,
                "form": form,
                "ccm": CCM_FACTS,
            },
            status=400 if form.errors else 200,
        )


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month_param(text: str, today: datetime.date) -> tuple[datetime.date, str]:
    current = month_start(today)
    if not text:
        return current, ""
    match = _MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        return current, f"{text!r} is not a month; use YYYY-MM. Showing this month."
    month = datetime.date(int(match.group(1)), int(match.group(2)), 1)
    if month > current:
        return current, f"{text} has not started yet. Showing this month."
    return month, ""


def _days_param(text: str) -> tuple[int, str]:
    if not text:
        return DEFAULT_NO_CONTACT_DAYS, ""
    if text.isdigit() and 1 <= int(text) <= 365:
        return int(text), ""
    return DEFAULT_NO_CONTACT_DAYS, (
        f"{text!r} is not a number of days from 1 to 365; using {DEFAULT_NO_CONTACT_DAYS}."
    )


@with_actor
@require_GET
def care_time(request: HttpRequest, actor: Actor) -> HttpResponse:
    organization = actor.organization
    with timezone.override(organization.zone):
        today = organization_today(organization)
        month, month_error = _month_param(request.GET.get("month", ""), today)
        days, days_error = _days_param(request.GET.get("days", ""))
        minutes = monthly_minutes(organization, month, patients=access.visible_patients(actor))
        quiet = queries.registry_rows(
            actor,
            RegistryFilters(status=StatusFilter.ACTIVE, no_contact_days=days, sort="-last_contact"),
        )
        shown = {p.patient.pk for p in minutes.per_patient} | {r.patient.pk for r in quiet}
        log.record_many(
            actor,
            AuditAction.VIEW,
            sorted(shown),
            {"page": "care time", "month": month.isoformat()[:7]},
        )
        after = next_month(month)
        return render(
            request,
            "care/registry/time.html",
            {
                "minutes": minutes,
                "month": month,
                "previous": previous_month(month).isoformat()[:7],
                "next": after.isoformat()[:7] if after <= month_start(today) else "",
                "days": days,
                "quiet": quiet,
                "errors": [e for e in (month_error, days_error) if e],
                "ccm": CCM_FACTS,
            },
        )


# --- Caseload -----------------------------------------------------------------------------


@with_actor
@require_GET
def caseload_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = caseload(actor)
    ratio = actor.organization.effective_caseload_ratio
    unassigned = unassigned_active(actor)
    return render(
        request,
        "care/registry/caseload.html",
        {
            "rows": rows,
            "ratio": ratio,
            "warning_percent": round(WARNING_SHARE * 100),
            "acuity_labels": Acuity.labels,
            "unassigned_counts": [(label, unassigned.get(v, 0)) for v, label in Acuity.choices],
            "unassigned_total": sum(unassigned.values()),
            "supervisor": is_supervisor(actor),
            "over": [r for r in rows if r.band == Band.OVER],
            "near": [r for r in rows if r.band == Band.WARNING],
            "can_take": sorted(
                (r for r in rows if r.is_member and r.band == Band.OK),
                key=lambda r: -r.open_places,
            ),
            "former": [r for r in rows if not r.is_member],
        },
    )


# --- Care team ----------------------------------------------------------------------------


@with_actor
@require_http_methods(["GET", "POST"])
def care_team(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(actor, patient_id)
    with timezone.override(actor.organization.zone):
        form = CareTeamForm(team_queries.team_candidates(actor, patient), request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            membership = data["member"]
            try:
                member = team_actions.add_care_team_member(
                    actor,
                    patient,
                    user=membership.user if membership else None,
                    organization=membership.organization if membership else None,
                    name="" if membership else data["name"],
                    role=data["role"],
                    role_description=data["role_description"],
                    phone=data["phone"],
                    is_lead=data["is_lead"],
                )
            except CareError as error:
                _show_error(form, error)
            else:
                messages.success(
                    request, f"{team_queries.member_label(member)} joined the care team."
                )
                return redirect("care_team", patient_id=patient.pk)
        log.record(
            actor, AuditAction.VIEW, patient=patient, obj=patient, detail={"page": "care team"}
        )
        return render(
            request,
            "care/registry/care_team.html",
            {
                **_patient_context(patient, "team"),
                "current": list(team_queries.current_team(actor, patient)),
                "past": list(team_queries.past_team(actor, patient)),
                "form": form,
                "guidance": team_queries.TEAM_ROLE_GUIDANCE,
                "can_edit": actor.can_edit_patients,
            },
            status=400 if form.errors else 200,
        )


@with_actor
@require_POST
def care_team_member_end(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    member = access.care.get_care_team_member_for_editor(actor, member_id)
    try:
        team_actions.end_care_team_member(actor, member)
    except CareError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{team_queries.member_label(member)} left the care team today.")
    return redirect("care_team", patient_id=member.patient_id)


@with_actor
@require_POST
def care_team_member_lead(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    member = access.care.get_care_team_member_for_editor(actor, member_id)
    try:
        team_actions.make_care_team_lead(actor, member)
    except CareError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{team_queries.member_label(member)} now leads the team.")
    return redirect("care_team", patient_id=member.patient_id)


urlpatterns: list[URLPattern] = [
    path("registry/", registry, name="registry"),
    path("registry.csv", registry_csv, name="registry_csv"),
    path("patients/<int:patient_id>/enroll/", enroll, name="enroll"),
    path("enrollments/<int:enrollment_id>/", enrollment_detail, name="enrollment_detail"),
    path(
        "enrollments/<int:enrollment_id>/transition/",
        enrollment_transition,
        name="enrollment_transition",
    ),
    path("enrollments/<int:enrollment_id>/edit/", enrollment_edit, name="enrollment_edit"),
    path(
        "patients/<int:patient_id>/interactions/",
        patient_interactions,
        name="patient_interactions",
    ),
    path("time/", care_time, name="care_time"),
    path("caseload/", caseload_page, name="caseload"),
    path("patients/<int:patient_id>/team/", care_team, name="care_team"),
    path("team-members/<int:member_id>/end/", care_team_member_end, name="care_team_member_end"),
    path("team-members/<int:member_id>/lead/", care_team_member_lead, name="care_team_member_lead"),
]
