"""Conference mode: running the call patient by patient and recording what it decides.

Seed 004, Attachment A, steps 6 and 7, in their order. For each agenda patient the call asks:

1. Is the patient still the practice's? (6a) If a provider of the practice has not seen the
   patient for a significant time (12–18 months; `ConferenceSeries.practice_gap_months`), the
   plan follows up on a PCP change and the discussion stops there (6a-i).
2. Is the patient still covered? (6c) If not, the new insurer (when known) and current contact
   go to the practice so it can update its records.
3. Is the patient engaged? (6b) An unengaged patient gets one more face-to-face attempt by the
   practice (6b-i); one who still declines goes on the plan's tracking list (6b-iii).
4. Otherwise the decision (7g, 7h): who leads, whether the plan monitors, why the patient is
   high risk, the plan's services, one shared patient-centered goal, next steps with owners and
   dates, the report-back cadence and the date of the next update, and the front-line contacts.

Step 5d: a discussion can also stop for more information, to continue at the next call.

Every change to care records goes through the care-management actions (enrollment, care plan,
tasks, notifications): this module decides what to call, never writes those tables itself.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from caseboard import access
from caseboard.access import Actor
from caseboard.access import conference as conference_access
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions.careplan import add_goal
from caseboard.care.actions.enrollment import enroll, transition
from caseboard.care.actions.notifications import notify
from caseboard.care.actions.tasks import create_task
from caseboard.care.models import (
    CLOSED_STATUSES,
    Acuity,
    Enrollment,
    EnrollmentStatus,
    Goal,
    GoalSource,
    Program,
    Task,
    TaskPriority,
    TaskSource,
)
from caseboard.care.queries.tasks import holiday_state
from caseboard.conference.calls import conference_day
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import (
    AgendaItem,
    Conference,
    ConferenceStatus,
    Discussion,
    DiscussionOutcome,
    Lead,
    PlanService,
    TrackingEntry,
)
from caseboard.orgs.models import Membership, Organization, Partnership
from caseboard.patients.models import Patient
from caseboard.transitions.rules import add_business_days

OUT = DiscussionOutcome

# How long the practice has for the last face-to-face attempt (6b-i) when the call sets no date.
FINAL_ATTEMPT_DAYS = 30
# The plan's check on a PCP change (6a-i) and the practice's coverage update (6c): a few
# business days, like any other outreach task.
OUTREACH_BUSINESS_DAYS = 3
# Step 6b-iii: "track patient claims activity and report to the practice every six months".
TRACKING_REPORT_MONTHS = 6


class Engagement:
    ENGAGED = "engaged"
    FINAL_ATTEMPT = "final_attempt"
    DECLINED_AFTER_ATTEMPT = "declined"
    CHOICES = (
        (ENGAGED, "Engaged with the practice or the plan"),
        (FINAL_ATTEMPT, "Unengaged: the practice will try one more face-to-face meeting"),
        (DECLINED_AFTER_ATTEMPT, "Still declines after the last face-to-face attempt"),
    )


@dataclass(frozen=True)
class NextStep:
    """Step 7g-ii: "what immediate next steps are to be taken and by whom"."""

    title: str
    side: str  # "plan" or "practice"
    due_on: datetime.date
    owner: Membership | None = None


@dataclass(frozen=True)
class DecisionInput:
    """What the screen (or the API) sends for one patient, in the call's order."""

    still_practice_patient: bool
    last_seen_by_practice: datetime.date | None = None
    still_covered: bool | None = True
    new_insurer: str = ""
    engagement: str = Engagement.ENGAGED
    outreach_attempts: str = ""
    need_information: bool = False
    lead: str = ""
    plan_monitors: bool = False
    why_high_risk: str = ""
    barriers: str = ""
    plan_services: list[str] = field(default_factory=list)
    goal: str = ""
    next_steps: list[NextStep] = field(default_factory=list)
    report_back_cadence: str = ""
    next_update_on: datetime.date | None = None
    plan_case_manager: Membership | None = None
    plan_social_care_manager: Membership | None = None
    practice_care_manager: Membership | None = None
    notes: str = ""
    started_at: datetime.datetime | None = None


def practice_gap_exceeded(last_seen: datetime.date | None, on: datetime.date, months: int) -> bool:
    """Step 6a-i: has the practice not seen the patient for `months` or more?"""
    return last_seen is None or last_seen <= on - relativedelta(months=months)


