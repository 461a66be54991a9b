"""Episodes from a plan's claims, for plans whose members' hospitals send no ADT feed.

The analytics hand-off (`caseboard analytics publish`) passes the rows of the
`recent_encounters` mart: one inpatient stay, ED visit or observation stay per row, with its
admission and discharge dates. Each becomes the same `Episode` a hospital feed would make,
with `source="claims"`, a timeline row for the admission and one for the discharge (their
`claim_id` naming the claims they come from), and a discharge alert. The rules:

- Scope: a row becomes an episode only for the patient who holds that member ID *from this
  plan* (as `publish` matches members); a member the plan's identifiers do not name is counted
  and skipped, so no other plan's or organization's patient ever gets an episode this way.
- Once only: the episode's `source_key` is `<plan id>:<encounter id>` (unique in the
  database), so the same marts published twice make each episode once; a later publication
  updates the dates, diagnosis and disposition when the claims changed (adjusted bills).
  A claims episode of the same plan and patient whose dates overlap a row's, and whose key
  the publication no longer carries, is that row's stay under a new key (an earlier interim
  bill moved its admission date) and takes the new key instead of being made twice.
- No duplicate of the hospital feed: when a hospital-feed (ADT) episode of the same patient,
  not cancelled, overlaps the row's dates (calendar days in the plan's zone; a stay with no
  discharge on record when it began on those days or the day before), the row describes
  that stay. It is linked (the
  ADT episode takes the row's `source_key` when it has none) and nothing else is written:
  the feed's own times, diagnoses and alerts stand. The facility is preferred but not
  required to agree, because a feed names the hospital by its sending-facility code and a
  claim by NPI, and a person is in one hospital at a time (the encounters mart already treats
  a transfer between hospitals as one stay).
- Alerts arrive late: claims come weeks after discharge, so the care manager of each active
  enrollment gets the same discharge alert and follow-up tasks as from the hospital feed only
  while a follow-up the rules set is still due (`rules.window_open`); past every deadline the
  alert is recorded without notice or task, so the transition measures still count the
  discharge (as one not followed up in time) and the timeline still shows the stay.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from caseboard.orgs.models import Organization
from caseboard.patients.models import IdentifierKind, PatientIdentifier
from caseboard.transitions.models import (
    SOURCE_KEY_LENGTH,
    AlertKind,
    Episode,
    EpisodeEvent,
    EpisodeSource,
    EpisodeStatus,
    PatientClass,
)
from caseboard.transitions.processing import alert_care_managers

# The mart's encounter types as HL7 table 0004 patient classes; an observation stay is an
# outpatient one.
CLASSES = {
    "inpatient": PatientClass.INPATIENT,
    "ed": PatientClass.EMERGENCY,
    "observation": PatientClass.OUTPATIENT,
}
# The HL7 v2 event each timeline row stands for: A01 admit, A04 register (emergency and
# outpatient), A03 discharge.
START_EVENTS = {"inpatient": "A01", "ed": "A04", "observation": "A04"}
START_WORDS = {
    "inpatient": "Admitted",
    "ed": "Seen in the emergency department",
    "observation": "Observation stay began",
}
UNKNOWN_FACILITY = "(facility not on the claim)"
# Claims carry days, not times: a day is stored as its noon in the plan's zone, which stays
# the same calendar day in every United States zone.
NOON = datetime.time(12)


class ClaimsEpisodeError(Exception):
    """A mart row that cannot become an episode; nothing of the publication is written."""

    def __init__(self, row: int, field: str, reason: str) -> None:
        self.row, self.field, self.reason = row, field, reason
        super().__init__(f"recent encounter row {row}, {field}: {reason}")


@dataclass
class ClaimsEpisodeResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows that describe a stay the hospital feed already reported.
    linked_to_hospital_feed: int = 0
    # Rows of members this plan's identifiers do not name.
    unmatched_members: int = 0
    # Rows whose stay is on record for another patient than the member ID now names.
    other_patient_on_record: int = 0
    alerts: int = 0
    episodes: list[Episode] = field(default_factory=list)


@dataclass(frozen=True)
class _Stay:
    number: int
    member_id: str
    key: str
    encounter_type: str
    admitted_on: datetime.date
    discharged_on: datetime.date
    facility: str
    diagnoses: list[dict[str, str]]
    disposition: str
    claim_ids: str


def _text(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _day(row: Mapping[str, Any], name: str, number: int) -> datetime.date | None:
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ClaimsEpisodeError(number, name, f"{value!r} is not a date") from None


def _stay(plan: Organization, number: int, row: Mapping[str, Any]) -> _Stay:
    encounter_id = _text(row, "encounter_id")
    if not encounter_id:
        raise ClaimsEpisodeError(number, "encounter_id", "is empty")
    member_id = _text(row, "member_id")
    if not member_id:
        raise ClaimsEpisodeError(number, "member_id", "is empty")
    kind = _text(row, "encounter_type")
    if kind not in CLASSES:
        raise ClaimsEpisodeError(
            number, "encounter_type", f"{kind!r} is not one of {', '.join(CLASSES)}"
        )
    admitted = _day(row, "admit_date", number)
    if admitted is None:
        raise ClaimsEpisodeError(number, "admit_date", "is empty")
    discharged = _day(row, "discharge_date", number) or admitted
    if discharged < admitted:
        raise ClaimsEpisodeError(
            number, "discharge_date", f"{discharged} is before the admission on {admitted}"
        )
    key = f"{plan.pk}:{encounter_id}"
    if len(key) > SOURCE_KEY_LENGTH:
        raise ClaimsEpisodeError(number, "encounter_id", "is too long to be a key")
    code = _text(row, "primary_diagnosis_code")
    diagnoses = (
        [{"code": code, "text": _text(row, "primary_diagnosis_text"), "system": "I10"}]
        if code
        else []
    )
    facility = _text(row, "facility_name") or _text(row, "facility_npi") or UNKNOWN_FACILITY
    claim_ids = row.get("claim_ids") or []
    return _Stay(
        number=number,
        member_id=member_id,
        key=key,
        encounter_type=kind,
        admitted_on=admitted,
        discharged_on=discharged,
        facility=facility[:180],
        diagnoses=diagnoses,
        disposition=_text(row, "discharge_disposition_code")[:32],
        claim_ids=(", ".join(str(c) for c in claim_ids) or encounter_id)[:300],
    )


def _overlapping(patient_id: int, first: datetime.datetime, last: datetime.datetime) -> Q:
    """Stays of the patient in hospital at some time between `first` and `last`. A stay with
    no discharge on record counts only when it began then or the day before: a feed that
    never sent the discharge must not swallow every later stay."""
    discharged = Q(discharged_at__gte=first)
    still_open = Q(discharged_at__isnull=True, admitted_at__gte=first - datetime.timedelta(days=1))
    return Q(patient_id=patient_id, admitted_at__lt=last) & (discharged | still_open)


def _hospital_feed_stay(
    stay: _Stay, patient_id: int, first: datetime.datetime, last: datetime.datetime
) -> Episode | None:
    candidates = list(
        Episode.objects.filter(_overlapping(patient_id, first, last), source=EpisodeSource.ADT)
        .exclude(status=EpisodeStatus.CANCELLED)
        .order_by("admitted_at", "pk")
    )
    same_place = [e for e in candidates if e.facility.casefold() == stay.facility.casefold()]
    return (same_place or candidates)[0] if candidates else None


def _events(episode: Episode, stay: _Stay) -> bool:
    """The admission and discharge rows of the timeline; True when one was written."""
    assert episode.admitted_at is not None and episode.discharged_at is not None
    reason = episode.diagnoses[0] if episode.diagnoses else None
    start_words = START_WORDS[stay.encounter_type]
    if reason:
        start_words = f"{start_words}: {reason['code']} {reason['text']}".strip()
    end_words = "Discharged" + (f" (disposition {stay.disposition})" if stay.disposition else "")
    wanted = [
        (START_EVENTS[stay.encounter_type], episode.admitted_at, start_words),
        ("A03", episode.discharged_at, end_words),
    ]
    existing = {e.trigger_event: e for e in episode.events.exclude(claim_id="")}
    wrote = False
    for trigger, at, words in wanted:
        event = existing.get(trigger)
        if event is None:
            event = EpisodeEvent(episode=episode, trigger_event=trigger)
        elif (event.occurred_at, event.summary[:300], event.claim_id) == (
            at,
            words[:300],
            stay.claim_ids,
        ):
            continue
        event.occurred_at, event.summary, event.claim_id = at, words[:300], stay.claim_ids
        event.save()
        wrote = True
    return wrote


def _apply(
    episode: Episode, stay: _Stay, first: datetime.datetime, last_day: datetime.datetime
) -> bool:
    """Set the stay's facts on the episode; True when any changed."""
    values = {
        "facility": stay.facility,
        "patient_class": CLASSES[stay.encounter_type],
        "admitted_at": first,
        "discharged_at": last_day,
        "status": EpisodeStatus.CLOSED,
        "diagnoses": stay.diagnoses,
        "discharge_disposition": stay.disposition,
        "source": EpisodeSource.CLAIMS,
        "source_key": stay.key,
    }
    changed = False
    for name, value in values.items():
        if getattr(episode, name) != value:
            setattr(episode, name, value)
            changed = True
    return changed


