"""Care management: who is enrolled in which program, what the care team does with them, and
the one shared care plan they all work from (seeds 002, 003, 000, 001; DESIGN W3).

Every record here belongs to a patient and to the organization whose staff wrote it; the
access policy decides who sees what from those two columns.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from caseboard.orgs.models import Organization, Role
from caseboard.patients.models import Patient

USER = settings.AUTH_USER_MODEL


# --- Registry and enrollment -------------------------------------------------------------


class Program(models.TextChoices):
    PRACTICE_CARE_MANAGEMENT = "practice_cm", "Practice care management"
    HEALTH_HOME = "hhp", "Health home (HHP)"
    HEALTH_MANAGEMENT = "hmp", "Health management / health coaching (HMP)"
    PLAN_COMPLEX_CASE_MANAGEMENT = "plan_complex", "Plan complex case management"
    PLAN_SOCIAL_CARE_MANAGEMENT = "plan_social", "Plan social care management"
    SUBSTANCE_USE = "substance_use", "Substance-use program"


class EnrollmentStatus(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    OUTREACH = "outreach", "Outreach"
    ENGAGED = "engaged", "Engaged"
    ENROLLED = "enrolled", "Enrolled (active)"
    # 004 step 7g-v: the plan follows claims and utilization while the practice leads.
    MONITOR = "monitor", "Monitor"
    GRADUATED = "graduated", "Graduated"
    DECLINED = "declined", "Declined"
    UNABLE_TO_REACH = "unable_to_reach", "Unable to reach"
    DISENROLLED = "disenrolled", "Disenrolled"


# An enrollment in one of these has ended; a new one may be opened for the same program.
CLOSED_STATUSES = frozenset({EnrollmentStatus.GRADUATED, EnrollmentStatus.DISENROLLED})
# Counted in a care coordinator's caseload and in "% of high-risk patients in active CM".
ACTIVE_STATUSES = frozenset(
    {EnrollmentStatus.OUTREACH, EnrollmentStatus.ENGAGED, EnrollmentStatus.ENROLLED}
)


class Acuity(models.TextChoices):
    HIGH = "high", "Tier 1 — high"
    RISING = "rising", "Tier 2 — rising risk"
    LOW = "low", "Tier 3 — low"


class Enrollment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrollments")
    program = models.CharField(max_length=16, choices=Program.choices)
    lead_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="led_enrollments"
    )
    care_manager = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="caseload"
    )
    acuity = models.CharField(max_length=8, choices=Acuity.choices, default=Acuity.RISING)
    status = models.CharField(
        max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.IDENTIFIED
    )
    status_since = models.DateField()
    identified_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["patient__family_name", "patient__given_name", "program"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "program", "lead_organization"],
                condition=~Q(status__in=["graduated", "disenrolled"]),
                name="enrollment_one_open_per_program",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("identified_on")),
                name="enrollment_ends_after_identified",
            ),
        ]
        indexes = [models.Index(fields=["lead_organization", "status"])]

    def __str__(self) -> str:
        return f"{self.patient} — {self.get_program_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES


class EnrollmentTransition(models.Model):
    """Every status change, dated, with who made it and why (kept, never edited)."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=EnrollmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=EnrollmentStatus.choices)
    effective_on = models.DateField()
    reason = models.TextField()
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    by_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrollment", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status} on {self.effective_on}"


# --- Interactions and time ---------------------------------------------------------------


class InteractionKind(models.TextChoices):
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video"
    TEXT = "text", "Text / portal message"
    NON_FACE_TO_FACE = "non_face_to_face", "Non-face-to-face work"
    CARE_TEAM_MEETING = "care_team_meeting", "Care-team meeting"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"
    NONE = "none", "Not applicable"


