"""Who may see and change care-management records.

A care record is visible when its patient is visible to the actor and the organization that
holds it is the actor's or a partner's in an active partnership (the care team of every
partner shares one care plan, seed 003 "Health Information Technology"). Community
organizations see nobody's chart: only the referrals sent to them and what those carry.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet

from caseboard.access.policy import Actor, one_or_404, sharing_organization_ids, visible_patients
from caseboard.care.models import (
    Barrier,
    CarePlan,
    CareTeamMember,
    CommunityResource,
    Enrollment,
    Goal,
    Interaction,
    Intervention,
    Notification,
    PatientSurvey,
    Referral,
    Screening,
    StaffSurvey,
    SuccessStory,
    Task,
)
from caseboard.orgs.models import Membership, Organization, Role
from caseboard.patients.models import Patient

M = TypeVar("M", bound=models.Model)


def require_editor(actor: Actor) -> None:
    if not actor.can_edit_patients:
        raise PermissionDenied("Your role may read care records but not change them.")


# --- Enrollment and interactions ----------------------------------------------------------


def visible_enrollments(actor: Actor) -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related("patient", "lead_organization", "care_manager").filter(
        patient__in=visible_patients(actor),
        lead_organization_id__in=sharing_organization_ids(actor),
    )


def get_enrollment_for_user(actor: Actor, enrollment_id: int | str) -> Enrollment:
    return one_or_404(visible_enrollments(actor), enrollment_id, "enrollment")


def get_enrollment_for_editor(actor: Actor, enrollment_id: int | str) -> Enrollment:
    """Only the lead organization's staff move an enrollment along its lifecycle."""
    enrollment = get_enrollment_for_user(actor, enrollment_id)
    require_editor(actor)
    if enrollment.lead_organization_id != actor.organization.pk:
        raise PermissionDenied(
            f"{enrollment.lead_organization} leads this enrollment; only its staff change it."
        )
    return enrollment


def visible_interactions(actor: Actor) -> QuerySet[Interaction]:
    return Interaction.objects.select_related("staff", "organization").filter(
        patient__in=visible_patients(actor),
        organization_id__in=sharing_organization_ids(actor),
    )


# --- Care plan ----------------------------------------------------------------------------


def visible_care_plans(actor: Actor) -> QuerySet[CarePlan]:
    return CarePlan.objects.select_related("patient").filter(patient__in=visible_patients(actor))


def _in_visible_plan(actor: Actor, model: type[M]) -> QuerySet[M]:
    return model._default_manager.filter(care_plan__patient__in=visible_patients(actor))


def get_goal_for_user(actor: Actor, goal_id: int | str) -> Goal:
    return one_or_404(
        _in_visible_plan(actor, Goal).select_related("care_plan__patient"), goal_id, "goal"
    )


def get_goal_for_editor(actor: Actor, goal_id: int | str) -> Goal:
    goal = get_goal_for_user(actor, goal_id)
    require_editor(actor)
    return goal


def get_barrier_for_editor(actor: Actor, barrier_id: int | str) -> Barrier:
    barrier = one_or_404(
        _in_visible_plan(actor, Barrier).select_related("care_plan__patient"),
        barrier_id,
        "barrier",
    )
    require_editor(actor)
    return barrier


def get_intervention_for_editor(actor: Actor, intervention_id: int | str) -> Intervention:
    intervention = one_or_404(
        _in_visible_plan(actor, Intervention).select_related("care_plan__patient"),
        intervention_id,
        "intervention",
    )
    require_editor(actor)
    return intervention


def visible_success_stories(actor: Actor) -> QuerySet[SuccessStory]:
    return SuccessStory.objects.select_related("goal__care_plan__patient", "by").filter(
        goal__care_plan__patient__in=visible_patients(actor),
        by_organization_id__in=sharing_organization_ids(actor),
    )


# --- Tasks and notifications --------------------------------------------------------------


def visible_tasks(actor: Actor) -> QuerySet[Task]:
    """Tasks about a visible patient held by a partner, and the organization's own others."""
    sharing = sharing_organization_ids(actor)
    own = actor.organization.pk
    about_patient = Q(patient__in=visible_patients(actor)) & (
        Q(owner_organization_id__in=sharing) | Q(created_by_organization_id__in=sharing)
    )
    without_patient = Q(patient__isnull=True) & (
        Q(owner_organization_id=own) | Q(created_by_organization_id=own)
    )
    return Task.objects.select_related(
        "patient", "owner_user", "owner_organization", "goal"
    ).filter(about_patient | without_patient)


def get_task_for_user(actor: Actor, task_id: int | str) -> Task:
    return one_or_404(visible_tasks(actor), task_id, "task")


def get_task_for_editor(actor: Actor, task_id: int | str) -> Task:
    """The owning organization works a task; the one that assigned it may also change it."""
    task = get_task_for_user(actor, task_id)
    require_editor(actor)
    if actor.organization.pk not in (task.owner_organization_id, task.created_by_organization_id):
        raise PermissionDenied(f"This task belongs to {task.owner_organization}.")
    return task


def visible_notifications(actor: Actor) -> QuerySet[Notification]:
    return Notification.objects.filter(user=actor.user, organization=actor.organization)


def get_notification_for_user(actor: Actor, notification_id: int | str) -> Notification:
    return one_or_404(visible_notifications(actor), notification_id, "notification")


