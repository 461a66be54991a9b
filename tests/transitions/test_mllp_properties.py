"""Whatever arrives, the listener answers or hangs up, keeps serving, and stores nothing half.

Property-based (Hypothesis): arbitrary bytes, MLLP frames cut short, and ADT messages with
malformed segments. Every stored `InboundMessage` must be either a complete message that reads
as an ADT message and was acknowledged AA, or a rejected one with its reason, acknowledged AE
or AR with that reason (the rules of `caseboard.transitions.receive`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn

from caseboard.transitions import hl7v2
from caseboard.transitions.models import InboundMessage, MessageStatus
from caseboard.transitions.receive import receive
from tests.transitions.messages import adt
from tests.transitions.test_mllp_listener import Running

START, END = b"\x0b", b"\x1c\r"
TRIGGERS = ("A01", "A02", "A03", "A04", "A08", "A11", "A13", "A40", "A99", "")
# Text a hospital feed could garble a field into: separators, escapes, control characters,
# non-ASCII letters.
NOISE = st.text(
    alphabet=st.sampled_from(list("|^~\\&\r\n\x00\x0b\x1c #ABCmsh019.+-éß€"))
    | st.characters(codec="utf-8"),
    max_size=12,
)


@st.composite
def malformed(draw: DrawFn) -> str:
    """A well-built ADT message, then a few of: a segment dropped, doubled or reordered, a
    field replaced by noise, noise inserted anywhere, the message cut short."""
    trigger = draw(st.sampled_from(TRIGGERS))
    text = adt(
        trigger,
        control_id=draw(st.sampled_from(["", "X"])) + uuid.uuid4().hex[:12],
        version=draw(st.sampled_from(["2.5.1", "2.3", "2.8", "3.0", ""])),
        message_type=draw(st.sampled_from(["ADT", "ADT", "ORU", ""])),
        merged="OLD1^^^GENHOSP^MR" if draw(st.booleans()) else "",
        diagnoses=(("I50.9", "Heart failure"),) if draw(st.booleans()) else (),
    )
    for _ in range(draw(st.integers(0, 3))):
        segments = text.split("\r")
        kind = draw(st.sampled_from(["drop", "double", "swap", "field", "insert", "cut"]))
        at = draw(st.integers(0, max(len(segments) - 1, 0)))
        if kind == "drop":
            del segments[at]
        elif kind == "double":
            segments.insert(at, segments[at])
        elif kind == "swap" and len(segments) > 1:
            other = draw(st.integers(0, len(segments) - 1))
            segments[at], segments[other] = segments[other], segments[at]
        elif kind == "field":
            fields = segments[at].split("|")
            fields[draw(st.integers(0, len(fields) - 1))] = draw(NOISE)
            segments[at] = "|".join(fields)
        text = "\r".join(segments)
        if kind == "insert":
            where = draw(st.integers(0, len(text)))
            text = text[:where] + draw(NOISE) + text[where:]
        elif kind == "cut":
            text = text[: draw(st.integers(0, len(text)))]
    return text


def _ack_reason(ack: str) -> str:
    for segment in hl7v2.SEGMENT_SPLIT.split(ack):
        if segment.startswith("MSA|"):
            fields = segment.split("|")
            return fields[3] if len(fields) > 3 else ""
    return ""


def check_stored(row: InboundMessage, *, over_mllp: bool = False) -> None:
    """A stored message is a complete, readable ADT message acknowledged AA, or rejected with
    its reason and acknowledged AE/AR with the same reason."""
    code = hl7v2.ack_code_of(row.ack)
    if over_mllp:
        # No framing character, so no piece of another frame, is in a stored message.
        assert "\x0b" not in row.raw and "\x1c" not in row.raw
    hl7v2.parse_header(row.ack)  # the ACK itself is a readable message
    if row.status == MessageStatus.REJECTED:
        assert code in {"AE", "AR"}, row.ack
        assert row.error
        assert _ack_reason(row.ack) == hl7v2._escape(row.error)
    else:
        assert code == "AA", (row.status, row.ack)
        header, _ = hl7v2.read_adt(row.raw)  # raises if the message is not whole and valid
        assert header.control_id == row.control_id
        assert header.sending_facility == row.sending_facility
        assert f"MSA|AA|{hl7v2._escape(row.control_id)}" in row.ack


# --- receive and parse as functions ---------------------------------------------------------


@given(text=st.text(max_size=400) | malformed())
@settings(max_examples=150, deadline=None)
def test_reading_any_text_accepts_it_or_says_why_not(text: str) -> None:
    try:
        header, message = hl7v2.read_adt(hl7v2.normalize(text))
    except hl7v2.MessageProblem as problem:
        assert problem.ack_code in {"AE", "AR"}
        assert problem.reason and problem.error_code
    else:
        assert header.message_type == "ADT" and header.control_id
        assert message.identifiers


@pytest.mark.django_db
@given(text=st.text(max_size=400) | malformed() | st.binary(max_size=300))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_receiving_any_text_stores_one_row_and_answers_it(text: str | bytes) -> None:
    with transaction.atomic():
        before = set(InboundMessage.objects.values_list("pk", flat=True))
        receipt = receive(text)
        stored = InboundMessage.objects.exclude(pk__in=before)
        assert [row.pk for row in stored] == [receipt.message_id]
        row = stored.get()
        assert row.ack == receipt.ack
        check_stored(row)
        assert receipt.to_process == (row.status == MessageStatus.RECEIVED)
        transaction.set_rollback(True)


# --- a real listener ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listener(django_db_blocker: Any) -> Iterator[Running]:
    with django_db_blocker.unblock(), Running() as server:
        yield server


def _payload(text: str) -> bytes:
    """The text as a frame's content: MLLP's framing characters cannot occur inside one."""
    return text.replace("\x0b", "").replace("\x1c", "").encode("utf-8")


def _frame(data: bytes) -> bytes:
    return START + data + END


# One step of a conversation: what is written, and whether it is a whole frame (which must be
# answered) or a piece the sender leaves unfinished.
step = st.one_of(
    st.builds(lambda t: ("frame", _frame(_payload(t))), malformed()),
    st.builds(
        lambda b: ("frame", _frame(b.replace(START, b"").replace(b"\x1c", b""))),
        st.binary(min_size=1, max_size=200),
    ),
    # A frame whose end block never comes, then a whole message: only the latter is complete.
    st.builds(
        lambda cut, t: ("frame", START + _payload(cut) + _frame(_payload(t))),
        malformed(),
        malformed(),
    ),
)
ending = st.one_of(
    st.just(b""),
    st.builds(lambda t: START + _payload(t), malformed()),  # truncated: no end block
    st.binary(max_size=200),  # bytes that are no frame at all
)


async def _converse(port: int, frames: list[bytes], tail: bytes) -> tuple[list[str], bool]:
    """Write the frames one by one, reading an ACK for each, then the tail and end of file;
    returns the ACKs and whether the listener hung up before every frame was answered."""
    from hl7.mllp import open_hl7_connection

    reader, writer = await open_hl7_connection("127.0.0.1", port)
    acks: list[str] = []
    try:
        for frame in frames:
            writer.write(frame)
            await writer.drain()
            try:
                block = await asyncio.wait_for(reader.readblock(), 30)
            except (asyncio.IncompleteReadError, ConnectionError):
                return acks, True
            acks.append(block.decode("utf-8"))
        writer.write(tail)
        await writer.drain()
        writer.write_eof()
        # The listener answers what is complete and hangs up on the rest.
        while True:
            try:
                block = await asyncio.wait_for(reader.readblock(), 30)
            except (asyncio.IncompleteReadError, ConnectionError):
                return acks, False
            acks.append(block.decode("utf-8"))
    finally:
        writer.close()


async def _send_good(port: int, control_id: str) -> str:
    from caseboard.transitions.listener import send

    return (await send([adt("A04", control_id=control_id)], "127.0.0.1", port))[0]


@pytest.mark.django_db(transaction=True)
@given(steps=st.lists(step, max_size=4), tail=ending)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_listener_answers_or_hangs_up_and_keeps_serving(
    listener: Running, steps: list[tuple[str, bytes]], tail: bytes
) -> None:
    before = InboundMessage.objects.count()
    frames = [data for _, data in steps]
    acks, hung_up = listener.run(_converse(listener.port, frames, tail))
    assert not hung_up, "a whole frame went unanswered"
    assert len(acks) >= len(frames)
    assert all(hl7v2.ack_code_of(a) in {"AA", "AE", "AR"} for a in acks)

    control = f"GOOD{uuid.uuid4().hex[:12]}"
    assert hl7v2.ack_code_of(listener.run(_send_good(listener.port, control))) == "AA"
    listener.drain()
    new = InboundMessage.objects.order_by("pk")[before:]
    for row in new:
        check_stored(row, over_mllp=True)
    # One stored message per answered frame (a cut-short frame is never stored as if whole),
    # plus the good one.
    assert len(new) == len(acks) + 1
    assert new[len(new) - 1].control_id == control
