"""High-risk lists over the API: both sides' lists, the combined list, adding, removing and
uploading the practice's list (seed 004, Attachment A, steps 1–2).

Request bodies are read after the object is looked up through the access policy, so a
request about another organization's object is answered 404 whatever its body holds.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field, ValidationError

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.api.context import actor_of
from caseboard.conference import actions, calls, prework, queries
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import (
    MAX_LIST_SIZE,
    AgendaItem,
    HighRiskEntry,
    HighRiskList,
    HighRiskUpload,
    UploadOutcome,
)

router = Router(tags=["high-risk lists"])


class ErrorOut(Schema):
    detail: str
    field: str | None = None


class RowErrorOut(Schema):
    row: int
    field: str
    value: str
    reason: str


class UploadErrorOut(Schema):
    detail: str
    upload_id: int
    errors: list[RowErrorOut]


class PatientRefOut(Schema):
    id: int
    given_name: str
    family_name: str
    birth_date: datetime.date


class EntryOut(Schema):
    id: int
    list_owner: str
    patient: PatientRefOut
    rank: int
    reasons: list[str]
    source: str
    risk_score: float | None
    no_longer_in_top_since: datetime.date | None
    added_at: datetime.datetime
    removed_at: datetime.datetime | None
    removal_reason: str


class ListOut(Schema):
    id: int
    owner: str
    target_size: int
    ranking_as_of: datetime.date | None
    entries: list[EntryOut]


class CombinedRowOut(Schema):
    position: int
    patient: PatientRefOut
    on_lists: str
    plan_rank: int | None
    practice_rank: int | None
    plan_reasons: list[str]
    practice_reasons: list[str]
    attributed_to_practice: bool


class HighRiskListsOut(Schema):
    partnership_id: int
    plan_list: ListOut
    practice_list: ListOut
    combined: list[CombinedRowOut]
    entries_not_shown: int
    pending_match_reviews: int


class UploadOut(Schema):
    id: int
    outcome: str
    rows_total: int
    rows_matched: int
    rows_in_review: int
    rows_rejected: int
    errors: list[RowErrorOut]


class AddEntryIn(BaseModel):
    patient_id: int
    reasons: list[str] = Field(min_length=1)
    rank: int | None = Field(default=None, ge=1, le=MAX_LIST_SIZE)


class RemovalIn(BaseModel):
    reason: str


class UploadParams(Schema):
    good_rows_only: bool = False
    file_name: str = "high-risk-list.csv"


def _patient(entry: HighRiskEntry) -> PatientRefOut:
    p = entry.patient
    return PatientRefOut(
        id=p.pk, given_name=p.given_name, family_name=p.family_name, birth_date=p.birth_date
    )


def _entry(entry: HighRiskEntry) -> EntryOut:
    return EntryOut(
        id=entry.pk,
        list_owner=entry.high_risk_list.owner.name,
        patient=_patient(entry),
        rank=entry.rank,
        reasons=list(entry.reasons),
        source=entry.source,
        risk_score=entry.risk_score,
        no_longer_in_top_since=entry.out_of_ranking_since,
        added_at=entry.added_at,
        removed_at=entry.removed_at,
        removal_reason=entry.removal_reason,
    )


def _list(high_risk_list: HighRiskList, entries: list[HighRiskEntry]) -> ListOut:
    return ListOut(
        id=high_risk_list.pk,
        owner=high_risk_list.owner.name,
        target_size=high_risk_list.target_size,
        ranking_as_of=high_risk_list.ranking_as_of,
        entries=[_entry(e) for e in entries],
    )


def _upload(upload: HighRiskUpload) -> UploadOut:
    return UploadOut(
        id=upload.pk,
        outcome=upload.outcome,
        rows_total=upload.rows_total,
        rows_matched=upload.rows_matched,
        rows_in_review=upload.rows_in_review,
        rows_rejected=upload.rows_rejected,
        errors=[RowErrorOut(**e) for e in upload.errors],
    )


def _body(request: HttpRequest, model: type[BaseModel]) -> Any:
    """The JSON body as `model`, or ConferenceError naming the first problem (→ 400)."""
    try:
        return model.model_validate_json(request.body or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or None
        message = str(first.get("msg", "invalid request body"))
        raise ConferenceError(f"{where}: {message}" if where else message, field=where) from None


def _json_body(schema: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema.model_json_schema()}},
        }
    }


@router.get(
    "/partnerships/{partnership_id}/high-risk-lists",
    response=HighRiskListsOut,
    summary="Both sides' high-risk lists and the combined list",
)
def get_high_risk_lists(request: HttpRequest, partnership_id: int) -> HighRiskListsOut:
    overview = queries.lists_overview(actor_of(request), partnership_id)
    return HighRiskListsOut(
        partnership_id=overview.partnership.pk,
        plan_list=_list(overview.plan_list, overview.plan_entries),
        practice_list=_list(overview.practice_list, overview.practice_entries),
        combined=[
            CombinedRowOut(
                position=position,
                patient=PatientRefOut(
                    id=row.patient.pk,
                    given_name=row.patient.given_name,
                    family_name=row.patient.family_name,
                    birth_date=row.patient.birth_date,
                ),
                on_lists=row.presence,
                plan_rank=row.plan_rank,
                practice_rank=row.practice_rank,
                plan_reasons=row.plan_reasons,
                practice_reasons=row.practice_reasons,
                attributed_to_practice=row.attributed_to_practice,
            )
            for position, row in enumerate(overview.combined, start=1)
        ],
        entries_not_shown=overview.hidden_entries,
        pending_match_reviews=overview.pending_reviews,
    )


@router.post(
    "/partnerships/{partnership_id}/high-risk-lists/entries",
    response={201: EntryOut, 400: ErrorOut},
    summary="Put a patient on your side's list",
    openapi_extra=_json_body(AddEntryIn),
)
def add_entry(request: HttpRequest, partnership_id: int) -> Status[EntryOut]:
    actor: Actor = actor_of(request)
    partnership = access.get_partnership_for_user(actor, partnership_id)
    plan_list, practice_list = actions.lists_of(partnership)
    own = plan_list if conference_access.is_plan_staff(actor, partnership) else practice_list
    payload: AddEntryIn = _body(request, AddEntryIn)
    patient = access.get_patient_for_user(actor, payload.patient_id)
    entry = actions.add_to_list(actor, own, patient, reasons=payload.reasons, rank=payload.rank)
    return Status(201, _entry(entry))


@router.post(
    "/high-risk-entries/{entry_id}/removal",
    response={200: EntryOut, 400: ErrorOut},
    summary="Take a patient off your side's list, saying why",
    openapi_extra=_json_body(RemovalIn),
)
def remove_entry(request: HttpRequest, entry_id: int) -> EntryOut:
    actor = actor_of(request)
    entry = conference_access.get_entry_for_user(actor, entry_id)
    payload: RemovalIn = _body(request, RemovalIn)
    return _entry(actions.remove_from_list(actor, entry, reason=payload.reason))


@router.post(
    "/partnerships/{partnership_id}/high-risk-lists/upload",
    response={200: UploadOut, 400: UploadErrorOut},
    summary="Upload the practice's list as CSV (the request body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def upload_list(
    request: HttpRequest, partnership_id: int, params: Query[UploadParams]
) -> Status[UploadOut | UploadErrorOut]:
    actor = actor_of(request)
    partnership = access.get_partnership_for_user(actor, partnership_id)
    _, practice_list = actions.lists_of(partnership)
    upload = actions.upload_practice_list(
        actor,
        practice_list,
        params.file_name,
        request.body,
        good_rows_only=params.good_rows_only,
    )
    if upload.outcome == UploadOutcome.REJECTED:
        return Status(
            400,
            UploadErrorOut(
                detail="Nothing was taken: correct the rows listed and upload the file again.",
                upload_id=upload.pk,
                errors=[RowErrorOut(**e) for e in upload.errors],
            ),
        )
    return Status(200, _upload(upload))


# --- Conference calls (seed 004, Attachment A, steps 3–5) ----------------------------------


class AgendaItemOut(Schema):
    id: int
    position: int
    patient: PatientRefOut
    kind: str
    reason: str
    added_by_organization: str
    urgent_note: str
    report_back_on: datetime.date | None
    needs_follow_up: bool


class ChecklistItemOut(Schema):
    side: str
    item: str
    label: str
    completed_by: str | None
    completed_at: datetime.datetime | None
    note: str


class ConferenceOut(Schema):
    id: int
    series_id: int
    partnership_id: int
    starts_at: datetime.datetime
    status: str
    agenda_size: int
    attending_pcps: list[str]
    agenda: list[AgendaItemOut]
    agenda_items_not_shown: int
    checklists: list[ChecklistItemOut]


class UrgentIn(BaseModel):
    patient_id: int
    note: str


class PreworkOut(Schema):
    agenda_item_id: int
    name: str
    birth_date: datetime.date
    contact: dict[str, str]
    last_admission: dict[str, Any] | None
    last_ed_visit: dict[str, Any] | None
    diagnoses: list[str]
    diagnostic_history: list[str]
    prescriptions: list[str]
    providers: dict[str, Any]
    plan_case_management: list[str]
    case_manager: str
    social_needs: list[str]
    primary_language: str
    plan_risk: dict[str, Any] | None
    medicaid_coverage_level: str


def _agenda_item(item: AgendaItem) -> AgendaItemOut:
    p = item.patient
    return AgendaItemOut(
        id=item.pk,
        position=item.position,
        patient=PatientRefOut(
            id=p.pk, given_name=p.given_name, family_name=p.family_name, birth_date=p.birth_date
        ),
        kind=item.kind,
        reason=item.reason,
        added_by_organization=item.added_by_organization.name,
        urgent_note=item.urgent_note,
        report_back_on=item.report_back_on,
        needs_follow_up=item.needs_follow_up,
    )


@router.get(
    "/conferences/{conference_id}",
    response=ConferenceOut,
    summary="A conference call: its agenda with the reason for each patient, and checklists",
    tags=["case conferences"],
)
def get_conference(request: HttpRequest, conference_id: int) -> ConferenceOut:
    page = prework.conference_page(actor_of(request), conference_id)
    c = page.conference
    return ConferenceOut(
        id=c.pk,
        series_id=c.series_id,
        partnership_id=page.partnership.pk,
        starts_at=c.starts_at,
        status=c.status,
        agenda_size=c.series.agenda_size,
        attending_pcps=[str(p) for p in page.attending_pcps],
        agenda=[_agenda_item(i) for i in page.items],
        agenda_items_not_shown=page.hidden_items,
        checklists=[
            ChecklistItemOut(
                side=side.side.name,
                item=row.item,
                label=row.label,
                completed_by=(
                    row.done.completed_by.get_full_name() or row.done.completed_by.username
                )
                if row.done
                else None,
                completed_at=row.done.completed_at if row.done else None,
                note=row.done.note if row.done else "",
            )
            for side in page.checklists
            for row in side.rows
        ],
    )


@router.get(
    "/agenda-items/{item_id}/prework",
    response=PreworkOut,
    summary="The pre-work packet of an agenda patient (seed 004 step 3, items i–xv)",
    tags=["case conferences"],
)
def get_prework(request: HttpRequest, item_id: int) -> PreworkOut:
    actor = actor_of(request)
    item = conference_access.get_agenda_item_for_user(actor, item_id)
    packet = prework.prework_packet(actor, item)
    return PreworkOut(agenda_item_id=item.pk, **asdict(packet))


@router.post(
    "/conferences/{conference_id}/urgent",
    response={201: AgendaItemOut, 400: ErrorOut},
    summary="Add a patient with urgent needs to a call (either side)",
    openapi_extra=_json_body(UrgentIn),
    tags=["case conferences"],
)
def add_urgent(request: HttpRequest, conference_id: int) -> Status[AgendaItemOut]:
    actor = actor_of(request)
    conference = conference_access.get_conference_for_user(actor, conference_id)
    payload: UrgentIn = _body(request, UrgentIn)
    patient = access.get_patient_for_user(actor, payload.patient_id)
    item = calls.add_urgent_patient(actor, conference, patient, payload.note)
    return Status(201, _agenda_item(item))
