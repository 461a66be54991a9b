from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from caseboard.orgs.models import Membership


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"actor": None}
    memberships = Membership.objects.select_related("organization").filter(
        user=actor.user, is_active=True
    )
    return {"actor": actor, "memberships": list(memberships)}
