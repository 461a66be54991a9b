"""A realistic hospital ADT feed for the demo population: what a hospital's interface engine
would have sent over the last few days about the plan's members.

Stays of patients in care management (so their care managers get alerts and follow-up
tasks), of the patient on the tracking list (so the plan hears of the admission), and of other
members. Each stay is the sequence a hospital sends: an ED registration (A04), an admission
(A06 when the ED visit turns into one) or a direct admission (A01), transfers (A02), updates
(A08) with diagnoses, and the discharge (A03) with its disposition. The feed also carries what
real feeds do: corrections (an admission cancelled, A11; a discharge cancelled, A13), the same
message sent twice after a lost ACK, patients known only by name, birth date and telephone, a
person the matcher cannot tell apart from another (for the review queue), and a few malformed
or unsupported messages. Patients are named by the plan's member ID with the plan's external ID
as assigning authority, as a hospital that checks eligibility with the plan records them.
"""

from __future__ import annotations

import datetime
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from caseboard.care.models import ACTIVE_STATUSES, EnrollmentStatus
from caseboard.conference.models import TrackingEntry
from caseboard.orgs.models import Organization, OrganizationKind
from caseboard.patients.models import IdentifierKind, Patient, PatientIdentifier

FACILITIES = ("LAWGEN", "MERRIMACK", "NSHORE")
DIAGNOSES = (
    ("I50.9", "Heart failure, unspecified"),
    ("J44.1", "Chronic obstructive pulmonary disease with acute exacerbation"),
    ("E11.65", "Type 2 diabetes mellitus with hyperglycemia"),
    ("J45.901", "Unspecified asthma with acute exacerbation"),
    ("R07.9", "Chest pain, unspecified"),
    ("F10.239", "Alcohol dependence with withdrawal, unspecified"),
    ("N39.0", "Urinary tract infection, site not specified"),
)


@dataclass(frozen=True)
class Visit:
    facility: str
    number: str
    admitted: datetime.datetime
    patient_class: str


@dataclass
class Feed:
    messages: list[str] = field(default_factory=list)
    # What the feed holds, for the demo's log and its test.
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, message: str, kind: str) -> None:
        self.messages.append(message)
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def text(self) -> str:
        return "\n\n".join(m.replace("\r", "\n").rstrip("\n") for m in self.messages) + "\n"


class _Writer:
    def __init__(self, plan: Organization) -> None:
        self.plan = plan
        self.control = itertools.count(1)

    def message(
        self,
        trigger: str,
        patient: Patient | None,
        *,
        at: datetime.datetime,
        facility: str,
        visit: str,
        patient_class: str,
        admitted: datetime.datetime,
        discharged: datetime.datetime | None = None,
        disposition: str = "",
        diagnosis: tuple[str, str] | None = None,
        by_member_id: bool = True,
        person: tuple[str, str, str, str] | None = None,
        control_id: str | None = None,
    ) -> str:
        stamp = "%Y%m%d%H%M%S"
        control = control_id or f"{facility[:3]}{next(self.control):07d}"
        if person is None:
            assert patient is not None
            member = (
                PatientIdentifier.objects.filter(
                    patient=patient, organization=self.plan, kind=IdentifierKind.MEMBER_ID
                )
                .values_list("value", flat=True)
                .first()
            )
            ids = f"MR{patient.pk:07d}^^^{facility}^MR"
            if by_member_id and member:
                ids = f"{member}^^^{self.plan.external_id}^MB~{ids}"
            name = f"{patient.family_name}^{patient.given_name}"
            birth = f"{patient.birth_date:%Y%m%d}"
            phone = patient.phone
        else:
            name, birth, phone, ids = person
        address = ""
        if patient is not None and patient.address:
            address = f"{patient.address}^^{patient.city}^{patient.state}^{patient.postal_code}"
        pv1 = [
            "PV1",
            "1",
            patient_class,
            f"{'ED' if patient_class == 'E' else 'MED'}^01^A^{facility}",
        ]
        pv1 += [""] * 42
        pv1[19] = visit
        pv1[36] = disposition
        pv1[44] = admitted.strftime(stamp)
        pv1[45] = discharged.strftime(stamp) if discharged else ""
        segments = [
            f"MSH|^~\\&|EPIC|{facility}|CASEBOARD|{self.plan.external_id}|{at.strftime(stamp)}||"
            f"ADT^{trigger}^ADT_A01|{control}|P|2.5.1",
            f"EVN|{trigger}|{at.strftime(stamp)}",
            f"PID|1||{ids}||{name}||{birth}|||||{address}||{phone}",
            "|".join(pv1),
        ]
        if diagnosis:
            segments.append(f"DG1|1||{diagnosis[0]}^{diagnosis[1]}^I10||{at:%Y%m%d}|A")
        return "\r".join(segments) + "\r"