# --- Screening, resources and referrals ---------------------------------------------------


def visible_screenings(actor: Actor) -> QuerySet[Screening]:
    return Screening.objects.select_related("patient", "administered_by", "organization").filter(
        patient__in=visible_patients(actor),
        organization_id__in=sharing_organization_ids(actor),
    )


def get_screening_for_user(actor: Actor, screening_id: int | str) -> Screening:
    return one_or_404(visible_screenings(actor), screening_id, "screening")


def visible_resources(actor: Actor) -> QuerySet[CommunityResource]:
    """The directory kept by the actor's organization and its partners; a community
    organization also sees its own listings."""
    return CommunityResource.objects.filter(
        Q(maintained_by_id__in=sharing_organization_ids(actor))
        | Q(organization_id=actor.organization.pk)
    )


def get_resource_for_user(actor: Actor, resource_id: int | str) -> CommunityResource:
    return one_or_404(visible_resources(actor), resource_id, "community resource")


def get_resource_for_editor(actor: Actor, resource_id: int | str) -> CommunityResource:
    resource = get_resource_for_user(actor, resource_id)
    if actor.organization.pk not in (resource.maintained_by_id, resource.organization_id):
        raise PermissionDenied(f"{resource.maintained_by} keeps this listing.")
    return resource


def visible_referrals(actor: Actor) -> QuerySet[Referral]:
    """Referrals the actor's side sent (about visible patients), and those sent to it."""
    sent = Q(patient__in=visible_patients(actor)) & Q(
        organization_id__in=sharing_organization_ids(actor)
    )
    received = Q(resource__organization_id=actor.organization.pk)
    return Referral.objects.select_related(
        "patient", "resource", "referred_by", "organization"
    ).filter(sent | received)


def get_referral_for_user(actor: Actor, referral_id: int | str) -> Referral:
    return one_or_404(visible_referrals(actor), referral_id, "referral")


def get_referral_for_editor(actor: Actor, referral_id: int | str) -> Referral:
    referral = get_referral_for_user(actor, referral_id)
    require_editor(actor)
    receiving = referral.resource.organization_id
    if actor.organization.pk not in (referral.organization_id, receiving):
        raise PermissionDenied("Only the referring and receiving organizations update a referral.")
    return referral


# --- Care team and surveys ----------------------------------------------------------------


def visible_care_team(actor: Actor, patient: Patient) -> QuerySet[CareTeamMember]:
    sharing = sharing_organization_ids(actor)
    return patient.care_team.select_related("user", "organization").filter(
        Q(organization_id__in=sharing)
        | Q(organization__isnull=True, added_by_organization_id__in=sharing)
    )


def get_care_team_member_for_editor(actor: Actor, member_id: int | str) -> CareTeamMember:
    sharing = sharing_organization_ids(actor)
    member = one_or_404(
        CareTeamMember.objects.select_related("patient").filter(
            Q(patient__in=visible_patients(actor)),
            Q(organization_id__in=sharing)
            | Q(organization__isnull=True, added_by_organization_id__in=sharing),
        ),
        member_id,
        "care team member",
    )
    require_editor(actor)
    return member


def visible_patient_surveys(actor: Actor) -> QuerySet[PatientSurvey]:
    return PatientSurvey.objects.select_related("patient", "enrollment").filter(
        enrollment__in=visible_enrollments(actor)
    )


def get_patient_survey_for_user(actor: Actor, survey_id: int | str) -> PatientSurvey:
    return one_or_404(visible_patient_surveys(actor), survey_id, "survey")


def get_staff_survey_for_user(actor: Actor, survey_id: int | str) -> StaffSurvey:
    own = StaffSurvey.objects.filter(user=actor.user, organization=actor.organization)
    return one_or_404(own, survey_id, "staff survey")


def visible_staff_surveys(actor: Actor) -> QuerySet[StaffSurvey]:
    """A person's own staff surveys for the organization they are acting for."""
    return StaffSurvey.objects.filter(user=actor.user, organization=actor.organization)


def patient_visible_to_organization(patient: Patient, organization: Organization) -> bool:
    """Whether the staff of `organization` see `patient`, by the same rule as their own pages.

    Asked before handing a task about the patient to another organization: a task its staff
    could not open would be lost work.
    """
    stand_in = Actor(user=User(), membership=Membership(organization=organization))
    return visible_patients(stand_in).filter(pk=patient.pk).exists()


# Who reads the organization's staff-survey results (seed 004 evaluation framework 2c): those
# who run the collaboration, never colleagues reading each other's answers.
STAFF_SURVEY_RESULT_ROLES = frozenset(
    {Role.DIRECTOR_OF_CARE_MANAGEMENT, Role.PROJECT_MANAGER, Role.HHP_DIRECTOR}
)


def may_see_staff_survey_results(actor: Actor) -> bool:
    return actor.is_admin or actor.role in STAFF_SURVEY_RESULT_ROLES


def organization_staff_surveys(actor: Actor) -> QuerySet[StaffSurvey]:
    """Every staff survey of the actor's organization, for its directors and administrators."""
    if not may_see_staff_survey_results(actor):
        raise PermissionDenied("Only directors, project managers and administrators see these.")
    return StaffSurvey.objects.filter(organization=actor.organization)
