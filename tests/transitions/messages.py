"""ADT messages for the tests, built field by field like a hospital interface engine would."""

from __future__ import annotations

import itertools

from caseboard.transitions.models import InboundMessage
from caseboard.transitions.processing import process_message
from caseboard.transitions.receive import receive
from tests.conftest import World

_control = itertools.count(1)

HOSPITAL = "GENHOSP"


def adt(
    trigger: str,
    *,
    control_id: str | None = None,
    facility: str = HOSPITAL,
    version: str = "2.5.1",
    message_type: str = "ADT",
    identifiers: str = "H123456^^^GENHOSP^MR",
    name: str = "Alvarez^Maria",
    birth_date: str = "19700517",
    sex: str = "F",
    address: str = "",
    phone: str = "(617)555-0123",
    patient_class: str = "E",
    visit_number: str = "V1001",
    admitted: str = "20261102093000",
    discharged: str = "",
    disposition: str = "",
    event_time: str = "",
    diagnoses: tuple[tuple[str, str], ...] = (),
    merged: str = "",
) -> str:
    control = control_id or f"CTL{next(_control):06d}"
    segments = [
        f"MSH|^~\\&|EPIC|{facility}|CASEBOARD|PLANP|20261102093500||"
        f"{message_type}^{trigger}^ADT_A01|{control}|P|{version}",
        f"EVN|{trigger}|{event_time or admitted}",
        f"PID|1||{identifiers}||{name}||{birth_date}|{sex}|||{address}||{phone}",
    ]
    if merged:
        segments.append(f"MRG|{merged}")
    pv1 = ["PV1", "1", patient_class, f"ED^01^A^{facility}"] + [""] * 42
    pv1[19] = visit_number
    pv1[36] = disposition
    pv1[44] = admitted
    pv1[45] = discharged
    segments.append("|".join(pv1))
    for number, (code, text) in enumerate(diagnoses, start=1):
        segments.append(f"DG1|{number}||{code}^{text}^I10||20261102|A")
    return "\r".join(segments) + "\r"


MEMBER = "M7000001"


def member_message(trigger: str, **fields: object) -> str:
    """A message about practice A's patient, identified by the plan's member ID."""
    fields.setdefault("identifiers", f"{MEMBER}^^^PLANP^MB")
    return adt(trigger, **fields)  # type: ignore[arg-type]


def deliver(message: str) -> InboundMessage:
    """Receive and process one message, as the listener does."""
    receipt = receive(message)
    assert receipt.message_id is not None
    return process_message(receipt.message_id)


def hospital_knows(world: World) -> World:
    """The plan's external ID is the assigning authority the hospital uses for member IDs, and
    practice A's patient carries the member ID the messages name."""
    world.plan.external_id = "PLANP"
    world.plan.save()
    world.patient_a.identifiers.filter(organization=world.plan).update(value=MEMBER)
    return world
