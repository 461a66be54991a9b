"""Reads of the partnership's high-risk lists, each starting from the access policy."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.contrib.auth.models import User

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.conference.actions import lists_of
from caseboard.conference.models import (
    HighRiskEntry,
    HighRiskList,
    HighRiskUpload,
    MatchReview,
    ReviewStatus,
)
from caseboard.orgs.models import Organization, Partnership
from caseboard.patients.models import IdentifierKind, Patient, PatientIdentifier
from caseboard.patients.queries import matching_words


class Presence(enum.StrEnum):
    COMMON = "common"
    PLAN_ONLY = "plan_only"
    PRACTICE_ONLY = "practice_only"


PRESENCE_LABELS = {
    Presence.COMMON: "On both lists",
    Presence.PLAN_ONLY: "Plan only",
    Presence.PRACTICE_ONLY: "Practice only",
}


@dataclass(frozen=True)
class CombinedRow:
    """One patient of the combined list (seed 004 step 2: "identifying common patients and
    unique patients"), with each side's rank and reasons."""

    patient: Patient
    plan_entry: HighRiskEntry | None
    practice_entry: HighRiskEntry | None
    # Step 4a: is the patient still the practice's? Always true for the practice's own view.
    attributed_to_practice: bool

    @property
    def presence(self) -> Presence:
        if self.plan_entry is not None and self.practice_entry is not None:
            return Presence.COMMON
        return Presence.PLAN_ONLY if self.plan_entry is not None else Presence.PRACTICE_ONLY

    @property
    def presence_label(self) -> str:
        return PRESENCE_LABELS[self.presence]

    @property
    def is_common(self) -> bool:
        return self.presence == Presence.COMMON

    @property
    def plan_rank(self) -> int | None:
        return self.plan_entry.rank if self.plan_entry is not None else None

    @property
    def practice_rank(self) -> int | None:
        return self.practice_entry.rank if self.practice_entry is not None else None

    @property
    def plan_reasons(self) -> list[str]:
        return list(self.plan_entry.reasons) if self.plan_entry is not None else []

    @property
    def practice_reasons(self) -> list[str]:
        return list(self.practice_entry.reasons) if self.practice_entry is not None else []

    @property
    def sort_key(self) -> tuple[int, int, int]:
        # Step 5a: "start with the commonly identified high risk patients. Next review unique
        # patients, starting with patients with highest risk score assigned by health plan";
        # the practice's unique patients follow in the practice's order.
        if self.presence == Presence.COMMON:
            return (0, self.plan_rank or 0, self.patient.pk)
        if self.presence == Presence.PLAN_ONLY:
            return (1, self.plan_rank or 0, self.patient.pk)
        return (2, self.practice_rank or 0, self.patient.pk)


def _active_entries(actor: Actor, lists: list[HighRiskList]) -> list[HighRiskEntry]:
    return list(
        conference_access.visible_entries(actor)
        .filter(high_risk_list__in=lists, removed_at__isnull=True)
        .order_by("rank", "pk")
    )


def _combine(
    partnership: Partnership,
    plan_list: HighRiskList,
    entries: list[HighRiskEntry],
) -> list[CombinedRow]:
    by_patient: dict[int, dict[str, HighRiskEntry]] = {}
    patients: dict[int, Patient] = {}
    for entry in entries:
        side = "plan" if entry.high_risk_list_id == plan_list.pk else "practice"
        by_patient.setdefault(entry.patient_id, {})[side] = entry
        patients[entry.patient_id] = entry.patient
    attributed = conference_access.attributed_to_partner(partnership, list(by_patient))
    rows = [
        CombinedRow(
            patient=patients[pid],
            plan_entry=sides.get("plan"),
            practice_entry=sides.get("practice"),
            attributed_to_practice=pid in attributed,
        )
        for pid, sides in by_patient.items()
    ]
    return sorted(rows, key=lambda r: r.sort_key)


def combined_list(actor: Actor, partnership: Partnership) -> list[CombinedRow]:
    """Both sides' active entries, one row per patient the actor may see: common patients
    first by the plan's rank, then the plan's unique ones by its rank, then the practice's
    unique ones by the practice's rank."""
    partnership = access.get_partnership_for_user(actor, partnership.pk)
    plan_list, practice_list = lists_of(partnership)
    return _combine(partnership, plan_list, _active_entries(actor, [plan_list, practice_list]))


@dataclass(frozen=True)
class ListsOverview:
    partnership: Partnership
    plan_list: HighRiskList
    practice_list: HighRiskList
    plan_entries: list[HighRiskEntry]
    practice_entries: list[HighRiskEntry]
    combined: list[CombinedRow]
    # Entries about patients the actor may not see (a practice does not see plan members
    # attributed elsewhere): counted so the lists do not look shorter than they are.
    hidden_entries: int
    pending_reviews: int
    is_plan_staff: bool
    own_list: HighRiskList | None
    can_edit: bool

    @property
    def owns_plan_list(self) -> bool:
        return self.can_edit and self.own_list == self.plan_list

    @property
    def owns_practice_list(self) -> bool:
        return self.can_edit and self.own_list == self.practice_list

    @property
    def common_count(self) -> int:
        return sum(1 for r in self.combined if r.is_common)


def lists_overview(actor: Actor, partnership_id: int | str) -> ListsOverview:
    """Everything the high-risk lists page shows; records that the actor saw these patients."""
    partnership = access.get_partnership_for_user(actor, partnership_id)
    plan_list, practice_list = lists_of(partnership)
    entries = _active_entries(actor, [plan_list, practice_list])
    total_active = HighRiskEntry.objects.filter(
        high_risk_list__in=[plan_list, practice_list], removed_at__isnull=True
    ).count()
    own = {plan_list.owner_id: plan_list, practice_list.owner_id: practice_list}
    overview = ListsOverview(
        partnership=partnership,
        plan_list=plan_list,
        practice_list=practice_list,
        plan_entries=[e for e in entries if e.high_risk_list_id == plan_list.pk],
        practice_entries=[e for e in entries if e.high_risk_list_id == practice_list.pk],
        combined=_combine(partnership, plan_list, entries),
        hidden_entries=total_active - len(entries),
        pending_reviews=MatchReview.objects.filter(
            upload__high_risk_list=practice_list, status=ReviewStatus.PENDING
        ).count(),
        is_plan_staff=conference_access.is_plan_staff(actor, partnership),
        own_list=own.get(actor.organization.pk),
        can_edit=actor.can_edit_patients,
    )
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({e.patient_id for e in entries}),
        {"page": "high_risk_lists", "partnership": partnership.pk},
    )
    return overview


