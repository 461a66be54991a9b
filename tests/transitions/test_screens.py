"""The message log, a message's page with its replay button, and the review queue."""

from __future__ import annotations

import pytest
from django.test import Client

from caseboard.audit.models import AuditEvent
from caseboard.transitions.models import (
    Episode,
    InboundMessage,
    MessageStatus,
    PatientReview,
    ReviewStatus,
)
from caseboard.transitions.processing import process_message
from caseboard.transitions.receive import receive
from tests import factories as f
from tests.conftest import World, login
from tests.transitions.messages import adt


@pytest.fixture
def feed(world: World) -> World:
    world.plan.external_id = "PLANP"
    world.plan.save()
    world.patient_a.identifiers.filter(organization=world.plan).update(value="M8000001")
    return world


def deliver(message: str) -> InboundMessage:
    receipt = receive(message)
    assert receipt.message_id is not None
    return process_message(receipt.message_id)


def test_log_shows_own_patients_messages_not_unmatched_ones_to_a_practice(
    feed: World, client: Client
) -> None:
    mine = deliver(adt("A01", identifiers="M8000001^^^PLANP^MB", control_id="MINE1"))
    receive("garbage")
    login(client, feed.user_a)
    page = client.get("/transitions/messages/")
    assert page.status_code == 200
    assert b"MINE1" in page.content
    assert b"not matched" not in page.content
    assert AuditEvent.objects.filter(patient_id=mine.patient_id, action="view").exists()


def test_plan_admin_sees_rejected_messages_and_filters_by_status(
    feed: World, client: Client
) -> None:
    receive("garbage")
    deliver(adt("A01", identifiers="M8000001^^^PLANP^MB", control_id="OK1"))
    login(client, feed.plan_user)
    page = client.get("/transitions/messages/?status=rejected")
    assert b"Rejected" in page.content
    assert b"OK1" not in page.content


def test_message_page_shows_raw_ack_and_replays_a_dead_letter(
    feed: World, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caseboard.transitions import processing

    def broken(*args: object) -> None:
        raise RuntimeError("database was read-only")

    monkeypatch.setattr(processing, "apply_to_patient", broken)
    message = deliver(adt("A01", identifiers="M8000001^^^PLANP^MB", patient_class="I"))
    monkeypatch.undo()
    assert message.status == MessageStatus.DEAD_LETTER
    # The message failed before a patient was filed: only the plan's administrators see it.
    login(client, feed.plan_user)
    page = client.get(f"/transitions/messages/{message.pk}/")
    assert page.status_code == 200
    assert b"database was read-only" in page.content
    assert b"MSA|AA|" in page.content
    assert b"Replay this message" in page.content
    done = client.post(f"/transitions/messages/{message.pk}/replay/")
    assert done.status_code == 302
    message.refresh_from_db()
    assert message.status == MessageStatus.PROCESSED
    assert Episode.objects.filter(patient=feed.patient_a).exists()
    assert AuditEvent.objects.filter(action="update", object_id=str(message.pk)).exists()


def test_practice_cannot_open_a_message_about_another_practices_patient(
    feed: World, client: Client
) -> None:
    feed.patient_b.identifiers.filter(organization=feed.plan).update(value="M8000002")
    theirs = deliver(adt("A01", identifiers="M8000002^^^PLANP^MB", name="Brightwater^Beatrix"))
    assert theirs.patient == feed.patient_b
    login(client, feed.user_a)
    assert client.get(f"/transitions/messages/{theirs.pk}/").status_code == 404
    assert client.post(f"/transitions/messages/{theirs.pk}/replay/").status_code == 404


def test_review_queue_matches_a_message_to_the_chosen_patient(feed: World, client: Client) -> None:
    twin = f.make_patient(plan=feed.plan, practice=feed.practice_a, family_name="Alvarez")
    message = deliver(adt("A01", identifiers="H1^^^GENHOSP^MR", name="Alvarez^Maria", phone=""))
    review = PatientReview.objects.get(message=message)
    login(client, feed.user_a)
    queue = client.get("/transitions/reviews/")
    assert queue.status_code == 200
    assert f'value="{twin.pk}"'.encode() in queue.content
    url = f"/transitions/reviews/{review.pk}/decide/"
    refused = client.post(url, {"decision": "match"})
    assert refused.status_code == 400
    assert b"Choose which patient this is." in refused.content
    done = client.post(url, {"decision": "match", "patient_id": twin.pk})
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.MATCHED
    assert Episode.objects.get().patient == twin


def test_another_practice_does_not_see_the_review(feed: World, client: Client) -> None:
    f.make_patient(plan=feed.plan, practice=feed.practice_a, family_name="Alvarez")
    message = deliver(adt("A01", identifiers="H1^^^GENHOSP^MR", name="Alvarez^Maria", phone=""))
    review = PatientReview.objects.get(message=message)
    login(client, feed.user_b)
    assert b"Alvarez" not in client.get("/transitions/reviews/").content
    denied = client.post(f"/transitions/reviews/{review.pk}/decide/", {"decision": "dismiss"})
    assert denied.status_code == 404
