"""Who is on a patient's care team, across organizations (seed 003 Table 1), and who leads it."""

from __future__ import annotations

import phonenumbers
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.errors import CareError
from caseboard.care.models import CareTeamMember
from caseboard.care.queries.care_team import current_team, member_label, team_organizations
from caseboard.care.queries.care_time import organization_today
from caseboard.orgs.models import Membership, Organization, Role
from caseboard.patients.models import Patient


def _phone(text: str) -> str:
    """A US phone number written the usual way, or a CareError saying what is wrong."""
    text = text.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        raise CareError(f"{text!r} is not a phone number.", field="phone") from None
    if not phonenumbers.is_possible_number(number):
        raise CareError(f"{text!r} is not a complete phone number.", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _clear_lead(actor: Actor, patient: Patient) -> list[int]:
    """One lead per patient: the person the patient and the partners call first."""
    leads = current_team(actor, patient).filter(is_lead=True)
    cleared = list(leads.values_list("pk", flat=True))
    CareTeamMember.objects.filter(pk__in=cleared).update(is_lead=False)
    return cleared


@transaction.atomic
def add_care_team_member(
    actor: Actor,
    patient: Patient,
    *,
    user: User | None = None,
    organization: Organization | None = None,
    name: str = "",
    role: str = "",
    role_description: str = "",
    phone: str = "",
    is_lead: bool = False,
) -> CareTeamMember:
    """Add staff of the actor's organization or of a partner serving the patient (`user`,
    `organization`; the role defaults to their role there), or a person outside caseboard
    (`name` and `role_description`, e.g. "Cardiologist", "Daughter and caregiver")."""
    patient = access.get_patient_for_editor(actor, patient.pk)
    name = name.strip()
    role_description = role_description.strip()
    if role and role not in Role.values:
        raise CareError(f"{role!r} is not a care-team role.", field="role")
    if user is not None:
        organization = organization or actor.organization
        if organization.pk not in {o.pk for o in team_organizations(actor, patient)}:
            raise CareError(
                f"{organization} does not serve this patient with {actor.organization}; add"
                " staff of your organization or of the partner that covers or serves them.",
                field="user",
            )
        membership = Membership.objects.filter(
            user=user, organization=organization, is_active=True
        ).first()
        if membership is None:
            raise CareError(
                f"{user.get_full_name() or user.get_username()} does not work for {organization}.",
                field="user",
            )
        if patient.care_team.filter(user=user, ended_on__isnull=True).exists():
            raise CareError(
                f"{user.get_full_name() or user.get_username()} is already on the care team.",
                field="user",
            )
        role = role or membership.role
        phone = phone or membership.phone
        name = ""
    else:
        if organization is not None:
            raise CareError("Choose the staff member of that organization.", field="user")
        if not name:
            raise CareError(
                "Choose a staff member, or give the name of the person outside caseboard.",
                field="name",
            )
        if not role_description and not role:
            raise CareError(
                "Say who they are to the patient, e.g. cardiologist or daughter and caregiver.",
                field="role_description",
            )
    cleared = _clear_lead(actor, patient) if is_lead else []
    member = CareTeamMember.objects.create(
        patient=patient,
        user=user,
        organization=organization,
        name=name,
        role=role,
        role_description=role_description,
        phone=_phone(phone),
        is_lead=is_lead,
        started_on=organization_today(actor.organization),
        added_by=actor.user,
        added_by_organization=actor.organization,
    )
    log.record(
        actor,
        AuditAction.CREATE,
        patient=patient,
        obj=member,
        detail={
            "member": member_label(member),
            "organization": organization.name if organization is not None else "",
            "role": role,
            "is_lead": is_lead,
            "lead_cleared_from": cleared,
        },
    )
    if user is not None and organization is not None and user.pk != actor.user.pk:
        notify(
            user,
            organization,
            kind="care_team_added",
            title="You were added to a patient's care team",
            body=f"{patient.full_name}: {member.get_role_display() or role_description}",
            url=reverse("care_team", args=[patient.pk]),
            patient=patient,
        )
    return member


def ensure_on_care_team(actor: Actor, patient: Patient, user: User) -> CareTeamMember | None:
    """Put a newly assigned care manager of the actor's organization on the patient's team,
    unless they are on it already. The caller has checked access to the patient."""
    if patient.care_team.filter(user=user, ended_on__isnull=True).exists():
        return None
    membership = Membership.objects.filter(
        user=user, organization=actor.organization, is_active=True
    ).first()
    if membership is None:
        return None
    member = CareTeamMember.objects.create(
        patient=patient,
        user=user,
        organization=actor.organization,
        role=membership.role,
        phone=membership.phone,
        started_on=organization_today(actor.organization),
        added_by=actor.user,
        added_by_organization=actor.organization,
    )
    log.record(
        actor,
        AuditAction.CREATE,
        patient=patient,
        obj=member,
        detail={"member": member_label(member), "reason": "assigned care manager"},
    )
    return member


@transaction.atomic
def make_care_team_lead(actor: Actor, member: CareTeamMember) -> CareTeamMember:
    member = access.care.get_care_team_member_for_editor(actor, member.pk)
    if member.ended_on is not None:
        raise CareError(f"{member_label(member)} has left the care team.")
    cleared = _clear_lead(actor, member.patient)
    member.is_lead = True
    member.save(update_fields=["is_lead"])
    log.record(
        actor,
        AuditAction.UPDATE,
        patient=member.patient,
        obj=member,
        detail={"is_lead": True, "lead_cleared_from": [c for c in cleared if c != member.pk]},
    )
    return member


@transaction.atomic
def end_care_team_member(actor: Actor, member: CareTeamMember) -> CareTeamMember:
    """The person leaves the patient's team today; the record stays, with its dates."""
    member = access.care.get_care_team_member_for_editor(actor, member.pk)
    if member.ended_on is not None:
        raise CareError(f"{member_label(member)} left the care team on {member.ended_on}.")
    today = organization_today(actor.organization)
    member.ended_on = max(today, member.started_on)
    member.is_lead = False
    member.save(update_fields=["ended_on", "is_lead"])
    log.record(
        actor,
        AuditAction.UPDATE,
        patient=member.patient,
        obj=member,
        detail={"member": member_label(member), "ended_on": member.ended_on.isoformat()},
    )
    return member
