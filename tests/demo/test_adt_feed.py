"""The demo's hospital feed: realistic stays for the demo members, with the corrections,
repeats, unknown people and broken messages real feeds carry, all taken in by the receiving
end as it takes any feed."""

from __future__ import annotations

import datetime

import pytest
from tests.demo.test_demo_care import _rank_every_attributed_member

from caseboard.care.models import Notification, Task, TaskSource
from caseboard.demo.adt_feed import build_feed
from caseboard.demo.care import load_care
from caseboard.demo.load import load_population
from caseboard.demo.population import Population, generate
from caseboard.orgs.models import Organization, OrganizationKind
from caseboard.transitions import hl7v2
from caseboard.transitions.models import (
    Episode,
    EpisodeStatus,
    InboundMessage,
    MessageStatus,
    PatientReview,
)
from caseboard.transitions.processing import process_message
from caseboard.transitions.receive import receive


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(members=600, seed=7)


@pytest.mark.django_db
def test_the_demo_feed_becomes_episodes_alerts_and_reviews(population: Population) -> None:
    load_population(population)
    _rank_every_attributed_member(Organization.objects.get(kind=OrganizationKind.HEALTH_PLAN))
    load_care(seed=3, per_practice=10)
    feed = build_feed(seed=5)
    text = feed.text()
    messages = hl7v2.split_messages(text)
    assert len(messages) == len(feed.messages)
    assert {"admission cancelled", "discharge cancelled", "repeated after a lost ACK"} <= set(
        feed.counts
    )
    codes = []
    for message in messages:
        receipt = receive(message)
        codes.append(hl7v2.ack_code_of(receipt.ack))
        if receipt.to_process and receipt.message_id is not None:
            process_message(receipt.message_id)
    broken = feed.counts["malformed"] + feed.counts["unsupported"]
    assert codes.count("AA") == len(messages) - broken
    assert {c for c in codes if c != "AA"} <= {"AE", "AR"}
    statuses = dict(
        (s, InboundMessage.objects.filter(status=s).count()) for s in MessageStatus.values
    )
    assert statuses[MessageStatus.DUPLICATE] == feed.counts["repeated after a lost ACK"]
    assert statuses[MessageStatus.REJECTED] == broken
    assert statuses[MessageStatus.DEAD_LETTER] == 0
    assert PatientReview.objects.exists()
    # Stays are grouped: a visit's A04/A06/A08/A03 make one episode, and the cancelled
    # admission is no longer an open stay.
    visits = {m.split("PV1|")[1].split("|")[18] for m in messages if "PV1|" in m}
    matched = Episode.objects.count()
    assert 0 < matched <= len(visits)
    assert Episode.objects.filter(status=EpisodeStatus.CANCELLED).exists()
    # Care managers heard of their patients' stays and have follow-up tasks, dated from now.
    assert Notification.objects.filter(kind="adt").exists()
    tasks = Task.objects.filter(source=TaskSource.ALERT)
    assert tasks.exists()
    assert min(t.due_on for t in tasks) >= datetime.date.today() - datetime.timedelta(days=3)
