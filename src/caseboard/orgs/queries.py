from __future__ import annotations

from django.db.models import QuerySet

from caseboard import access
from caseboard.access import Actor
from caseboard.orgs.models import Membership, Partnership


def team_directory(actor: Actor, partnership_id: int) -> tuple[Partnership, QuerySet[Membership]]:
    """Seed 004 "Getting ready" step 1: every team member's name, position, e-mail and phone."""
    partnership = access.get_partnership_for_user(actor, partnership_id)
    members = (
        Membership.objects.select_related("user", "organization")
        .filter(organization__in=partnership.organizations(), is_active=True)
        .order_by("organization__kind", "organization__name", "role", "user__last_name")
    )
    return partnership, members
