"""Messages of one stay become one episode; unclear people wait for review; an enrolled
patient's care manager is told once per admission or discharge, with follow-up tasks."""

from __future__ import annotations

import datetime

import pytest

from caseboard.care.models import Notification, Task
from caseboard.transitions import actions
from caseboard.transitions.models import (
    AlertKind,
    Episode,
    EpisodeAlert,
    EpisodeStatus,
    MessageStatus,
    PatientReview,
    ReviewStatus,
)
from tests import factories as f
from tests.conftest import World
from tests.transitions.messages import adt, deliver, member_message

# --- Episodes -----------------------------------------------------------------------------


def test_ed_visit_then_admission_within_36_hours_is_one_episode(feed: World) -> None:
    deliver(member_message("A04", patient_class="E", visit_number="", admitted="20261102093000"))
    deliver(member_message("A01", patient_class="I", visit_number="", admitted="20261103080000"))
    episode = Episode.objects.get(patient=feed.patient_a)
    assert episode.patient_class == "I"
    assert episode.status == EpisodeStatus.OPEN
    assert [e.trigger_event for e in episode.events.all()] == ["A04", "A01"]


def test_ed_visit_and_admission_three_days_apart_are_two_episodes(feed: World) -> None:
    deliver(member_message("A04", patient_class="E", visit_number="", admitted="20261102093000"))
    deliver(member_message("A01", patient_class="I", visit_number="", admitted="20261105080000"))
    assert Episode.objects.filter(patient=feed.patient_a).count() == 2


def test_same_visit_number_groups_admission_and_discharge(feed: World) -> None:
    deliver(member_message("A01", patient_class="I", visit_number="V9"))
    message = deliver(
        member_message(
            "A03",
            patient_class="I",
            visit_number="V9",
            discharged="20261106110000",
            disposition="01",
        )
    )
    assert message.status == MessageStatus.PROCESSED
    episode = Episode.objects.get(patient=feed.patient_a)
    assert episode.status == EpisodeStatus.CLOSED
    assert episode.discharged_at == datetime.datetime(2026, 11, 6, 16, 0, tzinfo=datetime.UTC)
    assert episode.discharge_disposition == "01"


def test_a08_updates_the_episode_diagnoses_and_class(feed: World) -> None:
    deliver(member_message("A04", patient_class="E", visit_number="V10"))
    deliver(
        member_message(
            "A08",
            patient_class="E",
            visit_number="V10",
            diagnoses=(("J44.1", "COPD with exacerbation"),),
        )
    )
    episode = Episode.objects.get(patient=feed.patient_a)
    assert episode.diagnoses == [
        {"code": "J44.1", "text": "COPD with exacerbation", "system": "I10"}
    ]
    assert episode.events.count() == 2


def test_a11_cancels_the_admission(feed: World) -> None:
    deliver(member_message("A01", patient_class="I", visit_number="V11"))
    deliver(member_message("A11", patient_class="I", visit_number="V11"))
    assert Episode.objects.get(patient=feed.patient_a).status == EpisodeStatus.CANCELLED


def test_a13_reopens_a_discharged_stay(feed: World) -> None:
    deliver(member_message("A01", patient_class="I", visit_number="V12"))
    deliver(member_message("A03", patient_class="I", visit_number="V12", discharged="20261104"))
    deliver(member_message("A13", patient_class="I", visit_number="V12"))
    episode = Episode.objects.get(patient=feed.patient_a)
    assert episode.status == EpisodeStatus.OPEN
    assert episode.discharged_at is None


def test_a40_moves_the_retired_patients_stays_to_the_survivor(feed: World) -> None:
    other = feed.patient_b
    other.identifiers.filter(organization=feed.plan).update(value="M7000002")
    deliver(
        adt(
            "A01", identifiers="M7000002^^^PLANP^MB", name="Brightwater^Beatrix", visit_number="V13"
        )
    )
    assert Episode.objects.filter(patient=other).count() == 1
    deliver(member_message("A40", merged="M7000002^^^PLANP^MB"))
    assert Episode.objects.filter(patient=feed.patient_a).count() == 1
    assert not Episode.objects.filter(patient=other).exists()


# --- Matching and review ------------------------------------------------------------------


def test_two_equally_likely_patients_go_to_review_not_a_guess(feed: World) -> None:
    twin = f.make_patient(plan=feed.plan, practice=feed.practice_a, family_name="Alvarez")
    message = deliver(adt("A01", identifiers="H1^^^GENHOSP^MR", name="Alvarez^Maria", phone=""))
    assert message.status == MessageStatus.REVIEW
    assert message.patient is None
    review = PatientReview.objects.get(message=message)
    assert review.matcher_status == "ambiguous"
    best_two = {c["patient_id"] for c in review.candidates[:2]}
    assert best_two == {feed.patient_a.pk, twin.pk}
    assert not Episode.objects.exists()

    actor = f.actor_for(feed.user_a)
    done = actions.resolve_review(actor, review, feed.patient_a)
    assert done.status == MessageStatus.PROCESSED
    assert done.patient == feed.patient_a
    review.refresh_from_db()
    assert review.status == ReviewStatus.MATCHED
    assert Episode.objects.get().patient == feed.patient_a


