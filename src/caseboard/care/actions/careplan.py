"""Writes to the shared care plan (Health Action Plan).

Seed 002 "Create accessible care plans": a patient-focused, goal-oriented working document with
health goals, barriers, confidence scales and follow-up plans, open to every member of the care
team; "celebrate small wins when health goals are met". Seed 003: the plan, the CB-CMEs and the
practices work from one Health Action Plan. Seed 004 step 7g-iv: one patient-centered goal shared
by practice and plan is documented in the care plan.

Every change, of the plan or of anything in it, takes the next `CarePlan.version` with a
conditional update inside the transaction. A change made against a version that is no longer the
current one is refused with `StaleVersion` naming who changed the plan and when, so two people
editing at once never silently overwrite each other (DESIGN §6). Each accepted change leaves a
`CarePlanRevision` with a one-line summary and a snapshot of the whole plan.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.notifications import notify
from caseboard.care.errors import CareError, StaleVersion
from caseboard.care.models import (
    Achievement,
    Barrier,
    BarrierKind,
    CarePlan,
    CarePlanRevision,
    ConfidenceRating,
    Goal,
    GoalDomain,
    GoalProgress,
    GoalSource,
    GoalStatus,
    Intervention,
    InterventionStatus,
    SuccessStory,
)
from caseboard.orgs.models import Membership, Organization
from caseboard.patients.models import Patient

# Seed 004, case vignettes: the shared patient-centered goals the care management teams agreed
# on, offered as a starting point. The care manager then confirms the goal with the patient and
# puts it in the patient's own words (004 "Patient-centered").
GOAL_SUGGESTIONS: tuple[str, ...] = (
    "Maximize patient access to needed care",
    "Increase patient engagement in care decisions",
    "Increase the patient's abilities to manage the condition",
    "Improve the patient's ability to manage a chronic condition and get treatment and"
    " follow-up in a timely manner",
    "Maintain or improve current health status",
    "Maximize patient safety in the post-discharge setting",
    "Maximize patient access to needed care and prescription medications",
    "Increase coverage and link the patient to providers within the plan's network",
    "Connect the patient with substance-use services",
)

# "How confident are you that you can do this?" from 0 (not at all) to 10 (completely).
CONFIDENCE_MIN, CONFIDENCE_MAX = 0, 10

# An intervention the patient carries out is written as responsible "Patient"; the printable
# plan lists those under "What I will do".
PATIENT_RESPONSIBLE = "Patient"

# Confidence is asked about goals the patient is still working on.
OPEN_GOAL_STATUSES = frozenset({GoalStatus.ACTIVE, GoalStatus.ON_HOLD})

SUMMARY_LENGTH = 300


def person(user: User | None) -> str:
    if user is None:
        return "Someone"
    return user.get_full_name() or user.get_username()


def _today(actor: Actor) -> datetime.date:
    return timezone.localdate(timezone=actor.organization.zone)


def _quote(text: str, length: int = 60) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= length else text[: length - 1] + '…'}”"


def _when(actor: Actor, moment: datetime.datetime) -> str:
    local = timezone.localtime(moment, actor.organization.zone)
    clock = f"{local:%-I:%M %p}"
    if local.date() == _today(actor):
        return f"at {clock}"
    return f"on {local:%b} {local.day}, {local.year} at {clock}"


def stale_message(actor: Actor, plan: CarePlan) -> str:
    """Who changed the plan, and when, in words the second editor can act on."""
    if plan.updated_by_id is not None and plan.updated_by_id == actor.user.pk:
        who = "You"
        where = " in another window or tab"
    else:
        who = person(plan.updated_by)
        if plan.updated_by_organization is not None:
            who += f" ({plan.updated_by_organization})"
        where = ""
    return (
        f"{who} changed this care plan{where} {_when(actor, plan.updated_at)}, after you opened"
        " it. Your changes have not been saved; they are kept below — review the current plan"
        " and save again."
    )


# --- The version step every change goes through ------------------------------------------


def _claim_next_version(actor: Actor, patient: Patient, expected_version: int | None) -> CarePlan:
    """The patient's plan at the version this change will be, or StaleVersion.

    The plan is created on its first change (version 1). Otherwise the row is updated only if
    it still holds the version the user saw; the update also locks the row until the
    transaction ends, so concurrent changes queue behind it. `expected_version` None appends
    without the check (a goal recorded at a case conference).
    """
    plan, created = CarePlan.objects.get_or_create(
        patient=patient,
        defaults={
            "version": 1,
            "updated_by": actor.user,
            "updated_by_organization": actor.organization,
        },
    )
    if created:
        return plan
    bump = CarePlan.objects.filter(pk=plan.pk)
    if expected_version is not None:
        bump = bump.filter(version=expected_version)
    changed = bump.update(
        version=F("version") + 1,
        updated_by=actor.user,
        updated_by_organization=actor.organization,
        updated_at=timezone.now(),
    )
    plan = CarePlan.objects.select_related("updated_by", "updated_by_organization").get(pk=plan.pk)
    if not changed:
        raise StaleVersion(stale_message(actor, plan), field="version")
    return plan


def _snapshot(plan: CarePlan) -> dict[str, Any]:
    def day(value: datetime.date | None) -> str | None:
        return value.isoformat() if value is not None else None

    stories = dict(
        SuccessStory.objects.filter(goal__care_plan=plan).values_list("goal_id", "story")
    )
    goals = []
    for goal in plan.goals.prefetch_related("confidence_ratings").order_by("id"):
        goals.append(
            {
                "id": goal.pk,
                "statement": goal.statement,
                "domain": goal.domain,
                "target_date": day(goal.target_date),
                "status": goal.status,
                "achievement": goal.achievement,
                "met_on": day(goal.met_on),
                "source": goal.source,
                "confidence": [
                    {"rating": r.rating, "recorded_on": day(r.recorded_on), "note": r.note}
                    for r in goal.confidence_ratings.all()
                ],
                "success_story": stories.get(goal.pk),
            }
        )
    return {
        "version": plan.version,
        "follow_up_plan": plan.follow_up_plan,
        "goals": goals,
        "barriers": [
            {
                "id": b.pk,
                "goal_id": b.goal_id,
                "kind": b.kind,
                "description": b.description,
                "resolved_on": day(b.resolved_on),
            }
            for b in plan.barriers.order_by("id")
        ],
        "interventions": [
            {
                "id": i.pk,
                "goal_id": i.goal_id,
                "description": i.description,
                "responsible_user_id": i.responsible_user_id,
                "responsible_organization_id": i.responsible_organization_id,
                "responsible_name": i.responsible_name,
                "due_on": day(i.due_on),
                "status": i.status,
            }
            for i in plan.interventions.order_by("id")
        ],
    }


def _revise(actor: Actor, plan: CarePlan, summary: str) -> CarePlanRevision:
    if len(summary) > SUMMARY_LENGTH:
        summary = summary[: SUMMARY_LENGTH - 1] + "…"
    return CarePlanRevision.objects.create(
        care_plan=plan,
        version=plan.version,
        summary=summary,
        snapshot=_snapshot(plan),
        by=actor.user,
        by_organization=actor.organization,
    )


def _audit(actor: Actor, action: AuditAction, plan: CarePlan, obj: Any, change: str) -> None:
    log.record(
        actor,
        action,
        patient=plan.patient,
        obj=obj,
        detail={"care_plan_version": plan.version, "change": change},
    )


# --- Checks shared by the actions --------------------------------------------------------


def _required_text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise CareError(message, field=field)
    return text


def _choice(value: str, choices: type[Any], field: str, what: str) -> str:
    if value not in choices.values:
        allowed = ", ".join(str(label) for label in choices.labels)
        raise CareError(f"“{value}” is not a {what}; choose one of: {allowed}.", field=field)
    return value


def _check_target_date(
    actor: Actor, target_date: datetime.date | None, *, keeping: datetime.date | None = None
) -> None:
    if target_date is None or target_date == keeping:
        return
    today = _today(actor)
    if target_date < today:
        raise CareError(
            f"The target date {target_date:%Y-%m-%d} is in the past; choose today"
            f" ({today:%Y-%m-%d}) or a later date.",
            field="target_date",
        )


def _check_confidence(rating: int | None, field: str = "rating") -> int | None:
    if rating is None:
        return None
    if isinstance(rating, bool) or not CONFIDENCE_MIN <= rating <= CONFIDENCE_MAX:
        raise CareError(
            f"Confidence is a whole number from {CONFIDENCE_MIN} (not at all sure) to"
            f" {CONFIDENCE_MAX} (completely sure); {rating} is outside that scale.",
            field=field,
        )
    return rating


def _check_goal_in_plan(goal: Goal | None, patient: Patient) -> None:
    if goal is not None and goal.care_plan.patient_id != patient.pk:
        raise CareError("That goal belongs to another patient's care plan.", field="goal")


def _responsible_party(
    actor: Actor, user: User | None, organization: Organization | None, name: str
) -> tuple[User | None, Organization | None, str]:
    name = (name or "").strip()
    if user is None and not name:
        raise CareError(
            "Say who will do this: someone on the care team, or a name in words such as"
            " “Patient” or “Daughter Rosa”.",
            field="responsible",
        )
    if user is None:
        return None, None, name
    if name:
        raise CareError("Choose a staff member or type a name, not both.", field="responsible")
    memberships = Membership.objects.select_related("organization").filter(
        user=user,
        is_active=True,
        organization_id__in=access.sharing_organization_ids(actor),
    )
    if organization is not None:
        memberships = memberships.filter(organization=organization)
    membership = memberships.order_by("organization__name").first()
    if membership is None:
        raise CareError(
            f"{person(user)} does not work for {actor.organization} or one of its partners.",
            field="responsible",
        )
    return user, membership.organization, ""


def responsible_label(intervention: Intervention) -> str:
    if intervention.responsible_user_id is not None:
        who = person(intervention.responsible_user)
        if intervention.responsible_organization is not None:
            who += f" ({intervention.responsible_organization})"
        return who
    return intervention.responsible_name


# --- Goals --------------------------------------------------------------------------------


@transaction.atomic
def add_goal(
    actor: Actor,
    patient: Patient,
    *,
    statement: str,
    domain: str = GoalDomain.OTHER,
    target_date: datetime.date | None = None,
    source: str = GoalSource.CARE_TEAM,
    expected_version: int | None = None,
    confidence: int | None = None,
) -> Goal:
    """A patient-centered goal, in the patient's words, with an optional starting confidence.

    `expected_version` None appends without a version check: adding a goal overwrites nothing
    (the case conference records its shared goal this way, 004 step 7g-iv).
    """
    patient = access.get_patient_for_editor(actor, patient.pk)
    statement = _required_text(statement, "statement", "Write the goal in the patient's own words.")
    _choice(domain, GoalDomain, "domain", "goal area")
    _choice(source, GoalSource, "source", "goal source")
    _check_target_date(actor, target_date)
    _check_confidence(confidence, "confidence")
    plan = _claim_next_version(actor, patient, expected_version)
    goal = Goal.objects.create(
        care_plan=plan,
        statement=statement,
        domain=domain,
        target_date=target_date,
        source=source,
        created_by=actor.user,
        created_by_organization=actor.organization,
    )
    GoalProgress.objects.create(
        goal=goal,
        status=goal.status,
        achievement=goal.achievement,
        note="Goal set" + (" at the case conference" if source == GoalSource.CONFERENCE else ""),
        by=actor.user,
        by_organization=actor.organization,
    )
    summary = f"Added goal {_quote(statement)}"
    if confidence is not None:
        ConfidenceRating.objects.create(
            goal=goal, rating=confidence, recorded_on=_today(actor), by=actor.user
        )
        summary += f" with confidence {confidence}/10"
    _revise(actor, plan, summary)
    _audit(actor, AuditAction.CREATE, plan, goal, "goal added")
    return goal


@transaction.atomic
def update_goal(
    actor: Actor,
    goal: Goal,
    *,
    expected_version: int | None,
    statement: str,
    domain: str,
    target_date: datetime.date | None,
    status: str,
    achievement: str,
    note: str = "",
) -> Goal:
    """Changes a goal. A change of status or achievement, or a progress note, is kept in the
    goal's progress history; "met" dates the goal and counts it as achieved."""
    goal = access.care.get_goal_for_editor(actor, goal.pk)
    statement = _required_text(statement, "statement", "Write the goal in the patient's own words.")
    _choice(domain, GoalDomain, "domain", "goal area")
    _choice(status, GoalStatus, "status", "goal status")
    _choice(achievement, Achievement, "achievement", "level of achievement")
    _check_target_date(actor, target_date, keeping=goal.target_date)
    note = (note or "").strip()
    if status == GoalStatus.MET:
        # A met goal is an achieved one; "percent achieving goals" counts it (004 evaluation).
        achievement = Achievement.ACHIEVED

    changes: list[str] = []
    if statement != goal.statement:
        changes.append("reworded")
    if domain != goal.domain:
        changes.append(f"area {GoalDomain(domain).label}")
    if target_date != goal.target_date:
        changes.append(
            f"target date {target_date:%Y-%m-%d}" if target_date else "target date removed"
        )
    progressed = status != goal.status or achievement != goal.achievement
    if status != goal.status:
        changes.append(f"status {goal.get_status_display()} → {GoalStatus(status).label}")
    if achievement != goal.achievement:
        changes.append(
            f"achievement {goal.get_achievement_display()} → {Achievement(achievement).label}"
        )
    if note:
        changes.append("progress noted")
    if not changes:
        return goal

    plan = _claim_next_version(actor, goal.care_plan.patient, expected_version)
    was_met = goal.status == GoalStatus.MET
    goal.statement = statement
    goal.domain = domain
    goal.target_date = target_date
    goal.status = status
    goal.achievement = achievement
    if status == GoalStatus.MET and not was_met:
        goal.met_on = _today(actor)
    elif status != GoalStatus.MET:
        goal.met_on = None
    goal.save()
    if progressed or note:
        GoalProgress.objects.create(
            goal=goal,
            status=status,
            achievement=achievement,
            note=note,
            by=actor.user,
            by_organization=actor.organization,
        )
    _revise(actor, plan, f"Goal {_quote(statement, 50)}: {'; '.join(changes)}")
    _audit(actor, AuditAction.UPDATE, plan, goal, "goal changed")
    goal.care_plan = plan
    return goal


