"""Forms of the task pages: new task, edit, complete, cancel."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.http import Http404
from django.urls import reverse

from caseboard import access
from caseboard.access import Actor
from caseboard.access.policy import READ_ONLY_ROLES
from caseboard.care.models import (
    ACTIVE_STATUSES,
    Goal,
    GoalStatus,
    Task,
    TaskPriority,
    TaskSource,
    TaskStatus,
)
from caseboard.orgs.models import Membership, Organization
from caseboard.patients.models import Patient

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
OPEN_GOAL_STATUSES = (GoalStatus.ACTIVE, GoalStatus.ON_HOLD)
CHOICE_LIMIT = 300

OwnerChoices = list[tuple[str, str] | tuple[str, list[tuple[str, str]]]]


def _person(user: User) -> str:
    return user.get_full_name() or user.get_username()


def owner_value(organization_id: int, user_id: int | None) -> str:
    return f"user:{organization_id}:{user_id}" if user_id else f"org:{organization_id}"


def owner_choices(actor: Actor, current: Task | None = None) -> OwnerChoices:
    """Me, my colleagues, my organization as a whole, and each partner organization and its
    people (seed 004 step 7i: a next step's owner may sit on either side)."""
    sharing = access.sharing_organization_ids(actor)
    members = (
        Membership.objects.select_related("user", "organization")
        .filter(organization_id__in=sharing, is_active=True, user__is_active=True)
        .exclude(role__in=READ_ONLY_ROLES)
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    by_org: dict[int, list[Membership]] = {}
    for m in members:
        by_org.setdefault(m.organization_id, []).append(m)
    own = actor.organization
    partners = Organization.objects.filter(pk__in=sharing).exclude(pk=own.pk).order_by("name")
    mine: list[tuple[str, str]] = [
        (owner_value(own.pk, actor.user.pk), f"Me ({_person(actor.user)})"),
        (owner_value(own.pk, None), f"{own} — anyone (not yet taken)"),
    ]
    mine += [
        (owner_value(own.pk, m.user_id), f"{_person(m.user)} — {m.get_role_display()}")
        for m in by_org.get(own.pk, [])
        if m.user_id != actor.user.pk
    ]
    groups: OwnerChoices = [(str(own), mine)]
    for org in partners:
        options = [(owner_value(org.pk, None), f"{org} — anyone (not yet taken)")]
        options += [
            (owner_value(org.pk, m.user_id), f"{_person(m.user)} — {m.get_role_display()}")
            for m in by_org.get(org.pk, [])
        ]
        groups.append((f"{org} (partner)", options))
    if current is not None:
        value = owner_value(current.owner_organization_id, current.owner_user_id)
        known = {v for _, opts in groups if isinstance(opts, list) for v, _ in opts}
        if value not in known:
            who = _person(current.owner_user) if current.owner_user else "anyone"
            groups.append(("Current owner", [(value, f"{current.owner_organization} — {who}")]))
    return groups


def parse_owner(actor: Actor, value: str) -> tuple[Organization, User | None]:
    kind, _, rest = value.partition(":")
    org_id, _, user_id = rest.partition(":")
    try:
        organization = Organization.objects.get(
            pk=int(org_id), pk__in=access.sharing_organization_ids(actor)
        )
        user = User.objects.get(pk=int(user_id)) if kind == "user" else None
    except (ValueError, Organization.DoesNotExist, User.DoesNotExist):
        raise forms.ValidationError("Choose who owns the task from the list.") from None
    return organization, user


class _TaskFields(forms.Form):
    title = forms.CharField(label="What needs doing", max_length=200)
    detail = forms.CharField(
        label="Details", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    due_on = forms.DateField(label="Due", widget=DATE_INPUT)
    priority = forms.ChoiceField(choices=TaskPriority.choices, initial=TaskPriority.NORMAL)
    owner = forms.ChoiceField(label="Owner")

    def __init__(
        self,
        data: Any = None,
        *,
        actor: Actor,
        today: datetime.date,
        task: Task | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.actor = actor
        self.today = today
        self.task = task
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = owner_choices(actor, task)

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Say what needs doing.")
        return title

    def clean_due_on(self) -> datetime.date:
        due_on: datetime.date = self.cleaned_data["due_on"]
        unchanged = self.task is not None and due_on == self.task.due_on
        if due_on < self.today and not unchanged:
            raise forms.ValidationError(
                f"{due_on:%Y-%m-%d} has passed; a task is due today ({self.today:%Y-%m-%d})"
                " or later."
            )
        return due_on

    def clean_owner(self) -> tuple[Organization, User | None]:
        return parse_owner(self.actor, self.cleaned_data["owner"])


class TaskForm(_TaskFields):
    """A new task, perhaps about a patient and one of their care-plan goals."""

    patient = forms.IntegerField(label="Patient", required=False, widget=forms.Select)
    goal = forms.IntegerField(label="Care-plan goal", required=False, widget=forms.Select)
    source = forms.ChoiceField(
        choices=TaskSource.choices, initial=TaskSource.MANUAL, widget=forms.HiddenInput
    )

    def __init__(
        self,
        data: Any = None,
        *,
        actor: Actor,
        today: datetime.date,
        patient: Patient | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, actor=actor, today=today, **kwargs)
        if patient is None and self.is_bound and self.data.get("patient"):
            patient = self._visible_patient(self.data.get("patient"))
        self.chosen_patient = patient
        self.fields["patient"].widget.choices = self._patient_choices(patient)
        # Choosing a patient fetches that patient's goals into the goal list.
        self.fields["patient"].widget.attrs.update(
            {
                "hx-get": reverse("task_new"),
                "hx-trigger": "change",
                "hx-target": "#goal-field",
                "hx-swap": "outerHTML",
                "hx-vals": json.dumps({"partial": "goal"}),
            }
        )
        self.fields["goal"].widget.choices = self._goal_choices(patient)

    @property
    def source_label(self) -> str:
        return str(dict(TaskSource.choices).get(self["source"].value(), ""))

    def _visible_patient(self, patient_id: Any) -> Patient | None:
        try:
            return access.get_patient_for_user(self.actor, patient_id)
        except Http404:
            return None

    def _patient_choices(self, chosen: Patient | None) -> list[tuple[str, str]]:
        # The actor's own caseload; any other patient comes preselected from their record.
        caseload = (
            access.care.visible_enrollments(self.actor)
            .filter(care_manager=self.actor.user, status__in=ACTIVE_STATUSES)
            .values("patient_id")
        )
        patients = list(
            access.visible_patients(self.actor)
            .filter(pk__in=caseload)
            .order_by("family_name", "given_name")[:CHOICE_LIMIT]
        )
        if chosen is not None and chosen not in patients:
            patients.insert(0, chosen)
        return [("", "— no patient —")] + [(str(p.pk), str(p)) for p in patients]

    def _goal_choices(self, patient: Patient | None) -> list[tuple[str, str]]:
        if patient is None:
            return [("", "— choose a patient first —")]
        goals = Goal.objects.filter(
            care_plan__in=access.care.visible_care_plans(self.actor).filter(patient=patient)
        )
        chosen = str(self.initial.get("goal") or (self.data.get("goal") if self.is_bound else ""))
        # A goal already chosen stays listed even if it is no longer open.
        open_goals = goals.filter(status__in=OPEN_GOAL_STATUSES) | goals.filter(
            pk=int(chosen) if chosen.isdigit() else -1
        )
        options = [(str(g.pk), str(g)) for g in open_goals.order_by("target_date", "id")]
        return [("", "— no particular goal —" if options else "— no open goals —"), *options]

    def clean_patient(self) -> Patient | None:
        patient_id = self.cleaned_data.get("patient")
        if patient_id is None:
            return None
        patient = self._visible_patient(patient_id)
        if patient is None:
            raise forms.ValidationError("Choose a patient you care for.")
        return patient

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        goal_id = cleaned.get("goal")
        patient = cleaned.get("patient")
        if goal_id is None:
            return cleaned
        try:
            goal = access.care.get_goal_for_user(self.actor, goal_id)
        except Http404:
            self.add_error("goal", "Choose a goal from the patient's care plan.")
            return cleaned
        if patient is None or goal.care_plan.patient_id != patient.pk:
            self.add_error("goal", "That goal belongs to another patient's care plan.")
        else:
            cleaned["goal"] = goal
        return cleaned


class TaskEditForm(_TaskFields):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)]
    )

    field_order = ["title", "detail", "due_on", "priority", "status", "owner"]

    @classmethod
    def for_task(cls, task: Task, *, actor: Actor, today: datetime.date) -> TaskEditForm:
        return cls(
            actor=actor,
            today=today,
            task=task,
            initial={
                "title": task.title,
                "detail": task.detail,
                "due_on": task.due_on,
                "priority": task.priority,
                "status": task.status if task.is_open else TaskStatus.OPEN,
                "owner": owner_value(task.owner_organization_id, task.owner_user_id),
            },
        )


class CompleteForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome",
        required=False,
        max_length=4000,
        widget=forms.TextInput(attrs={"placeholder": "Outcome (optional)"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it no longer needed?", max_length=4000, widget=forms.TextInput
    )
