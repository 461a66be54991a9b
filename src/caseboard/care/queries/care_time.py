"""Care-management time per calendar month, and the chronic care management (CCM) thresholds
practices bill against.

Seed 002 ("Develop a CM registry"): document non-face-to-face and phone interactions and track
the time spent per month. A month is the organization's own calendar month, in its own time
zone: a call at 23:30 on October 31 in Boston is October's work although it is already
November in UTC.

The thresholds come from CMS, MLN booklet "Chronic Care Management Services" (MLN909188):
CPT 99490 is the first 20 minutes of clinical staff time in a calendar month and 99439 each
additional 20 minutes (Medicare pays 99439 at most twice a month); complex CCM is 99487 for the
first 60 minutes and 99489 for each additional 30 minutes, and also needs moderate- or
high-complexity medical decision making, which the time alone cannot show.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from caseboard.care.models import Interaction
from caseboard.orgs.models import Organization
from caseboard.patients.models import Patient

CCM_FIRST = 20  # CPT 99490
CCM_ADD_ON = 20  # CPT 99439, each
CCM_ADD_ON_MAX_UNITS = 2  # Medicare's limit on 99439 per calendar month
COMPLEX_FIRST = 60  # CPT 99487
COMPLEX_ADD_ON = 30  # CPT 99489, each


def organization_today(organization: Organization) -> datetime.date:
    return timezone.localdate(timezone=organization.zone)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def month_bounds(
    organization: Organization, month: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of the month and of the next one, in the organization's zone."""
    zone = organization.zone
    first = month_start(month)
    after = next_month(first)
    return (
        datetime.datetime(first.year, first.month, 1, tzinfo=zone),
        datetime.datetime(after.year, after.month, 1, tzinfo=zone),
    )


@dataclass(frozen=True)
class CcmStatus:
    """Where a patient's minutes in one month stand against the CMS CCM thresholds."""

    minutes: int

    @property
    def reached_99490(self) -> bool:
        return self.minutes >= CCM_FIRST

    @property
    def units_99439(self) -> int:
        if self.minutes < CCM_FIRST:
            return 0
        return min(CCM_ADD_ON_MAX_UNITS, (self.minutes - CCM_FIRST) // CCM_ADD_ON)

    @property
    def reached_99487(self) -> bool:
        return self.minutes >= COMPLEX_FIRST

    @property
    def units_99489(self) -> int:
        if self.minutes < COMPLEX_FIRST:
            return 0
        return (self.minutes - COMPLEX_FIRST) // COMPLEX_ADD_ON

    @property
    def minutes_to_next(self) -> int | None:
        """Minutes still needed for the next CCM code or 99439 unit; None when none is left."""
        if self.minutes < CCM_FIRST:
            return CCM_FIRST - self.minutes
        if self.units_99439 >= CCM_ADD_ON_MAX_UNITS:
            return None
        reached = CCM_FIRST + (self.units_99439 + 1) * CCM_ADD_ON
        return reached - self.minutes

    @property
    def codes(self) -> list[str]:
        """The non-complex CCM codes the month's time supports, e.g. ["99490", "99439 ×2"]."""
        if not self.reached_99490:
            return []
        found = ["99490"]
        if self.units_99439:
            found.append("99439" if self.units_99439 == 1 else f"99439 ×{self.units_99439}")
        return found

    @property
    def label(self) -> str:
        return " + ".join(self.codes)

    @property
    def complex_label(self) -> str:
        if not self.reached_99487:
            return ""
        if self.units_99489:
            suffix = "" if self.units_99489 == 1 else f" ×{self.units_99489}"
            return f"99487 + 99489{suffix}"
        return "99487"


@dataclass(frozen=True)
class PatientMinutes:
    patient: Patient
    minutes: int
    interactions: int

    @property
    def ccm(self) -> CcmStatus:
        return CcmStatus(self.minutes)


@dataclass(frozen=True)
class StaffMinutes:
    user: User
    minutes: int
    interactions: int
    patients: int


@dataclass(frozen=True)
class MonthlyMinutes:
    organization: Organization
    month: datetime.date
    starts: datetime.datetime
    ends: datetime.datetime
    per_patient: list[PatientMinutes]
    per_staff: list[StaffMinutes]

    @property
    def total(self) -> int:
        return sum(p.minutes for p in self.per_patient)

    @property
    def patients_at_ccm(self) -> int:
        return sum(1 for p in self.per_patient if p.ccm.reached_99490)

    def for_patient(self, patient_id: int) -> int:
        return next((p.minutes for p in self.per_patient if p.patient.pk == patient_id), 0)


def _in_month(organization: Organization, month: datetime.date) -> QuerySet[Interaction]:
    starts, ends = month_bounds(organization, month)
    return Interaction.objects.filter(
        organization=organization, occurred_at__gte=starts, occurred_at__lt=ends
    )


def minutes_by_patient(
    organization: Organization, month: datetime.date, patient_ids: list[int]
) -> dict[int, int]:
    """The organization's minutes in the month for each of `patient_ids` (absent means 0)."""
    rows = (
        _in_month(organization, month)
        .filter(patient_id__in=patient_ids)
        .values("patient_id")
        .annotate(total=Sum("minutes"))
    )
    return {row["patient_id"]: row["total"] or 0 for row in rows}


def monthly_minutes(
    organization: Organization,
    month: datetime.date,
    *,
    patients: QuerySet[Patient] | None = None,
) -> MonthlyMinutes:
    """Minutes the organization's staff logged in the month, per patient and per staff member.

    The organization's own work only: a partner's time is the partner's to bill. `patients`
    narrows it to those a user may see (pass `access.visible_patients(actor)`).
    """
    first = month_start(month)
    starts, ends = month_bounds(organization, first)
    interactions = _in_month(organization, first)
    if patients is not None:
        interactions = interactions.filter(patient__in=patients)
    by_patient = list(
        interactions.values("patient_id")
        .annotate(total=Sum("minutes"), n=Count("id"))
        .order_by("-total", "patient_id")
    )
    source = patients if patients is not None else Patient.objects.all()
    patient_objects = source.in_bulk([row["patient_id"] for row in by_patient])
    per_patient = [
        PatientMinutes(
            patient=patient_objects[row["patient_id"]],
            minutes=row["total"] or 0,
            interactions=row["n"],
        )
        for row in by_patient
    ]
    staff_patients: dict[int, set[int]] = defaultdict(set)
    for staff_id, patient_id in interactions.values_list("staff_id", "patient_id"):
        staff_patients[staff_id].add(patient_id)
    by_staff = list(
        interactions.values("staff_id")
        .annotate(total=Sum("minutes"), n=Count("id"))
        .order_by("-total", "staff_id")
    )
    users = User.objects.in_bulk([row["staff_id"] for row in by_staff])
    per_staff = [
        StaffMinutes(
            user=users[row["staff_id"]],
            minutes=row["total"] or 0,
            interactions=row["n"],
            patients=len(staff_patients[row["staff_id"]]),
        )
        for row in by_staff
    ]
    return MonthlyMinutes(
        organization=organization,
        month=first,
        starts=starts,
        ends=ends,
        per_patient=per_patient,
        per_staff=per_staff,
    )
