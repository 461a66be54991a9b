"""Forms of the care plan. Each carries the plan version the user saw (hidden `version`), so a
save made against a plan someone else has since changed is refused rather than merged."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.models import User

from caseboard.care.actions.careplan import CONFIDENCE_MAX, CONFIDENCE_MIN, PATIENT_RESPONSIBLE
from caseboard.care.models import (
    Achievement,
    BarrierKind,
    Goal,
    GoalDomain,
    GoalStatus,
    Intervention,
    InterventionStatus,
)
from caseboard.orgs.models import Membership, Organization

MISSING_VERSION = (
    "This form does not say which version of the care plan it was opened on; reload the page"
    " and enter your changes again."
)
CONFIDENCE_ERRORS = {
    "min_value": f"Confidence is a number from {CONFIDENCE_MIN} (not at all sure) to"
    f" {CONFIDENCE_MAX} (completely sure).",
    "max_value": f"Confidence is a number from {CONFIDENCE_MIN} (not at all sure) to"
    f" {CONFIDENCE_MAX} (completely sure).",
    "invalid": f"Confidence is a whole number from {CONFIDENCE_MIN} to {CONFIDENCE_MAX}.",
}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text_area(rows: int = 3, placeholder: str = "") -> forms.Textarea:
    attrs: dict[str, Any] = {"rows": rows}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


def _short(text: str, length: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


class VersionedForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages={
            "required": MISSING_VERSION,
            "invalid": MISSING_VERSION,
            "min_value": MISSING_VERSION,
        },
    )


class GoalChoiceMixin(forms.Form):
    """An optional link to one of the plan's goals."""

    goal = forms.ChoiceField(label="Goal it stands in the way of", required=False)

    def __init__(self, *args: Any, goals: Iterable[Goal] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._goals = {str(g.pk): g for g in goals}
        goal_field = self.fields["goal"]
        assert isinstance(goal_field, forms.ChoiceField)
        goal_field.choices = [("", "— Not about one goal —")] + [
            (pk, _short(g.statement)) for pk, g in self._goals.items()
        ]

    def clean_goal(self) -> Goal | None:
        value = self.cleaned_data.get("goal") or ""
        return self._goals.get(value)


class GoalForm(VersionedForm):
    statement = forms.CharField(
        label="Goal, in the patient's own words",
        widget=_text_area(3, "For example: I want to walk my granddaughter to school."),
        max_length=2000,
        error_messages={"required": "Write the goal in the patient's own words."},
    )
    domain = forms.ChoiceField(label="Area", choices=GoalDomain.choices, initial=GoalDomain.OTHER)
    target_date = forms.DateField(
        label="Target date",
        required=False,
        widget=_date_input(),
        error_messages={"invalid": "Enter the target date as a date, e.g. 2027-03-31."},
    )
    confidence = forms.IntegerField(
        label="Starting confidence (0–10)",
        required=False,
        min_value=CONFIDENCE_MIN,
        max_value=CONFIDENCE_MAX,
        error_messages=CONFIDENCE_ERRORS,
        help_text="“How sure are you that you can do this?” 0 = not at all, 10 = completely.",
        widget=forms.NumberInput(attrs={"min": CONFIDENCE_MIN, "max": CONFIDENCE_MAX}),
    )


class GoalEditForm(VersionedForm):
    statement = forms.CharField(
        label="Goal, in the patient's own words",
        widget=_text_area(3),
        max_length=2000,
        error_messages={"required": "Write the goal in the patient's own words."},
    )
    domain = forms.ChoiceField(label="Area", choices=GoalDomain.choices)
    target_date = forms.DateField(
        label="Target date",
        required=False,
        widget=_date_input(),
        error_messages={"invalid": "Enter the target date as a date, e.g. 2027-03-31."},
    )
    status = forms.ChoiceField(label="Status", choices=GoalStatus.choices)
    achievement = forms.ChoiceField(
        label="Achievement",
        choices=Achievement.choices,
        help_text="A goal marked met counts as achieved.",
    )
    note = forms.CharField(
        label="Progress note",
        required=False,
        widget=_text_area(2, "What happened since the last update?"),
        max_length=2000,
    )

    @classmethod
    def initial_for(cls, goal: Goal, version: int) -> dict[str, Any]:
        return {
            "version": version,
            "statement": goal.statement,
            "domain": goal.domain,
            "target_date": goal.target_date,
            "status": goal.status,
            "achievement": goal.achievement,
        }


class ConfidenceForm(VersionedForm):
    rating = forms.IntegerField(
        label="Confidence today (0–10)",
        min_value=CONFIDENCE_MIN,
        max_value=CONFIDENCE_MAX,
        error_messages={**CONFIDENCE_ERRORS, "required": "Give a confidence rating from 0 to 10."},
        widget=forms.NumberInput(attrs={"min": CONFIDENCE_MIN, "max": CONFIDENCE_MAX}),
    )
    note = forms.CharField(label="Note", required=False, max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Shown on the same page as the goal's edit form, whose fields share these names.
        kwargs.setdefault("auto_id", "id_confidence_%s")
        super().__init__(*args, **kwargs)


class SuccessStoryForm(VersionedForm):
    story = forms.CharField(
        label="The story of this win",
        widget=_text_area(5, "What did the patient do, what helped, and what changed for them?"),
        max_length=4000,
        error_messages={"required": "Tell the story of this win in a few sentences."},
    )
    share_at_team_meeting = forms.BooleanField(
        label="Share at the next care team meeting", required=False, initial=True
    )


class BarrierForm(GoalChoiceMixin, VersionedForm):
    kind = forms.ChoiceField(label="Kind of barrier", choices=BarrierKind.choices)
    description = forms.CharField(
        label="What gets in the way",
        widget=_text_area(3, "For example: no car, and the bus to the clinic takes 90 minutes."),
        max_length=2000,
        error_messages={"required": "Describe the barrier as the patient experiences it."},
    )
    field_order = ["version", "kind", "description", "goal"]


class BarrierEditForm(BarrierForm):
    resolved = forms.BooleanField(label="Resolved", required=False)


RESPONSIBLE_PATIENT = "patient"
RESPONSIBLE_OTHER = "other"
STAFF_PREFIX = "staff:"


class InterventionForm(GoalChoiceMixin, VersionedForm):
    description = forms.CharField(
        label="What will be done",
        widget=_text_area(3, "For example: arrange rides to the cardiology appointments."),
        max_length=2000,
        error_messages={"required": "Say what will be done."},
    )
    responsible = forms.ChoiceField(
        label="Who is responsible",
        error_messages={"required": "Say who will do this."},
    )
    responsible_name = forms.CharField(
        label="Name, if someone else",
        required=False,
        max_length=200,
        help_text=(
            "Someone outside the care team, in words: “Daughter Rosa”, “Dr. Lee (cardiology)”."
        ),
    )
    due_on = forms.DateField(
        label="Due date",
        required=False,
        widget=_date_input(),
        error_messages={"invalid": "Enter the due date as a date, e.g. 2027-03-31."},
    )
    status = forms.ChoiceField(
        label="Status", choices=InterventionStatus.choices, initial=InterventionStatus.PLANNED
    )
    field_order = [
        "version",
        "description",
        "goal",
        "responsible",
        "responsible_name",
        "due_on",
        "status",
    ]

    def __init__(self, *args: Any, staff: Iterable[Membership] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["goal"].label = "Goal it serves"
        self._staff = {f"{STAFF_PREFIX}{m.pk}": m for m in staff}
        responsible = self.fields["responsible"]
        assert isinstance(responsible, forms.ChoiceField)
        staff_choices = [
            (
                key,
                f"{m.user.get_full_name() or m.user.get_username()} — {m.organization.name}"
                f" ({m.get_role_display()})",
            )
            for key, m in self._staff.items()
        ]
        responsible.choices = [
            ("", "Choose…"),
            (RESPONSIBLE_PATIENT, "The patient"),
            ("Care team", staff_choices),
            (RESPONSIBLE_OTHER, "Someone else (name below)"),
        ]

    @staticmethod
    def responsible_initial(intervention: Intervention, staff: Iterable[Membership]) -> str:
        if intervention.responsible_user_id is not None:
            for m in staff:
                if (
                    m.user_id == intervention.responsible_user_id
                    and m.organization_id == intervention.responsible_organization_id
                ):
                    return f"{STAFF_PREFIX}{m.pk}"
            return ""
        if intervention.responsible_name == PATIENT_RESPONSIBLE:
            return RESPONSIBLE_PATIENT
        return RESPONSIBLE_OTHER

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("responsible", "")
        name = (data.get("responsible_name") or "").strip()
        user: User | None = None
        organization: Organization | None = None
        if choice == RESPONSIBLE_PATIENT:
            name = PATIENT_RESPONSIBLE
        elif choice == RESPONSIBLE_OTHER:
            if not name:
                self.add_error(
                    "responsible_name", "Type the person's name, for example “Daughter Rosa”."
                )
        elif choice in self._staff:
            membership = self._staff[choice]
            user, organization, name = membership.user, membership.organization, ""
        data["responsible_user"] = user
        data["responsible_organization"] = organization
        data["responsible_party_name"] = name
        return data


class FollowUpForm(VersionedForm):
    follow_up_plan = forms.CharField(
        label="Follow-up plan",
        required=False,
        widget=_text_area(
            5,
            "For example: call every Tuesday for a month, then monthly; next visit with"
            " Dr. Morales on 11/4.",
        ),
        max_length=4000,
        help_text="When and how the care team checks in with the patient next.",
    )
