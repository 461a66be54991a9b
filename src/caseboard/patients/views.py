from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.queries.careplan import care_plan_view
from caseboard.care.queries.registry import patient_care_summary as care_summary
from caseboard.patients import actions, queries
from caseboard.patients.forms import RosterUploadForm, SearchForm
from caseboard.patients.models import RosterImport
from caseboard.patients.roster import COLUMNS, REQUIRED_COLUMNS, RosterError, errors_as_csv
from caseboard.transitions.queries import patient_episodes
from caseboard.web.decorators import with_actor


@with_actor
def search(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    context = {"form": form, "query": query, "results": queries.search_patients(actor, query)}
    template = "patients/search.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context)


@with_actor
def profile(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    found = queries.patient_profile(actor, patient_id)
    return render(
        request,
        "patients/profile.html",
        {
            "profile": found,
            # Part of the same page view (one audit event): care management at a glance.
            "care": care_summary(actor, found.patient),
            "care_plan": care_plan_view(actor, found.patient),
            "episodes": patient_episodes(actor, found.patient),
        },
    )


def _roster_import_for_user(actor: Actor, import_id: int) -> RosterImport:
    found = RosterImport.objects.filter(pk=import_id, organization=actor.organization).first()
    if found is None:
        raise Http404("No such roster import.")
    return found


@with_actor
@require_http_methods(["GET", "POST"])
def roster_upload(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = actions.import_roster(
            actor,
            upload.name,
            upload.read(),
            good_rows_only=form.cleaned_data["good_rows_only"],
        )
        return redirect("roster_import", import_id=record.pk)
    recent = RosterImport.objects.filter(organization=actor.organization).select_related(
        "uploaded_by"
    )[:20]
    return render(
        request,
        "patients/roster_upload.html",
        {
            "form": form,
            "recent": recent,
            "columns": COLUMNS,
            "required_columns": REQUIRED_COLUMNS,
        },
    )


@with_actor
def roster_import(request: HttpRequest, actor: Actor, import_id: int) -> HttpResponse:
    record = _roster_import_for_user(actor, import_id)
    return render(request, "patients/roster_import.html", {"record": record})


@with_actor
def roster_errors_csv(request: HttpRequest, actor: Actor, import_id: int) -> HttpResponse:
    record = _roster_import_for_user(actor, import_id)
    # The bad rows carry the values that were typed, patient data included.
    log.record(actor, AuditAction.EXPORT, obj=record, detail={"rows": record.rows_rejected})
    body = errors_as_csv([RosterError(**e) for e in record.errors])
    response = HttpResponse(body, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="roster-{record.pk}-bad-rows.csv"'
    return response
