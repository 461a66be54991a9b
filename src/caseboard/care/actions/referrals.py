"""The community-resource directory and closed-loop referrals.

A referral goes from a care team to a community organization's program and comes back closed
with an outcome (seed 003: the network links members to housing authorities, food banks and
other community services; DESIGN W3 "referrals to community resources with closed-loop
status"). When the organization uses caseboard its staff move the referral along themselves;
when it does not, the referring side records what the organization reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.errors import CareError, StaleVersion
from caseboard.care.models import (
    CLOSED_REFERRAL_STATUSES,
    CommunityResource,
    Referral,
    ReferralOutcome,
    ReferralStatus,
    ReferralUpdate,
    Screening,
    ServiceCategory,
)
from caseboard.orgs.models import Membership, Organization, OrganizationKind
from caseboard.patients.models import Patient

S = ReferralStatus


# The closed loop: from each status, where a referral may go next. Closed statuses go nowhere.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.SENT: frozenset({S.ACCEPTED, S.DECLINED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.COMPLETED, S.DECLINED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.DECLINED: frozenset(),
    S.CANCELLED: frozenset(),
}

# The outcomes that may close a referral in each closing status.
OUTCOMES_FOR: dict[str, tuple[str, ...]] = {
    S.COMPLETED: (ReferralOutcome.NEED_MET, ReferralOutcome.PARTLY_MET, ReferralOutcome.NOT_MET),
    S.DECLINED: (
        ReferralOutcome.NOT_ELIGIBLE,
        ReferralOutcome.PATIENT_DECLINED,
        ReferralOutcome.UNABLE_TO_CONTACT,
        ReferralOutcome.NOT_MET,
    ),
    S.CANCELLED: (
        ReferralOutcome.NEED_MET,
        ReferralOutcome.PARTLY_MET,
        ReferralOutcome.NOT_MET,
        ReferralOutcome.NOT_ELIGIBLE,
        ReferralOutcome.PATIENT_DECLINED,
        ReferralOutcome.UNABLE_TO_CONTACT,
    ),
}

# Withdrawing a referral is the referring side's decision; everything else is the receiving
# organization's, recorded by the referring side only when the organization is not in
# caseboard.
REFERRER_ONLY = frozenset({S.CANCELLED})

REPORTED_VIA = {
    "phone": "by phone",
    "email": "by e-mail",
    "fax": "by fax",
    "in_person": "in person",
    "patient": "by the patient",
}

Side = Literal["referring", "receiving"]


# --- Directory ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceFields:
    """What a listing says; forms and the API both fill it."""

    name: str
    categories: list[str]
    description: str = ""
    eligibility: str = ""
    languages: str = ""
    hours: str = ""
    address: str = ""
    city: str = ""
    postal_code: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    organization: Organization | None = None
    is_active: bool = True


def _check_resource_fields(actor: Actor, fields: ResourceFields) -> None:
    if not fields.name.strip():
        raise CareError("Give the program's name.", field="name")
    if not fields.categories:
        raise CareError("Choose at least one service category.", field="categories")
    unknown = [c for c in fields.categories if c not in ServiceCategory.values]
    if unknown:
        raise CareError(f"“{unknown[0]}” is not a service category.", field="categories")
    receiving = fields.organization
    if receiving is not None and receiving.kind != OrganizationKind.CBO:
        raise CareError(f"{receiving} is not a community-based organization.", field="organization")
    if actor.organization.kind == OrganizationKind.CBO and receiving not in (
        None,
        actor.organization,
    ):
        raise CareError(
            "A community organization lists its own programs only.", field="organization"
        )


def _apply(resource: CommunityResource, fields: ResourceFields) -> None:
    resource.name = fields.name.strip()
    resource.categories = [c for c in ServiceCategory.values if c in set(fields.categories)]
    resource.description = fields.description
    resource.eligibility = fields.eligibility
    resource.languages = fields.languages
    resource.hours = fields.hours
    resource.address = fields.address
    resource.city = fields.city
    resource.postal_code = fields.postal_code
    resource.phone = fields.phone
    resource.email = fields.email
    resource.website = fields.website
    resource.organization = fields.organization
    resource.is_active = fields.is_active


@transaction.atomic
def add_resource(actor: Actor, fields: ResourceFields) -> CommunityResource:
    """A listing kept by the actor's organization (and, for a CBO, its own program)."""
    access.care.require_editor(actor)
    if actor.organization.kind == OrganizationKind.CBO and fields.organization is None:
        fields = ResourceFields(**{**fields.__dict__, "organization": actor.organization})
    _check_resource_fields(actor, fields)
    resource = CommunityResource(maintained_by=actor.organization)
    _apply(resource, fields)
    resource.save()
    log.record(actor, AuditAction.CREATE, obj=resource, detail={"name": resource.name})
    return resource


