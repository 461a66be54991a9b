"""Nothing acknowledged is lost, nothing is processed twice: a sender streams 10,000 ADT messages
over loopback to `caseboard adt listen` running as its own process, which is killed (SIGKILL)
and restarted several times in the middle of the stream. The sender does what an interface
engine does: a message without an ACK is sent again, with the same control ID, once the
listener is back. Afterwards every message that got an AA is stored exactly once and processed
exactly once (one timeline event each), and nothing is left unprocessed.

The listener runs against a database of its own (a SQLite file, or a fresh PostgreSQL database
when the suite runs on PostgreSQL), migrated and seeded by the same commands an installation
uses, and the counts are read from that database with plain SQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from caseboard.transitions import hl7v2
from tests.transitions.messages import adt

MESSAGES = 10_000
PATIENTS = 40
# Where in the stream the listener is killed, after a message is written and before its ACK is
# read: at once (the message may not be stored yet), or once it is stored, its ACK lost with
# the sender's connection, so the sender sends it again.
KILL_AFTER = {1_500: False, 4_000: True, 6_500: False, 9_000: True}
ROOT = Path(__file__).resolve().parents[2]

SEED = """
import datetime
from caseboard.orgs.models import OrganizationKind
from tests import factories
plan = factories.make_org(OrganizationKind.HEALTH_PLAN, "Plan P")
plan.external_id = "PLANP"
plan.save()
practice = factories.make_org(OrganizationKind.PRACTICE, "Practice A")
for n in range({patients}):
    factories.make_patient(plan=plan, practice=practice, member_id=f"M{{n:07d}}")
"""


class Database:
    """The listener's own database, reached by URL from the subprocesses and by plain SQL."""

    def __init__(self, tmp_path: Path) -> None:
        base = os.environ.get("DATABASE_URL", "")
        self.postgres = base.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            self.name = f"caseboard_fault_{uuid.uuid4().hex[:8]}"
            self.admin = base.rsplit("/", 1)[0] + "/postgres"
            self.url = base.rsplit("/", 1)[0] + "/" + self.name
            self._admin(f'CREATE DATABASE "{self.name}"')
        else:
            self.file = tmp_path / "listener.sqlite3"
            self.url = f"sqlite:///{self.file}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            self.admin.replace("postgres://", "postgresql://"), autocommit=True
        ) as c:
            c.execute(sql)

    def drop(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        for attempt in range(50):
            try:
                if self.postgres:
                    import psycopg

                    with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as c:
                        return list(c.execute(sql).fetchall())
                import sqlite3

                with sqlite3.connect(self.file, timeout=30) as c:
                    return list(c.execute(sql).fetchall())
            except Exception:
                if attempt == 49:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "caseboard.settings.test",
            "PYTHONPATH": str(ROOT),
        }


