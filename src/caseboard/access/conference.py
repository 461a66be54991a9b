"""Who may see and change high-risk lists, their uploads and match reviews.

A list belongs to one side of a partnership; both sides see both lists (seed 004 step 2: the
practice sends its list, the plan combines and sends back the combined list), but only the
patients each may see: a practice its attributed patients, the plan its members. Only the
owning side changes its list. Match reviews are the plan's work: its project manager
"creates and maintains the combined high risk list" (seed 004, Attachment A, roles).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from caseboard.access.policy import Actor, one_or_404, visible_partnerships, visible_patients
from caseboard.conference.models import (
    AgendaItem,
    Conference,
    ConferenceSeries,
    HighRiskEntry,
    HighRiskList,
    HighRiskUpload,
    MatchReview,
    TrackingEntry,
    TrackingReport,
)
from caseboard.orgs.models import Partnership
from caseboard.patients.models import AttributionSpan, Patient


def require_editor(actor: Actor) -> None:
    if not actor.can_edit_patients:
        raise PermissionDenied("Your role may read high-risk lists but not change them.")


def is_plan_staff(actor: Actor, partnership: Partnership) -> bool:
    return actor.organization.pk == partnership.plan_id


def require_plan_staff(actor: Actor, partnership: Partnership, doing: str) -> None:
    if not is_plan_staff(actor, partnership):
        raise PermissionDenied(f"Only {partnership.plan}'s staff {doing}.")
    require_editor(actor)


# --- Lists and entries --------------------------------------------------------------------


def visible_high_risk_lists(actor: Actor) -> QuerySet[HighRiskList]:
    return HighRiskList.objects.select_related(
        "partnership__plan", "partnership__partner", "owner"
    ).filter(partnership__in=visible_partnerships(actor))


def get_high_risk_list_for_user(actor: Actor, list_id: int | str) -> HighRiskList:
    return one_or_404(visible_high_risk_lists(actor), list_id, "high-risk list")


def get_high_risk_list_for_editor(actor: Actor, list_id: int | str) -> HighRiskList:
    """Only the owning side changes a list: each keeps its own (seed 004 step 1)."""
    found = get_high_risk_list_for_user(actor, list_id)
    if found.owner_id != actor.organization.pk:
        raise PermissionDenied(f"{found.owner} keeps this list; only its staff change it.")
    require_editor(actor)
    return found


def visible_entries(actor: Actor) -> QuerySet[HighRiskEntry]:
    return HighRiskEntry.objects.select_related(
        "patient",
        "high_risk_list__owner",
        "high_risk_list__partnership__plan",
        "high_risk_list__partnership__partner",
        "added_by",
        "removed_by",
        "upload",
    ).filter(
        high_risk_list__partnership__in=visible_partnerships(actor),
        patient__in=visible_patients(actor),
    )


def get_entry_for_user(actor: Actor, entry_id: int | str) -> HighRiskEntry:
    return one_or_404(visible_entries(actor), entry_id, "list entry")


def get_entry_for_editor(actor: Actor, entry_id: int | str) -> HighRiskEntry:
    entry = get_entry_for_user(actor, entry_id)
    owner = entry.high_risk_list.owner
    if owner.pk != actor.organization.pk:
        raise PermissionDenied(
            f"This patient is on {owner}'s list; only {owner}'s staff take patients off it."
        )
    require_editor(actor)
    return entry


def plan_members(partnership: Partnership) -> QuerySet[Patient]:
    """The plan's members: the people a practice's list is matched against.

    A practice's list names the plan's members it considers high risk, and only the plan can
    tell which member a row means (seed 004 step 2), so matching searches the plan's member
    set even when the practice uploads. Callers must show the practice nothing of these
    patients but the outcome for the rows it sent.
    """
    members = Patient.objects.filter(coverage_spans__plan_id=partnership.plan_id)
    return Patient.objects.filter(pk__in=members.values("pk"))


def attributed_to_partner(partnership: Partnership, patient_ids: list[int]) -> set[int]:
    """Which of these patients the practice currently has (seed 004 step 4a: "determine that
    the patient is still a patient of the practice")."""
    today = timezone.localdate()
    spans = AttributionSpan.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today),
        organization_id=partnership.partner_id,
        patient_id__in=patient_ids,
        start_date__lte=today,
    )
    return set(spans.values_list("patient_id", flat=True))


# --- Uploads and match reviews ------------------------------------------------------------


def visible_uploads(actor: Actor) -> QuerySet[HighRiskUpload]:
    """Both sides: the practice sent the list to the plan (seed 004 step 2)."""
    return HighRiskUpload.objects.select_related(
        "high_risk_list__owner",
        "high_risk_list__partnership__plan",
        "high_risk_list__partnership__partner",
        "uploaded_by",
    ).filter(high_risk_list__partnership__in=visible_partnerships(actor))


