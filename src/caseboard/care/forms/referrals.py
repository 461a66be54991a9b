"""Forms of the community-resource directory and of referrals."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.db.models import QuerySet

from caseboard.care.actions.referrals import OUTCOMES_FOR, REPORTED_VIA, ResourceFields
from caseboard.care.models import (
    CLOSED_REFERRAL_STATUSES,
    CommunityResource,
    ReferralOutcome,
    ReferralStatus,
    Screening,
    ServiceCategory,
)
from caseboard.care.queries.referrals import ALL, OPEN
from caseboard.orgs.models import Organization, OrganizationKind


class DirectorySearchForm(forms.Form):
    q = forms.CharField(
        label="Search the directory",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "Program, service or words (e.g. pantry, rent, rides)"}
        ),
    )
    category = forms.ChoiceField(
        label="Service",
        required=False,
        choices=[("", "Any service"), *ServiceCategory.choices],
    )
    city = forms.CharField(label="City", required=False, max_length=100)
    language = forms.CharField(label="Language", required=False, max_length=64)


def us_phone(value: str) -> str:
    """A US phone number in national format, or a ValidationError saying why not."""
    value = value.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        raise forms.ValidationError(f"“{value}” is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(f"“{value}” is not a valid US phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


class ResourceForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label="Services",
        choices=ServiceCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one service category."},
    )
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    organization = forms.ModelChoiceField(
        label="Receives referrals in caseboard as",
        queryset=Organization.objects.none(),
        required=False,
        empty_label="Not in caseboard (we record its answers)",
        help_text=(
            "When the organization uses caseboard, its staff accept and close referrals themselves."
        ),
    )

    class Meta:
        model = CommunityResource
        fields = [
            "name",
            "categories",
            "description",
            "eligibility",
            "languages",
            "hours",
            "address",
            "city",
            "postal_code",
            "phone",
            "email",
            "website",
            "organization",
            "is_active",
        ]
        labels = {
            "name": "Program name",
            "description": "Services offered",
            "eligibility": "Who is eligible",
            "languages": "Languages spoken",
            "hours": "Hours",
            "postal_code": "ZIP code",
            "email": "E-mail",
            "is_active": "Taking referrals",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "eligibility": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, receiving_choices: QuerySet[Organization], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = receiving_choices
        if self.instance.pk is None:
            self.fields.pop("is_active")

    def clean_phone(self) -> str:
        return us_phone(self.cleaned_data.get("phone", ""))

    def fields_value(self) -> ResourceFields:
        data = self.cleaned_data
        return ResourceFields(
            name=data["name"],
            categories=list(data["categories"]),
            description=data.get("description", ""),
            eligibility=data.get("eligibility", ""),
            languages=data.get("languages", ""),
            hours=data.get("hours", ""),
            address=data.get("address", ""),
            city=data.get("city", ""),
            postal_code=data.get("postal_code", ""),
            phone=data.get("phone", ""),
            email=data.get("email", ""),
            website=data.get("website", ""),
            organization=data.get("organization"),
            is_active=data.get("is_active", True),
        )


def receiving_organizations(actor_organization: Organization) -> QuerySet[Organization]:
    """Community organizations a listing may send referrals to in caseboard."""
    cbos = Organization.objects.filter(kind=OrganizationKind.CBO)
    if actor_organization.kind == OrganizationKind.CBO:
        return cbos.filter(pk=actor_organization.pk)
    return cbos


class ReferralForm(forms.Form):
    resource = forms.ModelChoiceField(
        label="Program",
        queryset=CommunityResource.objects.none(),
        empty_label="Choose a program from the directory",
        error_messages={"required": "Choose a program from the directory."},
    )
    category = forms.ChoiceField(label="Service needed", choices=ServiceCategory.choices)
    reason = forms.CharField(
        label="Reason for referral",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={
            "required": "Say why you are referring the patient (what they need help with)."
        },
    )
    screening = forms.ModelChoiceField(
        queryset=Screening.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(
        self,
        *args: Any,
        resources: QuerySet[CommunityResource],
        screenings: QuerySet[Screening],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        resource = self.fields["resource"]
        assert isinstance(resource, forms.ModelChoiceField)
        resource.queryset = resources
        screening = self.fields["screening"]
        assert isinstance(screening, forms.ModelChoiceField)
        screening.queryset = screenings


class ReferralUpdateForm(forms.Form):
    status = forms.ChoiceField(label="New status")
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "—"), *ReferralOutcome.choices],
        help_text="Needed to close the referral (completed, declined or cancelled).",
    )
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    reported_via = forms.ChoiceField(
        label="How the organization reported it",
        required=False,
        choices=[(k, v.capitalize()) for k, v in REPORTED_VIA.items()],
        initial="phone",
    )
    expected_status = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, statuses: list[str], on_behalf: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(ReferralStatus.choices)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [(s, labels[s]) for s in statuses]
        if not on_behalf:
            self.fields.pop("reported_via")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        status = data.get("status", "")
        outcome = data.get("outcome", "")
        if status in CLOSED_REFERRAL_STATUSES:
            allowed = OUTCOMES_FOR[status]
            if not outcome:
                self.add_error("outcome", "Choose an outcome to close the referral.")
            elif outcome not in allowed:
                labels = dict(ReferralOutcome.choices)
                self.add_error(
                    "outcome",
                    f"A {ReferralStatus(status).label.lower()} referral's outcome is one of: "
                    + ", ".join(str(labels[o]).lower() for o in allowed)
                    + ".",
                )
        elif status and outcome:
            self.add_error("outcome", "An outcome is recorded when the referral closes.")
        return data


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[(OPEN, "Open"), (ALL, "All"), *ReferralStatus.choices],
    )
