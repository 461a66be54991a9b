"""The transitions API answers with the same access policy as the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from caseboard.audit.models import AuditEvent
from caseboard.transitions.models import InboundMessage
from caseboard.transitions.processing import process_message
from caseboard.transitions.receive import receive
from tests import factories as f
from tests.conftest import World, login
from tests.transitions.messages import adt


@pytest.fixture
def feed(world: World) -> World:
    world.plan.external_id = "PLANP"
    world.plan.save()
    world.patient_a.identifiers.filter(organization=world.plan).update(value="M9000001")
    return world


def deliver(message: str) -> InboundMessage:
    receipt = receive(message)
    assert receipt.message_id is not None
    return process_message(receipt.message_id)


def test_messages_and_episodes_of_a_visible_patient(feed: World, client: Client) -> None:
    member = "M9000001^^^PLANP^MB"
    deliver(adt("A01", identifiers=member, patient_class="I", visit_number="API1"))
    message = deliver(
        adt(
            "A03",
            identifiers=member,
            patient_class="I",
            visit_number="API1",
            discharged="20261105120000",
        )
    )
    login(client, feed.user_a)
    listed = client.get("/api/transitions/messages").json()
    assert {m["control_id"] for m in listed} >= {message.control_id}
    detail = client.get(f"/api/transitions/messages/{message.pk}").json()
    assert detail["raw"].startswith("MSH|")
    assert detail["ack"].startswith("MSH|")
    episodes = client.get(f"/api/patients/{feed.patient_a.pk}/episodes").json()
    assert len(episodes) == 1
    assert episodes[0]["status"] == "closed" and episodes[0]["source"] == "adt"
    assert [e["trigger_event"] for e in episodes[0]["events"]] == ["A01", "A03"]
    assert AuditEvent.objects.filter(patient_id=feed.patient_a.pk, action="view").exists()


def test_replay_is_for_administrators_and_only_of_failed_messages(
    feed: World, client: Client
) -> None:
    message = deliver(adt("A01", identifiers="M9000001^^^PLANP^MB"))
    staff = f.make_user(feed.practice_a)
    login(client, staff)
    assert client.post(f"/api/transitions/messages/{message.pk}/replay").status_code == 403
    login(client, feed.user_a)
    answer = client.post(f"/api/transitions/messages/{message.pk}/replay")
    assert answer.status_code == 400
    assert "only failed messages" in answer.json()["detail"]


def test_other_practices_message_is_not_found(feed: World, client: Client) -> None:
    message = deliver(adt("A01", identifiers="M9000001^^^PLANP^MB"))
    login(client, feed.user_b)
    assert client.get(f"/api/transitions/messages/{message.pk}").status_code == 404
    assert message.control_id not in str(client.get("/api/transitions/messages").json())
