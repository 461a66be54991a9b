from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.forms import AuditFilterForm
from caseboard.web.decorators import admin_only

PAGE_SIZE = 50


@admin_only
def audit_log(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = log.events_for_admin(
        actor,
        username=filters.get("username") or "",
        patient_id=filters.get("patient_id"),
        action=filters.get("action") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "audit/log.html#events" if request.htmx else "audit/log.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})
