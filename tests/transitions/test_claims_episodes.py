"""Claims-based episodes: the analytics hand-off turns the plan's recent stays and ED visits into
the same episodes, timelines and follow-up work a hospital feed makes, once only."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caseboard.analytics.publish import PublishError, publish
from caseboard.care.models import Notification, Task
from caseboard.patients.models import Provider
from caseboard.transitions.measures import transition_measures
from caseboard.transitions.models import (
    AlertKind,
    Episode,
    EpisodeAlert,
    EpisodeEvent,
    EpisodeSource,
    EpisodeStatus,
)
from tests import factories as f
from tests.conftest import World, login
from tests.transitions.messages import MEMBER, deliver, member_message

pytestmark = pytest.mark.django_db

FACILITY_NPI = "1003000126"


def encounter(
    person: str,
    kind: str,
    admit: datetime.date,
    discharge: datetime.date,
    *,
    code: str | None = "I5023",
    text: str | None = "Acute on chronic systolic (congestive) heart failure",
    disposition: str | None = "01",
    claims: tuple[str, ...] = ("C100",),
) -> dict[str, Any]:
    prefix = {"inpatient": "IP", "ed": "ED", "observation": "OB"}.get(kind, "XX")
    return {
        "person_id": person,
        "encounter_id": f"{prefix}-{person}-{admit:%Y%m%d}",
        "encounter_type": kind,
        "admit_date": admit,
        "discharge_date": discharge,
        "facility_npi": FACILITY_NPI,
        "primary_diagnosis_code": code,
        "primary_diagnosis_text": text,
        "discharge_disposition_code": disposition,
        "claim_ids": list(claims),
    }


def write_marts(folder: Path, members: dict[str, str], rows: list[dict[str, Any]] | None) -> Path:
    """Marts as `caseboard analytics run` writes them, with only what this hand-off reads:
    no scores or rankings, the member index, and (unless None) recent encounters."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"as_of": "2026-11-20", "ranking_model": "V28"}))
    for name in ("risk_scores", "high_risk", "prework"):
        pl.DataFrame({"person_id": []}, schema={"person_id": pl.String}).write_parquet(
            folder / f"{name}.parquet"
        )
    pl.DataFrame(
        {"person_id": list(members), "member_id": list(members.values())},
        schema={"person_id": pl.String, "member_id": pl.String},
    ).write_parquet(folder / "member_index.parquet")
    if rows is not None:
        schema = {
            "person_id": pl.String,
            "encounter_id": pl.String,
            "encounter_type": pl.String,
            "admit_date": pl.Date,
            "discharge_date": pl.Date,
            "facility_npi": pl.String,
            "primary_diagnosis_code": pl.String,
            "primary_diagnosis_text": pl.String,
            "discharge_disposition_code": pl.String,
            "claim_ids": pl.List(pl.String),
        }
        pl.DataFrame(rows, schema=schema, orient="row").write_parquet(
            folder / "recent_encounters.parquet"
        )
    return folder


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def member_of(world: World) -> str:
    return world.patient_a.identifiers.get(organization=world.plan).value


def enroll_a(world: World) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)