def get_upload_for_user(actor: Actor, upload_id: int | str) -> HighRiskUpload:
    return one_or_404(visible_uploads(actor), upload_id, "upload")


def visible_match_reviews(actor: Actor) -> QuerySet[MatchReview]:
    return MatchReview.objects.select_related(
        "upload__high_risk_list__partnership__plan",
        "upload__high_risk_list__partnership__partner",
        "upload__uploaded_by",
        "resolved_by",
        "resolved_patient",
    ).filter(upload__high_risk_list__partnership__in=visible_partnerships(actor))


def get_match_review_for_user(actor: Actor, review_id: int | str) -> MatchReview:
    """Both sides see the row; only the plan's staff see its candidates (views decide)."""
    return one_or_404(visible_match_reviews(actor), review_id, "match review")


def get_match_review_for_resolver(actor: Actor, review_id: int | str) -> MatchReview:
    review = get_match_review_for_user(actor, review_id)
    require_plan_staff(
        actor, review.upload.high_risk_list.partnership, "decide which member a row means"
    )
    return review


# --- Conference series, calls and agendas -------------------------------------------------
# Both sides of a partnership see its series and calls and work on them; each sees only the
# agenda patients it may see (a practice its attributed patients, the plan its members).
# Building the agenda from the combined list is the plan's project manager's work ("Identifying
# the patients to be reviewed during specific practice-health plan calls", Attachment A, roles).


def visible_series(actor: Actor) -> QuerySet[ConferenceSeries]:
    return ConferenceSeries.objects.select_related(
        "partnership__plan", "partnership__partner", "created_by"
    ).filter(partnership__in=visible_partnerships(actor))


def get_series_for_user(actor: Actor, series_id: int | str) -> ConferenceSeries:
    return one_or_404(visible_series(actor), series_id, "conference series")


def get_series_for_editor(actor: Actor, series_id: int | str) -> ConferenceSeries:
    """Either side sets the call times: they are agreed between the two (Getting ready, 2)."""
    series = get_series_for_user(actor, series_id)
    require_editor(actor)
    return series


def visible_conferences(actor: Actor) -> QuerySet[Conference]:
    return Conference.objects.select_related(
        "series__partnership__plan", "series__partnership__partner", "agenda_built_by"
    ).filter(series__partnership__in=visible_partnerships(actor))


def get_conference_for_user(actor: Actor, conference_id: int | str) -> Conference:
    return one_or_404(visible_conferences(actor), conference_id, "conference")


def get_conference_for_editor(actor: Actor, conference_id: int | str) -> Conference:
    conference = get_conference_for_user(actor, conference_id)
    require_editor(actor)
    return conference


def get_conference_for_agenda_builder(actor: Actor, conference_id: int | str) -> Conference:
    conference = get_conference_for_user(actor, conference_id)
    require_plan_staff(actor, conference.series.partnership, "build the agenda from the lists")
    return conference


def visible_agenda_items(actor: Actor) -> QuerySet[AgendaItem]:
    return AgendaItem.objects.select_related(
        "patient",
        "conference__series__partnership__plan",
        "conference__series__partnership__partner",
        "added_by",
        "added_by_organization",
    ).filter(
        conference__series__partnership__in=visible_partnerships(actor),
        patient__in=visible_patients(actor),
    )


def get_agenda_item_for_user(actor: Actor, item_id: int | str) -> AgendaItem:
    return one_or_404(visible_agenda_items(actor), item_id, "agenda item")


# --- Tracking list (step 6b) ---------------------------------------------------------------


def visible_tracking(actor: Actor) -> QuerySet[TrackingEntry]:
    """Both sides of the partnership see its tracking list, each only patients it may see."""
    return TrackingEntry.objects.select_related(
        "patient", "partnership__plan", "partnership__partner", "added_by"
    ).filter(
        partnership__in=visible_partnerships(actor),
        patient__in=visible_patients(actor),
    )


def get_tracking_entry_for_user(actor: Actor, entry_id: int | str) -> TrackingEntry:
    return one_or_404(visible_tracking(actor), entry_id, "tracking entry")


def visible_tracking_reports(actor: Actor) -> QuerySet[TrackingReport]:
    return TrackingReport.objects.select_related("entry__patient", "entry__partnership").filter(
        entry__in=visible_tracking(actor)
    )


def get_tracking_report_for_user(actor: Actor, report_id: int | str) -> TrackingReport:
    return one_or_404(visible_tracking_reports(actor), report_id, "tracking report")
