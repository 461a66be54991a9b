"""When follow-up after a hospital stay is due: the one place these deadlines are set.

Transitional care management (CMS, Medicare Physician Fee Schedule; CPT 99495 and 99496):
after an inpatient discharge the patient is reached by an interactive contact (phone,
electronic or in person) within 2 business days of discharge, and seen face to face within
7 calendar days when medical decision making is of high complexity (99496) or within 14 days
for moderate complexity (99495). We take a high-acuity (tier 1) enrollment as high
complexity. An emergency visit without admission gets the same 2-business-day contact, which
is what reduces return visits (seed 003: follow-up after ED visits).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from caseboard.care.models import Acuity, Enrollment, TaskPriority
from caseboard.care.queries.tasks import holiday_state, next_business_day
from caseboard.transitions.models import AlertKind, Episode, PatientClass

CONTACT_BUSINESS_DAYS = 2
HIGH_COMPLEXITY_VISIT_DAYS = 7
MODERATE_COMPLEXITY_VISIT_DAYS = 14
INPATIENT_CLASSES = frozenset({PatientClass.INPATIENT, PatientClass.OBSTETRICS})


@dataclass(frozen=True)
class FollowUp:
    title: str
    due_on: datetime.date
    priority: str
    detail: str


def add_business_days(day: datetime.date, count: int, state: str) -> datetime.date:
    for _ in range(count):
        day = next_business_day(day, state)
    return day


def window_open(follow_ups: list[FollowUp], today: datetime.date) -> bool:
    """Whether any follow-up is still due today or later: news of a stay that arrives after
    every deadline has passed (claims come weeks late) no longer calls for these tasks."""
    return any(f.due_on >= today for f in follow_ups)


def follow_ups(
    episode: Episode, kind: str, enrollment: Enrollment, day: datetime.date
) -> list[FollowUp]:
    """The tasks an admission or discharge on `day` (the lead organization's date) calls for."""
    state = holiday_state(enrollment.lead_organization)
    where = episode.facility
    if kind == AlertKind.ADMISSION:
        return [
            FollowUp(
                title="Reach the hospital team about discharge planning",
                due_on=next_business_day(day, state),
                priority=TaskPriority.HIGH,
                detail=(
                    f"{episode.get_patient_class_display()} stay at {where} began. Share the"
                    " care plan and learn the expected discharge date."
                ),
            )
        ]
    contact_by = add_business_days(day, CONTACT_BUSINESS_DAYS, state)
    if episode.patient_class in INPATIENT_CLASSES:
        high = enrollment.acuity == Acuity.HIGH
        visit_days = HIGH_COMPLEXITY_VISIT_DAYS if high else MODERATE_COMPLEXITY_VISIT_DAYS
        code = "99496" if high else "99495"
        return [
            FollowUp(
                title="Post-discharge contact (transitional care)",
                due_on=contact_by,
                priority=TaskPriority.HIGH,
                detail=(
                    f"Discharged from {where} on {day:%b %-d}. Interactive contact within"
                    f" {CONTACT_BUSINESS_DAYS} business days: review medications, symptoms and"
                    " the follow-up appointment."
                ),
            ),
            FollowUp(
                title=f"Post-discharge visit within {visit_days} days (CPT {code})",
                due_on=day + datetime.timedelta(days=visit_days),
                priority=TaskPriority.HIGH,
                detail=(
                    f"Face-to-face visit within {visit_days} days of discharge from {where}"
                    " (transitional care management)."
                ),
            ),
        ]
    return [
        FollowUp(
            title="Follow up after emergency visit",
            due_on=contact_by,
            priority=TaskPriority.HIGH,
            detail=(
                f"Seen at {where} emergency department on {day:%b %-d}. Contact within"
                f" {CONTACT_BUSINESS_DAYS} business days: why they went, what was advised, and"
                " whether a primary care visit is booked."
            ),
        )
    ]