@transaction.atomic
def record_confidence(
    actor: Actor,
    goal: Goal,
    *,
    rating: int,
    note: str = "",
    expected_version: int | None = None,
) -> ConfidenceRating:
    """Today's answer to "how confident are you that you can do this?" (seed 002 confidence
    scales), kept with the earlier ones so the team sees it move."""
    goal = access.care.get_goal_for_editor(actor, goal.pk)
    checked = _check_confidence(rating)
    if checked is None:
        raise CareError("Give a confidence rating from 0 to 10.", field="rating")
    if goal.status not in OPEN_GOAL_STATUSES:
        raise CareError(
            f"This goal is {goal.get_status_display().lower()}; confidence is recorded for"
            " goals the patient is still working on.",
            field="rating",
        )
    note = (note or "").strip()
    if len(note) > 300:
        raise CareError("Keep the note to 300 characters.", field="note")
    plan = _claim_next_version(actor, goal.care_plan.patient, expected_version)
    rating_row = ConfidenceRating.objects.create(
        goal=goal, rating=checked, recorded_on=_today(actor), note=note, by=actor.user
    )
    _revise(actor, plan, f"Confidence {checked}/10 for {_quote(goal.statement, 50)}")
    _audit(actor, AuditAction.CREATE, plan, rating_row, "confidence recorded")
    return rating_row