def _caseboard(*args: str) -> list[str]:
    return [sys.executable, "-m", "caseboard", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ListenerProcess:
    def __init__(self, database: Database, port: int) -> None:
        self.database = database
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            _caseboard("adt", "listen", "--host", "127.0.0.1", "--port", str(self.port)),
            env=self.database.env(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the listener did not come up")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; its exit code (None if it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path)
    try:
        for command in (("migrate", "--no-input"), ("shell", "-c", SEED.format(patients=PATIENTS))):
            subprocess.run(
                _caseboard(*command), env=db.env(), cwd=ROOT, check=True, capture_output=True
            )
        yield db
    finally:
        db.drop()


def _messages() -> list[tuple[str, str]]:
    """(control ID, message): an ED registration and its discharge for each visit."""
    found = []
    for n in range(MESSAGES // 2):
        member = f"M{n % PATIENTS:07d}^^^PLANP^MB"
        day = 1 + n % 28
        visit = f"FV{n:06d}"
        for trigger, control in (("A04", f"F{n:06d}R"), ("A03", f"F{n:06d}D")):
            message = adt(
                trigger,
                control_id=control,
                identifiers=member,
                visit_number=visit,
                patient_class="E",
                admitted=f"202610{day:02d}0930",
                discharged=f"202610{day:02d}1430" if trigger == "A03" else "",
            )
            found.append((control, hl7v2.normalize(message)))
    return found


async def _until_stored(database: Database, control: str) -> None:
    # The control IDs are this test's own (F000123R): no quoting needed.
    sql = f"SELECT COUNT(*) FROM transitions_inboundmessage WHERE control_id = '{control}'"  # noqa: S608
    deadline = time.monotonic() + 60
    while not database.rows(sql)[0][0]:
        assert time.monotonic() < deadline, f"{control} was never stored"
        await asyncio.sleep(0.05)


async def _stream(listener: ListenerProcess, messages: list[tuple[str, str]]) -> dict[str, str]:
    """Send every message until it is acknowledged; returns the ACK code per control ID."""
    from hl7.mllp import open_hl7_connection

    acked: dict[str, str] = {}
    kills = dict(KILL_AFTER)
    connection: tuple[Any, Any] | None = None
    index = 0
    while index < len(messages):
        control, message = messages[index]
        try:
            if connection is None:
                connection = await open_hl7_connection("127.0.0.1", listener.port)
            reader, writer = connection
            writer.writeblock(message.encode("utf-8"))
            await writer.drain()
            if index in kills:
                stored_first = kills.pop(index)
                if stored_first:
                    await _until_stored(listener.database, control)
                listener.kill()  # the ACK of this message is never read
                listener.start()
                if stored_first:
                    # The ACK may have reached this socket before the kill; the connection
                    # drops it unread, as a sender whose link broke would never see it.
                    writer.close()
                    raise ConnectionResetError("ACK lost with the connection")
            block = await asyncio.wait_for(reader.readblock(), 10)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            connection = None
            await asyncio.sleep(0.05)
            continue  # the same message again, same control ID
        acked[control] = hl7v2.ack_code_of(block.decode("utf-8"))
        index += 1
    if connection is not None:
        connection[1].close()
    return acked


def test_every_acknowledged_message_is_stored_and_processed_exactly_once(
    database: Database,
) -> None:
    listener = ListenerProcess(database, _free_port())
    messages = _messages()
    listener.start()
    stopped: int | None = None
    try:
        # A thread of its own for the sender's loop: the browser tests' loop may already run in
        # this one.
        with ThreadPoolExecutor(max_workers=1) as sender:
            acked = sender.submit(asyncio.run, _stream(listener, messages)).result()
        deadline = time.monotonic() + 600
        while database.rows(
            "SELECT COUNT(*) FROM transitions_inboundmessage WHERE status = 'received'"
        )[0][0]:
            assert time.monotonic() < deadline, "messages still waiting to be processed"
            time.sleep(1)
    finally:
        stopped = listener.stop()

    assert stopped == 0, "SIGTERM should stop the listener cleanly"
    assert listener.starts == 1 + len(KILL_AFTER)
    assert len(acked) == MESSAGES and set(acked.values()) == {"AA"}
    stored = dict(
        database.rows(
            "SELECT control_id, COUNT(*) FROM transitions_inboundmessage"
            " WHERE status <> 'duplicate' GROUP BY control_id"
        )
    )
    assert set(stored) == set(acked), "an acknowledged message is missing"
    assert set(stored.values()) == {1}, "a message is stored twice"
    statuses = dict(
        database.rows("SELECT status, COUNT(*) FROM transitions_inboundmessage GROUP BY status")
    )
    assert statuses.get("processed") == MESSAGES, statuses
    # Processing leaves exactly one timeline event per message: none lost, none doubled.
    events = dict(
        database.rows(
            "SELECT m.control_id, COUNT(e.id) FROM transitions_inboundmessage m"
            " JOIN transitions_episodeevent e ON e.message_id = m.id GROUP BY m.control_id"
        )
    )
    assert set(events) == set(acked) and set(events.values()) == {1}
    episodes = database.rows("SELECT COUNT(*) FROM transitions_episode")[0][0]
    assert episodes == MESSAGES // 2
    attempts = database.rows(
        "SELECT MAX(attempts) FROM transitions_inboundmessage WHERE status = 'processed'"
    )[0][0]
    assert attempts == 1
    # A message stored before the kill came again: acknowledged, kept as a duplicate, not
    # processed (the checks above count only originals).
    assert statuses.get("duplicate", 0) >= 1
    print(
        f"{MESSAGES} messages acknowledged, {listener.starts - 1} kills;"
        f" duplicates kept: {statuses.get('duplicate', 0)}"
    )
