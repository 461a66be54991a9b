"""Reads for a patient's care team: who is on it, and who could join it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from caseboard import access
from caseboard.access import Actor
from caseboard.care.models import CareTeamMember
from caseboard.care.queries.care_time import organization_today
from caseboard.orgs.models import Membership, Organization, Role
from caseboard.patients.models import Patient


@dataclass(frozen=True)
class RoleGuidance:
    role: str
    title: str
    from_: str
    does: str


# Seed 003 Table 1 ("Multi-Disciplinary Care Team Qualifications and Roles"), in short.
TEAM_ROLE_GUIDANCE: tuple[RoleGuidance, ...] = (
    RoleGuidance(
        Role.DEDICATED_CARE_COORDINATOR,
        "Dedicated care coordinator (required)",
        "CB-CME or by contract; paraprofessional, licensed care coordinator, social worker or"
        " nurse",
        "Oversees the services and the Health Action Plan; meets the member where they live or"
        " seek care; links to social services; works with hospital staff on discharge plans;"
        " monitors treatment and medication adherence; arranges transportation.",
    ),
    RoleGuidance(
        Role.HHP_DIRECTOR,
        "HHP director (required)",
        "CB-CME",
        "Overall responsibility for the team's management and operations, its quality measures"
        " and reporting.",
    ),
    RoleGuidance(
        Role.CLINICAL_CONSULTANT,
        "Clinical consultant (required)",
        "CB-CME or plan; physician, psychiatrist, psychologist, pharmacist, nurse, nutritionist,"
        " LCSW or other behavioral-health professional",
        "Reviews and informs the Health Action Plan; clinical resource for the care"
        " coordinator; eases access to primary care and behavioral health.",
    ),
    RoleGuidance(
        Role.COMMUNITY_HEALTH_WORKER,
        "Community health worker (recommended)",
        "CB-CME or by contract; paraprofessional or peer advocate",
        "Engages the member; goes with them to visits; health promotion and self-management"
        " training; transportation; links to social supports; monitors adherence.",
    ),
    RoleGuidance(
        Role.HOUSING_NAVIGATOR,
        "Housing navigator (for members experiencing homelessness)",
        "CB-CME or by contract",
        "Works with housing agencies and permanent and supportive housing providers to find"
        " and keep the member housed; meets them where they are, even on the street.",
    ),
    RoleGuidance(
        "",
        "Additional members",
        "Any partner, or outside caseboard",
        "A pharmacist, nutritionist, specialist or family caregiver may join to meet the"
        " member's needs; the plan secures the cooperation of providers outside the team.",
    ),
)


def team_organizations(actor: Actor, patient: Patient) -> list[Organization]:
    """The actor's organization and the partners that currently serve the patient (the plan
    covering them, the practice or CB-CME they are attributed to): the organizations whose
    staff may join the patient's care team."""
    sharing = access.sharing_organization_ids(actor)
    today = organization_today(actor.organization)
    serving: dict[int, Organization] = {actor.organization.pk: actor.organization}
    for span in access.visible_attribution(actor, patient):
        if span.is_active_on(today) and span.organization_id in sharing:
            serving[span.organization_id] = span.organization
    for coverage in access.visible_coverage(actor, patient):
        if coverage.is_active_on(today) and coverage.plan_id in sharing:
            serving[coverage.plan_id] = coverage.plan
    own = [actor.organization]
    partners = sorted(
        (o for pk, o in serving.items() if pk != actor.organization.pk), key=lambda o: o.name
    )
    return own + partners


def team_candidates(actor: Actor, patient: Patient) -> list[Membership]:
    """Active staff of those organizations who are not on the patient's team already."""
    organizations = team_organizations(actor, patient)
    on_team = set(
        current_team(actor, patient).filter(user__isnull=False).values_list("user_id", flat=True)
    )
    memberships = Membership.objects.select_related("user", "organization").filter(
        organization__in=organizations, is_active=True
    )
    order = {o.pk: i for i, o in enumerate(organizations)}
    return sorted(
        (m for m in memberships if m.user_id not in on_team),
        key=lambda m: (order[m.organization_id], m.user.last_name, m.user.first_name, m.pk),
    )


def current_team(actor: Actor, patient: Patient) -> QuerySet[CareTeamMember]:
    return access.care.visible_care_team(actor, patient).filter(ended_on__isnull=True)


def past_team(actor: Actor, patient: Patient) -> QuerySet[CareTeamMember]:
    return access.care.visible_care_team(actor, patient).filter(ended_on__isnull=False)


def member_label(member: CareTeamMember) -> str:
    if member.user is not None:
        return member.user.get_full_name() or member.user.get_username()
    return member.name
