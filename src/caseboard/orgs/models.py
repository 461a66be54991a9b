"""Organizations, the partnerships that let them share patient data, and who works where."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as America/New_York.")


class OrganizationKind(models.TextChoices):
    HEALTH_PLAN = "plan", "Health plan (MCP)"
    PRACTICE = "practice", "Primary-care practice"
    CBCME = "cbcme", "Community-based care-management entity"
    CBO = "cbo", "Community-based organization"


class Organization(models.Model):
    kind = models.CharField(max_length=16, choices=OrganizationKind.choices)
    name = models.CharField(max_length=200, unique=True)
    # Identifier the organization uses in claims and data files (e.g. the demo's practice_id).
    external_id = models.CharField(max_length=64, blank=True, default="")
    npi = models.CharField("NPI", max_length=10, blank=True, default="")
    address = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    state = models.CharField(max_length=2, blank=True, default="")
    postal_code = models.CharField(max_length=10, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    # Calendar months (care-management time, billing thresholds) are the organization's own.
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    # Enrollees per care coordinator before the supervisor is warned; empty means the
    # CASEBOARD_CASELOAD_RATIO setting (seed 003: 60:1).
    caseload_ratio = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="organization_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_plan(self) -> bool:
        return self.kind == OrganizationKind.HEALTH_PLAN

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def effective_caseload_ratio(self) -> int:
        return self.caseload_ratio or settings.CASEBOARD_CASELOAD_RATIO


class Partnership(models.Model):
    """A plan and one practice or CB-CME: the unit of data sharing (DESIGN §1).

    The plan meets separately with each partner, so one practice never sees another's patients.
    """

    plan = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="plan_partnerships"
    )
    partner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="partner_partnerships"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["plan__name", "partner__name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "partner"], name="partnership_unique_pair"),
            models.CheckConstraint(
                condition=~Q(plan=models.F("partner")), name="partnership_two_organizations"
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="partnership_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} – {self.partner}"

    def organizations(self) -> tuple[Organization, Organization]:
        return (self.plan, self.partner)


class Role(models.TextChoices):
    # Health plan (seed 004 "Collaborative Care Management Team Participants")
    DIRECTOR_OF_CARE_MANAGEMENT = "director_cm", "Director of care management"
    PROJECT_MANAGER = "project_manager", "Project manager"
    CASE_MANAGER = "case_manager", "Case manager"
    SOCIAL_CARE_MANAGER = "social_care_manager", "Social care manager"
    MEDICAL_DIRECTOR = "medical_director", "Medical director"
    # Practice
    CLINICAL_CARE_MANAGER = "clinical_care_manager", "Clinical care manager (RN)"
    PCP = "pcp", "Primary care provider"
    CARE_COORDINATOR = "care_coordinator", "Care coordinator"
    COMMUNITY_HEALTH_WORKER = "chw", "Community health worker"
    BEHAVIORAL_HEALTH_PROVIDER = "bh_provider", "Behavioral-health provider"
    CLINICAL_PHARMACIST = "clinical_pharmacist", "Clinical pharmacist"
    PRACTICE_FACILITATOR = "practice_facilitator", "Practice facilitator"
    # CB-CME / health home (seed 003 Table 1)
    HHP_DIRECTOR = "hhp_director", "HHP director"
    DEDICATED_CARE_COORDINATOR = "dedicated_care_coordinator", "Dedicated care coordinator"
    CLINICAL_CONSULTANT = "clinical_consultant", "Clinical consultant"
    HOUSING_NAVIGATOR = "housing_navigator", "Housing navigator"
    LCSW = "lcsw", "Licensed clinical social worker"
    MEMBER_ADVOCATE = "member_advocate", "Member advocate"
    # Any organization
    ORG_ADMIN = "org_admin", "Organization administrator"


class Membership(models.Model):
    """A person's place in one organization; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    # Seed 004 "Getting ready" step 1: name, position, e-mail and telephone of every member.
    position = models.CharField(max_length=200, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    is_active = models.BooleanField(default=True)
    # Directors may also administer (audit log, roster import) without being "org admin" staff.
    administers = models.BooleanField(default=False)

    class Meta:
        ordering = ["organization__name", "user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_one_per_organization"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.administers or self.role == Role.ORG_ADMIN
