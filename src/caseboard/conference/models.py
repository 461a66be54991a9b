"""High-risk lists of a partnership and how a practice's list reaches the plan's members.

Seed 004, Attachment A, step 1: "Practice and health plan each identify top 30 high risk
patients based on each entity's own definitions of high risk. Additional patients can be
added, time permitting." Step 2: the practice sends its list and the plan "combines lists,
identifying common patients and unique patients".
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from caseboard.orgs.models import Organization, Partnership
from caseboard.patients.models import Patient

USER = settings.AUTH_USER_MODEL
# Seed 004 step 1: the top 30; more allowed "time permitting", within reason for a call series.
DEFAULT_LIST_SIZE = 30
MAX_LIST_SIZE = 500


class HighRiskList(models.Model):
    """One side's list of its highest-risk patients within one partnership."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="high_risk_lists"
    )
    # The plan or the partner of the partnership: each keeps its own list.
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    target_size = models.PositiveSmallIntegerField(
        default=DEFAULT_LIST_SIZE,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LIST_SIZE)],
    )
    # For the plan's list: the ranking it was last refreshed from.
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refreshed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ranking_as_of = models.DateField(null=True, blank=True)
    ranking_model_version = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partnership", "owner__kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "owner"], name="high_risk_list_one_per_side"
            ),
            models.CheckConstraint(
                condition=Q(target_size__gte=1) & Q(target_size__lte=MAX_LIST_SIZE),
                name="high_risk_list_target_size_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner}'s high-risk list ({self.partnership})"

    @property
    def is_plan_list(self) -> bool:
        return self.owner_id == self.partnership.plan_id


class EntrySource(models.TextChoices):
    ANALYTICS = "analytics", "Plan's predictive model"
    PICKED = "picked", "Picked by staff"
    UPLOADED = "uploaded", "Uploaded list"


class HighRiskEntry(models.Model):
    """A patient on one side's list. Removal keeps the row, with who, when and why."""

    high_risk_list = models.ForeignKey(
        HighRiskList, on_delete=models.CASCADE, related_name="entries"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    # Position on this side's list, 1 = highest risk; kept as it was when an entry is removed.
    rank = models.PositiveIntegerField()
    # In words: the plan's risk drivers and score, or the practice's own reasons.
    reasons = models.JSONField(default=list, blank=True)
    risk_score = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=EntrySource.choices)
    upload = models.ForeignKey(
        "HighRiskUpload",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entries",
    )
    # Analytics entries that fell out of the top N of a later ranking stay until someone
    # removes them with a reason; this says since when they are no longer ranked that high.
    out_of_ranking_since = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removal_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["high_risk_list", "rank"]
        verbose_name_plural = "high-risk entries"
        constraints = [
            models.UniqueConstraint(
                fields=["high_risk_list", "patient"],
                condition=Q(removed_at__isnull=True),
                name="high_risk_entry_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=(
                    Q(removed_at__isnull=True, removed_by__isnull=True, removal_reason="")
                    | (
                        Q(removed_at__isnull=False, removed_by__isnull=False)
                        & ~Q(removal_reason="")
                    )
                ),
                name="high_risk_entry_removal_has_who_and_why",
            ),
            models.CheckConstraint(condition=Q(rank__gte=1), name="high_risk_entry_rank_positive"),
        ]
        indexes = [models.Index(fields=["high_risk_list", "removed_at", "rank"])]

    def __str__(self) -> str:
        return f"#{self.rank} on {self.high_risk_list_id}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class UploadOutcome(models.TextChoices):
    IMPORTED = "imported", "Every row taken"
    PARTLY_IMPORTED = "partial", "Good rows taken, bad rows listed"
    REJECTED = "rejected", "Rejected, nothing taken"
    DUPLICATE = "duplicate", "Already uploaded earlier, nothing changed"


