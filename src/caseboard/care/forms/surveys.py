"""Forms of the patient survey and the staff survey (seed 004 evaluation framework 2)."""

from __future__ import annotations

from typing import Any

from django import forms

from caseboard.care.actions.surveys import (
    SELF_RATED_HEALTH,
    STAFF_COMMENTS,
    STAFF_RATINGS,
    asks_would_recommend,
)
from caseboard.care.models import PatientSurvey, WouldRecommend

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PatientSurveyForm(forms.Form):
    ANSWERED = "answered"
    DECLINED = "declined"

    outcome = forms.ChoiceField(
        label="The patient",
        choices=[(ANSWERED, "Answered"), (DECLINED, "Declined to answer")],
        initial=ANSWERED,
        widget=forms.RadioSelect,
    )
    self_rated_health = forms.TypedChoiceField(
        label="For the last 4 weeks, would you say your health has been…",
        choices=[(str(k), f"{k} — {v}") for k, v in SELF_RATED_HEALTH.items()],
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
    )
    would_recommend = forms.ChoiceField(
        label="Would you recommend this program to a member of your family or to a friend?",
        choices=WouldRecommend.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    completed_on = forms.DateField(label="Asked on", widget=DATE_INPUT)

    def __init__(self, data: Any = None, *, survey: PatientSurvey, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.survey = survey
        if not asks_would_recommend(survey):
            del self.fields["would_recommend"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("outcome") != self.ANSWERED:
            return cleaned
        if cleaned.get("self_rated_health") in (None, ""):
            self.add_error("self_rated_health", "Record the patient's answer, 1 to 5.")
        if "would_recommend" in self.fields and not cleaned.get("would_recommend"):
            self.add_error("would_recommend", "Record yes, no or maybe.")
        return cleaned


class StaffSurveyForm(forms.Form):
    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        for question in STAFF_RATINGS:
            self.fields[question.key] = forms.TypedChoiceField(
                label=question.text,
                choices=[
                    (
                        str(n),
                        f"{n} — {question.low}"
                        if n == 1
                        else f"{n} — {question.high}"
                        if n == 5
                        else str(n),
                    )
                    for n in range(1, 6)
                ],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose a number from 1 to 5."},
            )
        for key, text in STAFF_COMMENTS:
            self.fields[key] = forms.CharField(
                label=text,
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def rating_fields(self) -> list[forms.BoundField]:
        return [self[q.key] for q in STAFF_RATINGS]

    def comment_fields(self) -> list[forms.BoundField]:
        return [self[key] for key, _ in STAFF_COMMENTS]

    def ratings(self) -> dict[str, int]:
        return {q.key: self.cleaned_data[q.key] for q in STAFF_RATINGS}

    def comments(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key, _ in STAFF_COMMENTS}
