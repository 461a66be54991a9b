from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from caseboard import access
from caseboard.access import Actor
from caseboard.orgs import queries
from caseboard.orgs.models import Membership
from caseboard.web.decorators import with_actor
from caseboard.web.middleware import ACTIVE_ORGANIZATION_KEY


@with_actor
def partnerships(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "orgs/partnerships.html",
        {"partnerships": access.visible_partnerships(actor)},
    )


@with_actor
def directory(request: HttpRequest, actor: Actor, partnership_id: int) -> HttpResponse:
    partnership, members = queries.team_directory(actor, partnership_id)
    return render(request, "orgs/directory.html", {"partnership": partnership, "members": members})


@with_actor
@require_POST
def switch_organization(request: HttpRequest, actor: Actor) -> HttpResponse:
    wanted = request.POST.get("organization", "")
    membership = Membership.objects.filter(
        user=actor.user,
        is_active=True,
        organization_id=int(wanted) if wanted.isdigit() else 0,
    ).first()
    if membership is not None:
        request.session[ACTIVE_ORGANIZATION_KEY] = membership.organization_id
    # Patient pages of one organization may be invisible to the next: land on home.
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    if "/patients/" in target:
        target = "/"
    return redirect(target)
