"""A real MLLP listener on 127.0.0.1: round trip, many concurrent senders, the send command."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from io import StringIO
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.core.management import call_command

from caseboard.transitions import hl7v2
from caseboard.transitions.listener import Listener, send
from caseboard.transitions.models import Episode, InboundMessage, MessageStatus
from tests.transitions.messages import adt

pytestmark = pytest.mark.django_db(transaction=True)
T = TypeVar("T")


class Running:
    """A listener serving on an ephemeral port in its own thread and event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.listener = Listener()
        self.port = 0
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self.listener.start("127.0.0.1", 0), self.loop)
        future.result(timeout=10)
        self.port = self.listener.port
        return self

    def drain(self) -> None:
        asyncio.run_coroutine_threadsafe(self.listener.drain(), self.loop).result(timeout=60)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a client coroutine on the listener's loop: the test's own thread may already
        have a loop running (Playwright's, when the browser tests ran first)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.listener.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def running() -> Iterator[Running]:
    with Running() as server:
        yield server


def test_round_trip_over_mllp_stores_and_acknowledges(running: Running) -> None:
    acks = running.run(send([adt("A01", control_id="RT1"), "garbage"], "127.0.0.1", running.port))
    assert [hl7v2.ack_code_of(a) for a in acks] == ["AA", "AE"]
    assert "MSA|AA|RT1" in acks[0]
    running.drain()
    stored = InboundMessage.objects.get(control_id="RT1")
    # Nobody matches the test message's patient here, so it waits for a person.
    assert stored.status == MessageStatus.REVIEW
    assert InboundMessage.objects.filter(status=MessageStatus.REJECTED).count() == 1


def test_many_concurrent_connections_are_all_acknowledged_and_stored_once(
    running: Running,
) -> None:
    senders = 25

    async def everyone() -> list[list[str]]:
        batches = [
            [adt("A04", control_id=f"C{n}-1"), adt("A08", control_id=f"C{n}-2")]
            for n in range(senders)
        ]
        # Each sender also resends its first message, as after a lost ACK.
        for batch in batches:
            batch.append(batch[0])
        return await asyncio.gather(*(send(b, "127.0.0.1", running.port) for b in batches))

    results = running.run(everyone())
    assert all(hl7v2.ack_code_of(a) == "AA" for acks in results for a in acks)
    assert len(results) == senders
    running.drain()
    originals = InboundMessage.objects.exclude(status=MessageStatus.DUPLICATE)
    assert originals.count() == senders * 2
    assert originals.values("control_id").distinct().count() == senders * 2
    assert InboundMessage.objects.filter(status=MessageStatus.DUPLICATE).count() == senders


def test_send_command_replays_a_file_and_prints_each_ack(running: Running, tmp_path: Path) -> None:
    file = tmp_path / "feed.hl7"
    first = adt("A01", control_id="F1").replace("\r", "\n")
    second = adt("A03", control_id="F2", discharged="20261103120000").replace("\r", "\n")
    file.write_text(f"{first}\n{second}")
    out = StringIO()
    # The command runs its own event loop, so it gets a thread without one.
    command = threading.Thread(
        target=call_command,
        args=("adt", "send", str(file), "--host", "127.0.0.1", "--port", str(running.port)),
        kwargs={"stdout": out},
    )
    command.start()
    command.join(timeout=60)
    printed = out.getvalue()
    assert "Message 1: AA" in printed
    assert "Message 2: AA" in printed
    assert "MSA|AA|F2" in printed
    assert "2 of 2 accepted." in printed
    # Processing first: on SQLite the listener's writes and this read take turns.
    running.drain()
    assert set(InboundMessage.objects.values_list("control_id", flat=True)) == {"F1", "F2"}
    assert not Episode.objects.exists()
