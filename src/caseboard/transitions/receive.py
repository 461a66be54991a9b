"""Taking messages in: store them, then say so.

An AA tells the hospital's interface engine it may forget the message, so it is written only
after the message's row is committed (HL7 v2.5.1 §2.9.2, original-mode acknowledgement: the
receiver accepts responsibility for the message). A message that cannot be read is stored too,
as rejected, and answered AE or AR with the reason, so nothing sent is lost.

Messages that arrive together on several connections are stored together, with one INSERT for
the lot (a group commit), then each gets its own ACK. A lot that repeats a message already
stored is stored again with its originals looked up first; should the database refuse a lot,
each message is stored on its own, so one bad row never costs the others theirs.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.utils import timezone

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


# The header fields kept in their own columns, each cut to its column's length.
_HEADER_COLUMNS = (
    "sending_application",
    "sending_facility",
    "control_id",
    "message_type",
    "trigger_event",
    "version",
)


def _length(column: str) -> int:
    field = InboundMessage._meta.get_field(column)
    assert isinstance(field, models.CharField) and field.max_length
    return field.max_length


_LENGTHS = {column: _length(column) for column in _HEADER_COLUMNS}
# What `_insert` writes of a `_Row`; received_at and attempts follow.
_COLUMNS = ["raw", *_HEADER_COLUMNS, "status", "error", "ack", "duplicate_of_id"]


@dataclass
class _Row:
    """An InboundMessage row to insert (see `_insert`)."""

    raw: str
    header_columns: dict[str, str]
    status: str
    error: str
    ack: str
    duplicate_of_id: int | None = None
    pk: int | None = None

    @property
    def sending_facility(self) -> str:
        return self.header_columns["sending_facility"]

    @property
    def control_id(self) -> str:
        return self.header_columns["control_id"]

    def values(self) -> list[str | int | None]:
        return [
            self.raw,
            *(self.header_columns[column] for column in _HEADER_COLUMNS),
            self.status,
            self.error,
            self.ack,
            self.duplicate_of_id,
        ]


@dataclass
class Reading:
    """One message as read, before it is stored: its row and its ACK."""

    header: hl7v2.Header | None
    row: _Row
    accepted: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.row.sending_facility, self.row.control_id)

    def reset(self) -> None:
        """Back to as read, for another try after a failed transaction."""
        self.row.pk = None
        self.row.duplicate_of_id = None
        if self.accepted:
            self.row.status = MessageStatus.RECEIVED
            self.row.error = ""


def _read(block: bytes | str) -> Reading:
    raw = decode(block) if isinstance(block, bytes) else block
    # HL7 v2 never uses NUL, and PostgreSQL text cannot hold it: keep the rest readable.
    raw = raw.replace("\x00", "\ufffd")
    text = hl7v2.normalize(raw)
    header: hl7v2.Header | None = None
    try:
        header, _ = hl7v2.read_adt(text)
    except Exception as error:  # a fault of the reader's own must not cost the lot its ACKs
        if isinstance(error, hl7v2.MessageProblem):
            problem = error
        else:
            logger.exception("ADT message could not be read")
            problem = hl7v2.MessageProblem(
                "AE", hl7v2.ERR_APPLICATION_INTERNAL, f"Could not be read: {error!r}"[:200]
            )
        # The header, when there is a readable one, answers the sender in its own terms.
        with contextlib.suppress(Exception):
            _, header = hl7v2.parse_header(text)
        ack = hl7v2.build_ack(
            header,
            problem.ack_code,
            reason=problem.reason,
            error_code=problem.error_code,
            location=problem.location,
        )
        row = _row(raw, header, ack, status=MessageStatus.REJECTED, error=problem.reason)
        return Reading(header=header, row=row, accepted=False)
    row = _row(text, header, hl7v2.build_ack(header, "AA"), status=MessageStatus.RECEIVED)
    return Reading(header=header, row=row, accepted=True)


def _row(raw: str, header: hl7v2.Header | None, ack: str, *, status: str, error: str = "") -> _Row:
    return _Row(
        raw=raw,
        header_columns={
            column: getattr(header, column)[:length] if header else ""
            for column, length in _LENGTHS.items()
        },
        status=status,
        error=error,
        ack=ack,
    )


def _table() -> str:
    return connection.ops.quote_name(InboundMessage._meta.db_table)


def _originals(readings: list[Reading]) -> dict[tuple[str, str], int]:
    """The stored originals of these messages' control IDs, by facility and control ID."""
    control_ids = sorted({r.row.control_id for r in readings if r.accepted})
    if not control_ids:
        return {}
    facilities = sorted({r.row.sending_facility for r in readings if r.accepted})
    marks = ", ".join(["%s"] * len(control_ids))
    facility_marks = ", ".join(["%s"] * len(facilities))
    with connection.cursor() as cursor:
        cursor.execute(
            # Only our own table's name and placeholders are formatted in; values are bound.
            f"SELECT sending_facility, control_id, id FROM {_table()} "  # noqa: S608
            f"WHERE sending_facility IN ({facility_marks}) AND control_id IN ({marks}) "
            "AND control_id <> '' AND status NOT IN (%s, %s)",
            # The conditions of the unique constraint's partial index, which this reads.
            [*facilities, *control_ids, MessageStatus.DUPLICATE, MessageStatus.REJECTED],
        )
        return {(facility, control): pk for facility, control, pk in cursor.fetchall()}


