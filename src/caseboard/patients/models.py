"""One person record per patient, with what each organization knows of them.

Coverage spans belong to the plan, attribution spans to the practice (or CB-CME); identifiers
belong to the organization that issued them. The access layer uses that ownership to decide
who sees what.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import F, Q

from caseboard.orgs.models import Organization


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    address = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    state = models.CharField(max_length=2, blank=True, default="")
    postal_code = models.CharField(max_length=10, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    primary_language = models.CharField(max_length=64, blank=True, default="English")
    # Social needs known from screening or claims Z-codes (seed 004 step 3 item xii).
    social_needs = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "birth_date"]
        indexes = [
            models.Index(fields=["family_name", "given_name"]),
            models.Index(fields=["birth_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.birth_date:%Y-%m-%d})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: datetime.date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)


class IdentifierKind(models.TextChoices):
    MEMBER_ID = "member_id", "Plan member ID"
    MRN = "mrn", "Medical record number"
    MEDICAID_ID = "medicaid_id", "Medicaid ID"


class PatientIdentifier(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="issued_identifiers"
    )
    kind = models.CharField(max_length=16, choices=IdentifierKind.choices)
    value = models.CharField(max_length=64)

    class Meta:
        ordering = ["organization__name", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "value"], name="identifier_unique_per_issuer"
            )
        ]
        indexes = [models.Index(fields=["value"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} ({self.organization})"


class MedicaidCoverageLevel(models.TextChoices):
    # MassHealth coverage types (seed 004 step 3 item xv asks for the coverage level).
    STANDARD = "Standard", "Standard"
    CAREPLUS = "CarePlus", "CarePlus"
    COMMONHEALTH = "CommonHealth", "CommonHealth"
    FAMILY_ASSISTANCE = "Family Assistance", "Family Assistance"
    LIMITED = "Limited", "Limited"


class CoverageSpan(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverage_spans")
    plan = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="coverage_spans")
    product = models.CharField(max_length=100, blank=True, default="")
    medicaid_coverage_level = models.CharField(
        max_length=32, choices=MedicaidCoverageLevel.choices, blank=True, default=""
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    # When coverage ends and the new insurer is known, the plan shares it (004 step 6a).
    next_insurer = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="coverage_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.start_date}–{self.end_date or '…'}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


class Provider(models.Model):
    """A clinician or facility known by NPI; PCPs belong to a practice."""

    npi = models.CharField("NPI", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    credential = models.CharField(max_length=16, blank=True, default="")
    specialty = models.CharField(max_length=100, blank=True, default="")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="providers"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}, {self.credential}" if self.credential else self.name


class AttributionSpan(models.Model):
    """The practice (or CB-CME) responsible for a patient's primary care over a period."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="attribution_spans")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="attribution_spans"
    )
    pcp = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="panel"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    # 004 step 6a: beyond 12–18 months since the last visit the patient may no longer be ours.
    last_seen_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="attribution_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.start_date}–{self.end_date or '…'}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


class RosterImport(models.Model):
    """One uploaded roster file, kept whole with its outcome so nothing accepted is lost."""

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", "Import nothing if any row is bad"
        GOOD_ROWS = "good", "Import the good rows, list the bad ones"

    class Outcome(models.TextChoices):
        IMPORTED = "imported", "Imported"
        PARTLY_IMPORTED = "partial", "Good rows imported, bad rows listed"
        REJECTED = "rejected", "Rejected, nothing imported"
        DUPLICATE = "duplicate", "Already imported earlier, nothing changed"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="roster_imports"
    )
    uploaded_by = models.ForeignKey(
        "auth.User", on_delete=models.PROTECT, related_name="roster_imports"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    mode = models.CharField(max_length=8, choices=Mode.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    rows_total = models.PositiveIntegerField(default=0)
    patients_created = models.PositiveIntegerField(default=0)
    patients_updated = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_outcome_display()})"

    @property
    def rows_rejected(self) -> int:
        return len({e["row"] for e in self.errors})


class RiskScore(models.Model):
    """A plan's claims-based risk score for a member, published from the analytics engine."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="risk_scores")
    plan = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    model_version = models.CharField(max_length=16)
    performance_year = models.PositiveSmallIntegerField()
    score = models.FloatField()
    hccs = models.JSONField(default=list, blank=True)
    as_of = models.DateField()

    class Meta:
        ordering = ["-performance_year", "model_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "plan", "model_version", "performance_year"],
                name="risk_score_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version} {self.performance_year}: {self.score:.3f}"


class PlanRanking(models.Model):
    """The plan's high-risk ranking of a member within their attributed practice, with drivers
    in words (seed 004 steps 1–2). Replaced whole at each publication."""

    plan = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="plan_rankings")
    rank = models.PositiveIntegerField()
    score = models.FloatField()
    model_version = models.CharField(max_length=16)
    drivers = models.JSONField(default=list, blank=True)
    # The predictive model's next-12-month probabilities and the reasons behind the first.
    p_admission = models.FloatField(null=True, blank=True)
    p_top5_cost = models.FloatField(null=True, blank=True)
    explanations = models.JSONField(default=list, blank=True)
    as_of = models.DateField()

    class Meta:
        ordering = ["practice", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "patient"], name="plan_ranking_one_per_member")
        ]

    def __str__(self) -> str:
        return f"#{self.rank} at {self.practice_id}"


class ClaimsFacts(models.Model):
    """Pre-work facts from the plan's claims (seed 004 step 3 items iv–xv) for one member."""

    plan = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="claims_facts")
    as_of = models.DateField()
    last_admission = models.JSONField(null=True, blank=True)
    last_ed_visit = models.JSONField(null=True, blank=True)
    diagnoses = models.JSONField(default=list, blank=True)
    diagnostic_history = models.JSONField(default=list, blank=True)
    prescriptions = models.JSONField(default=list, blank=True)
    providers = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "patient"], name="claims_facts_one_per_member")
        ]

    def __str__(self) -> str:
        return f"claims facts as of {self.as_of}"


class AnalyticsPublication(models.Model):
    """One hand-off of analytics results into the app: what was published, from where."""

    plan = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)
    as_of = models.DateField()
    source = models.CharField(max_length=500)
    members_in_marts = models.PositiveIntegerField()
    members_matched = models.PositiveIntegerField()
    risk_scores = models.PositiveIntegerField()
    rankings = models.PositiveIntegerField()

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.plan} as of {self.as_of}"