@transaction.atomic
def change_resource(
    actor: Actor, resource: CommunityResource, fields: ResourceFields
) -> CommunityResource:
    resource = access.care.get_resource_for_editor(actor, resource.pk)
    access.care.require_editor(actor)
    _check_resource_fields(actor, fields)
    before = {"name": resource.name, "is_active": resource.is_active}
    _apply(resource, fields)
    resource.save()
    log.record(
        actor,
        AuditAction.UPDATE,
        obj=resource,
        detail={"before": before, "name": resource.name, "is_active": resource.is_active},
    )
    return resource


# --- Referrals ---------------------------------------------------------------------------


def side_of(actor: Actor, referral: Referral) -> Side | None:
    """Which end of the referral the actor's organization holds, if either."""
    if referral.resource.organization_id == actor.organization.pk:
        return "receiving"
    if referral.organization_id == actor.organization.pk:
        return "referring"
    return None


def next_statuses(actor: Actor, referral: Referral) -> list[str]:
    """The statuses this actor may move the referral to now, in lifecycle order."""
    if not actor.can_edit_patients:
        return []
    side = side_of(actor, referral)
    allowed = ALLOWED_TRANSITIONS[referral.status]
    if side == "receiving":
        allowed = allowed - REFERRER_ONLY
    elif side == "referring":
        if referral.resource.organization_id is not None:
            # The organization answers for itself in caseboard.
            allowed = allowed & REFERRER_ONLY
    else:
        return []
    return [s for s in S.values if s in allowed]


def _staff(organization: Organization) -> list[User]:
    return [
        m.user
        for m in Membership.objects.select_related("user").filter(
            organization=organization, is_active=True, user__is_active=True
        )
    ]


def _label(value: str, choices: Any) -> str:
    return str(dict(choices.choices).get(value, value))


@transaction.atomic
def refer(
    actor: Actor,
    patient: Patient,
    resource: CommunityResource,
    *,
    category: str,
    reason: str,
    screening: Screening | None = None,
) -> Referral:
    """Send the patient to a program in the directory; status "sent"."""
    patient = access.get_patient_for_editor(actor, patient.pk)
    resource = access.care.get_resource_for_user(actor, resource.pk)
    if not resource.is_active:
        raise CareError(f"{resource.name} is no longer taking referrals.", field="resource")
    if category not in resource.categories:
        offered = ", ".join(_label(c, ServiceCategory) for c in resource.categories) or "nothing"
        raise CareError(
            f"{resource.name} does not offer {_label(category, ServiceCategory).lower()}"
            f" services; it offers {offered.lower()}.",
            field="category",
        )
    if not reason.strip():
        raise CareError(
            "Say why you are referring the patient (what they need help with).", field="reason"
        )
    if screening is not None:
        screening = access.care.get_screening_for_user(actor, screening.pk)
        if screening.patient_id != patient.pk:
            raise CareError("That screening is another patient's.", field="screening")
    referral = Referral.objects.create(
        patient=patient,
        resource=resource,
        category=category,
        reason=reason.strip(),
        screening=screening,
        referred_by=actor.user,
        organization=actor.organization,
    )
    ReferralUpdate.objects.create(
        referral=referral,
        status=S.SENT,
        note=f"Referred to {resource.name}",
        by=actor.user,
        by_organization=actor.organization,
    )
    log.record(
        actor,
        AuditAction.CREATE,
        patient=patient,
        obj=referral,
        detail={"resource": resource.name, "category": category},
    )
    if resource.organization is not None:
        url = reverse("referral_detail", args=[referral.pk])
        for user in _staff(resource.organization):
            # The receiving organization has no access to the chart; the body says only who
            # and why (minimum necessary), the title nothing that names the patient.
            notify(
                user,
                resource.organization,
                kind="referral_received",
                title=f"New referral: {_label(category, ServiceCategory).lower()}",
                body=f"{patient.full_name} — {referral.reason} (from {actor.organization})",
                url=url,
            )
    return referral