def outcome_of(decision: DecisionInput) -> str:
    """Where the discussion ends: the first of steps 6a, 6c, 6b, 5d that stops it, else 7."""
    if not decision.still_practice_patient:
        return OUT.NOT_PRACTICE_PATIENT
    if decision.still_covered is False:
        return OUT.NOT_COVERED
    if decision.engagement == Engagement.FINAL_ATTEMPT:
        return OUT.FINAL_ATTEMPT
    if decision.engagement == Engagement.DECLINED_AFTER_ATTEMPT:
        return OUT.TRACKING
    if decision.need_information:
        return OUT.NEED_INFORMATION
    return OUT.DECIDED


# --- Checks -------------------------------------------------------------------------------


def _side_of(partnership: Partnership, side: str) -> Organization:
    if side == "plan":
        return partnership.plan
    if side == "practice":
        return partnership.partner
    raise ConferenceError(f"{side!r} is neither the plan nor the practice.", field="next_steps")


def _check_contact(member: Membership | None, organization: Organization, field_name: str) -> None:
    if member is not None and (member.organization_id != organization.pk or not member.is_active):
        raise ConferenceError(
            f"{member.user.get_full_name() or member.user.get_username()} does not work for"
            f" {organization}.",
            field=field_name,
        )


def _check(
    decision: DecisionInput, outcome: str, partnership: Partnership, day: datetime.date
) -> None:
    if decision.last_seen_by_practice and decision.last_seen_by_practice > day:
        raise ConferenceError(
            f"{decision.last_seen_by_practice:%Y-%m-%d} is after the call's day.",
            field="last_seen_by_practice",
        )
    if decision.engagement not in {value for value, _ in Engagement.CHOICES}:
        raise ConferenceError(f"{decision.engagement!r} is not an engagement.", field="engagement")
    if outcome == OUT.NOT_COVERED and decision.new_insurer.strip() == "":
        # 6c: "if known" — say so rather than leave it blank by accident.
        raise ConferenceError("Name the new insurer, or write “unknown”.", field="new_insurer")
    if outcome in (OUT.FINAL_ATTEMPT, OUT.TRACKING) and not decision.outreach_attempts.strip():
        raise ConferenceError(
            "Describe the outreach tried so far (who, when, how).", field="outreach_attempts"
        )
    _check_contact(decision.plan_case_manager, partnership.plan, "plan_case_manager")
    _check_contact(decision.plan_social_care_manager, partnership.plan, "plan_social_care_manager")
    _check_contact(decision.practice_care_manager, partnership.partner, "practice_care_manager")
    for number, step in enumerate(decision.next_steps, start=1):
        if not step.title.strip():
            raise ConferenceError(
                f"Next step {number}: say what is to be done.", field="next_steps"
            )
        if step.due_on < day:
            raise ConferenceError(
                f"Next step {number} (“{step.title}”): due {step.due_on:%Y-%m-%d}, before the"
                " call.",
                field="next_steps",
            )
        _check_contact(step.owner, _side_of(partnership, step.side), "next_steps")
    if decision.next_update_on is not None and decision.next_update_on <= day:
        raise ConferenceError("The next update comes after the call.", field="next_update_on")
    if outcome == OUT.NEED_INFORMATION and decision.next_update_on is None:
        raise ConferenceError(
            "Set the date the discussion continues (step 5d).", field="next_update_on"
        )
    if outcome != OUT.DECIDED:
        return
    if decision.lead not in Lead.values:
        raise ConferenceError(
            "Choose who leads care management: practice, plan or jointly.", field="lead"
        )
    if decision.plan_monitors and decision.lead != Lead.PRACTICE:
        raise ConferenceError(
            "The plan monitors when the practice leads (step 7g-v-1); when the plan leads or"
            " shares the lead it manages the case itself.",
            field="plan_monitors",
        )
    unknown = [s for s in decision.plan_services if s not in PlanService.values]
    if unknown:
        raise ConferenceError(
            f"Unknown plan services: {', '.join(unknown)}.", field="plan_services"
        )
    if not decision.why_high_risk.strip():
        raise ConferenceError(
            "Say why the patient is high risk: what drives the use of services, and the key"
            " barriers (step 7g-i).",
            field="why_high_risk",
        )
    if not decision.goal.strip():
        raise ConferenceError(
            "Agree one patient-centered goal for the care plan (step 7g-iv).", field="goal"
        )
    if not decision.next_steps:
        raise ConferenceError(
            "Add at least one next step with its owner and due date (step 7g-ii).",
            field="next_steps",
        )
    if decision.next_update_on is None:
        raise ConferenceError(
            "Set the date of the next update (step 7g-vi).", field="next_update_on"
        )
    if decision.lead in (Lead.PRACTICE, Lead.JOINT) and decision.practice_care_manager is None:
        raise ConferenceError(
            "Name the practice's care manager (step 7h-ii).", field="practice_care_manager"
        )
    plan_leads = decision.lead in (Lead.PLAN, Lead.JOINT) or decision.plan_monitors
    if plan_leads and decision.plan_case_manager is None:
        raise ConferenceError(
            "Name the plan's case manager (step 7h-i).", field="plan_case_manager"
        )
    if PlanService.SOCIAL_CARE in decision.plan_services and not decision.plan_social_care_manager:
        raise ConferenceError(
            "Name the plan's social care manager (step 7h-i).", field="plan_social_care_manager"
        )


