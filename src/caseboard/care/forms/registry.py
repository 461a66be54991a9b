"""Forms of the registry, enrollment, interaction, care-team pages."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from caseboard.access import Actor
from caseboard.care.actions.enrollment import INITIAL_STATUSES, allowed_next
from caseboard.care.actions.interactions import MAX_MINUTES, MIN_MINUTES
from caseboard.care.models import (
    Acuity,
    Direction,
    Enrollment,
    EnrollmentStatus,
    InteractionKind,
    Program,
)
from caseboard.care.queries.care_time import organization_today
from caseboard.care.queries.registry import (
    DEFAULT_NO_CONTACT_DAYS,
    SORT_KEYS,
    SORT_LABELS,
    CareManagerFilter,
    LeadFilter,
    RegistryFilters,
    StatusFilter,
)
from caseboard.orgs.models import Membership, Organization, Role

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def person_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def staff_of(organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.select_related("user")
        .filter(organization=organization, is_active=True)
        .order_by("user__last_name", "user__first_name", "user__username")
    )


class CareManagerField(forms.ModelChoiceField):
    """A care manager among the active staff of one organization, shown with their role."""

    def __init__(self, organization: Organization, **kwargs: Any) -> None:
        self.roles = {m.user_id: m.get_role_display() for m in staff_of(organization)}
        queryset = User.objects.filter(pk__in=list(self.roles)).order_by(
            "last_name", "first_name", "username"
        )
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", "Unassigned")
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return f"{person_name(obj)} — {self.roles.get(obj.pk, '')}"


# --- Registry filters ---------------------------------------------------------------------


class RegistryFilterForm(forms.Form):
    program = forms.ChoiceField(required=False, choices=[("", "All programs"), *Program.choices])
    status = forms.ChoiceField(
        required=False,
        choices=[
            (StatusFilter.OPEN, "Open (all but graduated and disenrolled)"),
            (StatusFilter.ACTIVE, "Active caseload (outreach, engaged, enrolled)"),
            *EnrollmentStatus.choices,
            (StatusFilter.CLOSED, "Closed (graduated or disenrolled)"),
            (StatusFilter.ALL, "All"),
        ],
    )
    care_manager = forms.ChoiceField(required=False, label="Care manager")
    acuity = forms.ChoiceField(required=False, choices=[("", "Any acuity"), *Acuity.choices])
    lead = forms.ChoiceField(
        required=False,
        label="Led by",
        choices=[
            (LeadFilter.OURS, "My organization"),
            (LeadFilter.PARTNERS, "Partners"),
            (LeadFilter.ALL, "Anyone"),
        ],
    )
    no_contact = forms.BooleanField(required=False, label="Only those with no contact for")
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        label="days",
        widget=forms.NumberInput(attrs={"placeholder": str(DEFAULT_NO_CONTACT_DAYS)}),
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, k) for k in SORT_KEYS] + [(f"-{k}", f"-{k}") for k in SORT_KEYS],
        widget=forms.HiddenInput,
    )

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        managers = [(str(m.user_id), person_name(m.user)) for m in staff_of(actor.organization)]
        self.fields["care_manager"].choices = [  # type: ignore[attr-defined]
            (CareManagerFilter.ANY, "Anyone"),
            (CareManagerFilter.MINE, "Mine"),
            (CareManagerFilter.NONE, "Unassigned"),
            *managers,
        ]

    def filters(self) -> RegistryFilters:
        """The filters asked for; a field with a bad value falls back to its default (and
        the form shows why)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        days = data.get("days") or DEFAULT_NO_CONTACT_DAYS
        return RegistryFilters(
            program=data.get("program") or "",
            status=data.get("status") or StatusFilter.OPEN,
            care_manager=data.get("care_manager") or CareManagerFilter.ANY,
            acuity=data.get("acuity") or "",
            lead=data.get("lead") or LeadFilter.OURS,
            no_contact_days=days if data.get("no_contact") else None,
            sort=data.get("sort") or "patient",
        )


def sort_columns(query: dict[str, str], current: str) -> list[dict[str, Any]]:
    """Column headers: each a link sorting by it, the second click in reverse."""
    columns = []
    for key, label in SORT_LABELS.items():
        active = current.lstrip("-") == key
        descending = current.startswith("-")
        target = f"-{key}" if active and not descending else key
        params = {**query, "sort": target}
        columns.append(
            {
                "key": key,
                "label": label,
                "params": params,
                "active": active,
                "descending": active and descending,
            }
        )
    return columns


# --- Enrollment ---------------------------------------------------------------------------


