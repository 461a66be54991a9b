"""Writes to the partnership's high-risk lists, each checked by the access policy and audited.

Seed 004, Attachment A, steps 1–2: each side names its top 30 high-risk patients by its own
definition (the plan from its predictive model, the practice from clinical judgment), the
practice sends its list, and the plan's project manager combines them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import (
    MAX_LIST_SIZE,
    EntrySource,
    HighRiskEntry,
    HighRiskList,
    HighRiskUpload,
    MatchReview,
    ReviewStatus,
    UploadOutcome,
)
from caseboard.conference.practice_list import ListRow, parse_practice_list
from caseboard.orgs.models import Membership, Partnership, Role
from caseboard.patients.matching import MatchResult, MatchStatus, match_person
from caseboard.patients.models import Patient, PlanRanking
from caseboard.patients.roster import RosterError

MAX_REASON = 500
MAX_REMOVAL_REASON = 1000
REMOVAL_EXAMPLE = "high-risk pregnancy ended, mother and baby healthy"


def lists_of(partnership: Partnership) -> tuple[HighRiskList, HighRiskList]:
    """The plan's and the partner's lists of the partnership, made empty when first needed."""
    plan_list, _ = HighRiskList.objects.get_or_create(
        partnership=partnership, owner_id=partnership.plan_id
    )
    partner_list, _ = HighRiskList.objects.get_or_create(
        partnership=partnership, owner_id=partnership.partner_id
    )
    return plan_list, partner_list


def _active(high_risk_list: HighRiskList) -> QuerySet[HighRiskEntry]:
    return high_risk_list.entries.filter(removed_at__isnull=True).order_by("rank", "added_at", "pk")


def _renumber(ordered: Sequence[HighRiskEntry]) -> None:
    """Ranks 1..n in the given order; only the entries whose rank changed are written."""
    changed = []
    for position, entry in enumerate(ordered, start=1):
        if entry.rank != position:
            entry.rank = position
            changed.append(entry)
    HighRiskEntry.objects.bulk_update(changed, ["rank"])


def _insert_at(high_risk_list: HighRiskList, entry: HighRiskEntry, rank: int | None) -> None:
    others = [e for e in _active(high_risk_list) if e.pk != entry.pk]
    where = len(others) if rank is None else max(0, min(rank - 1, len(others)))
    _renumber([*others[:where], entry, *others[where:]])


def _clean_reasons(reasons: Iterable[str], *, required: bool) -> list[str]:
    cleaned = [r.strip() for r in reasons if r and r.strip()]
    if required and not cleaned:
        raise ConferenceError(
            "Say why this patient is high risk by your organization's definition "
            "(for example “3 ED visits in 6 months, lives alone”).",
            field="reasons",
        )
    for reason in cleaned:
        if len(reason) > MAX_REASON:
            raise ConferenceError(
                f"Keep each reason under {MAX_REASON} characters.", field="reasons"
            )
        if "\x00" in reason:
            raise ConferenceError("A reason contains a NUL character.", field="reasons")
    return cleaned


# --- The plan's list from its analytics ---------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    high_risk_list: HighRiskList
    added: int
    kept: int
    no_longer_ranked: int
    # Ranked in the top N but taken off the list earlier with a reason: not put back silently.
    held_back: list[HighRiskEntry]


def _analytics_reasons(ranking: PlanRanking) -> list[str]:
    drivers = [str(d) for d in ranking.drivers if str(d).strip()]
    return [*drivers, f"risk score {ranking.score:.2f} (model {ranking.model_version})"]


def refresh_plan_list(
    actor: Actor, partnership: Partnership, size: int | None = None
) -> RefreshResult:
    """The plan's top N members attributed to the practice, from the latest published ranking.

    Patients who fall out of the top N stay on the list, marked as no longer ranked that high,
    until someone removes them with a reason; patients removed with a reason are not put back
    by a later ranking (the model will keep flagging a pregnancy that ended well for months,
    seed 004 "Defining High Risk"): they are reported so the plan can add them back.
    """
    partnership = access.get_partnership_for_user(actor, partnership.pk)
    conference_access.require_plan_staff(
        actor, partnership, "refresh the plan's list from its analytics"
    )
    if size is not None and not 1 <= size <= MAX_LIST_SIZE:
        raise ConferenceError(
            f"The list holds from 1 to {MAX_LIST_SIZE} patients (the guideline starts at 30).",
            field="size",
        )
    plan_list, _ = lists_of(partnership)
    rankings = PlanRanking.objects.filter(
        plan_id=partnership.plan_id,
        practice_id=partnership.partner_id,
        patient__in=access.visible_patients(actor),
    ).order_by("rank", "pk")
    if not rankings.exists():
        raise ConferenceError(
            f"No ranking of {partnership.partner}'s members has been published from the "
            "plan's analytics yet; publish one, then refresh."
        )

    with transaction.atomic():
        plan_list = HighRiskList.objects.select_for_update().get(pk=plan_list.pk)
        if size is not None:
            plan_list.target_size = size
        wanted = plan_list.target_size
        active = {e.patient_id: e for e in _active(plan_list)}
        removed = {
            e.patient_id: e
            for e in plan_list.entries.filter(removed_at__isnull=False).order_by("removed_at")
            if e.patient_id not in active
        }
        chosen: list[PlanRanking] = []
        held_back: list[HighRiskEntry] = []
        for ranking in rankings[: wanted + len(removed)]:
            if ranking.patient_id in removed:
                held_back.append(removed[ranking.patient_id])
                continue
            chosen.append(ranking)
            if len(chosen) == wanted:
                break

        today = timezone.localdate()
        ranked_entries: list[HighRiskEntry] = []
        added: list[HighRiskEntry] = []
        for ranking in chosen:
            entry = active.pop(ranking.patient_id, None)
            if entry is None:
                entry = HighRiskEntry.objects.create(
                    high_risk_list=plan_list,
                    patient_id=ranking.patient_id,
                    rank=ranking.rank,
                    reasons=_analytics_reasons(ranking),
                    risk_score=ranking.score,
                    source=EntrySource.ANALYTICS,
                    added_by=actor.user,
                )
                added.append(entry)
            else:
                if entry.source == EntrySource.ANALYTICS:
                    entry.reasons = _analytics_reasons(ranking)
                entry.risk_score = ranking.score
                entry.out_of_ranking_since = None
                entry.save(update_fields=["reasons", "risk_score", "out_of_ranking_since"])
            ranked_entries.append(entry)
        # What is left was on the list but is not in this top N.
        rest = sorted(active.values(), key=lambda e: (e.rank, e.pk))
        dropped = [
            e for e in rest if e.source == EntrySource.ANALYTICS and e.out_of_ranking_since is None
        ]
        for entry in dropped:
            entry.out_of_ranking_since = today
        HighRiskEntry.objects.bulk_update(dropped, ["out_of_ranking_since"])
        _renumber([*ranked_entries, *rest])

        latest = chosen[0] if chosen else rankings.first()
        plan_list.refreshed_at = timezone.now()
        plan_list.refreshed_by = actor.user
        if latest is not None:
            plan_list.ranking_as_of = latest.as_of
            plan_list.ranking_model_version = latest.model_version
        plan_list.save()
        for entry in added:
            log.record(
                actor,
                AuditAction.CREATE,
                patient=entry.patient,
                obj=entry,
                detail={"high_risk_list": plan_list.pk, "source": "analytics"},
            )
        log.record(
            actor,
            AuditAction.UPDATE,
            obj=plan_list,
            detail={
                "refreshed": True,
                "size": wanted,
                "added": len(added),
                "no_longer_ranked": len(dropped),
                "held_back": len(held_back),
            },
        )
    return RefreshResult(
        high_risk_list=plan_list,
        added=len(added),
        kept=len(ranked_entries) - len(added),
        no_longer_ranked=len([e for e in rest if e.out_of_ranking_since is not None]),
        held_back=held_back,
    )


# --- Adding and removing patients ---------------------------------------------------------


def add_to_list(
    actor: Actor,
    high_risk_list: HighRiskList,
    patient: Patient,
    *,
    reasons: Sequence[str],
    rank: int | None = None,
) -> HighRiskEntry:
    """Put a patient on the actor's own side's list, by that side's definition of high risk."""
    high_risk_list = conference_access.get_high_risk_list_for_editor(actor, high_risk_list.pk)
    patient = access.get_patient_for_user(actor, patient.pk)
    partnership = high_risk_list.partnership
    if not access.visible_coverage(actor, patient).filter(plan_id=partnership.plan_id).exists():
        raise ConferenceError(
            f"{patient.full_name} is not a member of {partnership.plan}; this partnership's "
            "lists hold the plan's members.",
            field="patient",
        )
    cleaned = _clean_reasons(reasons, required=True)
    if rank is not None and not 1 <= rank <= MAX_LIST_SIZE:
        raise ConferenceError(f"The rank is a number from 1 to {MAX_LIST_SIZE}.", field="rank")
    existing = _active(high_risk_list).filter(patient=patient).first()
    if existing is not None:
        raise ConferenceError(
            f"{patient.full_name} is already on this list at #{existing.rank}.", field="patient"
        )
    try:
        with transaction.atomic():
            HighRiskList.objects.select_for_update().get(pk=high_risk_list.pk)
            entry = HighRiskEntry.objects.create(
                high_risk_list=high_risk_list,
                patient=patient,
                rank=_active(high_risk_list).count() + 1,
                reasons=cleaned,
                source=EntrySource.PICKED,
                added_by=actor.user,
            )
            _insert_at(high_risk_list, entry, rank)
            log.record(
                actor,
                AuditAction.CREATE,
                patient=patient,
                obj=entry,
                detail={"high_risk_list": high_risk_list.pk, "source": "picked"},
            )
    except IntegrityError:
        raise ConferenceError(
            f"{patient.full_name} was just added to this list by someone else.", field="patient"
        ) from None
    entry.refresh_from_db()
    return entry