@transaction.atomic
def record_success_story(
    actor: Actor,
    goal: Goal,
    *,
    story: str,
    share_at_team_meeting: bool = True,
    expected_version: int | None = None,
) -> SuccessStory:
    """ "Celebrate small wins": a met goal told as a story to share with the care team and to
    recognize the patient's success (seed 002). Recording it again rewrites the story."""
    goal = access.care.get_goal_for_editor(actor, goal.pk)
    if goal.status != GoalStatus.MET:
        raise CareError(
            "A success story is recorded once the goal is met; mark the goal met first.",
            field="story",
        )
    story = _required_text(story, "story", "Tell the story of this win in a few sentences.")
    plan = _claim_next_version(actor, goal.care_plan.patient, expected_version)
    success, created = SuccessStory.objects.update_or_create(
        goal=goal,
        defaults={
            "story": story,
            "share_at_team_meeting": share_at_team_meeting,
            "by": actor.user,
            "by_organization": actor.organization,
        },
    )
    verb = "Recorded" if created else "Rewrote"
    _revise(actor, plan, f"{verb} the success story of {_quote(goal.statement, 50)}")
    _audit(
        actor,
        AuditAction.CREATE if created else AuditAction.UPDATE,
        plan,
        success,
        "success story recorded" if created else "success story changed",
    )
    if created:
        _tell_care_team(actor, plan.patient, goal)
    return success