def _insert(rows: list[_Row]) -> None:
    """Insert the rows with one statement and give each its ID. Written out, not
    `bulk_create`: on the listener's path the ORM's per-field preparation cost more than the
    INSERT itself. IDs come back in the order of the VALUES, as `bulk_create` relies on too."""
    received_at = connection.ops.adapt_datetimefield_value(timezone.now())
    marks = "(" + ", ".join(["%s"] * (len(_COLUMNS) + 2)) + ")"
    params: list[str | int | None] = []
    for row in rows:
        params.extend(row.values())
        params.extend((received_at, 0))
    columns = ", ".join([*_COLUMNS, "received_at", "attempts"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table()} ({columns}) "  # noqa: S608 (as above)
            f"VALUES {', '.join([marks] * len(rows))} RETURNING id",
            params,
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk


def _mark_duplicate(reading: Reading) -> None:
    # The same facility sent this control ID before (a resend after a lost ACK): it is
    # acknowledged again, kept for the record, and not processed twice.
    reading.row.status = MessageStatus.DUPLICATE
    reading.row.error = "Repeats a message already received with this control ID."


def _store_all(readings: list[Reading]) -> list[Receipt]:
    """Store every reading in the caller's transaction: those first sent now in one INSERT,
    then repeats of one of them (whose original's ID that INSERT just gave)."""
    stored = _originals(readings)
    first: list[Reading] = []
    repeats: list[tuple[Reading, Reading]] = []
    in_lot: dict[tuple[str, str], Reading] = {}
    for reading in readings:
        if not reading.accepted:
            first.append(reading)
        elif reading.key in stored:
            _mark_duplicate(reading)
            reading.row.duplicate_of_id = stored[reading.key]
            first.append(reading)
        elif reading.key in in_lot:
            _mark_duplicate(reading)
            repeats.append((reading, in_lot[reading.key]))
        else:
            in_lot[reading.key] = reading
            first.append(reading)
    _insert([r.row for r in first])
    for reading, original in repeats:
        reading.row.duplicate_of_id = original.row.pk
    if repeats:
        _insert([r.row for r, _ in repeats])
    return _receipts(readings)


def _receipts(readings: list[Reading]) -> list[Receipt]:
    return [
        Receipt(
            ack=r.row.ack,
            message_id=r.row.pk,
            to_process=r.row.status == MessageStatus.RECEIVED,
        )
        for r in readings
    ]


def _not_stored(reading: Reading, error: DatabaseError) -> Receipt:
    """AE with nothing stored, so the sender keeps the message and sends it again."""
    logger.error("ADT message could not be stored: %s", error)
    ack = hl7v2.build_ack(
        reading.header,
        "AE",
        reason=f"Not stored, send again: {type(error).__name__}",
        error_code=hl7v2.ERR_APPLICATION_INTERNAL,
    )
    return Receipt(ack=ack, message_id=None, to_process=False)


def _store_alone(reading: Reading) -> Receipt:
    # A concurrent writer may store the same message between the look-up of originals and the
    # INSERT; the unique constraint refuses the second, and the next look-up finds the first.
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _store_all([reading])[0]
        except IntegrityError as error:
            reading.reset()
            if attempt == 2:
                return _not_stored(reading, error)
        except DatabaseError as error:
            return _not_stored(reading, error)
    raise AssertionError("unreachable")


def read_all(blocks: list[bytes]) -> list[Reading]:
    """Messages read and checked, ready to `store`: no database work, so the listener reads
    in its event loop and stores in a database thread."""
    return [_read(block) for block in blocks]


def store(readings: list[Reading]) -> list[Receipt]:
    """Store messages as read and return their acknowledgements, in order. AA only once the
    rows are committed; for a message the database cannot take, AE with nothing stored."""
    # Most lots repeat nothing stored before: one INSERT, which commits on its own (inside a
    # caller's transaction, under a savepoint). A repeat breaks the unique constraint, nothing
    # of the lot is kept, and it is stored the careful way, its originals looked up first.
    inside = connection.in_atomic_block
    try:
        try:
            with transaction.atomic() if inside else contextlib.nullcontext():
                _insert([reading.row for reading in readings])
            return _receipts(readings)
        except IntegrityError:
            for reading in readings:
                reading.reset()
            with transaction.atomic():
                return _store_all(readings)
    except DatabaseError as error:
        logger.warning("%s ADT messages stored one by one after %r", len(readings), error)
    for reading in readings:
        reading.reset()
    return [_store_alone(reading) for reading in readings]


def receive_many(blocks: list[bytes | str]) -> list[Receipt]:
    """Read and store messages; their acknowledgements in order."""
    return store([_read(block) for block in blocks])


def receive(block: bytes | str) -> Receipt:
    """Store one message and return its acknowledgement."""
    return receive_many([block])[0]