def test_unknown_person_waits_for_review_and_can_be_dismissed(feed: World) -> None:
    message = deliver(
        adt(
            "A01",
            identifiers="H9^^^GENHOSP^MR",
            name="Nobody^Nemo",
            birth_date="19450101",
            phone="",
        )
    )
    review = PatientReview.objects.get(message=message)
    assert review.matcher_status == "unmatched"
    dismissed = actions.dismiss_review(f.actor_for(feed.plan_user), review)
    assert dismissed.status == MessageStatus.PROCESSED
    assert not Episode.objects.exists()


def test_practice_cannot_dismiss_a_review_without_its_patients(feed: World) -> None:
    message = deliver(
        adt(
            "A01",
            identifiers="H9^^^GENHOSP^MR",
            name="Nobody^Nemo",
            birth_date="19450101",
            phone="",
        )
    )
    review = PatientReview.objects.get(message=message)
    from django.http import Http404

    with pytest.raises(Http404):
        actions.dismiss_review(f.actor_for(feed.user_a), review)


# --- Dead letter and replay ----------------------------------------------------------------


def test_failed_processing_goes_to_dead_letter_and_replays(
    feed: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caseboard.transitions import processing

    def broken(*args: object) -> None:
        raise RuntimeError("episode store unavailable")

    monkeypatch.setattr(processing, "apply_to_patient", broken)
    message = deliver(member_message("A01", patient_class="I", visit_number="V20"))
    assert message.status == MessageStatus.DEAD_LETTER
    assert "episode store unavailable" in message.error
    monkeypatch.undo()

    plan_admin = f.actor_for(feed.plan_user)
    replayed = actions.replay(plan_admin, message)
    assert replayed.status == MessageStatus.PROCESSED
    assert replayed.attempts == 2
    assert Episode.objects.filter(patient=feed.patient_a, visit_number="V20").exists()


# --- Alerts and follow-up ----------------------------------------------------------------


def test_inpatient_discharge_alerts_care_manager_with_tcm_tasks(feed: World) -> None:
    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    deliver(member_message("A01", patient_class="I", visit_number="V30", admitted="20261120100000"))
    # Discharged Tuesday 24 November 2026; Thanksgiving is Thursday the 26th.
    discharge = member_message(
        "A03",
        patient_class="I",
        visit_number="V30",
        discharged="20261124150000",
        event_time="20261124150000",
    )
    deliver(discharge)
    deliver(
        member_message("A08", patient_class="I", visit_number="V30", discharged="20261124150000")
    )
    episode = Episode.objects.get(patient=feed.patient_a)
    assert set(EpisodeAlert.objects.values_list("kind", flat=True)) == {
        AlertKind.ADMISSION,
        AlertKind.DISCHARGE,
    }
    notes = Notification.objects.filter(user=feed.user_a, kind="adt")
    assert notes.count() == 2
    for note in notes:
        assert "Alvarez" not in note.title
        assert "Alvarez" in note.body
    tasks = {t.title: t for t in Task.objects.filter(patient=feed.patient_a, source="alert")}
    contact = tasks["Post-discharge contact (transitional care)"]
    # Two business days after Tuesday: Wednesday, then Friday (Thursday is Thanksgiving).
    assert contact.due_on == datetime.date(2026, 11, 27)
    assert contact.owner_user == feed.user_a
    visit = tasks["Post-discharge visit within 14 days (CPT 99495)"]
    assert visit.due_on == datetime.date(2026, 12, 8)
    assert episode.alerts.count() == 2


def test_ed_discharge_of_high_acuity_patient(feed: World) -> None:
    enrollment = f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    enrollment.acuity = "high"
    enrollment.save()
    deliver(member_message("A04", patient_class="E", visit_number="V31", admitted="20261204100000"))
    deliver(
        member_message(
            "A03",
            patient_class="E",
            visit_number="V31",
            discharged="20261204180000",
            event_time="20261204180000",
        )
    )
    titles = dict(
        Task.objects.filter(patient=feed.patient_a, source="alert").values_list("title", "due_on")
    )
    # Friday 4 December: Monday, then Tuesday.
    assert titles["Follow up after emergency visit"] == datetime.date(2026, 12, 8)
    assert "Post-discharge contact (transitional care)" not in titles


def test_no_alert_without_an_open_enrollment(feed: World) -> None:
    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a, status="graduated")
    deliver(member_message("A03", patient_class="I", visit_number="V32", discharged="20261110"))
    assert not EpisodeAlert.objects.exists()
    assert not Task.objects.exists()


def test_monitor_enrollment_is_alerted_too(feed: World) -> None:
    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a, status="monitor")
    deliver(member_message("A01", patient_class="I", visit_number="V33"))
    assert EpisodeAlert.objects.filter(kind=AlertKind.ADMISSION).count() == 1


def test_a11_withdraws_the_admission_alert_and_its_follow_up(feed: World) -> None:
    f.make_enrollment(feed.patient_a, feed.practice_a, feed.user_a)
    deliver(member_message("A01", patient_class="I", visit_number="V77", admitted="20261120100000"))
    alert = EpisodeAlert.objects.get(kind=AlertKind.ADMISSION)
    assert alert.task is not None and alert.task.is_open
    deliver(member_message("A11", patient_class="I", visit_number="V77"))
    alert.task.refresh_from_db()
    assert alert.task.status == "cancelled"
    assert "A11" in alert.task.outcome
    told = Notification.objects.filter(user=feed.user_a, title="A hospital admission was cancelled")
    assert told.count() == 1 and "Alvarez" in told.get().body
    assert Episode.objects.get(patient=feed.patient_a).status == EpisodeStatus.CANCELLED
