from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.interactions import log_interaction
from caseboard.care.errors import CareError
from caseboard.care.models import Interaction
from caseboard.care.queries.care_time import CcmStatus, monthly_minutes
from caseboard.orgs.models import Organization, Role
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
OCTOBER = datetime.date(2026, 10, 1)
NOVEMBER = datetime.date(2026, 11, 1)
TODAY = timezone.localdate()


def minutes_of(org: Organization, month: datetime.date, patient_id: int) -> int:
    return monthly_minutes(org, month).for_patient(patient_id)


def test_a_late_call_on_october_31_counts_in_october_in_new_york(world: World) -> None:
    late = datetime.datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK)
    assert late.astimezone(datetime.UTC).date() == datetime.date(2026, 11, 1)
    log_interaction(
        actor_for(world.user_a), world.patient_a, kind="phone", minutes=25, occurred_at=late
    )
    assert minutes_of(world.practice_a, OCTOBER, world.patient_a.pk) == 25
    assert minutes_of(world.practice_a, NOVEMBER, world.patient_a.pk) == 0


def test_an_organization_in_los_angeles_counts_in_its_own_zone(world: World) -> None:
    world.practice_a.time_zone = "America/Los_Angeles"
    world.practice_a.save()
    actor = actor_for(world.user_a)
    # 00:30 on November 1 in New York is still 21:30 on October 31 in Los Angeles.
    instant = datetime.datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
    log_interaction(actor, world.patient_a, kind="phone", minutes=20, occurred_at=instant)
    # A naive time is read on the organization's own clock.
    log_interaction(
        actor,
        world.patient_a,
        kind="video",
        minutes=15,
        occurred_at=datetime.datetime(2026, 10, 31, 23, 50),
    )
    stored = Interaction.objects.get(kind="video").occurred_at
    assert stored == datetime.datetime(2026, 10, 31, 23, 50, tzinfo=LOS_ANGELES)
    assert minutes_of(world.practice_a, OCTOBER, world.patient_a.pk) == 35
    assert minutes_of(world.practice_a, NOVEMBER, world.patient_a.pk) == 0
    # The plan keeps New York's calendar: the same call would be its November.
    log_interaction(
        actor_for(world.plan_user), world.patient_a, kind="phone", minutes=5, occurred_at=instant
    )
    assert minutes_of(world.plan, NOVEMBER, world.patient_a.pk) == 5
    assert minutes_of(world.plan, OCTOBER, world.patient_a.pk) == 0


def test_month_bounds_include_the_first_instant_and_exclude_the_next_month(world: World) -> None:
    actor = actor_for(world.user_a)
    for moment in (
        datetime.datetime(2026, 10, 1, 0, 0, tzinfo=NEW_YORK),
        datetime.datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK),
    ):
        log_interaction(actor, world.patient_a, kind="phone", minutes=7, occurred_at=moment)
    assert minutes_of(world.practice_a, OCTOBER, world.patient_a.pk) == 7
    assert minutes_of(world.practice_a, NOVEMBER, world.patient_a.pk) == 7


@pytest.mark.parametrize(
    ("minutes", "codes", "to_next", "complex_label"),
    [
        (19, [], 1, ""),
        (20, ["99490"], 20, ""),
        (39, ["99490"], 1, ""),
        (40, ["99490", "99439"], 20, ""),
        (59, ["99490", "99439"], 1, ""),
        (60, ["99490", "99439 ×2"], None, "99487"),
        (89, ["99490", "99439 ×2"], None, "99487"),
        (90, ["99490", "99439 ×2"], None, "99487 + 99489"),
        # Medicare pays 99439 at most twice a month, however long the month's work.
        (150, ["99490", "99439 ×2"], None, "99487 + 99489 ×3"),
    ],
)
def test_ccm_thresholds_follow_cms(
    minutes: int, codes: list[str], to_next: int | None, complex_label: str
) -> None:
    status = CcmStatus(minutes)
    assert status.codes == codes
    assert status.minutes_to_next == to_next
    assert status.complex_label == complex_label


def test_minutes_per_staff_member_and_per_patient(world: World) -> None:
    coordinator = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    other = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Other")
    at = datetime.datetime(2026, 10, 12, 10, 0, tzinfo=NEW_YORK)
    rn, cc = actor_for(world.user_a), actor_for(coordinator)
    log_interaction(rn, world.patient_a, kind="phone", minutes=30, occurred_at=at)
    log_interaction(rn, other, kind="phone", minutes=5, occurred_at=at)
    log_interaction(cc, world.patient_a, kind="care_team_meeting", minutes=15, occurred_at=at)
    # A partner's time is the partner's, not practice A's.
    log_interaction(
        actor_for(world.plan_user), world.patient_a, kind="phone", minutes=60, occurred_at=at
    )
    month = monthly_minutes(world.practice_a, OCTOBER)
    assert [(p.patient.family_name, p.minutes, p.ccm.label) for p in month.per_patient] == [
        ("Alvarez", 45, "99490 + 99439"),
        ("Other", 5, ""),
    ]
    staff = {s.user.pk: (s.minutes, s.interactions, s.patients) for s in month.per_staff}
    assert staff == {world.user_a.pk: (35, 2, 2), coordinator.pk: (15, 1, 1)}
    assert month.total == 50 and month.patients_at_ccm == 1


