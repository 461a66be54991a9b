"""Forms of conference mode: the decision for one patient, ending the call, the summary, the
tracking list and pre-work time. The decision form reads the call's questions in their order
(seed 004 steps 6 and 7) and hands `decisions.record_discussion` a `DecisionInput`."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from caseboard.care.actions.careplan import GOAL_SUGGESTIONS
from caseboard.conference.decisions import DecisionInput, Engagement, NextStep
from caseboard.conference.forms import ParticipantsField
from caseboard.conference.models import Lead, PlanService
from caseboard.conference.summary import MAX_MINUTES
from caseboard.orgs.models import Membership

YES_NO = (("yes", "Yes"), ("no", "No"))
OTHER_GOAL = "other"
# Step 7g-v-2: "weekly for one month, then monthly"; offered, not imposed.
CADENCES = (
    "Weekly for one month, then monthly",
    "Every two weeks",
    "Monthly",
    "At the next call only",
)
MAX_STEPS = 8


class MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return (
            f"{obj.user.get_full_name() or obj.user.username} — {obj.get_role_display()},"
            f" {obj.organization.name}{' · ' + obj.phone if obj.phone else ''}"
        )


class DiscussionForm(forms.Form):
    started_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    # Step 6a
    last_seen_by_practice = forms.DateField(
        label="Last seen by a provider of the practice",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    still_practice_patient = forms.ChoiceField(
        label="Still the practice's patient?", choices=YES_NO, widget=forms.RadioSelect
    )
    # Step 6c
    still_covered = forms.ChoiceField(
        label="Still covered by the plan?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        initial="yes",
        required=False,
    )
    new_insurer = forms.CharField(
        label="New insurer (or “unknown”)", required=False, max_length=200
    )
    # Step 6b
    engagement = forms.ChoiceField(
        label="Engagement",
        choices=Engagement.CHOICES,
        widget=forms.RadioSelect,
        initial=Engagement.ENGAGED,
    )
    outreach_attempts = forms.CharField(
        label="Outreach attempts so far (one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Step 5d
    need_information = forms.BooleanField(
        label="More information is needed first: continue at the next call", required=False
    )
    # Step 7
    lead = forms.ChoiceField(
        label="Who leads care management?",
        choices=Lead.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    plan_monitors = forms.BooleanField(
        label="The plan opens a case in monitor status (when the practice leads)", required=False
    )
    why_high_risk = forms.CharField(
        label="Why the patient is high risk",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    barriers = forms.CharField(
        label="Key barriers to engagement",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    plan_services = forms.MultipleChoiceField(
        label="Services the plan will provide",
        choices=PlanService.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    goal_choice = forms.ChoiceField(
        label="Shared patient-centered goal",
        choices=[("", "— choose —"), *[(g, g) for g in GOAL_SUGGESTIONS], (OTHER_GOAL, "Other…")],
        required=False,
    )
    goal_other = forms.CharField(label="Goal in other words", required=False, max_length=500)
    report_back_cadence = forms.CharField(
        label="Report-back cadence",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "cadences"}),
    )
    next_update_on = forms.DateField(
        label="Date of the next update",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    plan_case_manager = MemberChoice(
        label="Plan case manager", queryset=Membership.objects.none(), required=False
    )
    plan_social_care_manager = MemberChoice(
        label="Plan social care manager", queryset=Membership.objects.none(), required=False
    )
    practice_care_manager = MemberChoice(
        label="Practice care manager", queryset=Membership.objects.none(), required=False
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        plan_staff: QuerySet[Membership],
        practice_staff: QuerySet[Membership],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plan_staff = plan_staff
        self.practice_staff = practice_staff
        self.fields["plan_case_manager"].queryset = plan_staff  # type: ignore[attr-defined]
        self.fields["plan_social_care_manager"].queryset = plan_staff  # type: ignore[attr-defined]
        self.fields["practice_care_manager"].queryset = practice_staff  # type: ignore[attr-defined]
        self.steps: list[dict[str, str]] = []
        self.step_errors: list[str] = []

    def _read_steps(self, data: QueryDict) -> list[NextStep]:
        """Next steps come as parallel lists: step_title, step_side, step_owner, step_due."""
        titles = data.getlist("step_title")
        sides = data.getlist("step_side")
        owners = data.getlist("step_owner")
        dues = data.getlist("step_due")
        staff = {str(m.pk): m for m in [*self.plan_staff, *self.practice_staff]}
        steps = []
        for number, title in enumerate(titles[:MAX_STEPS], start=1):
            side = sides[number - 1] if number <= len(sides) else ""
            owner_id = owners[number - 1] if number <= len(owners) else ""
            due = dues[number - 1] if number <= len(dues) else ""
            self.steps.append({"title": title, "side": side, "owner": owner_id, "due": due})
            if not title.strip():
                if owner_id or due:
                    self.step_errors.append(f"Next step {number}: say what is to be done.")
                continue
            if side not in ("plan", "practice"):
                self.step_errors.append(f"Next step {number}: choose the plan or the practice.")
                continue
            try:
                due_on = datetime.date.fromisoformat(due)
            except ValueError:
                self.step_errors.append(f"Next step {number}: give a due date.")
                continue
            owner = staff.get(owner_id) if owner_id else None
            if owner_id and owner is None:
                self.step_errors.append(f"Next step {number}: choose the owner from the list.")
                continue
            steps.append(NextStep(title=title.strip(), side=side, due_on=due_on, owner=owner))
        return steps

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        goal = data.get("goal_choice") or ""
        if goal == OTHER_GOAL:
            goal = data.get("goal_other", "")
        data["goal"] = goal
        if self.is_bound:
            data["next_steps"] = self._read_steps(self.data)  # type: ignore[arg-type]
            if self.step_errors:
                raise ValidationError(self.step_errors)
        return data

    def decision(self) -> DecisionInput:
        d = self.cleaned_data
        covered = d.get("still_covered") or "yes"
        return DecisionInput(
            still_practice_patient=d["still_practice_patient"] == "yes",
            last_seen_by_practice=d.get("last_seen_by_practice"),
            still_covered=covered == "yes",
            new_insurer=d.get("new_insurer", ""),
            engagement=d["engagement"],
            outreach_attempts=d.get("outreach_attempts", ""),
            need_information=bool(d.get("need_information")),
            lead=d.get("lead") or "",
            plan_monitors=bool(d.get("plan_monitors")),
            why_high_risk=d.get("why_high_risk", ""),
            barriers=d.get("barriers", ""),
            plan_services=list(d.get("plan_services") or []),
            goal=d.get("goal", ""),
            next_steps=d.get("next_steps", []),
            report_back_cadence=d.get("report_back_cadence", ""),
            next_update_on=d.get("next_update_on"),
            plan_case_manager=d.get("plan_case_manager"),
            plan_social_care_manager=d.get("plan_social_care_manager"),
            practice_care_manager=d.get("practice_care_manager"),
            notes=d.get("notes", ""),
            started_at=d.get("started_at"),
        )


class EndForm(forms.Form):
    attendees = ParticipantsField(
        label="Who attended",
        queryset=Membership.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, staff: QuerySet[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = staff  # type: ignore[attr-defined]


class SendForm(forms.Form):
    note = forms.CharField(
        label="Note to the participants (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PreworkTimeForm(forms.Form):
    minutes = forms.IntegerField(
        label="My pre-work time for this call (minutes)", min_value=1, max_value=MAX_MINUTES
    )


class TrackingRemoveForm(forms.Form):
    reason = forms.CharField(
        label="Why the patient comes off the tracking list",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "e.g. saw the PCP on 2026-11-02"}),
    )