def test_publish_makes_an_episode_with_its_timeline_from_the_mart(
    world: World, tmp_path: Path
) -> None:
    Provider.objects.create(npi=FACILITY_NPI, name="Mercy General Hospital")
    rows = [encounter("P1", "inpatient", days_ago(70), days_ago(66), claims=("C100", "C101"))]
    result = publish(write_marts(tmp_path, {"P1": member_of(world)}, rows), "Plan P")

    assert result.episodes is not None and result.episodes.created == 1
    episode = Episode.objects.get(patient=world.patient_a)
    assert episode.source == EpisodeSource.CLAIMS
    assert episode.source_key == f"{world.plan.pk}:IP-P1-{days_ago(70):%Y%m%d}"
    assert episode.facility == "Mercy General Hospital"
    assert episode.patient_class == "I"
    assert episode.status == EpisodeStatus.CLOSED
    zone = world.plan.zone
    assert episode.admitted_at is not None and episode.discharged_at is not None
    assert episode.admitted_at.astimezone(zone).date() == days_ago(70)
    assert episode.discharged_at.astimezone(zone).date() == days_ago(66)
    assert episode.diagnoses == [
        {
            "code": "I5023",
            "text": "Acute on chronic systolic (congestive) heart failure",
            "system": "I10",
        }
    ]
    assert episode.discharge_disposition == "01"
    events = list(episode.events.all())
    assert [(e.trigger_event, e.claim_id, e.message_id) for e in events] == [
        ("A01", "C100, C101", None),
        ("A03", "C100, C101", None),
    ]
    assert events[0].summary.startswith("Admitted: I5023 Acute on chronic systolic")
    assert events[1].summary == "Discharged (disposition 01)"


def test_an_ed_visit_becomes_an_emergency_episode(world: World, tmp_path: Path) -> None:
    rows = [encounter("P1", "ed", days_ago(40), days_ago(40), code=None, text=None)]
    publish(write_marts(tmp_path, {"P1": member_of(world)}, rows), "Plan P")
    episode = Episode.objects.get(patient=world.patient_a)
    assert episode.patient_class == "E"
    assert episode.facility == FACILITY_NPI  # no name known for the NPI
    assert episode.diagnoses == []
    assert [e.trigger_event for e in episode.events.all()] == ["A04", "A03"]