def test_time_page_shows_the_month_the_flags_and_quiet_patients(world: World) -> None:
    quiet = f.make_patient(plan=world.plan, practice=world.practice_a, family_name="Quiet")
    f.make_enrollment(quiet, world.practice_a, world.user_a)
    log_interaction(
        actor_for(world.user_a),
        world.patient_a,
        kind="phone",
        minutes=42,
        occurred_at=datetime.datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK),
    )
    client = login(Client(), world.user_a)
    response = client.get("/care/time/", {"month": "2026-10", "days": "10"})
    assert response.status_code == 200
    assert response.context["month"] == OCTOBER
    [row] = response.context["minutes"].per_patient
    assert (row.patient, row.minutes) == (world.patient_a, 42)
    html = response.content.decode()
    assert "99490 + 99439" in html and "MLN909188" in html
    assert [r.patient for r in response.context["quiet"]] == [quiet]
    assert set(
        AuditEvent.objects.filter(action=AuditAction.VIEW, username="a.rn").values_list(
            "patient_id", flat=True
        )
    ) == {world.patient_a.pk, quiet.pk}
    assert client.get("/care/time/", {"month": "2026-11"}).context["minutes"].total == 0


def test_time_page_explains_a_bad_month(world: World) -> None:
    response = login(Client(), world.user_a).get("/care/time/", {"month": "October"})
    assert response.status_code == 200
    assert "is not a month; use YYYY-MM" in response.content.decode()
    assert response.context["month"] == TODAY.replace(day=1)


# --- Logging ------------------------------------------------------------------------------


def test_interactions_page_logs_in_the_organizations_zone(world: World) -> None:
    world.practice_a.time_zone = "America/Los_Angeles"
    world.practice_a.save()
    day = TODAY - datetime.timedelta(days=1)
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    client = login(Client(), world.user_a)
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/interactions/",
        {
            "kind": "phone",
            "direction": "outbound",
            "reached": "no",
            "occurred_at": f"{day:%Y-%m-%d}T22:30",
            "minutes": "12",
            "note": "Left a message",
            "enrollment": str(enrollment.pk),
        },
    )
    assert response.status_code == 302
    saved = Interaction.objects.get()
    assert saved.occurred_at == datetime.datetime.combine(
        day, datetime.time(22, 30), tzinfo=LOS_ANGELES
    )
    assert (saved.reached, saved.staff, saved.organization) == (
        False,
        world.user_a,
        world.practice_a,
    )
    assert saved.enrollment == enrollment
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_id=str(saved.pk)).exists()
    page = client.get(f"/care/patients/{world.patient_a.pk}/interactions/")
    # Shown on the organization's clock too.
    assert f"{day:%Y-%m-%d} 22:30" in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("minutes", "0", "greater than or equal to 1"),
        ("minutes", "601", "less than or equal to 600"),
        ("occurred_at", "2099-01-01T10:00", "is in the future"),
        ("occurred_at", "yesterday", "Enter a valid date/time"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(
    world: World, field: str, value: str, message: str
) -> None:
    data = {
        "kind": "phone",
        "direction": "outbound",
        "reached": "yes",
        "occurred_at": f"{TODAY - datetime.timedelta(days=1):%Y-%m-%d}T09:00",
        "minutes": "10",
        field: value,
    }
    response = login(Client(), world.user_a).post(
        f"/care/patients/{world.patient_a.pk}/interactions/", data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Interaction.objects.exists()


def test_the_action_refuses_the_future_and_out_of_range_minutes(world: World) -> None:
    actor = actor_for(world.user_a)
    with pytest.raises(CareError, match="in the future"):
        log_interaction(
            actor,
            world.patient_a,
            kind="phone",
            minutes=5,
            occurred_at=timezone.now() + datetime.timedelta(hours=1),
        )
    with pytest.raises(CareError, match="between 1 and 600") as refused:
        log_interaction(
            actor, world.patient_a, kind="phone", minutes=601, occurred_at=timezone.now()
        )
    assert refused.value.field == "minutes"


def test_interactions_list_newest_first_with_month_totals(world: World) -> None:
    actor = actor_for(world.user_a)
    log_interaction(
        actor,
        world.patient_a,
        kind="phone",
        minutes=10,
        occurred_at=datetime.datetime(2026, 9, 3, 9, 0, tzinfo=NEW_YORK),
    )
    log_interaction(
        actor,
        world.patient_a,
        kind="in_person",
        minutes=20,
        occurred_at=datetime.datetime(2026, 10, 3, 9, 0, tzinfo=NEW_YORK),
    )
    log_interaction(
        actor_for(world.plan_user),
        world.patient_a,
        kind="phone",
        minutes=8,
        occurred_at=datetime.datetime(2026, 10, 4, 9, 0, tzinfo=NEW_YORK),
    )
    response = login(Client(), world.user_a).get(
        f"/care/patients/{world.patient_a.pk}/interactions/"
    )
    history = response.context["history"]
    assert [i.minutes for i in history.interactions] == [8, 20, 10]
    assert [(m.month, m.own_minutes, m.partner_minutes) for m in history.months] == [
        (OCTOBER, 20, 8),
        (datetime.date(2026, 9, 1), 10, 0),
    ]
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, patient_id=world.patient_a.pk, username="a.rn"
    ).exists()


def test_a_read_only_role_cannot_log(world: World) -> None:
    facilitator = f.make_user(world.practice_a, Role.PRACTICE_FACILITATOR)
    client = login(Client(), facilitator)
    assert client.get(f"/care/patients/{world.patient_a.pk}/interactions/").status_code == 200
    response = client.post(
        f"/care/patients/{world.patient_a.pk}/interactions/",
        {
            "kind": "phone",
            "direction": "outbound",
            "reached": "yes",
            "occurred_at": f"{TODAY - datetime.timedelta(days=1):%Y-%m-%d}T09:00",
            "minutes": "10",
        },
    )
    assert response.status_code == 403
    assert not Interaction.objects.exists()