class HighRiskUpload(models.Model):
    """A practice's high-risk list as uploaded, kept whole with what became of each row."""

    high_risk_list = models.ForeignKey(
        HighRiskList, on_delete=models.CASCADE, related_name="uploads"
    )
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    good_rows_only = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=UploadOutcome.choices)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_matched = models.PositiveIntegerField(default=0)
    rows_in_review = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # [{"row", "field", "value", "reason"}], as the roster import reports them.
    errors = models.JSONField(default=list, blank=True)
    # [{"row", "name", "birth_date", "outcome": matched|review|rejected, "entry", "review"}]
    row_outcomes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["high_risk_list", "sha256"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_outcome_display()})"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the plan's review"
    MATCHED = "matched", "Matched by the plan"
    NO_MATCH = "no_match", "No plan member found"


class MatchReview(models.Model):
    """A row of a practice's list the matcher could not settle, for the plan's project manager
    (seed 004: the project manager "creates and maintains the combined high risk list")."""

    upload = models.ForeignKey(HighRiskUpload, on_delete=models.CASCADE, related_name="reviews")
    row = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    # Where the practice put this patient on its list; the entry goes there once matched.
    intended_rank = models.PositiveIntegerField(default=1)
    # What the matcher found: "ambiguous" (several close) or "unmatched" (nobody close).
    matcher_status = models.CharField(max_length=16)
    # [{"patient_id", "score", "reasons"}], best first. Shown to the plan's staff only.
    candidates = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    resolved_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    entry = models.ForeignKey(
        HighRiskEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["upload", "row"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "row"], name="match_review_one_per_row"),
            models.CheckConstraint(
                condition=~Q(status="matched") | Q(resolved_patient__isnull=False),
                name="match_review_matched_names_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"row {self.row} of upload {self.upload_id} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == ReviewStatus.PENDING


# --- Conference calls (seed 004, Attachment A, "Getting ready" and steps 3–5) -------------

# "Weekly meetings for 30 minutes are recommended to initiate the collaborative process."
DEFAULT_DURATION_MINUTES = 30
# "The Pilot discussed 10 patients during each 30-minute call."
DEFAULT_AGENDA_SIZE = 10
MAX_AGENDA_SIZE = 50
# Step 6a-i: a gap "significant (e.g., 12 to 18 months)" since the practice last saw the patient.
DEFAULT_PRACTICE_GAP_MONTHS = 12
MIN_PRACTICE_GAP_MONTHS = 6
MAX_PRACTICE_GAP_MONTHS = 36


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class ConferenceSeries(models.Model):
    """The partnership's regular call: "It is highly recommend that the same core people
    participate in each call" (Getting ready, step 2)."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="conference_series"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=DEFAULT_DURATION_MINUTES,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    time_zone = models.CharField(max_length=64, default="America/New_York")
    agenda_size = models.PositiveSmallIntegerField(
        default=DEFAULT_AGENDA_SIZE,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AGENDA_SIZE)],
    )
    practice_gap_months = models.PositiveSmallIntegerField(
        default=DEFAULT_PRACTICE_GAP_MONTHS,
        validators=[
            MinValueValidator(MIN_PRACTICE_GAP_MONTHS),
            MaxValueValidator(MAX_PRACTICE_GAP_MONTHS),
        ],
    )
    core_participants = models.ManyToManyField(
        "orgs.Membership", blank=True, related_name="conference_series"
    )
    started_on = models.DateField()
    # Set when the partnership stops meeting; one series at a time is active.
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["partnership", "-started_on"]
        verbose_name_plural = "conference series"
        constraints = [
            models.UniqueConstraint(
                fields=["partnership"],
                condition=Q(ended_on__isnull=True),
                name="conference_series_one_active_per_partnership",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=240),
                name="conference_series_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(agenda_size__gte=1) & Q(agenda_size__lte=MAX_AGENDA_SIZE),
                name="conference_series_agenda_size_range",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.partnership}: {self.get_weekday_display()}s at "
            f"{self.start_time:%H:%M} ({self.duration_minutes} min)"
        )


class ConferenceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class Conference(models.Model):
    """One call of a series."""

    series = models.ForeignKey(
        ConferenceSeries, on_delete=models.CASCADE, related_name="conferences"
    )
    starts_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ConferenceStatus.choices, default=ConferenceStatus.SCHEDULED
    )
    # Step 5b: "if there are physicians participating in a conference call, prioritize their
    # highest risk patients first."
    attending_pcps = models.ManyToManyField(
        "patients.Provider", blank=True, related_name="conferences"
    )
    agenda_built_at = models.DateTimeField(null=True, blank=True)
    # Conference mode: when the call started and ended (its length is a measure, item 8).
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    agenda_built_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "starts_at"], name="conference_one_per_series_slot"
            )
        ]

    def __str__(self) -> str:
        return f"Conference {self.starts_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class AgendaKind(models.TextChoices):
    FOLLOW_UP = "follow_up", "Follow-up"
    PHYSICIAN = "physician", "Physician attends"
    COMMON = "common", "On both lists"
    UNIQUE_PLAN = "unique_plan", "Plan's list"
    UNIQUE_PRACTICE = "unique_practice", "Practice's list"
    URGENT = "urgent", "Urgent"


class AgendaItem(models.Model):
    """A patient to discuss on a call, in order, with the reason it is there (step 5)."""

    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="agenda_items"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=AgendaKind.choices)
    reason = models.CharField(max_length=500)
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    added_by_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    # Step 5c: "a patient with urgent needs that may not be on the shared list".
    urgent_note = models.TextField(blank=True, default="")
    # Step 5d: set when a call ends with follow-up items; the next call starts with them.
    needs_follow_up = models.BooleanField(default=False)
    report_back_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["conference", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "patient"], name="agenda_item_one_per_patient"
            ),
            models.CheckConstraint(condition=Q(position__gte=1), name="agenda_item_position"),
        ]

    def __str__(self) -> str:
        return f"#{self.position} of conference {self.conference_id}"


class PreworkItem(models.TextChoices):
    """Step 4: "At least a day in advance of the scheduled conference call, the health plan's
    team members and the practice's team members research each patient to be discussed to:"""

    A = "a", "Still a patient of the practice and covered by the plan"
    B = "b", "Identify risk drivers and potential level of risk"
    C = "c", "Gaps in services: what more is needed, and from whom"
    D = "d", "How engaged the patient is with the plan or the practice"
    E = "e", "Recommend which side takes the care-management lead"
    F = "f", "Address action steps from the previous meeting"


class PreworkChecklist(models.Model):
    """One side's completion of one step-4 item before one call."""

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="checklist")
    side = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    item = models.CharField(max_length=1, choices=PreworkItem.choices)
    completed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["conference", "side", "item"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "side", "item"], name="prework_checklist_one_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"step 4{self.item} by {self.side_id} for {self.conference_id}"