def test_publishing_twice_creates_nothing_twice(world: World, tmp_path: Path) -> None:
    enroll_a(world)
    rows = [
        encounter("P1", "inpatient", days_ago(3), days_ago(1)),
        encounter("P1", "ed", days_ago(90), days_ago(90), claims=("C200",)),
    ]
    marts = write_marts(tmp_path, {"P1": member_of(world)}, rows)
    publish(marts, "Plan P")

    def counts() -> tuple[int, ...]:
        return (
            Episode.objects.count(),
            EpisodeEvent.objects.count(),
            EpisodeAlert.objects.count(),
            Task.objects.count(),
            Notification.objects.count(),
        )

    first = counts()
    assert first[:3] == (2, 4, 2)
    stamps = list(Episode.objects.order_by("pk").values_list("updated_at", flat=True))
    again = publish(marts, "Plan P")
    assert counts() == first
    assert again.episodes is not None
    assert (again.episodes.created, again.episodes.updated, again.episodes.unchanged) == (0, 0, 2)
    assert list(Episode.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_a_corrected_claim_updates_the_episode_it_made(world: World, tmp_path: Path) -> None:
    member = {"P1": member_of(world)}
    publish(
        write_marts(tmp_path, member, [encounter("P1", "inpatient", days_ago(80), days_ago(76))]),
        "Plan P",
    )
    # An interim bill arrives: the stay ran two more days, and another disposition.
    later = [encounter("P1", "inpatient", days_ago(80), days_ago(74), disposition="06")]
    result = publish(write_marts(tmp_path, member, later), "Plan P")
    assert result.episodes is not None and result.episodes.updated == 1
    episode = Episode.objects.get(patient=world.patient_a)
    assert episode.discharged_at is not None
    assert episode.discharged_at.astimezone(world.plan.zone).date() == days_ago(74)
    assert episode.discharge_disposition == "06"
    discharge = episode.events.get(trigger_event="A03")
    assert discharge.occurred_at == episode.discharged_at
    assert discharge.summary == "Discharged (disposition 06)"


def test_an_earlier_admission_date_moves_the_episode_to_the_new_key(
    world: World, tmp_path: Path
) -> None:
    member = {"P1": member_of(world)}
    publish(
        write_marts(tmp_path, member, [encounter("P1", "inpatient", days_ago(80), days_ago(76))]),
        "Plan P",
    )
    earlier = [encounter("P1", "inpatient", days_ago(82), days_ago(76))]
    publish(write_marts(tmp_path, member, earlier), "Plan P")
    episode = Episode.objects.get(patient=world.patient_a)
    assert episode.source_key.endswith(f"IP-P1-{days_ago(82):%Y%m%d}")
    assert episode.events.count() == 2


def test_a_stay_the_hospital_feed_reported_is_not_duplicated(feed: World, tmp_path: Path) -> None:
    deliver(member_message("A01", patient_class="I", visit_number="V9", admitted="20261102093000"))
    deliver(
        member_message(
            "A03",
            patient_class="I",
            visit_number="V9",
            admitted="20261102093000",
            discharged="20261106110000",
        )
    )
    hospital = Episode.objects.get(patient=feed.patient_a)
    events = hospital.events.count()
    rows = [
        # The same stay as the plan paid it (NPI, not the feed's facility code).
        encounter("P1", "inpatient", datetime.date(2026, 11, 2), datetime.date(2026, 11, 6)),
        # An ED visit the feed never reported.
        encounter("P1", "ed", datetime.date(2026, 10, 1), datetime.date(2026, 10, 1)),
    ]
    marts = write_marts(tmp_path, {"P1": MEMBER}, rows)
    result = publish(marts, "Plan P")
    assert result.episodes is not None
    assert (result.episodes.created, result.episodes.linked_to_hospital_feed) == (1, 1)
    publish(marts, "Plan P")

    episodes = Episode.objects.filter(patient=feed.patient_a)
    assert episodes.count() == 2
    hospital.refresh_from_db()
    assert hospital.source == EpisodeSource.ADT
    assert hospital.source_key == f"{feed.plan.pk}:IP-P1-20261102"
    assert hospital.facility == "GENHOSP" and hospital.events.count() == events
    assert episodes.get(source=EpisodeSource.CLAIMS).patient_class == "E"


def test_a_cancelled_hospital_feed_stay_does_not_hide_the_claim(
    feed: World, tmp_path: Path
) -> None:
    deliver(member_message("A01", patient_class="I", visit_number="V9", admitted="20261102093000"))
    deliver(member_message("A11", patient_class="I", visit_number="V9", admitted="20261102093000"))
    rows = [encounter("P1", "inpatient", datetime.date(2026, 11, 2), datetime.date(2026, 11, 6))]
    publish(write_marts(tmp_path, {"P1": MEMBER}, rows), "Plan P")
    assert Episode.objects.filter(patient=feed.patient_a, source=EpisodeSource.CLAIMS).count() == 1


def test_a_recent_discharge_alerts_the_care_manager_with_follow_up_tasks(
    world: World, tmp_path: Path
) -> None:
    enroll_a(world)
    rows = [encounter("P1", "inpatient", days_ago(4), days_ago(1))]
    publish(write_marts(tmp_path, {"P1": member_of(world)}, rows), "Plan P")
    alert = EpisodeAlert.objects.get()
    assert alert.kind == AlertKind.DISCHARGE
    assert alert.organization == world.practice_a and alert.recipient == world.user_a
    assert alert.task is not None
    titles = sorted(Task.objects.filter(patient=world.patient_a).values_list("title", flat=True))
    assert titles == [
        "Post-discharge contact (transitional care)",
        "Post-discharge visit within 14 days (CPT 99495)",
    ]
    notice = Notification.objects.get(user=world.user_a)
    assert "(from the plan's claims)" in notice.body


def test_an_old_discharge_is_recorded_without_a_task(world: World, tmp_path: Path) -> None:
    enroll_a(world)
    rows = [encounter("P1", "ed", days_ago(45), days_ago(45))]
    publish(write_marts(tmp_path, {"P1": member_of(world)}, rows), "Plan P")
    alert = EpisodeAlert.objects.get()
    assert alert.task is None
    assert not Task.objects.filter(patient=world.patient_a).exists()
    assert not Notification.objects.filter(user=world.user_a).exists()
    # The measure still counts the ED visit, as one not followed up in time.
    measures = transition_measures(f.actor_for(world.user_a, world.practice_a))
    assert [(r.setting, r.discharges, r.in_window) for r in measures.follow_up] == [
        ("ED visits", 1, 0)
    ]


def test_members_of_another_plan_never_get_episodes(world: World, tmp_path: Path) -> None:
    # Patient C is Plan Q's member; Plan P's claims name the same member ID string.
    their_id = world.patient_c.identifiers.get(organization=world.plan_q).value
    rows = [
        encounter("P9", "inpatient", days_ago(20), days_ago(18)),
        encounter("P1", "inpatient", days_ago(20), days_ago(18)),
    ]
    result = publish(
        write_marts(tmp_path, {"P9": their_id, "P1": member_of(world)}, rows), "Plan P"
    )
    assert result.episodes is not None
    assert (result.episodes.created, result.episodes.unmatched_members) == (1, 1)
    assert not Episode.objects.filter(patient=world.patient_c).exists()
    assert Episode.objects.get().patient == world.patient_a
    # Plan Q publishing Plan P's member's claims reaches nobody either.
    publish(write_marts(tmp_path / "q", {"P1": member_of(world)}, rows[1:]), "Plan Q")
    assert Episode.objects.count() == 1


def test_a_bad_row_is_named_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    rows = [
        encounter("P1", "inpatient", days_ago(20), days_ago(18)),
        encounter("P1", "dental", days_ago(10), days_ago(10)),
    ]
    with pytest.raises(PublishError, match="row 2, encounter_type: 'dental' is not one of"):
        publish(write_marts(tmp_path, {"P1": member_of(world)}, rows), "Plan P")
    backwards = [encounter("P1", "inpatient", days_ago(10), days_ago(12))]
    with pytest.raises(PublishError, match=r"row 1, discharge_date: .* is before the admission"):
        publish(write_marts(tmp_path, {"P1": member_of(world)}, backwards), "Plan P")
    assert not Episode.objects.exists()


def test_marts_made_before_recent_encounters_still_publish(world: World, tmp_path: Path) -> None:
    result = publish(write_marts(tmp_path, {"P1": member_of(world)}, None), "Plan P")
    assert result.episodes is None
    assert result.publication.members_matched == 1
    assert not Episode.objects.exists()


def test_profile_and_inbox_show_the_episode_is_from_claims(world: World, tmp_path: Path) -> None:
    enroll_a(world)
    Provider.objects.create(npi=FACILITY_NPI, name="Mercy General Hospital")
    admitted, discharged = days_ago(3), days_ago(1)
    rows = [encounter("P1", "inpatient", admitted, discharged, claims=("C777",))]
    publish(write_marts(tmp_path, {"P1": member_of(world)}, rows), "Plan P")
    client = login(Client(), world.user_a)

    profile = client.get(reverse("patient_profile", args=[world.patient_a.pk])).content.decode()
    assert "Mercy General Hospital" in profile
    assert 'data-testid="episode-source">from claims<' in profile
    assert f"{admitted:%Y-%m-%d} → {discharged:%Y-%m-%d} (claim dates)" in profile
    assert "(claim C777)" in profile

    inbox = client.get(reverse("transitions_inbox")).content.decode()
    assert 'data-testid="episode-source">from claims<' in inbox
    assert f"<td>{discharged:%Y-%m-%d}</td>" in inbox


def test_a_member_id_now_naming_someone_else_leaves_the_stay_alone(
    world: World, tmp_path: Path
) -> None:
    member = member_of(world)
    marts = write_marts(tmp_path, {"P1": member}, [encounter("P1", "ed", days_ago(9), days_ago(9))])
    publish(marts, "Plan P")
    world.patient_a.identifiers.filter(organization=world.plan).update(value="RETIRED")
    world.patient_b.identifiers.filter(organization=world.plan).update(value=member)
    result = publish(marts, "Plan P")
    assert result.episodes is not None and result.episodes.other_patient_on_record == 1
    assert Episode.objects.get().patient == world.patient_a