def member_ids(patient_ids: list[int], plan: Organization) -> dict[int, str]:
    """The plan's member IDs of these patients, for the combined list it sends (step 3)."""
    found = PatientIdentifier.objects.filter(
        patient_id__in=patient_ids, organization=plan, kind=IdentifierKind.MEMBER_ID
    ).values_list("patient_id", "value")
    return dict(found)


def combined_list_for_export(
    actor: Actor, partnership_id: int | str
) -> tuple[Partnership, list[CombinedRow], dict[int, str]]:
    partnership = access.get_partnership_for_user(actor, partnership_id)
    rows = combined_list(actor, partnership)
    ids = [r.patient.pk for r in rows]
    log.record_many(
        actor,
        AuditAction.EXPORT,
        ids,
        {"export": "combined_high_risk_list", "partnership": partnership.pk},
    )
    return partnership, rows, member_ids(ids, partnership.plan)


# --- History ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime.datetime
    what: str  # "added" or "removed"
    entry: HighRiskEntry
    side: Organization
    by: User | None
    why: list[str]

    @property
    def patient(self) -> Patient:
        return self.entry.patient


def list_history(actor: Actor, partnership: Partnership) -> list[HistoryEvent]:
    """Who put each patient on a list and who took them off, when and why; newest first."""
    partnership = access.get_partnership_for_user(actor, partnership.pk)
    lists = list(lists_of(partnership))
    entries = list(
        conference_access.visible_entries(actor).filter(high_risk_list__in=lists).order_by("pk")
    )
    events: list[HistoryEvent] = []
    for entry in entries:
        side = entry.high_risk_list.owner
        events.append(
            HistoryEvent(
                at=entry.added_at,
                what="added",
                entry=entry,
                side=side,
                by=entry.added_by,
                why=list(entry.reasons),
            )
        )
        if entry.removed_at is not None:
            events.append(
                HistoryEvent(
                    at=entry.removed_at,
                    what="removed",
                    entry=entry,
                    side=side,
                    by=entry.removed_by,
                    why=[entry.removal_reason],
                )
            )
    events.sort(key=lambda e: (e.at, e.what == "removed", e.entry.pk), reverse=True)
    log.record_many(
        actor,
        AuditAction.VIEW,
        sorted({e.patient_id for e in entries}),
        {"page": "high_risk_history", "partnership": partnership.pk},
    )
    return events


