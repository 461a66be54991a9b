"""`caseboard demo-logins`: who can sign in to the demo, as what, where."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseboard.demo.load import DEMO_PASSWORD
from caseboard.orgs.models import Membership


class Command(BaseCommand):
    help = "List the demo's sign-ins: user name, role and organization."

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = ["plan", "practice", "cbcme", "cbo"]
        memberships = sorted(
            Membership.objects.select_related("user", "organization"),
            key=lambda m: (kinds.index(m.organization.kind), m.organization.name, m.user.username),
        )
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {DEMO_PASSWORD})"))
        for m in memberships:
            self.stdout.write(
                f"  {m.user.username:<16} {m.get_role_display():<34} {m.organization.name}"
            )
