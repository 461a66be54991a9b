"""Enrollment in a care-management program and its status lifecycle.

identified → outreach → engaged → enrolled (active) → graduated, with declined, unable to
reach and disenrolled on the way, and the plan's "monitor" status: when the practice leads,
the plan opens a case in monitor status and follows the member's claims and utilization
(seed 004 step 7g-v, note 1). Every change is dated, with who made it and why.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import reverse

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.care_team import ensure_on_care_team
from caseboard.care.actions.notifications import notify
from caseboard.care.actions.surveys import schedule_patient_surveys
from caseboard.care.errors import CareError
from caseboard.care.models import (
    ACTIVE_STATUSES,
    CLOSED_STATUSES,
    Acuity,
    Enrollment,
    EnrollmentStatus,
    EnrollmentTransition,
    Program,
)
from caseboard.care.queries.care_time import organization_today
from caseboard.care.queries.caseload import active_caseload_count, supervisors
from caseboard.orgs.models import Membership, Organization
from caseboard.patients.models import Patient

S = EnrollmentStatus

# The one table of allowed moves. Graduated and disenrolled are final: a patient who comes
# back gets a new enrollment, so each episode keeps its own dates.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.IDENTIFIED: frozenset(
        {S.OUTREACH, S.ENGAGED, S.ENROLLED, S.DECLINED, S.UNABLE_TO_REACH, S.MONITOR}
    ),
    S.OUTREACH: frozenset({S.ENGAGED, S.ENROLLED, S.DECLINED, S.UNABLE_TO_REACH, S.MONITOR}),
    S.ENGAGED: frozenset({S.ENROLLED, S.DECLINED, S.UNABLE_TO_REACH, S.MONITOR, S.DISENROLLED}),
    S.ENROLLED: frozenset({S.GRADUATED, S.DISENROLLED, S.MONITOR, S.UNABLE_TO_REACH}),
    S.MONITOR: frozenset({S.ENROLLED, S.GRADUATED, S.DISENROLLED}),
    S.UNABLE_TO_REACH: frozenset({S.OUTREACH, S.ENGAGED, S.ENROLLED, S.DISENROLLED}),
    S.DECLINED: frozenset({S.OUTREACH, S.DISENROLLED}),
    S.GRADUATED: frozenset(),
    S.DISENROLLED: frozenset(),
}

# Where a new enrollment may start. Monitor is where a plan opens its case when the practice
# leads (004 note 1); the others follow the patient from being found to being enrolled.
INITIAL_STATUSES = (S.IDENTIFIED, S.OUTREACH, S.ENGAGED, S.ENROLLED, S.MONITOR)


def allowed_next(status: str) -> list[str]:
    """The statuses an enrollment in `status` may move to, in lifecycle order."""
    allowed = ALLOWED_TRANSITIONS.get(status, frozenset())
    return [value for value in S.values if value in allowed]


def _label(status: str) -> str:
    return S(status).label if status in S.values else repr(status)


def _check_monitor(organization: Organization, status: str) -> None:
    if status == S.MONITOR and not organization.is_plan:
        raise CareError(
            "Monitor is a health plan's status: the plan follows the member's claims and"
            " utilization while the practice leads care management.",
            field="status",
        )


def _check_partner_lead(actor: Actor, organization: Organization, status: str, reason: str) -> None:
    if organization.pk not in access.sharing_organization_ids(actor):
        raise CareError(
            f"{organization} is not in a partnership with {actor.organization}.",
            field="lead_organization",
        )
    if status not in (S.IDENTIFIED, S.MONITOR):
        raise CareError(
            "A case opened for a partner starts as identified (or monitor for a plan); the"
            " partner's own staff move it on.",
            field="status",
        )
    if not reason.strip():
        raise CareError("Say where the partner agreed to lead.", field="reason")


def _check_care_manager(organization: Organization, care_manager: User | None) -> None:
    if care_manager is None:
        return
    if not Membership.objects.filter(
        user=care_manager, organization=organization, is_active=True
    ).exists():
        raise CareError(
            f"{care_manager.get_full_name() or care_manager.get_username()} is not an active"
            f" member of {organization}; the care manager works for the lead organization.",
            field="care_manager",
        )


def _check_day(organization: Organization, day: datetime.date, field: str) -> None:
    today = organization_today(organization)
    if day > today:
        raise CareError(f"{day:%Y-%m-%d} is in the future; today is {today:%Y-%m-%d}.", field=field)


def _tell_care_manager(actor: Actor, enrollment: Enrollment) -> None:
    user = enrollment.care_manager
    if user is None or user.pk == actor.user.pk:
        return
    notify(
        user,
        enrollment.lead_organization,
        kind="enrollment_assigned",
        title="A patient was assigned to you for care management",
        body=f"{enrollment.patient.full_name}: {enrollment.get_program_display()}",
        url=reverse("enrollment_detail", args=[enrollment.pk]),
        patient=enrollment.patient,
    )


def _warn_if_over_ratio(enrollment: Enrollment) -> None:
    """Tell the supervisors when this enrollment takes its care manager above the caseload
    ratio (seed 003: 60:1), once, as it happens: seed 002's "sink or swim" asks them to act
    before the care manager is overwhelmed."""
    user = enrollment.care_manager
    if user is None or enrollment.status not in ACTIVE_STATUSES:
        return
    organization = enrollment.lead_organization
    ratio = organization.effective_caseload_ratio
    if active_caseload_count(organization, user) != ratio + 1:
        return
    name = user.get_full_name() or user.get_username()
    for membership in supervisors(organization):
        notify(
            membership.user,
            organization,
            kind="caseload_over_ratio",
            title=f"A care manager's caseload is above {ratio}:1",
            body=f"{name} now holds {ratio + 1} active enrollments.",
            url=reverse("caseload"),
        )


@transaction.atomic
def enroll(
    actor: Actor,
    patient: Patient,
    *,
    program: str,
    acuity: str,
    care_manager: User | None,
    status: str = S.IDENTIFIED,
    reason: str = "",
    on: datetime.date | None = None,
    lead_organization: Organization | None = None,
) -> Enrollment:
    """Open an enrollment led by the actor's organization, in one of `INITIAL_STATUSES`.

    `lead_organization` names a partner instead when the two agreed on the lead at their case
    conference (seed 004 step 7g-v): the partner's case opens as identified (or monitor, for a
    plan) and its care manager, who must work there, is told; the partner moves it on from there.
    """
    patient = access.get_patient_for_editor(actor, patient.pk)
    organization = lead_organization or actor.organization
    if organization.pk != actor.organization.pk:
        _check_partner_lead(actor, organization, status, reason)
    if program not in Program.values:
        raise CareError(f"{program!r} is not a care-management program.", field="program")
    if acuity not in Acuity.values:
        raise CareError(f"{acuity!r} is not an acuity tier.", field="acuity")
    if status not in INITIAL_STATUSES:
        raise CareError(
            f"A new enrollment starts as identified, outreach, engaged, enrolled or monitor,"
            f" not {_label(status).lower()}.",
            field="status",
        )
    _check_monitor(organization, status)
    _check_care_manager(organization, care_manager)
    day = on or organization_today(organization)
    _check_day(organization, day, "on")
    existing = (
        Enrollment.objects.filter(patient=patient, program=program, lead_organization=organization)
        .exclude(status__in=CLOSED_STATUSES)
        .first()
    )
    if existing is not None:
        raise CareError(
            f"{patient.full_name} already has an open {existing.get_program_display()}"
            f" enrollment with {organization} ({existing.get_status_display().lower()} since"
            f" {existing.status_since:%Y-%m-%d}); move that one along instead.",
            field="program",
        )
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                patient=patient,
                program=program,
                lead_organization=organization,
                care_manager=care_manager,
                acuity=acuity,
                status=status,
                status_since=day,
                identified_on=day,
                created_by=actor.user,
            )
    except IntegrityError:
        # Someone opened the same enrollment a moment ago.
        raise CareError(
            f"{patient.full_name} already has an open enrollment in this program with"
            f" {organization}.",
            field="program",
        ) from None
    EnrollmentTransition.objects.create(
        enrollment=enrollment,
        from_status="",
        to_status=status,
        effective_on=day,
        reason=reason.strip() or f"Opened as {_label(status).lower()}.",
        by=actor.user,
        by_organization=organization,
    )
    if status == S.ENROLLED:
        schedule_patient_surveys(enrollment, day)
    if care_manager is not None:
        ensure_on_care_team(actor, patient, care_manager)
    log.record(
        actor,
        AuditAction.CREATE,
        patient=patient,
        obj=enrollment,
        detail={
            "program": program,
            "status": status,
            "acuity": acuity,
            "care_manager": care_manager.get_username() if care_manager else "",
        },
    )
    _tell_care_manager(actor, enrollment)
    _warn_if_over_ratio(enrollment)
    return enrollment


@transaction.atomic
def transition(
    actor: Actor,
    enrollment: Enrollment,
    to_status: str,
    *,
    reason: str,
    effective_on: datetime.date | None = None,
) -> Enrollment:
    """Move the enrollment to `to_status` as of `effective_on` (default today), for a reason.

    Only the lead organization's staff do this. The date may not be in the future nor before
    the date of the current status, so the history reads in order.
    """
    access.care.get_enrollment_for_editor(actor, enrollment.pk)
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("patient", "lead_organization", "care_manager")
        .get(pk=enrollment.pk)
    )
    from_status = enrollment.status
    if to_status not in S.values:
        raise CareError(f"{to_status!r} is not an enrollment status.", field="to_status")
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        nexts = ", ".join(_label(s).lower() for s in allowed_next(from_status)) or "nothing"
        raise CareError(
            f"An enrollment cannot move from {_label(from_status).lower()} to"
            f" {_label(to_status).lower()}; from {_label(from_status).lower()} it may move to"
            f" {nexts}.",
            field="to_status",
        )
    _check_monitor(enrollment.lead_organization, to_status)
    reason = reason.strip()
    if not reason:
        raise CareError("Say why the status changes.", field="reason")
    day = effective_on or organization_today(enrollment.lead_organization)
    _check_day(enrollment.lead_organization, day, "effective_on")
    if day < enrollment.status_since:
        raise CareError(
            f"{day:%Y-%m-%d} is before the current status began"
            f" ({_label(from_status).lower()} since {enrollment.status_since:%Y-%m-%d}).",
            field="effective_on",
        )
    enrollment.status = to_status
    enrollment.status_since = day
    if to_status in CLOSED_STATUSES:
        enrollment.ended_on = max(day, enrollment.identified_on)
    enrollment.save(update_fields=["status", "status_since", "ended_on", "updated_at"])
    EnrollmentTransition.objects.create(
        enrollment=enrollment,
        from_status=from_status,
        to_status=to_status,
        effective_on=day,
        reason=reason,
        by=actor.user,
        by_organization=actor.organization,
    )
    if to_status == S.ENROLLED:
        schedule_patient_surveys(enrollment, day)
    log.record(
        actor,
        AuditAction.UPDATE,
        patient=enrollment.patient,
        obj=enrollment,
        detail={
            "from_status": from_status,
            "to_status": to_status,
            "effective_on": day.isoformat(),
        },
    )
    if to_status in ACTIVE_STATUSES and from_status not in ACTIVE_STATUSES:
        _warn_if_over_ratio(enrollment)
    return enrollment


@transaction.atomic
def update_enrollment(
    actor: Actor, enrollment: Enrollment, *, care_manager: User | None, acuity: str
) -> Enrollment:
    """Reassign the care manager or change the acuity tier. Transitions record statuses
    only, so the change is kept in the audit log, with the before and after."""
    access.care.get_enrollment_for_editor(actor, enrollment.pk)
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("patient", "lead_organization", "care_manager")
        .get(pk=enrollment.pk)
    )
    if not enrollment.is_open:
        raise CareError(
            f"This enrollment ended on {enrollment.ended_on:%Y-%m-%d}; open a new one instead."
        )
    if acuity not in Acuity.values:
        raise CareError(f"{acuity!r} is not an acuity tier.", field="acuity")
    _check_care_manager(enrollment.lead_organization, care_manager)
    before_manager = enrollment.care_manager
    changes: dict[str, dict[str, str]] = {}
    if (before_manager.pk if before_manager else None) != (
        care_manager.pk if care_manager else None
    ):
        changes["care_manager"] = {
            "from": before_manager.get_username() if before_manager else "",
            "to": care_manager.get_username() if care_manager else "",
        }
    if enrollment.acuity != acuity:
        changes["acuity"] = {"from": enrollment.acuity, "to": acuity}
    if not changes:
        return enrollment
    enrollment.care_manager = care_manager
    enrollment.acuity = acuity
    enrollment.save(update_fields=["care_manager", "acuity", "updated_at"])
    log.record(
        actor, AuditAction.UPDATE, patient=enrollment.patient, obj=enrollment, detail=changes
    )
    if "care_manager" in changes and care_manager is not None:
        ensure_on_care_team(actor, enrollment.patient, care_manager)
        _tell_care_manager(actor, enrollment)
        _warn_if_over_ratio(enrollment)
    return enrollment
