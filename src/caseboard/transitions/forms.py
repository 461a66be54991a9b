"""Deciding who a hospital message speaks of."""

from __future__ import annotations

from typing import Any

from django import forms

from caseboard.patients.models import Patient


class ReviewDecisionForm(forms.Form):
    """Which of the shown candidates the message speaks of, or none of them."""

    decision = forms.ChoiceField(
        choices=[("match", "This patient"), ("dismiss", "None of these")],
        error_messages={"required": "Choose a patient, or say it is none of them."},
    )
    patient_id = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, candidates: list[Patient], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {p.pk: p for p in candidates}
        choice = self.fields["patient_id"]
        assert isinstance(choice, forms.TypedChoiceField)
        choice.choices = [(p.pk, str(p)) for p in candidates]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "match":
            if data.get("patient_id") is None:
                self.add_error("patient_id", "Choose which patient this is.")
            else:
                data["patient"] = self.candidates[data["patient_id"]]
        return data
