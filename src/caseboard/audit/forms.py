import datetime

from django import forms

from caseboard.audit.models import AuditAction


class AuditFilterForm(forms.Form):
    username = forms.CharField(required=False, max_length=150, label="User")
    patient_id = forms.IntegerField(required=False, min_value=1, label="Patient ID")
    action = forms.ChoiceField(
        required=False, choices=[("", "Any action"), *AuditAction.choices], label="Action"
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if isinstance(since, datetime.date) and isinstance(until, datetime.date) and since > until:
            self.add_error("until", "must be on or after the 'From' date")
        return cleaned
