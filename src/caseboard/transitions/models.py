"""Hospital admission, discharge and transfer (ADT) messages, and the stays they describe.

Every message received is kept as it arrived (`InboundMessage`) before it is acknowledged,
so that nothing the hospital sent is lost even when it cannot be read or processed. Messages
of one stay make one `Episode` with a timeline of `EpisodeEvent`s; a person whose identity
the matcher cannot settle waits in `PatientReview`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from caseboard.orgs.models import Organization
from caseboard.patients.models import Patient

USER = settings.AUTH_USER_MODEL
SOURCE_KEY_LENGTH = 120


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    REJECTED = "rejected", "Rejected"
    DEAD_LETTER = "dead_letter", "Failed (dead letter)"
    REVIEW = "review", "Waiting for patient review"


class InboundMessage(models.Model):
    raw = models.TextField()
    sending_application = models.CharField(max_length=180, blank=True, default="")
    sending_facility = models.CharField(max_length=180, blank=True, default="")
    # MSH-10: unique per sending facility (HL7 v2.5.1 §2.14.9.10). Empty for a message too
    # malformed to read; a duplicate repeats the original's ID and points at it.
    control_id = models.CharField(max_length=199, blank=True, default="")
    message_type = models.CharField(max_length=3, blank=True, default="")
    trigger_event = models.CharField(max_length=3, blank=True, default="")
    version = models.CharField(max_length=8, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.RECEIVED
    )
    error = models.TextField(blank=True, default="")
    ack = models.TextField(blank=True, default="")
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="adt_messages"
    )
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # The database, not a check-then-insert, decides which of two concurrent copies
            # of a message is the original.
            models.UniqueConstraint(
                fields=["sending_facility", "control_id"],
                condition=~Q(control_id="") & ~Q(status__in=["duplicate", "rejected"]),
                name="inbound_message_unique_control_id",
            )
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        kind = f"{self.message_type}^{self.trigger_event}" if self.message_type else "message"
        return f"{kind} {self.control_id or '(no control ID)'} from {self.sending_facility or '?'}"

    @property
    def kind(self) -> str:
        return f"{self.message_type}^{self.trigger_event}" if self.message_type else ""


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    MATCHED = "matched", "Matched"
    DISMISSED = "dismissed", "Not our patient"


class PatientReview(models.Model):
    """A message whose person the matcher could not settle, for a plan's staff to decide."""

    message = models.OneToOneField(InboundMessage, on_delete=models.CASCADE, related_name="review")
    # The person as the message describes them (name, date of birth, identifiers, address).
    person = models.JSONField(default=dict)
    matcher_status = models.CharField(max_length=16)
    # [{"patient_id", "score", "reasons"}], best first.
    candidates = models.JSONField(default=list, blank=True)
    # The same patients, for the access policy: staff who can see one of them may decide.
    candidate_patients = models.ManyToManyField(Patient, blank=True, related_name="+")
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="matched") | Q(resolved_patient__isnull=False),
                name="patient_review_matched_names_patient",
            )
        ]

    def __str__(self) -> str:
        return f"review of {self.message} ({self.get_status_display()})"


class PatientClass(models.TextChoices):
    # HL7 table 0004, the classes that matter for follow-up.
    EMERGENCY = "E", "Emergency"
    INPATIENT = "I", "Inpatient"
    OUTPATIENT = "O", "Outpatient"
    PREADMIT = "P", "Pre-admission"
    RECURRING = "R", "Recurring patient"
    OBSTETRICS = "B", "Obstetrics"
    OTHER = "", "Other"


class EpisodeStatus(models.TextChoices):
    OPEN = "open", "In hospital"
    CLOSED = "closed", "Discharged"
    CANCELLED = "cancelled", "Cancelled"


class EpisodeSource(models.TextChoices):
    ADT = "adt", "Hospital messages"
    CLAIMS = "claims", "Claims"


class Episode(models.Model):
    """One stay: an emergency visit, an admission, or an ED visit that became an admission.

    Most stays come from the hospital's ADT feed; for a plan without one they come from its
    claims, weeks later (`transitions.claims`).
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    facility = models.CharField(max_length=180)
    visit_number = models.CharField(max_length=64, blank=True, default="")
    patient_class = models.CharField(
        max_length=1, choices=PatientClass.choices, blank=True, default=""
    )
    admitted_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=EpisodeStatus.choices, default=EpisodeStatus.OPEN
    )
    # [{"code", "text", "system"}] from DG1 segments, latest message's list.
    diagnoses = models.JSONField(default=list, blank=True)
    discharge_disposition = models.CharField(max_length=32, blank=True, default="")
    location = models.CharField(max_length=180, blank=True, default="")
    source = models.CharField(
        max_length=8, choices=EpisodeSource.choices, default=EpisodeSource.ADT
    )
    # "<plan id>:<encounter id>" of the claims encounter this stay stands for, so that the
    # same marts published twice make one episode; also set on a hospital-feed stay that a
    # claims encounter was found to describe.
    source_key = models.CharField(max_length=SOURCE_KEY_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-admitted_at", "-pk"]
        indexes = [models.Index(fields=["patient", "facility", "visit_number"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~Q(source_key=""),
                name="episode_unique_source_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_patient_class_display()} stay at {self.facility}"

    @property
    def from_claims(self) -> bool:
        return self.source == EpisodeSource.CLAIMS


class EpisodeEvent(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="events")
    message = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # The HL7 v2 event (table 0003) the row stands for; a claims row uses A01 for the
    # admission and A03 for the discharge it shows.
    trigger_event = models.CharField(max_length=3)
    occurred_at = models.DateTimeField()
    summary = models.CharField(max_length=300)
    # The claim(s) a row from claims comes from (a hospital-feed row has its `message`).
    claim_id = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "pk"]

    def __str__(self) -> str:
        return f"{self.trigger_event} {self.summary}"


class AlertKind(models.TextChoices):
    ADMISSION = "admission", "Admission"
    DISCHARGE = "discharge", "Discharge"


class EpisodeAlert(models.Model):
    """That the care manager was told of an episode's admission or discharge: one per kind,
    however many messages repeat it (an A08 update must not alert again)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(
        "care.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "kind", "organization"], name="episode_alert_one_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alert for episode {self.episode_id}"
