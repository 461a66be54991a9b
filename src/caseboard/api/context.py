"""What every API operation needs first: the acting user and organization."""

from __future__ import annotations

from django.http import HttpRequest

from caseboard.access import Actor, NoActiveOrganization


def actor_of(request: HttpRequest) -> Actor:
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        raise NoActiveOrganization("Your account belongs to no active organization.")
    return actor
