"""Which organization a signed-in user is acting for, and the optional second factor."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from caseboard.access import Actor, NoActiveOrganization

ACTIVE_ORGANIZATION_KEY = "active_organization_id"


class ActiveOrganizationMiddleware:
    """Sets `request.actor`: the user acting for the organization chosen in the switcher."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            try:
                actor = Actor.for_user(request.user, request.session.get(ACTIVE_ORGANIZATION_KEY))
            except NoActiveOrganization:
                actor = None
            request.actor = actor  # type: ignore[attr-defined]
        return self.get_response(request)


class SecondFactorMiddleware:
    """A user who has set up TOTP must enter a code before reaching anything else."""

    EXEMPT_PREFIXES = ("/account/verify/", "/account/logout/", "/static/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not getattr(user, "is_verified", lambda: False)()
            and not request.path.startswith(self.EXEMPT_PREFIXES)
            and user_has_device(user, confirmed=True)
        ):
            return redirect(f"{reverse('verify_second_factor')}?next={request.path}")
        return self.get_response(request)
