"""Conference mode pages: the call screen, ending the call, the summary (page, send, PDF), the
tracking list and its reports, pre-work time and the measures page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.conference import decisions, summary, tracking
from caseboard.conference.errors import ConferenceError
from caseboard.conference.measures import conference_measures
from caseboard.conference.run import partnership_staff, run_page, summary_page
from caseboard.conference.run_forms import (
    CADENCES,
    DiscussionForm,
    EndForm,
    PreworkTimeForm,
    SendForm,
    TrackingRemoveForm,
)
from caseboard.orgs.models import Partnership
from caseboard.web.decorators import with_actor

T = TypeVar("T")


def _attempt(request: HttpRequest, action: Callable[[], T]) -> T | None:
    """Run one action; a refusal (the rules or the role) becomes the page's error message."""
    try:
        return action()
    except (ConferenceError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return None


def _run_url(conference_id: int) -> str:
    return reverse("conference_run", args=[conference_id])


def _discussion_form(partnership: Partnership, data: QueryDict | None = None) -> DiscussionForm:
    return DiscussionForm(
        data,
        plan_staff=partnership_staff(partnership, "plan"),
        practice_staff=partnership_staff(partnership, "practice"),
    )


def _render_run(
    request: HttpRequest,
    actor: Actor,
    conference_id: int,
    item_id: str | None = None,
    form: DiscussionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = run_page(actor, conference_id, item_id)
    partnership = page.partnership
    if form is None:
        initial: dict[str, object] = {"last_seen_by_practice": page.last_seen}
        if page.packet and page.packet.plan_risk:
            initial["why_high_risk"] = "; ".join(page.packet.plan_risk.get("drivers", []))
        form = _discussion_form(partnership)
        form.initial = initial
    staff = partnership_staff(partnership, "plan") | partnership_staff(partnership, "practice")
    core = page.conference.series.core_participants.values_list("pk", flat=True)
    end_form = EndForm(staff=staff, initial={"attendees": list(core)})
    return render(
        request,
        "conference/run.html",
        {
            "page": page,
            "c": page.conference,
            "partnership": partnership,
            "form": form,
            "end_form": end_form,
            "cadences": CADENCES,
            "plan_staff": partnership_staff(partnership, "plan"),
            "practice_staff": partnership_staff(partnership, "practice"),
            "steps": form.steps or [{"title": "", "side": "", "owner": "", "due": ""}] * 2,
            "prework_form": PreworkTimeForm(),
        },
        status=status,
    )


@with_actor
@require_GET
def conference_run(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    return _render_run(request, actor, conference_id, request.GET.get("item"))


@with_actor
@require_POST
def conference_start(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    if _attempt(request, lambda: decisions.start_conference(actor, conference)) is None:
        return redirect(reverse("conference_detail", args=[conference.pk]))
    return redirect(_run_url(conference.pk))


@with_actor
@require_POST
def agenda_item_discussion(request: HttpRequest, actor: Actor, item_id: int) -> HttpResponse:
    item = conference_access.get_agenda_item_for_user(actor, item_id)
    conference = item.conference
    form = _discussion_form(conference.series.partnership, request.POST)
    if not form.is_valid():
        return _render_run(request, actor, conference.pk, str(item.pk), form, status=400)
    try:
        discussion = decisions.record_discussion(actor, item, form.decision())
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return _render_run(request, actor, conference.pk, str(item.pk), form, status=400)
    except ConferenceError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return _render_run(request, actor, conference.pk, str(item.pk), form, status=400)
    messages.success(
        request, f"{item.patient.full_name}: {discussion.get_outcome_display().lower()}."
    )
    return redirect(_run_url(conference.pk))


@with_actor
@require_POST
def conference_end(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    partnership = conference.series.partnership
    staff = partnership_staff(partnership, "plan") | partnership_staff(partnership, "practice")
    form = EndForm(request.POST, staff=staff)
    if not form.is_valid():
        messages.error(request, "Choose the attendees from the list.")
        return redirect(_run_url(conference.pk))
    attendees = list(form.cleaned_data["attendees"])
    if _attempt(request, lambda: summary.end_conference(actor, conference, attendees)) is None:
        return redirect(_run_url(conference.pk))
    messages.success(request, "The call has ended; its summary is drafted for review.")
    return redirect(reverse("conference_summary", args=[conference.pk]))


@with_actor
@require_GET
def conference_summary(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    page = summary_page(actor, conference_id)
    return render(
        request,
        "conference/summary.html",
        {"page": page, "c": page.conference, "partnership": page.partnership, "form": SendForm()},
    )


@with_actor
@require_POST
def conference_summary_send(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    target = reverse("conference_summary", args=[conference.pk])
    form = SendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The note is too long (2,000 characters at most).")
        return redirect(target)
    sent = _attempt(
        request, lambda: summary.send_summary(actor, conference, form.cleaned_data["note"])
    )
    if sent is None:
        return redirect(target)
    messages.success(request, f"Summary sent to {len(sent.recipients)} participant(s).")
    return redirect(target)


@with_actor
@require_GET
def conference_summary_pdf(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    page = summary_page(actor, conference_id)
    try:
        # Imported here: weasyprint loads Pango and its fonts on import.
        from weasyprint import HTML
    except OSError:
        return HttpResponse(
            "PDF output needs the Pango library on the server (Debian: libpango-1.0-0 and"
            " libpangoft2-1.0-0). Use your browser's Print on the summary page meanwhile.",
            status=503,
            content_type="text/plain",
        )
    html = render_to_string(
        "conference/summary_document.html",
        {"page": page, "c": page.conference, "partnership": page.partnership},
        request=request,
    )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="conference-summary-{page.conference.starts_at:%Y-%m-%d}.pdf"'
    )
    return response


@with_actor
@require_POST
def conference_prework_time(request: HttpRequest, actor: Actor, conference_id: int) -> HttpResponse:
    conference = conference_access.get_conference_for_user(actor, conference_id)
    target = reverse("conference_detail", args=[conference.pk]) + "#prework-time"
    form = PreworkTimeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter your pre-work time in whole minutes, 1 to 600.")
        return redirect(target)
    minutes = form.cleaned_data["minutes"]
    if _attempt(request, lambda: summary.record_prework_time(actor, conference, minutes)):
        messages.success(request, f"Pre-work time saved: {form.cleaned_data['minutes']} minutes.")
    return redirect(target)


@with_actor
@require_GET
def tracking_list(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    partnership = access.get_partnership_for_user(actor, partnership_id)
    rows = tracking.tracking_list(actor, partnership, include_removed="all" in request.GET)
    return render(
        request,
        "conference/tracking.html",
        {
            "partnership": partnership,
            "rows": rows,
            "is_plan_staff": conference_access.is_plan_staff(actor, partnership),
            "can_edit": actor.can_edit_patients,
            "remove_form": TrackingRemoveForm(),
        },
    )


@with_actor
@require_POST
def tracking_report_now(request: HttpRequest, actor: Actor, tracking_id: int) -> HttpResponse:
    entry = conference_access.get_tracking_entry_for_user(actor, tracking_id)
    report = _attempt(request, lambda: tracking.report_now(actor, entry))
    if report is None:
        return redirect(reverse("tracking_list", args=[entry.partnership_id]))
    messages.success(request, "Claims activity report sent to the practice.")
    return redirect(reverse("tracking_report", args=[report.pk]))


@with_actor
@require_POST
def tracking_remove(request: HttpRequest, actor: Actor, tracking_id: int) -> HttpResponse:
    entry = conference_access.get_tracking_entry_for_user(actor, tracking_id)
    target = reverse("tracking_list", args=[entry.partnership_id])
    form = TrackingRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the patient comes off the tracking list.")
        return redirect(target)
    reason = form.cleaned_data["reason"]
    if _attempt(request, lambda: tracking.remove_from_tracking(actor, entry, reason)):
        messages.success(request, f"{entry.patient.full_name} is off the tracking list.")
    return redirect(target)


@with_actor
@require_GET
def tracking_report(request: HttpRequest, actor: Actor, report_id: int) -> HttpResponse:
    report = conference_access.get_tracking_report_for_user(actor, report_id)
    log.record(
        actor,
        AuditAction.VIEW,
        patient=report.entry.patient,
        obj=report,
        detail={"page": "tracking_report"},
    )
    return render(
        request,
        "conference/tracking_report.html",
        {"report": report, "entry": report.entry, "partnership": report.entry.partnership},
    )


@with_actor
@require_GET
def conference_measures_page(
    request: HttpRequest, actor: Actor, partnership_id: int
) -> HttpResponse:
    measures = conference_measures(actor, partnership_id)
    return render(
        request,
        "conference/measures.html",
        {"measures": measures, "partnership": measures.partnership},
    )


urlpatterns = [
    path("conferences/<int:conference_id>/run/", conference_run, name="conference_run"),
    path("conferences/<int:conference_id>/start/", conference_start, name="conference_start"),
    path(
        "agenda-items/<int:item_id>/discussion/",
        agenda_item_discussion,
        name="agenda_item_discussion",
    ),
    path("conferences/<int:conference_id>/end/", conference_end, name="conference_end"),
    path("conferences/<int:conference_id>/summary/", conference_summary, name="conference_summary"),
    path(
        "conferences/<int:conference_id>/summary/send/",
        conference_summary_send,
        name="conference_summary_send",
    ),
    path(
        "conferences/<int:conference_id>/summary.pdf",
        conference_summary_pdf,
        name="conference_summary_pdf",
    ),
    path(
        "conferences/<int:conference_id>/prework-time/",
        conference_prework_time,
        name="conference_prework_time",
    ),
    path("partnerships/<int:partnership_id>/tracking/", tracking_list, name="tracking_list"),
    path("tracking/<int:tracking_id>/report/", tracking_report_now, name="tracking_report_now"),
    path("tracking/<int:tracking_id>/remove/", tracking_remove, name="tracking_remove"),
    path("tracking-reports/<int:report_id>/", tracking_report, name="tracking_report"),
    path(
        "partnerships/<int:partnership_id>/conference-measures/",
        conference_measures_page,
        name="conference_measures",
    ),
]