# --- The call itself (steps 6–8) ----------------------------------------------------------


class DiscussionOutcome(models.TextChoices):
    """Where the discussion of one patient ended, in the order the call asks (steps 6 and 7)."""

    NOT_PRACTICE_PATIENT = "not_practice", "Not seen by the practice: plan checks for a PCP change"
    NOT_COVERED = "not_covered", "No longer covered by the plan"
    FINAL_ATTEMPT = "final_attempt", "Unengaged: practice makes one more face-to-face attempt"
    TRACKING = "tracking", "Still unengaged after the last attempt: tracking list"
    NEED_INFORMATION = "need_info", "More information needed: continue at the next call"
    DECIDED = "decided", "Care-management decision"


class Lead(models.TextChoices):
    """Step 7g-v: "primarily managed by the health plan or by the practice or ... jointly"."""

    PRACTICE = "practice", "Practice leads"
    PLAN = "plan", "Health plan leads"
    JOINT = "joint", "Jointly managed"


class PlanService(models.TextChoices):
    """Step 7g-iii: what the plan can provide to support the practice."""

    BEHAVIORAL_HEALTH = "behavioral_health", "Behavioral health services"
    SUBSTANCE_USE = "substance_use", "Substance-use services"
    SOCIAL_CARE = "social_care", "Social care management"


