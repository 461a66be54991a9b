"""The community-resource directory and closed-loop referral pages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care import screening as instruments
from caseboard.care.actions import referrals as actions
from caseboard.care.errors import CareError
from caseboard.care.forms.referrals import (
    DirectorySearchForm,
    ReferralFilterForm,
    ReferralForm,
    ReferralUpdateForm,
    ResourceForm,
    receiving_organizations,
)
from caseboard.care.models import CLOSED_REFERRAL_STATUSES, ReferralStatus, ServiceCategory
from caseboard.care.queries import referrals as queries
from caseboard.patients import queries as patient_queries
from caseboard.patients.forms import SearchForm
from caseboard.web.decorators import with_actor


def _form_error(form: object, error: CareError) -> None:
    fields = getattr(form, "fields", {})
    form.add_error(error.field if error.field in fields else None, error.message)  # type: ignore[attr-defined]


def _category_labels(values: list[str]) -> list[str]:
    labels = dict(ServiceCategory.choices)
    return [str(labels.get(v, v)) for v in values]


# --- Directory ---------------------------------------------------------------------------


@with_actor
@require_GET
def resource_directory(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = DirectorySearchForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    search = queries.DirectorySearch(
        words=data.get("q", ""),
        category=data.get("category", ""),
        city=data.get("city", ""),
        language=data.get("language", ""),
    )
    # Coming from a patient's screening or referrals: each program offers "Refer" for them.
    patient = None
    if request.GET.get("patient"):
        patient = access.get_patient_for_user(actor, request.GET["patient"])
        if not request.htmx:  # type: ignore[attr-defined]
            log.record(actor, AuditAction.VIEW, patient=patient, detail={"page": "directory"})
    found = list(queries.search_resources(actor, search)[: queries.DIRECTORY_LIMIT + 1])
    context = {
        "form": form,
        "results": [(r, _category_labels(r.categories)) for r in found[: queries.DIRECTORY_LIMIT]],
        "more": len(found) > queries.DIRECTORY_LIMIT,
        "searched": any((search.words, search.category, search.city, search.language)),
        "patient": patient,
        "screening_id": request.GET.get("screening", "") if patient else "",
        "can_refer": patient is not None and actor.can_edit_patients,
        "can_add": actor.can_edit_patients,
    }
    template = "care/referrals/directory.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context)


@with_actor
@require_http_methods(["GET", "POST"])
def resource_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    access.care.require_editor(actor)
    form = ResourceForm(
        request.POST or None, receiving_choices=receiving_organizations(actor.organization)
    )
    if request.method == "POST" and form.is_valid():
        try:
            resource = actions.add_resource(actor, form.fields_value())
        except CareError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"{resource.name} is in the directory.")
            return redirect("resource_detail", resource_id=resource.pk)
    return render(request, "care/referrals/resource_form.html", {"form": form})


@with_actor
@require_http_methods(["GET", "POST"])
def resource_detail(request: HttpRequest, actor: Actor, resource_id: int) -> HttpResponse:
    if request.method == "POST":
        resource = access.care.get_resource_for_editor(actor, resource_id)
        access.care.require_editor(actor)
    else:
        resource = access.care.get_resource_for_user(actor, resource_id)
    maintains = actor.can_edit_patients and actor.organization.pk in (
        resource.maintained_by_id,
        resource.organization_id,
    )
    form = None
    if maintains:
        form = ResourceForm(
            request.POST or None,
            instance=resource,
            receiving_choices=receiving_organizations(actor.organization),
        )
        if request.method == "POST" and form.is_valid():
            try:
                actions.change_resource(actor, resource, form.fields_value())
            except CareError as error:
                _form_error(form, error)
            else:
                messages.success(request, "The listing is updated.")
                return redirect("resource_detail", resource_id=resource.pk)
        if request.method == "POST":
            # A rejected edit leaves the page showing what is saved, not what was typed.
            resource.refresh_from_db()
    # Anyone with patients may refer one: find the patient here, then fill in the referral.
    can_refer = actor.can_edit_patients and not queries.receives_referrals(actor)
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if can_refer and search.is_valid() else ""
    context = {
        "resource": resource,
        "categories": _category_labels(resource.categories),
        "form": form,
        "can_refer": can_refer,
        "search": search,
        "query": query,
        "patients": patient_queries.search_patients(actor, query) if query else [],
        "first_category": resource.categories[0] if resource.categories else "",
    }
    template = "care/referrals/resource_detail.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#patients"
    return render(request, template, context)


# --- Referrals ---------------------------------------------------------------------------


def _reason_from(screening_interpretation: str, name: str, day: str) -> str:
    return f"{name} on {day}: {screening_interpretation}."


@with_actor
@require_http_methods(["GET", "POST"])
def patient_referrals(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(actor, patient_id)
    resources = access.care.visible_resources(actor).filter(is_active=True).order_by("name")
    screenings = access.care.visible_screenings(actor).filter(patient=patient)
    initial: dict[str, object] = {}
    resource_id = request.GET.get("resource", "")
    if resource_id.isdigit():
        chosen = resources.filter(pk=int(resource_id)).first()
        if chosen is not None:
            initial["resource"] = chosen.pk
            initial["category"] = chosen.categories[0] if chosen.categories else ""
    if request.GET.get("category") in ServiceCategory.values:
        initial["category"] = request.GET["category"]
    screening_id = request.GET.get("screening", "")
    if screening_id.isdigit():
        screening = screenings.filter(pk=int(screening_id)).first()
        if screening is not None:
            initial["screening"] = screening.pk
            name = instruments.definition(screening.instrument).name
            initial["reason"] = _reason_from(
                screening.interpretation, name, f"{screening.administered_on:%Y-%m-%d}"
            )
    form = ReferralForm(
        request.POST or None, initial=initial, resources=resources, screenings=screenings
    )
    if request.method == "POST":
        patient = access.get_patient_for_editor(actor, patient_id)
        if form.is_valid():
            try:
                referral = actions.refer(
                    actor,
                    patient,
                    form.cleaned_data["resource"],
                    category=form.cleaned_data["category"],
                    reason=form.cleaned_data["reason"],
                    screening=form.cleaned_data.get("screening"),
                )
            except CareError as error:
                _form_error(form, error)
            else:
                messages.success(request, f"Referral sent to {referral.resource.name}.")
                return redirect("referral_detail", referral_id=referral.pk)
    selected = form["resource"].value()
    context = {
        "patient": patient,
        "referrals": queries.patient_referrals(actor, patient),
        "form": form,
        "resources": [(r, " ".join(r.categories), str(r.pk) == str(selected)) for r in resources],
        "can_edit": actor.can_edit_patients,
    }
    return render(request, "care/referrals/patient_referrals.html", context)


@with_actor
@require_GET
def referral_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ReferralFilterForm(request.GET)
    status = (form.cleaned_data.get("status") if form.is_valid() else "") or queries.OPEN
    now = timezone.now()
    context = {
        "form": form,
        "status": status,
        "referrals": [
            (r, (now - r.sent_at).days if r.status == ReferralStatus.SENT else None)
            for r in queries.referral_worklist(actor, status=status)
        ],
        "receiving": queries.receives_referrals(actor),
    }
    template = "care/referrals/list.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#worklist"
    return render(request, template, context)


@with_actor
@require_http_methods(["GET", "POST"])
def referral_detail(request: HttpRequest, actor: Actor, referral_id: int) -> HttpResponse:
    if request.method == "POST":
        referral = access.care.get_referral_for_editor(actor, referral_id)
    else:
        referral = queries.referral_for_user(actor, referral_id)
    statuses = actions.next_statuses(actor, referral)
    side = actions.side_of(actor, referral)
    on_behalf = side == "referring" and referral.resource.organization_id is None
    form = ReferralUpdateForm(
        request.POST or None,
        statuses=statuses,
        on_behalf=on_behalf,
        initial={"expected_status": referral.status},
    )
    status = 200
    if request.method == "POST":
        if not statuses:
            form.add_error(None, "This referral cannot be changed any more.")
            status = 400
        elif form.is_valid():
            data = form.cleaned_data
            try:
                actions.update_referral(
                    actor,
                    referral,
                    data["status"],
                    outcome=data.get("outcome", ""),
                    note=data.get("note", ""),
                    reported_via=data.get("reported_via") or "phone",
                    expected_status=data.get("expected_status") or None,
                )
            except CareError as error:
                _form_error(form, error)
            else:
                messages.success(request, "The referral is updated.")
                return redirect("referral_detail", referral_id=referral.pk)
        log.record(actor, AuditAction.VIEW, patient=referral.patient, obj=referral)
    # Community organizations see who and why only, never the chart (minimum necessary).
    sees_chart = access.visible_patients(actor).filter(pk=referral.patient_id).exists()
    context = {
        "referral": referral,
        "updates": referral.updates.select_related("by", "by_organization"),
        "form": form,
        "statuses": statuses,
        "side": side,
        "on_behalf": on_behalf,
        "sees_chart": sees_chart,
        "is_closed": referral.status in CLOSED_REFERRAL_STATUSES,
        "closing_statuses": " ".join(sorted(CLOSED_REFERRAL_STATUSES)),
        "sent": ReferralStatus.SENT,
    }
    return render(request, "care/referrals/detail.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("resources/", resource_directory, name="resource_directory"),
    path("resources/new/", resource_new, name="resource_new"),
    path("resources/<int:resource_id>/", resource_detail, name="resource_detail"),
    path(
        "patients/<int:patient_id>/referrals/",
        patient_referrals,
        name="patient_referrals",
    ),
    path("referrals/", referral_list, name="referral_list"),
    path("referrals/<int:referral_id>/", referral_detail, name="referral_detail"),
]