def _tell_care_team(actor: Actor, patient: Patient, goal: Goal) -> None:
    """Seed 002: share wins with the care team. The in-app notice names the patient; it is not
    e-mailed (nothing urgent, and e-mail carries no patient data)."""
    members = (
        access.care.visible_care_team(actor, patient)
        .filter(user__isnull=False, organization__isnull=False, ended_on__isnull=True)
        .exclude(user=actor.user)
    )
    told: set[tuple[int, int]] = set()
    for member in members:
        if member.user is None or member.organization is None:
            continue
        key = (member.user.pk, member.organization.pk)
        if key in told:
            continue
        told.add(key)
        notify(
            member.user,
            member.organization,
            kind="care_plan_win",
            title="A care-plan goal was met: a win to celebrate",
            body=f"{patient.full_name}: {goal.statement}",
            url=reverse("wins"),
            patient=patient,
            email=False,
        )


# --- Barriers -----------------------------------------------------------------------------


@transaction.atomic
def add_barrier(
    actor: Actor,
    patient: Patient,
    *,
    kind: str,
    description: str,
    goal: Goal | None = None,
    expected_version: int | None = None,
) -> Barrier:
    """What stands in the way of the patient's goals (seed 002)."""
    patient = access.get_patient_for_editor(actor, patient.pk)
    _choice(kind, BarrierKind, "kind", "kind of barrier")
    description = _required_text(
        description, "description", "Describe the barrier as the patient experiences it."
    )
    _check_goal_in_plan(goal, patient)
    plan = _claim_next_version(actor, patient, expected_version)
    barrier = Barrier.objects.create(
        care_plan=plan, goal=goal, kind=kind, description=description, created_by=actor.user
    )
    _revise(actor, plan, f"Added barrier — {BarrierKind(kind).label}: {_quote(description)}")
    _audit(actor, AuditAction.CREATE, plan, barrier, "barrier added")
    return barrier


