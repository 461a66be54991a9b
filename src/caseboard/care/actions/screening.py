"""Recording a screening: scored by `care.screening`, saved, and acted on when it must be
(PHQ-9 item 9 the same day; AHC social needs into the patient's social needs)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care import screening as instruments
from caseboard.care.actions.notifications import notify
from caseboard.care.actions.tasks import create_task
from caseboard.care.errors import CareError
from caseboard.care.models import (
    CLOSED_STATUSES,
    Screening,
    Task,
    TaskPriority,
    TaskSource,
)
from caseboard.orgs.models import Organization
from caseboard.patients.models import Patient

SAFETY_TASK_TITLE = "Same-day safety assessment: PHQ-9 item 9 positive"


def _today(actor: Actor) -> datetime.date:
    return timezone.localdate(timezone=actor.organization.zone)


@transaction.atomic
def record_screening(
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: Mapping[str, object],
    *,
    administered_on: datetime.date | None = None,
) -> Screening:
    """Score `answers` by the instrument's published rules and keep the result.

    Raises ScreeningError (a CareError naming the item) for a missing or invalid answer; then
    nothing is saved.
    """
    patient = access.get_patient_for_editor(actor, patient.pk)
    today = _today(actor)
    day = administered_on or today
    if day > today:
        raise CareError(
            f"{day:%Y-%m-%d} is in the future; record the day the screening was done.",
            field="administered_on",
        )
    result = instruments.score(instrument, answers, sex=patient.sex)
    screening = Screening.objects.create(
        patient=patient,
        instrument=result.instrument,
        answers=result.answers,
        score=result.score,
        interpretation=result.interpretation[:200],
        positive=result.positive,
        safety_flag=result.safety_flag,
        positive_domains=list(result.positive_domains),
        administered_on=day,
        administered_by=actor.user,
        organization=actor.organization,
    )
    log.record(
        actor,
        AuditAction.CREATE,
        patient=patient,
        obj=screening,
        detail={
            "instrument": screening.instrument,
            "score": screening.score,
            "positive": screening.positive,
        },
    )
    if screening.safety_flag:
        _act_on_safety_flag(actor, patient, screening, today)
    if screening.positive_domains:
        _add_social_needs(actor, patient, screening)
    return screening


def safety_task_detail(screening: Screening) -> str:
    url = reverse("screening_detail", args=[screening.pk])
    return (
        f"PHQ-9 of {screening.administered_on:%Y-%m-%d}: item 9 (thoughts that you would be"
        " better off dead or of hurting yourself) was answered above “Not at all”. Assess"
        " suicide risk today and follow the practice's safety protocol."
        f"\nScreening: {url}"
    )


def safety_task_for(actor: Actor, screening: Screening) -> Task | None:
    """The same-day task the screening created, when the actor may see it."""
    return (
        access.care.visible_tasks(actor)
        .filter(
            patient_id=screening.patient_id,
            source=TaskSource.SCREENING,
            title=SAFETY_TASK_TITLE,
            detail__endswith=reverse("screening_detail", args=[screening.pk]),
        )
        .first()
    )


def lead_care_manager(actor: Actor, patient: Patient) -> tuple[User, Organization] | None:
    """The patient's lead care manager: the care team's lead, else the care manager of the
    patient's open enrollment led by a partner."""
    member = (
        access.care.visible_care_team(actor, patient)
        .filter(is_lead=True, ended_on__isnull=True, user__isnull=False, organization__isnull=False)
        .first()
    )
    if member is not None and member.user is not None and member.organization is not None:
        return member.user, member.organization
    enrollment = (
        access.care.visible_enrollments(actor)
        .filter(patient=patient, care_manager__isnull=False)
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("-status_since", "-pk")
        .first()
    )
    if enrollment is not None and enrollment.care_manager is not None:
        return enrollment.care_manager, enrollment.lead_organization
    return None


def _act_on_safety_flag(
    actor: Actor, patient: Patient, screening: Screening, today: datetime.date
) -> None:
    # Kroenke 2001: item 9 above "not at all" calls for a suicide-risk assessment whatever
    # the total; it is owned by the person who heard the answer, due today.
    create_task(
        actor,
        title=SAFETY_TASK_TITLE,
        due_on=today,
        patient=patient,
        owner_organization=actor.organization,
        owner_user=actor.user,
        priority=TaskPriority.HIGH,
        source=TaskSource.SCREENING,
        detail=safety_task_detail(screening),
    )
    lead = lead_care_manager(actor, patient)
    if lead is not None and lead[0].pk != actor.user.pk:
        user, organization = lead
        by = actor.user.get_full_name() or actor.user.get_username()
        notify(
            user,
            organization,
            kind="screening_safety_flag",
            title="Urgent: a PHQ-9 safety flag for a patient you lead",
            body=(
                f"{patient.full_name}: PHQ-9 item 9 answered above “Not at all” on"
                f" {screening.administered_on:%Y-%m-%d}. {by} ({actor.organization}) has a"
                " same-day safety assessment task."
            ),
            url=reverse("screening_detail", args=[screening.pk]),
            patient=patient,
        )


def _add_social_needs(actor: Actor, patient: Patient, screening: Screening) -> None:
    """Positive AHC domains join the patient's social needs (004 step 3 item xii), once."""
    needs = list(patient.social_needs or [])
    added = [
        label
        for domain in screening.positive_domains
        if (label := instruments.SOCIAL_NEED_LABELS.get(domain)) and label not in needs
    ]
    if not added:
        return
    patient.social_needs = needs + added
    patient.save(update_fields=["social_needs", "updated_at"])
    log.record(
        actor,
        AuditAction.UPDATE,
        patient=patient,
        obj=patient,
        detail={"social_needs_added": added, "from_screening": screening.pk},
    )
