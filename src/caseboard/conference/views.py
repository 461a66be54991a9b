"""Pages of the partnership's high-risk lists (seed 004, Attachment A, steps 1–2)."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.conference import actions, calls, prework, queries
from caseboard.conference.errors import ConferenceError
from caseboard.conference.forms import (
    NO_MATCH,
    AddForm,
    AttendingForm,
    ChecklistForm,
    PatientSearchForm,
    RefreshForm,
    RemoveForm,
    ResolveForm,
    SeriesForm,
    UploadForm,
    UrgentForm,
)
from caseboard.conference.invitations import series_calendar
from caseboard.conference.models import DEFAULT_PRACTICE_GAP_MONTHS
from caseboard.conference.practice_list import COLUMNS, REQUIRED_COLUMNS
from caseboard.orgs.models import Membership
from caseboard.patients.models import Provider
from caseboard.web.decorators import with_actor


def _lists_url(partnership_id: int) -> str:
    return reverse("high_risk_lists", kwargs={"partnership_id": partnership_id})


def _show_error(form: Form) -> str:
    return next((str(e) for errors in form.errors.values() for e in errors), "Check the form.")


@with_actor
@require_GET
def high_risk_lists(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    overview = queries.lists_overview(actor, partnership_id)
    return render(
        request,
        "conference/lists.html",
        {
            "o": overview,
            "refresh_form": RefreshForm(initial={"size": overview.plan_list.target_size}),
            "remove_form": RemoveForm(),
        },
    )


@with_actor
@require_POST
def high_risk_refresh(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    partnership = access.get_partnership_for_user(actor, partnership_id)
    target = _lists_url(partnership.pk)
    if not conference_access.is_plan_staff(actor, partnership):
        messages.error(
            request, f"Only {partnership.plan}'s staff refresh the plan's list from its analytics."
        )
        return redirect(target)
    form = RefreshForm(request.POST)
    if not form.is_valid():
        messages.error(request, _show_error(form))
        return redirect(target)
    try:
        result = actions.refresh_plan_list(actor, partnership, form.cleaned_data["size"])
    except ConferenceError as exc:
        messages.error(request, exc.message)
        return redirect(target)
    summary = (
        f"Refreshed from the ranking as of {result.high_risk_list.ranking_as_of:%Y-%m-%d}: "
        f"{result.added} added, {result.kept} kept"
    )
    if result.no_longer_ranked:
        summary += (
            f", {result.no_longer_ranked} no longer in the top "
            f"{result.high_risk_list.target_size} (listed until removed with a reason)"
        )
    if result.held_back:
        summary += (
            f"; {len(result.held_back)} ranked patient(s) taken off earlier with a reason "
            "were not put back (see the history)"
        )
    messages.success(request, summary + ".")
    return redirect(target)


@with_actor
@require_http_methods(["GET", "POST"])
def high_risk_add(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    partnership = access.get_partnership_for_user(actor, partnership_id)
    plan_list, practice_list = actions.lists_of(partnership)
    own = plan_list if conference_access.is_plan_staff(actor, partnership) else practice_list
    data = request.POST if request.method == "POST" else request.GET
    search = PatientSearchForm(data)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    form = AddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = access.get_patient_for_user(actor, form.cleaned_data["patient"])
            entry = actions.add_to_list(
                actor,
                own,
                patient,
                reasons=form.cleaned_data["reasons"],
                rank=form.cleaned_data["rank"],
            )
        except Http404:
            form.add_error("patient", "Choose the patient from the search results.")
        except ConferenceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"{entry.patient.full_name} is on {own.owner}'s list at #{entry.rank}."
            )
            return redirect(_lists_url(partnership.pk))
    chosen = str(form.data.get("patient", "")) if form.is_bound else ""
    context = {
        "partnership": partnership,
        "own": own,
        "search": search,
        "query": query,
        "results": queries.addable_patients(actor, partnership, query) if query else [],
        "form": form,
        "chosen": chosen,
    }
    template = "conference/add.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context, status=400 if form.errors else 200)


@with_actor
@require_POST
def high_risk_remove(request: HttpRequest, actor: Actor, entry_id: int) -> HttpResponse:
    entry = conference_access.get_entry_for_user(actor, entry_id)
    target = _lists_url(entry.high_risk_list.partnership_id)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _show_error(form))
        return redirect(target)
    try:
        actions.remove_from_list(actor, entry, reason=form.cleaned_data["reason"])
    except ConferenceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{entry.patient.full_name} was taken off {entry.high_risk_list.owner}'s list; "
            "the history keeps who, when and why.",
        )
    return redirect(target)


@with_actor
@require_http_methods(["GET", "POST"])
def high_risk_upload(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    partnership = access.get_partnership_for_user(actor, partnership_id)
    _, practice_list = actions.lists_of(partnership)
    is_practice = actor.organization.pk == partnership.partner_id
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = actions.upload_practice_list(
            actor,
            practice_list,
            upload.name,
            upload.read(),
            good_rows_only=form.cleaned_data["good_rows_only"],
        )
        return redirect("high_risk_upload_detail", upload_id=record.pk)
    return render(
        request,
        "conference/upload.html",
        {
            "partnership": partnership,
            "form": form,
            "is_practice": is_practice,
            "columns": COLUMNS,
            "required_columns": REQUIRED_COLUMNS,
            "recent": queries.recent_uploads(actor, partnership),
        },
        status=400 if form.errors else 200,
    )


@with_actor
@require_GET
def high_risk_upload_detail(request: HttpRequest, actor: Actor, upload_id: int) -> HttpResponse:
    detail = queries.upload_detail(actor, upload_id)
    return render(
        request,
        "conference/upload_detail.html",
        {"d": detail, "partnership": detail.upload.high_risk_list.partnership},
    )


@with_actor
@require_GET
def high_risk_history(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    partnership = access.get_partnership_for_user(actor, partnership_id)
    return render(
        request,
        "conference/history.html",
        {"partnership": partnership, "events": queries.list_history(actor, partnership)},
    )


@with_actor
@require_GET
def match_reviews(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    queue = queries.review_queue(actor, partnership_id)
    return render(
        request,
        "conference/reviews.html",
        {"q": queue, "partnership": queue.partnership},
    )


@with_actor
@require_http_methods(["GET", "POST"])
def match_review_resolve(request: HttpRequest, actor: Actor, review_id: int) -> HttpResponse:
    view = queries.review_for_page(actor, review_id)
    review = view.review
    partnership = review.upload.high_risk_list.partnership
    is_plan_staff = conference_access.is_plan_staff(actor, partnership)
    data = request.POST if request.method == "POST" else request.GET
    search = PatientSearchForm(data)
    query = search.cleaned_data["q"] if search.is_valid() and is_plan_staff else ""
    form = ResolveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        conference_access.get_match_review_for_resolver(actor, review.pk)
        if form.is_valid():
            try:
                actions.resolve_review(
                    actor, review, form.cleaned_data["patient"], form.cleaned_data["note"]
                )
            except ConferenceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(
                    request, f"Row {review.row} of {review.upload.file_name} is settled."
                )
                return redirect("match_reviews", partnership_id=partnership.pk)
    context = {
        "v": view,
        "review": review,
        "partnership": partnership,
        "is_plan_staff": is_plan_staff,
        "form": form,
        "search": search,
        "query": query,
        "results": queries.addable_patients(actor, partnership, query) if query else [],
        "chosen": str(form.data.get("patient", "")) if form.is_bound else "",
        "no_match": NO_MATCH,
    }
    template = "conference/review.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context, status=400 if form.errors else 200)


@with_actor
@require_GET
def combined_list_csv(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    partnership, rows, member_ids = queries.combined_list_for_export(actor, partnership_id)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="combined-high-risk-list-{partnership.pk}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "position",
            "on_lists",
            "plan_rank",
            "practice_rank",
            "last_name",
            "first_name",
            "birth_date",
            "member_id",
            "plan_reasons",
            "practice_reasons",
            "attributed_to_practice",
        ]
    )
    for position, row in enumerate(rows, start=1):
        writer.writerow(
            [
                position,
                row.presence_label,
                row.plan_rank or "",
                row.practice_rank or "",
                row.patient.family_name,
                row.patient.given_name,
                row.patient.birth_date.isoformat(),
                member_ids.get(row.patient.pk, ""),
                "; ".join(row.plan_reasons),
                "; ".join(row.practice_reasons),
                "yes" if row.attributed_to_practice else "no",
            ]
        )
    return response


# --- Conference calls (seed 004, Attachment A, Getting ready and steps 3–5) ---------------


def _conference_url(conference_id: int) -> str:
    return reverse("conference_detail", kwargs={"conference_id": conference_id})


@with_actor
@require_http_methods(["GET", "POST"])
def conference_series(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    page = prework.series_page(actor, partnership_id)
    directory = Membership.objects.filter(pk__in=[m.pk for m in page.directory]).select_related(
        "user", "organization"
    )
    series = page.series
    if series is not None:
        initial = {
            "weekday": series.weekday,
            "start_time": series.start_time,
            "duration_minutes": series.duration_minutes,
            "agenda_size": series.agenda_size,
            "practice_gap_months": series.practice_gap_months,
            "time_zone": series.time_zone,
            "core_participants": page.participants,
        }
    else:
        initial = {"time_zone": actor.organization.time_zone}
    form = SeriesForm(
        request.POST if request.method == "POST" else None, directory=directory, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            if series is None:
                calls.create_series(
                    actor,
                    page.partnership,
                    weekday=values["weekday"],
                    start_time=values["start_time"],
                    duration_minutes=values["duration_minutes"],
                    agenda_size=values["agenda_size"],
                    time_zone=values["time_zone"],
                    participants=values["core_participants"],
                    practice_gap_months=(
                        values["practice_gap_months"] or DEFAULT_PRACTICE_GAP_MONTHS
                    ),
                )
            else:
                calls.update_series(
                    actor,
                    series,
                    weekday=values["weekday"],
                    start_time=values["start_time"],
                    duration_minutes=values["duration_minutes"],
                    agenda_size=values["agenda_size"],
                    time_zone=values["time_zone"],
                    participants=values["core_participants"],
                    practice_gap_months=values["practice_gap_months"],
                )
        except ConferenceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "The call series is saved.")
            return redirect("conference_series", partnership_id=page.partnership.pk)
    return render(
        request,
        "conference/series.html",
        {"page": page, "form": form},
        status=400 if form.errors else 200,
    )


@with_actor
@require_POST
def conference_schedule(request: HttpRequest, actor: Actor, series_id: int) -> HttpResponse:
    series = conference_access.get_series_for_user(actor, series_id)
    target = reverse("conference_series", kwargs={"partnership_id": series.partnership_id})
    if not actor.can_edit_patients:
        messages.error(request, "Your role may read the calls but not schedule them.")
        return redirect(target)
    try:
        conference = calls.schedule_conference(actor, series)
    except ConferenceError as exc:
        messages.error(request, exc.message)
        return redirect(target)
    messages.success(
        request,
        f"The next call is scheduled for "
        f"{conference.starts_at.astimezone(calls.series_zone(series)):%A %Y-%m-%d %H:%M}.",
    )
    return redirect(_conference_url(conference.pk))


@with_actor
@require_GET
def series_invite(request: HttpRequest, actor: Actor, series_id: int) -> HttpResponse:
    series = conference_access.get_series_for_user(actor, series_id)
    response = HttpResponse(series_calendar(actor, series), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="case-conference-{series.pk}.ics"'
    return response


def _conference_context(
    request: HttpRequest, actor: Actor, conference_id: int, **extra: object
) -> dict[str, object]:
    page = prework.conference_page(actor, conference_id)
    pcps = Provider.objects.filter(pk__in=[p.pk for p in page.pcps])
    return {
        "page": page,
        "c": page.conference,
        "partnership": page.partnership,
        "attending_form": AttendingForm(pcps=pcps, initial={"attending_pcps": page.attending_pcps}),
        "checklist_form": ChecklistForm(),
        **extra,
    }


@with_actor
@require_GET
def conference_detail(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    return render(
        request, "conference/conference.html", _conference_context(request, actor, conference_id)
    )


@with_actor
@require_POST
def conference_attending(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    target = _conference_url(conference.pk)
    if not actor.can_edit_patients:
        messages.error(request, "Your role may read the call but not change it.")
        return redirect(target)
    form = AttendingForm(
        request.POST,
        pcps=Provider.objects.filter(
            pk__in=[p.pk for p in calls.partner_pcps(conference.series.partnership)]
        ),
    )
    if not form.is_valid():
        messages.error(request, _show_error(form))
        return redirect(target)
    try:
        calls.set_attending_pcps(actor, conference, list(form.cleaned_data["attending_pcps"]))
    except ConferenceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, "Attending physicians saved; rebuild the agenda to put their patients first."
        )
    return redirect(target)


@with_actor
@require_POST
def conference_build_agenda(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    partnership = conference.series.partnership
    target = _conference_url(conference.pk)
    if not (conference_access.is_plan_staff(actor, partnership) and actor.can_edit_patients):
        messages.error(
            request,
            f"{partnership.plan}'s project manager builds the agenda from the combined list; "
            "add an urgent patient instead.",
        )
        return redirect(target)
    try:
        items = calls.build_agenda(actor, conference)
    except ConferenceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"The agenda holds {len(items)} patient{'s' if len(items) != 1 else ''}."
        )
    return redirect(target)


@with_actor
@require_http_methods(["GET", "POST"])
def conference_urgent(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    data = request.POST if request.method == "POST" else request.GET
    search = PatientSearchForm(data)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    form = UrgentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = access.get_patient_for_user(actor, form.cleaned_data["patient"])
            item = calls.add_urgent_patient(actor, conference, patient, form.cleaned_data["note"])
        except Http404:
            form.add_error("patient", "Choose the patient from the search results.")
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ConferenceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"{item.patient.full_name} is on the agenda at #{item.position} (urgent)."
            )
            return redirect(_conference_url(conference.pk))
    context = {
        "c": conference,
        "partnership": conference.series.partnership,
        "search": search,
        "query": query,
        "results": prework.urgent_candidates(actor, conference, query) if query else [],
        "form": form,
        "chosen": str(form.data.get("patient", "")) if form.is_bound else "",
    }
    template = "conference/urgent.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context, status=400 if form.errors else 200)


@with_actor
@require_POST
def conference_checklist(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    target = _conference_url(conference.pk) + "#checklists"
    form = ChecklistForm(request.POST)
    if not form.is_valid():
        messages.error(request, _show_error(form))
        return redirect(target)
    try:
        row = calls.complete_checklist_item(
            actor, conference, form.cleaned_data["item"], form.cleaned_data["note"]
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ConferenceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Pre-work item {row.item} is done for {row.side}.")
    return redirect(target)


@with_actor
@require_GET
def agenda_item_prework(request: HttpRequest, actor: Actor, item_id: int) -> HttpResponse:
    item = conference_access.get_agenda_item_for_user(actor, item_id)
    packet = prework.prework_packet(actor, item)
    return render(
        request,
        "conference/prework.html",
        {"item": item, "c": item.conference, "packet": packet},
    )


urlpatterns = [
    path(
        "partnerships/<int:partnership_id>/lists/",
        high_risk_lists,
        name="high_risk_lists",
    ),
    path(
        "partnerships/<int:partnership_id>/lists/refresh/",
        high_risk_refresh,
        name="high_risk_refresh",
    ),
    path("partnerships/<int:partnership_id>/lists/add/", high_risk_add, name="high_risk_add"),
    path(
        "partnerships/<int:partnership_id>/lists/upload/",
        high_risk_upload,
        name="high_risk_upload",
    ),
    path(
        "partnerships/<int:partnership_id>/lists/history/",
        high_risk_history,
        name="high_risk_history",
    ),
    path(
        "partnerships/<int:partnership_id>/lists/combined.csv",
        combined_list_csv,
        name="combined_list_csv",
    ),
    path("partnerships/<int:partnership_id>/reviews/", match_reviews, name="match_reviews"),
    path("uploads/<int:upload_id>/", high_risk_upload_detail, name="high_risk_upload_detail"),
    path("entries/<int:entry_id>/remove/", high_risk_remove, name="high_risk_remove"),
    path("reviews/<int:review_id>/", match_review_resolve, name="match_review_resolve"),
    path(
        "partnerships/<int:partnership_id>/series/",
        conference_series,
        name="conference_series",
    ),
    path("series/<int:series_id>/invite.ics", series_invite, name="conference_series_invite"),
    path("series/<int:series_id>/schedule/", conference_schedule, name="conference_schedule"),
    path("conferences/<int:conference_id>/", conference_detail, name="conference_detail"),
    path(
        "conferences/<int:conference_id>/attending/",
        conference_attending,
        name="conference_attending",
    ),
    path(
        "conferences/<int:conference_id>/agenda/",
        conference_build_agenda,
        name="conference_build_agenda",
    ),
    path("conferences/<int:conference_id>/urgent/", conference_urgent, name="conference_urgent"),
    path(
        "conferences/<int:conference_id>/checklist/",
        conference_checklist,
        name="conference_checklist",
    ),
    path("agenda-items/<int:item_id>/prework/", agenda_item_prework, name="agenda_item_prework"),
]
