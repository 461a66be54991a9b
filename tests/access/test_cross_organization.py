"""Walks every URL route, pages and API alike, as practice A asking for other organizations'
objects, and expects 404 (or 403). A route with an object parameter this test does not know,
or a parameterless route it has not classified, fails the test: new routes must be covered.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from caseboard.conference import actions as conference_actions
from caseboard.conference import calls as conference_calls
from caseboard.conference.models import (
    Conference,
    ConferenceSeries,
    MatchReview,
    TrackingEntry,
    TrackingReport,
)
from caseboard.orgs.models import Partnership
from caseboard.patients.actions import import_roster
from caseboard.patients.models import Patient
from caseboard.transitions.models import InboundMessage, MessageStatus, PatientReview
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for

PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        else:
            yield route.lstrip("^").rstrip("$")


def all_routes() -> list[str]:
    return sorted(set(walk(get_resolver().url_patterns)))


# What each object parameter means, as (someone else's object, one of practice A's own).
ObjectPair = Callable[[World], tuple[object, object]]


def _roster_imports(w: World) -> tuple[object, object]:
    data = b"mrn,first_name,last_name,birth_date\nX1,Ann,Lee,1980-01-02\n"
    other = import_roster(actor_for(w.user_b), "b.csv", data)
    own = import_roster(actor_for(w.user_a), "a.csv", data)
    return other.pk, own.pk


def _enrollments(w: World) -> tuple[object, object]:
    other = f.make_enrollment(w.patient_b, w.practice_b, w.user_b)
    own = f.make_enrollment(w.patient_a, w.practice_a, w.user_a)
    return other.pk, own.pk


def _referrals(w: World) -> tuple[object, object]:
    other = f.make_referral(w.patient_b, f.make_resource(w.plan), w.practice_b, w.user_b)
    own = f.make_referral(w.patient_a, f.make_resource(w.plan), w.practice_a, w.user_a)
    return other.pk, own.pk


def _patient_surveys(w: World) -> tuple[object, object]:
    other = f.make_patient_survey(
        f.make_enrollment(w.patient_b, w.practice_b, w.user_b, program="hhp")
    )
    own = f.make_patient_survey(
        f.make_enrollment(w.patient_a, w.practice_a, w.user_a, program="hhp")
    )
    return other.pk, own.pk


def _high_risk_entries(w: World) -> tuple[object, object]:
    other_list = conference_actions.lists_of(w.partnership_b)[1]
    other = conference_actions.add_to_list(
        actor_for(w.user_b), other_list, w.patient_b, reasons=["frequent ED visits"]
    )
    own_list = conference_actions.lists_of(w.partnership_a)[1]
    own = conference_actions.add_to_list(
        actor_for(w.user_a), own_list, w.patient_a, reasons=["frequent ED visits"]
    )
    return other.pk, own.pk


def _high_risk_uploads(w: World, given_name: str = "Ann") -> tuple[object, object]:
    data = f"first_name,last_name,birth_date\n{given_name},Nobody,1950-01-02\n".encode()
    other = conference_actions.upload_practice_list(
        actor_for(w.user_b), conference_actions.lists_of(w.partnership_b)[1], "b.csv", data
    )
    own = conference_actions.upload_practice_list(
        actor_for(w.user_a), conference_actions.lists_of(w.partnership_a)[1], "a.csv", data
    )
    return other.pk, own.pk


def _match_reviews(w: World) -> tuple[object, object]:
    # A row matching no member waits for the plan's review.
    other, own = _high_risk_uploads(w, given_name="Bea")
    return (
        MatchReview.objects.get(upload_id=other).pk,
        MatchReview.objects.get(upload_id=own).pk,
    )


def _series(w: World, partnership: Partnership) -> ConferenceSeries:
    found = ConferenceSeries.objects.filter(partnership=partnership).first()
    if found is not None:
        return found
    user = w.user_a if partnership == w.partnership_a else w.plan_q_user
    return conference_calls.create_series(
        actor_for(user), partnership, weekday=2, start_time=datetime.time(10)
    )


def _conference(w: World, partnership: Partnership) -> Conference:
    series = _series(w, partnership)
    user = w.user_a if partnership == w.partnership_a else w.plan_q_user
    found = series.conferences.first()
    return found or conference_calls.schedule_conference(actor_for(user), series)


def _conferences(w: World) -> tuple[object, object]:
    return _conference(w, w.partnership_c).pk, _conference(w, w.partnership_a).pk


def _agenda_items(w: World) -> tuple[object, object]:
    # Practice B's patient on a call of its own partnership with the same plan.
    b_series = conference_calls.create_series(
        actor_for(w.user_b), w.partnership_b, weekday=3, start_time=datetime.time(9)
    )
    b_call = conference_calls.schedule_conference(actor_for(w.user_b), b_series)
    other = conference_calls.add_urgent_patient(
        actor_for(w.user_b), b_call, w.patient_b, "admitted last night"
    )
    own = conference_calls.add_urgent_patient(
        actor_for(w.user_a), _conference(w, w.partnership_a), w.patient_a, "admitted last night"
    )
    return other.pk, own.pk


def _tracking_entry(w: World, own: bool) -> TrackingEntry:
    # Practice B's patient tracked in its own partnership with the same plan.
    partnership, patient = (w.partnership_a, w.patient_a) if own else (w.partnership_b, w.patient_b)
    found = TrackingEntry.objects.filter(partnership=partnership, patient=patient).first()
    return found or TrackingEntry.objects.create(
        partnership=partnership,
        patient=patient,
        reason="Declines PCP engagement after the last face-to-face attempt",
        added_by=w.plan_user,
        next_report_on=datetime.date(2027, 5, 1),
    )


def _tracking_reports(w: World) -> tuple[object, object]:
    def report(own: bool) -> TrackingReport:
        return TrackingReport.objects.create(
            entry=_tracking_entry(w, own),
            period_start=datetime.date(2026, 5, 1),
            period_end=datetime.date(2026, 11, 1),
            content={"ed_visits": 1, "inpatient_stays": 0, "stays": []},
        )

    return report(False).pk, report(True).pk


def _adt_message(w: World, patient: Patient | None, control_id: str) -> InboundMessage:
    return InboundMessage.objects.create(
        raw=f"MSH|^~\\&|EPIC|GENHOSP|CASEBOARD|PLANP|20261102||ADT^A01|{control_id}|P|2.5.1",
        sending_facility="GENHOSP",
        control_id=control_id,
        message_type="ADT",
        trigger_event="A01",
        version="2.5.1",
        status=MessageStatus.DEAD_LETTER,
        patient=patient,
    )


def _adt_messages(w: World) -> tuple[object, object]:
    return _adt_message(w, w.patient_b, "B1").pk, _adt_message(w, w.patient_a, "A1").pk


def _patient_reviews(w: World) -> tuple[object, object]:
    # A review is visible to staff who can see one of its candidates.
    pair = []
    for patient, control_id in ((w.patient_b, "RB1"), (w.patient_a, "RA1")):
        message = _adt_message(w, None, control_id)
        review = PatientReview.objects.create(
            message=message,
            matcher_status="ambiguous",
            candidates=[{"patient_id": patient.pk, "score": 0.8, "reasons": []}],
        )
        review.candidate_patients.set([patient])
        pair.append(review.pk)
    return pair[0], pair[1]


def _pair(make: Callable[[World, bool], Model]) -> ObjectPair:
    """(another organization's object, practice A's own), from one builder."""
    return lambda w: (make(w, False).pk, make(w, True).pk)


OBJECT_PARAMETERS: dict[str, ObjectPair] = {
    "patient_id": lambda w: (w.patient_b.pk, w.patient_a.pk),
    "partnership_id": lambda w: (w.partnership_c.pk, w.partnership_a.pk),
    "import_id": _roster_imports,
    "enrollment_id": _enrollments,
    "goal_id": _pair(
        lambda w, own: (
            f.make_goal(w.patient_a, w.user_a, w.practice_a)
            if own
            else f.make_goal(w.patient_b, w.user_b, w.practice_b)
        )
    ),
    "barrier_id": _pair(
        lambda w, own: f.make_barrier(
            w.patient_a if own else w.patient_b, w.user_a if own else w.user_b
        )
    ),
    "intervention_id": _pair(
        lambda w, own: f.make_intervention(
            w.patient_a if own else w.patient_b, w.user_a if own else w.user_b
        )
    ),
    "task_id": _pair(
        lambda w, own: (
            f.make_task(w.practice_a, w.user_a, patient=w.patient_a)
            if own
            else f.make_task(w.practice_b, w.user_b, patient=w.patient_b)
        )
    ),
    "notification_id": _pair(
        lambda w, own: (
            f.make_notification(w.user_a, w.practice_a)
            if own
            else f.make_notification(w.user_b, w.practice_b)
        )
    ),
    "screening_id": _pair(
        lambda w, own: (
            f.make_screening(w.patient_a, w.practice_a, w.user_a)
            if own
            else f.make_screening(w.patient_b, w.practice_b, w.user_b)
        )
    ),
    # Plan P's directory is practice A's too; plan Q's is not.
    "resource_id": _pair(lambda w, own: f.make_resource(w.plan if own else w.plan_q)),
    "referral_id": _referrals,
    "member_id": _pair(
        lambda w, own: (
            f.make_care_team_member(w.patient_a, w.practice_a, w.user_a)
            if own
            else f.make_care_team_member(w.patient_b, w.practice_b, w.user_b)
        )
    ),
    "survey_id": _patient_surveys,
    "entry_id": _high_risk_entries,
    "upload_id": _high_risk_uploads,
    "review_id": _match_reviews,
    "series_id": lambda w: (_series(w, w.partnership_c).pk, _series(w, w.partnership_a).pk),
    "conference_id": _conferences,
    "item_id": _agenda_items,
    "staff_survey_id": _pair(
        lambda w, own: (
            f.make_staff_survey(w.user_a, w.practice_a)
            if own
            else f.make_staff_survey(w.user_b, w.practice_b)
        )
    ),
    "message_id": _adt_messages,
    "patient_review_id": _patient_reviews,
    "tracking_id": lambda w: (_tracking_entry(w, False).pk, _tracking_entry(w, True).pk),
    "report_id": _tracking_reports,
}

# Routes without an object in the URL, and why they cannot reveal another's object. Each is
# still fetched below, searching for other organizations' patients by name.
FOUNDATION_ROUTES = {
    "": "home: counts and partnerships of the active organization",
    "account/login/": "sign-in form",
    "account/logout/": "sign-out",
    "account/verify/": "second-factor form",
    "account/security/": "the user's own second-factor setup",
    "patients/": "search, scoped by the access policy",
    "patients/roster/": "the active organization's own imports",
    "partnerships/": "the active organization's partnerships",
    "partnerships/switch/": "switches only to the user's own memberships",
    "audit/": "the active organization's own users' events",
    "api/": "API root, no data",
    "api/openapi.json": "schema, no data",
    "api/docs": "schema browser, no data",
    "api/me": "the user's own memberships",
    "api/patients": "search, scoped by the access policy",
    "api/partnerships": "the active organization's partnerships",
}

REGISTRY_ROUTES: dict[str, str] = {
    "care/registry/": "enrollments from access.care.visible_enrollments, led by the own org",
    "care/registry.csv": "the same rows as the registry page, as CSV",
    "care/time/": "the active organization's own staff time, on visible patients",
    "care/caseload/": "counts of the active organization's own enrollments per care manager",
    "api/care/registry": "the same rows as the registry page, as JSON",
}
CARE_PLAN_ROUTES: dict[str, str] = {
    "care/wins/": "success stories from access.care.visible_success_stories",
}
TASK_ROUTES: dict[str, str] = {
    "care/tasks/": "tasks from access.care.visible_tasks, of the own org or its own staff",
    "care/tasks/new/": "form; patient and goal in the link go through the access policy",
    "care/notifications/": "the user's own notifications for the active organization",
    "care/surveys/": "surveys from access.care.visible_patient_surveys",
    "care/staff-surveys/": "the user's own staff surveys; results of the own org only",
    "api/tasks": "tasks from access.care.visible_tasks, of the own org or its own staff",
    "api/notifications": "the user's own notifications for the active organization",
}
REFERRAL_ROUTES: dict[str, str] = {
    "care/resources/": "directory from access.care.visible_resources; a patient in the link 404s",
    "care/resources/new/": "form; the listing is kept by the active organization",
    "care/referrals/": "referrals from access.care.visible_referrals, sent or received by own org",
    "api/resources": "directory from access.care.visible_resources",
    "api/referrals": "referrals from access.care.visible_referrals, sent or received by own org",
}
CONFERENCE_ROUTES: dict[str, str] = {}
TRANSITIONS_ROUTES: dict[str, str] = {
    "transitions/": "alerts to the active organization about episodes it may see",
    "transitions/messages/": "messages from access.transitions.visible_messages",
    "transitions/reviews/": "reviews from access.transitions.visible_reviews",
    "api/transitions/messages": "messages from access.transitions.visible_messages",
}

# Actions only the plan's staff take: practice A's own object may answer 403 (its role), never
# 404; another organization's object still answers 404 below.
PLAN_ONLY_ACTIONS = {
    "api/tracking/<tracking_id>/report": "the plan reports claims activity (step 6b-iii)",
}

PARAMETERLESS_ROUTES = {
    **FOUNDATION_ROUTES,
    **REGISTRY_ROUTES,
    **CARE_PLAN_ROUTES,
    **TASK_ROUTES,
    **REFERRAL_ROUTES,
    **CONFERENCE_ROUTES,
    **TRANSITIONS_ROUTES,
}


def fill(route: str, values: dict[str, object]) -> str:
    return "/" + PARAM.sub(lambda m: str(values[m.group("name")]), route)


def test_every_route_is_classified() -> None:
    unknown = []
    for route in all_routes():
        names = [m.group("name") for m in PARAM.finditer(route)]
        if names:
            unknown += [f"{route} ({n})" for n in names if n not in OBJECT_PARAMETERS]
        elif route not in PARAMETERLESS_ROUTES:
            unknown.append(route)
    assert not unknown, f"routes not covered by the cross-organization test: {unknown}"


def test_every_object_route_hides_other_organizations_objects(world: World) -> None:
    client = login(Client(), world.user_a)
    pairs = {name: make(world) for name, make in OBJECT_PARAMETERS.items()}
    others = {name: pair[0] for name, pair in pairs.items()}
    owns = {name: pair[1] for name, pair in pairs.items()}
    checked = 0
    for route in all_routes():
        if not PARAM.search(route):
            continue
        own = client.get(fill(route, owns))
        if own.status_code == 405:
            # An action route (POST only): the object is looked up before the form is read,
            # so an empty post about another's object is refused as unknown, not as invalid.
            own = client.post(fill(route, owns))
            allowed = (200, 302, 400, 403) if route in PLAN_ONLY_ACTIONS else (200, 302, 400)
            assert own.status_code in allowed, f"{route}: own object gave {own.status_code}"
            other = client.post(fill(route, others))
        else:
            # The route works for A's own object, so a 404 below is the policy, not a broken
            # page.
            assert own.status_code == 200, f"{route}: own object gave {own.status_code}"
            other = client.get(fill(route, others))
        assert other.status_code in (403, 404), (
            f"{route}: other org's object gave {other.status_code}"
        )
        assert world.patient_b.given_name.encode() not in other.content
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("route", sorted(PARAMETERLESS_ROUTES))
def test_parameterless_routes_show_no_other_organizations_patients(
    world: World, route: str
) -> None:
    client = login(Client(), world.user_a)
    # Search by family name; a leak would show the given name, which the query does not echo.
    for patient in (world.patient_b, world.patient_c):
        response = client.get(f"/{route}", {"q": patient.family_name})
        assert response.status_code in (200, 302, 404, 405), f"/{route} gave {response.status_code}"
        assert patient.given_name.encode() not in response.content, f"/{route} shows {patient}"


def test_plan_never_sees_another_plans_members_through_any_route(world: World) -> None:
    client = login(Client(), world.plan_user)
    assert client.get(f"/patients/{world.patient_c.pk}/").status_code == 404
    assert client.get(f"/api/patients/{world.patient_c.pk}").status_code == 404
    assert client.get(f"/patients/{world.patient_b.pk}/").status_code == 200
