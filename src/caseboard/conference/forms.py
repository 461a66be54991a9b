from __future__ import annotations

from django import forms

from caseboard.conference.actions import MAX_REMOVAL_REASON, REMOVAL_EXAMPLE
from caseboard.conference.models import MAX_LIST_SIZE


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