class EnrollForm(forms.Form):
    program = forms.ChoiceField(choices=Program.choices)
    acuity = forms.ChoiceField(choices=Acuity.choices, initial=Acuity.RISING)
    status = forms.ChoiceField(label="Start as")
    on = forms.DateField(
        required=False,
        label="Effective date",
        help_text="Leave empty for today.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        required=False,
        label="Why now",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="e.g. on the combined high-risk list; referred by the PCP after an ED visit.",
    )

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["care_manager"] = CareManagerField(
            actor.organization, label="Care manager", initial=actor.user.pk
        )
        self.order_fields(["program", "acuity", "care_manager", "status", "on", "reason"])
        statuses = [
            s
            for s in INITIAL_STATUSES
            if s != EnrollmentStatus.MONITOR or actor.organization.is_plan
        ]
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (s, EnrollmentStatus(s).label) for s in statuses
        ]
        self.fields["on"].widget.attrs["max"] = organization_today(actor.organization).isoformat()


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="New status")
    effective_on = forms.DateField(
        required=False,
        label="Effective date",
        help_text="Leave empty for today.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the status changes."},
    )

    def __init__(self, enrollment: Enrollment, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lead = enrollment.lead_organization
        choices = [
            (s, EnrollmentStatus(s).label)
            for s in allowed_next(enrollment.status)
            if s != EnrollmentStatus.MONITOR or lead.is_plan
        ]
        self.fields["to_status"].choices = choices  # type: ignore[attr-defined]
        widget = self.fields["effective_on"].widget
        widget.attrs["min"] = enrollment.status_since.isoformat()
        widget.attrs["max"] = organization_today(lead).isoformat()


class EnrollmentEditForm(forms.Form):
    acuity = forms.ChoiceField(choices=Acuity.choices)

    def __init__(self, enrollment: Enrollment, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"care_manager": enrollment.care_manager_id, "acuity": enrollment.acuity}
        )
        super().__init__(*args, **kwargs)
        self.fields["care_manager"] = CareManagerField(
            enrollment.lead_organization, label="Care manager"
        )
        self.order_fields(["care_manager", "acuity"])


# --- Interactions -------------------------------------------------------------------------


class Reached:
    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = ""

    @staticmethod
    def as_bool(value: str) -> bool | None:
        return {"yes": True, "no": False}.get(value)


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(choices=InteractionKind.choices, initial=InteractionKind.PHONE)
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.OUTBOUND)
    reached = forms.ChoiceField(
        required=False,
        label="Reached the patient",
        choices=[
            (Reached.YES, "Yes"),
            (Reached.NO, "No"),
            (Reached.NOT_APPLICABLE, "Not applicable"),
        ],
        initial=Reached.YES,
    )
    occurred_at = forms.DateTimeField(
        label="When",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    minutes = forms.IntegerField(
        min_value=MIN_MINUTES,
        max_value=MAX_MINUTES,
        widget=forms.NumberInput(attrs={"step": 1}),
        help_text="Time spent, including notes and calls made for the patient.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    enrollment = forms.ChoiceField(required=False, label="For enrollment")

    def __init__(
        self, organization: Organization, enrollments: list[Enrollment], *args: Any, **kwargs: Any
    ) -> None:
        self.organization = organization
        self.enrollments = {str(e.pk): e for e in enrollments}
        now = timezone.localtime(timezone.now(), organization.zone).replace(
            second=0, microsecond=0, tzinfo=None
        )
        kwargs.setdefault("initial", {"occurred_at": now})
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].choices = [  # type: ignore[attr-defined]
            ("", "None in particular"),
            *(
                (key, f"{e.get_program_display()} — {e.lead_organization.name}")
                for key, e in self.enrollments.items()
            ),
        ]
        self.fields["occurred_at"].widget.attrs["max"] = now.strftime(DATETIME_LOCAL)
        self.fields["occurred_at"].help_text = f"Time in {organization.time_zone}."

    def clean_occurred_at(self) -> datetime.datetime:
        value: datetime.datetime = self.cleaned_data["occurred_at"]
        # The field read the wall-clock time in the server's zone; the person typed it in
        # their organization's.
        wall = timezone.make_naive(value) if timezone.is_aware(value) else value
        zone = self.organization.zone
        occurred = timezone.make_aware(wall, zone)
        now = timezone.now()
        if occurred > now + datetime.timedelta(minutes=2):
            raise forms.ValidationError(
                f"{wall:%Y-%m-%d %H:%M} is in the future; log a contact once it has happened."
            )
        if occurred < now - datetime.timedelta(days=366):
            raise forms.ValidationError(f"{wall:%Y-%m-%d} is more than a year ago; check the year.")
        return occurred

    def clean_enrollment(self) -> Enrollment | None:
        key = self.cleaned_data.get("enrollment") or ""
        return self.enrollments.get(key)


# --- Care team ----------------------------------------------------------------------------


class CareTeamForm(forms.Form):
    member = forms.ChoiceField(
        required=False,
        label="Staff member",
        help_text="Staff of your organization or of a partner serving this patient.",
    )
    role = forms.ChoiceField(
        required=False,
        choices=[("", "Their role in their organization"), *Role.choices],
        label="Role on this team",
    )
    name = forms.CharField(
        required=False, max_length=200, label="Or: name of someone outside caseboard"
    )
    role_description = forms.CharField(
        required=False,
        max_length=200,
        label="Who they are",
        help_text="e.g. cardiologist, pharmacist, daughter and caregiver.",
    )
    phone = forms.CharField(required=False, max_length=32)
    is_lead = forms.BooleanField(
        required=False,
        label="Lead for this patient (the person the patient and partners call first)",
    )

    def __init__(self, candidates: list[Membership], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {str(m.pk): m for m in candidates}
        grouped: dict[str, list[tuple[str, str]]] = {}
        for key, m in self.candidates.items():
            grouped.setdefault(m.organization.name, []).append(
                (key, f"{person_name(m.user)} — {m.get_role_display()}")
            )
        self.fields["member"].choices = [  # type: ignore[attr-defined]
            ("", "— someone outside caseboard —"),
            *grouped.items(),
        ]

    def clean_member(self) -> Membership | None:
        return self.candidates.get(self.cleaned_data.get("member") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("member") is None and not (data.get("name") or "").strip():
            self.add_error(
                "member", "Choose a staff member, or give the name of someone outside caseboard."
            )
        return data
