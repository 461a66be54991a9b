from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from caseboard.conference.actions import MAX_REMOVAL_REASON, REMOVAL_EXAMPLE
from caseboard.conference.models import (
    DEFAULT_AGENDA_SIZE,
    DEFAULT_DURATION_MINUTES,
    DEFAULT_PRACTICE_GAP_MONTHS,
    MAX_AGENDA_SIZE,
    MAX_LIST_SIZE,
    MAX_PRACTICE_GAP_MONTHS,
    MIN_PRACTICE_GAP_MONTHS,
    PreworkItem,
    Weekday,
)
from caseboard.orgs.models import Membership, validate_time_zone
from caseboard.patients.models import Provider


class RefreshForm(forms.Form):
    size = forms.IntegerField(
        label="List size",
        min_value=1,
        max_value=MAX_LIST_SIZE,
        required=False,
        help_text="Seed guideline: the top 30; more if time permits.",
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Find a plan member",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "Name, date of birth (YYYY-MM-DD) or member ID / MRN"}
        ),
    )


def split_reasons(text: str) -> list[str]:
    """One reason a line (or separated by ";"), as care managers list them."""
    return [part.strip() for line in text.splitlines() for part in line.split(";") if part.strip()]


class AddForm(forms.Form):
    patient = forms.IntegerField(
        min_value=1,
        error_messages={"required": "Choose the patient from the search results."},
    )
    reasons = forms.CharField(
        label="Why is this patient high risk?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One reason a line, by your organization's own definition of high risk.",
        error_messages={"required": "Say why this patient is high risk."},
    )
    rank = forms.IntegerField(
        label="Rank on the list",
        min_value=1,
        max_value=MAX_LIST_SIZE,
        required=False,
        help_text="Leave empty to add at the end of the list.",
    )

    def clean_reasons(self) -> list[str]:
        reasons = split_reasons(self.cleaned_data["reasons"])
        if not reasons:
            raise forms.ValidationError("Say why this patient is high risk.")
        return reasons


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label="Why does this patient come off the list?",
        max_length=MAX_REMOVAL_REASON,
        widget=forms.TextInput(attrs={"placeholder": f"e.g. {REMOVAL_EXAMPLE}"}),
        error_messages={
            "required": (
                "Say why the patient comes off the list "
                f"(for example “{REMOVAL_EXAMPLE}”); nothing was changed."
            )
        },
    )


class UploadForm(forms.Form):
    file = forms.FileField(label="High-risk list CSV file")
    good_rows_only = forms.BooleanField(
        label="Take the good rows even if some rows are bad (bad rows are listed)",
        required=False,
    )


NO_MATCH = "none"


class ResolveForm(forms.Form):
    patient = forms.CharField(
        error_messages={"required": "Choose a member, or say that none of them is this person."}
    )
    note = forms.CharField(
        label="Note for the practice",
        required=False,
        max_length=MAX_REMOVAL_REASON,
        widget=forms.TextInput(attrs={"placeholder": "e.g. confirmed by phone with the member"}),
    )

    def clean_patient(self) -> int | None:
        value: str = self.cleaned_data["patient"].strip()
        if value == NO_MATCH:
            return None
        if not value.isdigit():
            raise forms.ValidationError("Choose a member from the list or the search.")
        return int(value)


# --- Conference calls ---------------------------------------------------------------------


class ParticipantsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return (
            f"{obj.user.get_full_name() or obj.user.username} — {obj.get_role_display()}, "
            f"{obj.organization.name}"
        )


class SeriesForm(forms.Form):
    """The partnership's regular call (seed 004, Getting ready, step 2)."""

    weekday = forms.TypedChoiceField(label="Day of the week", coerce=int, choices=Weekday.choices)
    start_time = forms.TimeField(
        label="Start time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label="Length (minutes)",
        min_value=5,
        max_value=240,
        initial=DEFAULT_DURATION_MINUTES,
        help_text="Seed guideline: weekly 30-minute calls to begin with.",
    )
    agenda_size = forms.IntegerField(
        label="Patients per call",
        min_value=1,
        max_value=MAX_AGENDA_SIZE,
        initial=DEFAULT_AGENDA_SIZE,
        help_text="The pilot discussed 10 patients in each 30-minute call.",
    )
    time_zone = forms.CharField(label="Time zone", max_length=64)
    practice_gap_months = forms.IntegerField(
        label="Months since the practice last saw a patient before the plan checks for a PCP"
        " change",
        min_value=MIN_PRACTICE_GAP_MONTHS,
        max_value=MAX_PRACTICE_GAP_MONTHS,
        initial=DEFAULT_PRACTICE_GAP_MONTHS,
        required=False,
        help_text="Seed guideline step 6a: a significant gap, e.g. 12 to 18 months.",
    )
    core_participants = ParticipantsField(
        label="Core participants",
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The same core people on every call build trust (Getting ready, step 2).",
    )

    def __init__(self, *args: Any, directory: QuerySet[Membership] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["core_participants"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        if directory is not None:
            field.queryset = directory

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        try:
            validate_time_zone(value)
        except ValidationError:
            raise ValidationError(
                f"{value!r} is not a time zone such as America/New_York."
            ) from None
        return value


class AttendingForm(forms.Form):
    attending_pcps = forms.ModelMultipleChoiceField(
        label="Physicians attending",
        queryset=Provider.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, pcps: QuerySet[Provider] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["attending_pcps"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        if pcps is not None:
            field.queryset = pcps


class UrgentForm(forms.Form):
    patient = forms.IntegerField(
        min_value=1,
        error_messages={"required": "Choose the patient from the search results."},
    )
    note = forms.CharField(
        label="Why this patient cannot wait",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say in a few words why this patient cannot wait."},
    )


class ChecklistForm(forms.Form):
    item = forms.ChoiceField(choices=PreworkItem.choices)
    note = forms.CharField(max_length=500, required=False)