# --- Effects, through the care-management actions -----------------------------------------


def _open_case(
    actor: Actor,
    patient: Patient,
    organization: Organization,
    program: str,
    manager: Membership | None,
    status: str,
    why: str,
) -> Enrollment:
    """The patient's open case with `organization` in `program`, opened if there is none; a
    plan case asked to monitor moves to monitor when it can."""
    existing = (
        Enrollment.objects.filter(patient=patient, lead_organization=organization, program=program)
        .exclude(status__in=CLOSED_STATUSES)
        .first()
    )
    if existing is None:
        return enroll(
            actor,
            patient,
            program=program,
            acuity=Acuity.HIGH,
            care_manager=manager.user if manager else None,
            status=status,
            reason=why,
            lead_organization=organization,
        )
    if (
        status == EnrollmentStatus.MONITOR
        and existing.status != EnrollmentStatus.MONITOR
        and actor.organization.pk == organization.pk
    ):
        return transition(actor, existing, EnrollmentStatus.MONITOR, reason=why)
    return existing


def _cases(
    actor: Actor, patient: Patient, decision: DecisionInput, partnership: Partnership, why: str
) -> list[Enrollment]:
    plan, practice = partnership.plan, partnership.partner
    cases = []
    if decision.lead in (Lead.PRACTICE, Lead.JOINT):
        cases.append(
            _open_case(
                actor,
                patient,
                practice,
                Program.PRACTICE_CARE_MANAGEMENT,
                decision.practice_care_manager,
                EnrollmentStatus.IDENTIFIED,
                why,
            )
        )
    if decision.lead in (Lead.PLAN, Lead.JOINT) or decision.plan_monitors:
        cases.append(
            _open_case(
                actor,
                patient,
                plan,
                Program.PLAN_COMPLEX_CASE_MANAGEMENT,
                decision.plan_case_manager,
                EnrollmentStatus.MONITOR if decision.plan_monitors else EnrollmentStatus.IDENTIFIED,
                why,
            )
        )
    services: dict[str, tuple[str, Membership | None]] = {
        PlanService.SOCIAL_CARE: (
            Program.PLAN_SOCIAL_CARE_MANAGEMENT,
            decision.plan_social_care_manager,
        ),
        PlanService.SUBSTANCE_USE: (Program.SUBSTANCE_USE, decision.plan_case_manager),
    }
    for service in decision.plan_services:
        if service in services:
            program, manager = services[service]
            cases.append(
                _open_case(actor, patient, plan, program, manager, EnrollmentStatus.IDENTIFIED, why)
            )
    return cases


def _task(
    actor: Actor,
    patient: Patient,
    *,
    title: str,
    organization: Organization,
    owner: Membership | None,
    due_on: datetime.date,
    detail: str,
    priority: str = TaskPriority.NORMAL,
    goal: Goal | None = None,
) -> Task:
    return create_task(
        actor,
        title=title,
        due_on=due_on,
        patient=patient,
        goal=goal,
        owner_organization=organization,
        owner_user=owner.user if owner else None,
        priority=priority,
        source=TaskSource.CONFERENCE,
        detail=detail,
    )


