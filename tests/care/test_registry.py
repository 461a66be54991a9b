from __future__ import annotations

import csv
import datetime
import io

from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from caseboard.audit.models import AuditAction, AuditEvent
from caseboard.care.actions.interactions import log_interaction
from caseboard.care.models import Enrollment, TaskStatus
from caseboard.care.queries.registry import (
    RegistryFilters,
    RegistryRow,
    patient_care_summary,
    registry_rows,
)
from caseboard.orgs.models import Role
from caseboard.patients.models import Patient
from tests import factories as f
from tests.conftest import World, login
from tests.factories import actor_for

NOW = timezone.now()
TODAY = timezone.localdate()


# Organizations keep the default zone, America/New_York, as TIME_ZONE does.
MONTH_START = datetime.datetime.combine(
    TODAY.replace(day=1), datetime.time(), tzinfo=timezone.get_default_timezone()
)


def ago(days: int = 0, hours: int = 0) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days, hours=hours)


def this_month(minute: int) -> datetime.datetime:
    """A moment early in the current month, so that the test counts it whatever today is."""
    return MONTH_START + datetime.timedelta(minutes=minute)


def another_patient(world: World, family_name: str, given_name: str = "Maria") -> Patient:
    return f.make_patient(
        plan=world.plan, practice=world.practice_a, family_name=family_name, given_name=given_name
    )


def names(rows: list[RegistryRow]) -> list[str]:
    return [r.patient.family_name for r in rows]


def test_registry_lists_the_organizations_enrollments_with_their_columns(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    f.make_enrollment(world.patient_b, world.practice_b, world.user_b)
    actor = actor_for(world.user_a)
    log_interaction(actor, world.patient_a, kind="phone", minutes=15, occurred_at=this_month(1))
    log_interaction(actor, world.patient_a, kind="video", minutes=10, occurred_at=this_month(2))
    f.make_task(world.practice_a, world.user_a, patient=world.patient_a, due_on=TODAY)
    f.make_task(
        world.practice_a,
        world.user_a,
        patient=world.patient_a,
        due_on=TODAY - datetime.timedelta(days=3),
    )
    done = f.make_task(
        world.practice_a,
        world.user_a,
        patient=world.patient_a,
        due_on=TODAY - datetime.timedelta(9),
    )
    done.status = TaskStatus.DONE
    done.save()

    response = login(Client(), world.user_a).get("/care/registry/")
    [row] = response.context["rows"]
    assert row.enrollment == enrollment
    assert row.last_contact.kind == "video"
    assert row.next_follow_up == TODAY - datetime.timedelta(days=3) and row.overdue_follow_up
    assert row.open_tasks == 2
    assert row.minutes == 25 and row.ccm.codes == ["99490"]
    html = response.content.decode()
    assert f'href="/patients/{world.patient_a.pk}/"' in html
    assert "Brightwater" not in html
    assert "25 min" in html and "99490" in html


def test_registry_records_a_view_for_each_patient_shown(world: World) -> None:
    second = another_patient(world, "Quinn")
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    f.make_enrollment(second, world.practice_a, world.user_a)
    login(Client(), world.user_a).get("/care/registry/")
    viewed = set(
        AuditEvent.objects.filter(action=AuditAction.VIEW, username="a.rn").values_list(
            "patient_id", flat=True
        )
    )
    assert viewed == {world.patient_a.pk, second.pk}


def test_closed_enrollments_are_hidden_unless_asked_for(world: World) -> None:
    graduated = another_patient(world, "Graduate")
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a, status="outreach")
    f.make_enrollment(graduated, world.practice_a, world.user_a, status="graduated")
    actor = actor_for(world.user_a)
    assert names(registry_rows(actor, RegistryFilters())) == ["Alvarez"]
    assert names(registry_rows(actor, RegistryFilters(status="closed"))) == ["Graduate"]
    assert names(registry_rows(actor, RegistryFilters(status="all"))) == ["Alvarez", "Graduate"]
    assert names(registry_rows(actor, RegistryFilters(status="outreach"))) == ["Alvarez"]