# --- Adding a patient ---------------------------------------------------------------------

SEARCH_LIMIT = 25


def addable_patients(
    actor: Actor, partnership: Partnership, query: str
) -> list[tuple[Patient, bool]]:
    """Plan members the actor may see matching every word of `query`, each with whether it
    is already on the actor's side's list."""
    if not query.split():
        return []
    members = access.visible_patients(actor).filter(
        pk__in=conference_access.plan_members(partnership)
    )
    patients = matching_words(actor, members, query)
    found = list(patients.order_by("family_name", "given_name", "birth_date")[:SEARCH_LIMIT])
    on_list = set(
        HighRiskEntry.objects.filter(
            high_risk_list__partnership=partnership,
            high_risk_list__owner=actor.organization,
            removed_at__isnull=True,
            patient__in=found,
        ).values_list("patient_id", flat=True)
    )
    log.record_many(
        actor, AuditAction.SEARCH, [p.pk for p in found], {"query": query, "for": "high_risk"}
    )
    return [(p, p.pk in on_list) for p in found]


# --- Uploads and match reviews ------------------------------------------------------------


@dataclass(frozen=True)
class UploadRow:
    row: int
    name: str
    birth_date: str
    rank: int
    outcome: str  # "matched" or "review"
    entry: HighRiskEntry | None  # only when the actor may see the patient
    review: MatchReview | None


@dataclass(frozen=True)
class UploadDetail:
    upload: HighRiskUpload
    reviews: dict[int, MatchReview]  # by row
    is_plan_staff: bool
    # Entries the actor may see, by ID: a practice may not see a member it does not have.
    visible_entries: dict[int, HighRiskEntry]

    @property
    def pending(self) -> int:
        return sum(1 for r in self.reviews.values() if r.is_pending)

    @property
    def rows(self) -> list[UploadRow]:
        return [
            UploadRow(
                row=int(o["row"]),
                name=str(o["name"]),
                birth_date=str(o["birth_date"]),
                rank=int(o["rank"]),
                outcome=str(o["outcome"]),
                entry=self.visible_entries.get(int(o.get("entry") or 0)),
                review=self.reviews.get(int(o["row"])),
            )
            for o in self.upload.row_outcomes
        ]


def upload_detail(actor: Actor, upload_id: int | str) -> UploadDetail:
    upload = conference_access.get_upload_for_user(actor, upload_id)
    partnership = upload.high_risk_list.partnership
    entries = {
        e.pk: e
        for e in conference_access.visible_entries(actor).filter(
            pk__in=[o["entry"] for o in upload.row_outcomes if o.get("entry")]
        )
    }
    log.record(
        actor,
        AuditAction.VIEW,
        obj=upload,
        detail={"page": "high_risk_upload", "rows": upload.rows_total},
    )
    if entries:
        log.record_many(
            actor,
            AuditAction.VIEW,
            sorted({e.patient_id for e in entries.values()}),
            {"page": "high_risk_upload", "upload": upload.pk},
        )
    return UploadDetail(
        upload=upload,
        reviews={r.row: r for r in upload.reviews.select_related("resolved_by")},
        is_plan_staff=conference_access.is_plan_staff(actor, partnership),
        visible_entries=entries,
    )


