from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from caseboard.care.queries.tasks import counts
from caseboard.orgs.models import Membership, OrganizationKind


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"actor": None}
    memberships = Membership.objects.select_related("organization").filter(
        user=actor.user, is_active=True
    )
    return {
        "actor": actor,
        "memberships": list(memberships),
        # Community organizations receive referrals; they keep no panel or care plans.
        "keeps_panel": actor.organization.kind != OrganizationKind.CBO,
        "task_counts": counts(actor),
    }