def test_filters_by_program_acuity_and_care_manager(world: World) -> None:
    coordinator = f.make_user(world.practice_a, Role.CARE_COORDINATOR)
    hhp = another_patient(world, "Homer")
    nobody = another_patient(world, "Nobody")
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    e = f.make_enrollment(hhp, world.practice_a, coordinator, program="hhp")
    e.acuity = "high"
    e.save()
    Enrollment.objects.filter(
        pk=f.make_enrollment(nobody, world.practice_a, world.user_a).pk
    ).update(care_manager=None)
    actor = actor_for(world.user_a)
    assert names(registry_rows(actor, RegistryFilters(program="hhp"))) == ["Homer"]
    assert names(registry_rows(actor, RegistryFilters(acuity="high"))) == ["Homer"]
    assert names(registry_rows(actor, RegistryFilters(care_manager="mine"))) == ["Alvarez"]
    assert names(registry_rows(actor, RegistryFilters(care_manager="none"))) == ["Nobody"]
    by_id = RegistryFilters(care_manager=str(coordinator.pk))
    assert names(registry_rows(actor, by_id)) == ["Homer"]


def test_a_plan_sees_partner_led_enrollments_of_its_members_on_request(world: World) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    f.make_enrollment(world.patient_b, world.practice_b, world.user_b)
    f.make_enrollment(world.patient_a, world.plan, world.plan_user, program="plan_complex")
    f.make_enrollment(world.patient_c, world.practice_c, f.make_user(world.practice_c))
    actor = actor_for(world.plan_user)
    own = registry_rows(actor, RegistryFilters())
    assert [(r.patient.family_name, r.enrollment.program) for r in own] == [
        ("Alvarez", "plan_complex")
    ]
    partners = registry_rows(actor, RegistryFilters(lead="partners"))
    assert sorted(r.enrollment.lead_organization.name for r in partners) == [
        "Practice A",
        "Practice B",
    ]
    assert len(registry_rows(actor, RegistryFilters(lead="all"))) == 3
    # A practice never sees the other practice's enrollments, whatever it asks for.
    assert "Brightwater" not in names(
        registry_rows(actor_for(world.user_a), RegistryFilters(lead="all"))
    )


def test_last_contact_includes_partners_but_minutes_are_the_leads(world: World) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    log_interaction(
        actor_for(world.user_a),
        world.patient_a,
        kind="phone",
        minutes=12,
        occurred_at=this_month(1),
    )
    log_interaction(
        actor_for(world.plan_user),
        world.patient_a,
        kind="phone",
        minutes=30,
        occurred_at=this_month(2),
    )
    [row] = registry_rows(actor_for(world.user_a), RegistryFilters())
    assert row.last_contact.organization == world.plan
    assert row.minutes == 12


def test_no_contact_filter_uses_the_chosen_number_of_days(world: World) -> None:
    quiet = another_patient(world, "Quiet")
    never = another_patient(world, "Never")
    for patient in (world.patient_a, quiet, never):
        f.make_enrollment(patient, world.practice_a, world.user_a)
    actor = actor_for(world.user_a)
    log_interaction(actor, world.patient_a, kind="phone", minutes=5, occurred_at=ago(3))
    log_interaction(actor, quiet, kind="phone", minutes=5, occurred_at=ago(45))
    assert names(registry_rows(actor, RegistryFilters(no_contact_days=30))) == ["Never", "Quiet"]
    assert names(registry_rows(actor, RegistryFilters(no_contact_days=2))) == [
        "Alvarez",
        "Never",
        "Quiet",
    ]
    response = login(Client(), world.user_a).get(
        "/care/registry/", {"no_contact": "on", "days": "60"}
    )
    assert names(response.context["rows"]) == ["Never"]