def _stop_tasks(
    actor: Actor,
    patient: Patient,
    outcome: str,
    decision: DecisionInput,
    partnership: Partnership,
    day: datetime.date,
    said: str,
) -> list[Task]:
    """The one task a stopped discussion leaves behind (6a-i, 6c, 6b-i)."""
    plan, practice = partnership.plan, partnership.partner
    soon = add_business_days(day, OUTREACH_BUSINESS_DAYS, holiday_state(plan))
    if outcome == OUT.NOT_PRACTICE_PATIENT:
        return [
            _task(
                actor,
                patient,
                title="Ask the member whether they have changed primary care provider",
                organization=plan,
                owner=decision.plan_case_manager,
                due_on=soon,
                detail=f"{said} The practice last saw the patient"
                + (
                    f" on {decision.last_seen_by_practice:%Y-%m-%d}."
                    if decision.last_seen_by_practice
                    else ": no visit on record."
                ),
            )
        ]
    if outcome == OUT.NOT_COVERED:
        return [
            _task(
                actor,
                patient,
                title="Update the patient's coverage: no longer covered by " + str(plan),
                organization=practice,
                owner=decision.practice_care_manager,
                due_on=add_business_days(day, OUTREACH_BUSINESS_DAYS, holiday_state(practice)),
                detail=f"{said} New insurer: {decision.new_insurer.strip()}.",
            )
        ]
    if outcome == OUT.FINAL_ATTEMPT:
        return [
            _task(
                actor,
                patient,
                title="Meet the patient face to face once more (home, hospital, office or"
                " other facility)",
                organization=practice,
                owner=decision.practice_care_manager,
                due_on=decision.next_update_on or day + datetime.timedelta(days=FINAL_ATTEMPT_DAYS),
                detail=f"{said} The plan will tell the practice if the member is admitted."
                f" Outreach so far: {decision.outreach_attempts.strip()}",
                priority=TaskPriority.HIGH,
            )
        ]
    return []


def _tell_practice_of_new_insurer(
    actor: Actor, patient: Patient, decision: DecisionInput, partnership: Partnership
) -> None:
    """6c: "current contact information and information on the new insurer (if known) are
    shared with the practice"."""
    recipients = (
        [decision.practice_care_manager]
        if decision.practice_care_manager
        else list(
            Membership.objects.select_related("user").filter(
                organization=partnership.partner,
                is_active=True,
                conference_series__partnership=partnership,
            )
        )
    )
    for member in recipients:
        if member.user_id == actor.user.pk:
            continue
        notify(
            member.user,
            partnership.partner,
            kind="coverage_ended",
            title="A patient's health plan coverage has ended",
            body=(
                f"{patient.full_name}: no longer covered by {partnership.plan}. New insurer:"
                f" {decision.new_insurer.strip()}. Phone on file: {patient.phone or 'none'}."
            ),
            url=reverse("patient_profile", args=[patient.pk]),
            patient=patient,
        )


