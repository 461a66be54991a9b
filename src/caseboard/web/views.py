from __future__ import annotations

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseboard import access
from caseboard.access import Actor
from caseboard.patients.forms import SearchForm
from caseboard.web.decorators import with_actor


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\d{6}$",
        label="6-digit code from your authenticator app",
        error_messages={"invalid": "Enter the 6 digits your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@with_actor
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "web/home.html",
        {
            "search_form": SearchForm(),
            "partnerships": access.visible_partnerships(actor),
            "patient_count": access.visible_patients(actor).count(),
        },
    )


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
def verify_second_factor(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices_for_user(request.user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect(_safe_next(request))
        form.add_error("token", "That code is not right, or has expired. Try the next one.")
    return render(request, "web/verify.html", {"form": form, "next": _safe_next(request)})


def _qr_data_uri(device: TOTPDevice) -> str:
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    """Set up or remove the optional TOTP second factor."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    form = TokenForm(request.POST or None)
    step = request.POST.get("step", "")
    if request.method == "POST" and step == "start" and confirmed is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        pending = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        form = TokenForm()
    elif request.method == "POST" and step == "confirm" and pending is not None:
        if form.is_valid() and pending.verify_token(form.cleaned_data["token"]):
            pending.confirmed = True
            pending.save()
            otp_login(request, pending)
            messages.success(request, "Two-step sign-in is on. You will be asked for a code.")
            return redirect("security")
        form.add_error("token", "That code does not match. Check the app and try again.")
    elif request.method == "POST" and step == "remove" and confirmed is not None:
        if form.is_valid() and confirmed.verify_token(form.cleaned_data["token"]):
            TOTPDevice.objects.filter(user=user).delete()
            messages.success(request, "Two-step sign-in is off.")
            return redirect("security")
        form.add_error("token", "Enter a current code to turn two-step sign-in off.")
    context = {
        "form": form,
        "confirmed": confirmed,
        "pending": pending,
        "qr": _qr_data_uri(pending) if pending is not None and confirmed is None else "",
        "secret": base64.b32encode(pending.bin_key).decode() if pending is not None else "",
    }
    return render(request, "web/security.html", context)