def _patients(plan: Organization, rng: random.Random) -> tuple[list[Patient], list[Patient]]:
    """Patients in care management with a care manager first, then other members."""
    managed = list(
        Patient.objects.filter(
            enrollments__status__in=ACTIVE_STATUSES | {EnrollmentStatus.MONITOR},
            enrollments__care_manager__isnull=False,
        )
        .distinct()
        .order_by("pk")[:40]
    )
    others = list(
        Patient.objects.filter(coverage_spans__plan=plan)
        .exclude(pk__in=[p.pk for p in managed])
        .order_by("pk")[:200]
    )
    rng.shuffle(managed)
    rng.shuffle(others)
    return managed, others


def build_feed(seed: int = 42, now: datetime.datetime | None = None) -> Feed:
    """The feed, dated in the three days before `now`, each stay in order."""
    now = now or timezone.now()
    rng = random.Random(seed)
    plan = Organization.objects.get(kind=OrganizationKind.HEALTH_PLAN)
    writer = _Writer(plan)
    feed = Feed()
    managed, others = _patients(plan, rng)
    tracked = [e.patient for e in TrackingEntry.objects.filter(removed_at__isnull=True)]
    visits = itertools.count(1)

    def ago(hours: float) -> datetime.datetime:
        return (now - datetime.timedelta(hours=hours)).replace(microsecond=0)

    def stay(
        trigger: str,
        patient: Patient,
        visit: Visit,
        at: datetime.datetime,
        kind: str,
        **details: Any,
    ) -> None:
        message = writer.message(
            trigger,
            patient,
            at=at,
            facility=visit.facility,
            visit=visit.number,
            patient_class=details.pop("patient_class", visit.patient_class),
            admitted=visit.admitted,
            **details,
        )
        feed.add(message, kind)

    def ed_visit(patient: Patient, start_hours: float, *, by_member_id: bool = True) -> None:
        visit = Visit(rng.choice(FACILITIES), f"E{next(visits):07d}", ago(start_hours), "E")
        stay("A04", patient, visit, visit.admitted, "ED registration", by_member_id=by_member_id)
        left = visit.admitted + datetime.timedelta(hours=rng.uniform(3, 8))
        stay(
            "A03",
            patient,
            visit,
            left,
            "ED discharge",
            discharged=left,
            disposition="01",
            diagnosis=rng.choice(DIAGNOSES),
            by_member_id=by_member_id,
        )

    def admission(patient: Patient, start_hours: float, *, discharge: bool) -> None:
        visit = Visit(rng.choice(FACILITIES), f"E{next(visits):07d}", ago(start_hours), "E")
        dx = rng.choice(DIAGNOSES)
        stay("A04", patient, visit, visit.admitted, "ED registration")
        admitted = visit.admitted + datetime.timedelta(hours=rng.uniform(2, 6))
        inpatient = {"patient_class": "I", "diagnosis": dx}
        stay("A06", patient, visit, admitted, "ED visit became an admission", **inpatient)
        stay("A08", patient, visit, admitted + datetime.timedelta(hours=1), "update", **inpatient)
        if discharge:
            left = min(admitted + datetime.timedelta(hours=rng.uniform(30, 60)), ago(1))
            disposition = rng.choice(["01", "06", "03"])
            stay(
                "A03",
                patient,
                visit,
                left,
                "inpatient discharge",
                discharged=left,
                disposition=disposition,
                **inpatient,
            )

    for n, patient in enumerate(managed[:12]):
        if n % 3 == 0:
            admission(patient, rng.uniform(50, 70), discharge=n % 2 == 0)
        else:
            ed_visit(patient, rng.uniform(8, 60))
    for patient in tracked[:2]:
        admission(patient, rng.uniform(10, 20), discharge=False)
    for patient in others[:10]:
        ed_visit(patient, rng.uniform(5, 70), by_member_id=rng.random() < 0.7)

    # Corrections: an admission entered in error, a discharge cancelled.
    if len(managed) > 13:
        cancelled = Visit(FACILITIES[0], f"E{next(visits):07d}", ago(30), "I")
        stay("A01", managed[12], cancelled, cancelled.admitted, "direct admission")
        later = cancelled.admitted + datetime.timedelta(minutes=40)
        stay("A11", managed[12], cancelled, later, "admission cancelled")
        reopened = Visit(FACILITIES[0], f"E{next(visits):07d}", ago(40), "I")
        left = reopened.admitted + datetime.timedelta(hours=20)
        stay("A01", managed[13], reopened, reopened.admitted, "direct admission")
        stay(
            "A03",
            managed[13],
            reopened,
            left,
            "inpatient discharge",
            discharged=left,
            disposition="01",
        )
        stay(
            "A13", managed[13], reopened, left + datetime.timedelta(hours=1), "discharge cancelled"
        )

    # A lost ACK: the interface engine sends three messages again, same control IDs.
    for message in feed.messages[:3]:
        feed.add(message, "repeated after a lost ACK")

    # Someone the matcher cannot tell apart: two members share name and birth date, and the
    # hospital has neither member ID nor address.
    twins = (
        Patient.objects.filter(coverage_spans__plan=plan)
        .values("given_name", "family_name", "birth_date")
        .order_by()
    )
    seen: dict[tuple[str, str, datetime.date], int] = {}
    for row in twins[:5000]:
        key = (row["given_name"], row["family_name"], row["birth_date"])
        seen[key] = seen.get(key, 0) + 1
    shared = next((k for k, count in seen.items() if count > 1), None)
    strangers = [("Nobody^Known", "19610203", "(978)555-0199", "Z9999999^^^LAWGEN^MR")]
    if shared is not None:
        given, family, born = shared
        strangers.append((f"{family}^{given}", f"{born:%Y%m%d}", "", "Z8888888^^^LAWGEN^MR"))
    for person in strangers:
        at = ago(12)
        feed.add(
            writer.message(
                "A04",
                None,
                at=at,
                facility="LAWGEN",
                visit=f"E{next(visits):07d}",
                patient_class="E",
                admitted=at,
                person=person,
            ),
            "patient to review",
        )

    # Malformed and unsupported: no patient segment, not HL7 at all, a lab result.
    at = ago(6)
    broken = writer.message(
        "A04",
        others[0] if others else managed[0],
        at=at,
        facility="NSHORE",
        visit="E0000000",
        patient_class="E",
        admitted=at,
    )
    feed.add("\r".join(s for s in broken.split("\r") if not s.startswith("PID")), "malformed")
    feed.add("THIS IS NOT AN HL7 MESSAGE\r", "malformed")
    feed.add(
        broken.replace("ADT^A04^ADT_A01", "ORU^R01^ORU_R01").replace("|NSH", "|NSH", 1),
        "unsupported",
    )
    return feed


__all__ = ["Feed", "build_feed"]
