"""Taking a message in: store it, then say so.

An AA tells the hospital's interface engine it may forget the message, so it is written only
after the message's row is committed (HL7 v2.5.1 §2.9.2, original-mode acknowledgement: the
receiver accepts responsibility for the message). A message that cannot be read is stored too,
as rejected, and answered AE or AR with the reason, so nothing sent is lost.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction

from caseboard.transitions import hl7v2
from caseboard.transitions.models import InboundMessage, MessageStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    ack: str
    message_id: int | None
    # Whether the message should now be processed (not rejected, not a duplicate).
    to_process: bool


def decode(block: bytes) -> str:
    """Text of a message block: UTF-8 when it is, else Latin-1 (HL7's common 8859/1), which
    reads any byte so the raw message can always be kept."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")


def _store_rejected(
    raw: str, header: hl7v2.Header | None, problem: hl7v2.MessageProblem
) -> Receipt:
    ack = hl7v2.build_ack(
        header,
        problem.ack_code,
        reason=problem.reason,
        error_code=problem.error_code,
        location=problem.location,
    )
    row = InboundMessage.objects.create(
        raw=raw,
        sending_application=header.sending_application[:180] if header else "",
        sending_facility=header.sending_facility[:180] if header else "",
        control_id=header.control_id[:199] if header else "",
        message_type=header.message_type[:3] if header else "",
        trigger_event=header.trigger_event[:3] if header else "",
        version=header.version[:8] if header else "",
        status=MessageStatus.REJECTED,
        error=problem.reason,
        ack=ack,
    )
    return Receipt(ack=ack, message_id=row.pk, to_process=False)


def _store(raw: str) -> Receipt:
    header: hl7v2.Header | None = None
    text = hl7v2.normalize(raw)
    try:
        header, _ = hl7v2.read_adt(text)
    except hl7v2.MessageProblem as problem:
        # The header, when there is a readable one, answers the sender in its own terms.
        with contextlib.suppress(hl7v2.MessageProblem):
            _, header = hl7v2.parse_header(text)
        return _store_rejected(raw, header, problem)
    fields = {
        "raw": text,
        "sending_application": header.sending_application[:180],
        "sending_facility": header.sending_facility[:180],
        "control_id": header.control_id[:199],
        "message_type": header.message_type,
        "trigger_event": header.trigger_event,
        "version": header.version,
    }
    ack = hl7v2.build_ack(header, "AA")
    # In autocommit (the listener), the INSERT commits by itself: one round trip, and a
    # repeat's failure touches nothing else. Inside a caller's transaction, a savepoint keeps
    # that failure from spoiling the rest of it.
    inside = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if inside else contextlib.nullcontext():
            row = InboundMessage.objects.create(**fields, ack=ack)
    except IntegrityError:
        # The same facility sent this control ID before (a resend after a lost ACK): it is
        # acknowledged again, kept for the record, and not processed twice.
        original = (
            InboundMessage.objects.filter(
                sending_facility=fields["sending_facility"], control_id=fields["control_id"]
            )
            .exclude(status__in=[MessageStatus.DUPLICATE, MessageStatus.REJECTED])
            .first()
        )
        row = InboundMessage.objects.create(
            **fields,
            ack=ack,
            status=MessageStatus.DUPLICATE,
            duplicate_of=original,
            error="Repeats a message already received with this control ID.",
        )
        return Receipt(ack=ack, message_id=row.pk, to_process=False)
    return Receipt(ack=ack, message_id=row.pk, to_process=True)


def receive(block: bytes | str) -> Receipt:
    """Store one message and return its acknowledgement. AA only once the row is committed;
    when the database cannot take it, AE with nothing stored, so the sender keeps it and
    sends it again."""
    raw = decode(block) if isinstance(block, bytes) else block
    # HL7 v2 never uses NUL, and PostgreSQL text cannot hold it: keep the rest readable.
    raw = raw.replace("\x00", "\ufffd")
    try:
        # Each write commits on its own (the message's row is the unit of durability); a
        # repeat's failed insert rolls back alone, in `_store`.
        return _store(raw)
    except DatabaseError as error:
        logger.exception("ADT message could not be stored")
        header = None
        with contextlib.suppress(hl7v2.MessageProblem):
            _, header = hl7v2.parse_header(hl7v2.normalize(raw))
        ack = hl7v2.build_ack(
            header,
            "AE",
            reason=f"Not stored, send again: {type(error).__name__}",
            error_code=hl7v2.ERR_APPLICATION_INTERNAL,
        )
        return Receipt(ack=ack, message_id=None, to_process=False)