@transaction.atomic
def update_referral(
    actor: Actor,
    referral: Referral,
    status: str,
    *,
    outcome: str = "",
    note: str = "",
    reported_via: str = "phone",
    expected_status: str | None = None,
) -> Referral:
    """Move a referral along its loop; closing it needs an outcome.

    The receiving organization's staff update their own referrals. The referring side may
    cancel; when the organization does not use caseboard it also records, on the
    organization's behalf, what it reported (`reported_via`), which closes the loop either way.
    `expected_status` is the status the user saw: if someone changed it since, nothing is
    overwritten.
    """
    found = access.care.get_referral_for_editor(actor, referral.pk)
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("patient", "resource", "resource__organization", "organization")
        .get(pk=found.pk)
    )
    if expected_status and referral.status != expected_status:
        raise StaleVersion(
            f"Someone changed this referral to “{referral.get_status_display()}” while you had it"
            " open; look again before updating it."
        )
    if status not in S.values:
        raise CareError(f"“{status}” is not a referral status.", field="status")
    if status not in ALLOWED_TRANSITIONS[referral.status]:
        raise CareError(
            f"A referral that is {referral.get_status_display().lower()} cannot become"
            f" {_label(status, S).lower()}.",
            field="status",
        )
    side = side_of(actor, referral)
    if status not in next_statuses(actor, referral):
        if side == "receiving":
            raise CareError(
                "Only the referring organization cancels a referral; decline it instead.",
                field="status",
            )
        raise CareError(
            f"{referral.resource.organization} updates this referral in caseboard; you can"
            " cancel it.",
            field="status",
        )
    closing = status in CLOSED_REFERRAL_STATUSES
    if closing:
        if not outcome:
            raise CareError(
                f"Choose an outcome to close the referral as {_label(status, S).lower()}.",
                field="outcome",
            )
        if outcome not in OUTCOMES_FOR[status]:
            allowed = ", ".join(_label(o, ReferralOutcome).lower() for o in OUTCOMES_FOR[status])
            raise CareError(
                f"A {_label(status, S).lower()} referral's outcome is one of: {allowed}.",
                field="outcome",
            )
    elif outcome:
        raise CareError("An outcome is recorded when the referral closes.", field="outcome")
    on_behalf = side == "referring" and status not in REFERRER_ONLY
    note = note.strip()
    if on_behalf:
        if reported_via not in REPORTED_VIA:
            raise CareError("Say how the organization reported it.", field="reported_via")
        reported = f"Reported {REPORTED_VIA[reported_via]} by {referral.resource.name}"
        note = f"{reported}: {note}" if note else reported
    previous = referral.status
    referral.status = status
    if closing:
        referral.outcome = outcome
        referral.outcome_note = note
        referral.closed_at = timezone.now()
    referral.save(update_fields=["status", "outcome", "outcome_note", "closed_at", "updated_at"])
    ReferralUpdate.objects.create(
        referral=referral,
        status=status,
        note=note,
        by=actor.user,
        by_organization=actor.organization,
    )
    log.record(
        actor,
        AuditAction.UPDATE,
        patient=referral.patient,
        obj=referral,
        detail={"from": previous, "to": status, "outcome": outcome},
    )
    _tell_the_other_side(actor, referral, side)
    return referral


def _tell_the_other_side(actor: Actor, referral: Referral, side: Side | None) -> None:
    url = reverse("referral_detail", args=[referral.pk])
    status = referral.get_status_display().lower()
    outcome = f" ({referral.get_outcome_display().lower()})" if referral.outcome else ""
    body = f"{referral.patient.full_name}: {referral.resource.name} — {status}{outcome}."
    title = f"Referral {status}{outcome}"
    receiving = referral.resource.organization
    if side == "referring" and receiving is not None:
        for user in _staff(receiving):
            notify(user, receiving, kind="referral_updated", title=title, body=body, url=url)
    elif referral.referred_by_id != actor.user.pk:
        # The receiving organization answered, or a colleague recorded its answer.
        notify(
            referral.referred_by,
            referral.organization,
            kind="referral_updated",
            title=title,
            body=body,
            url=url,
            patient=referral.patient,
        )
