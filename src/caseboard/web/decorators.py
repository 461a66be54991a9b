from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from caseboard.access import Actor

P = ParamSpec("P")
ActorView = Callable[Concatenate[HttpRequest, Actor, P], HttpResponse]


def with_actor(view: ActorView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Signed-in users only; the view receives the acting user and organization."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        actor: Actor | None = getattr(request, "actor", None)
        if actor is None:
            raise PermissionDenied("Your account belongs to no active organization.")
        return view(request, actor, *args, **kwargs)

    return wrapper


def admin_only(view: ActorView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """For organization administrators (audit log, roster import)."""

    @with_actor
    @wraps(view)
    def wrapper(
        request: HttpRequest, actor: Actor, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        if not actor.is_admin:
            raise PermissionDenied("Only your organization's administrators may open this page.")
        return view(request, actor, *args, **kwargs)

    return wrapper
