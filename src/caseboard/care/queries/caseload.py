"""Caseload per care coordinator against the organization's ratio.

Seed 003 (Staffing, "Care Coordinator Ratio"): staff equivalent to one care coordinator per 60
members; an organization may set its own ratio (`Organization.effective_caseload_ratio`).
Seed 002 ("Sink or swim assessment"): a care manager who often feels overwhelmed by the
caseload is sinking, and the supervisor should act before that happens, so the page warns
from 90 % of the ratio and signals overload above it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Count, Q

from caseboard import access
from caseboard.access import Actor
from caseboard.care.models import ACTIVE_STATUSES, Acuity, Enrollment
from caseboard.orgs.models import Membership, Organization, Role

# Roles that carry a caseload of their own, shown even when it is empty so that a supervisor
# sees who can take more.
CASELOAD_ROLES = frozenset(
    {
        Role.CLINICAL_CARE_MANAGER,
        Role.CARE_COORDINATOR,
        Role.COMMUNITY_HEALTH_WORKER,
        Role.CASE_MANAGER,
        Role.SOCIAL_CARE_MANAGER,
        Role.DEDICATED_CARE_COORDINATOR,
        Role.LCSW,
    }
)
# Those who assign and rebalance caseloads.
SUPERVISOR_ROLES = frozenset({Role.DIRECTOR_OF_CARE_MANAGEMENT, Role.HHP_DIRECTOR, Role.ORG_ADMIN})
WARNING_SHARE = 0.9


class Band:
    OK = "ok"
    WARNING = "warning"
    OVER = "over"


def is_supervisor(actor: Actor) -> bool:
    return actor.role in SUPERVISOR_ROLES or actor.is_admin


def supervisors(organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.select_related("user").filter(
            Q(role__in=SUPERVISOR_ROLES) | Q(administers=True),
            organization=organization,
            is_active=True,
        )
    )


def band_for(active: int, ratio: int) -> str:
    if active > ratio:
        return Band.OVER
    if active >= WARNING_SHARE * ratio:
        return Band.WARNING
    return Band.OK


@dataclass(frozen=True)
class CaseloadRow:
    user: User
    role_label: str
    is_member: bool
    active: int
    ratio: int
    by_acuity: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def percent(self) -> int:
        return round(100 * self.active / self.ratio) if self.ratio else 0

    @property
    def band(self) -> str:
        return band_for(self.active, self.ratio)

    @property
    def open_places(self) -> int:
        return max(0, self.ratio - self.active)

    @property
    def warning_at(self) -> int:
        return int(WARNING_SHARE * self.ratio)

    @property
    def acuity_counts(self) -> list[tuple[str, int]]:
        return [(label, self.by_acuity.get(value, 0)) for value, label in Acuity.choices]


def _active_counts(actor: Actor) -> dict[int | None, dict[str, int]]:
    rows = (
        access.care.visible_enrollments(actor)
        .filter(lead_organization=actor.organization, status__in=ACTIVE_STATUSES)
        .values("care_manager_id", "acuity")
        .annotate(n=Count("id"))
    )
    counts: dict[int | None, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["care_manager_id"]][row["acuity"]] = row["n"]
    return counts


def caseload(actor: Actor) -> list[CaseloadRow]:
    """Every care manager of the actor's organization with their active enrollments
    (outreach, engaged, enrolled), heaviest first.

    Staff in caseload roles appear even with none; anyone else who has been assigned
    enrollments appears too, and so does a former member still holding some (to reassign).
    """
    organization = actor.organization
    ratio = organization.effective_caseload_ratio
    counts = _active_counts(actor)
    memberships = {
        m.user_id: m
        for m in Membership.objects.select_related("user").filter(
            organization=organization, is_active=True
        )
    }
    shown = {
        user_id
        for user_id, m in memberships.items()
        if m.role in CASELOAD_ROLES or user_id in counts
    }
    holders = [user_id for user_id in counts if user_id is not None]
    former = User.objects.in_bulk([u for u in holders if u not in memberships])
    rows: list[CaseloadRow] = []
    for user_id in shown | set(former):
        membership = memberships.get(user_id)
        by_acuity = counts.get(user_id, {})
        rows.append(
            CaseloadRow(
                user=membership.user if membership is not None else former[user_id],
                role_label=membership.get_role_display() if membership is not None else "",
                is_member=membership is not None,
                active=sum(by_acuity.values()),
                ratio=ratio,
                by_acuity=dict(by_acuity),
            )
        )
    rows.sort(key=lambda r: (-r.active, r.user.last_name, r.user.first_name, r.user.pk))
    return rows


def unassigned_active(actor: Actor) -> dict[str, int]:
    """Active enrollments led by the organization that no care manager holds, by acuity."""
    return dict(_active_counts(actor).get(None, {}))


def active_caseload_count(organization: Organization, user: User) -> int:
    """How many active enrollments of the organization `user` holds (for the overload alert,
    which a write makes on the organization's behalf, not a page showing patients)."""
    return Enrollment.objects.filter(
        lead_organization=organization, care_manager=user, status__in=ACTIVE_STATUSES
    ).count()