@transaction.atomic
def update_barrier(
    actor: Actor,
    barrier: Barrier,
    *,
    expected_version: int | None,
    kind: str,
    description: str,
    goal: Goal | None,
    resolved: bool,
) -> Barrier:
    barrier = access.care.get_barrier_for_editor(actor, barrier.pk)
    patient = barrier.care_plan.patient
    _choice(kind, BarrierKind, "kind", "kind of barrier")
    description = _required_text(
        description, "description", "Describe the barrier as the patient experiences it."
    )
    _check_goal_in_plan(goal, patient)
    was_resolved = barrier.resolved_on is not None
    changed = (
        kind != barrier.kind
        or description != barrier.description
        or (goal.pk if goal else None) != barrier.goal_id
        or resolved != was_resolved
    )
    if not changed:
        return barrier
    plan = _claim_next_version(actor, patient, expected_version)
    barrier.kind = kind
    barrier.description = description
    barrier.goal = goal
    if resolved and not was_resolved:
        barrier.resolved_on = _today(actor)
        verb = "Resolved"
    elif not resolved and was_resolved:
        barrier.resolved_on = None
        verb = "Reopened"
    else:
        verb = "Changed"
    barrier.save()
    _revise(actor, plan, f"{verb} barrier — {BarrierKind(kind).label}: {_quote(description)}")
    _audit(actor, AuditAction.UPDATE, plan, barrier, f"barrier {verb.lower()}")
    return barrier


# --- Interventions ------------------------------------------------------------------------


def _check_intervention_due(
    actor: Actor,
    due_on: datetime.date | None,
    status: str,
    *,
    keeping: datetime.date | None = None,
) -> None:
    if (
        due_on is None
        or due_on == keeping
        or status
        in (
            InterventionStatus.DONE,
            InterventionStatus.STOPPED,
        )
    ):
        return
    today = _today(actor)
    if due_on < today:
        raise CareError(
            f"The due date {due_on:%Y-%m-%d} is in the past; choose today ({today:%Y-%m-%d})"
            " or later, or mark the intervention done.",
            field="due_on",
        )


