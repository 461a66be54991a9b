"""Pages of tasks and notifications: my tasks, a new task, a task, my notifications."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseboard import access
from caseboard.access import Actor
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.care.actions import notifications as notification_actions
from caseboard.care.actions import tasks as actions
from caseboard.care.errors import CareError
from caseboard.care.forms.tasks import CancelForm, CompleteForm, TaskEditForm, TaskForm
from caseboard.care.models import Task, TaskSource, TaskStatus
from caseboard.care.queries import tasks as queries
from caseboard.web.decorators import with_actor

# CareError fields named after the action's arguments, shown on the form's fields.
FORM_FIELD = {"owner_organization": "owner", "owner_user": "owner", "reason": "reason"}


def _local_path(url: str, request: HttpRequest) -> bool:
    return (
        bool(url)
        and url.startswith("/")
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    )


def _next(request: HttpRequest, fallback: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    return wanted if _local_path(wanted, request) else fallback


def _show_error(form: forms.Form, error: CareError) -> None:
    field = FORM_FIELD.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.message)


def _owner_name(task: Task) -> str:
    if task.owner_user is not None:
        return task.owner_user.get_full_name() or task.owner_user.get_username()
    return str(task.owner_organization)


@with_actor
@require_GET
def my_tasks(request: HttpRequest, actor: Actor) -> HttpResponse:
    board = queries.task_board(
        actor, request.GET.get("scope", queries.Scope.MINE), patient_id=request.GET.get("patient")
    )
    template = "care/tasks/my_tasks.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#board"
    return render(
        request,
        template,
        {"board": board, "today": board.today, "cutoff": board.cutoff},
    )


@with_actor
@require_http_methods(["GET", "POST"])
def task_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    today = queries.organization_today(actor.organization)
    patient = (
        access.get_patient_for_user(actor, request.GET["patient"])
        if request.GET.get("patient")
        else None
    )
    goal = (
        access.care.get_goal_for_user(actor, request.GET["goal"])
        if request.GET.get("goal")
        else None
    )
    if goal is not None:
        if patient is None:
            patient = goal.care_plan.patient
        elif goal.care_plan.patient_id != patient.pk:
            raise Http404("No such goal in this patient's care plan.")
    source = request.GET.get("source", TaskSource.MANUAL)
    initial: dict[str, Any] = {
        "title": request.GET.get("title", "")[:200],
        "source": source if source in TaskSource.values else TaskSource.MANUAL,
        "due_on": queries.due_soon_cutoff(actor.organization, today),
        "owner": f"user:{actor.organization.pk}:{actor.user.pk}",
        "patient": patient.pk if patient else None,
        "goal": goal.pk if goal else None,
    }
    if request.method == "POST":
        # The patient posted wins over the one in the link: the user may have changed it.
        form = TaskForm(request.POST, actor=actor, today=today, initial=initial)
    else:
        form = TaskForm(actor=actor, today=today, patient=patient, initial=initial)
        if request.htmx and request.GET.get("partial") == "goal":  # type: ignore[attr-defined]
            return render(request, "care/tasks/task_form.html#goal_field", {"form": form})
        if patient is not None:
            # The form shows the patient's care-plan goals.
            log.record(actor, AuditAction.VIEW, patient=patient, detail={"page": "new task"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        owner_organization, owner_user = data["owner"]
        try:
            task = actions.create_task(
                actor,
                title=data["title"],
                detail=data["detail"],
                due_on=data["due_on"],
                patient=data["patient"],
                goal=data["goal"],
                owner_organization=owner_organization,
                owner_user=owner_user,
                priority=data["priority"],
                source=data["source"],
            )
        except CareError as e:
            _show_error(form, e)
        else:
            messages.success(
                request,
                f"Task “{task.title}” added for {_owner_name(task)}, due {task.due_on:%b %-d}.",
            )
            return redirect(_next(request, reverse("my_tasks")))
    return render(
        request,
        "care/tasks/task_form.html",
        {"form": form, "patient": form.chosen_patient, "next": _next(request, "")},
    )


def _detail_context(
    actor: Actor, task_id: int, *, edit_form: TaskEditForm | None = None, **extra: Any
) -> dict[str, Any]:
    page = queries.task_page(actor, task_id)
    if edit_form is None and page.can_edit and page.task.is_open:
        edit_form = TaskEditForm.for_task(page.task, actor=actor, today=page.today)
    return {
        "page": page,
        "task": page.task,
        "today": page.today,
        "cutoff": page.cutoff,
        "edit_form": edit_form,
        "cancel_form": extra.pop("cancel_form", CancelForm()),
        "complete_form": CompleteForm(initial={"next": reverse("task_detail", args=[task_id])}),
        **extra,
    }


@with_actor
@require_http_methods(["GET", "POST"])
def task_detail(request: HttpRequest, actor: Actor, task_id: int) -> HttpResponse:
    task = access.care.get_task_for_user(actor, task_id)
    template = "care/tasks/task_detail.html"
    if request.method == "GET":
        return render(request, template, _detail_context(actor, task_id))
    action = request.POST.get("action", "update")
    here = reverse("task_detail", args=[task.pk])
    try:
        if action == "take":
            actions.take_task(actor, task)
            messages.success(request, "The task is yours now.")
            return redirect(here)
        if action == "reopen":
            task = access.care.get_task_for_editor(actor, task_id)
            actions.update_task(
                actor,
                task,
                title=task.title,
                detail=task.detail,
                due_on=task.due_on,
                priority=task.priority,
                status=TaskStatus.OPEN,
                owner_user=task.owner_user,
                owner_organization=task.owner_organization,
            )
            messages.success(request, "The task is open again.")
            return redirect(here)
    except CareError as e:
        messages.error(request, e.message)
        return redirect(here)
    if action == "cancel":
        cancel_form = CancelForm(request.POST)
        if cancel_form.is_valid():
            try:
                actions.cancel_task(actor, task, cancel_form.cleaned_data["reason"])
            except CareError as e:
                _show_error(cancel_form, e)
            else:
                messages.success(request, "The task is cancelled.")
                return redirect(here)
        return render(request, template, _detail_context(actor, task_id, cancel_form=cancel_form))
    task = access.care.get_task_for_editor(actor, task_id)
    today = queries.organization_today(actor.organization)
    form = TaskEditForm(request.POST, actor=actor, today=today, task=task)
    if form.is_valid():
        data = form.cleaned_data
        owner_organization, owner_user = data["owner"]
        try:
            actions.update_task(
                actor,
                task,
                title=data["title"],
                detail=data["detail"],
                due_on=data["due_on"],
                priority=data["priority"],
                status=data["status"],
                owner_user=owner_user,
                owner_organization=owner_organization,
            )
        except CareError as e:
            _show_error(form, e)
        else:
            messages.success(request, "Task saved.")
            return redirect(here)
    return render(request, template, _detail_context(actor, task_id, edit_form=form))


@with_actor
@require_POST
def task_complete(request: HttpRequest, actor: Actor, task_id: int) -> HttpResponse:
    # Looked up before the form is read: another organization's task is unknown, not invalid.
    task = access.care.get_task_for_editor(actor, task_id)
    form = CompleteForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            task = actions.complete_task(actor, task, outcome=form.cleaned_data["outcome"])
        except CareError as e:
            error = e.message
    else:
        error = "The outcome note is too long (4,000 characters at most)."
    if request.htmx:  # type: ignore[attr-defined]
        today = queries.organization_today(actor.organization)
        return render(
            request,
            "care/tasks/my_tasks.html#task_row",
            {
                "task": task,
                "today": today,
                "cutoff": queries.due_soon_cutoff(actor.organization, today),
                "row_error": error,
                "just_completed": not error,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Done: “{task.title}”.")
    return redirect(_next(request, reverse("my_tasks")))


# --- Notifications --------------------------------------------------------------------------


@with_actor
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        count = notification_actions.mark_all_read(actor)
        messages.success(request, f"Marked {count} notification{'s' * (count != 1)} read.")
        return redirect("notification_list")
    page = Paginator(queries.notifications(actor), 50).get_page(request.GET.get("page"))
    queries.record_notification_views(actor, list(page.object_list))
    return render(
        request,
        "care/tasks/notifications.html",
        {"page": page, "unread": queries.unread_notifications(actor).count()},
    )


@with_actor
@require_POST
def notification_read(request: HttpRequest, actor: Actor, notification_id: int) -> HttpResponse:
    notification = access.care.get_notification_for_user(actor, notification_id)
    notification_actions.mark_read(actor, notification)
    if _local_path(notification.url, request):
        return redirect(notification.url)
    return redirect("notification_list")


urlpatterns: list[URLPattern] = [
    path("tasks/", my_tasks, name="my_tasks"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<int:task_id>/", task_detail, name="task_detail"),
    path("tasks/<int:task_id>/complete/", task_complete, name="task_complete"),
    path("notifications/", notification_list, name="notification_list"),
    path(
        "notifications/<int:notification_id>/read/",
        notification_read,
        name="notification_read",
    ),
]