def recent_uploads(actor: Actor, partnership: Partnership) -> list[HighRiskUpload]:
    return list(
        conference_access.visible_uploads(actor).filter(high_risk_list__partnership=partnership)[
            :20
        ]
    )


@dataclass(frozen=True)
class ReviewCandidate:
    patient: Patient
    score: float
    reasons: list[str]
    member_id: str
    # The row comes from the practice: a candidate it has is the likelier one.
    attributed_to_practice: bool


@dataclass(frozen=True)
class ReviewView:
    review: MatchReview
    # Empty for the practice: it never sees who the plan's candidates are.
    candidates: list[ReviewCandidate]
    # The member the plan chose, when the actor may see them.
    resolved_patient: Patient | None


def _with_candidates(actor: Actor, reviews: list[MatchReview]) -> list[ReviewView]:
    if not reviews:
        return []
    partnership = reviews[0].upload.high_risk_list.partnership
    chosen = {
        p.pk: p
        for p in access.visible_patients(actor).filter(
            pk__in=[r.resolved_patient_id for r in reviews if r.resolved_patient_id]
        )
    }
    if not conference_access.is_plan_staff(actor, partnership):
        if chosen:
            log.record_many(
                actor,
                AuditAction.VIEW,
                sorted(chosen),
                {"page": "match_reviews", "partnership": partnership.pk},
            )
        return [
            ReviewView(
                review=r,
                candidates=[],
                resolved_patient=chosen.get(r.resolved_patient_id or 0),
            )
            for r in reviews
        ]
    wanted = {int(c["patient_id"]) for r in reviews for c in r.candidates}
    patients = {p.pk: p for p in access.visible_patients(actor).filter(pk__in=wanted)}
    ids = member_ids(list(patients), partnership.plan)
    attributed = conference_access.attributed_to_partner(partnership, list(patients))
    views = []
    for review in reviews:
        candidates = [
            ReviewCandidate(
                patient=patients[int(c["patient_id"])],
                score=float(c["score"]),
                reasons=list(c["reasons"]),
                member_id=ids.get(int(c["patient_id"]), ""),
                attributed_to_practice=int(c["patient_id"]) in attributed,
            )
            for c in review.candidates
            if int(c["patient_id"]) in patients
        ]
        views.append(
            ReviewView(
                review=review,
                candidates=candidates,
                resolved_patient=chosen.get(review.resolved_patient_id or 0),
            )
        )
    shown = sorted({c.patient.pk for v in views for c in v.candidates} | set(chosen))
    if shown:
        log.record_many(
            actor, AuditAction.VIEW, shown, {"page": "match_reviews", "partnership": partnership.pk}
        )
    return views


@dataclass(frozen=True)
class ReviewQueue:
    partnership: Partnership
    pending: list[ReviewView]
    resolved: list[ReviewView]
    is_plan_staff: bool


RESOLVED_SHOWN = 50


def review_queue(actor: Actor, partnership_id: int | str) -> ReviewQueue:
    partnership = access.get_partnership_for_user(actor, partnership_id)
    reviews = conference_access.visible_match_reviews(actor).filter(
        upload__high_risk_list__partnership=partnership
    )
    pending = list(
        reviews.filter(status=ReviewStatus.PENDING).order_by("upload__uploaded_at", "row")
    )
    resolved = list(
        reviews.exclude(status=ReviewStatus.PENDING).order_by("-resolved_at")[:RESOLVED_SHOWN]
    )
    return ReviewQueue(
        partnership=partnership,
        pending=_with_candidates(actor, pending),
        resolved=_with_candidates(actor, resolved),
        is_plan_staff=conference_access.is_plan_staff(actor, partnership),
    )


def review_for_page(actor: Actor, review_id: int | str) -> ReviewView:
    review = conference_access.get_match_review_for_user(actor, review_id)
    return _with_candidates(actor, [review])[0]