def test_sorting_by_a_column_and_in_reverse(world: World) -> None:
    busy = another_patient(world, "Busy")
    calm = another_patient(world, "Calm")
    for patient in (world.patient_a, busy, calm):
        f.make_enrollment(patient, world.practice_a, world.user_a)
    actor = actor_for(world.user_a)
    log_interaction(actor, busy, kind="phone", minutes=50, occurred_at=this_month(1))
    log_interaction(actor, world.patient_a, kind="phone", minutes=5, occurred_at=this_month(2))
    assert names(registry_rows(actor, RegistryFilters(sort="-minutes"))) == [
        "Busy",
        "Alvarez",
        "Calm",
    ]
    # Never contacted sorts last both ways.
    assert names(registry_rows(actor, RegistryFilters(sort="last_contact"))) == [
        "Busy",
        "Alvarez",
        "Calm",
    ]
    assert names(registry_rows(actor, RegistryFilters(sort="-last_contact"))) == [
        "Alvarez",
        "Busy",
        "Calm",
    ]
    client = login(Client(), world.user_a)
    page = client.get("/care/registry/", {"sort": "-patient"})
    assert names(page.context["rows"]) == ["Calm", "Busy", "Alvarez"]
    # Only whitelisted columns: anything else is the default order, with the reason shown.
    odd = client.get("/care/registry/", {"sort": "patient__birth_date"})
    assert names(odd.context["rows"]) == ["Alvarez", "Busy", "Calm"]
    assert odd.context["form"].errors


def test_htmx_filter_returns_only_the_table(world: World) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    response = login(Client(), world.user_a).get(
        "/care/registry/", {"status": "graduated"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="registry-table">')
    assert "<html" not in html and "No enrollment matches" in html


def test_csv_export_has_the_same_rows_and_is_audited(world: World) -> None:
    odd = another_patient(world, "=HYPERLINK(1)", given_name="Eve")
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    f.make_enrollment(odd, world.practice_a, world.user_a, program="hhp")
    log_interaction(
        actor_for(world.user_a),
        world.patient_a,
        kind="phone",
        minutes=22,
        occurred_at=this_month(1),
    )
    response = login(Client(), world.user_a).get("/care/registry.csv", {"program": "practice_cm"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["family_name"] for r in rows] == ["Alvarez"]
    assert rows[0]["minutes_this_month"] == "22" and rows[0]["ccm_codes"] == "99490"
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT, patient_id=world.patient_a.pk, username="a.rn"
    ).exists()
    everything = login(Client(), world.user_a).get("/care/registry.csv").content.decode()
    # A name a spreadsheet would run as a formula is written as text.
    assert "'=HYPERLINK(1)" in everything


def test_patient_care_summary(world: World) -> None:
    enrollment = f.make_enrollment(world.patient_a, world.practice_a, world.user_a)
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a, program="hhp").delete()
    f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    actor = actor_for(world.user_a)
    log_interaction(actor, world.patient_a, kind="phone", minutes=21, occurred_at=this_month(1))
    summary = patient_care_summary(actor, world.patient_a)
    assert summary.enrollments == [enrollment]
    assert summary.lead is not None and summary.lead.user == world.user_a
    assert summary.last_contact is not None and summary.last_contact.minutes == 21
    assert summary.minutes_this_month == 21 and summary.ccm.reached_99490
    plan_view = patient_care_summary(actor_for(world.plan_user), world.patient_a)
    assert plan_view.enrollments == [enrollment] and plan_view.minutes_this_month == 0


def test_patient_summary_snippet_renders_for_the_profile(world: World) -> None:
    f.make_enrollment(world.patient_a, world.practice_a, world.user_a, program="hhp")
    f.make_care_team_member(world.patient_a, world.practice_a, world.user_a)
    actor = actor_for(world.user_a)
    log_interaction(actor, world.patient_a, kind="phone", minutes=41, occurred_at=this_month(1))
    html = render_to_string(
        "care/registry/patient_summary.html",
        {"summary": patient_care_summary(actor, world.patient_a)},
    )
    assert "Health home (HHP)" in html and "41 min" in html and "99490 + 99439" in html
    assert f"/care/patients/{world.patient_a.pk}/team/" in html