class Discussion(models.Model):
    """What the call decided for one agenda patient. Recorded once; the enrollments, goal and
    tasks it opened live in care management and change there afterwards."""

    agenda_item = models.OneToOneField(
        AgendaItem, on_delete=models.CASCADE, related_name="discussion"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    # Step 6a: the most recent date a provider of the practice saw the patient.
    last_seen_by_practice = models.DateField(null=True, blank=True)
    still_practice_patient = models.BooleanField()
    still_covered = models.BooleanField(null=True, blank=True)
    # Step 6c: "information on the new insurer (if known)".
    new_insurer = models.CharField(max_length=200, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=DiscussionOutcome.choices)
    # Step 6b: the outreach tried so far, in words.
    outreach_attempts = models.TextField(blank=True, default="")
    lead = models.CharField(max_length=16, choices=Lead.choices, blank=True, default="")
    plan_monitors = models.BooleanField(default=False)
    why_high_risk = models.TextField(blank=True, default="")
    barriers = models.TextField(blank=True, default="")
    plan_services = models.JSONField(default=list, blank=True)
    goal = models.ForeignKey(
        "care.Goal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Step 7g-v-2: "weekly for one month, then monthly"; 7g-vi: the date of the next update.
    report_back_cadence = models.CharField(max_length=200, blank=True, default="")
    next_update_on = models.DateField(null=True, blank=True)
    # Step 7h: front-line contacts exchanged.
    plan_case_manager = models.ForeignKey(
        "orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plan_social_care_manager = models.ForeignKey(
        "orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    practice_care_manager = models.ForeignKey(
        "orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True, default="")
    tasks = models.ManyToManyField("care.Task", blank=True, related_name="+")
    enrollments = models.ManyToManyField("care.Enrollment", blank=True, related_name="+")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_by_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agenda_item"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")),
                name="discussion_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="decided") | ~Q(lead=""), name="discussion_decision_has_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} for agenda item {self.agenda_item_id}"

    @property
    def seconds(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())


class TrackingEntry(models.Model):
    """Step 6b-iii: a patient who still declines PCP engagement after the last face-to-face
    attempt; the plan tracks claims activity and reports to the practice every six months."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="tracking_entries"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    discussion = models.ForeignKey(
        Discussion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    outreach_attempts = models.TextField(blank=True, default="")
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    next_report_on = models.DateField()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removal_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["partnership", "-added_at"]
        verbose_name_plural = "tracking entries"
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "patient"],
                condition=Q(removed_at__isnull=True),
                name="tracking_entry_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=(
                    Q(removed_at__isnull=True, removal_reason="")
                    | (Q(removed_at__isnull=False) & ~Q(removal_reason=""))
                ),
                name="tracking_entry_removal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"tracking {self.patient_id} in {self.partnership_id}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class TrackingReport(models.Model):
    """One six-month claims-activity report on a tracked patient, as sent to the practice."""

    entry = models.ForeignKey(TrackingEntry, on_delete=models.CASCADE, related_name="reports")
    period_start = models.DateField()
    period_end = models.DateField()
    # {"admissions": [...], "ed_visits": [...], "last_admission", "last_ed_visit", "providers"}
    content = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["entry", "-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "period_end"], name="tracking_report_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"claims activity {self.period_start}–{self.period_end}"


class ConferenceSummary(models.Model):
    """Step 8: "within a day of the conference call, the health plan's Project Manager sends a
    brief summary of decisions made and next steps for each patient, and the names of the
    patients to be discussed during the next conference call"."""

    conference = models.OneToOneField(Conference, on_delete=models.CASCADE, related_name="summary")
    # The decisions, tasks and next patients as they stood when the call ended (see summary.py).
    content = models.JSONField(default=dict)
    note = models.TextField(blank=True, default="")
    drafted_at = models.DateTimeField()
    # End of the next business day in the series' zone.
    due_by = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipients = models.JSONField(default=list, blank=True)
    late_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-drafted_at"]
        verbose_name_plural = "conference summaries"

    def __str__(self) -> str:
        return f"summary of conference {self.conference_id}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    def is_late(self, now: datetime.datetime) -> bool:
        return (self.sent_at or now) > self.due_by


class TimeActivity(models.TextChoices):
    PREWORK = "prework", "Pre-work"
    CALL = "call", "Conference call"


class ParticipantTime(models.Model):
    """Staff time given to one conference, per person and activity; it feeds net savings."""

    conference = models.ForeignKey(
        Conference, on_delete=models.CASCADE, related_name="participant_times"
    )
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    activity = models.CharField(max_length=16, choices=TimeActivity.choices)
    minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["conference", "activity", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["conference", "user", "activity"], name="participant_time_one_per_activity"
            ),
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=600),
                name="participant_time_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min {self.activity} by {self.user_id}"