def episodes_from_claims(
    plan: Organization, rows: Iterable[Mapping[str, Any]]
) -> ClaimsEpisodeResult:
    """Create or update the episodes the plan's recent claims describe (see the module's
    rules). Every row is checked before anything is written: one bad row writes nothing."""
    if not plan.is_plan:
        raise ValueError(f"{plan.name} is not a health plan: claims come from a plan")
    stays = [_stay(plan, number, row) for number, row in enumerate(rows, start=1)]
    result = ClaimsEpisodeResult()
    if not stays:
        return result
    patient_of = dict(
        PatientIdentifier.objects.filter(
            organization=plan,
            kind=IdentifierKind.MEMBER_ID,
            value__in={s.member_id for s in stays},
        ).values_list("value", "patient_id")
    )
    zone = plan.zone
    keys = {s.key for s in stays}
    prefix = f"{plan.pk}:"
    with transaction.atomic():
        known = {e.source_key: e for e in Episode.objects.filter(source_key__in=keys)}
        for stay in stays:
            patient_id = patient_of.get(stay.member_id)
            if patient_id is None:
                result.unmatched_members += 1
                continue
            first = datetime.datetime.combine(stay.admitted_on, NOON, tzinfo=zone)
            last = datetime.datetime.combine(stay.discharged_on, NOON, tzinfo=zone)
            day_starts = datetime.datetime.combine(stay.admitted_on, datetime.time(), tzinfo=zone)
            day_ends = datetime.datetime.combine(
                stay.discharged_on + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
            )
            episode = known.get(stay.key)
            if episode is not None and episode.patient_id != patient_id:
                # The member ID now names someone else: a person decides, not the feed.
                result.other_patient_on_record += 1
                continue
            if episode is None:
                adt = _hospital_feed_stay(stay, patient_id, day_starts, day_ends)
                if adt is not None:
                    if not adt.source_key:
                        adt.source_key = stay.key
                        adt.save(update_fields=["source_key", "updated_at"])
                    result.linked_to_hospital_feed += 1
                    continue
                episode = (
                    Episode.objects.filter(
                        _overlapping(patient_id, day_starts, day_ends),
                        source=EpisodeSource.CLAIMS,
                        source_key__startswith=prefix,
                    )
                    .exclude(source_key__in=keys)
                    .order_by("admitted_at", "pk")
                    .first()
                )
            elif episode.source == EpisodeSource.ADT:
                result.linked_to_hospital_feed += 1
                continue
            created = episode is None
            if episode is None:
                episode = Episode(patient_id=patient_id)
            changed = _apply(episode, stay, first, last)
            if changed:
                episode.save()
            wrote = _events(episode, stay)
            if created:
                result.created += 1
            elif changed or wrote:
                result.updated += 1
            else:
                result.unchanged += 1
            result.episodes.append(episode)
            result.alerts += len(alert_care_managers(episode, AlertKind.DISCHARGE, last, late=True))
    return result