def remove_from_list(actor: Actor, entry: HighRiskEntry, *, reason: str) -> HighRiskEntry:
    """Take a patient off the actor's side's list, saying why; the entry stays in history."""
    entry = conference_access.get_entry_for_editor(actor, entry.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ConferenceError(
            f"Say why {entry.patient.full_name} comes off the list "
            f"(for example “{REMOVAL_EXAMPLE}”).",
            field="reason",
        )
    if len(reason) > MAX_REMOVAL_REASON or "\x00" in reason:
        raise ConferenceError(
            f"Keep the reason under {MAX_REMOVAL_REASON} characters of plain text.",
            field="reason",
        )
    with transaction.atomic():
        locked = HighRiskEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.removed_at is not None:
            raise ConferenceError(
                f"{entry.patient.full_name} was already taken off this list on "
                f"{timezone.localtime(locked.removed_at):%Y-%m-%d}."
            )
        entry.removed_at = timezone.now()
        entry.removed_by = actor.user
        entry.removal_reason = reason
        entry.save(update_fields=["removed_at", "removed_by", "removal_reason"])
        _renumber(list(_active(entry.high_risk_list)))
        log.record(
            actor,
            AuditAction.UPDATE,
            patient=entry.patient,
            obj=entry,
            detail={"removed_from_list": entry.high_risk_list_id, "reason": reason},
        )
    return entry


# --- The practice's list as a file --------------------------------------------------------


def _error_records(errors: Iterable[RosterError]) -> list[dict[str, object]]:
    return [e.as_record() for e in sorted(errors, key=lambda e: (e.row, e.field))]


def _row_outcome(row: ListRow, outcome: str, **ids: int) -> dict[str, object]:
    return {
        "row": row.row,
        "name": row.name,
        "birth_date": row.birth_date.isoformat(),
        "rank": row.wanted_rank,
        "outcome": outcome,
        **ids,
    }


def _project_managers(partnership: Partnership) -> list[Membership]:
    """Who works the match-review queue: the plan's project managers, else its directors."""
    staff = Membership.objects.select_related("user").filter(
        organization_id=partnership.plan_id, is_active=True
    )
    managers = list(staff.filter(role=Role.PROJECT_MANAGER))
    return managers or list(staff.filter(role=Role.DIRECTOR_OF_CARE_MANAGEMENT))


def upload_practice_list(
    actor: Actor,
    high_risk_list: HighRiskList,
    file_name: str,
    content: bytes,
    *,
    good_rows_only: bool = False,
) -> HighRiskUpload:
    """Take the practice's list from a CSV file, matched against the plan's members.

    Any bad row rejects the whole file unless `good_rows_only`. A row the matcher cannot settle
    goes to the plan's match-review queue instead of being guessed. The same file uploaded
    again changes nothing. Patients already on the list and not in the file stay on it:
    taking a patient off needs a reason.
    """
    high_risk_list = conference_access.get_high_risk_list_for_editor(actor, high_risk_list.pk)
    partnership = high_risk_list.partnership
    if high_risk_list.owner_id != partnership.partner_id:
        raise PermissionDenied(
            "The plan's list comes from its analytics and its staff's picks; the practice "
            "uploads its own list."
        )
    digest = hashlib.sha256(content).hexdigest()
    record = HighRiskUpload(
        high_risk_list=high_risk_list,
        file_name=file_name.replace("\x00", "")[:255] or "list.csv",
        content=content,
        sha256=digest,
        good_rows_only=good_rows_only,
        uploaded_by=actor.user,
    )
    earlier = high_risk_list.uploads.filter(
        sha256=digest, outcome__in=[UploadOutcome.IMPORTED, UploadOutcome.PARTLY_IMPORTED]
    ).first()
    if earlier is not None:
        record.outcome = UploadOutcome.DUPLICATE
        record.duplicate_of = earlier
        when = timezone.localtime(earlier.uploaded_at)
        record.errors = [
            {
                "row": 0,
                "field": "file",
                "value": "",
                "reason": f"the same file was uploaded on {when:%Y-%m-%d %H:%M}",
            }
        ]
        record.save()
        log.record(actor, AuditAction.CREATE, obj=record, detail={"duplicate_of": earlier.pk})
        return record

    parsed = parse_practice_list(content, timezone.localdate())
    errors = list(parsed.errors)
    members = conference_access.plan_members(partnership)
    results: list[tuple[ListRow, MatchResult]] = []
    matched_row_of: dict[int, int] = {}
    for row in parsed.rows:
        result = match_person(row.person(partnership.plan_id, partnership.partner_id), members)
        if result.patient is not None:
            first = matched_row_of.setdefault(result.patient.pk, row.row)
            if first != row.row:
                errors.append(
                    RosterError(row.row, "row", "", f"describes the same patient as row {first}")
                )
                continue
        results.append((row, result))
    record.rows_total = parsed.rows_total
    record.errors = _error_records(errors)
    record.rows_rejected = len({e.row for e in errors if e.row > 1})
    if errors and not (good_rows_only and results):
        record.outcome = UploadOutcome.REJECTED
        record.save()
        log.record(actor, AuditAction.CREATE, obj=record, detail={"outcome": record.outcome})
        return record

    with transaction.atomic():
        HighRiskList.objects.select_for_update().get(pk=high_risk_list.pk)
        record.outcome = UploadOutcome.PARTLY_IMPORTED if errors else UploadOutcome.IMPORTED
        record.save()
        active = {e.patient_id: e for e in _active(high_risk_list)}
        from_file: list[tuple[int, int, HighRiskEntry]] = []
        outcomes: list[dict[str, object]] = []
        created_for: list[int] = []
        review_count = 0
        for row, result in results:
            if result.status == MatchStatus.MATCHED and result.patient is not None:
                entry = active.pop(result.patient.pk, None)
                if entry is None:
                    entry = HighRiskEntry(
                        high_risk_list=high_risk_list,
                        patient=result.patient,
                        rank=row.wanted_rank,
                        source=EntrySource.UPLOADED,
                        added_by=actor.user,
                    )
                    created_for.append(result.patient.pk)
                if row.reasons or entry.source == EntrySource.UPLOADED:
                    entry.reasons = row.reasons
                entry.upload = record
                entry.save()
                from_file.append((row.wanted_rank, row.row, entry))
                outcomes.append(_row_outcome(row, "matched", entry=entry.pk))
            else:
                review = MatchReview.objects.create(
                    upload=record,
                    row=row.row,
                    values=row.values,
                    intended_rank=row.wanted_rank,
                    matcher_status=result.status,
                    candidates=[c.as_record() for c in result.candidates],
                )
                review_count += 1
                outcomes.append(_row_outcome(row, "review", review=review.pk))
        from_file.sort(key=lambda item: (item[0], item[1]))
        rest = sorted(active.values(), key=lambda e: (e.rank, e.pk))
        _renumber([entry for _, _, entry in from_file] + rest)
        record.rows_matched = len(from_file)
        record.rows_in_review = review_count
        record.row_outcomes = sorted(outcomes, key=lambda o: int(str(o["row"])))
        record.save()
        log.record(
            actor,
            AuditAction.CREATE,
            obj=record,
            detail={
                "outcome": record.outcome,
                "matched": record.rows_matched,
                "in_review": review_count,
                "rejected": record.rows_rejected,
            },
        )
        if created_for:
            log.record_many(actor, AuditAction.CREATE, created_for, {"high_risk_upload": record.pk})
        if review_count:
            url = reverse("match_reviews", kwargs={"partnership_id": partnership.pk})
            for membership in _project_managers(partnership):
                notify(
                    membership.user,
                    membership.organization,
                    kind="match_review",
                    title=f"{review_count} row(s) of a practice's high-risk list need matching",
                    body=(
                        f"{partnership.partner} uploaded its high-risk list; {review_count} "
                        "row(s) could not be matched to a member with confidence."
                    ),
                    url=url,
                )
    return record


# --- The plan's review of rows the matcher could not settle -------------------------------


def resolve_review(
    actor: Actor, review: MatchReview, patient_id: int | None, note: str = ""
) -> MatchReview:
    """Say which plan member a row means (one of the candidates or a member found by search),
    or that none does. A matched row joins the practice's list where the practice ranked it."""
    review = conference_access.get_match_review_for_resolver(actor, review.pk)
    note = (note or "").strip()
    if len(note) > MAX_REMOVAL_REASON or "\x00" in note:
        raise ConferenceError(
            f"Keep the note under {MAX_REMOVAL_REASON} characters of plain text.", field="note"
        )
    upload = review.upload
    practice_list = upload.high_risk_list
    partnership = practice_list.partnership
    patient: Patient | None = None
    if patient_id is not None:
        patient = (
            access.visible_patients(actor)
            .filter(pk=patient_id, pk__in=conference_access.plan_members(partnership))
            .first()
        )
        if patient is None:
            raise ConferenceError(
                f"Choose one of the candidates or a member of {partnership.plan}.",
                field="patient",
            )
    with transaction.atomic():
        locked = MatchReview.objects.select_for_update().get(pk=review.pk)
        if locked.status != ReviewStatus.PENDING:
            raise ConferenceError("This row has already been reviewed; nothing was changed.")
        review.resolved_by = actor.user
        review.resolved_at = timezone.now()
        review.note = note
        if patient is None:
            review.status = ReviewStatus.NO_MATCH
        else:
            review.status = ReviewStatus.MATCHED
            review.resolved_patient = patient
            review.entry = _entry_for_review(review, practice_list, patient, upload)
        review.save()
        log.record(
            actor,
            AuditAction.UPDATE,
            patient=patient,
            obj=review,
            detail={"status": review.status, "upload": upload.pk, "row": review.row},
        )
        if not upload.reviews.filter(status=ReviewStatus.PENDING).exists():
            _tell_uploader(upload.uploaded_by, partnership, upload)
    return review


def _entry_for_review(
    review: MatchReview, practice_list: HighRiskList, patient: Patient, upload: HighRiskUpload
) -> HighRiskEntry:
    HighRiskList.objects.select_for_update().get(pk=practice_list.pk)
    existing = _active(practice_list).filter(patient=patient).first()
    if existing is not None:
        return existing
    reason_text = str(review.values.get("reason", ""))
    entry = HighRiskEntry.objects.create(
        high_risk_list=practice_list,
        patient=patient,
        rank=_active(practice_list).count() + 1,
        reasons=[r.strip() for r in reason_text.split(";") if r.strip()],
        source=EntrySource.UPLOADED,
        upload=upload,
        # The practice put the patient on its list; the plan only said who the row meant.
        added_by=upload.uploaded_by,
    )
    _insert_at(practice_list, entry, review.intended_rank)
    entry.refresh_from_db()
    return entry


def _tell_uploader(user: User, partnership: Partnership, upload: HighRiskUpload) -> None:
    membership = Membership.objects.filter(
        user=user, organization_id=partnership.partner_id, is_active=True
    ).first()
    if membership is None:
        return
    notify(
        user,
        membership.organization,
        kind="match_review_done",
        title="The plan has reviewed every unmatched row of your high-risk list",
        body=f"{partnership.plan} finished matching the rows of {upload.file_name}.",
        url=reverse("high_risk_upload_detail", kwargs={"upload_id": upload.pk}),
    )