def _track(
    actor: Actor,
    patient: Patient,
    decision: DecisionInput,
    partnership: Partnership,
    discussion: Discussion,
    day: datetime.date,
) -> TrackingEntry:
    existing = TrackingEntry.objects.filter(
        partnership=partnership, patient=patient, removed_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    entry = TrackingEntry.objects.create(
        partnership=partnership,
        patient=patient,
        discussion=discussion,
        reason="Still declines engagement with the PCP after the last face-to-face attempt"
        f" (conference of {day:%Y-%m-%d}).",
        outreach_attempts=decision.outreach_attempts.strip(),
        added_by=actor.user,
        next_report_on=day + relativedelta(months=TRACKING_REPORT_MONTHS),
    )
    log.record(actor, AuditAction.CREATE, patient=patient, obj=entry, detail={"tracking": True})
    return entry


def start_conference(actor: Actor, conference: Conference) -> Conference:
    """Start the call's clock; idempotent once started."""
    conference = conference_access.get_conference_for_editor(actor, conference.pk)
    if conference.status == ConferenceStatus.CANCELLED:
        raise ConferenceError("This call was cancelled.")
    if conference.ended_at is not None:
        raise ConferenceError("This call has ended.")
    if not conference.agenda_items.exists():
        raise ConferenceError("Build the agenda before starting the call.")
    if conference.started_at is None:
        conference.started_at = timezone.now()
        conference.save(update_fields=["started_at"])
        log.record(actor, AuditAction.UPDATE, obj=conference, detail={"started": True})
    return conference


@transaction.atomic
def record_discussion(actor: Actor, item: AgendaItem, decision: DecisionInput) -> Discussion:
    """Record what the call decided for one agenda patient and carry it into care management.

    Either side's editors record; the call must have started and not ended. A discussion is
    recorded once: what it opened changes afterwards where it lives (the case, the care plan,
    the tasks).
    """
    item = conference_access.get_agenda_item_for_user(actor, item.pk)
    conference_access.require_editor(actor)
    conference = Conference.objects.select_for_update().get(pk=item.conference_id)
    if conference.started_at is None:
        raise ConferenceError("Start the call before recording decisions.")
    if conference.ended_at is not None:
        raise ConferenceError("This call has ended; its decisions are in the summary.")
    if Discussion.objects.filter(agenda_item=item).exists():
        done = item.discussion
        raise ConferenceError(
            f"{item.patient.full_name} was already discussed on this call"
            f" ({done.get_outcome_display().lower()}, recorded by"
            f" {done.recorded_by.get_full_name() or done.recorded_by.get_username()}).",
        )
    patient = access.get_patient_for_editor(actor, item.patient_id)
    partnership = Partnership.objects.select_related("plan", "partner").get(
        pk=item.conference.series.partnership_id
    )
    day = conference_day(item.conference)
    outcome = outcome_of(decision)
    _check(decision, outcome, partnership, day)
    now = timezone.now()
    started = decision.started_at or now
    if started > now or started < conference.started_at:
        started = max(conference.started_at, min(started, now))
    said = f"Agreed at the case conference of {day:%Y-%m-%d}."
    # Why the patient is high risk belongs to step 7; a discussion stopped at step 6 keeps none.
    discussed = outcome in (OUT.DECIDED, OUT.NEED_INFORMATION)
    discussion = Discussion.objects.create(
        agenda_item=item,
        started_at=started,
        ended_at=now,
        last_seen_by_practice=decision.last_seen_by_practice,
        still_practice_patient=decision.still_practice_patient,
        still_covered=decision.still_covered,
        new_insurer=decision.new_insurer.strip(),
        outcome=outcome,
        outreach_attempts=decision.outreach_attempts.strip(),
        lead=decision.lead if outcome == OUT.DECIDED else "",
        plan_monitors=decision.plan_monitors and outcome == OUT.DECIDED,
        why_high_risk=decision.why_high_risk.strip() if discussed else "",
        barriers=decision.barriers.strip() if discussed else "",
        plan_services=sorted(set(decision.plan_services)) if outcome == OUT.DECIDED else [],
        report_back_cadence=decision.report_back_cadence.strip(),
        next_update_on=decision.next_update_on,
        plan_case_manager=decision.plan_case_manager,
        plan_social_care_manager=decision.plan_social_care_manager,
        practice_care_manager=decision.practice_care_manager,
        notes=decision.notes.strip(),
        recorded_by=actor.user,
        recorded_by_organization=actor.organization,
    )
    tasks = _stop_tasks(actor, patient, outcome, decision, partnership, day, said)
    if outcome == OUT.NOT_COVERED:
        _tell_practice_of_new_insurer(actor, patient, decision, partnership)
    if outcome == OUT.TRACKING:
        _track(actor, patient, decision, partnership, discussion, day)
    goal = None
    if outcome == OUT.DECIDED:
        discussion.enrollments.set(
            _cases(actor, patient, decision, partnership, f"{said} {Lead(decision.lead).label}.")
        )
        goal = add_goal(actor, patient, statement=decision.goal, source=GoalSource.CONFERENCE)
        discussion.goal = goal
        discussion.save(update_fields=["goal"])
    if outcome in (OUT.DECIDED, OUT.NEED_INFORMATION):
        for step in decision.next_steps:
            tasks.append(
                _task(
                    actor,
                    patient,
                    title=step.title.strip()[:200],
                    organization=_side_of(partnership, step.side),
                    owner=step.owner,
                    due_on=step.due_on,
                    detail=said,
                    goal=goal,
                )
            )
    discussion.tasks.set(tasks)
    # Step 5d: follow-ups open the next call that falls on or after the report-back date.
    follow_up = outcome in (OUT.DECIDED, OUT.NEED_INFORMATION, OUT.FINAL_ATTEMPT)
    item.needs_follow_up = follow_up and decision.next_update_on is not None
    if outcome == OUT.FINAL_ATTEMPT and decision.next_update_on is None:
        item.needs_follow_up = True
        item.report_back_on = tasks[0].due_on
    else:
        item.report_back_on = decision.next_update_on if item.needs_follow_up else None
    item.save(update_fields=["needs_follow_up", "report_back_on"])
    log.record(
        actor,
        AuditAction.CREATE,
        patient=patient,
        obj=discussion,
        detail={"outcome": outcome, "lead": discussion.lead, "tasks": [t.pk for t in tasks]},
    )
    return discussion