@transaction.atomic
def add_intervention(
    actor: Actor,
    patient: Patient,
    *,
    description: str,
    goal: Goal | None = None,
    responsible_user: User | None = None,
    responsible_organization: Organization | None = None,
    responsible_name: str = "",
    due_on: datetime.date | None = None,
    status: str = InterventionStatus.PLANNED,
    expected_version: int | None = None,
) -> Intervention:
    """What will be done, by whom and by when: a member of any partner's staff, or someone
    named in words (the patient, a family caregiver)."""
    patient = access.get_patient_for_editor(actor, patient.pk)
    description = _required_text(description, "description", "Say what will be done.")
    _choice(status, InterventionStatus, "status", "intervention status")
    _check_goal_in_plan(goal, patient)
    user, organization, name = _responsible_party(
        actor, responsible_user, responsible_organization, responsible_name
    )
    _check_intervention_due(actor, due_on, status)
    plan = _claim_next_version(actor, patient, expected_version)
    intervention = Intervention.objects.create(
        care_plan=plan,
        goal=goal,
        description=description,
        responsible_user=user,
        responsible_organization=organization,
        responsible_name=name,
        due_on=due_on,
        status=status,
        created_by=actor.user,
    )
    _revise(
        actor,
        plan,
        f"Added intervention {_quote(description)} — {responsible_label(intervention)}",
    )
    _audit(actor, AuditAction.CREATE, plan, intervention, "intervention added")
    return intervention


@transaction.atomic
def update_intervention(
    actor: Actor,
    intervention: Intervention,
    *,
    expected_version: int | None,
    description: str,
    goal: Goal | None,
    responsible_user: User | None = None,
    responsible_organization: Organization | None = None,
    responsible_name: str = "",
    due_on: datetime.date | None,
    status: str,
) -> Intervention:
    intervention = access.care.get_intervention_for_editor(actor, intervention.pk)
    patient = intervention.care_plan.patient
    description = _required_text(description, "description", "Say what will be done.")
    _choice(status, InterventionStatus, "status", "intervention status")
    _check_goal_in_plan(goal, patient)
    user, organization, name = _responsible_party(
        actor, responsible_user, responsible_organization, responsible_name
    )
    _check_intervention_due(actor, due_on, status, keeping=intervention.due_on)
    changes: list[str] = []
    if description != intervention.description:
        changes.append("reworded")
    if (goal.pk if goal else None) != intervention.goal_id:
        changes.append("goal changed")
    if (
        (user.pk if user else None) != intervention.responsible_user_id
        or (organization.pk if organization else None) != intervention.responsible_organization_id
        or name != intervention.responsible_name
    ):
        changes.append("responsible changed")
    if due_on != intervention.due_on:
        changes.append(f"due {due_on:%Y-%m-%d}" if due_on else "no due date")
    if status != intervention.status:
        changes.append(
            f"status {intervention.get_status_display()} → {InterventionStatus(status).label}"
        )
    if not changes:
        return intervention
    plan = _claim_next_version(actor, patient, expected_version)
    intervention.description = description
    intervention.goal = goal
    intervention.responsible_user = user
    intervention.responsible_organization = organization
    intervention.responsible_name = name
    intervention.due_on = due_on
    intervention.status = status
    intervention.save()
    _revise(actor, plan, f"Intervention {_quote(description, 50)}: {'; '.join(changes)}")
    _audit(actor, AuditAction.UPDATE, plan, intervention, "intervention changed")
    return intervention


# --- Follow-up plan -----------------------------------------------------------------------


@transaction.atomic
def set_follow_up_plan(
    actor: Actor, patient: Patient, *, text: str, expected_version: int | None
) -> CarePlan:
    """When and how the care team checks in next (seed 002: "follow up plans")."""
    patient = access.get_patient_for_editor(actor, patient.pk)
    text = (text or "").strip()
    current = CarePlan.objects.filter(patient=patient).values_list("follow_up_plan", flat=True)
    if text == (current.first() or ""):
        if not text:
            raise CareError("Write the follow-up plan.", field="follow_up_plan")
        return CarePlan.objects.get(patient=patient)
    plan = _claim_next_version(actor, patient, expected_version)
    plan.follow_up_plan = text
    plan.save(update_fields=["follow_up_plan"])
    _revise(
        actor,
        plan,
        f"Follow-up plan: {_quote(text, 80)}" if text else "Cleared the follow-up plan",
    )
    _audit(actor, AuditAction.UPDATE, plan, plan, "follow-up plan changed")
    return plan
