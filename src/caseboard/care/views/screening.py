"""Screening pages: a patient's screening history and instrument forms, and each result with
its interpretation and next steps."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from caseboard import access
from caseboard.access import Actor
from caseboard.care import screening as instruments
from caseboard.care.actions.screening import record_screening, safety_task_for
from caseboard.care.errors import CareError
from caseboard.care.forms.screening import ScreeningForm
from caseboard.care.models import Screening
from caseboard.care.queries import referrals as queries
from caseboard.web.decorators import with_actor

# The task form belongs to the tasks pages; it takes its prefill from the query string.
NEW_TASK_PATH = "/care/tasks/new/"


@dataclass(frozen=True)
class NextStep:
    suggestion: instruments.Suggestion
    task_url: str
    referral_url: str = ""
    directory_url: str = ""
    screen_url: str = ""


def _next_steps(screening: Screening) -> list[NextStep]:
    patient_id = screening.patient_id
    steps = []
    for s in instruments.suggest(
        screening.instrument,
        score=screening.score,
        positive=screening.positive,
        safety_flag=screening.safety_flag,
        positive_domains=screening.positive_domains,
    ):
        task_url = (
            NEW_TASK_PATH
            + "?"
            + urlencode({"patient": patient_id, "source": "screening", "title": s.title})
        )
        referral_url = directory_url = screen_url = ""
        if s.kind == "referral":
            prefill = {"category": s.category, "screening": screening.pk}
            referral_url = (
                reverse("patient_referrals", args=[patient_id]) + "?" + urlencode(prefill)
            )
            directory_url = (
                reverse("resource_directory") + "?" + urlencode({**prefill, "patient": patient_id})
            )
        elif s.kind == "screen":
            screen_url = (
                reverse("patient_screenings", args=[patient_id])
                + "?"
                + urlencode({"instrument": s.instrument})
            )
        steps.append(NextStep(s, task_url, referral_url, directory_url, screen_url))
    return steps


@with_actor
@require_http_methods(["GET", "POST"])
def patient_screenings(request: HttpRequest, actor: Actor, patient_id: int) -> HttpResponse:
    patient = access.get_patient_for_user(actor, patient_id)
    instrument = request.POST.get("instrument") or request.GET.get("instrument", "")
    form: ScreeningForm | None = None
    problem = ""
    if instrument in instruments.DEFINITIONS:
        today = timezone.localdate(timezone=actor.organization.zone)
        form = ScreeningForm(instrument, request.POST or None, initial={"administered_on": today})
    elif instrument:
        problem = f"“{instrument}” is not an instrument caseboard scores."
    status = 200
    if request.method == "POST":
        patient = access.get_patient_for_editor(actor, patient_id)
        if form is None:
            problem = problem or "Choose the instrument to record."
            status = 400
        elif form.is_valid():
            try:
                screening = record_screening(
                    actor,
                    patient,
                    instrument,
                    form.answers(),
                    administered_on=form.cleaned_data.get("administered_on"),
                )
            except CareError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return redirect("screening_detail", screening_id=screening.pk)
    context = {
        "patient": patient,
        "history": queries.patient_screenings(actor, patient),
        "definitions": list(instruments.DEFINITIONS.values()),
        "form": form,
        "problem": problem,
        "can_edit": actor.can_edit_patients,
    }
    return render(request, "care/screening/patient_screenings.html", context, status=status)


@with_actor
@require_GET
def screening_detail(request: HttpRequest, actor: Actor, screening_id: int) -> HttpResponse:
    screening = queries.screening_for_user(actor, screening_id)
    patient = screening.patient
    try:
        rescored = instruments.score(screening.instrument, screening.answers, sex=patient.sex)
        notes, subscores = rescored.notes, rescored.subscores
    except CareError:
        notes, subscores = (), {}
    definition = instruments.definition(screening.instrument)
    answered = instruments.describe_answers(screening.instrument, screening.answers)
    # The answer that raised the flag, quoted in the banner.
    safety_answer = next(
        (", ".join(o.label for o in chosen) for item, chosen in answered if item.key == "q9"),
        "",
    )
    context = {
        "screening": screening,
        "patient": patient,
        "definition": definition,
        "answered": answered,
        "safety_answer": safety_answer,
        "domains": [instruments.SOCIAL_NEED_LABELS[d] for d in screening.positive_domains],
        "safety_sum": subscores.get(instruments.SAFETY),
        "safety_cutoff": instruments.AHC_SAFETY_CUTOFF,
        "notes": notes,
        "steps": _next_steps(screening),
        "safety_task": safety_task_for(actor, screening) if screening.safety_flag else None,
        "can_edit": actor.can_edit_patients,
    }
    return render(request, "care/screening/detail.html", context)


urlpatterns: list[URLPattern] = [
    path(
        "patients/<int:patient_id>/screenings/",
        patient_screenings,
        name="patient_screenings",
    ),
    path("screenings/<int:screening_id>/", screening_detail, name="screening_detail"),
]