class Interaction(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="interactions")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.SET_NULL, null=True, blank=True, related_name="interactions"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="interactions")
    kind = models.CharField(max_length=20, choices=InteractionKind.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.NONE)
    # None when reaching the patient is not the point (care-team meeting, chart work).
    reached = models.BooleanField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(600)]
    )
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__lte=600), name="interaction_minutes_max")
        ]
        indexes = [models.Index(fields=["organization", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d} ({self.minutes} min)"


# --- Care plan (Health Action Plan) ------------------------------------------------------


class CarePlan(models.Model):
    """One shared plan per patient that the whole care team, of every partner, works from.

    `version` rises with every change to the plan or anything in it; an edit made against an
    older version is refused, never merged silently (DESIGN §6).
    """

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="care_plan")
    version = models.PositiveIntegerField(default=1)
    follow_up_plan = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Care plan of {self.patient} (version {self.version})"


class CarePlanRevision(models.Model):
    """What each version of the plan said, and who made it."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    summary = models.CharField(max_length=300)
    snapshot = models.JSONField(default=dict)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    by_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["care_plan", "version"], name="revision_per_version")
        ]

    def __str__(self) -> str:
        return f"Version {self.version}: {self.summary}"


class GoalDomain(models.TextChoices):
    PHYSICAL_HEALTH = "physical", "Physical health"
    BEHAVIORAL_HEALTH = "behavioral", "Behavioral health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    SOCIAL_NEEDS = "social", "Social needs (housing, food, transport)"
    SELF_MANAGEMENT = "self_management", "Self-management"
    ACCESS_TO_CARE = "access", "Access to care"
    FUNCTIONING = "functioning", "Daily functioning"
    OTHER = "other", "Other"


class GoalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    DISCONTINUED = "discontinued", "Discontinued"


class Achievement(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SOME_PROGRESS = "some_progress", "Some progress"
    MOSTLY = "mostly", "Mostly achieved"
    ACHIEVED = "achieved", "Achieved"


class GoalSource(models.TextChoices):
    CARE_TEAM = "care_team", "Care team"
    CONFERENCE = "conference", "Case conference"


class Goal(models.Model):
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="goals")
    # In the patient's own words (patient-centered: "I want to walk my granddaughter to school").
    statement = models.TextField()
    domain = models.CharField(max_length=16, choices=GoalDomain.choices, default=GoalDomain.OTHER)
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    achievement = models.CharField(
        max_length=16, choices=Achievement.choices, default=Achievement.NOT_STARTED
    )
    met_on = models.DateField(null=True, blank=True)
    source = models.CharField(
        max_length=16, choices=GoalSource.choices, default=GoalSource.CARE_TEAM
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_by_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["care_plan", "status", "target_date", "id"]

    def __str__(self) -> str:
        return self.statement[:80]


class GoalProgress(models.Model):
    """Each change of a goal's status or achievement, with the note that explains it."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress")
    status = models.CharField(max_length=16, choices=GoalStatus.choices)
    achievement = models.CharField(max_length=16, choices=Achievement.choices)
    note = models.TextField(blank=True, default="")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    by_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["goal", "-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} / {self.get_achievement_display()}"


class ConfidenceRating(models.Model):
    """'How confident are you that you can do this?' 0 (not at all) to 10 (completely)."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="confidence_ratings")
    rating = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    recorded_on = models.DateField()
    note = models.CharField(max_length=300, blank=True, default="")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["goal", "recorded_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__lte=10), name="confidence_zero_to_ten")
        ]

    def __str__(self) -> str:
        return f"{self.rating}/10 on {self.recorded_on}"


class BarrierKind(models.TextChoices):
    TRANSPORTATION = "transportation", "Transportation"
    COST = "cost", "Cost / insurance"
    LANGUAGE = "language", "Language"
    HEALTH_LITERACY = "health_literacy", "Health literacy"
    HOUSING = "housing", "Housing"
    FOOD = "food", "Food"
    BEHAVIORAL_HEALTH = "behavioral_health", "Behavioral health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    CAREGIVING = "caregiving", "Caregiving / family"
    MOTIVATION = "motivation", "Motivation / readiness"
    OTHER = "other", "Other"


class Barrier(models.Model):
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="barriers")
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="barriers"
    )
    kind = models.CharField(max_length=20, choices=BarrierKind.choices)
    description = models.TextField()
    resolved_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["care_plan", "resolved_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description[:60]}"


class InterventionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    STOPPED = "stopped", "Stopped"


class Intervention(models.Model):
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="interventions")
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="interventions"
    )
    description = models.TextField()
    # A staff member, or someone outside caseboard named in words (the patient, a daughter).
    responsible_user = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responsible_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responsible_name = models.CharField(max_length=200, blank=True, default="")
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=InterventionStatus.choices, default=InterventionStatus.PLANNED
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["care_plan", "due_on", "id"]

    def __str__(self) -> str:
        return self.description[:80]


class SuccessStory(models.Model):
    """'Celebrate wins': a met goal told as a story to share at team meetings (seed 002)."""

    goal = models.OneToOneField(Goal, on_delete=models.CASCADE, related_name="success_story")
    story = models.TextField()
    share_at_team_meeting = models.BooleanField(default=True)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    by_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.story[:80]


# --- Tasks and notifications -------------------------------------------------------------


class TaskPriority(models.TextChoices):
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_TASK_STATUSES = frozenset({TaskStatus.OPEN, TaskStatus.IN_PROGRESS})


class TaskSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    CONFERENCE = "conference", "Case conference"
    ALERT = "alert", "Alert"
    SCREENING = "screening", "Screening"
    REFERRAL = "referral", "Referral"
    SURVEY = "survey", "Survey"


class Task(models.Model):
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True, default="")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    # Owned by an organization always, and by one of its people when someone took it.
    owner_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="owned_tasks"
    )
    owner_user = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_tasks"
    )
    due_on = models.DateField()
    priority = models.CharField(
        max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source = models.CharField(max_length=16, choices=TaskSource.choices, default=TaskSource.MANUAL)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_by_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(blank=True, default="")
    # When the due-soon and overdue reminders went out, so each is sent once.
    reminded_due_soon_at = models.DateTimeField(null=True, blank=True)
    reminded_overdue_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "priority", "id"]
        indexes = [
            models.Index(fields=["owner_organization", "status", "due_on"]),
            models.Index(fields=["owner_user", "status", "due_on"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES


class Notification(models.Model):
    """An in-app message to one person acting for one organization."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "organization", "read_at"])]

    def __str__(self) -> str:
        return self.title


# --- Screening ---------------------------------------------------------------------------


class Instrument(models.TextChoices):
    PHQ2 = "phq2", "PHQ-2 (depression, first step)"
    PHQ9 = "phq9", "PHQ-9 (depression)"
    GAD7 = "gad7", "GAD-7 (anxiety)"
    AUDIT_C = "audit_c", "AUDIT-C (alcohol use)"
    AHC_HRSN = "ahc_hrsn", "AHC health-related social needs (core)"


class Screening(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    instrument = models.CharField(max_length=12, choices=Instrument.choices)
    answers = models.JSONField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    interpretation = models.CharField(max_length=200)
    positive = models.BooleanField()
    # PHQ-9 item 9 (thoughts of self-harm) answered above "not at all": act the same day.
    safety_flag = models.BooleanField(default=False)
    # Social-needs domains screened positive (AHC HRSN), e.g. ["housing", "food"].
    positive_domains = models.JSONField(default=list, blank=True)
    administered_on = models.DateField()
    administered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-administered_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} {self.administered_on}: {self.interpretation}"


# --- Community resources and referrals ---------------------------------------------------


class ServiceCategory(models.TextChoices):
    HOUSING = "housing", "Housing"
    FOOD = "food", "Food"
    TRANSPORTATION = "transportation", "Transportation"
    UTILITIES = "utilities", "Utilities"
    INTERPERSONAL_SAFETY = "safety", "Interpersonal safety"
    BEHAVIORAL_HEALTH = "behavioral_health", "Behavioral health"
    OTHER = "other", "Other"


class CommunityResource(models.Model):
    """A community-based organization's program, in the directory kept by a plan or partner.

    When the organization itself uses caseboard (`organization`), referrals reach its staff in
    the app and they close the loop themselves.
    """

    name = models.CharField(max_length=200)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="community_resources",
    )
    maintained_by = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="maintained_resources"
    )
    categories = models.JSONField(default=list)
    description = models.TextField(blank=True, default="")
    eligibility = models.TextField(blank=True, default="")
    languages = models.CharField(max_length=200, blank=True, default="")
    hours = models.CharField(max_length=200, blank=True, default="")
    address = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    postal_code = models.CharField(max_length=10, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    website = models.URLField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferralStatus(models.TextChoices):
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


CLOSED_REFERRAL_STATUSES = frozenset(
    {ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.CANCELLED}
)


class ReferralOutcome(models.TextChoices):
    NEED_MET = "need_met", "Need met"
    PARTLY_MET = "partly_met", "Need partly met"
    NOT_MET = "not_met", "Need not met"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    PATIENT_DECLINED = "patient_declined", "Patient declined"
    UNABLE_TO_CONTACT = "unable_to_contact", "Unable to contact patient"


class Referral(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    resource = models.ForeignKey(
        CommunityResource, on_delete=models.PROTECT, related_name="referrals"
    )
    category = models.CharField(max_length=20, choices=ServiceCategory.choices)
    reason = models.TextField()
    screening = models.ForeignKey(
        Screening, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    outcome = models.CharField(max_length=20, choices=ReferralOutcome.choices, blank=True)
    outcome_note = models.TextField(blank=True, default="")
    referred_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.resource} ({self.get_status_display()})"


class ReferralUpdate(models.Model):
    """The closed loop: each status change, by the referring side or the receiving one."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16, choices=ReferralStatus.choices)
    note = models.TextField(blank=True, default="")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    by_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["referral", "at", "id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} at {self.at:%Y-%m-%d %H:%M}"


# --- Care team ---------------------------------------------------------------------------


class CareTeamMember(models.Model):
    """A person on one patient's care team: staff of any partner, or someone named in words
    (a specialist outside caseboard, a family caregiver)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    user = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="care_teams"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True, default="")
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    # For members outside caseboard: "Cardiologist", "Daughter and caregiver".
    role_description = models.CharField(max_length=200, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    is_lead = models.BooleanField(default=False)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    added_by_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "-is_lead", "started_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(name=""), name="care_team_member_named"
            ),
            models.UniqueConstraint(
                fields=["patient", "user"],
                condition=Q(ended_on__isnull=True, user__isnull=False),
                name="care_team_member_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.user)


# --- Surveys (seed 004 "Proposed evaluation framework") ---------------------------------


class PatientSurveyKind(models.TextChoices):
    AT_ENROLLMENT = "enrollment", "At enrollment"
    THREE_MONTHS = "three_months", "At 3 months"


class SurveyStatus(models.TextChoices):
    DUE = "due", "Due"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"


class WouldRecommend(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    MAYBE = "maybe", "Maybe"


class PatientSurvey(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="surveys")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="surveys")
    kind = models.CharField(max_length=16, choices=PatientSurveyKind.choices)
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.DUE)
    # 1 = excellent … 5 = poor.
    self_rated_health = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    would_recommend = models.CharField(max_length=8, choices=WouldRecommend.choices, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "kind"], name="patient_survey_once"),
            models.CheckConstraint(
                condition=Q(self_rated_health__isnull=True)
                | Q(self_rated_health__gte=1, self_rated_health__lte=5),
                name="self_rated_health_one_to_five",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} survey due {self.due_on}"


class StaffSurvey(models.Model):
    """Every six months, plan and practice staff rate the coordination and say how to improve
    it (004 evaluation framework 250:c)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="staff_surveys")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.DUE)
    answers = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "period_start"], name="staff_survey_once"
            )
        ]

    def __str__(self) -> str:
        return f"Staff survey from {self.period_start}"
