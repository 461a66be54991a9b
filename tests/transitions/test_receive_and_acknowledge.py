"""Messages are stored before they are acknowledged, answered with the right ACK code, and a
repeated control ID is acknowledged without being processed twice."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

from caseboard.transitions import hl7v2
from caseboard.transitions import receive as receive_module
from caseboard.transitions.models import Episode, InboundMessage, MessageStatus
from caseboard.transitions.processing import process_message
from caseboard.transitions.receive import receive, receive_many
from tests.conftest import World
from tests.transitions.messages import adt


def _segments(ack: str) -> dict[str, list[str]]:
    return {line[:3]: line.split("|") for line in ack.split("\r") if line}


@pytest.mark.django_db
def test_a_readable_adt_message_is_stored_then_acknowledged_aa() -> None:
    receipt = receive(adt("A01", control_id="ABC1").encode())
    msa = _segments(receipt.ack)["MSA"]
    assert msa[1:3] == ["AA", "ABC1"]
    stored = InboundMessage.objects.get(pk=receipt.message_id)
    assert stored.status == MessageStatus.RECEIVED
    assert (stored.sending_facility, stored.control_id, stored.version) == (
        "GENHOSP",
        "ABC1",
        "2.5.1",
    )
    assert (stored.message_type, stored.trigger_event) == ("ADT", "A01")
    assert stored.ack == receipt.ack
    assert stored.raw.startswith("MSH|")
    assert receipt.to_process


@pytest.mark.django_db
def test_ack_swaps_sender_and_receiver_and_keeps_the_trigger() -> None:
    receipt = receive(adt("A03", control_id="X9").encode())
    msh = _segments(receipt.ack)["MSH"]
    assert msh[2:6] == ["CASEBOARD", "PLANP", "EPIC", "GENHOSP"]
    assert msh[8] == "ACK^A03^ACK"
    assert msh[11] == "2.5.1"


@pytest.mark.django_db
def test_malformed_message_is_kept_as_rejected_and_answered_ae_with_err() -> None:
    receipt = receive(b"this is not HL7 at all")
    segments = _segments(receipt.ack)
    assert segments["MSA"][1] == "AE"
    assert "MSH" in segments["MSA"][3]
    assert segments["ERR"][3].startswith(hl7v2.ERR_SEGMENT_SEQUENCE)
    stored = InboundMessage.objects.get(pk=receipt.message_id)
    assert stored.status == MessageStatus.REJECTED
    assert stored.raw == "this is not HL7 at all"
    assert not receipt.to_process


@pytest.mark.django_db
def test_missing_patient_identifier_is_an_error_ae() -> None:
    receipt = receive(adt("A01", identifiers="").encode())
    assert _segments(receipt.ack)["MSA"][1] == "AE"
    assert "PID-3" in _segments(receipt.ack)["MSA"][3]


@pytest.mark.django_db
def test_unsupported_message_type_is_rejected_ar() -> None:
    receipt = receive(adt("R01", message_type="ORU").encode())
    segments = _segments(receipt.ack)
    assert segments["MSA"][1] == "AR"
    assert segments["ERR"][3].startswith(hl7v2.ERR_UNSUPPORTED_MESSAGE_TYPE)
    assert InboundMessage.objects.get(pk=receipt.message_id).status == MessageStatus.REJECTED


@pytest.mark.django_db
def test_unsupported_event_and_version_are_rejected_ar() -> None:
    event = receive(adt("A99").encode())
    version = receive(adt("A01", version="2.1").encode())
    assert _segments(event.ack)["ERR"][3].startswith(hl7v2.ERR_UNSUPPORTED_EVENT)
    assert _segments(version.ack)["MSA"][1] == "AR"
    assert _segments(version.ack)["ERR"][3].startswith(hl7v2.ERR_UNSUPPORTED_VERSION)


@pytest.mark.django_db
def test_version_2_3_error_uses_err_1() -> None:
    receipt = receive(adt("A01", version="2.3", identifiers="").encode())
    err = _segments(receipt.ack)["ERR"]
    assert err[1] == "PID^1^3^101&PID-3 (patient identifier) is empty.&HL70357"


@pytest.mark.django_db
def test_every_supported_event_and_version_is_accepted() -> None:
    for trigger in sorted(hl7v2.SUPPORTED_TRIGGERS):
        merged = "OLD1^^^GENHOSP^MR" if trigger == "A40" else ""
        assert hl7v2.ack_code_of(receive(adt(trigger, merged=merged)).ack) == "AA", trigger
    for version in hl7v2.SUPPORTED_VERSIONS:
        assert hl7v2.ack_code_of(receive(adt("A08", version=version)).ack) == "AA", version


@pytest.mark.django_db
def test_when_the_database_fails_there_is_no_aa() -> None:
    with mock.patch.object(
        receive_module, "_insert", side_effect=OperationalError("disk I/O error")
    ):
        receipt = receive(adt("A01", control_id="FAIL1").encode())
    assert hl7v2.ack_code_of(receipt.ack) == "AE"
    assert "send again" in _segments(receipt.ack)["MSA"][3]
    assert receipt.message_id is None
    assert not InboundMessage.objects.filter(control_id="FAIL1").exists()


@pytest.mark.django_db
def test_repeated_control_id_is_acknowledged_but_processed_once(world: World) -> None:
    message = adt("A04", control_id="DUP1", identifiers="M0000001^^^PLANP^MB")
    world.plan.external_id = "PLANP"
    world.plan.save()
    world.patient_a.identifiers.filter(organization=world.plan).update(value="M0000001")
    first = receive(message)
    process_message(first.message_id or 0)
    again = receive(message)
    assert hl7v2.ack_code_of(again.ack) == "AA"
    assert not again.to_process
    copy = InboundMessage.objects.get(pk=again.message_id)
    assert copy.status == MessageStatus.DUPLICATE
    assert copy.duplicate_of_id == first.message_id
    process_message(copy.pk)
    assert Episode.objects.filter(patient=world.patient_a).count() == 1
    assert world.patient_a.episodes.get().events.count() == 1


@pytest.mark.django_db
def test_same_control_id_from_another_facility_is_a_new_message() -> None:
    receive(adt("A01", control_id="SAME"))
    other = receive(adt("A01", control_id="SAME", facility="CITYHOSP"))
    assert InboundMessage.objects.get(pk=other.message_id).status == MessageStatus.RECEIVED


@pytest.mark.django_db
def test_a_lot_stores_each_message_once_in_order_with_its_own_ack() -> None:
    """What several connections bring at once is stored with one INSERT; a repeat within the
    lot or of a message stored earlier is kept as a duplicate of its original."""
    earlier = receive(adt("A01", control_id="LOT0"))
    receipts = receive_many(
        [
            adt("A01", control_id="LOT1").encode(),
            b"not HL7",
            adt("A01", control_id="LOT1").encode(),  # sent again before its ACK arrived
            adt("A08", control_id="LOT0").encode(),  # stored before this lot
            adt("A01", control_id="LOT1", facility="CITYHOSP").encode(),
        ]
    )
    codes = [hl7v2.ack_code_of(r.ack) for r in receipts]
    assert codes == ["AA", "AE", "AA", "AA", "AA"]
    assert [r.to_process for r in receipts] == [True, False, False, False, True]
    rows = [InboundMessage.objects.get(pk=r.message_id) for r in receipts]
    assert [row.status for row in rows] == [
        MessageStatus.RECEIVED,
        MessageStatus.REJECTED,
        MessageStatus.DUPLICATE,
        MessageStatus.DUPLICATE,
        MessageStatus.RECEIVED,
    ]
    assert rows[2].duplicate_of_id == rows[0].pk
    assert rows[3].duplicate_of_id == earlier.message_id
    assert rows[4].sending_facility == "CITYHOSP"
    assert "MSA|AA|LOT1" in receipts[0].ack and "MSA|AA|LOT0" in receipts[3].ack
    # The originals of the lot keep their order of arrival (processing goes by it).
    assert rows[0].pk < rows[1].pk < rows[4].pk
    assert InboundMessage.objects.count() == 6


@pytest.mark.django_db
def test_a_lot_the_database_refuses_is_stored_message_by_message() -> None:
    refused = OperationalError("could not extend file")
    insert = receive_module._insert
    calls: list[int] = []

    def refuse_lots(rows: list[receive_module._Row]) -> None:
        calls.append(len(rows))
        if len(rows) > 1 or rows[0].control_id == "BAD2":
            raise refused
        insert(rows)

    with mock.patch.object(receive_module, "_insert", side_effect=refuse_lots):
        receipts = receive_many([adt("A01", control_id=f"BAD{n}").encode() for n in range(4)])
    assert calls[0] == 4
    assert [hl7v2.ack_code_of(r.ack) for r in receipts] == ["AA", "AA", "AE", "AA"]
    assert receipts[2].message_id is None
    stored = set(InboundMessage.objects.values_list("control_id", flat=True))
    assert stored == {"BAD0", "BAD1", "BAD3"}


@pytest.mark.django_db
def test_a_readers_own_fault_costs_only_its_message(caplog: pytest.LogCaptureFixture) -> None:
    read_adt = hl7v2.read_adt

    def breaks_on_one(text: str) -> object:
        if "|ODD1|" in text:
            raise RuntimeError("reader bug")
        return read_adt(text)

    with mock.patch.object(hl7v2, "read_adt", side_effect=breaks_on_one):
        receipts = receive_many([adt("A01", control_id=c).encode() for c in ("OK1", "ODD1")])
    assert [hl7v2.ack_code_of(r.ack) for r in receipts] == ["AA", "AE"]
    kept = InboundMessage.objects.get(pk=receipts[1].message_id)
    assert kept.status == MessageStatus.REJECTED and "reader bug" in kept.error
    assert "MSA|AE|ODD1" in receipts[1].ack
    assert "could not be read" in caplog.text


def test_file_splits_into_messages_by_blank_lines_or_msh() -> None:
    text = "MSH|^~\\&|A\nPID|1\n\nMSH|^~\\&|B\r\nPID|2\nMSH|^~\\&|C\nPID|3\n"
    assert hl7v2.split_messages(text) == [
        "MSH|^~\\&|A\rPID|1",
        "MSH|^~\\&|B\rPID|2",
        "MSH|^~\\&|C\rPID|3",
    ]
