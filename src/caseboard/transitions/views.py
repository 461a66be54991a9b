"""Screens of the hospital feed: the message log, one message, and the patient review queue."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from caseboard.access import Actor
from caseboard.access import transitions as transitions_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.errors import CareError
from caseboard.transitions import actions, queries
from caseboard.transitions.forms import ReviewDecisionForm
from caseboard.transitions.measures import transition_measures
from caseboard.transitions.models import MessageStatus
from caseboard.web.decorators import with_actor


@with_actor
@require_GET
def message_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = request.GET.get("status", "")
    page = Paginator(queries.message_log(actor, status), queries.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    patient_ids = {m.patient_id for m in page if m.patient_id is not None}
    if patient_ids:
        log.record_many(actor, AuditAction.VIEW, patient_ids, {"page": "ADT message log"})
    template = "transitions/message_list.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#log"
    return render(
        request,
        template,
        {
            "page": page,
            "status": status,
            "statuses": MessageStatus.choices,
            "sees_unmatched": transitions_access.sees_unmatched(actor),
        },
    )


@with_actor
@require_GET
def message_detail(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponse:
    message = transitions_access.get_message_for_user(actor, message_id)
    log.record(actor, AuditAction.VIEW, patient=message.patient, obj=message)
    return render(
        request,
        "transitions/message_detail.html",
        {
            "message": message,
            "raw_lines": message.raw.replace("\r\n", "\r").replace("\n", "\r").split("\r"),
            "ack_lines": [line for line in message.ack.split("\r") if line],
            "events": queries.message_events(actor, message),
            "can_replay": actor.is_admin and message.status in actions.REPLAYABLE,
        },
    )


@with_actor
@require_POST
def message_replay(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponse:
    message = transitions_access.get_message_for_admin(actor, message_id)
    try:
        replayed = actions.replay(actor, message)
    except CareError as error:
        flash.error(request, error.message)
    else:
        if replayed.status == MessageStatus.DEAD_LETTER:
            flash.error(request, f"Replayed, and it failed again: {replayed.error}")
        else:
            flash.success(request, f"Replayed: {replayed.get_status_display().lower()}.")
    return redirect("transitions_message", message_id=message.pk)


@with_actor
@require_GET
def review_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = queries.review_rows(actor)
    return _reviews_page(request, actor, rows, status=200)


def _reviews_page(
    request: HttpRequest,
    actor: Actor,
    rows: list[queries.ReviewRow],
    *,
    status: int,
    errors: dict[int, ReviewDecisionForm] | None = None,
) -> HttpResponse:
    shown = {p.pk for row in rows for p, _, _ in row.candidates}
    if shown:
        log.record_many(actor, AuditAction.VIEW, shown, {"page": "ADT patient reviews"})
    return render(
        request,
        "transitions/review_list.html",
        {"rows": rows, "errors": errors or {}, "can_decide": actor.can_edit_patients},
        status=status,
    )


@with_actor
@require_POST
def review_decide(request: HttpRequest, actor: Actor, patient_review_id: int) -> HttpResponse:
    review = transitions_access.get_review_for_editor(actor, patient_review_id)
    candidates = [p for p, _, _ in queries.visible_candidates(actor, review)]
    form = ReviewDecisionForm(request.POST, candidates=candidates)
    if not form.is_valid():
        return _reviews_page(
            request, actor, queries.review_rows(actor), status=400, errors={review.pk: form}
        )
    try:
        if form.cleaned_data["decision"] == "match":
            message = actions.resolve_review(actor, review, form.cleaned_data["patient"])
            flash.success(request, f"Matched; message {message.get_status_display().lower()}.")
        else:
            actions.dismiss_review(actor, review)
            flash.success(request, "Marked as not one of our patients.")
    except CareError as error:
        flash.error(request, error.message)
    return redirect("transitions_reviews")


@with_actor
@require_GET
def inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Admissions, discharges and ED visits of the organization's patients in care management,
    each with its follow-up task: the work a care manager does after a hospital message."""
    open_only = request.GET.get("show") != "all"
    rows = queries.inbox(actor, open_only=open_only)
    patient_ids = {row.episode.patient_id for row in rows}
    if patient_ids:
        log.record_many(actor, AuditAction.VIEW, patient_ids, {"page": "transitions inbox"})
    return render(
        request,
        "transitions/inbox.html",
        {"rows": rows, "open_only": open_only, "measures": transition_measures(actor)},
    )


urlpatterns = [
    path("", inbox, name="transitions_inbox"),
    path("messages/", message_list, name="transitions_messages"),
    path("messages/<int:message_id>/", message_detail, name="transitions_message"),
    path("messages/<int:message_id>/replay/", message_replay, name="transitions_replay"),
    path("reviews/", review_list, name="transitions_reviews"),
    path(
        "reviews/<int:patient_review_id>/decide/", review_decide, name="transitions_review_decide"
    ),
]
